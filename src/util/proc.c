/* SPDX-License-Identifier: MIT */
/* proc.c: see proc.h. */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/path.h"

int proc_starttime(pid_t pid, unsigned long long *ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	char path[64];
	const char *p;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, &b, NULL) < 0)
		return -ESRCH;
	p = strrchr(buf_str(&b), ')');
	if (!p)
		return -EINVAL;
	/* a zombie is dead, whatever its parent has not reaped yet */
	if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return -ESRCH;
	/* after "pid (comm)": state is field 3, starttime field 22 */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", ret) != 1)
		return -EINVAL;
	return 0;
}

int proc_pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

int proc_pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int proc_pidfd_wait(int pidfd, int timeout_ms)
{
	int64_t end = clock_mono_ms() + timeout_ms;

	for (;;) {
		int64_t left = end - clock_mono_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&(struct pollfd){.fd = pidfd, .events = POLLIN}, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int proc_detach_streams_keep(int keep)
{
	int high = keep >= 0 ? fcntl(keep, F_DUPFD_CLOEXEC, 3) : -1;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int fd = 0; null >= 0 && fd < 3; fd++)
		(void)dup2(null, fd);
	if (high > 3)
		high = dup2(high, 3);
	(void)close_range(high == 3 ? 4 : 3, ~0U, 0);
	signal(SIGTERM, SIG_DFL);
	return high == 3 ? 3 : -EBADF;
}

void proc_detach_streams(void)
{
	(void)proc_detach_streams_keep(-1);
}

char *proc_run_path(const char *name, const char *suffix)
{
	_cleanup_free_ char *dir = coi_dir();
	char *r;

	if (!name || !*name || strchr(name, '/') || name[0] == '.' || !dir ||
	    asprintf(&r, "%s/run/%s.%s", dir, name, suffix) < 0)
		return NULL;
	return r;
}

int proc_run_dir_make(void)
{
	_cleanup_free_ char *dir = coi_dir(), *run = NULL;

	if (!dir || !(run = path_join(dir, "run")))
		return -ENOMEM;
	return mkdir_p(run, 0700);
}
