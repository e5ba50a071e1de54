/* SPDX-License-Identifier: MIT */
/* coi attach: back into a detached session's tmux. When the agent has exited by the time the
 * user leaves, the session ends here: the container is deleted (stopped if persistent) and its
 * host state removed. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "session/naming.h"
#include "session/saved.h"
#include "session/tmux.h"
#include "util/error.h"
#include "util/path.h"

const struct verb verb_attach;

/* With no name: the one running session of this workspace. */
static int pick(struct incus_client *c, const char *arg, char **ret, struct coi_error *err)
{
	_cleanup_free_ char *ws = NULL;
	struct fleet f = {0};
	int n = 0, r;

	if (arg)
		return (*ret = strdup(arg)) ? 0 : coi_error_oom(err);
	r = path_absolute(".", &ws, err);
	if (r >= 0)
		r = fleet_list(c, false, &f, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < f.n; i++)
		if (strcmp(f.items[i].workspace, ws) == 0 &&
		    strcmp(f.items[i].status, "Running") == 0) {
			if (n++ == 0)
				*ret = strdup(f.items[i].name);
			fprintf(stderr, "  %s\n", f.items[i].name);
		}
	fleet_release(&f);
	if (n == 1)
		return *ret ? 0 : coi_error_oom(err);
	return coi_error_set(err, -ENOENT,
	                     n ? "several sessions run on this workspace (listed above): name one"
	                       : "no running session on this workspace (coi list shows them all)");
}

static int end_session(struct incus_client *c, const struct incus_instance *in, bool persistent)
{
	const char *name = in->name;
	struct coi_error err = {0};
	char **report = NULL;
	int r;

	if (!persistent) {
		/* the agent's state outlives the container, as at the end of coi shell */
		if (saved_session_save_instance(c, in, &err) < 0)
			fprintf(stderr, "coi: warning: the agent's session was not saved: %s\n",
			        coi_error_message(&err));
		coi_error_clear(&err);
	}
	if (persistent) {
		r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, true, -1, &err);
		if (r >= 0)
			r = fleet_cleanup_host(name, NULL, &report, &err);
	} else {
		r = fleet_kill(c, name, NULL, &report, &err);
	}
	cmd_print_report(report);
	if (r < 0)
		return cmd_fail(&err);
	fprintf(stderr, "coi: session %s ended\n", name);
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	_cleanup_free_ char *name = NULL;
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};
	char *tmux[] = {"tmux", "attach-session", "-t", COI_TMUX_SESSION, NULL};
	const char *pers;
	long long uid = 1000;

	if (cmd_wants_help(argc, argv))
		return cmd_help(&verb_attach);
	if (argc > 2)
		return cmd_usage_error(&verb_attach, "attach takes at most one session name");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cmd_failf("coi attach needs a terminal");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (pick(c, argc > 1 ? argv[1] : NULL, &name, &err) < 0 ||
	    incus_instance_get(c, name, &in, &err) < 0)
		return cmd_fail(&err);
	if (!incus_map_get(&in->config, "user.coi.workspace"))
		return cmd_failf("'%s' is not a coi session", name);
	pers = incus_map_get(&in->config, "user.coi.persistent");
	incus_exec_opts_init(&o);
	o.argv = tmux;
	o.uid = uid;
	o.gid = uid;
	o.mode = INCUS_EXEC_INTERACTIVE;
	if (incus_exec(c, name, &o, &res, &err) < 0)
		return cmd_fail(&err);
	incus_exec_result_release(&res);
	if (tmux_alive(c, name, uid, &err) > 0) {
		fprintf(stderr, "coi: detached from %s\n", name);
		return EXIT_OK;
	}
	return end_session(c, in, pers && strcmp(pers, "true") == 0);
}

const struct verb verb_attach = {
        .name = "attach",
        .run = run,
        .summary = "return to a detached session",
        .usage =
                "Usage: coi attach [NAME]\n"
                "\n"
                "Attach this terminal to the agent's tmux in session NAME (default: the one running\n"
                "session of the current workspace). Detach again with Ctrl-b d. If the agent has\n"
                "exited when you leave, the session ends: the container is deleted (stopped if\n"
                "persistent) and its host state removed.",
};
