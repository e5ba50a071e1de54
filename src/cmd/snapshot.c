/* SPDX-License-Identifier: MIT */
/* coi snapshot: create, list, inspect, restore, delete snapshots of a container (-c NAME,
 * $COI_CONTAINER, or the session of this workspace). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/pick.h"
#include "cmd/subcmd.h"
#include "cmd/table.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"
#include "util/json.h"

const struct verb verb_snapshot;

#define USAGE_ERROR(...) cmd_usage_error(&verb_snapshot, __VA_ARGS__)
#define BAD_OPTION(argv) cmd_bad_option(&verb_snapshot, argv)

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
	int o, json = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "c:fa", opts, NULL)) != -1) {
		if (o == 'c')
			a->container = optarg;
		else if (o == 'j')
			a->json = true;
		else if (o == 'F' && cmd_parse_format(&verb_snapshot, optarg, &json))
			return EXIT_USAGE;
		else if (o == 'F')
			a->json = json;
		else if (o == 's')
			a->stateful = true;
		else if (o == 'f')
			a->force = true;
		else if (o == 'a')
			a->all = true;
		else
			return BAD_OPTION(argv);
	}
	return 0;
}

/* -c NAME, else $COI_CONTAINER, else the one session of this workspace: 0, or the exit status
 * after saying why. */
static int target(struct incus_client *c, const struct snap_args *a, char **ret)
{
	struct coi_error err = {0};

	return cmd_pick_session(c, &(struct cmd_pick){.name = a->container}, ret, &err) < 0
	               ? cmd_fail(&err)
	               : 0;
}

static int cmd_create(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_free_ char *ct = NULL;
	struct coi_error err = {0};
	char name[64];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (argc > 1)
		return USAGE_ERROR("usage: coi snapshot create [NAME] [-c CONTAINER]");
	if ((r = target(c, a, &ct)))
		return r;
	if (argc == 0)
		strftime(name, sizeof(name), "snap-%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
	if (incus_snapshot_create(c, ct, argc ? argv[0] : name, a->stateful, &err) < 0)
		return cmd_fail(&err);
	printf("%s\n", argc ? argv[0] : name);
	return EXIT_OK;
}

static json_t *snap_json(const char *container, const struct incus_snapshot *s)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:I}", "container", container, "name",
	                 s->name, "created_at", s->created_at, "expires_at", s->expires_at,
	                 "stateful", s->stateful, "size", (json_int_t)s->size);
}

/* The snapshots of one container into the table or the array. */
static int list_one(struct incus_client *c, const char *ct, struct table *t, json_t *arr)
{
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	struct coi_error err = {0};
	int n = incus_snapshot_list(c, ct, &l, &err);

	if (n < 0)
		return cmd_fail(&err);
	for (int i = 0; i < n; i++) {
		const char *row[] = {ct, l[i]->name, l[i]->created_at,
		                     l[i]->stateful ? "yes" : "no", NULL};

		if ((arr && json_array_append_new(arr, snap_json(ct, l[i])) < 0) ||
		    (t && table_add(t, row) < 0))
			return cmd_failf("out of memory");
	}
	return EXIT_OK;
}

/* list: one container's snapshots; --all: those of every coi session. */
static int cmd_list(struct incus_client *c, const void *args, int argc, char **argv)
{
	static const char *const headers[] = {"CONTAINER", "NAME", "CREATED", "STATEFUL", NULL};
	const struct snap_args *a = args;
	_cleanup_free_ char *ct = NULL;
	_cleanup_json_ json_t *arr = NULL;
	struct table *t = NULL;
	struct coi_error err = {0};
	struct fleet f = {0};
	int r = EXIT_OK;

	if (argc != 0)
		return USAGE_ERROR("unexpected argument '%s'", argv[0]);
	if (a->all && a->container)
		return USAGE_ERROR("--all lists every session's snapshots: no -c with it");
	if (a->all && fleet_list(c, false, &f, &err) < 0)
		return cmd_fail(&err);
	if (!a->all && (r = target(c, a, &ct)))
		return r;
	if (a->json)
		arr = json_array();
	else
		t = table_new(headers);
	if (!arr && !t)
		r = cmd_failf("out of memory");
	for (size_t i = 0; r == EXIT_OK && i < (a->all ? f.n : 1); i++)
		r = list_one(c, a->all ? f.items[i].name : ct, t, arr);
	if (r == EXIT_OK) {
		r = table_or_json_print(t, arr); /* frees t */
		t = NULL;
	}
	table_free(t);
	fleet_release(&f);
	return r;
}

static int cmd_info(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	_cleanup_free_ char *ct = NULL, *s = NULL;
	struct coi_error err = {0};
	int n, r;

	if (argc != 1)
		return USAGE_ERROR("usage: coi snapshot info NAME [-c CONTAINER] [--json]");
	if ((r = target(c, a, &ct)))
		return r;
	n = incus_snapshot_list(c, ct, &l, &err);
	if (n < 0)
		return cmd_fail(&err);
	for (int i = 0; i < n; i++) {
		if (strcmp(l[i]->name, argv[0]) != 0)
			continue;
		if (a->json) {
			_cleanup_json_ json_t *j = snap_json(ct, l[i]);

			s = j ? json_dumps(j, JSON_COMPACT) : NULL;
			if (!s)
				return cmd_failf("out of memory");
			printf("%s\n", s);
			return EXIT_OK;
		}
		printf("Container: %s\nName: %s\nCreated: %s\nExpires: %s\nStateful: %s\n", ct,
		       l[i]->name, l[i]->created_at ? l[i]->created_at : "-",
		       l[i]->expires_at && *l[i]->expires_at ? l[i]->expires_at : "never",
		       l[i]->stateful ? "yes" : "no");
		if (l[i]->size >= 0)
			printf("Size: %.1f MiB\n", (double)l[i]->size / 1048576.0);
		return EXIT_OK;
	}
	return cmd_failf("'%s' has no snapshot '%s' ('coi snapshot list -c %s' shows them)", ct,
	                 argv[0], ct);
}

static int cmd_restore(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	_cleanup_free_ char *ct = NULL;
	struct coi_error err = {0};
	int r;

	if (argc != 1)
		return USAGE_ERROR("usage: coi snapshot restore NAME [-c CONTAINER] [-f]");
	if ((r = target(c, a, &ct)))
		return r;
	if (incus_instance_state(c, ct, &st, &err) < 0)
		return cmd_fail(&err);
	if (st->status != INCUS_STATUS_STOPPED && !a->force)
		return cmd_failf("container '%s' is %s: stop it first, or use --force", ct,
		                 incus_status_to_string(st->status));
	if (st->status != INCUS_STATUS_STOPPED &&
	    incus_instance_set_state(c, ct, INCUS_ACTION_STOP, true, -1, &err) < 0)
		return cmd_fail(&err);
	if (incus_snapshot_restore(c, ct, argv[0], a->stateful, &err) < 0)
		return cmd_fail(&err);
	return EXIT_OK;
}

static int cmd_delete(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct snap_args *a = args;
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	_cleanup_free_ char *ct = NULL;
	struct coi_error err = {0};
	int n, r;

	if (a->all == (argc == 1) || argc > 1)
		return USAGE_ERROR("usage: coi snapshot delete NAME|--all [-c CONTAINER]");
	if ((r = target(c, a, &ct)))
		return r;
	if (!a->all)
		return incus_snapshot_delete(c, ct, argv[0], &err) < 0 ? cmd_fail(&err) : EXIT_OK;
	n = incus_snapshot_list(c, ct, &l, &err);
	for (int i = 0; n > 0 && i < n; i++)
		if (incus_snapshot_delete(c, ct, l[i]->name, &err) < 0)
			return cmd_fail(&err);
	return n < 0 ? cmd_fail(&err) : EXIT_OK;
}

/* clang-format off */
static const struct subcmd subcmds[] = {
	{ "create",  .run = cmd_create },
	{ "list",    .run = cmd_list },
	{ "info",    .run = cmd_info },
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
                 "  list [--all] [--json | --format text|json]\n"
                 "                               --all: the snapshots of every coi session\n"
                 "  info NAME [--json | --format text|json]\n"
                 "  restore NAME [-f|--force] [--stateful]\n"
                 "                               the container must be stopped (--force stops it)\n"
                 "  delete NAME|--all\n"
                 "\n"
                 "The container is -c/--container NAME, else $COI_CONTAINER, else the one session\n"
                 "of the current workspace.",
};
