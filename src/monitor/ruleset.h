/* SPDX-License-Identifier: MIT */
/* ruleset.h: detection rules loaded from files, in two public formats, feeding the rule engine
 * (rules.h) next to its own table:
 *
 *  - GTFOBins (gtfobins.c): a file per program, YAML (or Markdown with YAML front matter) with
 *    "functions:"; each reverse-shell function (CRITICAL, "Reverse shell detected") and bind-shell
 *    function (HIGH, "Bind shell detected") becomes a rule: the program runs, as a command of the
 *    process's command line, with every token of the function's example among its arguments.
 *    The tokens are the words of the example with its placeholders (attacker.com, 12345, $RHOST,
 *    /path/to, ...) cut off, or the entry's own "coi-match" list.
 *  - Sigma (sigma.c): YAML rules of logsource product linux, category process_creation; the
 *    fields Image, CommandLine, ParentImage, User and CurrentDirectory, the modifiers contains,
 *    startswith, endswith, all, re and cased, conditions of and, or, not, parentheses, "1 of",
 *    "all of" and "them". Level informational and low record (INFO), medium alerts (WARNING),
 *    high freezes (HIGH), critical kills (CRITICAL). Anything else makes coi skip the rule, and
 *    say why (`coi rules list --all`).
 *
 * The rule sets come from coi itself (rules/ in its tree, compiled in) and from the user's
 * directories ([detection] gtfobins_dir, sigma_dir). A file that does not parse is reported with
 * file:line:column and loses nothing else. Nothing here reads /proc: matching takes a process as
 * the monitor saw it (struct proc_obs), so every rule can be tested with `coi rules test`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "monitor/rulefile.h" /* enum ruleset_format, struct ruleset_info */
#include "monitor/rules.h"
#include "util/cleanup.h"

struct cmdline;
struct coi_error;

#define RULESET_FILE_MAX  (1u << 20) /* a rule file larger than this is refused */
#define RULESET_FILES_MAX 5000       /* files read from one directory tree */

struct ruleset;

int ruleset_new(struct ruleset **ret);
struct ruleset *ruleset_free(struct ruleset *rs);
DEFINE_CLEANUP(struct ruleset *, ruleset_free)

/* Parses one file's text (source names it in messages and listings). A file that is not YAML,
 * or not of the format, is an error (file:line:column); a rule coi cannot use is kept as
 * skipped, with the reason. */
int ruleset_add_text(struct ruleset *rs, enum ruleset_format f, const char *source,
                     const char *text, size_t len, struct coi_error *err);
/* The format a file's text is in (by its keys), or -EINVAL. */
int ruleset_sniff(const char *text, size_t len);

/* coi's own rules, compiled in from rules/ in its tree. */
int ruleset_add_builtin(struct ruleset *rs, struct coi_error *err);
/* Every rule file under dir (a GTFOBins clone's _gtfobins/, Sigma's rules/linux/process_creation/
 * or any tree of *.yml), at most RULESET_FILES_MAX. A missing dir adds nothing. Files that fail
 * are reported through warn (may be NULL) and skipped; returns how many files were read. */
int ruleset_add_dir(struct ruleset *rs, enum ruleset_format f, const char *dir,
                    void (*warn)(const char *msg, void *userdata), void *userdata,
                    struct coi_error *err);

size_t ruleset_count(const struct ruleset *rs);
const struct ruleset_info *ruleset_get(const struct ruleset *rs, size_t i);

/* The loaded rules that match p (whose command line is cl), as hits (at most max). The shape of
 * rules_config.extra. */
size_t ruleset_match_process(const void *rs, const struct proc_obs *p, const struct cmdline *cl,
                             struct rule_hit *hits, size_t max);

/* A Sigma glob (* and ? wild, \ escapes them) against s; both already lower case when not
 * cased. */
bool ruleset_glob(const char *pattern, const char *s);
