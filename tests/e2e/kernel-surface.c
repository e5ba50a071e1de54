/* SPDX-License-Identifier: MIT */
/* kernel-surface.c: calls each system call that [security] reduce_kernel_surface (and _strict)
 * take away, with arguments the kernel rejects in its own way (EINVAL, EBADF, EFAULT, ...), so
 * the only route to EPERM is the container's seccomp policy. Built static, run in a test
 * container as code and as root. Prints "CALL ERRNO-NAME" per call ("CALL ok" if it succeeded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *call, long r)
{
	if (r >= 0) {
		printf("%s ok\n", call);
		close((int)r);
		return;
	}
	printf("%s %s\n", call, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
}

int main(void)
{
	/* 0 entries: EINVAL; a bad fd: EBADF; an unknown bpf command: EINVAL (before any
	 * permission check); unknown userfaultfd flags: EINVAL; an unknown keyctl operation:
	 * EOPNOTSUPP; a NULL key type: EFAULT; a NULL perf attribute: EFAULT. */
	report("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
	report("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	report("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
	report("bpf", syscall(SYS_bpf, 0x7fff, NULL, 0));
	report("userfaultfd", syscall(SYS_userfaultfd, ~0u));
	report("keyctl", syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0));
	report("add_key", syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
	report("request_key", syscall(SYS_request_key, NULL, NULL, NULL, 0));
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	return 0;
}
