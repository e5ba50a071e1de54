/* SPDX-License-Identifier: MIT */
/* coi shell: the agent in tmux in a fresh sandbox, attached to this terminal. Detaching
 * (Ctrl-b d; Ctrl-a d inside the user's own tmux) leaves it running ('coi attach' to return);
 * when the agent exits, the session ends, with its status and, when it failed, its last screen. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/agent.h"
#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/session-cmd.h"
#include "config/config.h"
#include "session/alias.h"
#include "session/session.h"
#include "session/tmux.h"
#include "session/tool.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_shell;

static char **agent_argv(const struct session_opts *o, bool debug, bool resume)
{
	const struct tool *t = tool_find(o->tool);
	char **argv = NULL;

	if (debug)
		return strv_push(&argv, "bash") < 0 ? NULL : argv;
	if (!t) /* any other name is that command (or tool.binary's): check_tool() */
		return strv_push(&argv, o->tool_binary ? o->tool_binary : o->tool) < 0 ? NULL
		                                                                       : argv;
	/* resuming: the agent continues its newest session in the restored state */
	return tool_argv(t, &(struct tool_launch){.binary = o->tool_binary,
	                                          .bypass = o->bypass,
	                                          .options = o->tool_options,
	                                          .resume_latest = resume});
}

/* tmux new-session (or attach to it) running launch in dir, with coi's keys; detached at once
 * with background. */
static char **tmux_argv(const char *dir, const char *launch, bool nested, bool background)
{
	_cleanup_strv_free_ char **argv = NULL;

	if (strv_push(&argv, "tmux") < 0 || strv_push(&argv, "new-session") < 0 ||
	    strv_push(&argv, background ? "-d" : "-A") < 0 || strv_push(&argv, "-s") < 0 ||
	    strv_push(&argv, COI_TMUX_SESSION) < 0 || strv_push(&argv, "-c") < 0 ||
	    strv_push(&argv, dir) < 0 || strv_push(&argv, launch) < 0 ||
	    tmux_key_args(&argv, nested) < 0)
		return NULL;
	return TAKE_PTR(argv);
}

/* [tool] name: one of coi's agents, or any other command of that name (docs/tools.md), checked
 * before anything starts; a near miss of an agent's name is most likely a typo. */
static int check_tool(const struct session_opts *o)
{
	const char *near;

	if (tool_find(o->tool) || o->tool_binary)
		return 0;
	if (!tool_command_ok(o->tool))
		return cmd_failf("[tool] name '%s' is neither one of coi's agents (%s) nor a "
		                 "command name",
		                 o->tool, tool_names());
	near = tool_suggest(o->tool);
	fprintf(stderr,
	        "coi: warning: [tool] name '%s' is not one of coi's agents (%s)%s%s%s; running "
	        "the command '%s'\n",
	        o->tool, tool_names(), near ? "; did you mean '" : "", near ? near : "",
	        near ? "'?" : "", o->tool);
	return 0;
}

/* [ALIAS]: the workspace (and profile) ~/.coi/aliases.json gives it (session/alias.h). */
static int use_alias(struct session_cmd *sc, const char *alias, char **ws, char **profile)
{
	struct coi_error err = {0};

	if (sc->workspace_arg)
		return cmd_usage_error(&verb_shell, "give an ALIAS or -w DIR, not both");
	if (alias_lookup(alias, ws, profile, &err) < 0)
		return cmd_fail(&err);
	sc->workspace_arg = *ws;
	if (!sc->profile)
		sc->profile = *profile;
	return EXIT_OK;
}

/* --container NAME: the agent's tmux in a container as it is, without a session's setup; the
 * container is left as it was when the agent ends. */
static int in_container(struct session_cmd *sc, bool nested)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_strv_free_ char **agent = NULL, **tmux = NULL;
	_cleanup_free_ char *launch = NULL;
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};
	char *env[] = {"HOME=/home/code", "USER=code", NULL};
	int r;

	r = session_cmd_config(sc, &err);
	if (r < 0)
		return cmd_fail(&err);
	if (!sc->debug && (r = check_tool(&sc->opts)))
		return r;
	agent = agent_argv(&sc->opts, sc->debug, false);
	launch = agent ? tmux_launch_command(agent) : NULL;
	tmux = launch ? tmux_argv("/workspace", launch, nested, false) : NULL;
	if (!tmux)
		return cmd_failf("out of memory");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	incus_exec_opts_init(&o);
	o.argv = tmux;
	o.env = env;
	o.uid = sc->opts.code_uid;
	o.gid = sc->opts.code_uid;
	o.mode = INCUS_EXEC_INTERACTIVE;
	if (incus_exec(c, sc->container, &o, &res, &err) < 0)
		return cmd_fail(&err);
	incus_exec_result_release(&res);
	return res.exit_status;
}

static int run(int argc, char **argv)
{
	_cleanup_(session_cmd_releasep) struct session_cmd sc = {0};
	_cleanup_strv_free_ char **agent = NULL, **tmux = NULL;
	_cleanup_free_ char *launch = NULL, *alias_ws = NULL, *alias_profile = NULL;
	/* inside the user's own tmux, its Ctrl-b must stay the user's */
	bool nested = getenv("TMUX") && *getenv("TMUX");
	struct coi_error err = {0};
	int64_t t0;
	int r, status;

	r = session_cmd_parse(&verb_shell, argc, argv, &sc);
	if (r <= 0)
		return -r;
	if (argc - optind > 1)
		return cmd_usage_error(&verb_shell, "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc && (r = use_alias(&sc, argv[optind], &alias_ws, &alias_profile)))
		return r;
	if (sc.background && sc.container)
		return cmd_usage_error(&verb_shell, "--background starts a new session: not with "
		                                    "--container");
	if (!sc.background && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		return cmd_failf(
		        "coi shell needs a terminal (use 'coi run -- COMMAND' without one, "
		        "or 'coi shell --background')");
	if (sc.container)
		return in_container(&sc, nested);
	r = session_cmd_config(&sc, &err);
	if (r < 0)
		return cmd_fail(&err);
	if (!sc.debug && (r = check_tool(&sc.opts)))
		return r;
	r = session_cmd_start(&sc, &err);
	if (r < 0)
		return session_cmd_finish(&sc, session_cmd_fail(&err));
	agent = agent_argv(&sc.opts, sc.debug, sc.resume);
	if (!agent)
		return session_cmd_finish(&sc, cmd_failf("out of memory"));
	if (!sc.config->shell.use_tmux) {
		/* [shell] use_tmux = false: the agent on this terminal directly; no detaching, the
		 * session ends with it */
		status = session_exec(sc.session, agent, true, &err);
		return session_cmd_finish(&sc, status < 0 ? session_cmd_fail(&err) : status);
	}
	launch = tmux_launch_command(agent);
	tmux = launch ? tmux_argv(sc.session->container_workspace, launch, nested, sc.background)
	              : NULL;
	if (!tmux)
		return session_cmd_finish(&sc, cmd_failf("out of memory"));
	if (!cmd_quiet() && !sc.background)
		fprintf(stderr, "coi: detach with %s ('coi attach' returns)\n",
		        tmux_detach_key(nested));
	t0 = clock_mono_ms();
	status = session_exec_plain(sc.session, tmux, !sc.background, &err);
	if (status < 0)
		return session_cmd_finish(&sc, session_cmd_fail(&err));
	if (status == 127) /* the shell's "not found": the image has no tmux */
		return session_cmd_finish(
		        &sc, cmd_failf("the image '%s' has no tmux: install it, or set [shell] "
		                       "use_tmux = false to run the agent without it",
		                       sc.opts.image));
	if (tmux_alive(sc.client, sc.session->name, sc.opts.code_uid, &err) > 0) {
		if (session_detach(sc.session, &err) < 0)
			return session_cmd_finish(&sc, session_cmd_fail(&err));
		if (status != 0)
			return cmd_agent_detached(sc.session->name, status);
		fprintf(stderr,
		        "coi: %s; the agent keeps running in %s ('coi attach %s' to "
		        "return, 'coi kill %s' to end it)\n",
		        sc.background ? "started in the background" : "detached", sc.session->name,
		        sc.session->name, sc.session->name);
		return EXIT_OK;
	}
	status = cmd_agent_ended(sc.client, sc.session->name, sc.opts.code_user,
	                         clock_mono_ms() - t0, status);
	return session_cmd_finish(&sc, status);
}

const struct verb verb_shell = {
        .name = "shell",
        .run = run,
        .summary = "open the agent in a new sandbox on this project (interactive, in tmux)",
        .usage =
                "Usage: coi shell [OPTIONS] [--debug] [--background] [ALIAS]\n"
                "       coi shell --container NAME [--debug]\n"
                "\n"
                "Start a sandbox on the project and open the agent ([tool] name: claude, opencode,\n"
                "codex, gemini, or any other command) in tmux inside it, as the user 'code' in\n"
                "/workspace. Detach with Ctrl-b d (Ctrl-a d when coi runs inside your own tmux, so\n"
                "Ctrl-b stays yours; the status line shows it): the agent keeps running ('coi\n"
                "attach' returns to it), as it does when the terminal closes. When the agent\n"
                "exits, the session ends and the container is deleted (unless persistent); coi\n"
                "exits with the agent's status, and when the agent failed or quit at once, shows\n"
                "its last screen and why ('coi logs NAME' shows the screen again). When tmux in\n"
                "the container fails (it cannot start, or use this terminal), coi exits with\n"
                "tmux's status, not 0. With [shell] use_tmux = false the agent runs on this\n"
                "terminal directly: no detaching.\n"
                "\n"
                "ALIAS: a workspace (and profile) named in ~/.coi/aliases.json, the original's\n"
                "file, from any directory.\n"
                "\n" SESSION_CMD_MONITOR_HELP "\n"
                "  --debug              open bash instead of the agent\n"
                "  --background         start the agent detached and return at once (no\n"
                "                       terminal needed): 'coi attach' or 'coi tmux' reach it\n"
                "  --container NAME     the agent's tmux in the existing container NAME as it is:\n"
                "                       no session is set up and nothing is removed at the end\n" SESSION_CMD_OPTIONS_HELP,
};
