/* SPDX-License-Identifier: MIT */
/* tool.h: the agents coi knows how to launch, as data: binary, the flag that skips permission
 * prompts (bypass mode), where each keeps its state (saved at the end of an ephemeral session,
 * restored by --resume), where it reads a context file, and how it resumes. */
#pragma once

#include <stdbool.h>

struct tool {
	const char *name;                    /* config tool.name */
	const char *binary;                  /* in the container's PATH */
	const char *const *bypass_args;      /* permission_mode = bypass */
	const char *const *interactive_args; /* permission_mode = interactive, NULL for none */
	const char *state_dir;               /* under the code user's home, NULL if none */
	const char *context_file;       /* under the home: where the sandbox context is injected */
	const char *credential_file;    /* under the home, on the host and inside: the login */
	const char *const *resume_args; /* resume a given session: "%s" is the id */
	const char *const *continue_args; /* resume the newest session */
	/* Headless: answer one prompt and exit. The sub-command (e.g. "exec") goes right after the
	 * binary; the prompt goes last, after prompt_flag when the tool takes it as an option. */
	const char *prompt_cmd;
	const char *prompt_flag;
	/* The host the agent must reach to work (its API), NULL when none: coi health checks that
	 * the network mode lets it and that it resolves here. */
	const char *service_host;
};

/* The tool named name, or NULL. */
const struct tool *tool_find(const char *name);
/* A comma-separated list of the names, for messages. */
const char *tool_names(void);
/* Whether name can be run as a command: [tool] name of no agent coi knows is that command (or
 * tool.binary), as docs/tools.md says; letters, digits and ._:/@+- only, not an option. */
bool tool_command_ok(const char *name);
/* The agent a misspelt name most likely meant ("claud": "claude"), or NULL. */
const char *tool_suggest(const char *name);

/* How to launch the tool this time. */
struct tool_launch {
	const char *binary;    /* tool.binary, replacing the tool's own; NULL: its own */
	bool bypass;           /* the bypass flags, else the interactive ones */
	char *const *options;  /* more options (a model, an effort), after those flags */
	const char *resume_id; /* resume this session */
	bool resume_latest;    /* or the newest */
	const char *prompt;    /* headless: answer it and exit; NULL: interactive */
};

/* The command line that launches the tool: the binary, the sub-command of a headless run, the
 * permission flags, the options, the resume flags, then the prompt. NULL on OOM. */
char **tool_argv(const struct tool *t, const struct tool_launch *l);
