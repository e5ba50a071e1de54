/* SPDX-License-Identifier: MIT */
/* http.c: raw HTTP over libcurl for the client (client.c): one request, its body capped, its
 * headers, progress and interruption, and what a transport failure means. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/log.h"

#define HEADERS_MAX (64u << 10)

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

	return incus_interrupted() && !t->req->no_interrupt ? 1 : 0;
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
