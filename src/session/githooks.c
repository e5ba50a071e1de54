/* SPDX-License-Identifier: MIT */
/* githooks.c: see githooks.h. */
#include "session/githooks.h"

#include <stddef.h>

#include "util/strv.h"

const char *const githooks_default_patterns[] = {
        "^co-authored-by:.*(claude|anthropic|openai|chatgpt|codex|gemini|copilot|opencode|cursor|"
        "aider|devin)",
        "^(🤖 *)?generated (with|by) .*(claude|openai|chatgpt|codex|gemini|copilot|opencode|cursor|"
        "aider|devin)",
        NULL,
};

/* Run as root with the patterns as its arguments: the hooks directory, the hooks, git's system
 * configuration. The repository's own hooks are found through --git-common-dir, where a
 * worktree's are too. */
static const char script[] =
        "command -v git >/dev/null 2>&1 || exit 0\n"
        "d=/etc/coi/git-hooks\n"
        "mkdir -p \"$d\" && chmod 755 /etc/coi \"$d\" || exit 1\n"
        "for p; do [ -z \"$p\" ] || printf '%s\\n' \"$p\"; done >\"$d/attribution-patterns\" || exit 1\n"
        "cat >\"$d/_repository-hook\" <<'EOF_HOOK'\n"
        "#!/bin/sh\n"
        "# coi: the repository's own hook of this name ([git] strip_attribution sets core.hooksPath)\n"
        "h=\"$(git rev-parse --git-common-dir 2>/dev/null)/hooks/${0##*/}\"\n"
        "if [ -x \"$h\" ]; then exec \"$h\" \"$@\"; fi\n"
        "exit 0\n"
        "EOF_HOOK\n"
        "cat >\"$d/commit-msg\" <<'EOF_HOOK'\n"
        "#!/bin/sh\n"
        "# coi: [git] strip_attribution takes the lines that match /etc/coi/git-hooks/attribution-patterns\n"
        "# out of the message, then runs the repository's own commit-msg hook\n"
        "p=/etc/coi/git-hooks/attribution-patterns\n"
        "if [ -f \"$1\" ] && [ -s \"$p\" ]; then\n"
        "    kept=$(grep -v -i -E -f \"$p\" \"$1\"; echo x)\n"
        "    printf '%s' \"${kept%x}\" >\"$1\"\n"
        "fi\n"
        "h=\"$(git rev-parse --git-common-dir 2>/dev/null)/hooks/commit-msg\"\n"
        "if [ -x \"$h\" ]; then exec \"$h\" \"$@\"; fi\n"
        "exit 0\n"
        "EOF_HOOK\n"
        "chmod 755 \"$d/_repository-hook\" \"$d/commit-msg\" && chmod 644 \"$d/attribution-patterns\" || exit 1\n"
        "for n in applypatch-msg pre-applypatch post-applypatch pre-commit pre-merge-commit \\\n"
        "    prepare-commit-msg post-commit pre-rebase post-checkout post-merge pre-push pre-receive \\\n"
        "    update proc-receive post-receive post-update reference-transaction push-to-checkout \\\n"
        "    pre-auto-gc post-rewrite sendemail-validate fsmonitor-watchman post-index-change \\\n"
        "    p4-changelist p4-prepare-changelist p4-post-changelist p4-pre-submit; do\n"
        "    ln -sf _repository-hook \"$d/$n\" || exit 1\n"
        "done\n"
        "git config --system core.hooksPath \"$d\"\n";

char **githooks_setup_argv(char *const *patterns)
{
	char **argv = strv_split("sh -c", " ");

	if (!argv || strv_push(&argv, script) < 0 || strv_push(&argv, "sh") < 0)
		return strv_free(argv);
	for (char *const *p = patterns ? patterns : (char *const *)githooks_default_patterns; *p;
	     p++)
		if (strv_push(&argv, *p) < 0)
			return strv_free(argv);
	return argv;
}
