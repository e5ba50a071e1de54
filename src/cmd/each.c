/* SPDX-License-Identifier: MIT */
#include "cmd/each.h"

#include <stdio.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"

/* A name the daemon does not know: said, and a failure (coi kill of a typo is not "killed"). */
static int one(struct incus_client *c, const char *name, cmd_each_fn fn, void *userdata)
{
	struct coi_error err = {0};
	int r = incus_instance_exists(c, name, &err);

	if (r < 0)
		return cmd_fail(&err);
	if (r == 0) {
		fprintf(stderr, "coi: no session '%s' on this daemon ('coi list' shows them)\n",
		        output_safe(name));
		return EXIT_FAIL;
	}
	return fn(c, name, userdata);
}

/* --all on a terminal: the sessions, and the question. */
static bool confirmed(const struct cmd_each *e, const struct fleet *f)
{
	char q[96];

	if (!e->confirm || e->force || f->n == 0 || !output_is_tty(stdin))
		return true;
	for (size_t i = 0; i < f->n; i++)
		fprintf(stderr, "  %s  %s  %s\n", output_safe(f->items[i].name),
		        output_safe(f->items[i].status), output_safe(f->items[i].workspace));
	(void)snprintf(q, sizeof(q), "%s these %zu session(s)?", e->confirm, f->n);
	return output_confirm(q);
}

int cmd_each_session(const struct verb *v, const struct cmd_each *e, char **names, int n,
                     cmd_each_fn fn, void *userdata)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	struct fleet f = {0};
	struct coi_error err = {0};
	int status = EXIT_OK;

	if (!e->all && n <= 0)
		return cmd_usage_error(v, "name the sessions, or use --all");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (!e->all) {
		for (int i = 0; i < n; i++)
			if (one(c, names[i], fn, userdata) != EXIT_OK)
				status = EXIT_FAIL;
		return status;
	}
	if (fleet_list(c, false, &f, &err) < 0)
		return cmd_fail(&err);
	if (!confirmed(e, &f)) {
		fprintf(stderr, "coi: cancelled, nothing done\n");
		fleet_release(&f);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < f.n; i++)
		if (fn(c, f.items[i].name, userdata) != EXIT_OK)
			status = EXIT_FAIL;
	fleet_release(&f);
	return status;
}
