/* SPDX-License-Identifier: MIT */
/* test-egress-source.c: the host side of secrets (egress/source.h, egress/wire.h): values from
 * the environment, a JSON file's field, a whole file, a command; values that could add a header
 * line refused; expiries (milliseconds, seconds, a JWT's exp); the container's copy of a login
 * file holding placeholders only; the set through a sealed memfd and back. The renewal itself
 * runs against a fake upstream in egress-proxy.t. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/secret.h"
#include "egress/source.h"
#include "egress/wire.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

static char dir[] = "/tmp/coi-t-egress-src-XXXXXX";
static char path[300];

static void write_text(const char *text)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_env(void)
{
	struct egress_secret s = {.name = strdup("k"),
	                          .source.kind = EGRESS_SOURCE_ENV,
	                          .source.env = strdup("COI_T_SECRET")};
	struct coi_error err = {0};

	setenv("COI_T_SECRET", "abc123", 1);
	CHECK(egress_source_load(&s, NULL, &err) == 0);
	CHECK_STREQ(s.value, "abc123");
	setenv("COI_T_SECRET", "abc\r\nX-Evil: 1", 1);
	CHECK(egress_source_load(&s, NULL, &err) == -EINVAL);
	CHECK(strstr(err.msg, "control characters") != NULL);
	CHECK_STREQ(s.value, "abc123"); /* the old value stays */
	unsetenv("COI_T_SECRET");
	CHECK(egress_source_load(&s, NULL, &err) == -ENOENT);
	CHECK(strstr(err.msg, "'COI_T_SECRET' is not set") != NULL);
	egress_secret_release(&s);
}

static void test_file(void)
{
	struct egress_secret s = {.name = strdup("claude"),
	                          .source.kind = EGRESS_SOURCE_FILE,
	                          .source.file = strdup(path),
	                          .source.field = strdup("o.access"),
	                          .refresh.expires_field = strdup("o.expiresAt")};
	struct coi_error err = {0};
	int64_t exp = 0;

	write_text(
	        "{\"o\": {\"access\": \"A1\", \"refresh\": \"R1\", \"expiresAt\": 1700000000123}}");
	CHECK(egress_source_load(&s, &exp, &err) == 0);
	CHECK_STREQ(s.value, "A1");
	CHECK(exp == 1700000000); /* milliseconds read as such */
	write_text("{\"o\": {\"access\": 5}}");
	CHECK(egress_source_load(&s, &exp, &err) == -ENOENT);
	CHECK(strstr(err.msg, "has no string at 'o.access'") != NULL);
	write_text("{not json");
	CHECK(egress_source_load(&s, &exp, &err) < 0);
	free(s.source.field);
	s.source.field = NULL;
	write_text("  tok-whole\n\n");
	CHECK(egress_source_load(&s, &exp, &err) == 0);
	CHECK_STREQ(s.value, "tok-whole");
	egress_secret_release(&s);
}

static void test_command(void)
{
	struct egress_secret s = {.name = strdup("gh"), .source.kind = EGRESS_SOURCE_COMMAND};
	struct coi_error err = {0};

	(void)strv_push(&s.source.command, "printf");
	(void)strv_push(&s.source.command, "gho_tok\\nsecond line\\n");
	CHECK(egress_source_load(&s, NULL, &err) == 0);
	CHECK_STREQ(s.value, "gho_tok");
	strv_free(s.source.command);
	s.source.command = NULL;
	(void)strv_push(&s.source.command, "false");
	CHECK(egress_source_load(&s, NULL, &err) == -EIO);
	CHECK(strstr(err.msg, "'false' failed") != NULL);
	strv_free(s.source.command);
	s.source.command = NULL;
	(void)strv_push(&s.source.command, "/nonexistent/coi-t");
	CHECK(egress_source_load(&s, NULL, &err) < 0);
	egress_secret_release(&s);
}

/* base64url of {"exp":1999999999} */
#define JWT "eyJhbGciOiJub25lIn0.eyJleHAiOjE5OTk5OTk5OTl9.sig"

static void test_expiry(void)
{
	struct egress_secret s = {.refresh.expires_field = (char *)"jwt"};

	CHECK(egress_expiry(&s, "{}", JWT) == 1999999999);
	CHECK(egress_expiry(&s, "{}", "not-a-jwt") == 0);
	s.refresh.expires_field = (char *)"a.b";
	CHECK(egress_expiry(&s, "{\"a\": {\"b\": 1800000000}}", "x") == 1800000000);
	CHECK(egress_expiry(&s, "{\"a\": {\"b\": \"soon\"}}", "x") == 0);
	CHECK(egress_expiry(&s, "{\"a\": {\"b\": -65}}", "x") == 0); /* nonsense: unknown */
	s.refresh.expires_field = NULL;
	CHECK(egress_expiry(&s, "{}", JWT) == 0);
}

/* The agent's copy: placeholders where the tokens were, a far expiry, the rest kept. */
static void test_container_file(void)
{
	struct egress_secret s = {
	        .name = (char *)"claude",
	        .placeholder = (char *)"PH-ACCESS",
	        .source = {.kind = EGRESS_SOURCE_FILE, .file = path, .field = (char *)"o.access"},
	        .refresh = {.token_field = (char *)"o.refresh",
	                    .expires_field = (char *)"o.expiresAt",
	                    .placeholder = (char *)"PH-REFRESH"}};
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	struct coi_error err = {0};
	char want[64];

	write_text(
	        "{\"o\": {\"access\": \"A1\", \"refresh\": \"R1\", \"expiresAt\": 1700000000123, "
	        "\"scopes\": [\"user:inference\"], \"id\": \"" JWT "-signature-part\"}, "
	        "\"last_refresh\": \"2020-01-01T00:00:00Z\"}");
	CHECK(egress_container_file(&s, &out, &err) == 0);
	CHECK(strstr(buf_str(&out), "\"access\": \"PH-ACCESS\"") != NULL);
	CHECK(strstr(buf_str(&out), "\"refresh\": \"PH-REFRESH\"") != NULL);
	CHECK(!strstr(buf_str(&out), "A1") && !strstr(buf_str(&out), "R1"));
	CHECK(strstr(buf_str(&out), "user:inference") != NULL);
	/* an id_token keeps its claims, not its signature */
	CHECK(strstr(buf_str(&out), "eyJleHAiOjE5OTk5OTk5OTl9.coi-unsigned\"") != NULL);
	CHECK(!strstr(buf_str(&out), "signature-part"));
	CHECK(!strstr(buf_str(&out), "2020-01-01"));
	/* a year ahead, still in milliseconds */
	snprintf(want, sizeof(want), "\"expiresAt\": %lld",
	         (long long)(time(NULL) + 365LL * 86400) / 100000);
	CHECK(strstr(buf_str(&out), want) != NULL);
}

static void test_wire(void)
{
	struct egress_set set = {.v = calloc(2, sizeof(struct egress_secret)), .n = 2}, back = {0};
	int64_t exp[2] = {0, 1800000000}, *bexp = NULL;
	struct coi_error err = {0};
	int fd = -1;

	set.v[0] = (struct egress_secret){
	        .name = strdup("a"),
	        .header = strdup("x-api-key"),
	        .placeholder = strdup("sk-coi0123456789012345678901234567890123456789"),
	        .value = strdup("V1"),
	        .source.kind = EGRESS_SOURCE_ENV,
	        .source.env = strdup("A")};
	(void)strv_push(&set.v[0].hosts, "api.test");
	set.v[1] = (struct egress_secret){
	        .name = strdup("b"),
	        .placeholder = strdup("coi0123456789012345678901234567890123456789"),
	        .source.kind = EGRESS_SOURCE_FILE,
	        .source.file = strdup(path),
	        .source.field = strdup("x.y"),
	        .refresh.url = strdup("https://auth.test/t")};
	(void)strv_push(&set.v[1].source.command, "unused");
	CHECK(egress_wire_memfd(&set, exp, &fd, &err) == 0);
	CHECK(fd >= 0 && write(fd, "x", 1) < 0); /* sealed */
	CHECK(egress_wire_read(fd, &back, &bexp, &err) == 0);
	CHECK(back.n == 2);
	if (back.n == 2) {
		CHECK_STREQ(back.v[0].value, "V1");
		CHECK_STREQ(back.v[0].hosts[0], "api.test");
		CHECK(back.v[0].source.kind == EGRESS_SOURCE_ENV);
		CHECK_STREQ(back.v[1].refresh.url, "https://auth.test/t");
		CHECK(back.v[1].value == NULL && back.v[1].hosts == NULL);
		CHECK(bexp[1] == 1800000000);
	}
	close(fd);
	free(bexp);
	egress_set_release(&back);
	egress_set_release(&set);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/creds.json", dir);
	RUN(test_env);
	RUN(test_file);
	RUN(test_command);
	RUN(test_expiry);
	RUN(test_container_file);
	RUN(test_wire);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
