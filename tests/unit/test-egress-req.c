/* SPDX-License-Identifier: MIT */
/* test-egress-req.c: the credential proxy's request side (egress/httpreq.h) and its secret model
 * (egress/secret.h): what is written out for each kind of secret, the refusals (a placeholder for
 * another host in a header, the target or a body split anywhere; fronting through Host or an
 * absolute target; CONNECT; an oversized head; a value that cannot be had), pipelining, chunked
 * bodies fed a byte at a time, and upgrades. No socket here: test-egress-proxy.t runs the proxy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "egress/httpreq.h"
#include "egress/secret.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

/* api.test takes "key" as x-api-key, "tok" as a Bearer token; git.test takes "gh" inside Basic
 * credentials; "raw" (api.test) is replaced where it stands; other.test takes "other". */
#define PH_KEY   "sk-coi0000000000000000000000000000000000000001"
#define PH_TOK   "coi0000000000000000000000000000000000000002"
#define PH_GH    "ghp_coi0000000000000000000000000000000000000003"
#define PH_RAW   "coi0000000000000000000000000000000000000004"
#define PH_OTHER "coi0000000000000000000000000000000000000005"

static struct egress_set set;

static void add(const char *name, const char *host, const char *header, const char *format,
                const char *basic_user, const char *ph, const char *value)
{
	struct egress_secret *s = &set.v[set.n++];

	*s = (struct egress_secret){
	        .name = strdup(name),
	        .header = header ? strdup(header) : NULL,
	        .format = format ? strdup(format) : NULL,
	        .basic_user = basic_user ? strdup(basic_user) : NULL,
	        .placeholder = strdup(ph),
	        .value = strdup(value),
	};
	(void)strv_push(&s->hosts, host);
}

static void setup(void)
{
	set.v = calloc(8, sizeof(*set.v));
	add("key", "api.test", "x-api-key", NULL, NULL, PH_KEY, "REAL-KEY");
	add("tok", "api.test", "Authorization", "Bearer {}", NULL, PH_TOK, "REAL-TOK");
	add("gh", "git.test", "Authorization", "Basic {}", "x-access-token", PH_GH, "REAL-GH");
	add("raw", "api.test", NULL, NULL, NULL, PH_RAW, "R/AW+1");
	add("other", "other.test", "x-api-key", NULL, NULL, PH_OTHER, "REAL-OTHER");
}

static int emit(void *u, const void *d, size_t n)
{
	return buf_append(u, d, n);
}

static const char *value(void *u, size_t i)
{
	(void)u;
	return set.v[i].value;
}

static const char *no_value(void *u, size_t i)
{
	(void)u;
	(void)i;
	return NULL;
}

/* Feeds text (in pieces of step bytes; 0: at once) for host; the result of the last feed. */
static int feed(const char *host, const char *text, size_t step, struct buf *out,
                struct egress_finding *f)
{
	struct egress_req_opts o = {
	        .set = &set, .host = host, .emit = emit, .value = value, .userdata = out};
	struct egress_req *r = NULL;
	size_t n = strlen(text), used = 0;
	int res = 0;

	if (egress_req_new(&o, &r) < 0)
		return -ENOMEM;
	for (size_t at = 0; at < n && res == 0; at += step ? step : n)
		res = egress_req_feed(r, text + at, step && n - at > step ? step : n - at, &used);
	if (f && egress_req_finding(r))
		*f = *egress_req_finding(r);
	egress_req_free(r);
	return res;
}

static void test_pass_through(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);

	CHECK(feed("api.test",
	           "GET /v1/models?x=1 HTTP/1.1\r\nHost: api.test\r\nAccept: */*\r\n\r\n", 0, &out,
	           NULL) == 0);
	CHECK_STREQ(buf_str(&out),
	            "GET /v1/models?x=1 HTTP/1.1\r\nHost: api.test\r\nAccept: */*\r\n\r\n");
}

static void test_header_secret(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);

	CHECK(feed("api.test",
	           "POST /v1/messages HTTP/1.1\r\nHost: API.test:443\r\nx-api-key: " PH_KEY
	           "\r\nContent-Length: 2\r\n\r\n{}",
	           0, &out, NULL) == 0);
	CHECK_STREQ(buf_str(&out), "POST /v1/messages HTTP/1.1\r\nHost: API.test:443\r\n"
	                           "Content-Length: 2\r\nx-api-key: REAL-KEY\r\n\r\n{}");
	CHECK(!strstr(buf_str(&out), PH_KEY));
}

/* The placeholder in another header: that header goes, the secret's own comes, and a second
 * header of the secret's name (which would shadow it) goes too. */
static void test_header_moved(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);

	CHECK(feed("api.test",
	           "GET / HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer " PH_KEY
	           "\r\nX-Api-Key: junk\r\n\r\n",
	           0, &out, NULL) == 0);
	CHECK_STREQ(buf_str(&out),
	            "GET / HTTP/1.1\r\nHost: api.test\r\nx-api-key: REAL-KEY\r\n\r\n");
}

static void test_bearer(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);

	CHECK(feed("api.test",
	           "GET / HTTP/1.1\r\nHost: api.test\r\nauthorization: Bearer " PH_TOK "\r\n\r\n",
	           0, &out, NULL) == 0);
	CHECK_STREQ(buf_str(&out),
	            "GET / HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer REAL-TOK\r\n\r\n");
}

/* git sends Basic base64("x-access-token:" placeholder). */
static void test_basic(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20), in = BUF_INIT(1 << 20),
	                         want = BUF_INIT(4096);
	struct egress_secret plain = {.format = (char *)"Basic {}",
	                              .basic_user = (char *)"x-access-token"};

	(void)buf_puts(&in, "GET /o/r.git/info/refs HTTP/1.1\r\nHost: git.test\r\nAuthorization: ");
	CHECK(egress_secret_render(&plain, PH_GH, &in) == 0);
	(void)buf_puts(&in, "\r\n\r\n");
	CHECK(feed("git.test", buf_str(&in), 0, &out, NULL) == 0);
	(void)buf_puts(&want,
	               "GET /o/r.git/info/refs HTTP/1.1\r\nHost: git.test\r\nAuthorization: ");
	CHECK(egress_secret_render(&plain, "REAL-GH", &want) == 0);
	(void)buf_puts(&want, "\r\n\r\n");
	CHECK_STREQ(buf_str(&out), buf_str(&want));
	CHECK(strstr(buf_str(&want), "Basic eC1hY2Nlc3MtdG9rZW46UkVBTC1HSA==") != NULL);
}

/* A secret without a header is replaced where it stands: in a header (and inside Basic
 * credentials), and in the target, percent-encoded. */
static void test_in_place(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);

	CHECK(feed("api.test",
	           "GET /v1?key=" PH_RAW "&a=" PH_RAW
	           " HTTP/1.1\r\nHost: api.test\r\nX-Custom: t=" PH_RAW ";\r\n\r\n",
	           0, &out, NULL) == 0);
	CHECK_STREQ(buf_str(&out),
	            "GET /v1?key=R%2FAW%2B1&a=R%2FAW%2B1 HTTP/1.1\r\nHost: api.test\r\n"
	            "X-Custom: t=R/AW+1;\r\n\r\n");
}

static void test_wrong_host(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	struct egress_finding f = {0};

	/* "key" is for api.test only */
	CHECK(feed("other.test",
	           "GET / HTTP/1.1\r\nHost: other.test\r\nx-api-key: " PH_KEY "\r\n\r\n", 0, &out,
	           &f) == -EACCES);
	CHECK(out.len == 0);
	CHECK(f.verdict == EGRESS_REFUSE_PLACEHOLDER);
	CHECK_STREQ(f.secret, "key");
	CHECK_STREQ(f.where, "header 'x-api-key'");
	CHECK(egress_verdict_status(f.verdict) == 403);
	/* in the target, and a placeholder of one host's secret among another's */
	CHECK(feed("other.test", "GET /?k=" PH_TOK " HTTP/1.1\r\nHost: other.test\r\n\r\n", 0, &out,
	           &f) == -EACCES);
	CHECK_STREQ(f.where, "request target");
	CHECK_STREQ(f.secret, "tok");
	CHECK(feed("api.test",
	           "GET / HTTP/1.1\r\nHost: api.test\r\nx-api-key: " PH_KEY "\r\nX-Other: " PH_OTHER
	           "\r\n\r\n",
	           0, &out, &f) == -EACCES);
	CHECK_STREQ(f.secret, "other");
	CHECK(out.len == 0);
}

/* A placeholder for another host in a body is found wherever the body is split. */
static void test_wrong_host_body(void)
{
	const char *req =
	        "POST /up HTTP/1.1\r\nHost: other.test\r\nTransfer-Encoding: chunked\r\n\r\n"
	        "36\r\n{\"k\":\"" PH_KEY "\"}\r\n0\r\n\r\n";
	size_t bad = 0;

	for (size_t step = 1; step < 80; step++) {
		_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
		struct egress_finding f = {0};

		if (feed("other.test", req, step, &out, &f) != -EACCES ||
		    f.verdict != EGRESS_REFUSE_PLACEHOLDER || strcmp(f.where, "body") != 0 ||
		    strstr(buf_str(&out), PH_KEY))
			bad++;
	}
	CHECK(bad == 0);
}

static void test_chunked_bytewise(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	const char *req =
	        "POST /s HTTP/1.1\r\nHost: api.test\r\nx-api-key: " PH_KEY
	        "\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
	        "X-Trailer: t\r\n\r\n";

	CHECK(feed("api.test", req, 1, &out, NULL) == 0);
	/* bodies are re-framed as they were parsed: the chunks carry the same bytes */
	CHECK(strstr(buf_str(&out), "x-api-key: REAL-KEY\r\n\r\n") != NULL);
	{
		const char *body = strstr(buf_str(&out), "\r\n\r\n") + 4;
		const char *p = body;
		_cleanup_buf_ struct buf joined = BUF_INIT(4096);

		/* decode the chunks written out */
		while (p && *p) {
			size_t n = strtoul(p, NULL, 16);

			p = strstr(p, "\r\n") + 2;
			if (n == 0)
				break;
			(void)buf_append(&joined, p, n);
			p += n + 2;
		}
		CHECK_STREQ(buf_str(&joined), "hello world");
		CHECK(strcmp(buf_str(&out) + out.len - 5, "0\r\n\r\n") == 0);
	}
}

static void test_pipelined(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);

	CHECK(feed("api.test",
	           "POST /a HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\n\r\nabc"
	           "GET /b HTTP/1.1\r\nHost: api.test\r\nx-api-key: " PH_KEY "\r\n\r\n",
	           0, &out, NULL) == 0);
	CHECK_STREQ(buf_str(&out),
	            "POST /a HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\n\r\nabc"
	            "GET /b HTTP/1.1\r\nHost: api.test\r\nx-api-key: REAL-KEY\r\n\r\n");
}

static void test_fronting(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	struct egress_finding f = {0};

	CHECK(feed("api.test", "GET / HTTP/1.1\r\nHost: evil.test\r\nx-api-key: " PH_KEY "\r\n\r\n",
	           0, &out, &f) == -EACCES);
	CHECK(f.verdict == EGRESS_REFUSE_MISDIRECTED);
	CHECK(feed("api.test", "GET http://evil.test/ HTTP/1.1\r\nHost: api.test\r\n\r\n", 0, &out,
	           &f) == -EACCES);
	CHECK(f.verdict == EGRESS_REFUSE_MISDIRECTED);
	CHECK(feed("api.test", "GET / HTTP/1.1\r\nHost: api.test\r\nHost: evil.test\r\n\r\n", 0,
	           &out, &f) == -EACCES);
	CHECK(f.verdict == EGRESS_REFUSE_BAD);
	CHECK(feed("api.test", "CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n", 0,
	           &out, &f) == -EACCES);
	CHECK(f.verdict == EGRESS_REFUSE_METHOD);
	CHECK(feed("api.test", "GET https://api.test/v1 HTTP/1.1\r\nHost: api.test\r\n\r\n", 0,
	           &out, &f) == 0);
	CHECK(out.len == 0 || strstr(buf_str(&out), "GET https://api.test/v1 HTTP/1.1\r\n"));
}

static void test_malformed(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20), big = BUF_INIT(1 << 20);
	struct egress_finding f = {0};

	CHECK(feed("api.test", "GET / HTTP/1.1\r\nHost api.test\r\n\r\n", 0, &out, &f) == -EACCES);
	CHECK(f.verdict == EGRESS_REFUSE_BAD);
	CHECK(feed("api.test",
	           "POST / HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\nTransfer-Encoding: "
	           "chunked\r\n\r\n",
	           0, &out, &f) == -EACCES);
	(void)buf_puts(&big, "GET / HTTP/1.1\r\nHost: api.test\r\n");
	for (int i = 0; i < 2000; i++)
		(void)buf_printf(&big, "X-Fill-%d: %064d\r\n", i, i);
	(void)buf_puts(&big, "\r\n");
	CHECK(feed("api.test", buf_str(&big), 4096, &out, &f) == -EACCES);
	CHECK(f.verdict == EGRESS_REFUSE_TOO_LARGE || f.verdict == EGRESS_REFUSE_BAD);
}

static void test_no_value(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	struct egress_req_opts o = {
	        .set = &set, .host = "api.test", .emit = emit, .value = no_value, .userdata = &out};
	struct egress_req *r = NULL;
	const char *req = "GET / HTTP/1.1\r\nHost: api.test\r\nx-api-key: " PH_KEY "\r\n\r\n";

	CHECK(egress_req_new(&o, &r) == 0);
	CHECK(egress_req_feed(r, req, strlen(req), NULL) == -EACCES);
	CHECK(egress_req_finding(r)->verdict == EGRESS_REFUSE_NO_VALUE);
	CHECK(egress_verdict_status(EGRESS_REFUSE_NO_VALUE) == 502);
	CHECK(out.len == 0);
	egress_req_free(r);
}

static void test_upgrade(void)
{
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	struct egress_req_opts o = {
	        .set = &set, .host = "api.test", .emit = emit, .value = value, .userdata = &out};
	struct egress_req *r = NULL;
	const char *req = "GET /ws HTTP/1.1\r\nHost: api.test\r\nUpgrade: websocket\r\nConnection: "
	                  "Upgrade\r\n\r\n\x81\x02hi";
	size_t used = 0;

	CHECK(egress_req_new(&o, &r) == 0);
	CHECK(egress_req_feed(r, req, strlen(req), &used) == 1);
	CHECK(strcmp(req + used, "\x81\x02hi") == 0);
	CHECK(egress_req_passed(r) == 1 && egress_req_injected(r) == 0);
	egress_req_free(r);
}

static void test_secret_model(void)
{
	struct coi_error err = {0};
	_cleanup_free_ char *ph = NULL;
	struct egress_secret s = {0};

	CHECK(egress_placeholder_new("sk-ant-", &ph, NULL) == 0);
	CHECK(strncmp(ph, "sk-ant-coi", 10) == 0 && strlen(ph) == 10 + EGRESS_PLACEHOLDER_HEX);
	CHECK(egress_placeholder_new("a b", &ph, NULL) == -EINVAL);
	CHECK(egress_value_valid("abc") && !egress_value_valid("a b") &&
	      !egress_value_valid("a\r\nX: y") && !egress_value_valid(""));
	CHECK(egress_header_name_valid("x-api-key") && !egress_header_name_valid("x api") &&
	      !egress_header_name_valid("a:b"));
	CHECK(egress_format_valid("Bearer {}") && !egress_format_valid("Bearer") &&
	      !egress_format_valid("{} {}") && !egress_format_valid("a\n{}"));
	CHECK(egress_set_has_host(&set, "git.test") && !egress_set_has_host(&set, "evil.test"));
	{
		_cleanup_strv_free_ char **hosts = egress_set_hosts(&set);

		CHECK(strv_length(hosts) == 3);
	}
	s.name = (char *)"x";
	s.placeholder = ph;
	CHECK(egress_secret_check(&s, &err) == 0);
	s.header = (char *)"bad header";
	CHECK(egress_secret_check(&s, &err) == -EINVAL && strstr(err.msg, "header"));
	s.header = NULL;
	(void)strv_push(&s.hosts, "API.test");
	CHECK(egress_secret_check(&s, &err) == -EINVAL && strstr(err.msg, "lower case"));
	strv_free(s.hosts);
}

int main(void)
{
	setup();
	RUN(test_pass_through);
	RUN(test_header_secret);
	RUN(test_header_moved);
	RUN(test_bearer);
	RUN(test_basic);
	RUN(test_in_place);
	RUN(test_wrong_host);
	RUN(test_wrong_host_body);
	RUN(test_chunked_bytewise);
	RUN(test_pipelined);
	RUN(test_fronting);
	RUN(test_malformed);
	RUN(test_no_value);
	RUN(test_upgrade);
	RUN(test_secret_model);
	egress_set_release(&set);
	return tap_done();
}
