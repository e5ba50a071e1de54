/* SPDX-License-Identifier: MIT */
/* test-tool: the exact command line session/tool.c builds for each agent and mode (interactive,
 * bypass, resume by id, resume the newest, headless prompt, binary override). The flags are the
 * agents' own, as the original launches them (reference: upstream-coi.md, section 12). */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "session/tool.h"
#include "tap.h"
#include "util/strv.h"

/* argv built by tool_argv(name, ...) equals the space-joined expect */
static bool argv_is(const char *name, const char *override, bool bypass, const char *resume_id,
                    bool latest, const char *prompt, const char *expect)
{
	const struct tool *t = tool_find(name);
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *got = NULL;

	if (!t)
		return false;
	argv = tool_argv(t, &(struct tool_launch){.binary = override,
	                                          .bypass = bypass,
	                                          .resume_id = resume_id,
	                                          .resume_latest = latest,
	                                          .prompt = prompt});
	got = argv ? strv_join(argv, " ") : NULL;
	if (!got || strcmp(got, expect) != 0) {
		printf("# %s: got '%s', want '%s'\n", name, got ? got : "(null)", expect);
		return false;
	}
	return true;
}

static void test_claude(void)
{
	CHECK(argv_is("claude", NULL, false, NULL, false, NULL, "claude"));
	CHECK(argv_is("claude", NULL, true, NULL, false, NULL,
	              "claude --dangerously-skip-permissions"));
	CHECK(argv_is("claude", NULL, true, "u1", false, NULL,
	              "claude --dangerously-skip-permissions --resume u1"));
	CHECK(argv_is("claude", NULL, false, NULL, true, NULL, "claude --continue"));
	CHECK(argv_is("claude", NULL, true, NULL, false, "fix it",
	              "claude --dangerously-skip-permissions -p fix it"));
	CHECK(argv_is("claude", NULL, true, NULL, true, "go",
	              "claude --dangerously-skip-permissions --continue -p go"));
}

static void test_opencode(void)
{
	/* permissions come from its config file: no flag either way */
	CHECK(argv_is("opencode", NULL, false, NULL, false, NULL, "opencode"));
	CHECK(argv_is("opencode", NULL, true, NULL, false, NULL, "opencode"));
	CHECK(argv_is("opencode", NULL, true, "ses_1", false, NULL, "opencode --session ses_1"));
	CHECK(argv_is("opencode", NULL, true, NULL, true, NULL, "opencode --continue"));
	CHECK(argv_is("opencode", NULL, true, NULL, false, "explain", "opencode run explain"));
	CHECK(argv_is("opencode", NULL, true, NULL, true, "more", "opencode run --continue more"));
}

static void test_codex(void)
{
	CHECK(argv_is("codex", NULL, false, NULL, false, NULL,
	              "codex -s workspace-write -a on-request"));
	CHECK(argv_is("codex", NULL, true, NULL, false, NULL,
	              "codex --dangerously-bypass-approvals-and-sandbox"));
	CHECK(argv_is("codex", NULL, true, "0199-a", false, NULL,
	              "codex --dangerously-bypass-approvals-and-sandbox resume 0199-a"));
	CHECK(argv_is("codex", NULL, false, NULL, true, NULL,
	              "codex -s workspace-write -a on-request resume --last"));
	CHECK(argv_is("codex", NULL, true, NULL, false, "do it",
	              "codex exec --dangerously-bypass-approvals-and-sandbox do it"));
	CHECK(argv_is("codex", NULL, true, NULL, true, "again",
	              "codex exec --dangerously-bypass-approvals-and-sandbox resume --last again"));
}

static void test_gemini(void)
{
	CHECK(argv_is("gemini", NULL, false, NULL, false, NULL, "gemini"));
	CHECK(argv_is("gemini", NULL, true, NULL, false, NULL, "gemini --yolo"));
	CHECK(argv_is("gemini", NULL, true, "3", false, NULL, "gemini --yolo --resume 3"));
	CHECK(argv_is("gemini", NULL, true, NULL, true, NULL, "gemini --yolo --resume latest"));
	CHECK(argv_is("gemini", NULL, true, NULL, false, "hi", "gemini --yolo -p hi"));
}

static void test_dummy(void)
{
	/* the flags src/image/dummy documents */
	CHECK(argv_is("dummy", NULL, false, NULL, false, NULL, "dummy"));
	CHECK(argv_is("dummy", NULL, true, NULL, false, NULL, "dummy"));
	CHECK(argv_is("dummy", NULL, true, "id-1", false, NULL, "dummy --resume id-1"));
	CHECK(argv_is("dummy", NULL, true, NULL, true, NULL, "dummy --continue"));
	CHECK(argv_is("dummy", NULL, true, NULL, false, "ping", "dummy -p ping"));
}

static void test_override_and_id(void)
{
	const struct tool *t = tool_find("claude");
	_cleanup_strv_free_ char **argv = NULL;

	/* tool.binary replaces the executable, the flags stay */
	CHECK(argv_is("claude", "/opt/c/claude", true, NULL, false, NULL,
	              "/opt/c/claude --dangerously-skip-permissions"));
	/* an id wins over "the newest" */
	CHECK(argv_is("codex", NULL, true, "x", true, NULL,
	              "codex --dangerously-bypass-approvals-and-sandbox resume x"));
	/* the prompt is one argument, however it is spaced */
	argv = tool_argv(t,
	                 &(struct tool_launch){.bypass = true, .prompt = "two  words\nand a line"});
	CHECK(argv && strv_length(argv) == 4);
	CHECK_STREQ(argv ? argv[3] : NULL, "two  words\nand a line");
	CHECK(tool_find("nope") == NULL);
	argv = strv_free(argv);
	/* [tool.codex] model and reasoning_effort: options after the permission flags, before a
	 * sub-command's resume flags and the prompt */
	argv = tool_argv(tool_find("codex"),
	                 &(struct tool_launch){
	                         .bypass = true,
	                         .options = (char *[]){"-m", "gpt-x", "-c",
	                                               "model_reasoning_effort=\"high\"", NULL},
	                         .resume_latest = true,
	                         .prompt = "go"});
	_cleanup_free_ char *joined = argv ? strv_join(argv, " ") : NULL;
	CHECK_STREQ(joined, "codex exec --dangerously-bypass-approvals-and-sandbox -m gpt-x -c "
	                    "model_reasoning_effort=\"high\" resume --last go");
	CHECK(tool_find(NULL) == NULL);
	/* dummy is the tests': accepted, never offered */
	CHECK_STREQ(tool_names(), "claude, opencode, codex, gemini");
}

/* Any other [tool] name is a command of that name (docs/tools.md); a near miss is a typo. */
static void test_other_names(void)
{
	CHECK(tool_command_ok("bash"));
	CHECK(tool_command_ok("/usr/local/bin/aider"));
	CHECK(tool_command_ok("node@22"));
	CHECK(!tool_command_ok(""));
	CHECK(!tool_command_ok("-rf"));
	CHECK(!tool_command_ok("two words"));
	CHECK(!tool_command_ok("x;rm"));
	CHECK(!tool_command_ok(NULL));
	CHECK_STREQ(tool_suggest("claud"), "claude");
	CHECK_STREQ(tool_suggest("gemnii"), "gemini");
	CHECK_STREQ(tool_suggest("opencod"), "opencode");
	CHECK(tool_suggest("bash") == NULL);
	CHECK(tool_suggest("aider") == NULL);
	CHECK(tool_find("claude")->service_host != NULL);
	CHECK(tool_find("dummy")->service_host == NULL);
}

int main(void)
{
	RUN(test_claude);
	RUN(test_opencode);
	RUN(test_codex);
	RUN(test_gemini);
	RUN(test_dummy);
	RUN(test_override_and_id);
	RUN(test_other_names);
	return tap_done();
}
