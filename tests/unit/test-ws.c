/* SPDX-License-Identifier: MIT */
/* test-ws.c: the websocket client against a scripted in-memory "server" (struct mem), which
 * answers the handshake and holds raw frames the test writes, and against a real socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "incus/ws.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"

#define GOOD_REPLY                                                                          \
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
	"Sec-WebSocket-Accept: %s\r\n\r\n"

/* The in-memory transport. in: server -> client; out: client -> server. */
struct mem {
	struct buf in, out;
	size_t in_pos, out_pos;
	const char *reply; /* handshake response, "%s" = the right accept; sent after the request */
	bool replied;
	bool trickle, tick, send_tick; /* 1 byte per recv, 3 per send, -EAGAIN in between */
	bool eof;                      /* recv returns 0 (not -EAGAIN) once in is drained */
	int eagains;
};

static void mem_init(struct mem *m)
{
	*m = (struct mem){.in = BUF_INIT(1 << 24), .out = BUF_INIT(1 << 24)};
}

static void mem_release(struct mem *m)
{
	buf_release(&m->in);
	buf_release(&m->out);
}

/* reply with its "%s" (if any) replaced by accept */
static void put_reply(struct buf *b, const char *reply, const char *accept)
{
	const char *at = strstr(reply, "%s");

	if (!at) {
		CHECK(buf_puts(b, reply) == 0);
		return;
	}
	CHECK(buf_append(b, reply, (size_t)(at - reply)) == 0);
	CHECK(buf_puts(b, accept) == 0);
	CHECK(buf_puts(b, at + 2) == 0);
}

/* Once the request is complete, put the reply in front of whatever frames are queued. */
static void mem_reply(struct mem *m)
{
	struct buf nb = BUF_INIT(1 << 24);
	char key[64] = "", accept[WS_ACCEPT_LEN + 1] = "";
	const char *k;

	if (!m->reply || m->replied || !strstr(buf_str(&m->out), "\r\n\r\n"))
		return;
	k = strstr(buf_str(&m->out), "Sec-WebSocket-Key: ");
	if (k)
		(void)sscanf(k, "Sec-WebSocket-Key: %63[^\r]", key);
	(void)ws_accept_key(key, accept);
	put_reply(&nb, m->reply, accept);
	(void)buf_append(&nb, m->in.data + m->in_pos, m->in.len - m->in_pos);
	buf_release(&m->in);
	m->in = nb;
	m->in_pos = 0;
	m->replied = true;
}

static ssize_t mem_send(void *ctx, const void *p, size_t n)
{
	struct mem *m = ctx;

	if (m->trickle) {
		if ((m->send_tick = !m->send_tick))
			return -EAGAIN;
		n = n < 3 ? n : 3;
	}
	return buf_append(&m->out, p, n) < 0 ? -ENOSPC : (ssize_t)n;
}

static ssize_t mem_recv(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;
	size_t avail;

	mem_reply(m);
	avail = m->in.len - m->in_pos;
	if (m->trickle && (m->tick = !m->tick) && avail) {
		m->eagains++;
		return -EAGAIN;
	}
	if (avail == 0)
		return m->eof ? 0 : -EAGAIN;
	if (m->trickle || n > avail)
		n = m->trickle ? 1 : avail;
	memcpy(p, m->in.data + m->in_pos, n);
	m->in_pos += n;
	return (ssize_t)n;
}

/* Never blocks: "ready" when bytes are queued, else an immediate timeout. */
static int mem_wait(void *ctx, bool for_write, int timeout_ms)
{
	struct mem *m = ctx;

	mem_reply(m);
	return for_write || m->in_pos < m->in.len;
}

static struct ws *mem_ws(struct mem *m, size_t max)
{
	struct ws_io io = {.send = mem_send, .recv = mem_recv, .wait = mem_wait, .ctx = m};

	return ws_new(&io, max);
}

/* A server frame; rsv goes into bits 6..4 of the first byte, mask NULL for unmasked. */
static void srv_frame_ex(struct buf *b, bool fin, unsigned op, unsigned rsv, const uint8_t *mask,
                         const void *data, size_t len)
{
	uint8_t hdr[WS_FRAME_HDR_MAX];
	size_t n = ws_frame_encode(hdr, fin, (enum ws_opcode)op, mask, len);
	size_t at;

	hdr[0] |= (uint8_t)(rsv << 4);
	CHECK(buf_append(b, hdr, n) == 0);
	at = b->len;
	CHECK(buf_append(b, data, len) == 0);
	if (mask)
		ws_mask((uint8_t *)b->data + at, len, mask, 0);
}

static void srv_frame(struct mem *m, bool fin, unsigned op, const char *s)
{
	srv_frame_ex(&m->in, fin, op, 0, NULL, s, strlen(s));
}

/* The next frame the client wrote: checks it is masked and returns it unmasked (caller frees). */
static uint8_t *cli_frame(struct mem *m, struct ws_frame_hdr *h)
{
	uint8_t *p;
	int n;

	n = ws_frame_parse((uint8_t *)m->out.data + m->out_pos, m->out.len - m->out_pos, h);
	CHECK(n > 0);
	if (n <= 0 || h->len > m->out.len - m->out_pos - (size_t)n)
		return NULL;
	CHECK(h->masked && h->fin);
	p = malloc(h->len + 1);
	memcpy(p, m->out.data + m->out_pos + n, h->len);
	p[h->len] = 0;
	ws_mask(p, h->len, h->mask, 0);
	m->out_pos += (size_t)n + h->len;
	return p;
}

/* Check the next client frame is a close with this code (0: empty payload). */
static void check_cli_close(struct mem *m, uint16_t code, const char *reason)
{
	struct ws_frame_hdr h = {0};
	_cleanup_free_ uint8_t *p = cli_frame(m, &h);

	CHECK(p && h.opcode == WS_OP_CLOSE);
	if (!p)
		return;
	if (code == 0) {
		CHECK(h.len == 0);
		return;
	}
	CHECK(h.len == 2 + strlen(reason));
	CHECK((p[0] << 8 | p[1]) == code);
	CHECK(memcmp(p + 2, reason, strlen(reason)) == 0);
}

static struct ws *connected(struct mem *m, size_t max)
{
	struct coi_error err = {0};
	struct ws *ws;
	const char *end;

	mem_init(m);
	m->reply = GOOD_REPLY;
	ws = mem_ws(m, max);
	CHECK(ws_handshake(ws, "localhost", "/1.0/events", &err) == 0);
	end = strstr(buf_str(&m->out), "\r\n\r\n");
	m->out_pos = end ? (size_t)(end - m->out.data) + 4 : 0;
	return ws;
}

static void test_accept_key(void)
{
	char accept[WS_ACCEPT_LEN + 1];

	/* the worked example of RFC 6455 section 1.3 */
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept) == 0);
	CHECK_STREQ(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_frame_lengths(void)
{
	static const struct {
		uint64_t len;
		size_t hdr;
	} cases[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {1ull << 40, 10}};
	const uint8_t mask[4] = {1, 2, 3, 4};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint8_t hdr[WS_FRAME_HDR_MAX];
		struct ws_frame_hdr h = {0};
		size_t n = ws_frame_encode(hdr, true, WS_OP_BINARY, NULL, cases[i].len);

		CHECK(n == cases[i].hdr);
		CHECK(ws_frame_parse(hdr, n, &h) == (int)n);
		CHECK(h.len == cases[i].len && h.fin && !h.masked && h.opcode == WS_OP_BINARY);
		/* every shorter prefix asks for more */
		for (size_t k = 0; k < n; k++)
			CHECK(ws_frame_parse(hdr, k, &h) == 0);
		n = ws_frame_encode(hdr, false, WS_OP_TEXT, mask, cases[i].len);
		CHECK(n == cases[i].hdr + 4);
		CHECK(ws_frame_parse(hdr, n, &h) == (int)n);
		CHECK(h.masked && !h.fin && memcmp(h.mask, mask, 4) == 0 && h.len == cases[i].len);
	}
}

static void test_frame_violations(void)
{
	static const struct {
		uint8_t b[10];
		size_t n;
	} bad[] = {
	        {{0xc1, 0x00}, 2},                             /* RSV1 */
	        {{0x91, 0x00}, 2},                             /* RSV3 */
	        {{0x83, 0x00}, 2},                             /* opcode 3 */
	        {{0x8b, 0x00}, 2},                             /* opcode 0xB */
	        {{0x09, 0x00}, 2},                             /* fragmented ping */
	        {{0x89, 0x7e, 0x00, 0x7e}, 4},                 /* ping of 126 */
	        {{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1}, 10}, /* top length bit */
	};
	struct ws_frame_hdr h;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		CHECK(ws_frame_parse(bad[i].b, bad[i].n, &h) == -EPROTO);
	/* lenient: a non-minimal 16-bit length is accepted */
	CHECK(ws_frame_parse((const uint8_t[]){0x82, 0x7e, 0x00, 0x05}, 4, &h) == 4 && h.len == 5);
	CHECK(ws_frame_parse((const uint8_t[]){0x88, 0x7d}, 2, &h) == 2 && h.len == 125);
}

static void test_handshake_good(void)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	struct mem m;
	struct ws *ws;
	char key[64] = "";
	const char *k;
	uint8_t raw[64];

	mem_init(&m);
	m.reply = GOOD_REPLY;
	srv_frame(&m, true, WS_OP_TEXT, "early"); /* arrives in the same read as the headers */
	ws = mem_ws(&m, 0);
	CHECK(ws_handshake(ws, "incus.local", "/1.0/operations/abc/websocket?secret=s3", &err) ==
	      0);
	CHECK(strncmp(m.out.data, "GET /1.0/operations/abc/websocket?secret=s3 HTTP/1.1\r\n", 54) ==
	      0);
	CHECK(strstr(m.out.data, "\r\nHost: incus.local\r\n"));
	CHECK(strstr(m.out.data, "\r\nUpgrade: websocket\r\n"));
	CHECK(strstr(m.out.data, "\r\nConnection: Upgrade\r\n"));
	CHECK(strstr(m.out.data, "\r\nSec-WebSocket-Version: 13\r\n"));
	k = strstr(m.out.data, "Sec-WebSocket-Key: ");
	CHECK(k && sscanf(k, "Sec-WebSocket-Key: %63[^\r]", key) == 1);
	CHECK(strlen(key) == 24 && strcmp(key + 22, "==") == 0);
	CHECK(EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18); /* 16 bytes + padding */
	CHECK(ws_recv(ws, &msg, 0, &err) == 0);
	CHECK(msg.op == WS_OP_TEXT && msg.len == 5);
	CHECK_STREQ(msg.data, "early");
	ws_message_release(&msg);
	CHECK(ws_recv(ws, &msg, 0, &err) == -EAGAIN);
	ws_free(ws);
	mem_release(&m);
}

static int handshake_with(const char *reply, bool eof, struct coi_error *err)
{
	struct mem m;
	struct ws *ws;
	int r;

	mem_init(&m);
	m.reply = reply;
	m.eof = eof;
	ws = mem_ws(&m, 0);
	r = ws_handshake(ws, "localhost", "/1.0/events", err);
	ws_free(ws);
	mem_release(&m);
	return r;
}

static void test_handshake_bad(void)
{
	_cleanup_buf_ struct buf big = BUF_INIT(1 << 20);
	struct coi_error err = {0};

	CHECK(handshake_with(
	              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	              "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
	              false, &err) == -EPROTO);
	CHECK(strstr(err.msg, "Sec-WebSocket-Accept"));
	CHECK(handshake_with("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false, &err) ==
	      -EPROTO);
	CHECK(strstr(err.msg, "404 Not Found"));
	CHECK(handshake_with("HTTP/1.1 1010 Nope\r\n\r\n", false, &err) == -EPROTO);
	CHECK(handshake_with("HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: %s\r\n\r\n", false, &err) ==
	      -EPROTO); /* no Upgrade/Connection */
	CHECK(handshake_with("HTTP/1.1 101 OK\r\nbroken header\r\n\r\n", false, &err) == -EPROTO);
	CHECK(handshake_with("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n", true, &err) ==
	      -ECONNRESET);
	CHECK(handshake_with("", false, &err) == -ETIMEDOUT); /* server never answers */
	/* headers that never end, and headers that end just past the ceiling */
	CHECK(buf_puts(&big, "HTTP/1.1 101 OK\r\n") == 0);
	while (big.len < WS_HANDSHAKE_MAX + 100)
		CHECK(buf_puts(&big,
		               "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n") == 0);
	CHECK(handshake_with(buf_str(&big), false, &err) == -E2BIG);
	CHECK(buf_puts(&big, "\r\n") == 0);
	CHECK(handshake_with(buf_str(&big), false, &err) == -E2BIG);
	/* a NUL inside the headers (found by fuzz-ws-frame) */
	{
		static const char nul_reply[] = "HTTP@b\0x 404 Not Found\r\nX: y\r\n\r\n";
		struct mem m;
		struct ws *ws;

		mem_init(&m);
		CHECK(buf_append(&m.in, nul_reply, sizeof(nul_reply) - 1) == 0);
		ws = mem_ws(&m, 0);
		CHECK(ws_handshake(ws, "localhost", "/", &err) == -EPROTO);
		ws_free(ws);
		mem_release(&m);
	}
	/* a CRLF in the path would inject headers */
	{
		struct mem m;
		struct ws *ws;

		mem_init(&m);
		ws = mem_ws(&m, 0);
		CHECK(ws_handshake(ws, "localhost", "/x\r\nEvil: 1", &err) == -EINVAL);
		CHECK(ws_handshake(ws, "local host", "/x", &err) == -EINVAL);
		CHECK(m.out.len == 0);
		ws_free(ws);
		mem_release(&m);
	}
}

/* One whole message of the given op and content, with timeout 0. */
static void check_recv(struct ws *ws, enum ws_opcode op, const void *data, size_t len)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	int r = ws_recv(ws, &msg, 0, &err);

	CHECK(r == 0);
	if (r != 0) {
		printf("# ws_recv: %d %s\n", r, err.msg);
		return;
	}
	CHECK(msg.op == op && msg.len == len);
	CHECK(msg.len == len && memcmp(msg.data, data, len) == 0);
	CHECK(msg.data[len] == '\0');
	ws_message_release(&msg);
}

static void test_recv_lengths(void)
{
	static const size_t sizes[] = {0, 5, 125, 126, 300, 65535, 65536, 70000};
	_cleanup_free_ uint8_t *data = malloc(70000);
	struct mem m;
	struct ws *ws = connected(&m, 100000);

	for (size_t i = 0; i < 70000; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
		srv_frame_ex(&m.in, true, WS_OP_BINARY, 0, NULL, data, sizes[i]);
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
		check_recv(ws, WS_OP_BINARY, data, sizes[i]);
	ws_free(ws);
	mem_release(&m);
}

static void test_send_masking(void)
{
	static const size_t sizes[] = {5, 200, 70000};
	_cleanup_free_ uint8_t *data = malloc(70000);
	struct coi_error err = {0};
	uint8_t first_mask[4] = {0};
	struct mem m;
	struct ws *ws = connected(&m, 0);

	memset(data, 'a', 70000);
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		struct ws_frame_hdr h = {0};
		size_t at = m.out_pos, hdr_len;
		_cleanup_free_ uint8_t *p = NULL;

		CHECK(ws_send(ws, WS_OP_BINARY, data, sizes[i], &err) == 0);
		hdr_len = m.out.len - at - sizes[i];
		CHECK(hdr_len == (sizes[i] < 126 ? 6u : sizes[i] < 65536 ? 8u : 14u));
		p = cli_frame(&m, &h);
		CHECK(p && h.opcode == WS_OP_BINARY && h.len == sizes[i]);
		CHECK(p && memcmp(p, data, sizes[i]) == 0);
		/* the wire carries the masked bytes (RFC 6455 5.3, checked without ws_mask) */
		for (size_t j = 0; j < sizes[i]; j++)
			if (((uint8_t)m.out.data[at + hdr_len + j] ^ h.mask[j % 4]) != data[j]) {
				CHECK(!"payload byte masked wrongly");
				break;
			}
		if (memcmp(h.mask, "\0\0\0\0", 4) != 0)
			CHECK(memcmp(m.out.data + at + hdr_len, data, 4) != 0);
		if (i == 0)
			memcpy(first_mask, h.mask, 4);
		else
			CHECK(memcmp(first_mask, h.mask, 4) != 0); /* a fresh mask per frame */
	}
	CHECK(ws_send(ws, WS_OP_PING, data, 126, &err) == -EINVAL);
	CHECK(ws_send(ws, WS_OP_CLOSE, data, 2, &err) == -EINVAL);
	CHECK(ws_send(ws, WS_OP_CONT, data, 2, &err) == -EINVAL);
	ws_free(ws);
	mem_release(&m);
}

static void check_cli_pong(struct mem *m, const char *payload)
{
	struct ws_frame_hdr h = {0};
	_cleanup_free_ uint8_t *p = cli_frame(m, &h);

	CHECK(p && h.opcode == WS_OP_PONG && h.len == strlen(payload));
	CHECK(p && strcmp((char *)p, payload) == 0);
}

static void test_fragmentation(void)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	struct mem m;
	struct ws *ws = connected(&m, 0);

	srv_frame(&m, false, WS_OP_TEXT, "Hel");
	srv_frame(&m, true, WS_OP_PING, "p1");
	srv_frame(&m, false, WS_OP_CONT, "lo, ");
	srv_frame(&m, true, WS_OP_PONG, "unsolicited");
	srv_frame(&m, true, WS_OP_CONT, "world");
	check_recv(ws, WS_OP_TEXT, "Hello, world", 12);
	check_cli_pong(&m, "p1");
	CHECK(m.out_pos == m.out.len);
	/* a lone ping: answered, and no message comes of it */
	srv_frame(&m, true, WS_OP_PING, "");
	CHECK(ws_recv(ws, &msg, 0, &err) == -EAGAIN);
	check_cli_pong(&m, "");
	ws_free(ws);
	mem_release(&m);
}

static void test_close_from_server(void)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	struct mem m;
	struct ws *ws = connected(&m, 0);
	const uint8_t close[] = {0x03, 0xe9, 'b', 'y', 'e'};

	srv_frame_ex(&m.in, true, WS_OP_CLOSE, 0, NULL, close, sizeof(close));
	srv_frame(&m, true, WS_OP_TEXT, "after close"); /* ignored */
	CHECK(ws_recv(ws, &msg, 0, &err) == WS_CLOSED);
	CHECK(msg.op == WS_OP_CLOSE && msg.close_code == 1001);
	CHECK_STREQ(msg.data, "bye");
	ws_message_release(&msg);
	CHECK(ws_peer_closed(ws));
	check_cli_close(&m, 1001, ""); /* the code is echoed */
	CHECK(ws_recv(ws, &msg, 0, &err) == WS_CLOSED && msg.close_code == 1001);
	ws_message_release(&msg);
	CHECK(ws_send(ws, WS_OP_TEXT, "x", 1, &err) == -EPIPE);
	CHECK(ws_close(ws, WS_CLOSE_NORMAL, NULL, &err) == 0);
	CHECK(m.out_pos == m.out.len); /* no second close */
	ws_free(ws);
	mem_release(&m);

	/* a code that must not be on the wire is reported, but answered with 1002 */
	ws = connected(&m, 0);
	srv_frame_ex(&m.in, true, WS_OP_CLOSE, 0, NULL, "\x03\xee", 2);
	CHECK(ws_recv(ws, &msg, 0, &err) == WS_CLOSED && msg.close_code == 1006);
	ws_message_release(&msg);
	check_cli_close(&m, WS_CLOSE_PROTOCOL, "");
	ws_free(ws);
	mem_release(&m);

	/* an empty close: reported as 1005, answered with an empty close */
	ws = connected(&m, 0);
	srv_frame(&m, true, WS_OP_CLOSE, "");
	CHECK(ws_recv(ws, &msg, 0, &err) == WS_CLOSED && msg.close_code == WS_CLOSE_NO_STATUS);
	CHECK(msg.len == 0);
	ws_message_release(&msg);
	check_cli_close(&m, 0, NULL);
	ws_free(ws);
	mem_release(&m);
}

static void test_close_from_client(void)
{
	struct coi_error err = {0};
	struct mem m;
	struct ws *ws = connected(&m, 0);

	srv_frame(&m, true, WS_OP_TEXT, "still in flight"); /* dropped by ws_close */
	srv_frame_ex(&m.in, true, WS_OP_CLOSE, 0, NULL, "\x03\xe8", 2);
	CHECK(ws_close(ws, WS_CLOSE_NORMAL, "done", &err) == 0);
	check_cli_close(&m, 1000, "done");
	CHECK(m.out_pos == m.out.len); /* the peer's close is not answered twice */
	ws_free(ws);
	mem_release(&m);

	/* the peer never answers: bounded wait */
	ws = connected(&m, 0);
	CHECK(ws_close(ws, WS_CLOSE_GOING_AWAY, NULL, &err) == -ETIMEDOUT);
	check_cli_close(&m, 1001, "");
	ws_free(ws);
	mem_release(&m);

	ws = connected(&m, 0);
	{
		char reason[200];

		memset(reason, 'r', sizeof(reason) - 1);
		reason[sizeof(reason) - 1] = 0;
		CHECK(ws_close(ws, WS_CLOSE_NORMAL, reason, &err) == -EINVAL);
		CHECK(ws_close(ws, WS_CLOSE_NO_STATUS, NULL, &err) == -EINVAL);
		CHECK(ws_close(ws, 999, NULL, &err) == -EINVAL);
		CHECK(m.out_pos == m.out.len); /* nothing sent */
	}
	ws_free(ws);
	mem_release(&m);
}

static void test_oversize(void)
{
	_cleanup_free_ uint8_t *big = calloc(1, 200);
	struct coi_error err = {0};
	struct ws_message msg = {0};
	struct mem m;
	struct ws *ws;

	ws = connected(&m, 100);
	srv_frame_ex(&m.in, true, WS_OP_BINARY, 0, NULL, big, 100);
	srv_frame_ex(&m.in, true, WS_OP_BINARY, 0, NULL, big, 101);
	check_recv(ws, WS_OP_BINARY, big, 100); /* exactly the ceiling is fine */
	CHECK(ws_recv(ws, &msg, 0, &err) == -E2BIG);
	check_cli_close(&m, WS_CLOSE_TOO_BIG, "");
	CHECK(ws_recv(ws, &msg, 0, &err) == -E2BIG); /* final */
	ws_free(ws);
	mem_release(&m);

	/* fragments that add up past the ceiling; the length alone decides, before the payload */
	ws = connected(&m, 100);
	srv_frame_ex(&m.in, false, WS_OP_TEXT, 0, NULL, big, 60);
	srv_frame_ex(&m.in, true, WS_OP_CONT, 0, NULL, big, 41);
	m.in.len -= 41;
	CHECK(ws_recv(ws, &msg, 0, &err) == -E2BIG);
	check_cli_close(&m, WS_CLOSE_TOO_BIG, "");
	ws_free(ws);
	mem_release(&m);

	/* a 64-bit length claim fails at once, nothing is allocated for it */
	ws = connected(&m, 0);
	CHECK(buf_append(&m.in, (const uint8_t[]){0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0},
	                 10) == 0);
	CHECK(ws_recv(ws, &msg, 0, &err) == -E2BIG);
	ws_free(ws);
	mem_release(&m);
}

/* Raw server bytes after a good handshake must fail with -EPROTO and a 1002 close. */
static void check_protocol_error(const void *raw, size_t n, const char *what)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	struct mem m;
	struct ws *ws = connected(&m, 0);
	int r;

	CHECK(buf_append(&m.in, raw, n) == 0);
	r = ws_recv(ws, &msg, 0, &err);
	if (r != -EPROTO)
		printf("# %s: got %d '%s'\n", what, r, err.msg);
	CHECK(r == -EPROTO);
	check_cli_close(&m, WS_CLOSE_PROTOCOL, "");
	CHECK(ws_recv(ws, &msg, 0, &err) == -EPROTO);
	CHECK(ws_send(ws, WS_OP_TEXT, "x", 1, &err) == -EPIPE);
	ws_free(ws);
	mem_release(&m);
}

static void test_protocol_errors(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	const uint8_t mask[4] = {9, 8, 7, 6};
	uint8_t long_ping[130] = {0x89, 126, 0, 126};

	srv_frame_ex(&b, true, WS_OP_TEXT, 0, mask, "masked", 6);
	check_protocol_error(b.data, b.len, "server-masked frame");
	check_protocol_error("\xc1\x01x", 3, "RSV1");
	check_protocol_error("\xa1\x01x", 3, "RSV2");
	check_protocol_error("\x83\x01x", 3, "opcode 3");
	check_protocol_error("\x8f\x00", 2, "opcode 15");
	check_protocol_error("\x09\x00", 2, "fragmented ping");
	check_protocol_error(long_ping, sizeof(long_ping), "ping of 126 bytes");
	check_protocol_error("\x80\x01x", 3, "continuation without a message");
	check_protocol_error("\x01\x01x\x81\x01y", 6, "text inside a fragmented text");
	check_protocol_error("\x88\x01x", 3, "close with 1 byte");
	check_protocol_error("\x82\x7f\x80\0\0\0\0\0\0\0", 10, "length with the top bit");
}

static void test_trickle(void)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	const char *want[] = {"first", "second part", "third"};
	size_t got = 0;
	struct mem m;
	struct ws *ws;

	mem_init(&m);
	m.reply = GOOD_REPLY;
	m.trickle = true;
	ws = mem_ws(&m, 0);
	CHECK(ws_handshake(ws, "localhost", "/", &err) == 0);
	srv_frame(&m, true, WS_OP_TEXT, "first");
	srv_frame(&m, false, WS_OP_TEXT, "second");
	srv_frame(&m, true, WS_OP_PING, "pp");
	srv_frame(&m, true, WS_OP_CONT, " part");
	srv_frame(&m, true, WS_OP_TEXT, "third");
	for (int i = 0; i < 1000 && got < ELEMENTSOF(want); i++) {
		int r = ws_recv(ws, &msg, 0, &err);

		if (r == -EAGAIN)
			continue;
		CHECK(r == 0);
		if (r != 0)
			break;
		CHECK_STREQ(msg.data, want[got]);
		got++;
		ws_message_release(&msg);
	}
	CHECK(got == ELEMENTSOF(want));
	CHECK(m.eagains > 40);
	CHECK(ws_recv(ws, &msg, 0, &err) == -EAGAIN);
	m.out_pos = (size_t)(strstr(m.out.data, "\r\n\r\n") - m.out.data) + 4;
	check_cli_pong(&m, "pp");
	/* sends complete whole frames through short writes */
	{
		_cleanup_free_ uint8_t *p = NULL;
		struct ws_frame_hdr h = {0};
		char big[300];

		memset(big, 'z', sizeof(big));
		CHECK(ws_send(ws, WS_OP_TEXT, big, sizeof(big), &err) == 0);
		p = cli_frame(&m, &h);
		CHECK(p && h.len == sizeof(big) && memcmp(p, big, sizeof(big)) == 0);
		CHECK(m.out_pos == m.out.len);
	}
	ws_free(ws);
	mem_release(&m);
}

static void test_timeout_keeps_partial(void)
{
	_cleanup_buf_ struct buf frame = BUF_INIT(4096);
	struct coi_error err = {0};
	struct ws_message msg = {0};
	struct mem m;
	struct ws *ws = connected(&m, 0);

	srv_frame_ex(&frame, true, WS_OP_TEXT, 0, NULL, "partial frame", 13);
	CHECK(ws_recv(ws, &msg, 0, &err) == -EAGAIN);
	CHECK(ws_recv(ws, &msg, 50, &err) == -ETIMEDOUT);
	CHECK(buf_append(&m.in, frame.data, 1) == 0); /* half a header */
	CHECK(ws_recv(ws, &msg, 0, &err) == -EAGAIN);
	CHECK(buf_append(&m.in, frame.data + 1, 7) == 0); /* header and some payload */
	CHECK(ws_recv(ws, &msg, 20, &err) == -ETIMEDOUT);
	CHECK(buf_append(&m.in, frame.data + 8, frame.len - 8) == 0);
	check_recv(ws, WS_OP_TEXT, "partial frame", 13);
	/* the stream ends inside a frame */
	CHECK(buf_append(&m.in, frame.data, 5) == 0);
	m.eof = true;
	CHECK(ws_recv(ws, &msg, 0, &err) == -ECONNRESET);
	ws_free(ws);
	mem_release(&m);
}

/* ---- over a real socketpair, with poll() as wait ---- */

static ssize_t fd_send(void *ctx, const void *p, size_t n)
{
	ssize_t k = send(*(int *)ctx, p, n, MSG_NOSIGNAL);

	return k < 0 ? -errno : k;
}

static ssize_t fd_recv(void *ctx, void *p, size_t n)
{
	ssize_t k = recv(*(int *)ctx, p, n, 0);

	return k < 0 ? -errno : k;
}

static int fd_wait(void *ctx, bool for_write, int timeout_ms)
{
	struct pollfd pfd = {.fd = *(int *)ctx, .events = for_write ? POLLOUT : POLLIN};
	int r = poll(&pfd, 1, timeout_ms);

	return r < 0 ? -errno : r;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child: a minimal server that answers the handshake, sends "hello" in two writes, a ping,
 * then a close, and checks the pong and the close answer. Exit status 0 when all was well. */
static int child_server(int fd)
{
	char req[4096] = "", key[64] = "", accept[WS_ACCEPT_LEN + 1], reply[512];
	struct buf b = BUF_INIT(4096);
	uint8_t back[64];
	size_t n = 0;
	ssize_t k;

	while (!strstr(req, "\r\n\r\n") && n < sizeof(req) - 1) {
		k = read(fd, req + n, sizeof(req) - 1 - n);
		if (k <= 0)
			return 1;
		n += (size_t)k;
	}
	if (!strstr(req, "Sec-WebSocket-Key: ") ||
	    sscanf(strstr(req, "Sec-WebSocket-Key: "), "Sec-WebSocket-Key: %63[^\r]", key) != 1 ||
	    ws_accept_key(key, accept) < 0)
		return 2;
	snprintf(reply, sizeof(reply), GOOD_REPLY, accept);
	srv_frame_ex(&b, true, WS_OP_TEXT, 0, NULL, "hello", 5);
	if (write(fd, reply, strlen(reply)) < 0 || write(fd, b.data, 4) < 0)
		return 3;
	usleep(30000);
	if (write(fd, b.data + 4, b.len - 4) < 0)
		return 3;
	buf_reset(&b);
	srv_frame_ex(&b, true, WS_OP_PING, 0, NULL, "pi", 2);
	srv_frame_ex(&b, true, WS_OP_CLOSE, 0, NULL, "\x03\xe8", 2);
	if (write(fd, b.data, b.len) < 0)
		return 3;
	/* pong (2+4+2) and close (2+4+2) come back masked */
	for (n = 0; n < 16; n += (size_t)k) {
		k = read(fd, back + n, sizeof(back) - n);
		if (k <= 0)
			return 4;
	}
	buf_release(&b);
	return back[0] == 0x8a && back[8] == 0x88 ? 0 : 5;
}

static void test_socketpair(void)
{
	struct coi_error err = {0};
	struct ws_message msg = {0};
	int sv[2], status = -1;
	struct ws_io io = {.send = fd_send, .recv = fd_recv, .wait = fd_wait, .ctx = &sv[0]};
	struct ws *ws;
	int64_t t0;
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
	/* a timeout on an idle socket really waits */
	ws = ws_new(&io, 0);
	t0 = mono_ms();
	CHECK(ws_recv(ws, &msg, 60, &err) == -ETIMEDOUT);
	CHECK(mono_ms() - t0 >= 50);
	ws_free(ws);

	CHECK(fcntl(sv[1], F_SETFL, 0) == 0); /* the child blocks */
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(child_server(sv[1]));
	}
	close(sv[1]);
	ws = ws_new(&io, 0);
	CHECK(ws_handshake(ws, "localhost", "/1.0/operations/x/websocket", &err) == 0);
	CHECK(ws_recv(ws, &msg, 2000, &err) == 0);
	CHECK(msg.len == 5 && strcmp(msg.data, "hello") == 0);
	ws_message_release(&msg);
	CHECK(ws_recv(ws, &msg, 2000, &err) == WS_CLOSED && msg.close_code == 1000);
	ws_message_release(&msg);
	ws_free(ws);
	close(sv[0]); /* before waiting: a child still reading sees EOF */
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	RUN(test_accept_key);
	RUN(test_frame_lengths);
	RUN(test_frame_violations);
	RUN(test_handshake_good);
	RUN(test_handshake_bad);
	RUN(test_recv_lengths);
	RUN(test_send_masking);
	RUN(test_fragmentation);
	RUN(test_close_from_server);
	RUN(test_close_from_client);
	RUN(test_oversize);
	RUN(test_protocol_errors);
	RUN(test_trickle);
	RUN(test_timeout_keeps_partial);
	RUN(test_socketpair);
	CHECK(ws_free(NULL) == NULL);
	return tap_done();
}
