/* SPDX-License-Identifier: MIT */
#include "cmd/each.h"

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"

int cmd_each_session(const struct verb *v, bool all, char **names, int n, cmd_each_fn fn,
                     void *userdata)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	struct fleet f = {0};
	struct coi_error err = {0};
	int status = EXIT_OK;

	if (!all && n <= 0)
		return cmd_usage_error(v, "name the sessions, or use --all");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (!all) {
		for (int i = 0; i < n; i++)
			if (fn(c, names[i], userdata) != EXIT_OK)
				status = EXIT_FAIL;
		return status;
	}
	if (fleet_list(c, false, &f, &err) < 0)
		return cmd_fail(&err);
	for (size_t i = 0; i < f.n; i++)
		if (fn(c, f.items[i].name, userdata) != EXIT_OK)
			status = EXIT_FAIL;
	fleet_release(&f);
	return status;
}
