/* SPDX-License-Identifier: MIT */
/* coi unfreeze: resume containers the monitor froze on a HIGH finding: the ones named, or every
 * frozen coi session (asked first on a terminal). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_unfreeze;

static int unfreeze_one(struct incus_client *c, const char *name)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct coi_error err = {0};

	if (incus_instance_get(c, name, &in, &err) < 0) {
		fprintf(stderr, "coi: cannot unfreeze '%s': %s\n", name, coi_error_message(&err));
		return EXIT_FAIL;
	}
	if (in->status != INCUS_STATUS_FROZEN) {
		fprintf(stderr, "coi: '%s' is %s, not frozen\n", name,
		        incus_status_to_string(in->status));
		return EXIT_FAIL;
	}
	if (incus_instance_set_state(c, name, INCUS_ACTION_UNFREEZE, false, -1, &err) < 0) {
		fprintf(stderr, "coi: cannot unfreeze '%s': %s\n", name, coi_error_message(&err));
		return EXIT_FAIL;
	}
	printf("container '%s' resumed\n", name);
	return EXIT_OK;
}

/* No name: every frozen coi session, listed and (on a terminal, without --force) confirmed. */
static int frozen_sessions(struct incus_client *c, bool force, char ***ret)
{
	struct coi_error err = {0};
	struct fleet f = {0};
	char q[64];

	if (fleet_list(c, false, &f, &err) < 0)
		return cmd_fail(&err);
	for (size_t i = 0; i < f.n; i++)
		if (strcmp(f.items[i].status, "Frozen") == 0 &&
		    strv_push(ret, f.items[i].name) < 0) {
			fleet_release(&f);
			return cmd_failf("out of memory");
		}
	fleet_release(&f);
	if (!*ret) {
		fprintf(stderr, "coi: no frozen session\n");
		return EXIT_OK;
	}
	if (force || !output_is_tty(stdin))
		return -1;
	strv_foreach(n, *ret)
		fprintf(stderr, "  %s\n", output_safe(*n));
	(void)snprintf(q, sizeof(q), "Resume these %zu session(s)?", strv_length(*ret));
	if (output_confirm(q))
		return -1;
	fprintf(stderr, "coi: cancelled, nothing done\n");
	return EXIT_FAIL;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"force", no_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_incus_client_ struct incus_client *c = NULL;
	_cleanup_strv_free_ char **all = NULL;
	bool force = false;
	int o, status = EXIT_OK;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (o == 'f')
			force = true;
		else if (o == 'h')
			return cmd_help(&verb_unfreeze);
		else
			return cmd_bad_option(&verb_unfreeze, argv);
	}
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (optind == argc) {
		int r = frozen_sessions(c, force, &all);

		if (r >= 0)
			return r;
		strv_foreach(n, all)
			if (unfreeze_one(c, *n) != EXIT_OK)
				status = EXIT_FAIL;
		return status;
	}
	for (; optind < argc; optind++)
		if (unfreeze_one(c, argv[optind]) != EXIT_OK)
			status = EXIT_FAIL;
	return status;
}

const struct verb verb_unfreeze = {
        .name = "unfreeze",
        .run = run,
        .summary = "resume containers the security monitor froze",
        .usage = "Usage: coi unfreeze [NAME...] [--force]\n"
                 "\n"
                 "Resume NAME after the monitor froze it on a HIGH finding; without NAME, every\n"
                 "frozen coi session (on a terminal coi lists them and asks first). Check 'coi\n"
                 "audit NAME' first: the finding says what the agent did.\n"
                 "\n"
                 "  -f, --force   do not ask",
};
