/* SPDX-License-Identifier: MIT */
/* main.c: global options, the verb dispatch and the exit code; nothing else. */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/log.h"

static void print_main_help(FILE *f)
{
	fprintf(f,
	        "Usage: coi [-v|-q] VERB [ARGS...]\n"
	        "\n"
	        "coi runs AI coding agents in unprivileged Incus system containers, with the current\n"
	        "project mounted at /workspace and the host protected.\n"
	        "\n"
	        "Verbs:\n");
	for (size_t i = 0; coi_verbs[i]; i++)
		if (coi_verbs[i]->name[0] != '_') /* hidden helpers such as __complete */
			fprintf(f, "  %-12s %s\n", coi_verbs[i]->name, coi_verbs[i]->summary);
	fprintf(f, "\n"
	           "Global options:\n"
	           "  -v, --verbose   more detail on stderr (twice for debug)\n"
	           "  -q, --quiet     errors only\n"
	           "      --version   print the version\n"
	           "  -h, --help      this text; 'coi help VERB' for a verb\n");
}

static int run_help(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		print_main_help(stdout);
		return EXIT_OK;
	}
	v = verb_find(argv[1]);
	if (!v)
		return cmd_usage_error(NULL, "unknown verb '%s'", argv[1]);
	return cmd_help(v);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"verbose", no_argument, NULL, 'v'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c, verbosity = 0;
	const struct verb *v;

	setlocale(LC_CTYPE, "");
	/* A reader that goes away (coi run ... | head) must not kill coi mid-session: writes fail
	 * with EPIPE instead, and the session ends as on any other signal (exec-ws.c). Programs coi
	 * starts get the default back. */
	signal(SIGPIPE, SIG_IGN);
	log_level_from_env();
	while ((c = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity = -1;
			break;
		case 'V':
			printf("coi %s\n", coi_version);
			return EXIT_OK;
		case 'h':
			print_main_help(stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(NULL, "invalid global option");
		}
	}
	if (verbosity < 0)
		log_set_level(LOG_LEVEL_ERROR);
	else if (verbosity == 1)
		log_set_level(LOG_LEVEL_INFO);
	else if (verbosity > 1)
		log_set_level(LOG_LEVEL_DEBUG);

	if (optind >= argc) {
		/* 'coi' alone in a project is 'coi shell', once that verb exists. */
		v = verb_find("shell");
		if (v)
			return v->run(1, (char *[]){(char *)"shell", NULL});
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return run_help(argc, argv);
	v = verb_find(argv[0]);
	if (!v)
		return cmd_usage_error(NULL, "unknown verb '%s'", argv[0]);
	return v->run(argc, argv);
}
