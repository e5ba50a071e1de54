/* SPDX-License-Identifier: MIT */
/* ws.c: an RFC 6455 websocket client over struct ws_io (see ws.h for the contract).
 *
 * Owns: the input buffer (raw bytes from the transport), the message being reassembled, and the
 * close state. Invariants: in[pos..len) are received bytes not yet consumed, and a frame is
 * consumed only once it is wholly buffered, so a timeout or -EAGAIN never loses data; the input
 * buffer never grows past in_max (one maximal frame, or the handshake ceiling); msg holds the
 * fragments of one text/binary message (msg_op != 0) and never more than max_message bytes;
 * every frame we send is masked and written whole; once `failed` is set every call returns it. */
#include "incus/ws.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"

#define WS_GUID       "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_READ_CHUNK 16384

struct ws {
	struct ws_io io;
	uint8_t *in;
	size_t pos, len, cap, in_max;
	struct buf msg;
	enum ws_opcode msg_op; /* 0 when no fragmented message is in progress */
	size_t max_message;
	bool close_sent, close_received;
	uint16_t peer_code;
	int failed; /* negative errno once the connection is unusable */
};

/* ---- frame coding (pure) ---- */

size_t ws_frame_encode(uint8_t out[WS_FRAME_HDR_MAX], bool fin, enum ws_opcode op,
                       const uint8_t *mask, uint64_t len)
{
	size_t n = 2;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	out[1] = mask ? 0x80 : 0;
	if (len < 126) {
		out[1] |= (uint8_t)len;
	} else if (len <= 0xffff) {
		out[1] |= 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[1] |= 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			out[n++] = (uint8_t)(len >> shift);
	}
	if (mask) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset)
{
	for (size_t i = 0; i < len; i++)
		data[i] ^= mask[(offset + i) & 3];
}

int ws_frame_decode(const uint8_t *buf, size_t len, struct ws_frame_hdr *ret)
{
	struct ws_frame_hdr h = {0};
	size_t need = 2, ext;
	uint64_t plen;

	if (len < 2)
		return 0;
	h.fin = buf[0] & 0x80;
	h.rsv = (buf[0] >> 4) & 0x7;
	h.opcode = buf[0] & 0x0f;
	h.masked = buf[1] & 0x80;
	plen = buf[1] & 0x7f;
	ext = plen == 126 ? 2 : plen == 127 ? 8 : 0;
	need += ext + (h.masked ? 4 : 0);
	if (len < need)
		return 0;
	if (ext) {
		plen = 0;
		for (size_t i = 0; i < ext; i++)
			plen = (plen << 8) | buf[2 + i];
		if (plen >> 63)
			return -EPROTO;
	}
	h.len = plen;
	if (h.masked)
		memcpy(h.mask, buf + 2 + ext, 4);
	*ret = h;
	return (int)need;
}

static bool opcode_is_control(unsigned op)
{
	return op & 0x8;
}

const char *ws_frame_violation(const struct ws_frame_hdr *h)
{
	switch (h->opcode) {
	case WS_OP_CONT:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		break;
	default:
		return "unknown opcode";
	}
	if (h->rsv)
		return "reserved bits set";
	if (opcode_is_control(h->opcode) && !h->fin)
		return "fragmented control frame";
	if (opcode_is_control(h->opcode) && h->len > WS_CONTROL_MAX)
		return "control frame longer than 125 bytes";
	return NULL;
}

int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame_hdr *ret)
{
	struct ws_frame_hdr h;
	int r = ws_frame_decode(buf, len, &h);

	if (r <= 0)
		return r;
	if (ws_frame_violation(&h))
		return -EPROTO;
	*ret = h;
	return r;
}

int ws_accept_key(const char *key, char ret[WS_ACCEPT_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char input[128];
	int k;

	k = snprintf(input, sizeof(input), "%s" WS_GUID, key);
	if (k < 0 || (size_t)k >= sizeof(input))
		return -EINVAL;
	if (!EVP_Digest(input, (size_t)k, md, &n, EVP_sha1(), NULL) || n != 20)
		return -EIO;
	if (EVP_EncodeBlock((unsigned char *)ret, md, (int)n) != WS_ACCEPT_LEN)
		return -EIO;
	return 0;
}

/* ---- lifetime ---- */

void ws_message_release(struct ws_message *m)
{
	free(m->data);
	m->data = NULL;
	m->len = 0;
}

struct ws *ws_new(const struct ws_io *io, size_t max_message)
{
	struct ws *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return NULL;
	if (max_message == 0)
		max_message = WS_DEFAULT_MAX_MESSAGE;
	if (max_message > (1u << 30))
		max_message = 1u << 30;
	ws->io = *io;
	ws->max_message = max_message;
	ws->in_max = max_message + WS_FRAME_HDR_MAX;
	if (ws->in_max < WS_HANDSHAKE_MAX)
		ws->in_max = WS_HANDSHAKE_MAX;
	buf_init(&ws->msg, max_message);
	return ws;
}

struct ws *ws_free(struct ws *ws)
{
	if (!ws)
		return NULL;
	free(ws->in);
	buf_release(&ws->msg);
	free(ws);
	return NULL;
}

bool ws_peer_closed(const struct ws *ws)
{
	return ws->close_received;
}

/* ---- transport ---- */

/* -1 for no deadline. */
static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
}

/* Wait for the transport until deadline: 0 when worth retrying, -ETIMEDOUT, or an error. */
static int io_wait(struct ws *ws, bool for_write, int64_t deadline)
{
	int64_t left = deadline < 0 ? -1 : deadline - clock_mono_ms();
	int r;

	if (deadline >= 0 && left <= 0)
		return -ETIMEDOUT;
	if (!ws->io.wait)
		return 0;
	r = ws->io.wait(ws->io.ctx, for_write, left > INT32_MAX ? INT32_MAX : (int)left);
	if (r < 0)
		return r;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int send_all(struct ws *ws, const uint8_t *p, size_t n)
{
	int64_t deadline = deadline_after(WS_SEND_TIMEOUT_MS);

	while (n > 0) {
		ssize_t k = ws->io.send(ws->io.ctx, p, n);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k == 0 || k == -EINTR)
			continue;
		if (k != -EAGAIN)
			return (int)k;
		int r = io_wait(ws, true, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Room for at least one read: drop consumed bytes, then grow towards in_max. */
static int in_make_room(struct ws *ws)
{
	size_t cap;
	uint8_t *p;

	if (ws->pos > 0) {
		memmove(ws->in, ws->in + ws->pos, ws->len - ws->pos);
		ws->len -= ws->pos;
		ws->pos = 0;
	}
	if (ws->len < ws->cap)
		return 0;
	if (ws->cap >= ws->in_max)
		return -E2BIG;
	cap = ws->cap ? ws->cap * 2 : WS_READ_CHUNK;
	if (cap > ws->in_max)
		cap = ws->in_max;
	p = realloc(ws->in, cap);
	if (!p)
		return -ENOMEM;
	ws->in = p;
	ws->cap = cap;
	return 0;
}

/* Read once into the input buffer. -EAGAIN when nonblock and nothing is there. */
static int in_fill(struct ws *ws, bool nonblock, int64_t deadline)
{
	int r = in_make_room(ws);

	if (r < 0)
		return r;
	for (;;) {
		ssize_t k = ws->io.recv(ws->io.ctx, ws->in + ws->len, ws->cap - ws->len);

		if (k > 0) {
			ws->len += (size_t)k;
			return 0;
		}
		if (k == 0)
			return -ECONNRESET;
		if (k == -EINTR)
			continue;
		if (k != -EAGAIN)
			return (int)k;
		if (nonblock)
			return -EAGAIN;
		r = io_wait(ws, false, deadline);
		if (r < 0)
			return r;
	}
}

/* ---- sending ---- */

static int send_frame(struct ws *ws, enum ws_opcode op, const void *data, size_t len)
{
	_cleanup_free_ uint8_t *frame = NULL;
	uint8_t hdr[WS_FRAME_HDR_MAX], mask[4];
	size_t n = 0;

	if (RAND_bytes(mask, sizeof(mask)) != 1)
		return -EIO;
	n = ws_frame_encode(hdr, true, op, mask, len);
	if (len > SIZE_MAX - n)
		return -E2BIG;
	frame = malloc(n + len);
	if (!frame)
		return -ENOMEM;
	memcpy(frame, hdr, n);
	if (len)
		memcpy(frame + n, data, len);
	ws_mask(frame + n, len, mask, 0);
	return send_all(ws, frame, n + len);
}

/* code 0 sends an empty close payload. */
static int send_close(struct ws *ws, uint16_t code, const char *reason)
{
	uint8_t payload[WS_CONTROL_MAX];
	size_t rlen = reason ? strlen(reason) : 0, n = 0;

	if (ws->close_sent)
		return 0;
	if (rlen > WS_CONTROL_MAX - 2)
		return -EINVAL;
	if (code) {
		payload[0] = (uint8_t)(code >> 8);
		payload[1] = (uint8_t)code;
		memcpy(payload + 2, reason ? reason : "", rlen);
		n = 2 + rlen;
	}
	ws->close_sent = true;
	return send_frame(ws, WS_OP_CLOSE, payload, n);
}

/* Mark the connection failed; tell the peer why with close code (0: the transport is gone). */
static int ws_fail(struct ws *ws, uint16_t code, int r)
{
	if (code)
		(void)send_close(ws, code, NULL);
	ws->failed = r;
	return r;
}

int ws_send(struct ws *ws, enum ws_opcode op, const void *data, size_t len, struct coi_error *err)
{
	int r;

	if (ws->failed)
		return coi_error_set(err, -EPIPE, "websocket connection has failed");
	if (ws->close_sent)
		return coi_error_set(err, -EPIPE, "websocket is closing");
	if (op != WS_OP_TEXT && op != WS_OP_BINARY && op != WS_OP_PING && op != WS_OP_PONG)
		return coi_error_set(err, -EINVAL, "cannot send websocket opcode %d", (int)op);
	if (opcode_is_control(op) && len > WS_CONTROL_MAX)
		return coi_error_set(err, -EINVAL, "websocket control payload over 125 bytes");
	r = send_frame(ws, op, data, len);
	if (r < 0)
		return coi_error_errno(err, ws_fail(ws, 0, r), "cannot send websocket frame");
	return 0;
}

/* ---- receiving ---- */

enum { GOT_NOTHING, GOT_MESSAGE, GOT_CLOSE };

static int take_message(struct ws *ws, struct ws_message *ret)
{
	size_t len = ws->msg.len;
	char *data = buf_steal(&ws->msg);

	if (!data)
		return -ENOMEM;
	*ret = (struct ws_message){.op = ws->msg_op, .data = data, .len = len};
	ws->msg_op = 0;
	return GOT_MESSAGE;
}

static int closed_message(struct ws *ws, const uint8_t *reason, size_t n, struct ws_message *ret)
{
	char *data = strndup((const char *)reason, n);

	if (!data)
		return -ENOMEM;
	*ret = (struct ws_message){
	        .op = WS_OP_CLOSE, .data = data, .len = strlen(data), .close_code = ws->peer_code};
	return GOT_CLOSE;
}

/* RFC 6455 7.4: 1000-2999 are defined or reserved (1004-1006 and 1015 never sent), 3000-4999
 * are for applications. */
static bool close_code_sendable(uint16_t code)
{
	if (code < 1000 || code > 4999)
		return false;
	return code != 1004 && code != 1005 && code != 1006 && code != 1015;
}

static int on_close(struct ws *ws, const uint8_t *p, size_t n, struct ws_message *ret,
                    struct coi_error *err)
{
	int r;

	if (n == 1)
		return coi_error_set(err, ws_fail(ws, WS_CLOSE_PROTOCOL, -EPROTO),
		                     "websocket close frame with a 1-byte payload");
	ws->close_received = true;
	ws->peer_code = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : WS_CLOSE_NO_STATUS;
	/* echo the peer's code, unless it is one that must never be on the wire */
	r = send_close(ws,
	               n < 2                                ? 0
	               : close_code_sendable(ws->peer_code) ? ws->peer_code
	                                                    : WS_CLOSE_PROTOCOL,
	               NULL);
	if (r < 0)
		return coi_error_errno(err, ws_fail(ws, 0, r), "cannot answer websocket close");
	return closed_message(ws, n >= 2 ? p + 2 : p, n >= 2 ? n - 2 : 0, ret);
}

static int on_data(struct ws *ws, const struct ws_frame_hdr *h, const uint8_t *p,
                   struct ws_message *ret, struct coi_error *err)
{
	int r;

	if (h->opcode == WS_OP_CONT && !ws->msg_op)
		return coi_error_set(err, ws_fail(ws, WS_CLOSE_PROTOCOL, -EPROTO),
		                     "websocket continuation frame without a message");
	if (h->opcode != WS_OP_CONT && ws->msg_op)
		return coi_error_set(err, ws_fail(ws, WS_CLOSE_PROTOCOL, -EPROTO),
		                     "websocket message started inside a fragmented one");
	if (h->opcode != WS_OP_CONT) {
		buf_reset(&ws->msg);
		ws->msg_op = h->opcode;
	}
	r = buf_append(&ws->msg, p, (size_t)h->len);
	if (r < 0)
		return coi_error_errno(err, ws_fail(ws, 0, r), "cannot buffer websocket message");
	return h->fin ? take_message(ws, ret) : GOT_NOTHING;
}

static int on_frame(struct ws *ws, const struct ws_frame_hdr *h, const uint8_t *p,
                    struct ws_message *ret, struct coi_error *err)
{
	int r;

	switch (h->opcode) {
	case WS_OP_PING:
		if (ws->close_sent)
			return GOT_NOTHING;
		r = send_frame(ws, WS_OP_PONG, p, (size_t)h->len);
		/* The peer may have closed its end right after data that is still buffered here
		 * (Incus pings, writes, then hangs up): stop sending, but keep what was received.
		 */
		if (r < 0)
			ws->close_sent = true;
		return GOT_NOTHING;
	case WS_OP_PONG:
		return GOT_NOTHING;
	case WS_OP_CLOSE:
		return on_close(ws, p, (size_t)h->len, ret, err);
	default:
		return on_data(ws, h, p, ret, err);
	}
}

/* Check a decoded server frame header against the protocol and our ceiling. */
static int check_header(struct ws *ws, const struct ws_frame_hdr *h, struct coi_error *err)
{
	const char *why = ws_frame_violation(h);

	if (!why && h->masked)
		why = "masked frame from the server";
	if (why)
		return coi_error_set(err, ws_fail(ws, WS_CLOSE_PROTOCOL, -EPROTO),
		                     "websocket protocol error: %s", why);
	if (!opcode_is_control(h->opcode) && h->len > ws->max_message - ws->msg.len)
		return coi_error_set(err, ws_fail(ws, WS_CLOSE_TOO_BIG, -E2BIG),
		                     "websocket message larger than %zu bytes", ws->max_message);
	return 0;
}

/* Handle the wholly buffered frames until a message or close is complete.
 * Returns GOT_NOTHING when more bytes are needed, GOT_MESSAGE, GOT_CLOSE, or an error. */
static int process_buffered(struct ws *ws, struct ws_message *ret, struct coi_error *err)
{
	while (ws->pos < ws->len) {
		struct ws_frame_hdr h;
		size_t avail = ws->len - ws->pos;
		uint8_t *p = ws->in + ws->pos;
		int n, r;

		n = ws_frame_decode(p, avail, &h);
		if (n < 0)
			return coi_error_set(err, ws_fail(ws, WS_CLOSE_PROTOCOL, -EPROTO),
			                     "websocket protocol error: frame length out of range");
		if (n == 0)
			return GOT_NOTHING;
		r = check_header(ws, &h, err);
		if (r < 0)
			return r;
		if (h.len > avail - (size_t)n)
			return GOT_NOTHING;
		ws->pos += (size_t)n + (size_t)h.len;
		r = on_frame(ws, &h, p + n, ret, err);
		if (r != GOT_NOTHING)
			return r;
	}
	return GOT_NOTHING;
}

static int recv_error(struct ws *ws, int r, struct coi_error *err)
{
	if (r == -EAGAIN)
		return coi_error_set(err, r, "no whole websocket message yet");
	if (r == -ETIMEDOUT)
		return coi_error_set(err, r, "timed out waiting for a websocket message");
	if (r == -ECONNRESET)
		return coi_error_set(err, ws_fail(ws, 0, r),
		                     "websocket closed without a close frame");
	return coi_error_errno(err, ws_fail(ws, 0, r), "cannot read from websocket");
}

int ws_recv(struct ws *ws, struct ws_message *ret, int timeout_ms, struct coi_error *err)
{
	int64_t deadline = deadline_after(timeout_ms);

	if (ws->failed)
		return coi_error_set(err, ws->failed, "websocket connection has failed");
	if (ws->close_received)
		return closed_message(ws, (const uint8_t *)"", 0, ret) < 0 ? coi_error_oom(err)
		                                                           : WS_CLOSED;
	for (;;) {
		int r = process_buffered(ws, ret, err);

		if (r == GOT_MESSAGE)
			return 0;
		if (r == GOT_CLOSE)
			return WS_CLOSED;
		if (r < 0)
			return r;
		r = in_fill(ws, timeout_ms == 0, deadline);
		if (r < 0)
			return recv_error(ws, r, err);
	}
}

int ws_close(struct ws *ws, uint16_t code, const char *reason, struct coi_error *err)
{
	int64_t deadline = deadline_after(WS_CLOSE_TIMEOUT_MS);
	struct ws_message m = {0};
	int r;

	if (ws->failed)
		return coi_error_set(err, ws->failed, "websocket connection has failed");
	if (!close_code_sendable(code))
		return coi_error_set(err, -EINVAL, "websocket close code %u cannot be sent", code);
	if (reason && strlen(reason) > WS_CONTROL_MAX - 2)
		return coi_error_set(err, -EINVAL, "websocket close reason over 123 bytes");
	r = send_close(ws, code, reason);
	if (r < 0)
		return coi_error_errno(err, ws_fail(ws, 0, r), "cannot send websocket close");
	while (!ws->close_received) {
		int left = (int)(deadline - clock_mono_ms());

		r = ws_recv(ws, &m, left > 0 ? left : 1, err);
		ws_message_release(&m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- handshake ---- */

/* Host and path go into the request line and a header: no whitespace or controls. */
static bool request_token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int handshake_send(struct ws *ws, const char *host, const char *path,
                          char key[WS_ACCEPT_LEN + 1], struct coi_error *err)
{
	_cleanup_buf_ struct buf req = BUF_INIT(8192);
	uint8_t nonce[16];
	int r;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return coi_error_set(err, -EIO, "cannot generate a websocket key");
	(void)EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
	r = buf_printf(
	        &req,
	        "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
	        path, host, key);
	if (r < 0)
		return coi_error_set(err, r, "websocket request for '%.100s' too long", path);
	r = send_all(ws, (const uint8_t *)req.data, req.len);
	if (r < 0)
		return coi_error_errno(err, r, "cannot send websocket upgrade request");
	return 0;
}

/* Read until the blank line that ends the response headers; *ret_len counts through it. */
static int handshake_read(struct ws *ws, size_t *ret_len, struct coi_error *err)
{
	int64_t deadline = deadline_after(WS_HANDSHAKE_TIMEOUT_MS);

	for (;;) {
		const uint8_t *end = ws->len ? memmem(ws->in, ws->len, "\r\n\r\n", 4) : NULL;
		size_t n = end ? (size_t)(end - ws->in) + 4 : ws->len;
		int r;

		if (n > WS_HANDSHAKE_MAX)
			return coi_error_set(err, -E2BIG,
			                     "websocket handshake response over %d bytes",
			                     WS_HANDSHAKE_MAX);
		if (end) {
			*ret_len = n;
			return 0;
		}
		r = in_fill(ws, false, deadline);
		if (r == -ETIMEDOUT)
			return coi_error_set(err, r,
			                     "timed out waiting for the websocket handshake");
		if (r == -ECONNRESET)
			return coi_error_set(err, r,
			                     "connection closed during the websocket handshake");
		if (r < 0)
			return coi_error_errno(err, r, "cannot read the websocket handshake");
	}
}

static bool status_is_101(const char *line)
{
	return strncmp(line, "HTTP/1.", 7) == 0 && line[7] && line[8] == ' ' &&
	       strncmp(line + 9, "101", 3) == 0 && (line[12] == ' ' || line[12] == '\0');
}

struct upgrade_seen {
	bool upgrade, connection, accept;
};

static int handshake_header(char *line, const char *want_accept, struct upgrade_seen *seen,
                            struct coi_error *err)
{
	char *value = strchr(line, ':'), *end;

	if (!value)
		return coi_error_set(err, -EPROTO, "malformed websocket handshake header '%.100s'",
		                     line);
	*value++ = '\0';
	value += strspn(value, " \t");
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strcasecmp(line, "Upgrade") == 0)
		seen->upgrade = strcasecmp(value, "websocket") == 0;
	else if (strcasecmp(line, "Connection") == 0)
		seen->connection = strcasestr(value, "upgrade") != NULL;
	else if (strcasecmp(line, "Sec-WebSocket-Accept") == 0)
		seen->accept = strcmp(value, want_accept) == 0;
	return 0;
}

/* hdrs: the response through the CRLF of its last header line, NUL-terminated. */
static int handshake_check(char *hdrs, const char *want_accept, struct coi_error *err)
{
	struct upgrade_seen seen = {0};
	char *line, *next;
	int r;

	next = strstr(hdrs, "\r\n");
	*next = '\0';
	if (!status_is_101(hdrs))
		return coi_error_set(err, -EPROTO, "websocket upgrade refused: '%.200s'", hdrs);
	for (line = next + 2; *line; line = next) {
		next = strstr(line, "\r\n");
		*next = '\0';
		next += 2;
		r = handshake_header(line, want_accept, &seen, err);
		if (r < 0)
			return r;
	}
	if (!seen.upgrade || !seen.connection)
		return coi_error_set(err, -EPROTO,
		                     "websocket handshake without an upgrade to websocket");
	if (!seen.accept)
		return coi_error_set(err, -EPROTO,
		                     "websocket handshake with a wrong Sec-WebSocket-Accept");
	return 0;
}

int ws_handshake(struct ws *ws, const char *host, const char *path, struct coi_error *err)
{
	char key[WS_ACCEPT_LEN + 1], accept[WS_ACCEPT_LEN + 1];
	_cleanup_free_ char *hdrs = NULL;
	size_t n = 0;
	int r;

	if (ws->len || ws->failed)
		return coi_error_set(err, -EINVAL, "websocket handshake already done");
	if (!request_token_ok(host) || !request_token_ok(path) || path[0] != '/')
		return coi_error_set(err, -EINVAL, "invalid websocket host or path '%.100s'", path);
	r = handshake_send(ws, host, path, key, err);
	if (r >= 0)
		r = ws_accept_key(key, accept);
	if (r >= 0)
		r = handshake_read(ws, &n, err);
	if (r < 0)
		return ws_fail(ws, 0, r);
	if (memchr(ws->in, '\0', n)) {
		r = coi_error_set(err, -EPROTO, "websocket handshake response contains a NUL byte");
		return ws_fail(ws, 0, r);
	}
	hdrs = strndup((const char *)ws->in, n - 2);
	if (!hdrs)
		return coi_error_oom(err);
	r = handshake_check(hdrs, accept, err);
	if (r < 0)
		return ws_fail(ws, 0, r);
	ws->pos = n;
	return 0;
}
