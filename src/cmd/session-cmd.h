/* SPDX-License-Identifier: MIT */
/* session-cmd.h: what the verbs that start sessions (run, shell) share: their common options,
 * turning configuration into session options, starting, printing the startup report, and the
 * teardown with its warnings. */
#pragma once

#include "cmd/cmd.h"
#include "session/session.h"

struct coi_config;
struct coi_error;
struct incus_client;

struct session_cmd {
	const char *workspace_arg; /* -w */
	const char *image;         /* --image */
	const char *profile;       /* --profile */
	int slot;                  /* --slot */
	int persistent;            /* --persistent: 1, unset: -1 */
	bool resume;               /* --resume[=ID] */
	bool detachable;           /* coi shell: the session may outlive this process */
	bool unsafe_workspace;     /* --unsafe-workspace */
	bool tty;                  /* coi run -t: the command gets a terminal */
	bool debug;                /* coi shell --debug: bash instead of the agent */
	bool background;           /* coi shell --background: no terminal, detached at once */
	bool no_pause;             /* coi selftest: its probes are HIGH findings by design */
	const char *container;     /* coi shell --container NAME: that container, as it is */
	const char *resume_id;
	const char *prompt;      /* run --prompt TEXT */
	const char *prompt_file; /* run --prompt-file PATH */
	const char *prompt_name; /* run --prompt-name NAME, from [prompts] */
	char **agent_argv;       /* with a prompt: the agent's headless command line */
	struct coi_config *config;
	struct session_opts opts;
	struct incus_client *client;
	struct session *session;
};

/* What a session's monitor does, in the help of the verbs that start one (on by default). */
#define SESSION_CMD_MONITOR_HELP                                                                 \
	"The host watches the session ([monitoring], on by default): a HIGH finding (a key\n"    \
	"read, data leaving in a burst) freezes it and says why on this terminal; 'coi audit\n"  \
	"NAME' shows the evidence, 'coi unfreeze NAME' resumes it, 'coi kill NAME' ends it. A\n" \
	"CRITICAL one (a reverse shell) stops and deletes it.\n"

#define SESSION_CMD_OPTIONS_HELP                                                                 \
	"Options:\n"                                                                             \
	"  -w, --workspace DIR  the project (default: the current directory)\n"                  \
	"      --slot N         use slot N (default: the lowest free one, 1-10)\n"               \
	"      --persistent     keep the container at the end and reuse it next time\n"          \
	"      --image ALIAS    the image to start (default: [container] image, coi-default)\n"  \
	"      --profile NAME   apply the configuration profile NAME\n"                          \
	"      --resume[=ID]    restore the agent's saved session ID (default: the newest one\n" \
	"                       of this workspace) into the new container\n"                     \
	"      --unsafe-workspace  allow a workspace coi refuses as no project: /, a system\n"   \
	"                       directory, your home itself (not coi's state directory;\n"       \
	"                       COI_UNSAFE_WORKSPACE=1 too)\n"                                   \
	"  -q, --quiet          no startup report or notes (errors and warnings only)\n"         \
	"  -h, --help           this text"

/* Parse the shared options (getopt stops at the first non-option, so the command follows).
 * Returns 1 to go on, 0 after --help (exit 0), or -2 for a usage error already reported. */
int session_cmd_parse(const struct verb *v, int argc, char **argv, struct session_cmd *sc);
/* The configuration, as session options in sc->opts (no daemon is asked). */
int session_cmd_config(struct session_cmd *sc, struct coi_error *err);
/* Resolve options, connect, start the session, print the startup report on stderr. With a
 * prompt, sc->agent_argv is the agent's headless command, checked before anything starts. */
int session_cmd_start(struct session_cmd *sc, struct coi_error *err);
/* Report a failure to start or run the session: the exit status is 128 + the signal when one
 * cut it short (130 for Ctrl-C, as a shell has it), else EXIT_FAIL. */
int session_cmd_fail(const struct coi_error *err);
/* Stop the session (if any), print warnings, and return status (or 1 if the teardown failed
 * and status was 0). */
int session_cmd_finish(struct session_cmd *sc, int status);
void session_cmd_release(struct session_cmd *sc);
/* session-secrets.c: [[secrets]] and what security.secrets_on_host implies, into o: the set
 * with values read and placeholders made, the placeholders in the environment, the real values
 * they stand for kept out (forwarded variables, copied logins, allowlist entries of their
 * hosts). Needs o->net and the environment, credentials and tool already filled in. */
int session_secrets_from_config(struct session_opts *o, const struct coi_config *cfg,
                                char ***warnings, struct coi_error *err);

/* Whether a prompt was given (--prompt, --prompt-file or --prompt-name). */
static inline bool session_cmd_has_prompt(const struct session_cmd *sc)
{
	return sc->prompt || sc->prompt_file || sc->prompt_name;
}
static inline void session_cmd_releasep(struct session_cmd *sc)
{
	session_cmd_release(sc);
}
