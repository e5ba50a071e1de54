/* SPDX-License-Identifier: MIT */
/* coi kill: force-stop and delete sessions, and remove what they left on the host. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/each.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "session/naming.h"
#include "util/error.h"

const struct verb verb_kill;

/* userdata: true with --all, where every name is a coi session already */
static int kill_one(struct incus_client *c, const char *name, void *userdata)
{
	struct coi_error err = {0};
	char **report = NULL;

	if (!*(const bool *)userdata && session_parse_name(name, NULL) < 0) {
		_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;

		/* only coi's containers: its names, or its metadata */
		if (incus_instance_get(c, name, &in, &err) < 0 ||
		    !incus_map_get(&in->config, "user.coi.workspace")) {
			fprintf(stderr, "coi: '%s' is not a coi session, leaving it alone\n", name);
			return EXIT_FAIL;
		}
	}
	if (fleet_kill(c, name, NULL, &report, &err) < 0) {
		cmd_print_report(report);
		fprintf(stderr, "coi: cannot kill '%s': %s\n", name, coi_error_message(&err));
		return EXIT_FAIL;
	}
	cmd_print_report(report);
	fprintf(stderr, "coi: killed %s\n", name);
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"all", no_argument, NULL, 'a'},
	        {"force", no_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct cmd_each e = {.confirm = "Kill"};
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+afh", opts, NULL)) != -1) {
		switch (o) {
		case 'a':
			e.all = true;
			break;
		case 'f':
			e.force = true;
			break;
		case 'h':
			return cmd_help(&verb_kill);
		default:
			return cmd_bad_option(&verb_kill, argv);
		}
	}
	if (!e.all && optind >= argc)
		return cmd_usage_error(&verb_kill, "name the sessions to kill, or use --all");
	if (e.all && optind < argc)
		return cmd_usage_error(&verb_kill, "--all takes no names");
	return cmd_each_session(&verb_kill, &e, argv + optind, argc - optind, kill_one, &e.all);
}

const struct verb verb_kill = {
        .name = "kill",
        .run = run,
        .summary = "force-stop and delete sessions",
        .usage = "Usage: coi kill NAME... | --all\n"
                 "\n"
                 "Force-stop and delete the named session containers (persistent ones too), and\n"
                 "remove what they left on the host: network rules, immutable flags on protected\n"
                 "paths, the idmapped workspace mount.\n"
                 "\n"
                 "  -a, --all     every coi session on this daemon (on a terminal, asks first)\n"
                 "  -f, --force   do not ask",
};
