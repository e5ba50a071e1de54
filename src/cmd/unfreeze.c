/* SPDX-License-Identifier: MIT */
/* coi unfreeze: resume a container the monitor froze on a HIGH finding. */
#include <stdio.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"
#include "util/error.h"

const struct verb verb_unfreeze;

static int run(int argc, char **argv)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	struct coi_error err = {0};

	if (cmd_wants_help(argc, argv))
		return cmd_help(&verb_unfreeze);
	if (argc != 2)
		return cmd_usage_error(&verb_unfreeze, "expected one container NAME");
	if (cmd_client_new(&c, &err) < 0 ||
	    incus_instance_set_state(c, argv[1], INCUS_ACTION_UNFREEZE, false, -1, &err) < 0)
		return cmd_fail(&err);
	printf("container '%s' resumed\n", argv[1]);
	return EXIT_OK;
}

const struct verb verb_unfreeze = {
        .name = "unfreeze",
        .run = run,
        .summary = "resume a container the security monitor froze",
        .usage =
                "Usage: coi unfreeze NAME\n"
                "\n"
                "Resume NAME after the monitor froze it on a HIGH finding. Check 'coi audit NAME'\n"
                "first: the finding says what the agent did.",
};
