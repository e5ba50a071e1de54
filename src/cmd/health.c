/* SPDX-License-Identifier: MIT */
/* coi health: run the checks of src/health/ and render the report, grouped by category with a
 * final status line, or as JSON. Exit 0 healthy, 1 degraded, 2 unhealthy. */
#include "health/health.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/error.h"
#include "util/json.h"

const struct verb verb_health;

struct health_cmd_opts {
	bool json;
	bool verbose;
};

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

	printf("  %s%s%s %-19s %s\n", on, tags[r->status], off, r->id, r->message);
	if (r->fix[0])
		printf("            %-19s fix: %s\n", "", r->fix);
	if (verbose && r->detail[0])
		print_indented("                                 ", r->detail);
}

static void print_text(const struct health_report *rep, bool verbose)
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

static int print_json(const struct health_report *rep, bool verbose)
{
	_cleanup_json_ json_t *j = health_report_to_json(rep, verbose);

	if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
		return cmd_failf("out of memory");
	putchar('\n');
	return 0;
}

static int parse_args(int argc, char **argv, struct health_cmd_opts *o)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'f'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return -cmd_usage_error(&verb_health, "--format is text or json");
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			return cmd_help(&verb_health);
		default:
			return -cmd_usage_error(&verb_health, "invalid option");
		}
	}
	if (optind < argc)
		return -cmd_usage_error(&verb_health, "unexpected argument '%s'", argv[optind]);
	return 1;
}

static int run(int argc, char **argv)
{
	struct health_cmd_opts o = {0};
	struct health_report rep = {0};
	struct coi_error err = {0};
	int r;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return -r;
	if (health_run(NULL, &rep, &err) < 0)
		return cmd_fail(&err);
	r = 0;
	if (o.json)
		r = print_json(&rep, o.verbose);
	else
		print_text(&rep, o.verbose);
	if (r == 0)
		r = health_exit_code(rep.status);
	health_report_release(&rep);
	return r;
}

const struct verb verb_health = {
        .name = "health",
        .run = run,
        .summary = "check that this machine can run coi safely",
        .usage = "Usage: coi health [--json | --format text|json] [-v]\n"
                 "\n"
                 "Check the host, the Incus daemon, the security posture of coi's containers,\n"
                 "the image, the network rules, the monitor's sources, coi's files, the\n"
                 "configuration and the sessions. Every problem comes with how to fix it.\n"
                 "Runs even when the configuration is broken or the daemon is down.\n"
                 "\n"
                 "  --json            the report as JSON: {status, checks[], summary}\n"
                 "  --format FORMAT   text (default) or json\n"
                 "  -v, --verbose     more detail under each check\n"
                 "\n"
                 "Exit status: 0 healthy, 1 degraded (warnings), 2 unhealthy (a check failed).",
};
