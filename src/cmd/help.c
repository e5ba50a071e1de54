/* SPDX-License-Identifier: MIT */
/* coi help: the list of verbs, or one verb's usage. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

const struct verb verb_help;

void cmd_print_main_help(FILE *f)
{
	fprintf(f,
	        "Usage: coi [-v|-q] VERB [ARGS...]\n"
	        "\n"
	        "coi runs AI coding agents in unprivileged Incus system containers, with the current\n"
	        "project mounted at /workspace and the host protected. 'coi' alone is 'coi shell'.\n"
	        "\n"
	        "Verbs:\n");
	for (size_t i = 0; coi_verbs[i]; i++) {
		const struct verb *v = coi_verbs[i];
		char name[32];

		if (v->name[0] == '_') /* hidden helpers such as __complete */
			continue;
		(void)snprintf(name, sizeof(name), "%s%s%s", v->name, v->alias ? ", " : "",
		               v->alias ? v->alias : "");
		fprintf(f, "  %-16s %s\n", name, v->summary);
	}
	fprintf(f, "\n"
	           "Global options:\n"
	           "  -v, --verbose   more detail on stderr (twice for debug)\n"
	           "  -q, --quiet     no startup report, notes or progress: warnings and errors\n"
	           "      --version   print the version\n"
	           "  -h, --help      this text; 'coi help VERB' for a verb\n"
	           "\n"
	           "Output for scripts: every verb that prints data takes --json (the same as\n"
	           "--format json); exit status 0 success, 1 failure, 2 usage error, and coi run\n"
	           "passes its command's own.\n");
}

static int run(int argc, char **argv)
{
	const struct verb *v;
	const char *near;
	int r;

	if (argc < 2) {
		cmd_print_main_help(stdout);
		return EXIT_OK;
	}
	r = cmd_parse_plain(&verb_help, argc, argv);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return cmd_usage_error(&verb_help, "help takes one verb");
	v = verb_find(argv[optind]);
	if (v)
		return cmd_help(v);
	near = verb_suggest(argv[optind]);
	return cmd_usage_error(NULL, "unknown verb '%s'%s%s%s", argv[optind],
	                       near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

const struct verb verb_help = {
        .name = "help",
        .run = run,
        .summary = "list the verbs, or show how to use one",
        .usage = "Usage: coi help [VERB]\n"
                 "\n"
                 "Without VERB, list the verbs; with it, show its usage (the same as 'coi VERB\n"
                 "--help').",
};
