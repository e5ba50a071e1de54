/* SPDX-License-Identifier: MIT */
/* fuzz-ws-frame.c: arbitrary server bytes against the websocket client.
 *
 * Input: one control byte, then the bytes the "server" sends. Control bits: 0-2 pick max_message
 * (64 << n), 3-5 the transport's read size (1 << n bytes, so frames split anywhere), 6 echoes
 * each message back (see fuzz_reply), 7 feeds the bytes as the handshake response itself instead of
 * after a canned good one. The client reads until it fails or the peer closes; then ws_close.
 * The pure header parser is run over the raw input too. No crash, no leak, no unbounded loop. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incus/ws.h"
#include "util/buf.h"
#include "util/error.h"

#define GOOD_REPLY_HEAD \
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "

struct fuzz_io {
	const uint8_t *data;
	size_t len, pos, chunk;
	char reply[256];
	size_t reply_len, reply_pos;
	bool canned, request_seen;
	char request_key[64];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ssize_t fz_send(void *ctx, const void *p, size_t n)
{
	struct fuzz_io *f = ctx;
	const char *k;

	if (f->request_seen || n < 4)
		return (ssize_t)n;
	/* the first write is the whole upgrade request */
	f->request_seen = true;
	k = memmem(p, n, "Sec-WebSocket-Key: ", 19);
	if (k && (size_t)((const char *)p + n - k) >= 19 + 24)
		memcpy(f->request_key, k + 19, 24);
	return (ssize_t)n;
}

static void fz_make_reply(struct fuzz_io *f)
{
	char accept[WS_ACCEPT_LEN + 1] = "";

	if (ws_accept_key(f->request_key, accept) < 0)
		return;
	f->reply_len = (size_t)snprintf(f->reply, sizeof(f->reply), "%s%s\r\n\r\n", GOOD_REPLY_HEAD,
	                                accept);
}

static ssize_t fz_recv(void *ctx, void *p, size_t n)
{
	struct fuzz_io *f = ctx;

	if (f->canned && f->reply_len == 0)
		fz_make_reply(f);
	if (f->canned && f->reply_pos < f->reply_len) {
		size_t k = f->reply_len - f->reply_pos;

		k = k < n ? k : n;
		memcpy(p, f->reply + f->reply_pos, k);
		f->reply_pos += k;
		return (ssize_t)k;
	}
	if (f->pos >= f->len)
		return 0;
	if (n > f->chunk)
		n = f->chunk;
	if (n > f->len - f->pos)
		n = f->len - f->pos;
	memcpy(p, f->data + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static void fuzz_header_parser(const uint8_t *data, size_t size)
{
	struct ws_frame_hdr h;
	int r = ws_frame_parse(data, size, &h);

	if (r > 0 && ((size_t)r > size || r > WS_FRAME_HDR_MAX))
		abort();
}

/* With echo: a message starting with 'C' makes the client close first (so ws_close reads the
 * rest), 'P' sends a ping, anything else is sent back whole. */
static int fuzz_reply(struct ws *ws, const struct ws_message *msg, struct coi_error *err)
{
	if (msg->len && msg->data[0] == 'C')
		return ws_close(ws, WS_CLOSE_NORMAL, "bye", err) == 0 ? 1 : -1;
	if (msg->len && msg->data[0] == 'P')
		return ws_send(ws, WS_OP_PING, msg->data, msg->len < 125 ? msg->len : 125, err);
	return ws_send(ws, msg->op, msg->data, msg->len, err);
}

static void fuzz_session(struct ws *ws, bool echo)
{
	struct coi_error err = {0};
	struct ws_message last = {0};

	for (int i = 0; i < 100000; i++) {
		struct ws_message msg = {0};
		int r = ws_recv(ws, &msg, 0, &err);

		if (r >= 0 && !msg.data)
			abort();
		if (r == 0 && echo)
			r = fuzz_reply(ws, &msg, &err);
		ws_message_release(&msg);
		if (r != 0)
			break;
	}
	(void)ws_close(ws, WS_CLOSE_NORMAL, "bye", &err);
	if (ws_recv(ws, &last, 0, &err) >= 0) /* after a close: WS_CLOSED again */
		ws_message_release(&last);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct coi_error err = {0};
	struct fuzz_io f = {0};
	struct ws_io io = {.send = fz_send, .recv = fz_recv, .ctx = &f};
	struct ws *ws;
	uint8_t ctl;

	fuzz_header_parser(data, size);
	if (size < 1)
		return 0;
	ctl = data[0];
	f.data = data + 1;
	f.len = size - 1;
	f.chunk = (size_t)1 << ((ctl >> 3) & 7);
	f.canned = !(ctl & 0x80);
	ws = ws_new(&io, (size_t)64 << (ctl & 7));
	if (!ws)
		return 0;
	if (ws_handshake(ws, "localhost", "/1.0/events", &err) == 0)
		fuzz_session(ws, ctl & 0x40);
	ws_free(ws);
	return 0;
}
