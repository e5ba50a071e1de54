/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/term.h"

static enum log_level current = LOG_LEVEL_WARN;

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

int log_level_from_string(const char *s)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void log_level_from_env(void)
{
	const char *e = secure_getenv("COI_LOG_LEVEL");
	int l;

	if (!e)
		return;
	l = log_level_from_string(e);
	if (l >= 0)
		current = (enum log_level)l;
}

/* in with the value of every "secret=" (a websocket URL of an exec: whoever has it can attach
 * to the command) replaced by "REDACTED", into out. */
static void redact_secrets(const char *in, char *out, size_t size)
{
	static const char key[] = "secret=";
	size_t o = 0;

	while (*in && o + 1 < size) {
		if (strncmp(in, key, strlen(key)) == 0 && o + strlen(key) + 9 < size) {
			o += (size_t)snprintf(out + o, size - o, "%sREDACTED", key);
			in += strlen(key);
			in += strcspn(in, "&\"' \t\n");
			continue;
		}
		out[o++] = *in++;
	}
	out[o] = '\0';
}

static void vlog(enum log_level level, const char *fmt, va_list ap, const char *suffix)
{
	static const char *const tags[] = {"error: ", "warning: ", "", "debug: "};
	char msg[4096], redacted[4096], safe[4096];

	if (level > current)
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	redact_secrets(msg, redacted, sizeof(redacted));
	fprintf(stderr, "coi: %s%s", tags[level], term_escape(redacted, true, safe, sizeof(safe)));
	if (suffix)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap, NULL);
	va_end(ap);
}

int log_error_errno(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, fmt, ap, strerror(r < 0 ? -r : r));
	va_end(ap);
	return r;
}

void log_timing(const char *what)
{
	static double first, last;
	static int enabled = -1;
	struct timespec t;
	double now;

	if (enabled < 0)
		enabled = secure_getenv("COI_TIMING_DEBUG") != NULL;
	if (!enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	now = t.tv_sec * 1e3 + t.tv_nsec / 1e6;
	if (first == 0)
		first = last = now;
	fprintf(stderr, "coi: timing: %-28s +%6.1f ms (%7.1f ms)\n", what, now - last, now - first);
	last = now;
}
