/* SPDX-License-Identifier: MIT */
/* fake-upstream: an HTTPS server that stands in for an agent's API in tests and benchmarks. It
 * runs on this machine only (loopback or a test network namespace), with a certificate from a
 * test CA the test makes, and records the head of every request it receives, so a test can see
 * exactly which credential arrived.
 *
 *   fake-upstream --cert C --key K [--listen ADDR:PORT] [--log FILE] [--lifetime SECS]
 *
 * Prints "port N" on stdout once listening. One process per connection (keep-alive served),
 * at most 256 at once; it exits after --lifetime seconds (default 300) whatever happens.
 *
 *   GET  /stream?n=N&gap=MS   server-sent events: N events of "data: <i>", each in its own
 *                             chunk, MS milliseconds apart (defaults 5 and 200)
 *   GET  .../info/refs        without Authorization: 401 asking for Basic (git then sends its
 *                             credentials)
 *   POST /oauth/token         a refresh: the body's refresh_token R (form or JSON) gives
 *                             {"access_token":"access-from-R","refresh_token":"R-next",
 *                             "expires_in":3600}
 *   anything else             200 "ok" */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress/proxy.h"
#include "util/error.h"

#define HEAD_MAX  (64 << 10)
#define BODY_MAX  (1 << 20)
#define CHILD_MAX 256

struct req {
	char head[HEAD_MAX];
	size_t head_len;
	char url[4096];
	size_t url_len;
	char *body;
	size_t body_len;
	bool done, head_done;
	int last; /* 1 field, 2 value */
};

static const char *log_path;

static int on_begin(http_parser *p)
{
	struct req *r = p->data;

	r->head_len = r->url_len = r->body_len = 0;
	r->done = r->head_done = false;
	r->last = 0;
	return 0;
}

static void head_add(struct req *r, const char *s, size_t n)
{
	if (r->head_len + n < HEAD_MAX) {
		memcpy(r->head + r->head_len, s, n);
		r->head_len += n;
	}
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct req *r = p->data;

	if (r->url_len + n < sizeof(r->url)) {
		memcpy(r->url + r->url_len, at, n);
		r->url_len += n;
	}
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
	struct req *r = p->data;

	if (r->last != 1 && !r->head_done)
		head_add(r, r->last ? "\n" : "", r->last ? 1 : 0);
	r->last = 1;
	if (!r->head_done)
		head_add(r, at, n);
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct req *r = p->data;

	if (r->last != 2 && !r->head_done)
		head_add(r, ": ", 2);
	r->last = 2;
	if (!r->head_done)
		head_add(r, at, n);
	return 0;
}

static int on_headers(http_parser *p)
{
	struct req *r = p->data;

	r->head_done = true;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct req *r = p->data;

	if (r->body_len + n < BODY_MAX) {
		memcpy(r->body + r->body_len, at, n);
		r->body_len += n;
	}
	return 0;
}

static int on_complete(http_parser *p)
{
	struct req *r = p->data;

	r->done = true;
	http_parser_pause(p, 1); /* one request at a time */
	return 0;
}

static const http_parser_settings settings = {
        .on_message_begin = on_begin,
        .on_url = on_url,
        .on_header_field = on_field,
        .on_header_value = on_value,
        .on_headers_complete = on_headers,
        .on_body = on_body,
        .on_message_complete = on_complete,
};

/* One line group per request: the request line, the headers, the body's first bytes. */
static void record(const http_parser *p, const struct req *r)
{
	FILE *f = log_path ? fopen(log_path, "ae") : NULL;

	if (!f)
		return;
	fprintf(f, "%s %.*s HTTP/%u.%u\n%.*s\nbody: %.*s\n----\n",
	        http_method_str((enum http_method)p->method), (int)r->url_len, r->url,
	        p->http_major, p->http_minor, (int)r->head_len, r->head,
	        (int)(r->body_len > 512 ? 512 : r->body_len), r->body);
	fclose(f);
}

static int ssl_send(SSL *ssl, const char *s, size_t n)
{
	return SSL_write(ssl, s, (int)n) == (int)n ? 0 : -1;
}

static long query_num(const char *url, const char *key, long def)
{
	char pat[32];
	const char *q = strchr(url, '?');

	snprintf(pat, sizeof(pat), "%s=", key);
	for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, pat, strlen(pat)) == 0)
			return strtol(p + 1 + strlen(pat), NULL, 10);
	}
	return def;
}

static int serve_stream(SSL *ssl, const char *url)
{
	long n = query_num(url, "n", 5), gap = query_num(url, "gap", 200);
	char chunk[128], ev[64];
	const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	                   "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";

	if (ssl_send(ssl, head, strlen(head)) < 0)
		return -1;
	for (long i = 0; i < n && i < 100000; i++) {
		int el = snprintf(ev, sizeof(ev), "data: %ld\n\n", i);
		int cl = snprintf(chunk, sizeof(chunk), "%x\r\n%s\r\n", el, ev);

		if (i > 0 && gap > 0)
			nanosleep(&(struct timespec){gap / 1000, (gap % 1000) * 1000000}, NULL);
		if (ssl_send(ssl, chunk, (size_t)cl) < 0)
			return -1;
	}
	return ssl_send(ssl, "0\r\n\r\n", 5);
}

/* The value of refresh_token in a form or JSON body. */
static void refresh_token(const struct req *r, char *out, size_t size)
{
	char body[4096];
	size_t n = r->body_len < sizeof(body) - 1 ? r->body_len : sizeof(body) - 1;
	char *p;
	size_t k = 0;

	memcpy(body, r->body, n);
	body[n] = '\0';
	out[0] = '\0';
	/* the key, not grant_type's value "refresh_token" */
	if ((p = strstr(body, "\"refresh_token\":")))
		p += strlen("\"refresh_token\":");
	else if ((p = strstr(body, "refresh_token=")))
		p += strlen("refresh_token=");
	else
		return;
	while (*p == '"' || *p == ' ')
		p++;
	while (*p && *p != '"' && *p != '&' && *p != ',' && k + 1 < size)
		out[k++] = *p++;
	out[k] = '\0';
}

static int serve(SSL *ssl, const http_parser *p, const struct req *r)
{
	char resp[8192], rt[1024];
	int n;

	record(p, r);
	/* git over HTTPS sends its credentials only when asked */
	if (memmem(r->url, r->url_len, "/info/refs", 10) &&
	    !memmem(r->head, r->head_len, "Authorization:", 14)) {
		n = snprintf(
		        resp, sizeof(resp),
		        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n"
		        "Content-Length: 0\r\n\r\n");
		return ssl_send(ssl, resp, (size_t)n);
	}
	if (r->url_len >= 7 && strncmp(r->url, "/stream", 7) == 0) {
		char url[4096];

		memcpy(url, r->url, r->url_len);
		url[r->url_len] = '\0';
		return serve_stream(ssl, url);
	}
	if (r->url_len == 12 && strncmp(r->url, "/oauth/token", 12) == 0) {
		char json[2500];
		int jn;

		refresh_token(r, rt, sizeof(rt));
		jn = snprintf(json, sizeof(json),
		              "{\"access_token\":\"access-from-%s\",\"refresh_token\":\"%s-next\","
		              "\"expires_in\":3600}",
		              rt, rt);
		n = snprintf(resp, sizeof(resp),
		             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		             "Content-Length: %d\r\n\r\n%s",
		             jn, json);
		return ssl_send(ssl, resp, (size_t)n);
	}
	n = snprintf(
	        resp, sizeof(resp),
	        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
	return ssl_send(ssl, resp, (size_t)n);
}

static void connection(SSL_CTX *ctx, int fd)
{
	static struct req r;
	http_parser p;
	char in[16384];
	SSL *ssl = SSL_new(ctx);
	int n;

	r.body = malloc(BODY_MAX);
	if (!ssl || !r.body || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		return;
	http_parser_init(&p, HTTP_REQUEST);
	p.data = &r;
	while ((n = SSL_read(ssl, in, sizeof(in))) > 0) {
		size_t off = 0;

		while (off < (size_t)n) {
			off += http_parser_execute(&p, &settings, in + off, (size_t)n - off);
			if (HTTP_PARSER_ERRNO(&p) == HPE_PAUSED) {
				if (r.done && serve(ssl, &p, &r) < 0)
					return;
				http_parser_pause(&p, 0);
				continue;
			}
			if (HTTP_PARSER_ERRNO(&p) != HPE_OK)
				return;
		}
		if (r.done && !http_should_keep_alive(&p))
			break;
	}
	SSL_shutdown(ssl);
}

static void usage(void)
{
	fprintf(stderr, "usage: fake-upstream --cert C --key K [--listen ADDR:PORT] [--log FILE] "
	                "[--lifetime SECS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *listen_spec = "127.0.0.1:0";
	long lifetime = 300;
	struct sockaddr_in sa;
	struct coi_error err = {0};
	uint16_t port = 0;
	SSL_CTX *ctx;
	int lfd, live = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--cert") == 0)
			cert = argv[++i];
		else if (strcmp(argv[i], "--key") == 0)
			key = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0)
			listen_spec = argv[++i];
		else if (strcmp(argv[i], "--log") == 0)
			log_path = argv[++i];
		else if (strcmp(argv[i], "--lifetime") == 0)
			lifetime = strtol(argv[++i], NULL, 10);
		else
			usage();
	}
	if (!cert || !key || lifetime <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	if (egress_addr_parse(listen_spec, &sa, &err) < 0 ||
	    (lfd = egress_listen(&sa, &port, &err)) < 0) {
		fprintf(stderr, "fake-upstream: %s\n", err.msg);
		return 1;
	}
	/* blocking accept: this server forks per connection */
	(void)fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK);
	printf("port %u\n", port);
	fflush(stdout);
	alarm((unsigned)lifetime); /* the bound on the whole run, children included */
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			live--;
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (live >= CHILD_MAX) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
		pid = fork();
		if (pid == 0) {
			close(lfd);
			alarm((unsigned)lifetime);
			connection(ctx, fd);
			_exit(0);
		}
		if (pid > 0)
			live++;
		close(fd);
	}
}
