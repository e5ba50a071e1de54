/* SPDX-License-Identifier: MIT */
/* coi shutdown: stop sessions gracefully (the agent and its processes get the shutdown signal
 * and a grace period), force them after it, then delete them, persistent ones too, and remove
 * their host state. coi persist: keep running ephemeral sessions after all. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"

const struct verb verb_shutdown;
const struct verb verb_persist;

/* Names from the arguments, or every coi session with --all; calls fn for each. */
static int for_each(const struct verb *v, int argc, char **argv, int timeout,
                    int (*fn)(struct incus_client *c, const char *name, int timeout))
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	struct coi_error err = {0};
	bool all = false;
	int status = EXIT_OK;

	for (int i = optind; i < argc; i++)
		all = all || strcmp(argv[i], "--all") == 0;
	if (!all && optind >= argc)
		return cmd_usage_error(v, "name the sessions, or use --all");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (all) {
		struct fleet f = {0};

		if (fleet_list(c, false, &f, &err) < 0)
			return cmd_fail(&err);
		for (size_t i = 0; i < f.n; i++)
			if (fn(c, f.items[i].name, timeout) != EXIT_OK)
				status = EXIT_FAIL;
		fleet_release(&f);
		return status;
	}
	for (int i = optind; i < argc; i++)
		if (fn(c, argv[i], timeout) != EXIT_OK)
			status = EXIT_FAIL;
	return status;
}

static int shutdown_one(struct incus_client *c, const char *name, int timeout)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct coi_error err = {0};
	int r = incus_instance_get(c, name, &in, &err);

	if (r >= 0 && in->status != INCUS_STATUS_STOPPED)
		r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, timeout == 0, timeout,
		                             &err);
	if (r < 0 && r != -ENOENT) {
		/* the grace period ran out, or the stop failed: force it */
		coi_error_clear(&err);
		r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, true, -1, &err);
	}
	if ((r >= 0 || r == -ENOENT) && fleet_kill(c, name, NULL, &err) >= 0) {
		fprintf(stderr, "coi: shut down %s\n", name);
		return EXIT_OK;
	}
	fprintf(stderr, "coi: cannot shut down '%s': %s\n", name, coi_error_message(&err));
	return EXIT_FAIL;
}

static int persist_one(struct incus_client *c, const char *name, int timeout)
{
	struct incus_map cfg = {0};
	struct coi_error err = {0};
	int r;

	(void)timeout;
	if (incus_map_set(&cfg, "user.coi.persistent", "true") < 0)
		return cmd_failf("out of memory");
	r = incus_instance_patch(c, name, &cfg, NULL, &err);
	incus_map_clear(&cfg);
	if (r < 0) {
		fprintf(stderr, "coi: cannot persist '%s': %s\n", name, coi_error_message(&err));
		return EXIT_FAIL;
	}
	fprintf(stderr, "coi: %s is now persistent: it is kept when its session ends\n", name);
	return EXIT_OK;
}

static int run_shutdown(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"timeout", required_argument, NULL, 't'},
	        {"force", no_argument, NULL, 'f'},
	        {"all", no_argument, NULL, 'a'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int o, timeout = 60;
	bool all = false;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+t:fah", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			timeout = atoi(optarg);
			break;
		case 'f':
			timeout = 0;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			return cmd_help(&verb_shutdown);
		default:
			return cmd_usage_error(&verb_shutdown, "invalid option");
		}
	}
	if (all) {
		char *a[] = {argv[0], "--all", NULL};

		optind = 1;
		return for_each(&verb_shutdown, 2, a, timeout, shutdown_one);
	}
	return for_each(&verb_shutdown, argc, argv, timeout, shutdown_one);
}

static int run_persist(int argc, char **argv)
{
	if (cmd_wants_help(argc, argv))
		return cmd_help(&verb_persist);
	optind = 1;
	return for_each(&verb_persist, argc, argv, 0, persist_one);
}

const struct verb verb_shutdown = {
        .name = "shutdown",
        .run = run_shutdown,
        .summary = "stop sessions gracefully, then delete them",
        .usage = "Usage: coi shutdown NAME... | --all [--timeout N] [--force]\n"
                 "\n"
                 "Stop the named sessions gracefully (N seconds of grace, default 60), force them\n"
                 "after that, then delete them (persistent ones too) and remove their host state.\n"
                 "\n"
                 "  -t, --timeout N  seconds of grace\n"
                 "  -f, --force      no grace\n"
                 "  -a, --all        every coi session",
};

const struct verb verb_persist = {
        .name = "persist",
        .run = run_persist,
        .summary = "keep running ephemeral sessions when they end",
        .usage =
                "Usage: coi persist NAME... | --all\n"
                "\n"
                "Mark running ephemeral sessions persistent: when their session ends the container\n"
                "is stopped and kept, and the next session of that workspace reuses it.",
};
