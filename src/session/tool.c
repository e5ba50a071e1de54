/* SPDX-License-Identifier: MIT */
/* tool.c: see tool.h. The table is the whole of what coi knows about each agent. */
#include "session/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "util/suggest.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* clang-format off */
static const struct tool tools[] = {
	{
		.name = "claude", .binary = "claude",
		.bypass_args = ARGS("--dangerously-skip-permissions"),
		.state_dir = ".claude", .context_file = ".claude/CLAUDE.md",
		.credential_file = ".claude/.credentials.json",
		.resume_args = ARGS("--resume", "%s"), .continue_args = ARGS("--continue"),
		.prompt_flag = "-p", .service_host = "api.anthropic.com",
	},
	{
		/* opencode takes its permissions from its config file (written by the session) */
		.name = "opencode", .binary = "opencode",
		.state_dir = ".local/share/opencode", .context_file = ".config/opencode/AGENTS.md",
		.credential_file = ".local/share/opencode/auth.json",
		.resume_args = ARGS("--session", "%s"), .continue_args = ARGS("--continue"),
		.prompt_cmd = "run",
	},
	{
		.name = "codex", .binary = "codex",
		.bypass_args = ARGS("--dangerously-bypass-approvals-and-sandbox"),
		/* as the original: write the workspace, ask before the rest (no trust prompt) */
		.interactive_args = ARGS("-s", "workspace-write", "-a", "on-request"),
		.state_dir = ".codex", .context_file = ".codex/AGENTS.md",
		.credential_file = ".codex/auth.json",
		.resume_args = ARGS("resume", "%s"), .continue_args = ARGS("resume", "--last"),
		.prompt_cmd = "exec", .service_host = "api.openai.com",
	},
	{
		.name = "gemini", .binary = "gemini",
		.bypass_args = ARGS("--yolo"),
		.state_dir = ".gemini", .context_file = ".gemini/GEMINI.md",
		.credential_file = ".gemini/oauth_creds.json",
		.resume_args = ARGS("--resume", "%s"), .continue_args = ARGS("--resume", "latest"),
		.prompt_flag = "-p", .service_host = "generativelanguage.googleapis.com",
	},
	{
		/* coi's fake agent, for tests (src/image/dummy documents its interface) */
		.name = "dummy", .binary = "dummy",
		.state_dir = ".dummy", .context_file = ".dummy/CONTEXT.md",
		.credential_file = ".dummy/credentials",
		.resume_args = ARGS("--resume", "%s"), .continue_args = ARGS("--continue"),
		.prompt_flag = "-p",
	},
};
/* clang-format on */

const struct tool *tool_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(tools) / sizeof(tools[0]); i++)
		if (strcmp(tools[i].name, name) == 0)
			return &tools[i];
	return NULL;
}

const char *tool_names(void)
{
	return "claude, opencode, codex, gemini"; /* dummy is the tests' */
}

bool tool_command_ok(const char *name)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                         "._:/@+-";

	return name && *name && *name != '-' && strspn(name, ok) == strlen(name);
}

const char *tool_suggest(const char *name)
{
	const char *names[sizeof(tools) / sizeof(tools[0]) + 1] = {0};

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		names[i] = tools[i].name;
	return suggest_closest(name, names);
}

static int push_all(char ***argv, const char *const *args, const char *id)
{
	for (size_t i = 0; args && args[i]; i++) {
		char *a;

		if (strcmp(args[i], "%s") == 0)
			a = strdup(id);
		else
			a = strdup(args[i]);
		int r = strv_consume(argv, a);

		if (r < 0)
			return r; /* -ENOMEM */
	}
	return 0;
}

char **tool_argv(const struct tool *t, const struct tool_launch *l)
{
	_cleanup_strv_free_ char **argv = NULL;

	if (strv_push(&argv, l->binary ? l->binary : t->binary) < 0)
		return NULL;
	if (l->prompt && t->prompt_cmd && strv_push(&argv, t->prompt_cmd) < 0)
		return NULL;
	if (push_all(&argv, l->bypass ? t->bypass_args : t->interactive_args, NULL) < 0)
		return NULL;
	if (push_all(&argv, (const char *const *)l->options, NULL) < 0)
		return NULL;
	if (l->resume_id && push_all(&argv, t->resume_args, l->resume_id) < 0)
		return NULL;
	if (!l->resume_id && l->resume_latest && push_all(&argv, t->continue_args, NULL) < 0)
		return NULL;
	if (l->prompt && t->prompt_flag && strv_push(&argv, t->prompt_flag) < 0)
		return NULL;
	if (l->prompt && strv_push(&argv, l->prompt) < 0)
		return NULL;
	return TAKE_PTR(argv);
}
