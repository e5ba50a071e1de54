/* SPDX-License-Identifier: MIT */
/* wsconn.c: a websocket to the daemon. Each gets its own libcurl easy handle in CONNECT_ONLY mode
 * (over the unix socket, or TLS with the client certificate and pinned key), which ws.c drives
 * through curl_easy_send/curl_easy_recv; CURLINFO_ACTIVESOCKET gives the fd to poll. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "incus/ws.h"
#include "util/error.h"
#include "util/log.h"

static ssize_t io_send(void *ctx, const void *buf, size_t len)
{
	struct incus_ws *w = ctx;
	size_t n = 0;
	CURLcode cc = curl_easy_send(w->curl, buf, len, &n);

	if (cc == CURLE_AGAIN)
		return -EAGAIN;
	if (cc != CURLE_OK)
		log_debug("incus: websocket send: %s", curl_easy_strerror(cc));
	return cc == CURLE_OK ? (ssize_t)n : -EIO;
}

static ssize_t io_recv(void *ctx, void *buf, size_t len)
{
	struct incus_ws *w = ctx;
	size_t n = 0;
	CURLcode cc = curl_easy_recv(w->curl, buf, len, &n);

	if (cc == CURLE_AGAIN)
		return -EAGAIN;
	return cc == CURLE_OK ? (ssize_t)n : -ECONNRESET;
}

static int io_wait(void *ctx, bool for_write, int timeout_ms)
{
	struct incus_ws *w = ctx;
	struct pollfd p = {.fd = w->fd, .events = for_write ? POLLOUT : POLLIN};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR && !incus_interrupted());
	if (r < 0)
		return -errno;
	return r;
}

struct incus_ws *incus_ws_free(struct incus_ws *w)
{
	if (!w)
		return NULL;
	ws_free(w->ws);
	if (w->curl)
		curl_easy_cleanup(w->curl);
	free(w);
	return NULL;
}

/* The Host header: "incus" on the unix socket, else the remote's host[:port]. */
static void ws_host(const struct incus_client *c, char *out, size_t size)
{
	const char *h = c->socket_path ? "incus" : c->base_url + strlen("https://");

	snprintf(out, size, "%.*s", (int)strcspn(h, "/"), h);
}

int incus_ws_open(struct incus_client *c, const char *path, size_t max_message,
                  struct incus_ws **ret, struct coi_error *err)
{
	_cleanup_(incus_ws_freep) struct incus_ws *w = calloc(1, sizeof(*w));
	_cleanup_free_ char *url = NULL, *full = NULL;
	struct ws_io io = {.send = io_send, .recv = io_recv, .wait = io_wait};
	curl_socket_t fd = CURL_SOCKET_BAD;
	char host[256];
	CURLcode cc;
	int r;

	if (!w || !(w->curl = curl_easy_init()))
		return coi_error_oom(err);
	url = incus_request_url(c, path);
	if (!url)
		return coi_error_oom(err);
	incus_set_transport(c, w->curl);
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	cc = curl_easy_perform(w->curl);
	if (cc == CURLE_OK)
		cc = curl_easy_getinfo(w->curl, CURLINFO_ACTIVESOCKET, &fd);
	if (cc != CURLE_OK || fd == CURL_SOCKET_BAD)
		return coi_error_set(err, -ECONNREFUSED, "cannot open a websocket to incus: %s",
		                     curl_easy_strerror(cc));
	w->fd = fd;
	io.ctx = w;
	w->ws = ws_new(&io, max_message);
	if (!w->ws)
		return coi_error_oom(err);
	/* the request line carries the path (and the project) of the URL */
	full = strdup(url + strlen(c->base_url));
	ws_host(c, host, sizeof(host));
	if (!full)
		return coi_error_oom(err);
	r = ws_handshake(w->ws, host, full, err);
	if (r < 0)
		return coi_error_prefix(err, "websocket handshake with incus failed");
	log_debug("incus: websocket %s open", path);
	*ret = TAKE_PTR(w);
	return 0;
}
