/* SPDX-License-Identifier: MIT */
#include "cmd/cmd.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "cmd/usage.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/suggest.h"
#include "util/term.h"

#ifndef COI_VERSION
#define COI_VERSION "0.0.0-unknown"
#endif

const char coi_version[] = COI_VERSION;

const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; coi_verbs[i]; i++)
		if (strcmp(coi_verbs[i]->name, name) == 0 ||
		    (coi_verbs[i]->alias && strcmp(coi_verbs[i]->alias, name) == 0))
			return coi_verbs[i];
	return NULL;
}

const char *verb_suggest(const char *name)
{
	const char *names[128];
	size_t n = 0;

	for (size_t i = 0; coi_verbs[i] && n + 2 < sizeof(names) / sizeof(names[0]); i++) {
		if (coi_verbs[i]->name[0] == '_')
			continue;
		names[n++] = coi_verbs[i]->name;
		if (coi_verbs[i]->alias)
			names[n++] = coi_verbs[i]->alias;
	}
	names[n] = NULL;
	return suggest_closest(name, names);
}

int cmd_help(const struct verb *v)
{
	printf("%s\n", v->usage);
	return EXIT_OK;
}

/* "coi: " and the message on stderr, with what a terminal would act on made visible (an
 * argument, a path or a name in it may hold escape sequences: util/term.h). */
static void vprint_message(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096], safe[4096];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "coi: %s%s", prefix, term_escape(msg, true, safe, sizeof(safe)));
}

void cmd_warnf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_message("warning: ", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_warnings(char *const *warnings)
{
	for (size_t i = 0; warnings && warnings[i]; i++)
		cmd_warnf("%s", warnings[i]);
}

int cmd_usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_message("", fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'coi %s%s--help')\n", v ? v->name : "", v ? " " : "");
	return EXIT_USAGE;
}

/* The option getopt stopped at: a long one by its name (what precedes '='), a short one as "-c".
 * getopt sets optopt to 0 for an unknown long option, to the option's value for a long one that
 * lacks its argument, and to the character for a short one. */
static void bad_option_name(char **argv, const struct usage *u, char *buf, size_t size,
                            bool *ret_has_value)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const struct usage_opt *o;

	*ret_has_value = false;
	if (strncmp(arg, "--", 2) == 0 && arg[2]) {
		(void)snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
		o = usage_find_opt(u, buf);
		*ret_has_value = strchr(arg, '=') != NULL;
		if (optopt == 0 || (o && o->arg) || *ret_has_value)
			return;
	}
	if (optopt > 0 && optopt < 128 && isprint(optopt))
		(void)snprintf(buf, size, "-%c", optopt);
	else
		(void)snprintf(buf, size, "%s", arg);
	*ret_has_value = false;
}

int cmd_bad_option(const struct verb *v, char **argv)
{
	struct usage u = {0};
	const struct usage_opt *o;
	const char *near = NULL, **names;
	char name[64];
	bool has_value;
	int r;

	(void)usage_parse(v->name, v->usage, NULL, &u);
	bad_option_name(argv, &u, name, sizeof(name), &has_value);
	o = usage_find_opt(&u, name);
	if (o && o->arg && !has_value)
		r = cmd_usage_error(v, "option %s needs a value (%s)", name, o->arg);
	else if (o && !o->arg && has_value)
		r = cmd_usage_error(v, "option %s takes no value", name);
	else if (o)
		r = cmd_usage_error(v, "option %s is not allowed here", name);
	else {
		names = calloc(u.n_opts + 1, sizeof(*names));
		for (size_t i = 0; names && i < u.n_opts; i++)
			names[i] = u.opts[i].name;
		/* one letter is a typo of every other: suggest only for long options */
		near = names && name[1] == '-' ? suggest_closest(name, names) : NULL;
		r = cmd_usage_error(v, "unknown option '%s'%s%s%s", name,
		                    near ? "; did you mean '" : "", near ? near : "",
		                    near ? "'?" : "");
		free(names);
	}
	usage_release(&u);
	return r;
}

int cmd_fail(const struct coi_error *err)
{
	const char *hint = err ? output_hint(err->code, err->msg) : NULL;

	fprintf(stderr, "coi: %s\n", coi_error_message(err));
	if (hint) /* what to do next, for the common failures with one cure */
		fprintf(stderr, "coi: %s\n", hint);
	return EXIT_FAIL;
}

int cmd_failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_message("", fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

void cmd_print_report(char **lines)
{
	cmd_warnings(lines);
	strv_free(lines);
}

bool cmd_quiet(void)
{
	return log_get_level() <= LOG_LEVEL_ERROR;
}

int cmd_parse_format(const struct verb *v, const char *arg, int *json)
{
	if (strcmp(arg, "json") == 0)
		*json = 1;
	else if (strcmp(arg, "text") == 0 || strcmp(arg, "table") == 0)
		*json = 0;
	else
		return cmd_usage_error(v, "--format takes text or json, not '%s'", arg);
	return 0;
}

int cmd_parse_plain(const struct verb *v, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
		return c == 'h' ? cmd_help(v) : cmd_bad_option(v, argv);
	return -1;
}

bool cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}
