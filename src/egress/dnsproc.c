/* SPDX-License-Identifier: MIT */
/* dnsproc.c: see dnsproc.h. The records cross a process boundary from the side that parses
 * untrusted packets, so they travel as a fixed-size struct of plain values, checked on arrival:
 * no pointer, no length the child chooses. */
#include "egress/dnsproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"

#define WIRE_MAGIC      0x636f6964u /* "coid" */
#define READY_MS        10000
#define RECORDS_SNDBUF  (2 << 20)
#define START_ERROR_MAX 512

struct wire {
	uint32_t magic;
	uint32_t lost;
	struct egress_dns_record r;
};

struct child {
	int fd, ready;
	uint32_t lost;
};

static void child_record(const struct egress_dns_record *r, void *u)
{
	struct child *c = u;
	struct wire w = {.magic = WIRE_MAGIC, .lost = c->lost, .r = *r};

	if (send(c->fd, &w, sizeof(w), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(w))
		c->lost = 0;
	else
		c->lost++; /* the supervisor is behind: say so in the next one */
}

static void child_ready(void *u)
{
	struct child *c = u;
	char ok = 0;

	if (write(c->ready, &ok, 1) != 1)
		_exit(1);
	close(c->ready);
	c->ready = -EBADF;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Every descriptor but these (the supervisor's lock, logs and sockets are not the filter's). */
static void close_others(int *keep, size_t n)
{
	unsigned from = 3;

	qsort(keep, n, sizeof(*keep), int_cmp);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 3 || (unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from)
			(void)close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	(void)close_range(from, ~0U, 0);
}

static _Noreturn void child_main(const struct egress_dns_opts *o, int fd, int ready, pid_t parent)
{
	struct child c = {.fd = fd, .ready = ready};
	struct egress_dns_opts co = *o;
	struct coi_error err = {0};
	int size = RECORDS_SNDBUF, keep[] = {fd, ready, o->udp_fd, o->tcp_fd};

	close_others(keep, ELEMENTSOF(keep));
	(void)prctl(PR_SET_NAME, "coi-dns");
	/* dies with the supervisor (the socket hanging up says so too, for the loop) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	co.stop_fd = fd;
	co.record = child_record;
	co.ready = child_ready;
	co.userdata = &c;
	if (egress_dns_run(&co, &err) < 0) {
		const char *m = coi_error_message(&err);

		/* before ready: the parent reads why; after: it sees the exit status */
		if (c.ready >= 0)
			(void)!write(c.ready, m, strnlen(m, START_ERROR_MAX - 1));
		_exit(1);
	}
	_exit(0);
}

/* The child's first word: 0 when it answers queries, else why it could not. */
static int wait_ready(int fd, struct coi_error *err)
{
	char msg[START_ERROR_MAX] = "";
	ssize_t n = 0;

	if (poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, READY_MS) == 1)
		n = read(fd, msg, sizeof(msg) - 1);
	if (n == 1 && msg[0] == 0)
		return 0;
	if (n > 0)
		return coi_error_set(err, -EIO, "the DNS filter did not start: %s", msg);
	return coi_error_set(err, -EIO, "the DNS filter did not start");
}

int egress_dns_spawn(const struct egress_dns_opts *o, pid_t *ret_pid, int *ret_pidfd,
                     int *ret_records, struct coi_error *err)
{
	_cleanup_close_ int rd = -EBADF, wr = -EBADF, mine = -EBADF, theirs = -EBADF, pfd = -EBADF;
	pid_t parent = getpid(), pid;
	int sp[2], rp[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return coi_error_errno(err, errno, "cannot start the DNS filter");
	mine = sp[0], theirs = sp[1];
	if (pipe2(rp, O_CLOEXEC) < 0)
		return coi_error_errno(err, errno, "cannot start the DNS filter");
	rd = rp[0], wr = rp[1];
	pid = fork();
	if (pid < 0)
		return coi_error_errno(err, errno, "cannot start the DNS filter");
	if (pid == 0) {
		close(mine);
		close(rd);
		child_main(o, theirs, wr, parent);
	}
	close(TAKE_FD(theirs));
	close(TAKE_FD(wr));
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	r = pfd < 0 ? coi_error_errno(err, errno, "cannot watch the DNS filter")
	            : wait_ready(rd, err);
	if (r < 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	(void)fcntl(mine, F_SETFL, O_NONBLOCK);
	*ret_pid = pid;
	*ret_pidfd = TAKE_FD(pfd);
	*ret_records = TAKE_FD(mine);
	return 0;
}

int egress_dns_read_record(int fd, struct egress_dns_record *ret, unsigned *ret_lost)
{
	for (;;) {
		struct wire w;
		ssize_t n = recv(fd, &w, sizeof(w), MSG_DONTWAIT);

		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EAGAIN ? 0 : errno == EINTR ? 0 : -EPIPE;
		if ((size_t)n != sizeof(w) || w.magic != WIRE_MAGIC ||
		    (unsigned)w.r.verdict >= _EGRESS_VERDICT_MAX)
			continue;
		w.r.name[sizeof(w.r.name) - 1] = '\0';
		w.r.why[sizeof(w.r.why) - 1] = '\0';
		if (w.r.n_addrs > DNS_ANSWER_ADDRS) /* (the first EGRESS_RECORD_ADDRS are there) */
			w.r.n_addrs = DNS_ANSWER_ADDRS;
		*ret = w.r;
		*ret_lost = w.lost;
		return 1;
	}
}

void egress_dns_exit_text(pid_t pid, char *out, size_t size)
{
	siginfo_t si = {0};

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid != pid)
		(void)snprintf(out, size, "ended");
	else if (si.si_code == CLD_EXITED)
		(void)snprintf(out, size, "exited with status %d", si.si_status);
	else
		(void)snprintf(out, size, "killed by signal %d (%s)", si.si_status,
		               strsignal(si.si_status));
}
