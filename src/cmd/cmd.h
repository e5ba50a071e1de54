/* SPDX-License-Identifier: MIT */
/* cmd.h: the command layer. Each verb lives in cmd/<verb>.c and defines one struct verb; the
 * table in cmd/verbs.c lists them. Only this layer and main.c print for the user or choose an
 * exit code: 0 success, 1 failure, 2 usage error, or the exit status a verb passes through. */
#pragma once

#include <stdbool.h>

#include "util/cleanup.h"

struct coi_error;

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

struct verb {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the verb name */
	const char *summary;               /* one line for 'coi --help' */
	const char *usage; /* the text of 'coi help VERB', without a final newline */
};

/* NULL-terminated, in the order 'coi --help' lists them. */
extern const struct verb *const coi_verbs[];
const struct verb *verb_find(const char *name);

/* Print the verb's usage text on stdout; returns EXIT_OK. */
int cmd_help(const struct verb *v);
/* "coi: <message>" and a hint to run 'coi VERB --help' on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const struct verb *v, const char *fmt, ...) COI_PRINTF(2, 3);
/* Report a failure once, from its error; returns EXIT_FAIL. */
int cmd_fail(const struct coi_error *err);
/* Same, for a failure without an error struct. */
int cmd_failf(const char *fmt, ...) COI_PRINTF(1, 2);

/* "coi: warning: <message>" on stderr, escaped for the terminal (util/term.h); the same for
 * each of a list of warnings (NULL: none). */
void cmd_warnf(const char *fmt, ...) COI_PRINTF(1, 2);
void cmd_warnings(char *const *warnings);
/* The same for what a session's end reported (what was quarantined, fleet_cleanup_host),
 * then frees the lines. */
void cmd_print_report(char **lines);

/* True when the only argument is -h/--help (verbs that take no options use this). */
bool cmd_wants_help(int argc, char **argv);

/* The version string, e.g. "0.1.0-12-gabcdef". */
extern const char coi_version[];
