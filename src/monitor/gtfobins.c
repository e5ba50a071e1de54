/* SPDX-License-Identifier: MIT */
/* gtfobins.c: GTFOBins entries as rules (ruleset.h). An entry is a program's file; of its
 * functions, the shells over the network become rules. Each example's code is read the way the
 * monitor reads a command line (cmdline.h), and the words it passes to the program, cut at their
 * placeholders, are the tokens a process's arguments must all contain. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/cmdline.h"
#include "monitor/rulefile.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/yaml.h"

#define TOKENS_MAX 6

/* The functions that are a finding in a sandbox, in both of GTFOBins' vocabularies. */
static const struct {
	const char *name;
	enum threat_level level;
	const char *title;
} functions[] = {
        {"reverse-shell", THREAT_CRITICAL, "Reverse shell detected"},
        {"reverse-shell-interactive", THREAT_CRITICAL, "Reverse shell detected"},
        {"reverse-shell-non-interactive", THREAT_CRITICAL, "Reverse shell detected"},
        {"non-interactive-reverse-shell", THREAT_CRITICAL, "Reverse shell detected"},
        {"bind-shell", THREAT_HIGH, "Bind shell detected"},
        {"bind-shell-interactive", THREAT_HIGH, "Bind shell detected"},
        {"bind-shell-non-interactive", THREAT_HIGH, "Bind shell detected"},
        {"non-interactive-bind-shell", THREAT_HIGH, "Bind shell detected"},
};

/* What GTFOBins' examples write where the attacker's own values go. */
static const char *const placeholders[] = {
        "$",        "attacker.com", "attacker",    "12345",  "/path/to",
        "file_to_", "input-file",   "output-file", "lib.so", NULL,
};

/* The word up to its first placeholder, lowered; NULL when too little is left to tell. */
static char *cut_word(const char *w, size_t len)
{
	char *t = strndup(w, len);
	size_t keep;

	if (!t)
		return NULL;
	for (size_t i = 0; placeholders[i]; i++) {
		char *p = strcasestr(t, placeholders[i]);

		if (p)
			*p = 0;
	}
	for (char *p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	keep = strlen(t);
	if (keep < 2 || strspn(t, "0123456789.:") == keep) {
		free(t);
		return NULL;
	}
	return t;
}

/* The tokens of an example: the words the program gets (split at blanks), cut. */
static int derive(const char *code, const char *program, char ***ret)
{
	_cleanup_strv_free_ char **tokens = NULL;
	struct cmdline cl = {0};
	const struct simple_cmd *c = NULL;
	int r;

	r = cmdline_from_script(code, &cl);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cl.n && !c; i++)
		if (strcasecmp(cmd_prog(&cl.cmds[i]), program) == 0)
			c = &cl.cmds[i];
	for (size_t i = 1; c && c->argv[i] && strv_length(tokens) < TOKENS_MAX; i++)
		for (const char *w = c->argv[i]; *w && strv_length(tokens) < TOKENS_MAX;) {
			size_t len = strcspn(w, " \t\n");
			char *t = len ? cut_word(w, len) : NULL;

			w += len;
			w += strspn(w, " \t\n");
			if (!t)
				continue;
			if (strv_contains(tokens, t)) {
				free(t);
			} else if (strv_consume(&tokens, t) < 0) {
				cmdline_release(&cl);
				return -ENOMEM;
			}
		}
	cmdline_release(&cl);
	*ret = TAKE_PTR(tokens);
	return c ? 0 : -ENOENT;
}

/* coi-match: a list of tokens the entry gives itself. */
static int given(const struct ynode *list, char ***ret)
{
	_cleanup_strv_free_ char **tokens = NULL;

	for (size_t i = 0; i < list->n; i++) {
		const char *s = ynode_str(list->items[i]);
		char *t = s && *s ? strdup(s) : NULL;

		if (!t)
			return s ? -ENOMEM : -EINVAL;
		for (char *p = t; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strv_consume(&tokens, t) < 0)
			return -ENOMEM;
	}
	if (!tokens)
		return -EINVAL;
	*ret = TAKE_PTR(tokens);
	return 0;
}

static int add_example(struct ruleset *rs, const char *source, const char *program, size_t fi,
                       size_t k, const struct ynode *entry, struct coi_error *err)
{
	_cleanup_(rs_rule_freep) struct rs_rule *r = NULL;
	const struct ynode *match = ynode_get(entry, "coi-match");
	const char *code = ynode_str(ynode_get(entry, "code"));
	_cleanup_free_ char *id = NULL, *joined = NULL;
	int q;

	/* the first example of a function is gtfobins:PROGRAM:FUNCTION, the next ones :2, :3 */
	if ((k == 0 ? asprintf(&id, "gtfobins:%s:%s", program, functions[fi].name)
	            : asprintf(&id, "gtfobins:%s:%s:%zu", program, functions[fi].name, k + 1)) < 0)
		return coi_error_oom(err);
	r = rs_rule_new(RULESET_GTFOBINS, source, id, functions[fi].title, functions[fi].level,
	                "process");
	if (!r || !(r->program = strdup(program)))
		return coi_error_oom(err);
	if (match && match->type == YNODE_SEQ)
		q = given(match, &r->tokens);
	else if (match)
		q = -EINVAL;
	else
		q = code ? derive(code, program, &r->tokens) : -EINVAL;
	if (q == -ENOMEM)
		return coi_error_oom(err);
	if (match && q < 0)
		q = rs_rule_skip(r, "coi-match (line %u) must be a list of words", match->line);
	else if (!code && !match)
		q = rs_rule_skip(r, "the example has no code");
	else if (q == -ENOENT)
		q = rs_rule_skip(r, "its code never runs %s", program);
	else if (!r->tokens)
		q = rs_rule_skip(r, "its code gives %s no argument to tell it apart", program);
	else
		q = (joined = strv_join(r->tokens, "\" \""))
		            ? rs_rule_summary(r, "%s with \"%s\"", program, joined)
		            : -ENOMEM;
	if (q < 0)
		return coi_error_oom(err);
	return ruleset_push(rs, TAKE_PTR(r)) < 0 ? coi_error_oom(err) : 0;
}

/* The program an entry is for: its file's name, without ".md". */
static char *program_of(const char *source)
{
	const char *base = strrchr(source, '/') ? strrchr(source, '/') + 1 : source;
	size_t n = strlen(base);

	if (n > 3 && strcmp(base + n - 3, ".md") == 0)
		n -= 3;
	return strndup(base, n);
}

int gtfobins_parse(struct ruleset *rs, const char *source, const struct ynode *doc,
                   struct coi_error *err)
{
	const struct ynode *fns = ynode_get(doc, "functions");
	_cleanup_free_ char *program = program_of(source);
	int r;

	if (!program)
		return coi_error_oom(err);
	if (ynode_get(doc, "alias"))
		return 0; /* another name of a program that has its own file */
	if (!fns || fns->type != YNODE_MAP)
		return coi_error_set(err, -EINVAL,
		                     "%s:%u:%u: a GTFOBins entry needs a map 'functions'", source,
		                     fns ? fns->line : doc->line, fns ? fns->col : doc->col);
	for (size_t i = 0; i + 1 < fns->n; i += 2) {
		const char *name = ynode_str(fns->items[i]);
		const struct ynode *list = fns->items[i + 1];

		for (size_t fi = 0; name && fi < ELEMENTSOF(functions); fi++) {
			if (strcmp(name, functions[fi].name) != 0)
				continue;
			if (list->type != YNODE_SEQ)
				return coi_error_set(err, -EINVAL,
				                     "%s:%u:%u: '%s' must be a list of examples",
				                     source, list->line, list->col, name);
			for (size_t k = 0; k < list->n; k++) {
				if (list->items[k]->type != YNODE_MAP)
					return coi_error_set(
					        err, -EINVAL,
					        "%s:%u:%u: an example must be a map with "
					        "'code'",
					        source, list->items[k]->line, list->items[k]->col);
				r = add_example(rs, source, program, fi, k, list->items[k], err);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}
