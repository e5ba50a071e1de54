/* SPDX-License-Identifier: MIT */
/* agent.c: see agent.h. */
#include "cmd/agent.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "session/tmux.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

/* An agent that ends this soon did not really start (no login, a missing binary, a bad flag). */
#define AGENT_AT_ONCE_MS  5000
#define SCREEN_MAX        (4u << 20)
#define SCREEN_TAIL_LINES 20

static void reason(int status, char *buf, size_t size)
{
	if (status == 127)
		(void)snprintf(buf, size,
		               "the agent's command was not found in the container (status 127; "
		               "[tool] name and binary choose it)");
	else if (status == 126)
		(void)snprintf(buf, size, "the agent's command could not be run (status 126)");
	else if (status > 128 && status < 128 + 65)
		(void)snprintf(buf, size, "the agent was killed by signal %d (%s)", status - 128,
		               strsignal(status - 128));
	else if (status != 0)
		(void)snprintf(buf, size, "the agent exited with status %d", status);
	else
		(void)snprintf(buf, size, "the agent exited at once (status 0)");
}

/* The last lines of the screen that have text, indented. */
static void print_tail(const char *screen)
{
	const char *end = screen + strlen(screen), *p = end;
	int lines = 0;

	while (p > screen && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	end = p;
	while (p > screen && lines < SCREEN_TAIL_LINES)
		if (*--p == '\n')
			lines++;
	if (*p == '\n')
		p++;
	if (p == end)
		return;
	fprintf(stderr, "coi: the agent's last screen:\n");
	for (const char *l = p; l < end;) {
		size_t n = strcspn(l, "\n");

		_cleanup_free_ char *line = strndup(l, l + n > end ? (size_t)(end - l) : n);

		fprintf(stderr, "  | %s\n", output_safe(line ? line : ""));
		l += n + 1;
	}
}

int cmd_agent_ended(struct incus_client *c, const char *container, const char *code_user,
                    int64_t ran_ms, int tmux_status)
{
	_cleanup_buf_ struct buf screen = BUF_INIT(SCREEN_MAX);
	_cleanup_free_ char *home = NULL, *file = tmux_screen_file(container), *dir = NULL;
	struct coi_error err = {0};
	int status = -1;
	char why[160];

	if (asprintf(&home, "/home/%s", code_user) < 0 || !file)
		return EXIT_FAILURE;
	if (tmux_agent_result(c, container, home, &status, &screen, &err) < 0)
		fprintf(stderr, "coi: warning: cannot read how the agent ended: %s\n",
		        coi_error_message(&err));
	if (screen.len > 0 && (dir = strdup(file)) && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		(void)mkdir_p(dir, 0700);
		(void)write_file_atomic(file, screen.data, screen.len, 0600, NULL);
	}
	if (status < 0 && tmux_status != 0) {
		/* tmux said why on the terminal (seen once: its socket's directory in /tmp gone) */
		fprintf(stderr,
		        "coi: tmux in %s failed (status %d) and the agent did not run; "
		        "tmux's message is above\n",
		        container, tmux_status);
		return tmux_status;
	}
	if (status < 0 || (status == 0 && (ran_ms < 0 || ran_ms >= AGENT_AT_ONCE_MS)))
		return status < 0 ? 0 : status;
	print_tail(buf_str(&screen));
	reason(status, why, sizeof(why));
	if (screen.len)
		fprintf(stderr, "coi: %s; 'coi logs %s' shows its last screen again\n", why,
		        container);
	else
		fprintf(stderr, "coi: %s\n", why);
	return status;
}

int cmd_agent_detached(const char *container, int tmux_status)
{
	if (tmux_status == 0)
		return 0;
	fprintf(stderr,
	        "coi: tmux in %s failed (status %d); the agent keeps running there ('coi attach "
	        "%s' to return, 'coi kill %s' to end it)\n",
	        container, tmux_status, container, container);
	return tmux_status;
}
