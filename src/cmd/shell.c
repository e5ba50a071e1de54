/* SPDX-License-Identifier: MIT */
/* coi shell: the agent in tmux in a fresh sandbox, attached to this terminal. Detaching
 * (Ctrl-b d) leaves it running ('coi attach' to return); when the agent exits, the session ends.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/session-cmd.h"
#include "config/config.h"
#include "session/session.h"
#include "session/tmux.h"
#include "session/tool.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_shell;

static char **agent_argv(const struct session_cmd *sc, bool debug)
{
	const struct session_opts *o = &sc->opts;
	const struct tool *t = tool_find(o->tool);
	char **argv = NULL;

	if (debug)
		return strv_push(&argv, "bash") < 0 ? NULL : argv;
	if (!t && !o->tool_binary)
		return NULL;
	if (!t) /* any command, via tool.binary */
		return strv_push(&argv, o->tool_binary) < 0 ? NULL : argv;
	/* resuming: the agent continues its newest session in the restored state */
	return tool_argv(t, &(struct tool_launch){.binary = o->tool_binary,
	                                          .bypass = o->bypass,
	                                          .options = o->tool_options,
	                                          .resume_latest = sc->resume});
}

static int run(int argc, char **argv)
{
	_cleanup_(session_cmd_releasep) struct session_cmd sc = {0};
	_cleanup_strv_free_ char **agent = NULL;
	_cleanup_free_ char *launch = NULL;
	struct coi_error err = {0};
	bool debug = false;
	int r, status;

	/* --debug is ours; the rest are the shared session options */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--debug") == 0) {
			debug = true;
			memmove(&argv[i], &argv[i + 1], sizeof(char *) * (size_t)(argc - i));
			argc--;
			break;
		}
	r = session_cmd_parse(&verb_shell, argc, argv, &sc);
	if (r <= 0)
		return -r;
	if (optind < argc)
		return cmd_usage_error(&verb_shell, "unexpected argument '%s'", argv[optind]);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cmd_failf(
		        "coi shell needs a terminal (use 'coi run -- COMMAND' without one)");
	r = session_cmd_start(&sc, &err);
	if (r < 0)
		return session_cmd_finish(&sc, session_cmd_fail(&err));
	agent = agent_argv(&sc, debug);
	if (!agent)
		return session_cmd_finish(&sc, cmd_failf("unknown tool '%s' (known: %s; or set "
		                                         "[tool] binary)",
		                                         sc.opts.tool, tool_names()));
	if (!sc.config->shell.use_tmux) {
		/* [shell] use_tmux = false: the agent on this terminal directly; no detaching, the
		 * session ends with it */
		status = session_exec(sc.session, agent, true, &err);
		return session_cmd_finish(&sc, status < 0 ? session_cmd_fail(&err) : EXIT_OK);
	}
	launch = tmux_launch_command(agent);
	{
		char *tmux[] = {"tmux",
		                "new-session",
		                "-A",
		                "-s",
		                COI_TMUX_SESSION,
		                "-c",
		                sc.session->container_workspace,
		                launch,
		                NULL};

		status = session_exec_plain(sc.session, tmux, true, &err);
	}
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
		fprintf(stderr,
		        "coi: detached; the agent keeps running in %s ('coi attach %s' to "
		        "return, 'coi kill %s' to end it)\n",
		        sc.session->name, sc.session->name, sc.session->name);
		return EXIT_OK;
	}
	return session_cmd_finish(&sc, EXIT_OK);
}

const struct verb verb_shell = {
        .name = "shell",
        .run = run,
        .summary = "open the agent in a new sandbox on this project (interactive, in tmux)",
        .usage =
                "Usage: coi shell [OPTIONS] [--debug]\n"
                "\n"
                "Start a sandbox on the project and open the agent ([tool] name: claude, opencode,\n"
                "codex, gemini, or [tool] binary) in tmux inside it, as the user 'code' in\n"
                "/workspace. Detach with Ctrl-b d: the agent keeps running ('coi attach' returns to\n"
                "it). When the agent exits, the session ends and the container is deleted (unless\n"
                "persistent). With [shell] use_tmux = false the agent runs on this terminal\n"
                "directly: no detaching.\n"
                "\n"
                "  --debug              open bash instead of the agent\n" SESSION_CMD_OPTIONS_HELP,
};
