/* SPDX-License-Identifier: MIT */
/* fake-incusd.h: start and stop the fake daemon (fake-incusd.c, beside this file) from a unit
 * test. fake_start() serves one case file of tests/fake-incusd/cases/ on a fresh socket;
 * fake_stop() returns 0 when the fake saw exactly the requests the case expects. */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct fake {
	pid_t pid;
	char dir[64];
	char socket[128];
};

static inline int fake_start(struct fake *f, const char *case_name)
{
	const char *build = getenv("COI_BUILD");
	char tool[1024], cases[1024], line[16] = "";
	int pfd[2];
	FILE *in;

	snprintf(tool, sizeof(tool), "%s/tools/fake-incusd", build ? build : "build/dev");
	snprintf(cases, sizeof(cases), "tests/fake-incusd/cases/%s.json", case_name);
	strcpy(f->dir, "/tmp/coi-fake-XXXXXX");
	if (!mkdtemp(f->dir) || pipe(pfd) < 0)
		return -1;
	snprintf(f->socket, sizeof(f->socket), "%s/unix.socket", f->dir);
	fflush(stdout);
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(tool, tool, f->socket, cases, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	if (!in || !fgets(line, sizeof(line), in) || strcmp(line, "ready\n") != 0) {
		printf("# fake-incusd did not start (%s, %s)\n", tool, cases);
		return -1;
	}
	fclose(in);
	return 0;
}

static inline int fake_stop(struct fake *f)
{
	int status = 0;

	if (f->pid <= 0)
		return -1;
	kill(f->pid, SIGTERM);
	waitpid(f->pid, &status, 0);
	f->pid = 0;
	(void)rmdir(f->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
