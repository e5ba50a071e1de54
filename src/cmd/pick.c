/* SPDX-License-Identifier: MIT */
/* pick.c: see pick.h. */
#include "cmd/pick.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "session/alias.h"
#include "session/fleet.h"
#include "session/naming.h"
#include "util/error.h"
#include "util/path.h"

/* A warm container ([container] warm), or one its filler is still making, is nobody's session:
 * beside a detached coi shell it would make a bare 'coi attach' ask which one, and alone it
 * would be attached to (its missing tmux ending it) or acted on as if it were the user's. */
static bool wanted(const struct fleet_entry *e, const char *ws, const struct cmd_pick *p)
{
	return !e->warm && !e->filling && strcmp(e->workspace, ws) == 0 &&
	       (!p->slot || e->slot == p->slot) &&
	       (!p->running || strcmp(e->status, "Running") == 0);
}

int cmd_pick_session(struct incus_client *c, const struct cmd_pick *p, char **ret,
                     struct coi_error *err)
{
	const char *env = secure_getenv("COI_CONTAINER");
	_cleanup_free_ char *ws = NULL, *profile = NULL;
	struct fleet f = {0};
	int n = 0, r;

	/* a project's alias (session/alias.h) stands for its workspace */
	if (p->name && session_parse_name(p->name, NULL) < 0 &&
	    alias_lookup(p->name, &ws, &profile, NULL) >= 0)
		return cmd_pick_session(
		        c, &(struct cmd_pick){.workspace = ws, .running = p->running}, ret, err);
	if (p->name || (!p->slot && !p->workspace && env && *env))
		return (*ret = strdup(p->name ? p->name : env)) ? 0 : coi_error_oom(err);
	r = path_absolute(p->workspace ? p->workspace : ".", &ws, err);
	if (r >= 0)
		r = fleet_list(c, false, &f, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < f.n; i++)
		if (wanted(&f.items[i], ws, p) && n++ == 0)
			*ret = strdup(f.items[i].name);
	if (n > 1)
		for (size_t i = 0; i < f.n; i++)
			if (wanted(&f.items[i], ws, p))
				fprintf(stderr, "  %s  %s\n", output_safe(f.items[i].name),
				        output_safe(f.items[i].status));
	fleet_release(&f);
	if (n == 1)
		return *ret ? 0 : coi_error_oom(err);
	if (n > 1) {
		*ret = (free(*ret), NULL);
		return coi_error_set(err, -EEXIST,
		                     "several sessions on this workspace (listed above): name one, "
		                     "or give --slot N");
	}
	if (p->slot)
		return coi_error_set(err, -ENOENT,
		                     "no %ssession in slot %d of %s (coi list shows "
		                     "them all)",
		                     p->running ? "running " : "", p->slot, ws);
	return coi_error_set(err, -ENOENT, "no %ssession on %s: name one (coi list shows them all)",
	                     p->running ? "running " : "", ws);
}
