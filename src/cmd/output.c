/* SPDX-License-Identifier: MIT */
/* output.c: see output.h. */
#include "cmd/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "incus/incus.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/term.h"

/* clang-format off */
static const char *const sequences[_OUTPUT_COLOR_MAX] = {
	[OUTPUT_RESET] = "\033[0m",
	[OUTPUT_BOLD] = "\033[1m",
	[OUTPUT_RED] = "\033[31m",
	[OUTPUT_GREEN] = "\033[32m",
	[OUTPUT_YELLOW] = "\033[33m",
	[OUTPUT_BLUE] = "\033[34m",
	[OUTPUT_DIM] = "\033[2m",
};
/* clang-format on */

bool output_is_tty(FILE *f)
{
	return f && isatty(fileno(f)) == 1;
}

bool output_confirm(const char *question)
{
	char line[64];

	if (!output_is_tty(stdin) || !output_is_tty(stderr))
		return true;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return strcmp(line, "y\n") == 0 || strcmp(line, "Y\n") == 0 ||
	       strcasecmp(line, "yes\n") == 0;
}

const char *output_age(const char *rfc3339, char *buf, size_t size)
{
	struct tm tm = {0};
	const char *end = rfc3339 ? strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	time_t then, now = time(NULL);
	long long s;

	if (!end || (then = timegm(&tm)) == (time_t)-1 || then > now + 60)
		return NULL;
	s = (long long)(now > then ? now - then : 0);
	if (s < 60)
		(void)snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		(void)snprintf(buf, size, "%lldm", s / 60);
	else if (s < 2 * 86400)
		(void)snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		(void)snprintf(buf, size, "%lldd", s / 86400);
	return buf;
}

bool output_use_color(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (no && *no)
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return output_is_tty(f);
}

const char *output_color(FILE *f, enum output_color c)
{
	if (c < 0 || c >= _OUTPUT_COLOR_MAX || !output_use_color(f))
		return "";
	return sequences[c];
}

enum output_color output_status_color(const char *status)
{
	if (!status)
		return OUTPUT_RESET;
	if (strcmp(status, "Running") == 0)
		return OUTPUT_GREEN;
	if (strcmp(status, "Stopped") == 0)
		return OUTPUT_DIM;
	if (strcmp(status, "Frozen") == 0 || strcmp(status, "Warm") == 0)
		return OUTPUT_BLUE;
	if (strcmp(status, "Orphaned") == 0 || strcmp(status, "Error") == 0)
		return OUTPUT_RED;
	return OUTPUT_RESET;
}

/* clang-format off */
static const struct {
	const char *needle; /* in the message */
	const char *hint;
} hints[] = {
	{"cannot reach incus: socket", "is the Incus daemon running? Start it (systemctl start incus) or set INCUS_SOCKET"},
	{"cannot reach incus", "is the Incus daemon running and reachable? Check INCUS_SOCKET or [incus] remote_url"},
};
/* clang-format on */

#define HINT_GROUP \
	"you may not use the Incus socket: add your user to the 'incus-admin' group and log in again"

/* "cannot reach incus at '/path': ...": is the socket there but closed to this user? */
static bool socket_denied(const char *msg)
{
	const char *p = strstr(msg, "cannot reach incus at '"), *end;
	char path[4096];

	if (!p)
		return false;
	p += strlen("cannot reach incus at '");
	end = strchr(p, '\'');
	if (!end || *p != '/' || (size_t)(end - p) >= sizeof(path))
		return false;
	memcpy(path, p, (size_t)(end - p));
	path[end - p] = '\0';
	return access(path, R_OK | W_OK) < 0 && errno == EACCES;
}

const char *output_hint(int code, const char *msg)
{
	if (!msg || code >= 0)
		return NULL;
	if (strstr(msg, "Permission denied") || socket_denied(msg))
		return HINT_GROUP;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strstr(msg, hints[i].needle) && !strstr(msg, hints[i].hint))
			return hints[i].hint;
	return NULL;
}

unsigned output_width(FILE *f)
{
	struct winsize ws;
	const char *cols;
	long n;

	if (!output_is_tty(f))
		return 0;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	cols = getenv("COLUMNS");
	n = cols ? strtol(cols, NULL, 10) : 0;
	return n > 0 && n < 10000 ? (unsigned)n : 80;
}

void output_progress_begin(struct output_progress *p, const char *label)
{
	*p = (struct output_progress){.label = label};
	p->active = output_is_tty(stderr) && log_get_level() >= LOG_LEVEL_WARN;
	p->last_pct = (unsigned)-1;
}

static void draw_bar(const struct output_progress *p, unsigned pct, unsigned width)
{
	unsigned room = width > strlen(p->label) + 12 ? width - (unsigned)strlen(p->label) - 12 : 0;
	unsigned bar = room > 40 ? 40 : room, full = bar * pct / 100;

	fprintf(stderr, "\r%s [", p->label);
	for (unsigned i = 0; i < bar; i++)
		fputc(i < full ? '#' : '.', stderr);
	fprintf(stderr, "] %3u%%\033[K", pct);
}

/* At most one redraw every 100 ms, except to show completion. */
static bool progress_due(struct output_progress *p, bool final)
{
	uint64_t t = clock_mono_ms();

	if (p->last_ms && t - p->last_ms < 100 && !final)
		return false;
	p->last_ms = t;
	return true;
}

void output_progress_update(struct output_progress *p, uint64_t done, uint64_t total)
{
	unsigned pct;

	if (!p->active)
		return;
	pct = total ? (unsigned)(done >= total ? 100 : done * 100 / total) : 0;
	if (total && pct == p->last_pct)
		return;
	if (!progress_due(p, pct == 100))
		return;
	p->last_pct = pct;
	if (total)
		draw_bar(p, pct, output_width(stderr));
	else
		fprintf(stderr, "\r%s %llu\033[K", p->label, (unsigned long long)done);
	fflush(stderr);
}

void output_progress_text(struct output_progress *p, const char *text)
{
	unsigned w;

	if (!p->active || !text || !progress_due(p, false))
		return;
	w = output_width(stderr);
	text = output_safe(text); /* the daemon's words */
	fprintf(stderr, "\r%s: %.*s\033[K", p->label,
	        (int)(w > strlen(p->label) + 3 ? w - strlen(p->label) - 3 : 0), text);
	fflush(stderr);
}

void output_progress_incus(const struct incus_progress *ip, void *userdata)
{
	struct output_progress *p = userdata;

	if (ip->percent >= 0)
		output_progress_update(p, (uint64_t)ip->percent, 100);
	else
		output_progress_text(p, ip->text);
}

void output_progress_end(struct output_progress *p)
{
	if (!p->active)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->active = false;
}

/* A ring of escaped copies: each lives until OUTPUT_SAFE_SLOTS later calls, long enough for the
 * arguments of one printf. */
#define OUTPUT_SAFE_SLOTS 16

const char *output_safe(const char *s)
{
	static char *ring[OUTPUT_SAFE_SLOTS];
	static unsigned next;
	char **slot;

	if (!s || !term_needs_escape(s, false))
		return s;
	slot = &ring[next++ % OUTPUT_SAFE_SLOTS];
	free(*slot);
	*slot = term_escape_dup(s, false);
	return *slot ? *slot : "?";
}
