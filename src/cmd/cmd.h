/* SPDX-License-Identifier: MIT */
/* cmd.h: the command layer. Each verb lives in cmd/<verb>.c and defines one struct verb; the
 * table in cmd/verbs.c lists them. Only this layer and main.c print for the user or choose an
 * exit code: 0 success, 1 failure, 2 usage error, or the exit status a verb passes through. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

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
	const char *alias; /* another name of the verb, or NULL ('close' for shutdown) */
};

/* NULL-terminated, in the order 'coi --help' lists them. */
extern const struct verb *const coi_verbs[];
/* By name or alias. */
const struct verb *verb_find(const char *name);
/* The verb a misspelt name most likely meant ("did you mean"), or NULL. */
const char *verb_suggest(const char *name);

/* The list of verbs and the global options ('coi --help'). */
void cmd_print_main_help(FILE *f);
/* Print the verb's usage text on stdout; returns EXIT_OK. */
int cmd_help(const struct verb *v);
/* One line on stderr, "coi: <message> (see 'coi VERB --help')"; returns EXIT_USAGE. */
int cmd_usage_error(const struct verb *v, const char *fmt, ...) COI_PRINTF(2, 3);
/* The usage error for the option getopt_long just refused (it returned '?'; opterr is 0, so it
 * said nothing): an unknown one, with the nearest of v's options, or one missing its value, as
 * v's usage text describes them. argv is the one given to getopt_long. Returns EXIT_USAGE. */
int cmd_bad_option(const struct verb *v, char **argv);
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
/* -q (coi -q, or a session verb's own): no startup report, notes or progress; warnings and errors
 * still show. */
bool cmd_quiet(void);

/* --format of the verbs that print data (one convention: --json is --format json): "text" (or
 * "table") or "json" into *json. 0, or EXIT_USAGE having said why. */
int cmd_parse_format(const struct verb *v, const char *arg, int *json);

/* For verbs whose only option is --help: parse it and refuse any other, leaving optind at the
 * first operand. -1 to go on, else the exit status (help shown, or a usage error said). */
int cmd_parse_plain(const struct verb *v, int argc, char **argv);

/* True when the only argument is -h/--help (verbs that take no options use this). */
bool cmd_wants_help(int argc, char **argv);

/* The version string, e.g. "0.1.0-12-gabcdef". */
extern const char coi_version[];
