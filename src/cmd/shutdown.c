/* SPDX-License-Identifier: MIT */
/* coi shutdown: stop sessions gracefully (the agent and its processes get the shutdown signal
 * and a grace period), force them after it, then delete them, persistent ones too, and remove
 * their host state. coi persist: keep running ephemeral sessions after all. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/each.h"
#include "config/config.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_shutdown;
const struct verb verb_persist;

/* The names after the options; "--all" among them (persist parses no options) means every
 * session. */
static int for_each(const struct verb *v, int argc, char **argv, struct cmd_each *e, cmd_each_fn fn,
                    void *userdata)
{
	for (int i = optind; i < argc; i++)
		e->all = e->all || strcmp(argv[i], "--all") == 0;
	return cmd_each_session(v, e, argv + optind, argc - optind, fn, userdata);
}

static int shutdown_one(struct incus_client *c, const char *name, void *userdata)
{
	int timeout = *(const int *)userdata;
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct coi_error err = {0};
	char **report = NULL;
	int r = incus_instance_get(c, name, &in, &err);

	if (r >= 0 && in->status != INCUS_STATUS_STOPPED)
		r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, timeout == 0, timeout,
		                             &err);
	if (r < 0 && r != -ENOENT) {
		/* the grace period ran out, or the stop failed: force it */
		coi_error_clear(&err);
		r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, true, -1, &err);
	}
	if ((r >= 0 || r == -ENOENT) && fleet_kill(c, name, NULL, &report, &err) >= 0) {
		cmd_print_report(report);
		fprintf(stderr, "coi: shut down %s\n", name);
		return EXIT_OK;
	}
	cmd_print_report(report);
	fprintf(stderr, "coi: cannot shut down '%s': %s\n", name, coi_error_message(&err));
	return EXIT_FAIL;
}

/* userdata: true with --all, which passes over the warm pool's containers */
static int persist_one(struct incus_client *c, const char *name, void *userdata)
{
	struct coi_error err = {0};
	int r = fleet_persist(c, name, &err);

	if (r == -EBUSY && *(const bool *)userdata)
		return EXIT_OK;
	if (r < 0) {
		fprintf(stderr, "coi: cannot persist '%s': %s\n", name, coi_error_message(&err));
		return EXIT_FAIL;
	}
	fprintf(stderr, "coi: %s is now persistent: it is kept when its session ends\n", name);
	return EXIT_OK;
}

/* [container] shutdown_timeout, as the original reads it since --timeout went; 60 when the
 * configuration cannot be read. */
static int config_timeout(void)
{
	struct coi_config *cfg = NULL;
	char **warnings = NULL; /* the session verbs and 'coi config' show them */
	int t = 60;

	if (config_load(&(struct config_load_opts){0}, &cfg, &warnings, NULL) >= 0)
		t = cfg->container.shutdown_timeout < 0 ? 0 : cfg->container.shutdown_timeout;
	strv_free(warnings);
	config_free(cfg);
	return t;
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
	struct cmd_each e = {.confirm = "Shut down"};
	int o, timeout = -1;
	char *end;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+t:fah", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			errno = 0;
			timeout = (int)strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || timeout < 0 || timeout > 86400)
				return cmd_usage_error(
				        &verb_shutdown,
				        "--timeout takes seconds, 0 to 86400, not '%s'", optarg);
			break;
		case 'f':
			e.force = true;
			break;
		case 'a':
			e.all = true;
			break;
		case 'h':
			return cmd_help(&verb_shutdown);
		default:
			return cmd_bad_option(&verb_shutdown, argv);
		}
	}
	if (timeout < 0)
		timeout = config_timeout();
	return for_each(&verb_shutdown, argc, argv, &e, shutdown_one, &timeout);
}

static int run_persist(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"all", no_argument, NULL, 'a'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct cmd_each e = {0};
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		if (o == 'a')
			e.all = true;
		else if (o == 'h')
			return cmd_help(&verb_persist);
		else
			return cmd_bad_option(&verb_persist, argv);
	}
	return for_each(&verb_persist, argc, argv, &e, persist_one, &e.all);
}

const struct verb verb_shutdown = {
        .name = "shutdown",
        .alias = "close",
        .run = run_shutdown,
        .summary = "stop sessions gracefully, then delete them",
        .usage = "Usage: coi shutdown NAME... | --all [--timeout N] [--force]\n"
                 "\n"
                 "Stop the named sessions gracefully (N seconds of grace, default [container]\n"
                 "shutdown_timeout, 60), force them after that, then delete them (persistent\n"
                 "ones too) and remove their host state. 'coi close' is the same verb.\n"
                 "\n"
                 "  -t, --timeout N  seconds of grace (0: force at once)\n"
                 "  -a, --all        every coi session (on a terminal, asks first)\n"
                 "  -f, --force      do not ask",
};

const struct verb verb_persist = {
        .name = "persist",
        .run = run_persist,
        .summary = "keep running ephemeral sessions when they end",
        .usage =
                "Usage: coi persist NAME... | -a|--all\n"
                "\n"
                "Mark running ephemeral sessions persistent: when their session ends the container\n"
                "is stopped and kept, and the next session of that workspace reuses it. A container\n"
                "of the warm pool ([container] warm) is no session yet: named, it is refused; --all\n"
                "passes over it.",
};
