/* SPDX-License-Identifier: MIT */
/* coi run: a command in a fresh sandbox, headless. No tmux; output streamed; stdin passed
 * through when it is not a terminal; the command's exit status becomes coi's. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/session-cmd.h"
#include "session/session.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_run;

/* A client without streaming exec hands the output over at the end. */
static void print_captured(const struct incus_exec_result *c)
{
	if (c->out_len)
		fwrite(c->out, 1, c->out_len, stdout);
	if (c->err_len)
		fwrite(c->err, 1, c->err_len, stderr);
	fflush(stdout);
}

static int run(int argc, char **argv)
{
	_cleanup_(session_cmd_releasep) struct session_cmd sc = {0};
	char *coi_run[] = {NULL, NULL};
	struct coi_error err = {0};
	char **cmd;
	int r, status;

	r = session_cmd_parse(&verb_run, argc, argv, &sc);
	if (r <= 0)
		return -r;
	cmd = argv + optind;
	if (session_cmd_has_prompt(&sc) && *cmd)
		return cmd_usage_error(&verb_run, "a prompt and a COMMAND exclude each other");
	if (!*cmd && !session_cmd_has_prompt(&sc)) {
		/* No command: the project's own ./coi-run, as the original does. */
		struct stat st;

		if (lstat("coi-run", &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			return cmd_usage_error(&verb_run,
			                       "no command given (and no executable ./coi-run)");
		coi_run[0] = "./coi-run";
		cmd = coi_run;
	}
	r = session_cmd_start(&sc, &err);
	if (r < 0)
		return session_cmd_finish(&sc, session_cmd_fail(&err));
	if (sc.agent_argv)
		cmd = sc.agent_argv;
	status = session_exec(sc.session, cmd, sc.tty, &err);
	if (status < 0)
		status = session_cmd_fail(&err);
	else
		print_captured(session_captured(sc.session));
	return session_cmd_finish(&sc, status);
}

const struct verb verb_run = {
        .name = "run",
        .run = run,
        .summary = "run a command in a new sandbox and pass its exit status through",
        .usage =
                "Usage: coi run [OPTIONS] [--] COMMAND [ARGS...]\n"
                "       coi run [OPTIONS] --prompt TEXT | --prompt-file PATH | --prompt-name NAME\n"
                "\n"
                "Start a sandbox on the project, run COMMAND in /workspace as the user 'code', and\n"
                "tear the sandbox down (unless persistent). Output is streamed, stdin is passed\n"
                "through when it is not a terminal, and COMMAND's exit status becomes coi's.\n"
                "Without COMMAND, runs the project's executable ./coi-run.\n"
                "\n"
                "  -t, --tty            give COMMAND a terminal (interactive programs: a shell,\n"
                "                       an editor); its output then comes through that terminal\n"
                "\n"
                "With a prompt, the configured agent ([tool] name) answers it headless, without\n"
                "asking permission (needs tool.permission_mode = \"bypass\"), and exits:\n"
                "  --prompt TEXT         the prompt\n"
                "  --prompt-file PATH    the prompt, read from a host file (up to 1 MiB)\n"
                "  --prompt-name NAME    the prompt NAME of [prompts] in the configuration\n"
                "                        (a project file's only once approved: coi trust)\n"
                "\n" SESSION_CMD_MONITOR_HELP "\n" SESSION_CMD_OPTIONS_HELP,
};
