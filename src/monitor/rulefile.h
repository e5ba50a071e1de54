/* SPDX-License-Identifier: MIT */
/* rulefile.h: the compiled form of rules read from files, shared by ruleset.c (which keeps and
 * matches them, ruleset.h) and the two parsers that build them, gtfobins.c and sigma.c. */
#pragma once

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "monitor/rules.h"
#include "util/cleanup.h"

struct coi_error;
struct ruleset;
struct ynode;

enum ruleset_format { RULESET_GTFOBINS, RULESET_SIGMA, _RULESET_FORMAT_MAX };
const char *ruleset_format_to_string(enum ruleset_format f); /* "gtfobins", "sigma" */

/* What `coi rules list` shows of one rule, loaded or skipped. */
struct ruleset_info {
	const struct rule *rule; /* id, level, category, title */
	enum ruleset_format format;
	const char *source;  /* "builtin:sigma/x.yml" or a path */
	const char *skipped; /* why it is not used, or NULL */
	const char *summary; /* what it matches, in a line */
};

/* coi's own rule files, compiled in (scripts/embed-rules makes the table, NULL-ended). */
struct ruleset_builtin {
	const char *name; /* "gtfobins/busybox", "sigma/coi_x.yml" */
	enum ruleset_format format;
	const char *text;
	size_t len;
};
extern const struct ruleset_builtin ruleset_builtin[];

/* The fields of a process a Sigma rule may test. */
enum rs_field {
	RS_IMAGE,
	RS_COMMANDLINE,
	RS_PARENT_IMAGE,
	RS_USER,
	RS_CURRENT_DIRECTORY,
	_RS_FIELD_MAX,
};
const char *rs_field_to_string(enum rs_field f); /* "Image", "CommandLine", ... */

/* One "Field|modifiers: values" of a selection. */
struct rs_check {
	enum rs_field field;
	bool all;      /* every value must match (|all), else any */
	bool cased;    /* |cased: values were not lowered */
	bool null;     /* the value null: the field is empty */
	char **values; /* globs; NULL-terminated */
	regex_t *re;   /* |re: one compiled expression per value */
	size_t n;
};

/* A selection: alternatives (a list of maps), each a conjunction of checks. */
struct rs_alt {
	struct rs_check *checks;
	size_t n;
};
struct rs_sel {
	char *name;
	struct rs_alt *alts;
	size_t n;
};

enum rs_op { RS_SEL, RS_AND, RS_OR, RS_NOT, RS_ANY_OF, RS_ALL_OF };

struct rs_expr {
	enum rs_op op;
	struct rs_expr *a, *b; /* AND, OR: both; NOT: a */
	size_t *sels;          /* SEL: one; ANY_OF, ALL_OF: those the pattern names */
	size_t n;
};

struct rs_rule {
	struct rule rule; /* what a hit names: id, level, category, title */
	struct ruleset_info info;
	char *id, *title, *source, *skipped, *summary;
	/* GTFOBins: the program and the tokens (lower case) its arguments must all contain */
	char *program;
	char **tokens;
	/* Sigma */
	struct rs_sel *sels;
	size_t n_sels;
	struct rs_expr *cond;
};

/* A rule with its names; NULL on OOM. */
struct rs_rule *rs_rule_new(enum ruleset_format f, const char *source, const char *id,
                            const char *title, enum threat_level level, const char *category);
struct rs_rule *rs_rule_free(struct rs_rule *r);
DEFINE_CLEANUP(struct rs_rule *, rs_rule_free)
/* Marks it skipped (kept for the listing, never matched). Returns 0 or -ENOMEM. */
int rs_rule_skip(struct rs_rule *r, const char *fmt, ...) COI_PRINTF(2, 3);
int rs_rule_summary(struct rs_rule *r, const char *fmt, ...) COI_PRINTF(2, 3);
/* Adds r (taking it, also on failure). */
int ruleset_push(struct ruleset *rs, struct rs_rule *r);

void rs_expr_free(struct rs_expr *e);

int gtfobins_parse(struct ruleset *rs, const char *source, const struct ynode *doc,
                   struct coi_error *err);
int sigma_parse(struct ruleset *rs, const char *source, const struct ynode *doc,
                struct coi_error *err);
