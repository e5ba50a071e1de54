/* SPDX-License-Identifier: MIT */
#include "cmd/cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd/output.h"
#include "util/error.h"
#include "util/strv.h"
#include "util/term.h"

#ifndef COI_VERSION
#define COI_VERSION "0.0.0-unknown"
#endif

const char coi_version[] = COI_VERSION;

const struct verb *verb_find(const char *name)
{
	for (size_t i = 0; coi_verbs[i]; i++)
		if (strcmp(coi_verbs[i]->name, name) == 0)
			return coi_verbs[i];
	return NULL;
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
	if (v)
		fprintf(stderr, "\nTry 'coi %s --help' for more information.\n", v->name);
	else
		fputs("\nTry 'coi --help' for more information.\n", stderr);
	return EXIT_USAGE;
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
