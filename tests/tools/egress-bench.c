/* SPDX-License-Identifier: MIT */
/* egress-bench: an HTTPS client that times requests, for bench/50-egress.sh: the same work sent
 * straight to a fake upstream and through the credential proxy, so the ratio is what the proxy
 * adds. Loopback only.
 *
 *   egress-bench --connect ADDR:PORT --host NAME --cafile F [--header "X: V"] MODE N
 *
 *   request N     N requests on one keep-alive connection
 *   connect N     N requests, each on a new connection (TLS handshake included)
 *   first-byte N  N streams (/stream?n=2&gap=0) on one keep-alive connection, each timed from
 *                 the request to the first byte of its first event
 *   streams N     N concurrent streams (/stream?n=20&gap=100), one process each; waits for all
 *
 * Prints "median_us X" (streams: "streams_ok X"). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress/proxy.h"

#define RUNS_MAX 100000

static struct sockaddr_in addr = {.sin_family = AF_INET};
static const char *host, *header = "X-Bench: 1";
static SSL_CTX *ctx;

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static SSL *open_tls(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	SSL *ssl;

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || !SSL_set_tlsext_host_name(ssl, host) ||
	    !SSL_set1_host(ssl, host) || SSL_connect(ssl) != 1) {
		fprintf(stderr, "egress-bench: TLS to %s failed\n", host);
		exit(1);
	}
	return ssl;
}

static void close_tls(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

static void send_get(SSL *ssl, const char *path)
{
	char req[1024];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n\r\n", path, host,
	                 header);

	if (SSL_write(ssl, req, n) != n) {
		fprintf(stderr, "egress-bench: write failed\n");
		exit(1);
	}
}

/* Reads one "ok" response (Content-Length: 3) to its end. */
static void read_ok(SSL *ssl)
{
	char buf[4096];
	size_t have = 0;

	for (;;) {
		int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
		char *end;

		if (n <= 0) {
			fprintf(stderr, "egress-bench: the response ended early\n");
			exit(1);
		}
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end && strncmp(buf, "HTTP/1.1 200", 12) != 0) {
			fprintf(stderr, "egress-bench: %.40s\n", buf);
			exit(1);
		}
		if (end && (size_t)(end + 4 - buf) + 3 <= have)
			return;
	}
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static long long median(long long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

static long long run_request(int n, bool fresh)
{
	long long *t = calloc((size_t)n, sizeof(*t));
	SSL *ssl = fresh ? NULL : open_tls();

	for (int i = 0; i < n; i++) {
		long long t0 = now_us();

		if (fresh)
			ssl = open_tls();
		send_get(ssl, "/bench");
		read_ok(ssl);
		t[i] = now_us() - t0;
		if (fresh)
			close_tls(ssl);
	}
	if (!fresh)
		close_tls(ssl);
	return median(t, n);
}

/* From the request to the first byte of the first event ("data: "), each stream on the same
 * keep-alive connection (as an agent's client keeps it), read to its end before the next. */
static long long run_first_byte(int n)
{
	long long *t = calloc((size_t)n, sizeof(*t));
	SSL *ssl = open_tls();

	for (int i = 0; i < n; i++) {
		char buf[8192];
		size_t have = 0;
		long long t0 = now_us();

		send_get(ssl, "/stream?n=2&gap=0");
		for (;;) {
			int k = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));

			if (k <= 0) {
				fprintf(stderr, "egress-bench: the stream ended early\n");
				exit(1);
			}
			have += (size_t)k;
			buf[have] = '\0';
			if (t[i] == 0 && strstr(buf, "data: "))
				t[i] = now_us() - t0;
			if (t[i] && strstr(buf, "\r\n0\r\n\r\n"))
				break;
			if (have >
			    sizeof(buf) / 2) { /* keep the tail: the end may straddle reads */
				memmove(buf, buf + have - 16, 16);
				have = 16;
			}
		}
	}
	close_tls(ssl);
	return median(t, n);
}

static int run_streams(int n)
{
	int ok = 0;

	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			SSL *ssl = open_tls();
			char buf[8192];
			int k, events = 0;

			send_get(ssl, "/stream?n=20&gap=100");
			while ((k = SSL_read(ssl, buf, sizeof(buf) - 1)) > 0) {
				buf[k] = '\0';
				for (char *p = buf; (p = strstr(p, "data: ")); p++)
					events++;
				if (strstr(buf, "\r\n0\r\n\r\n") ||
				    strncmp(buf, "0\r\n\r\n", 5) == 0)
					break;
			}
			_exit(events == 20 ? 0 : 1);
		}
	}
	for (int i = 0; i < n; i++) {
		int st;

		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	return ok;
}

int main(int argc, char **argv)
{
	const char *connect_to = NULL, *cafile = NULL, *mode = NULL;
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
			connect_to = argv[++i];
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			host = argv[++i];
		else if (strcmp(argv[i], "--cafile") == 0 && i + 1 < argc)
			cafile = argv[++i];
		else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc)
			header = argv[++i];
		else if (!mode)
			mode = argv[i];
		else
			n = atoi(argv[i]);
	}
	if (!connect_to || egress_addr_parse(connect_to, &addr, NULL) < 0 || !host || !cafile ||
	    !mode || n <= 0 || n > RUNS_MAX) {
		fprintf(stderr, "usage: egress-bench --connect ADDR:PORT --host NAME --cafile F "
		                "[--header H] request|connect|first-byte|streams N\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)
		return 1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (strcmp(mode, "request") == 0)
		printf("median_us %lld\n", run_request(n, false));
	else if (strcmp(mode, "connect") == 0)
		printf("median_us %lld\n", run_request(n, true));
	else if (strcmp(mode, "first-byte") == 0)
		printf("median_us %lld\n", run_first_byte(n));
	else if (strcmp(mode, "streams") == 0)
		printf("streams_ok %d\n", run_streams(n));
	else
		return 2;
	return 0;
}
