/* SPDX-License-Identifier: MIT */
/* exec-ws.c: exec over Incus's websocket protocol. The exec operation offers one websocket per
 * stream (non-interactive: stdin, stdout, stderr; interactive: one bidirectional pty stream) and
 * a control websocket for window-resize and signals. Data travels as binary messages; an empty
 * text message (a "barrier") or a close frame ends a stream. One poll loop, no threads: local
 * stdin -> stream 0, streams 1/2 (or 0) -> local fds or capture buffers, signals from a signalfd
 * (SIGWINCH -> resize; SIGINT/SIGTERM/SIGHUP/SIGQUIT -> forwarded). The local terminal is put in
 * raw mode for a pty and restored on every way out. The exit status is the operation's "return".
 *
 * A forwarded signal may never be acted on: the command ignores it, or the container is frozen
 * (the monitor paused it) and nothing in it runs. So a second terminating signal, or none of the
 * streams ending within SIGNAL_GRACE_MS of the first, gives the command up (-ECANCELED): whoever
 * killed coi gets the session torn down instead of a process that waits for ever. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "incus/internal.h"
#include "incus/ws.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

#define CAPTURE_MAX_DEFAULT (16u << 20)
#define WS_MESSAGE_MAX      (1u << 20)
#define STDIN_CHUNK         65536
#define SIGNAL_GRACE_MS     5000

enum { S_STDIN, S_STDOUT, S_STDERR, S_CONTROL, _S_MAX };

static const char *const fd_keys[_S_MAX] = {"0", "1", "2", "control"};

struct exec_ws {
	struct incus_client *c;
	const struct incus_exec_opts *o;
	bool interactive, capture;
	struct incus_ws *ws[_S_MAX];
	bool eof[_S_MAX]; /* remote stream finished (or, for S_STDIN, local input done) */
	bool stdin_done;
	struct buf out, err;
	int sigfd;
	sigset_t oldmask;
	bool raw;
	struct termios saved;
	bool reader_gone;   /* a local output's reader went away (EPIPE): drop what comes */
	int first_signal;   /* the first terminating signal forwarded, 0: none yet */
	bool give_up;       /* a second one came */
	int64_t give_up_at; /* CLOCK_MONOTONIC ms after which the command is given up */
};

static void exec_ws_release(struct exec_ws *x)
{
	if (x->raw)
		(void)tcsetattr(x->o->stdin_fd, TCSAFLUSH, &x->saved);
	x->raw = false;
	if (x->sigfd >= 0) {
		close(x->sigfd);
		x->sigfd = -1;
		(void)sigprocmask(SIG_SETMASK, &x->oldmask, NULL);
	}
	for (int i = 0; i < _S_MAX; i++)
		x->ws[i] = incus_ws_free(x->ws[i]);
	buf_release(&x->out);
	buf_release(&x->err);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void term_size(const struct exec_ws *x, int *w, int *h)
{
	struct winsize ws = {0};

	if (ioctl(x->o->stdin_fd, TIOCGWINSZ, &ws) < 0 &&
	    ioctl(x->o->stdout_fd, TIOCGWINSZ, &ws) < 0)
		ws = (struct winsize){.ws_col = 80, .ws_row = 24};
	*w = ws.ws_col ? ws.ws_col : 80;
	*h = ws.ws_row ? ws.ws_row : 24;
}

static int control_send(struct exec_ws *x, json_t *msg)
{
	_cleanup_free_ char *s = msg ? json_encode(msg) : NULL;
	int r;

	json_decref(msg);
	if (!s || !x->ws[S_CONTROL])
		return -ENOMEM;
	r = ws_send(x->ws[S_CONTROL]->ws, WS_OP_TEXT, s, strlen(s), NULL);
	log_debug("incus: exec control %s: %d", s, r);
	return r;
}

static void send_resize(struct exec_ws *x)
{
	char w[16], h[16];
	int cols, rows;

	term_size(x, &cols, &rows);
	snprintf(w, sizeof(w), "%d", cols);
	snprintf(h, sizeof(h), "%d", rows);
	(void)control_send(x, json_pack("{s:s, s:{s:s, s:s}}", "command", "window-resize", "args",
	                                "width", w, "height", h));
}

static void send_signal(struct exec_ws *x, int sig)
{
	(void)control_send(x, json_pack("{s:s, s:i}", "command", "signal", "signal", sig));
}

/* The POST, then one websocket per fd the operation offers. */
static int exec_ws_start(struct exec_ws *x, const char *name, char **ret_op, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(x->c, "/1.0/instances/%s/exec", name);
	_cleanup_json_ json_t *body = NULL;
	struct incus_envelope e = {0};
	const json_t *fds;
	int r, w, h;

	r = incus_exec_body(x->o, x->interactive, true, false, &body, err);
	if (r < 0)
		return r;
	if (x->interactive) {
		json_t *env = json_object_get(body, "environment");
		const char *term = getenv("TERM");

		term_size(x, &w, &h);
		if (json_object_set_new(body, "width", json_integer(w)) < 0 ||
		    json_object_set_new(body, "height", json_integer(h)) < 0 ||
		    (!json_object_get(env, "TERM") &&
		     json_object_set_new(env, "TERM", json_string(term ? term : "xterm")) < 0))
			return coi_error_oom(err);
	}
	if (!path)
		return coi_error_oom(err);
	r = incus_call_nowait(x->c, "POST", path, body, &e, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot run '%s' in '%s'", x->o->argv[0], name);
	*ret_op = TAKE_PTR(e.operation);
	fds = json_get_path(e.metadata, "metadata.fds");
	/* control first: the command starts once the data streams are connected, and a quick one
	 * may be over (its operation gone) before a control socket connected after them */
	for (int k = 0; r >= 0 && k < _S_MAX; k++) {
		int i = (k + S_CONTROL) % _S_MAX;
		const char *secret = json_get_str(fds, fd_keys[i]);
		_cleanup_free_ char *esc = NULL, *wspath = NULL;

		if (!secret) {
			x->eof[i] = true;
			continue;
		}
		esc = incus_escape(x->c, secret);
		if (!esc || asprintf(&wspath, "%s/websocket?secret=%s", *ret_op, esc) < 0)
			r = coi_error_oom(err);
		else
			r = incus_ws_open(x->c, wspath, WS_MESSAGE_MAX, &x->ws[i], err);
	}
	incus_envelope_release(&e);
	if (r >= 0 && !x->ws[S_STDIN])
		r = coi_error_set(err, -EPROTO, "incus offered no stdin websocket for exec");
	return r;
}

/* A captured command is coi's own helper (readiness, a file check), not the user's: a signal
 * during it belongs to coi's handlers (the caller's interrupt flag, checked by the loop), never to
 * that command; taking it into a signalfd lost a Ctrl-C that came while a session started. */
static int setup_local(struct exec_ws *x, struct coi_error *err)
{
	sigset_t mask;
	struct termios raw;

	if (x->capture)
		return 0;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, &x->oldmask) < 0)
		return coi_error_errno(err, errno, "cannot block signals");
	x->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (x->sigfd < 0) {
		(void)sigprocmask(SIG_SETMASK, &x->oldmask, NULL);
		return coi_error_errno(err, errno, "cannot create a signalfd");
	}
	if (x->interactive && x->o->stdin_fd >= 0 && isatty(x->o->stdin_fd) &&
	    tcgetattr(x->o->stdin_fd, &x->saved) == 0) {
		raw = x->saved;
		cfmakeraw(&raw);
		if (tcsetattr(x->o->stdin_fd, TCSAFLUSH, &raw) == 0)
			x->raw = true;
	}
	return 0;
}

/* Local input: forward a chunk, or end the stream (a barrier) at EOF. */
static int on_stdin(struct exec_ws *x)
{
	char data[STDIN_CHUNK];
	ssize_t n = read(x->o->stdin_fd, data, sizeof(data));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		x->stdin_done = true;
		/* with a pty, the remote side ends the session; a barrier would close the tty */
		if (!x->interactive)
			(void)ws_send(x->ws[S_STDIN]->ws, WS_OP_TEXT, "", 0, NULL);
		return 0;
	}
	/* the command may be gone and its input closed: stop sending, keep reading */
	if (ws_send(x->ws[S_STDIN]->ws, WS_OP_BINARY, data, (size_t)n, NULL) < 0)
		x->stdin_done = true;
	return 0;
}

static void forward_terminating(struct exec_ws *x, int sig);

/* A local output whose reader went away (coi run ... | head) ends the command as a local pipeline
 * would: it gets SIGPIPE. What it writes meanwhile is dropped. */
static int deliver(struct exec_ws *x, int stream, const struct ws_message *m)
{
	bool to_err = stream == S_STDERR;

	if (x->capture)
		return buf_append(to_err ? &x->err : &x->out, m->data, m->len);
	if (x->reader_gone)
		return 0;
	if (write_all(to_err ? x->o->stderr_fd : x->o->stdout_fd, m->data, m->len) == -EPIPE) {
		x->reader_gone = true;
		if (!x->first_signal)
			forward_terminating(x, SIGPIPE);
	}
	return 0;
}

/* Everything buffered on one output websocket. A broken connection ends the stream like a
 * barrier: the daemon may drop a connection once the command is gone, after its data, and the
 * exit status comes from the operation anyway. */
static int on_stream(struct exec_ws *x, int stream, struct coi_error *err)
{
	for (;;) {
		struct ws_message m = {0};
		struct coi_error e = {0};
		int r = ws_recv(x->ws[stream]->ws, &m, 0, &e);

		if (r == -EAGAIN)
			return 0;
		if (r == 0 && m.op == WS_OP_BINARY && stream != S_CONTROL)
			r = deliver(x, stream, &m);
		else if (r != 0 || (m.op == WS_OP_TEXT && m.len == 0 && stream != S_CONTROL))
			x->eof[stream] = true;
		ws_message_release(&m);
		if (r == -E2BIG && x->capture)
			return coi_error_set(err, r, "command output is larger than %zu bytes",
			                     x->out.max);
		if (r < 0 && r != WS_CLOSED)
			log_debug("incus: exec stream %d ended: %s", stream, coi_error_message(&e));
		if (x->eof[stream])
			return 0;
	}
}

/* Forward a terminating signal: the first starts the grace period, a second ends it. */
static void forward_terminating(struct exec_ws *x, int sig)
{
	send_signal(x, sig);
	if (x->first_signal) {
		x->give_up = true;
		return;
	}
	x->first_signal = sig;
	x->give_up_at = clock_mono_ms() + SIGNAL_GRACE_MS;
	if (x->o->forwarded_signal)
		*x->o->forwarded_signal = sig;
}

static void on_signals(struct exec_ws *x)
{
	struct signalfd_siginfo si;

	while (read(x->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGWINCH)
			forward_terminating(x, (int)si.ssi_signo);
		else if (x->interactive)
			send_resize(x);
	}
}

/* A signal that came before setup_local() blocked them (the command was starting) only set the
 * client's interrupt flag, which nothing in the websocket loop looks at: it would be lost and the
 * command run its course. Forward it as SIGTERM, as if it had come a moment later. */
static void forward_early_interrupt(struct exec_ws *x)
{
	if (x->sigfd >= 0 && incus_interrupted() && !x->first_signal)
		forward_terminating(x, SIGTERM);
}

/* poll's timeout: none until a terminating signal was forwarded, then what is left of the grace */
static int grace_left(const struct exec_ws *x)
{
	int64_t left;

	if (!x->first_signal)
		return -1;
	left = x->give_up_at - clock_mono_ms();
	return left > 0 ? (int)left : 0;
}

static bool outputs_done(const struct exec_ws *x)
{
	if (x->interactive)
		return x->eof[S_STDIN];
	return x->eof[S_STDOUT] && x->eof[S_STDERR];
}

static int exec_ws_loop(struct exec_ws *x, struct coi_error *err)
{
	/* the handshakes may have read the first frames already: poll would not see them */
	for (int i = 0; i < _S_MAX; i++) {
		int r = x->ws[i] && (i != S_STDIN || x->interactive) ? on_stream(x, i, err) : 0;

		if (r < 0)
			return r;
	}
	while (!outputs_done(x)) {
		struct pollfd p[_S_MAX + 2];
		int src[_S_MAX + 2], n = 0, r = 0;

		for (int i = 0; i < _S_MAX; i++) {
			bool reads = i != S_STDIN || x->interactive;

			if (x->ws[i] && reads && !x->eof[i]) {
				src[n] = i;
				p[n++] = (struct pollfd){.fd = x->ws[i]->fd, .events = POLLIN};
			}
		}
		if (!x->stdin_done && x->o->stdin_fd >= 0) {
			src[n] = -1;
			p[n++] = (struct pollfd){.fd = x->o->stdin_fd, .events = POLLIN};
		}
		if (x->sigfd >= 0) {
			src[n] = -2;
			p[n++] = (struct pollfd){.fd = x->sigfd, .events = POLLIN};
		} else if (incus_interrupted()) {
			return coi_error_set(err, -ECANCELED, "interrupted");
		}
		if (x->give_up || (x->first_signal && grace_left(x) == 0))
			return coi_error_set(
			        err, -ECANCELED,
			        "the command did not end on %s (is the container frozen?): "
			        "giving it up",
			        strsignal(x->first_signal));
		if (poll(p, (nfds_t)n, grace_left(x)) < 0 && errno != EINTR)
			return coi_error_errno(err, errno, "poll");
		for (int i = 0; i < n && r >= 0; i++) {
			if (!p[i].revents)
				continue;
			if (src[i] == -1)
				r = on_stdin(x);
			else if (src[i] == -2)
				on_signals(x);
			else
				r = on_stream(x, src[i], err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int incus_exec_ws(struct incus_client *c, const char *name, const struct incus_exec_opts *o,
                  struct incus_exec_result *ret, struct coi_error *err)
{
	size_t max = o->capture_max ? o->capture_max : CAPTURE_MAX_DEFAULT;
	struct exec_ws x = {
	        .c = c, .o = o, .sigfd = -1, .out = BUF_INIT(max), .err = BUF_INIT(max)};
	_cleanup_free_ char *op_path = NULL;
	_cleanup_json_ json_t *op = NULL;
	json_t *status;
	int r;

	x.interactive = o->mode == INCUS_EXEC_INTERACTIVE;
	x.capture = o->mode == INCUS_EXEC_CAPTURE;
	r = exec_ws_start(&x, name, &op_path, err);
	if (r >= 0 && x.capture) {
		x.stdin_done = true; /* no input: end stdin at once */
		r = ws_send(x.ws[S_STDIN]->ws, WS_OP_TEXT, "", 0, err);
	}
	if (r >= 0)
		r = setup_local(&x, err);
	if (r >= 0) {
		forward_early_interrupt(&x);
		r = exec_ws_loop(&x, err);
	}
	/* the daemon finishes a pty session only when our side of it ends too */
	if (r >= 0 && x.interactive)
		(void)ws_send(x.ws[S_STDIN]->ws, WS_OP_TEXT, "", 0, NULL);
	if (r >= 0)
		r = incus_operation_poll(c, op_path, &(struct incus_wait){.timeout = -1}, &op, err);
	status = json_object_get(json_get_obj(op, "metadata"), "return");
	if (r >= 0 && !json_is_integer(status))
		r = coi_error_set(err, -EPROTO, "cannot run '%s' in '%s': %s", o->argv[0], name,
		                  json_get_str(op, "err") ? json_get_str(op, "err")
		                                          : "no exit status");
	if (r >= 0) {
		*ret = (struct incus_exec_result){.exit_status = (int)json_integer_value(status)};
		ret->out_len = x.out.len;
		ret->err_len = x.err.len;
		ret->out = buf_steal(&x.out);
		ret->err = buf_steal(&x.err);
		if (!ret->out || !ret->err) {
			incus_exec_result_release(ret);
			r = coi_error_oom(err);
		}
	}
	exec_ws_release(&x);
	return r < 0 ? r : 0;
}
