/* SPDX-License-Identifier: MIT */
/* main.c: global options, the verb dispatch and the exit code; nothing else. */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/log.h"

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
	opterr = 0; /* an option error is said once, on one line, by cmd_bad_option() */
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
			cmd_print_main_help(stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(
			        NULL,
			        "unknown global option '%s' (a verb's options go after "
			        "the verb)",
			        argv[optind - 1]);
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
		cmd_print_main_help(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	v = verb_find(argv[0]);
	if (!v) {
		const char *near = verb_suggest(argv[0]);

		return cmd_usage_error(NULL, "unknown verb '%s'%s%s%s", argv[0],
		                       near ? "; did you mean '" : "", near ? near : "",
		                       near ? "'?" : "");
	}
	optind = 0; /* each verb parses its own options from the start */
	return v->run(argc, argv);
}
