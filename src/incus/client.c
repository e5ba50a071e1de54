/* SPDX-License-Identifier: MIT */
/* client.c: the transport (libcurl over the unix socket or HTTPS with a pinned server key), the
 * response envelope, error mapping and the wait for async operations. Every other file of
 * src/incus/ goes through incus_call()/incus_http(); nothing here knows about instances. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

#define HEADERS_MAX (64u << 10)

static volatile sig_atomic_t interrupted;

void incus_interrupt(void)
{
	interrupted = 1;
}

void incus_interrupt_reset(void)
{
	interrupted = 0;
}

bool incus_interrupted(void)
{
	return interrupted != 0;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

void incus_interrupt_on_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

char *incus_default_socket(void)
{
	const char *s = secure_getenv("INCUS_SOCKET");
	char *p = NULL;

	if (s && *s)
		return strdup(s);
	s = secure_getenv("INCUS_DIR");
	if (s && *s)
		return asprintf(&p, "%s/unix.socket", s) < 0 ? NULL : p;
	return strdup("/var/lib/incus/unix.socket");
}

static const char *env_or_null(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

static void override(const char **opt, const char *var)
{
	const char *v = env_or_null(var);

	if (v)
		*opt = v;
}

void incus_client_opts_apply_env(struct incus_client_opts *o)
{
	/* the transport goes whole: a remote, or a local socket (NULL: incus_default_socket()) */
	if (env_or_null("COI_INCUS_REMOTE")) {
		o->remote_url = env_or_null("COI_INCUS_REMOTE");
	} else if (env_or_null("INCUS_SOCKET") || env_or_null("INCUS_DIR")) {
		o->remote_url = NULL;
		o->socket_path = NULL;
	}
	override(&o->client_cert, "COI_INCUS_CLIENT_CERT");
	override(&o->client_key, "COI_INCUS_CLIENT_KEY");
	override(&o->server_cert, "COI_INCUS_SERVER_CERT");
	override(&o->project, "COI_INCUS_PROJECT");
}

void incus_client_opts_from_env(struct incus_client_opts *o)
{
	*o = (struct incus_client_opts){0};
	incus_client_opts_apply_env(o);
}

/* "sha256//BASE64" of the certificate's SubjectPublicKeyInfo, for CURLOPT_PINNEDPUBLICKEY. */
static int pin_from_cert(const char *path, char **ret, struct coi_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned char *der = NULL, md[32], b64[64];
	X509 *x;
	int n, r = 0;

	if (!f)
		return coi_error_errno(err, errno, "cannot open server certificate '%s'", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	if (!x)
		return coi_error_set(err, -EINVAL, "'%s' is not a PEM certificate", path);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (n <= 0 || !EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL))
		r = coi_error_set(err, -EINVAL, "cannot read the public key of '%s'", path);
	else if (EVP_EncodeBlock(b64, md, sizeof(md)) <= 0 ||
	         asprintf(ret, "sha256//%s", (const char *)b64) < 0)
		r = coi_error_oom(err);
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

static int client_init_remote(struct incus_client *c, const struct incus_client_opts *o,
                              struct coi_error *err)
{
	size_t len = strlen(o->remote_url);

	if (strncmp(o->remote_url, "https://", 8) != 0)
		return coi_error_set(err, -EINVAL, "remote url '%s' must start with https://",
		                     o->remote_url);
	if (!o->client_cert || !o->client_key || !o->server_cert)
		return coi_error_set(
		        err, -EINVAL,
		        "remote '%s' needs a client certificate, key and server certificate",
		        o->remote_url);
	while (len > 8 && o->remote_url[len - 1] == '/')
		len--;
	c->base_url = strndup(o->remote_url, len);
	c->client_cert = strdup(o->client_cert);
	c->client_key = strdup(o->client_key);
	if (!c->base_url || !c->client_cert || !c->client_key)
		return coi_error_oom(err);
	return pin_from_cert(o->server_cert, &c->pinned_key, err);
}

/* An empty client with its curl handle. */
static int client_alloc(struct incus_client **ret, struct coi_error *err)
{
	struct incus_client *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return coi_error_set(err, -EIO, "cannot initialise libcurl");
	c = calloc(1, sizeof(*c));
	if (!c)
		return coi_error_oom(err);
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return coi_error_oom(err);
	}
	*ret = c;
	return 0;
}

int incus_client_new(const struct incus_client_opts *o, struct incus_client **ret,
                     struct coi_error *err)
{
	static const struct incus_client_opts none = {0};
	struct incus_client *c;
	int r;

	if (!o)
		o = &none;
	r = client_alloc(&c, err);
	if (r < 0)
		return r;
	c->project = strdup(o->project && *o->project ? o->project : "default");
	c->response_max = o->response_max ? o->response_max : INCUS_RESPONSE_MAX_DEFAULT;
	c->op_timeout = o->op_timeout ? o->op_timeout : INCUS_OP_TIMEOUT_DEFAULT;
	if (!c->project) {
		incus_client_free(c);
		return coi_error_oom(err);
	}
	if (o->remote_url && *o->remote_url) {
		r = client_init_remote(c, o, err);
	} else {
		c->socket_path = o->socket_path ? strdup(o->socket_path) : incus_default_socket();
		c->base_url = strdup("http://incus");
		r = c->socket_path && c->base_url ? 0 : coi_error_oom(err);
	}
	if (r < 0) {
		incus_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

int incus_client_new_like(const struct incus_client *like, struct incus_client **ret,
                          struct coi_error *err)
{
	struct incus_client *c;
	int r = client_alloc(&c, err);

	if (r < 0)
		return r;
	c->response_max = like->response_max;
	c->op_timeout = like->op_timeout;
	if (dup_or_null(&c->socket_path, like->socket_path) < 0 ||
	    dup_or_null(&c->base_url, like->base_url) < 0 ||
	    dup_or_null(&c->project, like->project) < 0 ||
	    dup_or_null(&c->client_cert, like->client_cert) < 0 ||
	    dup_or_null(&c->client_key, like->client_key) < 0 ||
	    dup_or_null(&c->pinned_key, like->pinned_key) < 0) {
		incus_client_free(c);
		return coi_error_oom(err);
	}
	*ret = c;
	return 0;
}

int incus_client_new_from_env(struct incus_client **ret, struct coi_error *err)
{
	struct incus_client_opts o;

	incus_client_opts_from_env(&o);
	return incus_client_new(&o, ret, err);
}

struct incus_client *incus_client_free(struct incus_client *c)
{
	if (!c)
		return NULL;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->socket_path);
	free(c->base_url);
	free(c->project);
	free(c->client_cert);
	free(c->client_key);
	free(c->pinned_key);
	free(c);
	return NULL;
}

int incus_client_export_env(const struct incus_client *c)
{
	if (setenv("COI_INCUS_PROJECT", c->project, 1) < 0)
		return -errno;
	if (!c->socket_path)
		return 0; /* a remote: its settings are the config's or already in the environment
		           */
	if (setenv("INCUS_SOCKET", c->socket_path, 1) < 0)
		return -errno;
	(void)unsetenv("COI_INCUS_REMOTE");
	return 0;
}

bool incus_client_is_remote(const struct incus_client *c)
{
	return !c->socket_path;
}

const char *incus_client_project(const struct incus_client *c)
{
	return c->project;
}

char *incus_escape(struct incus_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *dup;

	if (!e)
		return NULL;
	dup = strdup(e);
	curl_free(e);
	return dup;
}

char *incus_pathf(struct incus_client *c, const char *fmt, ...)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 16);
	va_list ap;
	int r = 0;

	va_start(ap, fmt);
	for (const char *p = fmt; *p && r >= 0; p++) {
		if (p[0] == '%' && p[1] == 's') {
			_cleanup_free_ char *e = incus_escape(c, va_arg(ap, const char *));

			r = e ? buf_puts(&b, e) : -ENOMEM;
			p++;
		} else {
			r = buf_putc(&b, *p);
		}
	}
	va_end(ap);
	return r < 0 ? NULL : buf_steal(&b);
}

/* ---- raw HTTP ---- */

struct transfer {
	struct incus_client *c;
	const struct incus_http *req;
	struct incus_http_resp *resp;
	uint64_t out_written;
	bool to_fd;      /* the body goes to req->out_fd */
	int write_error; /* negative errno from the sinks */
};

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * n;
	int r;

	if (t->req->out_fd >= 0 && t->resp->status == 0) {
		char v[64];

		curl_easy_getinfo(t->c->curl, CURLINFO_RESPONSE_CODE, &t->resp->status);
		t->to_fd = t->resp->status / 100 == 2;
		if (t->to_fd && t->req->out_header)
			t->to_fd =
			        incus_http_header(t->resp, t->req->out_header, v, sizeof(v)) == 0 &&
			        strcmp(v, t->req->out_value) == 0;
	}
	if (t->to_fd) {
		if (t->out_written + len > t->req->out_max) {
			t->write_error = -E2BIG;
			return 0;
		}
		for (size_t off = 0; off < len;) {
			ssize_t w = write(t->req->out_fd, p + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				t->write_error = -errno;
				return 0;
			}
			off += (size_t)w;
		}
		t->out_written += len;
		return len;
	}
	r = buf_append(&t->resp->body, p, len);
	if (r < 0) {
		t->write_error = r;
		return 0;
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
	struct transfer *t = userdata;
	size_t len = size * n;

	/* a new status line (after a redirect or 100 Continue) starts a new header block */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(&t->resp->headers);
	if (buf_append(&t->resp->headers, p, len) < 0) {
		t->write_error = -E2BIG;
		return 0;
	}
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *userdata)
{
	struct transfer *t = userdata;
	ssize_t r;

	do
		r = read(t->req->body_fd, p, size * n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		t->write_error = -errno;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)r;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	const struct transfer *t = userdata;

	return interrupted && !t->req->no_interrupt ? 1 : 0;
}

void incus_http_init(struct incus_http *req, const char *method, const char *path)
{
	*req = (struct incus_http){.method = method, .path = path, .body_fd = -1, .out_fd = -1};
}

void incus_http_resp_release(struct incus_http_resp *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

char *incus_request_url(struct incus_client *c, const char *path)
{
	_cleanup_free_ char *proj = incus_escape(c, c->project);
	char *url = NULL;

	if (!proj)
		return NULL;
	if (asprintf(&url, "%s%s%cproject=%s", c->base_url, path, strchr(path, '?') ? '&' : '?',
	             proj) < 0)
		return NULL;
	return url;
}

int incus_set_transport(struct incus_client *c, CURL *h)
{
	if (c->socket_path)
		return curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	/* HTTP/1.1 only: a websocket (CONNECT_ONLY) must not negotiate h2 through ALPN */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* the server's certificate is self-signed: trust exactly its public key instead of a CA */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pinned_key);
	curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
	return curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
}

static void set_body(CURL *h, const struct incus_http *req, struct transfer *t)
{
	if (req->body_fd >= 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, t);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
	} else if (req->mime) {
		curl_easy_setopt(h, CURLOPT_MIMEPOST, req->mime);
	} else if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
}

static int build_headers(const struct incus_http *req, struct curl_slist **ret)
{
	struct curl_slist *l = NULL, *n;
	char ct[256];

	/* no "Expect: 100-continue" round trip before large bodies */
	l = curl_slist_append(l, "Expect:");
	if (l && req->content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
		n = curl_slist_append(l, ct);
		if (!n)
			goto oom;
		l = n;
	}
	for (char *const *h = req->headers; l && h && *h; h++) {
		n = curl_slist_append(l, *h);
		if (!n)
			goto oom;
		l = n;
	}
	if (!l)
		return -ENOMEM;
	*ret = l;
	return 0;
oom:
	curl_slist_free_all(l);
	return -ENOMEM;
}

static int transfer_error(struct incus_client *c, CURLcode cc, const struct transfer *t,
                          struct coi_error *err)
{
	const char *where = c->socket_path ? c->socket_path : c->base_url;

	if (t->write_error == -E2BIG)
		return coi_error_set(err, -E2BIG, "response from incus for '%s' is too large",
		                     t->req->path);
	if (t->write_error < 0)
		return coi_error_errno(err, t->write_error, "transfer of '%s' failed",
		                       t->req->path);
	switch (cc) {
	case CURLE_ABORTED_BY_CALLBACK:
		return coi_error_set(err, -ECANCELED, "interrupted");
	case CURLE_OPERATION_TIMEDOUT:
		return coi_error_set(err, -ETIMEDOUT, "incus did not answer %s %s in time",
		                     t->req->method, t->req->path);
	case CURLE_COULDNT_CONNECT:
		/* never -ENOENT: that is the daemon's 404, "no such thing" */
		if (c->socket_path && access(c->socket_path, F_OK) < 0)
			return coi_error_set(err, -EHOSTDOWN,
			                     "cannot reach incus: socket '%s' does not exist",
			                     where);
		return coi_error_set(err, -ECONNREFUSED, "cannot reach incus at '%s': %s", where,
		                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return coi_error_set(err, -EACCES,
		                     "the server at '%s' does not present the pinned certificate",
		                     where);
	default:
		return coi_error_set(err, -EIO, "request %s %s to incus failed: %s", t->req->method,
		                     t->req->path,
		                     c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
	}
}

int incus_http(struct incus_client *c, const struct incus_http *req, struct incus_http_resp *resp,
               struct coi_error *err)
{
	struct transfer t = {.c = c, .req = req, .resp = resp};
	struct curl_slist *hdrs = NULL;
	_cleanup_free_ char *url = incus_request_url(c, req->path);
	CURL *h = c->curl;
	CURLcode cc;

	*resp = (struct incus_http_resp){
	        .body = BUF_INIT(req->body_max ? req->body_max : c->response_max),
	        .headers = BUF_INIT(HEADERS_MAX)};
	if (!url || build_headers(req, &hdrs) < 0)
		return coi_error_oom(err);
	curl_easy_reset(h);
	c->errbuf[0] = '\0';
	incus_set_transport(c, h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "coi");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	if (req->stall_timeout > 0) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->stall_timeout);
	}
	set_body(h, req, &t);
	log_debug("incus: %s %s", req->method, url);
	cc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK || t.write_error < 0) {
		incus_http_resp_release(resp);
		return transfer_error(c, cc, &t, err);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	return 0;
}

int incus_http_header(const struct incus_http_resp *r, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *p = buf_str(&r->headers); *p;) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			const char *end = p + llen;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' '))
				end--;
			if ((size_t)(end - v) >= size)
				return -E2BIG;
			memcpy(out, v, (size_t)(end - v));
			out[end - v] = '\0';
			return 0;
		}
		p += llen + (eol ? 1 : 0);
	}
	return -ENOENT;
}

/* ---- envelope ---- */

int incus_error_to_errno(long code)
{
	switch (code) {
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 403:
		return -EACCES;
	default:
		return -EPROTO;
	}
}

void incus_envelope_release(struct incus_envelope *e)
{
	free(e->error);
	free(e->operation);
	json_decref(e->metadata);
	*e = (struct incus_envelope){0};
}

static int envelope_type(const char *type, long http_status, enum incus_resp_type *ret)
{
	if (type && strcmp(type, "sync") == 0)
		*ret = INCUS_RESP_SYNC;
	else if (type && strcmp(type, "async") == 0)
		*ret = INCUS_RESP_ASYNC;
	else if (type && strcmp(type, "error") == 0)
		*ret = INCUS_RESP_ERROR;
	else
		return -EBADMSG;
	return 0;
}

int incus_envelope_parse(long http_status, const char *body, size_t len, struct incus_envelope *ret,
                         struct coi_error *err)
{
	_cleanup_json_ json_t *j = NULL;
	struct incus_envelope e = {.http_status = http_status};
	bool ok = true;
	int r;

	r = json_parse(body, len, &j, NULL);
	if (r < 0 || !json_is_object(j) ||
	    envelope_type(json_get_str(j, "type"), http_status, &e.type) < 0) {
		if (http_status >= 400)
			return coi_error_set(err, incus_error_to_errno(http_status),
			                     "incus answered HTTP %ld", http_status);
		return coi_error_set(err, -EBADMSG,
		                     "incus sent a response that is not an envelope");
	}
	if (e.type == INCUS_RESP_ERROR) {
		e.status_code = (int)json_get_int(j, "error_code", http_status);
		e.error = incus_json_strdup(j, "error", &ok);
	} else {
		e.status_code = (int)json_get_int(j, "status_code", 0);
		e.operation = incus_json_strdup(j, "operation", &ok);
	}
	e.metadata = json_incref(json_object_get(j, "metadata"));
	if (!ok) {
		incus_envelope_release(&e);
		return coi_error_oom(err);
	}
	if (e.type == INCUS_RESP_ASYNC && (!e.operation || !*e.operation)) {
		incus_envelope_release(&e);
		return coi_error_set(err, -EBADMSG,
		                     "incus sent an async response without operation");
	}
	*ret = e;
	if (e.type == INCUS_RESP_ERROR || http_status >= 400) {
		long code = e.type == INCUS_RESP_ERROR ? e.status_code : http_status;

		return coi_error_set(err, incus_error_to_errno(code), "%s",
		                     e.error && *e.error ? e.error : "incus reported an error");
	}
	return 0;
}

/* ---- calls and operations ---- */

int incus_call_nowait(struct incus_client *c, const char *method, const char *path,
                      const json_t *body, struct incus_envelope *ret, struct coi_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct incus_http req;
	struct incus_http_resp resp;
	struct incus_envelope e;
	int r;

	incus_http_init(&req, method, path);
	if (body) {
		text = json_encode(body);
		if (!text)
			return coi_error_oom(err);
		req.body = text;
		req.body_len = strlen(text);
		req.content_type = "application/json";
	}
	r = incus_http(c, &req, &resp, err);
	if (r < 0)
		return r;
	r = incus_envelope_parse(resp.status, resp.body.data, resp.body.len, &e, err);
	incus_http_resp_release(&resp);
	if (r < 0) {
		if (e.type == INCUS_RESP_ERROR)
			incus_envelope_release(&e);
		return r;
	}
	*ret = e;
	return 0;
}

/* Progress text from an operation's metadata: a "*_progress" string ("Unpack: 45%"), or the newer
 * {"progress": {"stage", "percent"}} object. */
static void report_progress(const json_t *op, const struct incus_wait *w)
{
	const json_t *md = json_get_obj(op, "metadata");
	const char *key;
	json_t *v;
	char text[256];

	if (!w || !w->progress || !md)
		return;
	json_object_foreach((json_t *)md, key, v) {
		struct incus_progress p = {.text = json_string_value(v), .percent = -1};
		const char *pct;
		size_t klen = strlen(key);

		if (json_is_object(v) && strcmp(key, "progress") == 0) {
			snprintf(text, sizeof(text), "%s: %s%%",
			         json_get_str(v, "stage") ? json_get_str(v, "stage") : "progress",
			         json_get_str(v, "percent") ? json_get_str(v, "percent") : "?");
			p.text = text;
			p.percent = atoi(json_get_str(v, "percent") ? json_get_str(v, "percent")
			                                            : "-1");
		} else if (!p.text || klen < 9 || strcmp(key + klen - 9, "_progress") != 0) {
			continue;
		} else if ((pct = strrchr(p.text, '%')) != NULL) {
			while (pct > p.text && pct[-1] >= '0' && pct[-1] <= '9')
				pct--;
			p.percent = atoi(pct);
		}
		w->progress(&p, w->userdata);
		return;
	}
}

/* 0 for success, 1 while running, a negative errno for failure or cancellation. */
static int operation_result(const json_t *op, struct coi_error *err)
{
	long code = (long)json_get_int(op, "status_code", 0);
	const char *msg = json_get_str(op, "err");

	if (code == 200)
		return 0;
	if (code == 401)
		return coi_error_set(err, -ECANCELED, "operation was cancelled");
	if (code >= 400)
		return coi_error_set(err, -EPROTO, "%s", msg && *msg ? msg : "operation failed");
	return 1; /* still running */
}

static void operation_cancel(struct incus_client *c, const char *op_path)
{
	struct incus_http req;
	struct incus_http_resp resp;

	incus_http_init(&req, "DELETE", op_path);
	req.no_interrupt = true;
	if (incus_http(c, &req, &resp, NULL) == 0)
		incus_http_resp_release(&resp);
}

int incus_operation_poll(struct incus_client *c, const char *op_path, const struct incus_wait *w,
                         json_t **ret_op, struct coi_error *err)
{
	int timeout = w && w->timeout ? w->timeout : c->op_timeout;
	time_t deadline = timeout > 0 ? time(NULL) + timeout : 0;

	for (;;) {
		_cleanup_free_ char *path = NULL;
		struct incus_envelope e;
		long step = -1;
		int r;

		if (deadline) {
			step = (long)(deadline - time(NULL));
			if (step <= 0)
				return coi_error_set(err, -ETIMEDOUT,
				                     "operation did not finish within %d s",
				                     timeout);
		}
		if (w && w->progress && (step < 0 || step > 1))
			step = 1;
		if (asprintf(&path, "%s/wait?timeout=%ld", op_path, step) < 0)
			return coi_error_oom(err);
		r = incus_call_nowait(c, "GET", path, NULL, &e, err);
		if (r == -ECANCELED)
			operation_cancel(c, op_path);
		/* Incus 6.0 answers /wait on a failed operation with an error envelope; the
		 * operation itself (with its metadata, e.g. exec's "return") is still there */
		if (r == -EPROTO && incus_call_nowait(c, "GET", op_path, NULL, &e, NULL) == 0)
			r = 0;
		if (r < 0)
			return r;
		if (operation_result(e.metadata, NULL) <= 0) {
			*ret_op = TAKE_PTR(e.metadata);
			incus_envelope_release(&e);
			return 0;
		}
		report_progress(e.metadata, w);
		incus_envelope_release(&e);
		if (interrupted) {
			operation_cancel(c, op_path);
			return coi_error_set(err, -ECANCELED, "interrupted");
		}
	}
}

int incus_operation_wait(struct incus_client *c, const char *op_path, const struct incus_wait *w,
                         json_t **ret_op, struct coi_error *err)
{
	json_t *op = NULL;
	int r;

	r = incus_operation_poll(c, op_path, w, &op, err);
	if (r < 0)
		return r;
	r = operation_result(op, err);
	if (r == 0 && ret_op)
		*ret_op = TAKE_PTR(op);
	json_decref(op);
	return r;
}

int incus_call(struct incus_client *c, const char *method, const char *path, const json_t *body,
               const struct incus_wait *wait, struct incus_envelope *ret, struct coi_error *err)
{
	struct incus_envelope e;
	json_t *op = NULL;
	int r;

	r = incus_call_nowait(c, method, path, body, &e, err);
	if (r < 0)
		return r;
	if (e.type == INCUS_RESP_ASYNC) {
		r = incus_operation_wait(c, e.operation, wait, &op, err);
		if (r < 0) {
			incus_envelope_release(&e);
			return r;
		}
		json_decref(e.metadata);
		e.metadata = json_incref(json_object_get(op, "metadata"));
		json_decref(op);
	}
	*ret = e;
	return 0;
}

int incus_request(struct incus_client *c, const char *method, const char *path, const json_t *body,
                  const struct incus_wait *wait, json_t **ret_metadata, struct coi_error *err)
{
	struct incus_envelope e;
	int r;

	r = incus_call(c, method, path, body, wait, &e, err);
	if (r < 0)
		return r;
	r = (int)e.http_status;
	if (ret_metadata)
		*ret_metadata = TAKE_PTR(e.metadata);
	incus_envelope_release(&e);
	return r;
}

int incus_simple(struct incus_client *c, const char *method, const char *path, const json_t *body,
                 const struct incus_wait *wait, json_t **ret_metadata, struct coi_error *err)
{
	int r;

	if (!path)
		return coi_error_oom(err);
	r = incus_request(c, method, path, body, wait, ret_metadata, err);
	return r < 0 ? r : 0;
}

/* ---- decoding helpers ---- */

char *incus_json_strdup(const json_t *obj, const char *key, bool *ok)
{
	const char *s = json_get_str(obj, key);
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

int incus_strv_from_json(const json_t *arr, char ***ret)
{
	char **l = calloc(1, sizeof(char *));
	size_t i;
	json_t *v;

	if (!l)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strv_push(&l, json_string_value(v)) < 0) {
			strv_free(l);
			return -ENOMEM;
		}
	}
	*ret = l;
	return 0;
}

json_t *incus_strv_to_json(char *const *l)
{
	json_t *a = json_array();

	for (char *const *s = l; a && s && *s; s++)
		if (json_array_append_new(a, json_string(*s)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---- server ---- */

struct incus_server *incus_server_free(struct incus_server *s)
{
	if (!s)
		return NULL;
	free(s->server_version);
	free(s->api_version);
	free(s->server_name);
	free(s->driver_version);
	free(s);
	return NULL;
}

int incus_server_get(struct incus_client *c, struct incus_server **ret, struct coi_error *err)
{
	_cleanup_(incus_server_freep) struct incus_server *s = NULL;
	_cleanup_json_ json_t *md = NULL;
	const json_t *env;
	bool ok = true;
	int r;

	r = incus_request(c, "GET", "/1.0", NULL, NULL, &md, err);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return coi_error_oom(err);
	env = json_get_obj(md, "environment");
	s->api_version = incus_json_strdup(md, "api_version", &ok);
	s->server_version = incus_json_strdup(env, "server_version", &ok);
	s->server_name = incus_json_strdup(env, "server_name", &ok);
	s->driver_version = incus_json_strdup(env, "driver_version", &ok);
	s->trusted = json_get_str(md, "auth") && strcmp(json_get_str(md, "auth"), "trusted") == 0;
	if (!ok)
		return coi_error_oom(err);
	*ret = TAKE_PTR(s);
	return 0;
}
