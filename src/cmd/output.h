/* SPDX-License-Identifier: MIT */
/* output.h: terminal conventions of the command layer. Results go to stdout, diagnostics to
 * stderr; colour and progress bars appear only on a terminal, and colour never when NO_COLOR is
 * set to a non-empty value (https://no-color.org) or TERM is "dumb". Pipes get plain text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum output_color {
	OUTPUT_RESET,
	OUTPUT_BOLD,
	OUTPUT_RED,
	OUTPUT_GREEN,
	OUTPUT_YELLOW,
	OUTPUT_BLUE,
	OUTPUT_DIM,
	_OUTPUT_COLOR_MAX,
};

/* True when f is a terminal. */
bool output_is_tty(FILE *f);
/* Ask question (without "[y/N]") on the terminal and read the answer: true for y or yes. Without
 * a terminal on stdin and stderr (a script, a pipe) nobody can answer, and the answer is yes: a
 * script says what it wants by running the command. */
bool output_confirm(const char *question);
/* How long ago an RFC 3339 UTC time was, for a column: "42s", "5m", "3h07m", "12d"; NULL (a cell
 * shown as "-") when it cannot be read or lies in the future. */
const char *output_age(const char *rfc3339, char *buf, size_t size);
/* True when colour may be written to f: a terminal, NO_COLOR unset or empty, TERM not "dumb". */
bool output_use_color(FILE *f);
/* The escape sequence for c on f, or "" when f gets no colour. */
const char *output_color(FILE *f, enum output_color c);
/* The colour for a container or session status word ("Running" green, "Stopped" dim, "Frozen"
 * blue, "Orphaned"/"Error" red), OUTPUT_RESET for others. */
enum output_color output_status_color(const char *status);

/* s as it may be printed on a terminal: a name or path coi did not choose (a workspace, a
 * value from the daemon or a config file, a command line seen in a container) with every
 * control character and escape sequence made visible (util/term.h). s itself when it needs
 * nothing; else a copy that lives for the next 15 calls (enough for one printf's arguments). */
const char *output_safe(const char *s);

/* What to do next after a failure that is common and has one cure (the daemon cannot be reached,
 * the socket refuses the user), or NULL. From the error's code and text. */
const char *output_hint(int code, const char *msg);

/* Columns of the terminal on f (TIOCGWINSZ, else $COLUMNS), or 0 when f is not a terminal:
 * output for pipes is never cut to a width. */
unsigned output_width(FILE *f);

/* A progress bar on stderr for long work (image build and import, container creation). It draws
 * only when stderr is a terminal and the log level is not quiet, redrawing at most every 100 ms;
 * otherwise every call is a no-op, so callers never check. */
struct output_progress {
	const char *label;
	bool active;
	uint64_t last_ms;
	unsigned last_pct;
};
void output_progress_begin(struct output_progress *p, const char *label);
/* done of total units (bytes, steps); total 0 shows a spinner-like count instead of a bar. */
void output_progress_update(struct output_progress *p, uint64_t done, uint64_t total);
/* A line of text in place of the bar, when the work has stages but no measure. */
void output_progress_text(struct output_progress *p, const char *text);
/* Clear the bar's line. */
void output_progress_end(struct output_progress *p);

/* An incus_progress_fn (incus/incus.h, struct incus_wait) drawing an operation's progress:
 * userdata is a struct output_progress begun by the caller. */
struct incus_progress;
void output_progress_incus(const struct incus_progress *ip, void *userdata);
