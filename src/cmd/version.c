/* SPDX-License-Identifier: MIT */
/* coi version: the version, as text or JSON (the original's {"version": ...} shape). */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"

const struct verb verb_version;

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c, json = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'F':
			if (cmd_parse_format(&verb_version, optarg, &json))
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(&verb_version);
		default:
			return cmd_bad_option(&verb_version, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&verb_version, "unexpected argument '%s'", argv[optind]);
	if (json)
		printf("{\"version\":\"%s\"}\n", coi_version);
	else
		printf("coi %s\n", coi_version);
	return EXIT_OK;
}

const struct verb verb_version = {
        .name = "version",
        .run = run,
        .summary = "print the version",
        .usage = "Usage: coi version [--json | --format text|json]\n"
                 "\n"
                 "Print coi's version.\n"
                 "\n"
                 "  --json, --format json   print {\"version\": \"...\"}",
};
