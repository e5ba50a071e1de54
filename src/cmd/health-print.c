/* SPDX-License-Identifier: MIT */
/* health-print.c: see health-print.h. */
#include "cmd/health-print.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "health/health.h"
#include "util/json.h"

/* clang-format off */
static const char *const tags[_HEALTH_STATUS_MAX] = {
	[HEALTH_OK]      = "[OK]     ",
	[HEALTH_WARNING] = "[WARNING]",
	[HEALTH_FAILED]  = "[FAILED] ",
};
static const char *const colours[_HEALTH_STATUS_MAX] = {
	[HEALTH_OK]      = "\033[32m",
	[HEALTH_WARNING] = "\033[33m",
	[HEALTH_FAILED]  = "\033[31m",
};
/* clang-format on */

static bool use_colour(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !(nc && nc[0]) && !(term && strcmp(term, "dumb") == 0);
}

/* Each line of text, indented. */
static void print_indented(const char *indent, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		printf("%s%.*s\n", indent, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static void print_result(const struct health_result *r, bool colour, bool verbose)
{
	const char *on = colour ? colours[r->status] : "", *off = colour ? "\033[0m" : "";

	printf("  %s%s%s %-20s %s\n", on, tags[r->status], off, r->id, output_safe(r->message));
	if (r->fix[0])
		printf("            %-20s fix: %s\n", "", output_safe(r->fix));
	if (verbose && r->detail[0])
		print_indented("                                 ", r->detail);
}

void health_print_text(const struct health_report *rep, bool verbose)
{
	bool colour = use_colour();
	int cat = -1;

	for (size_t i = 0; i < rep->n; i++) {
		const struct health_result *r = &rep->results[i];

		if ((int)r->category != cat) {
			cat = (int)r->category;
			printf("%s%s\n", i ? "\n" : "", health_category_to_string(r->category));
		}
		print_result(r, colour, verbose);
	}
	printf("\n%s%s%s: %zu checks, %zu ok, %zu warning%s, %zu failed\n",
	       colour ? colours[rep->status] : "", health_overall_to_string(rep->status),
	       colour ? "\033[0m" : "", rep->n, health_report_count(rep, HEALTH_OK),
	       health_report_count(rep, HEALTH_WARNING),
	       health_report_count(rep, HEALTH_WARNING) == 1 ? "" : "s",
	       health_report_count(rep, HEALTH_FAILED));
}

int health_print_json(const struct health_report *rep, bool verbose)
{
	_cleanup_json_ json_t *j = health_report_to_json(rep, verbose);

	if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
		return cmd_failf("out of memory");
	putchar('\n');
	return 0;
}
