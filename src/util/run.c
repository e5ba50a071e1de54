/* SPDX-License-Identifier: MIT */
/* run.c: a host program with pipes on its stdin, stdout and stderr, pumped with poll until both
 * outputs close or the deadline passes (run.h). */
#include "util/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"

extern char **environ;

struct child_io {
	int in, out, err; /* our ends of the pipes, -1 when closed */
	const char *script;
	size_t written, len;
	struct buf *outb, *errb;
};

static int pipe_read(int *fd, struct buf *b)
{
	char chunk[16384];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		(void)close(*fd);
		*fd = -1;
		return 0;
	}
	return b ? buf_append(b, chunk, (size_t)n) : 0;
}

static int pump_step(struct child_io *io, int timeout_ms)
{
	struct pollfd p[3] = {{.fd = io->in, .events = POLLOUT},
	                      {.fd = io->out, .events = POLLIN},
	                      {.fd = io->err, .events = POLLIN}};
	int r = poll(p, 3, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
		ssize_t n = write(io->in, io->script + io->written, io->len - io->written);

		if (n > 0)
			io->written += (size_t)n;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			io->written = io->len; /* the child went away; its status will say why */
		if (io->written == io->len) {
			(void)close(io->in);
			io->in = -1;
		}
	}
	if ((p[1].revents & (POLLIN | POLLHUP)) && (r = pipe_read(&io->out, io->outb)) < 0)
		return r;
	if ((p[2].revents & (POLLIN | POLLHUP)) && (r = pipe_read(&io->err, io->errb)) < 0)
		return r;
	return 0;
}

/* Feed the script, collect stdout and stderr, until both close or the deadline passes. */
static int pump(struct child_io *io, unsigned timeout_sec)
{
	struct timespec start, now;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (io->len == 0) {
		(void)close(io->in);
		io->in = -1;
	}
	while (r >= 0 && (io->out >= 0 || io->err >= 0)) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long)timeout_sec * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
		                                   (now.tv_nsec - start.tv_nsec) / 1000000);
		r = left <= 0 ? -ETIMEDOUT : pump_step(io, (int)left);
	}
	return r;
}

/* A child that exits before reading all of stdin must not kill coi with SIGPIPE: block it
 * while pumping (write then fails with EPIPE) and discard one that became pending. */
static int pump_nosigpipe(struct child_io *io, unsigned timeout_sec)
{
	static const struct timespec zero = {0, 0};
	sigset_t pipe_set, old;
	int r;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	r = pump(io, timeout_sec);
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
		;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			(void)close(fds[i]);
			fds[i] = -1;
		}
}

static int spawn(char *const *argv, int fds[6], pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int r;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE); /* coi ignores it (main.c); the programs it runs should not */
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -ENOMEM;
	}
	r = posix_spawnattr_setsigmask(&attr, &none);
	r = r ?: posix_spawnattr_setsigdefault(&attr, &dfl);
	r = r ?: posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = r ?: posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	r = r ?: posix_spawn_file_actions_adddup2(&fa, fds[3], 1);
	r = r ?: posix_spawn_file_actions_adddup2(&fa, fds[5], 2);
	r = r ?: posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* Start argv with pipes on its stdin, stdout and stderr; our ends go into io. */
static int start_child(char *const *argv, struct child_io *io, pid_t *ret_pid,
                       struct coi_error *err)
{
	int fds[6] = {-1, -1, -1, -1, -1, -1}, r = 0;

	for (int i = 0; i < 6 && r == 0; i += 2)
		if (pipe2(fds + i, O_CLOEXEC) < 0)
			r = -errno;
	if (r == 0)
		r = spawn(argv, fds, ret_pid);
	/* ours: stdin's write end, stdout's and stderr's read ends */
	io->in = fds[1], io->out = fds[2], io->err = fds[4];
	fds[1] = fds[2] = fds[4] = -1;
	close_all(fds, 6);
	if (r < 0) {
		int ends[3] = {io->in, io->out, io->err};

		close_all(ends, 3);
		return coi_error_errno(err, r, "cannot run '%s'", argv[0]);
	}
	return 0;
}

int run_capture(const struct run_opts *o, struct coi_error *err)
{
	const char *text = o->stdin_text ? o->stdin_text : "";
	struct child_io io = {.script = text, .len = strlen(text), .outb = o->out, .errb = o->errb};
	int status = 0, r;
	pid_t pid;

	r = start_child(o->argv, &io, &pid, err);
	if (r < 0)
		return r;
	r = pump_nosigpipe(&io, o->timeout_sec ? o->timeout_sec : 30);
	if (r < 0)
		(void)kill(pid, SIGKILL); /* our own child, stuck or unreadable */
	close_all((int[]){io.in, io.out, io.err}, 3);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -ETIMEDOUT)
		return coi_error_set(err, r, "'%s' did not finish in time", o->argv[0]);
	if (r == -E2BIG)
		return coi_error_set(err, r, "'%s' printed too much", o->argv[0]);
	if (r < 0)
		return coi_error_errno(err, r, "talking to '%s'", o->argv[0]);
	return status;
}
