/* SPDX-License-Identifier: MIT */
/* coi attach: back into a detached session's tmux. When the agent has exited by the time the
 * user leaves, the session ends here: the container is deleted (stopped if persistent) and its
 * host state removed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/agent.h"
#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/pick.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "session/naming.h"
#include "session/saved.h"
#include "session/tmux.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

const struct verb verb_attach;

#define CODE_UID 1000 /* the image's user 'code' */

static int end_session(struct incus_client *c, const struct incus_instance *in, bool persistent,
                       int64_t ran_ms, int tmux_status)
{
	const char *name = in->name;
	struct coi_error err = {0};
	char **report = NULL;
	int r, status = cmd_agent_ended(c, name, "code", ran_ms, tmux_status);

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
	return status;
}

/* --bash: a shell in the session, beside the agent (which keeps running). */
static int run_bash(struct incus_client *c, const char *name, const struct incus_instance *in)
{
	const char *ws = incus_map_get(&in->config, "user.coi.workspace");
	_cleanup_free_ char *wsenv = NULL;
	/* /workspace, or the host path with [paths] preserve_workspace_path */
	char *bash[] = {"sh", "-c",
	                ". \"$HOME/.config/coi/env\" 2>/dev/null; cd /workspace 2>/dev/null || "
	                "cd \"$COI_WORKSPACE\"; exec bash -l",
	                NULL};
	char *env[] = {"HOME=/home/code", "USER=code", NULL, NULL};
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};

	if (asprintf(&wsenv, "COI_WORKSPACE=%s", ws ? ws : "") < 0)
		return cmd_failf("out of memory");
	env[2] = wsenv;
	incus_exec_opts_init(&o);
	o.argv = bash;
	o.env = env;
	o.uid = CODE_UID;
	o.gid = CODE_UID;
	o.mode = INCUS_EXEC_INTERACTIVE;
	if (incus_exec(c, name, &o, &res, &err) < 0)
		return cmd_fail(&err);
	incus_exec_result_release(&res);
	return res.exit_status;
}

/* The agent's tmux, with coi's keys; when the agent has exited by the time the user leaves, the
 * session ends here. */
static int attach_tmux(struct incus_client *c, const struct incus_instance *in)
{
	const char *pers = incus_map_get(&in->config, "user.coi.persistent");
	bool nested = getenv("TMUX") && *getenv("TMUX");
	_cleanup_strv_free_ char **tmux = NULL;
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};
	int64_t t0;

	if (strv_push(&tmux, "tmux") < 0 || strv_push(&tmux, "attach-session") < 0 ||
	    strv_push(&tmux, "-t") < 0 || strv_push(&tmux, COI_TMUX_SESSION) < 0 ||
	    tmux_key_args(&tmux, nested) < 0)
		return cmd_failf("out of memory");
	incus_exec_opts_init(&o);
	o.argv = tmux;
	o.uid = CODE_UID;
	o.gid = CODE_UID;
	o.mode = INCUS_EXEC_INTERACTIVE;
	t0 = clock_mono_ms();
	if (incus_exec(c, in->name, &o, &res, &err) < 0)
		return cmd_fail(&err);
	incus_exec_result_release(&res);
	if (tmux_alive(c, in->name, CODE_UID, &err) > 0) {
		if (res.exit_status != 0)
			return cmd_agent_detached(in->name, res.exit_status);
		fprintf(stderr, "coi: detached from %s\n", in->name);
		return EXIT_OK;
	}
	return end_session(c, in, pers && strcmp(pers, "true") == 0, clock_mono_ms() - t0,
	                   res.exit_status);
}

/* Options into p and *bash; -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct cmd_pick *p, bool *bash)
{
	static const struct option opts[] = {
	        {"workspace", required_argument, NULL, 'w'},
	        {"slot", required_argument, NULL, 'S'},
	        {"bash", no_argument, NULL, 'b'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	char *end;
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+w:h", opts, NULL)) != -1) {
		if (opt == 'w') {
			p->workspace = optarg;
		} else if (opt == 'S') {
			p->slot = (int)strtol(optarg, &end, 10);
			if (*end || p->slot < 1 || p->slot > SESSION_SLOT_MAX)
				return cmd_usage_error(&verb_attach,
				                       "--slot takes a number from 1 to %d",
				                       SESSION_SLOT_MAX);
		} else if (opt == 'b') {
			*bash = true;
		} else {
			return opt == 'h' ? cmd_help(&verb_attach)
			                  : cmd_bad_option(&verb_attach, argv);
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error(&verb_attach, "attach takes at most one session name");
	p->name = optind < argc ? argv[optind] : NULL;
	if (p->name && p->slot)
		return cmd_usage_error(&verb_attach, "give a NAME or --slot, not both");
	return -1;
}

static int run(int argc, char **argv)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	_cleanup_free_ char *name = NULL;
	struct cmd_pick p = {.running = true};
	struct coi_error err = {0};
	bool bash = false;
	int r;

	r = parse(argc, argv, &p, &bash);
	if (r >= 0)
		return r;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cmd_failf("coi attach needs a terminal");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (cmd_pick_session(c, &p, &name, &err) < 0 || incus_instance_get(c, name, &in, &err) < 0)
		return cmd_fail(&err);
	if (!incus_map_get(&in->config, "user.coi.workspace"))
		return cmd_failf("'%s' is not a coi session", name);
	if (in->status != INCUS_STATUS_RUNNING)
		return cmd_failf("'%s' is %s, not running", name,
		                 incus_status_to_string(in->status));
	return bash ? run_bash(c, name, in) : attach_tmux(c, in);
}

const struct verb verb_attach = {
        .name = "attach",
        .run = run,
        .summary = "return to a detached session",
        .usage =
                "Usage: coi attach [NAME|ALIAS] [-w DIR] [--slot N] [--bash]\n"
                "\n"
                "Attach this terminal to the agent's tmux in session NAME (a project's [container]\n"
                "alias names its session; default: $COI_CONTAINER, else the one running session\n"
                "of the workspace). Detach again with Ctrl-b d (Ctrl-a d inside your own tmux).\n"
                "If the agent has exited when you leave, the session ends: the container is\n"
                "deleted (stopped if persistent) and its host state removed, and coi exits with\n"
                "the agent's status. When tmux in the container fails (it cannot use this\n"
                "terminal, say), coi exits with tmux's status.\n"
                "\n"
                "  -w, --workspace DIR  the project whose session to attach (default: the\n"
                "                       current directory)\n"
                "      --slot N         the session in slot N of that workspace\n"
                "      --bash           a bash shell in the session instead, as 'code', beside\n"
                "                       the agent (which keeps running)",
};
