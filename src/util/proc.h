/* SPDX-License-Identifier: MIT */
/* proc.h: processes coi starts and watches: a pid's start time (so a recycled pid is not taken
 * for ours), pidfds, a detached child's streams, and the files of a session's processes under
 * ~/.coi/run/ (the owner, the monitor's pid, immutable flags, the refresher, the proxy's CA). */
#pragma once

#include <sys/types.h>

/* Field 22 of /proc/<pid>/stat into *ret. -ESRCH when the process is gone or a zombie, -EINVAL
 * when the file cannot be read as one. */
int proc_starttime(pid_t pid, unsigned long long *ret);

/* A pidfd for pid (close-on-exec), or a negative errno (-ESRCH: no such process). */
int proc_pidfd_open(pid_t pid);
/* Send sig to the process of pidfd: 0 or a negative errno (-ESRCH: it is gone). */
int proc_pidfd_signal(int pidfd, int sig);
/* Wait until the process of pidfd has exited (its pidfd readable), at most timeout_ms
 * milliseconds, a signal's interruption included: 0, -ETIMEDOUT, or a negative errno. */
int proc_pidfd_wait(int pidfd, int timeout_ms);

/* In a child that outlives coi: stdin, stdout and stderr on /dev/null, every other descriptor
 * closed (it must hold no caller's pipe open), SIGTERM back to its default. */
void proc_detach_streams(void);
/* The same, keeping fd keep as fd 3: 3, or -EBADF when it could not be kept (closed too). */
int proc_detach_streams_keep(int keep);

/* coi_dir()/run/NAME.SUFFIX, newly allocated; NULL when name is empty, has a '/' or starts with
 * '.', or memory runs out. The directory is not created (proc_run_dir_make()). */
char *proc_run_path(const char *name, const char *suffix);
/* mkdir -p coi_dir()/run, mode 0700: 0 or a negative errno. */
int proc_run_dir_make(void);
