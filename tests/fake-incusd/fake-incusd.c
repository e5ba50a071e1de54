/* SPDX-License-Identifier: MIT */
/* fake-incusd: a stand-in for the Incus daemon in unit and CLI tests. It listens on a unix socket
 * and replays one case file: a list of exchanges, each an expected request and a canned reply,
 * served strictly in order.
 *
 *	fake-incusd SOCKET CASE.json
 *
 * prints "ready" on stdout once it listens, serves until SIGTERM (or until every exchange was used
 * and the last connection closed, with "exit_when_done"), then exits 0 when every exchange was
 * used and no request was unexpected, else 1 with the reasons on stderr.
 *
 * A case file:
 *	{"exchanges": [
 *	  {"method": "GET", "path": "/1.0/instances/c1?project=default",
 *	   "body": {...},             expected JSON body: every member given must match (subset)
 *	   "raw_body": "text",        or the exact raw body
 *	   "sync": {...},             reply: a sync envelope with this metadata, or
 *	   "async": {...},            a 202 async envelope with this operation metadata, or
 *	   "error": "text", "error_code": 404,   an error envelope, or
 *	   "raw": "text",             a raw body
 *	   "status": 200,             HTTP status (defaults: 200, 202 for async, error_code)
 *	   "headers": {"X-Incus-type": "file"}}   reply headers
 *	]}
 * An async reply's operation is "/1.0/operations/" + metadata.id.
 *
 * A websocket exchange ("websocket": [...] instead of a reply) upgrades the connection and sends
 * the listed messages at once: {"binary": "text"}, {"text": "text"} (an empty text is Incus's
 * end-of-stream barrier), {"ping": ""}, {"close": 1000}, {"hangup": true} (close the connection
 * without a close frame), {"delay_ms": N} (pause the whole fake). "ws_expect": [{"binary": "..."},
 *{"text": ""}, ...] lists the messages the client must send on it (checked when it closes; JSON
 *text messages are compared as subsets); "ws_after": [...] messages are sent once all of them
 *arrived. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "incus/ws.h"

#define MAX_CONNS   8
#define REQUEST_MAX (64u << 20)

struct conn {
	int fd;
	char *in;
	size_t len, cap;
	const json_t *ws_expect; /* set once upgraded: what the client must send */
	const json_t *ws_after;  /* sent once ws_after_n (default: all) of ws_expect arrived */
	size_t ws_after_n;
	size_t ws_got; /* messages received so far */
	bool upgraded, hangup;
};

static volatile sig_atomic_t stop;
static json_t *exchanges;
static size_t next;
static int failures;

static void on_term(int sig)
{
	stop = sig;
}

/* Every member of want is in got with an equal value (objects compared recursively). */
static bool json_subset(const json_t *want, const json_t *got)
{
	const char *key;
	json_t *v;

	if (!json_is_object(want) || !json_is_object(got))
		return json_equal(want, got);
	json_object_foreach((json_t *)want, key, v) {
		if (!json_subset(v, json_object_get(got, key)))
			return false;
	}
	return true;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply(int fd, int status, const char *body, size_t len, const json_t *headers)
{
	char head[4096];
	size_t off;
	const char *key;
	json_t *v;

	off = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n",
	                       status, len);
	if (len > 0 && body[0] == '{' && !json_object_get(headers, "Content-Type"))
		off += (size_t)snprintf(head + off, sizeof(head) - off,
		                        "Content-Type: application/json\r\n");
	json_object_foreach((json_t *)headers, key, v) {
		off += (size_t)snprintf(head + off, sizeof(head) - off, "%s: %s\r\n", key,
		                        json_string_value(v) ? json_string_value(v) : "");
	}
	off += (size_t)snprintf(head + off, sizeof(head) - off, "\r\n");
	(void)(write_all(fd, head, off) < 0 || write_all(fd, body ? body : "", len) < 0);
}

static void reply_json(int fd, int status, json_t *env, const json_t *headers)
{
	char *s = json_dumps(env, JSON_COMPACT);

	reply(fd, status, s, strlen(s), headers);
	free(s);
	json_decref(env);
}

static void reply_error(int fd, int code, const char *msg)
{
	reply_json(fd, code,
	           json_pack("{s:s, s:s, s:i}", "type", "error", "error", msg, "error_code", code),
	           NULL);
}

static void answer(int fd, const json_t *x)
{
	const json_t *headers = json_object_get(x, "headers");
	int status = (int)json_integer_value(json_object_get(x, "status"));
	json_t *v;

	if ((v = json_object_get(x, "sync"))) {
		reply_json(fd, status ? status : 200,
		           json_pack("{s:s, s:s, s:i, s:O}", "type", "sync", "status", "Success",
		                     "status_code", 200, "metadata", v),
		           headers);
	} else if ((v = json_object_get(x, "async"))) {
		char op[512];
		const char *id = json_string_value(json_object_get(v, "id"));

		snprintf(op, sizeof(op), "/1.0/operations/%s", id ? id : "op");
		reply_json(fd, status ? status : 202,
		           json_pack("{s:s, s:s, s:i, s:s, s:O}", "type", "async", "status",
		                     "Operation created", "status_code", 100, "operation", op,
		                     "metadata", v),
		           headers);
	} else if ((v = json_object_get(x, "error"))) {
		int code = (int)json_integer_value(json_object_get(x, "error_code"));

		code = code ? code : 500;
		reply_json(fd, status ? status : code,
		           json_pack("{s:s, s:O, s:i}", "type", "error", "error", v, "error_code",
		                     code),
		           headers);
	} else {
		const char *raw = json_string_value(json_object_get(x, "raw"));

		raw = raw ? raw : "";
		reply(fd, status ? status : 200, raw, strlen(raw), headers);
	}
}

static bool body_matches(const json_t *x, const char *body, size_t len)
{
	const json_t *want = json_object_get(x, "body");
	const char *raw = json_string_value(json_object_get(x, "raw_body"));
	json_t *got;
	bool ok;

	if (raw)
		return strlen(raw) == len && memcmp(raw, body, len) == 0;
	if (!want)
		return true;
	got = json_loadb(body, len, 0, NULL);
	ok = got && json_subset(want, got);
	if (!ok)
		fprintf(stderr, "fake-incusd: body mismatch: got %.*s\n",
		        (int)(len > 2000 ? 2000 : len), body);
	json_decref(got);
	return ok;
}

static void ws_frame(int fd, enum ws_opcode op, const char *data, size_t len)
{
	uint8_t hdr[WS_FRAME_HDR_MAX];
	size_t n = ws_frame_encode(hdr, true, op, NULL, len);

	(void)(write_all(fd, (const char *)hdr, n) < 0 || write_all(fd, data, len) < 0);
}

static void ws_script(struct conn *c, const json_t *msgs)
{
	size_t i;
	json_t *m, *v;

	json_array_foreach(msgs, i, m) {
		if ((v = json_object_get(m, "binary")))
			ws_frame(c->fd, WS_OP_BINARY, json_string_value(v), json_string_length(v));
		else if ((v = json_object_get(m, "text")))
			ws_frame(c->fd, WS_OP_TEXT, json_string_value(v), json_string_length(v));
		else if ((v = json_object_get(m, "ping")))
			ws_frame(c->fd, WS_OP_PING, json_string_value(v), json_string_length(v));
		else if ((v = json_object_get(m, "close"))) {
			uint8_t code[2] = {(uint8_t)(json_integer_value(v) >> 8),
			                   (uint8_t)json_integer_value(v)};

			ws_frame(c->fd, WS_OP_CLOSE, (const char *)code, 2);
		} else if (json_is_true(json_object_get(m, "hangup"))) {
			c->hangup = true;
		} else if ((v = json_object_get(m, "delay_ms"))) {
			/* let the client's own messages arrive first (a command that reads stdin)
			 */
			usleep((useconds_t)json_integer_value(v) * 1000);
		}
	}
}

/* Upgrade and send the scripted messages. */
static void ws_answer(struct conn *c, const char *key, const json_t *x)
{
	char accept[WS_ACCEPT_LEN + 1], head[256];

	ws_accept_key(key, accept);
	snprintf(head, sizeof(head),
	         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Accept: %s\r\n\r\n",
	         accept);
	(void)write_all(c->fd, head, strlen(head));
	c->upgraded = true;
	c->ws_expect = json_object_get(x, "ws_expect");
	c->ws_after = json_object_get(x, "ws_after");
	c->ws_after_n = json_object_get(x, "ws_after_n")
	                        ? (size_t)json_integer_value(json_object_get(x, "ws_after_n"))
	                        : json_array_size(c->ws_expect);
	c->ws_got = 0;
	ws_script(c, json_object_get(x, "websocket"));
}

static bool ws_message_matches(const json_t *want, enum ws_opcode op, const char *p, size_t len)
{
	const json_t *v = json_object_get(want, op == WS_OP_TEXT ? "text" : "binary");
	json_t *got, *exp;
	bool ok;

	if (!v)
		return false;
	if (json_string_length(v) == len && memcmp(json_string_value(v), p, len) == 0)
		return true;
	/* JSON text (exec control messages): compare as a subset */
	exp = json_loads(json_string_value(v), 0, NULL);
	got = json_loadb(p, len, 0, NULL);
	ok = exp && got && json_subset(exp, got);
	json_decref(exp);
	json_decref(got);
	return ok;
}

/* Client frames on an upgraded connection; returns -1 when it closes. */
static int ws_serve(struct conn *c)
{
	for (;;) {
		struct ws_frame_hdr h;
		int n = ws_frame_decode((const uint8_t *)c->in, c->len, &h);
		const json_t *want;

		if (n < 0)
			return -1;
		if (n == 0 || c->len - (size_t)n < h.len)
			return 0;
		ws_mask((uint8_t *)c->in + n, (size_t)h.len, h.mask, 0);
		if (h.opcode == WS_OP_CLOSE) {
			ws_frame(c->fd, WS_OP_CLOSE, c->in + n, (size_t)(h.len < 2 ? h.len : 2));
			return -1;
		}
		if (h.opcode == WS_OP_TEXT || h.opcode == WS_OP_BINARY) {
			want = json_array_get(c->ws_expect, c->ws_got++);
			if (c->ws_expect &&
			    !ws_message_matches(want, h.opcode, c->in + n, (size_t)h.len)) {
				fprintf(stderr,
				        "fake-incusd: unexpected websocket message #%zu: %.*s\n",
				        c->ws_got - 1, (int)h.len, c->in + n);
				failures++;
			}
			if (c->ws_got == c->ws_after_n)
				ws_script(c, c->ws_after);
		}
		memmove(c->in, c->in + n + h.len, c->len - (size_t)n - h.len);
		c->len -= (size_t)n + h.len;
	}
}

static void ws_done(struct conn *c)
{
	if (c->ws_expect && c->ws_got < json_array_size(c->ws_expect)) {
		fprintf(stderr,
		        "fake-incusd: websocket closed after %zu of %zu expected messages\n",
		        c->ws_got, json_array_size(c->ws_expect));
		failures++;
	}
}

static void handle(struct conn *c, const char *method, const char *path, const char *body,
                   size_t len, const char *ws_key)
{
	int fd = c->fd;
	const json_t *x = json_array_get(exchanges, next);
	const char *m = json_string_value(json_object_get(x, "method"));
	const char *p = json_string_value(json_object_get(x, "path"));
	char msg[8400];

	if (!x || !m || !p || strcmp(m, method) != 0 || strcmp(p, path) != 0 ||
	    !body_matches(x, body, len)) {
		snprintf(msg, sizeof(msg),
		         "fake-incusd: unexpected request #%zu %s %s (expected %s %s)", next,
		         method, path, m ? m : "nothing", p ? p : "");
		fprintf(stderr, "%s\n", msg);
		failures++;
		reply_error(fd, 500, msg);
		return;
	}
	next++;
	if (json_object_get(x, "websocket") && ws_key)
		ws_answer(c, ws_key, x);
	else
		answer(fd, x);
}

/* Serves every complete request in the connection's buffer; returns -1 to close it. */
static int serve(struct conn *c)
{
	for (;;) {
		char *end, *cl;
		char method[16], path[4096], key[64] = "";
		size_t head, body_len = 0;

		if (c->upgraded)
			return c->hangup ? -1 : ws_serve(c);
		end = memmem(c->in, c->len, "\r\n\r\n", 4);
		if (!end)
			return 0;
		head = (size_t)(end - c->in) + 4;
		*end = '\0';
		if (sscanf(c->in, "%15s %4095s", method, path) != 2)
			return -1;
		for (cl = c->in; (cl = strchr(cl, '\n')) != NULL; cl++) {
			if (strncasecmp(cl + 1, "Content-Length:", 15) == 0)
				body_len = strtoul(cl + 16, NULL, 10);
			if (strncasecmp(cl + 1, "Sec-WebSocket-Key:", 18) == 0)
				sscanf(cl + 19, " %63[^\r\n]", key);
		}
		if (c->len < head + body_len) {
			*end = '\r';
			return 0;
		}
		handle(c, method, path, c->in + head, body_len, key[0] ? key : NULL);
		memmove(c->in, c->in + head + body_len, c->len - head - body_len);
		c->len -= head + body_len;
	}
}

static int conn_read(struct conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *p = cap <= REQUEST_MAX ? realloc(c->in, cap) : NULL;

		if (!p)
			return -1;
		c->in = p;
		c->cap = cap;
	}
	n = read(c->fd, c->in + c->len, c->cap - c->len - 1);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return serve(c);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return -1;
	return fd;
}

static void loop(int lfd, bool exit_when_done)
{
	struct conn conns[MAX_CONNS];
	size_t n = 0;

	while (!stop) {
		struct pollfd pfd[MAX_CONNS + 1] = {{.fd = lfd, .events = POLLIN}};

		for (size_t i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
		if (poll(pfd, n + 1, 200) < 0 && errno != EINTR) {
			perror("fake-incusd: poll");
			break;
		}
		for (size_t i = n; i-- > 0;) {
			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) ||
			    conn_read(&conns[i]) == 0)
				continue;
			ws_done(&conns[i]);
			close(conns[i].fd);
			free(conns[i].in);
			conns[i] = conns[--n];
		}
		if (pfd[0].revents & POLLIN && n < MAX_CONNS) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				conns[n++] = (struct conn){.fd = fd};
		}
		if (exit_when_done && n == 0 && next == json_array_size(exchanges))
			break;
	}
	while (n > 0) {
		close(conns[--n].fd);
		free(conns[n].in);
	}
}

int main(int argc, char **argv)
{
	json_error_t je;
	json_t *cases;
	int lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: fake-incusd SOCKET CASE.json\n");
		return 2;
	}
	cases = json_load_file(argv[2], 0, &je);
	exchanges = json_object_get(cases, "exchanges");
	if (!json_is_array(exchanges)) {
		fprintf(stderr, "fake-incusd: %s: %s (line %d)\n", argv[2],
		        cases ? "no exchanges array" : je.text, je.line);
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(argv[1]);
	if (lfd < 0) {
		perror("fake-incusd: listen");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	loop(lfd, json_is_true(json_object_get(cases, "exit_when_done")));
	close(lfd);
	(void)unlink(argv[1]);
	if (stop != SIGTERM)
		fprintf(stderr, "fake-incusd: stopped by %s\n",
		        stop ? strsignal(stop) : "end of work");
	if (next < json_array_size(exchanges)) {
		fprintf(stderr, "fake-incusd: %zu of %zu exchanges unused, next: %s %s\n",
		        json_array_size(exchanges) - next, json_array_size(exchanges),
		        json_string_value(
		                json_object_get(json_array_get(exchanges, next), "method")),
		        json_string_value(
		                json_object_get(json_array_get(exchanges, next), "path")));
		failures++;
	}
	json_decref(cases);
	return failures ? 1 : 0;
}
