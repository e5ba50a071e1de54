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
};

/* The tool named name, or NULL. */
const struct tool *tool_find(const char *name);
/* A comma-separated list of the names, for messages. */
const char *tool_names(void);

/* The command line that launches the tool: binary (or binary_override), the bypass flags when
 * bypass (else the interactive ones), then the resume flags (resume_id, or the newest when
 * resume_latest), then, when prompt is not NULL, the headless form answering it. NULL on OOM. */
char **tool_argv(const struct tool *t, const char *binary_override, bool bypass,
                 const char *resume_id, bool resume_latest, const char *prompt);
