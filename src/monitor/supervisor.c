/* SPDX-License-Identifier: MIT */
/* supervisor.c: the detached monitor's pid file, and its NFLOG group. The supervisor holds an
 * exclusive lock on coi_dir()/run/<container>.pid for its whole life, so a pid file whose lock is
 * free is stale and its pid is never signalled (it may belong to another process by now). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/proc.h"

int monitor_supervisor_pidfile(const char *container, char **ret, struct coi_error *err)
{
	char *p;

	if (!container || !*container || strchr(container, '/') || container[0] == '.')
		return coi_error_set(err, -EINVAL, "invalid container name '%s'",
		                     container ? container : "");
	p = proc_run_path(container, "pid");
	if (!p)
		return coi_error_oom(err);
	*ret = p;
	return 0;
}

int monitor_supervisor_claim(const char *container, int *ret_fd, struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	char line[32];
	int r, n;

	r = monitor_supervisor_pidfile(container, &path, err);
	if (r < 0)
		return r;
	*strrchr(path, '/') = 0;
	r = mkdir_p(path, 0700);
	path[strlen(path)] = '/';
	if (r < 0)
		return coi_error_errno(err, r, "cannot create '%s'", path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return coi_error_set(err, -EEXIST, "a monitor for '%s' is already running",
		                     container);
	n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n)
		return coi_error_errno(err, errno, "cannot write '%s'", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int monitor_supervisor_find(const char *container, pid_t *ret_pid, struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	char line[32] = "";
	ssize_t n;
	int r;

	r = monitor_supervisor_pidfile(container, &path, err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		*ret_pid = 0;
		return 0;
	}
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", path);
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		/* Nobody holds it: stale. */
		(void)unlink(path);
		*ret_pid = 0;
		return 0;
	}
	n = pread(fd, line, sizeof(line) - 1, 0);
	if (n <= 0 || atoi(line) <= 0)
		return coi_error_set(err, -EBADMSG, "'%s' holds no pid", path);
	*ret_pid = (pid_t)atoi(line);
	return 0;
}

/* SIGTERM to container's supervisor, its pidfd into *ret_fd: 1, or 0 when none runs (or this
 * process is it: the supervisor ending its own session, max_duration, cleans up after itself). */
static int terminate(const char *container, int *ret_fd, struct coi_error *err)
{
	_cleanup_close_ int pfd = -EBADF;
	pid_t pid;
	int r = monitor_supervisor_find(container, &pid, err);

	if (r < 0 || pid == 0 || pid == getpid())
		return r;
	pfd = proc_pidfd_open(pid);
	if (pfd < 0)
		return pfd == -ESRCH ? 0 : coi_error_errno(err, pfd, "cannot reach pid %d", pid);
	r = proc_pidfd_signal(pfd, SIGTERM);
	if (r < 0 && r != -ESRCH)
		return coi_error_errno(err, r, "cannot stop the monitor (pid %d)", pid);
	*ret_fd = TAKE_FD(pfd);
	return 1;
}

void monitor_supervisor_signal(const char *container)
{
	_cleanup_close_ int pfd = -EBADF;

	(void)terminate(container, &pfd, NULL);
}

int monitor_supervisor_stop(const char *container, struct coi_error *err)
{
	_cleanup_close_ int pfd = -EBADF;
	_cleanup_free_ char *path = NULL;
	int r = terminate(container, &pfd, err);

	if (r <= 0)
		return r;
	/* (a second SIGTERM after monitor_supervisor_signal is one more of a signal it blocks and
	 * reads through a signalfd: nothing) */
	if (poll(&(struct pollfd){.fd = pfd, .events = POLLIN}, 1, 3000) == 0)
		(void)proc_pidfd_signal(pfd, SIGKILL);
	if (monitor_supervisor_pidfile(container, &path, NULL) >= 0)
		(void)unlink(path);
	return 1;
}

/* ---- NFLOG groups -------------------------------------------------------------------------- */

static bool group_bound(const char *text, unsigned g)
{
	/* one line a bound group: "<group> <portid> <qlen> <copy mode> ..." (decimal) */
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char *end;
		unsigned long v = strtoul(l, &end, 10);

		if (end != l && v == g)
			return true;
	}
	return false;
}

uint16_t monitor_nflog_group_free(const char *proc_text, uint16_t start)
{
	unsigned first = start - COI_NFLOG_GROUP_BASE;

	if (start < COI_NFLOG_GROUP_BASE || first >= COI_NFLOG_GROUP_COUNT)
		return start;
	for (unsigned i = 0; i < COI_NFLOG_GROUP_COUNT; i++) {
		unsigned g = COI_NFLOG_GROUP_BASE + (first + i) % COI_NFLOG_GROUP_COUNT;

		if (!group_bound(proc_text, g))
			return (uint16_t)g;
	}
	return start;
}

uint16_t monitor_nflog_group_pick(const char *container)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	uint16_t start = coi_nflog_group(container);

	if (read_file("/proc/net/netfilter/nfnetlink_log", &b, NULL) < 0)
		return start;
	return monitor_nflog_group_free(buf_str(&b), start);
}
