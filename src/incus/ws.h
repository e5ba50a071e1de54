/* SPDX-License-Identifier: MIT */
/* ws.h: a small RFC 6455 websocket client over an abstract byte transport.
 *
 * Incus speaks websockets for exec (stdin/stdout/stderr and a control socket) and for the event
 * stream. Debian's libcurl has no websocket support, so the Incus client opens a raw connection
 * (CURLOPT_CONNECT_ONLY over the unix socket or TLS) and hands it to this module as a struct ws_io.
 * Nothing here knows about libcurl, sockets or TLS.
 *
 * Use:
 *	ws = ws_new(&io, 1 << 20);
 *	r = ws_handshake(ws, "localhost", "/1.0/events?type=lifecycle", &err);
 *	while ((r = ws_recv(ws, &msg, -1, &err)) == 0) { use(msg.data, msg.len);
 *ws_message_release(&msg); } if (r == WS_CLOSED) ... msg.close_code, msg.data (the reason) ...
 *	ws_close(ws, WS_CLOSE_NORMAL, NULL, &err);
 *	ws = ws_free(ws);
 *
 * In a poll loop, call ws_recv(ws, &msg, 0, &err) when the transport's fd is readable and keep
 * calling it until it returns -EAGAIN: one read may carry several messages, and a TLS layer may
 * hold decrypted bytes that poll cannot see. Bytes of a partial frame stay buffered between calls.
 *
 * Sending always completes a whole frame (waiting for writability, bounded by WS_SEND_TIMEOUT_MS),
 * because half a frame on the wire would break the stream. Any protocol failure is final: the
 * module sends a close frame (1002, or 1009 for an oversize message) and every later call fails.
 * The module is not thread-safe; one thread owns a struct ws. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct coi_error;

/* The transport. send/recv return a byte count, 0 from recv at end of stream, -EAGAIN when they
 * would block, or another negative errno. wait() blocks until the transport can be read (or
 * written, for_write) or timeout_ms passes (-1: no limit); it returns > 0 when ready, 0 on timeout,
 * negative errno on failure. wait may be NULL only for a transport that never returns -EAGAIN
 * (a NULL wait makes the module retry, bounded by the call's timeout). */
struct ws_io {
	ssize_t (*send)(void *ctx, const void *buf, size_t len);
	ssize_t (*recv)(void *ctx, void *buf, size_t len);
	void *ctx;
	int (*wait)(void *ctx, bool for_write, int timeout_ms);
};

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close status codes (RFC 6455 section 7.4.1) that this module sends or reports. */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_NO_STATUS = 1005, /* reported when the peer's close frame carried no code */
	WS_CLOSE_TOO_BIG = 1009,
};

#define WS_CLOSED               1     /* ws_recv: the peer closed cleanly */
#define WS_FRAME_HDR_MAX        14    /* 2 + 8 (64-bit length) + 4 (mask) */
#define WS_CONTROL_MAX          125   /* payload ceiling of a control frame */
#define WS_HANDSHAKE_MAX        16384 /* ceiling for the server's handshake response */
#define WS_HANDSHAKE_TIMEOUT_MS 10000 /* ws_handshake gives up after this */
#define WS_SEND_TIMEOUT_MS      10000 /* a frame must be written within this */
#define WS_CLOSE_TIMEOUT_MS     2000  /* ws_close waits this long for the peer's close */
#define WS_DEFAULT_MAX_MESSAGE  (1u << 20)
#define WS_ACCEPT_LEN           28 /* base64 of a SHA-1 digest */

/* A received message. data is NUL-terminated (so JSON text can be used directly) and owned by
 * the caller: release it with ws_message_release(). For WS_CLOSED, op is WS_OP_CLOSE, close_code
 * the peer's code (WS_CLOSE_NO_STATUS when none) and data the reason ("" when none). */
struct ws_message {
	enum ws_opcode op; /* WS_OP_TEXT, WS_OP_BINARY or WS_OP_CLOSE */
	char *data;
	size_t len;
	uint16_t close_code;
};

void ws_message_release(struct ws_message *m);

/* One frame header as it appears on the wire; the payload (len bytes) follows it. */
struct ws_frame_hdr {
	bool fin;
	uint8_t rsv;    /* RSV1..RSV3 as bits 2..0; must be 0 without extensions */
	uint8_t opcode; /* raw 4 bits, so unknown opcodes can be reported */
	bool masked;
	uint8_t mask[4];
	uint64_t len;
};

/* Pure frame coding, for tests and fuzzing as much as for ws.c. */

/* Write a frame header for a payload of len bytes into out; mask NULL means unmasked.
 * Returns the header length (2..WS_FRAME_HDR_MAX). Non-minimal lengths are never produced. */
size_t ws_frame_encode(uint8_t out[WS_FRAME_HDR_MAX], bool fin, enum ws_opcode op,
                       const uint8_t *mask, uint64_t len);

/* XOR data with the 4-byte mask, starting at mask byte (offset % 4). Applying it twice undoes it.
 */
void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset);

/* Decode a header from buf. Returns the header length, 0 when buf holds too few bytes yet, or
 * -EPROTO for a 64-bit length with its top bit set. Checks nothing else; see ws_frame_violation. */
int ws_frame_decode(const uint8_t *buf, size_t len, struct ws_frame_hdr *ret);

/* Why a decoded header breaks RFC 6455 (reserved bits, unknown opcode, fragmented or oversize
 * control frame), or NULL when it is fine. Masking is not judged here: that depends on the side. */
const char *ws_frame_violation(const struct ws_frame_hdr *h);

/* ws_frame_decode plus ws_frame_violation: header length, 0 for "need more", -EPROTO. */
int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame_hdr *ret);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)). */
int ws_accept_key(const char *key, char ret[WS_ACCEPT_LEN + 1]);

/* The connection. */
struct ws;

/* A websocket over io (copied). max_message caps a reassembled message (0: the default); a larger
 * message fails ws_recv with -E2BIG. Returns NULL when out of memory. */
struct ws *ws_new(const struct ws_io *io, size_t max_message);

/* NULL-safe; returns NULL. Does not close the transport or send a close frame. */
struct ws *ws_free(struct ws *ws);

/* Send the HTTP/1.1 Upgrade request for path on host and check the 101 response and its
 * Sec-WebSocket-Accept. Bytes that follow the response headers are kept for the first frame.
 * -EPROTO for a refused or malformed response (err names the status line), -E2BIG when the
 * headers pass WS_HANDSHAKE_MAX, -ETIMEDOUT after WS_HANDSHAKE_TIMEOUT_MS. */
int ws_handshake(struct ws *ws, const char *host, const char *path, struct coi_error *err);

/* Send one unfragmented, masked frame (a fresh random mask each time). op is TEXT, BINARY, PING
 * or PONG (control payloads at most WS_CONTROL_MAX bytes); use ws_close for CLOSE. -EPIPE once
 * a close was sent or the connection failed. */
int ws_send(struct ws *ws, enum ws_opcode op, const void *data, size_t len, struct coi_error *err);

/* Receive one whole message into ret (reassembled from fragments; pings are answered, pongs
 * dropped). timeout_ms: -1 waits without limit, 0 never waits, else a total bound.
 * Returns 0 for a text or binary message, WS_CLOSED when the peer closed (its close is answered;
 * later calls return WS_CLOSED again), -EAGAIN (timeout 0) or -ETIMEDOUT when no whole message
 * arrived in time (nothing is lost), -EPROTO for a protocol violation, -E2BIG for a message over
 * max_message, -ECONNRESET when the stream ends without a close frame, or the transport's error. */
int ws_recv(struct ws *ws, struct ws_message *ret, int timeout_ms, struct coi_error *err);

/* Send a close frame (code, 1000-4999 but not 1004-1006 or 1015; and reason of at most 123 bytes,
 * may be NULL) unless one was sent, then wait up to WS_CLOSE_TIMEOUT_MS for the peer's close,
 * dropping data messages meanwhile. Returns 0 once both closes are exchanged, or a negative errno
 * (-ETIMEDOUT, ...). */
int ws_close(struct ws *ws, uint16_t code, const char *reason, struct coi_error *err);

/* True after a close frame arrived from the peer. */
bool ws_peer_closed(const struct ws *ws);
