/* SPDX-License-Identifier: MIT */
/* coi snapshot: create, list, restore, delete snapshots of a container (-c NAME or
 * $COI_CONTAINER). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/subcmd.h"
#include "incus/incus.h"
#include "util/error.h"

const struct verb verb_snapshot;

#define USAGE_ERROR(...) cmd_usage_error(&verb_snapshot, __VA_ARGS__)

struct snap_args {
	const char *container;
	bool json, stateful, force, all;
};

static int parse(int argc, char **argv, void *args)
{
	struct snap_args *a = args;
	static const struct option opts[] = {
	        {"container", required_argument, NULL, 'c'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"stateful", no_argument, NULL, 's'},
	        {"force", no_argument, NULL, 'f'},
	        {"all", no_argument, NULL, 'a'},
	        {0},
	};
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "c:f", opts, NULL)) != -1) {
		if (o == 'c')
			a->container = optarg;
		else if (o == 'j' || (o == 'F' && strcmp(optarg, "json") == 0))
			a->json = true;
		else if (o == 'F' && strcmp(optarg, "text") != 0 && strcmp(optarg, "table") != 0)
			return USAGE_ERROR("--format must be text or json");
		else if (o == 's')
			a->stateful = true;
		else if (o == 'f')
			a->force = true;
		else if (o == 'a')
			a->all = true;
		else if (o != 'F')
			return USAGE_ERROR("invalid option");
	}
	if (!a->container)
		a->container = getenv("COI_CONTAINER");
	if (!a->container || !*a->container)
		return USAGE_ERROR("which container? use -c NAME or set COI_CONTAINER");
	return 0;
}

static int cmd_create(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	struct coi_error err = {0};
	char name[64];
	time_t now = time(NULL);
	struct tm tm;

	if (argc > 1)
		return USAGE_ERROR("usage: coi snapshot create [NAME] [-c CONTAINER]");
	if (argc == 0)
		strftime(name, sizeof(name), "snap-%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
	if (incus_snapshot_create(c, a->container, argc ? argv[0] : name, a->stateful, &err) < 0)
		return cmd_fail(&err);
	printf("%s\n", argc ? argv[0] : name);
	return EXIT_OK;
}

static int cmd_list(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	struct coi_error err = {0};
	json_t *arr;
	char *s;
	int n;

	if (argc != 0)
		return USAGE_ERROR("unexpected argument '%s'", argv[0]);
	n = incus_snapshot_list(c, a->container, &l, &err);
	if (n < 0)
		return cmd_fail(&err);
	if (!a->json) {
		printf("%-32s %-32s %s\n", "NAME", "CREATED", "STATEFUL");
		for (int i = 0; i < n; i++)
			printf("%-32s %-32s %s\n", l[i]->name,
			       l[i]->created_at ? l[i]->created_at : "",
			       l[i]->stateful ? "yes" : "no");
		return EXIT_OK;
	}
	arr = json_array();
	for (int i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s?, s:b}", "name", l[i]->name,
		                                     "created_at", l[i]->created_at, "stateful",
		                                     l[i]->stateful));
	s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (!s)
		return cmd_failf("out of memory");
	printf("%s\n", s);
	free(s);
	return EXIT_OK;
}

static int cmd_restore(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	struct coi_error err = {0};

	if (argc != 1)
		return USAGE_ERROR("usage: coi snapshot restore NAME [-c CONTAINER] [-f]");
	if (incus_instance_state(c, a->container, &st, &err) < 0)
		return cmd_fail(&err);
	if (st->status != INCUS_STATUS_STOPPED && !a->force)
		return cmd_failf("container '%s' is %s: stop it first, or use --force",
		                 a->container, incus_status_to_string(st->status));
	if (st->status != INCUS_STATUS_STOPPED &&
	    incus_instance_set_state(c, a->container, INCUS_ACTION_STOP, true, -1, &err) < 0)
		return cmd_fail(&err);
	if (incus_snapshot_restore(c, a->container, argv[0], a->stateful, &err) < 0)
		return cmd_fail(&err);
	return EXIT_OK;
}

static int cmd_delete(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	struct coi_error err = {0};
	int n;

	if (a->all == (argc == 1) || argc > 1)
		return USAGE_ERROR("usage: coi snapshot delete NAME|--all [-c CONTAINER]");
	if (!a->all)
		return incus_snapshot_delete(c, a->container, argv[0], &err) < 0 ? cmd_fail(&err)
		                                                                 : EXIT_OK;
	n = incus_snapshot_list(c, a->container, &l, &err);
	for (int i = 0; n > 0 && i < n; i++)
		if (incus_snapshot_delete(c, a->container, l[i]->name, &err) < 0)
			return cmd_fail(&err);
	return n < 0 ? cmd_fail(&err) : EXIT_OK;
}

/* clang-format off */
static const struct subcmd subcmds[] = {
	{ "create",  .run = cmd_create },
	{ "list",    .run = cmd_list },
	{ "restore", .run = cmd_restore },
	{ "delete",  .run = cmd_delete },
};
/* clang-format on */

static int run(int argc, char **argv)
{
	struct snap_args a = {0};
	const struct subcmd_table t = {
	        .verb = &verb_snapshot,
	        .subs = subcmds,
	        .n = ELEMENTSOF(subcmds),
	        .parse = parse,
	        .args = &a,
	};

	return subcmd_dispatch(&t, argc, argv);
}

const struct verb verb_snapshot = {
        .name = "snapshot",
        .run = run,
        .summary = "create, list, restore and delete container snapshots",
        .usage = "Usage: coi snapshot SUBCOMMAND [-c CONTAINER] ...\n"
                 "\n"
                 "  create [NAME] [--stateful]   NAME defaults to snap-YYYYMMDD-HHMMSS (UTC)\n"
                 "  list [--format text|json] [--json]\n"
                 "  restore NAME [-f|--force] [--stateful]\n"
                 "                               the container must be stopped (--force stops it)\n"
                 "  delete NAME|--all\n"
                 "\n"
                 "The container is -c/--container NAME, else $COI_CONTAINER.",
};
