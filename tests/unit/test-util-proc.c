/* SPDX-License-Identifier: MIT */
/* test-util-proc.c: util/proc.h: start times, pidfds and the ~/.coi/run paths. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/proc.h"

static char dir[] = "/tmp/coi-t-proc-XXXXXX";

/* A child that is gone and reaped: its pid names no process (until reused, seconds away). */
static pid_t reaped_child(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	(void)waitpid(pid, NULL, 0);
	return pid;
}

static void test_starttime(void)
{
	unsigned long long a = 0, b = 0;

	CHECK(proc_starttime(getpid(), &a) == 0 && a > 0);
	CHECK(proc_starttime(getpid(), &b) == 0 && a == b);
	CHECK(proc_starttime(reaped_child(), &a) == -ESRCH);
}

static void test_zombie(void)
{
	unsigned long long t;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	/* not reaped yet: a zombie counts as gone */
	for (int i = 0; i < 200; i++) {
		if (proc_starttime(pid, &t) == -ESRCH)
			break;
		usleep(10000);
	}
	CHECK(proc_starttime(pid, &t) == -ESRCH);
	(void)waitpid(pid, NULL, 0);
}

static void test_pidfd(void)
{
	_cleanup_close_ int fd = -EBADF;
	int status;
	pid_t pid;

	fd = proc_pidfd_open(getpid());
	CHECK(fd >= 0);
	CHECK(proc_pidfd_open(reaped_child()) == -ESRCH);

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	{
		_cleanup_close_ int child = proc_pidfd_open(pid);

		CHECK(child >= 0);
		/* alive: the wait ends at its bound */
		CHECK(proc_pidfd_wait(child, 20) == -ETIMEDOUT);
		CHECK(proc_pidfd_signal(child, SIGKILL) == 0);
		/* readable once it has exited, even before its parent reaps it */
		CHECK(proc_pidfd_wait(child, 5000) == 0);
		CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
		      WTERMSIG(status) == SIGKILL);
		CHECK(proc_pidfd_signal(child, SIGKILL) == -ESRCH);
	}
}

static void test_run_path(void)
{
	_cleanup_free_ char *p = proc_run_path("coi-abc-1", "owner"), *want = NULL;
	struct stat st;

	CHECK(asprintf(&want, "%s/run/coi-abc-1.owner", dir) > 0);
	CHECK_STREQ(p, want);
	CHECK(proc_run_path("", "owner") == NULL);
	CHECK(proc_run_path("../x", "owner") == NULL);
	CHECK(proc_run_path(".hidden", "owner") == NULL);
	CHECK(proc_run_path(NULL, "owner") == NULL);
	CHECK(proc_run_dir_make() == 0);
	CHECK(proc_run_dir_make() == 0); /* already there */
	free(want);
	want = NULL;
	CHECK(asprintf(&want, "%s/run", dir) > 0);
	CHECK(stat(want, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	(void)rmdir(want);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	setenv("COI_HOME", dir, 1);
	RUN(test_starttime);
	RUN(test_zombie);
	RUN(test_pidfd);
	RUN(test_run_path);
	(void)rmdir(dir);
	return tap_done();
}
