/* SPDX-License-Identifier: MIT */
/* The end of a session on the host (session/sweep.h), without a container: a workspace is
 * planned and its state saved, then changed as an agent would (a new repository with a planted
 * hook and keys that run programs, a git directory put in place of another, hooks and config
 * written where protection had a gap, a new .vscode/tasks.json in a nested folder), then swept.
 * What was planted is in the quarantine, with a REPORT; nothing else changed; git run on the
 * host afterwards runs nothing planted (a canary file each planted command would make). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/protect.h"
#include "session/sweep.h"
#include "tap.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

static char dir[64];

static char **defaults(void)
{
	return strv_split(".git/hooks .git/config .git/config.worktree .git/info/attributes .husky "
	                  ".vscode .coi .claude/settings.json",
	                  " ");
}

static bool exists(const char *rel)
{
	char p[512];

	(void)snprintf(p, sizeof(p), "%s/ws/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static int count_canaries(void)
{
	char cmd[256];
	FILE *f;
	int n = -1;

	(void)snprintf(cmd, sizeof(cmd), "ls %s/canary | wc -l", dir);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

/* What an agent writes: every key of the list, each a command that leaves a canary. */
static const char plant_config[] =
        "printf '[core]\\n\\tworktree = ../../.git/hooks\\n\\tfsmonitor = touch CAN/fsmonitor\\n\\thooksPath = "
        "CAN/../ws/evilhooks\\n\\tpager = touch CAN/pager\\n\\teditor = touch CAN/editor\\n"
        "\\tsshCommand = touch CAN/ssh\\n\\taskPass = touch CAN/askpass\\n"
        "[diff]\\n\\texternal = touch CAN/diffext\\n[diff \"x\"]\\n\\ttextconv = touch CAN/tc\\n"
        "[filter \"x\"]\\n\\tclean = touch CAN/clean\\n\\tsmudge = touch CAN/smudge\\n"
        "[credential]\\n\\thelper = !touch CAN/cred\\n[gpg]\\n\\tprogram = touch CAN/gpg\\n"
        "[sequence]\\n\\teditor = touch CAN/seq\\n[uploadpack]\\n\\tpackObjectsHook = touch "
        "CAN/pack\\n[alias]\\n\\tst = !touch CAN/alias\\n[include]\\n\\tpath = CAN/../ws/inc\\n"
        "[user]\\n\\tname = Kept Name\\n' >> %s/config";

static void plant(const char *gitdir)
{
	char cmd[4096], path[512];
	char *p;

	(void)snprintf(path, sizeof(path), "%s/ws/%s", dir, gitdir);
	(void)snprintf(cmd, sizeof(cmd), plant_config, path);
	while ((p = strstr(cmd, "CAN"))) { /* the canary directory */
		char rest[4096];

		(void)snprintf(rest, sizeof(rest), "%s", p + 3);
		(void)snprintf(p, sizeof(cmd) - (size_t)(p - cmd), "%s/canary%s", dir, rest);
	}
	CHECK(system(cmd) == 0);
	(void)snprintf(
	        cmd, sizeof(cmd),
	        "mkdir -p %s/hooks && printf '#!/bin/sh\\ntouch %s/canary/hook-$(basename "
	        "$0)\\n' > %s/hooks/post-checkout && chmod 755 %s/hooks/post-checkout && cp -p "
	        "%s/hooks/post-checkout %s/hooks/pre-commit",
	        path, dir, path, path, path, path);
	CHECK(system(cmd) == 0);
}

static void test_sweep(void)
{
	_cleanup_strv_free_ char **paths = defaults(), **report = NULL;
	_cleanup_free_ char *state = NULL;
	struct protect_plan *p = NULL;
	struct coi_error err = {0};
	char ws[128], q[256];

	CHECK(tap_sh("cd %s && mkdir canary home && G='git -c user.email=t@e -c user.name=t -c "
	             "init.defaultBranch=main' && $G init -q ws && cd ws && $G commit -q "
	             "--allow-empty -m t && $G init -q vendor/x && $G -C vendor/x commit -q "
	             "--allow-empty -m x && mkdir pkg && echo keep > pkg/readme && printf "
	             "'#!/bin/sh\\necho mine\\n' > .git/hooks/pre-commit && chmod 755 "
	             ".git/hooks/pre-commit",
	             dir) == 0);
	(void)snprintf(ws, sizeof(ws), "%s/ws", dir);
	setenv("COI_HOME", dir, 1);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	state = path_join(dir, "s.protect");
	CHECK(p && sweep_save(p, "coi-t-1", state, &err) == 0);
	protect_plan_free(p);

	/* the agent: a new repository, and another git directory in place of vendor/x's (the
	 * rename of a directory holding one: no mount can stop that), both with every key and a
	 * hook; a new tasks.json in a nested folder; a plain file in the hooks kept alone */
	/* and legitimate work: a submodule added (its config has core.worktree, for itself) */
	CHECK(tap_sh("cd %s && git init -q sub && git -C sub -c user.email=t@e -c user.name=t commit "
	             "-q --allow-empty -m s && cd ws && git -c protocol.file.allow=always submodule -q "
	             "add \"$(dirname $PWD)/sub\" newsub",
	             dir) == 0);
	CHECK(tap_sh("cd %s/ws && git init -q newrepo && mv vendor/x vendor/x-old && mkdir vendor/x "
	             "&& cp -a vendor/x-old/.git vendor/x/.git && mkdir -p pkg/.vscode && echo '{}' "
	             "> pkg/.vscode/tasks.json",
	             dir) == 0);
	plant("newrepo/.git");
	plant("vendor/x/.git");
	CHECK(tap_sh("cd %s/ws && mkdir -p evilhooks && cp newrepo/.git/hooks/pre-commit evilhooks/ "
	             "&& printf '[core]\\n\\tfsmonitor = touch %s/canary/included\\n' > inc",
	             dir) == 0);
	CHECK(sweep_finish(state, &report, &err) == 0);
	strv_foreach(l, report)
		printf("# %s\n", *l);
	CHECK(report && strstr(report[0], "neutralised"));
	strv_foreach(l, report)
		CHECK(!strstr(*l, "newsub")); /* the added submodule: nothing taken */
	CHECK(tap_sh("cd %s/ws && test -n \"$(git config --file .git/modules/newsub/config "
	             "core.worktree)\" && git -C newsub status -s >/dev/null",
	             dir) == 0);
	CHECK(access(state, F_OK) < 0);

	/* hooks gone, keys gone, the rest kept */
	CHECK(!exists("newrepo/.git/hooks/post-checkout") &&
	      !exists("vendor/x/.git/hooks/pre-commit"));
	CHECK(exists("newrepo/.git/hooks/pre-commit.sample"));
	CHECK(exists(".git/hooks/pre-commit")); /* the user's own */
	CHECK(!exists("pkg/.vscode/tasks.json") && exists("pkg/readme"));
	/* (git's own reading: the sections stay, empty) */
	CHECK(tap_sh("cd %s/ws/newrepo && test \"$(git config --file .git/config user.name)\" = 'Kept "
	             "Name' && test \"$(git config --file .git/config --name-only --list | grep -v "
	             "'^core\\.\\(repositoryformatversion\\|filemode\\|bare\\|logallrefupdates\\)$' "
	             "| grep -v '^user\\.name$')\" = ''",
	             dir) == 0);
	(void)snprintf(q, sizeof(q),
	               "ls %s/quarantine/*-coi-t-1/REPORT >/dev/null && grep -q "
	               "'to put it back: install -m 755' %s/quarantine/*/REPORT",
	               dir, dir);
	CHECK(system(q) == 0);

	/* the host's git, in each: nothing planted runs */
	CHECK(tap_sh("cd %s && export HOME=$PWD/home GIT_CONFIG_NOSYSTEM=1 GIT_EDITOR= EDITOR= "
	             "VISUAL= GIT_PAGER= PAGER=; for r in ws ws/newrepo ws/vendor/x; do (cd $r && "
	             "git status >/dev/null 2>&1; git -c core.editor= commit -q --allow-empty -m c "
	             ">/dev/null 2>&1; git checkout -q -b b2 >/dev/null 2>&1; git -p log -1 "
	             ">/dev/null 2>&1; git st >/dev/null 2>&1; git diff >/dev/null 2>&1); done; true",
	             dir) == 0);
	if (count_canaries() != 0)
		CHECK(tap_sh("ls -la %s/canary >&2", dir) == 0 && false);
	CHECK(count_canaries() == 0);
}

/* No .git at the start: the repository the agent makes is neutralised like any new one; with
 * [git] writable_hooks (no .git/hooks in the list) its hooks are left alone. */
static void test_new_top(void)
{
	_cleanup_strv_free_ char **paths = defaults(), **report = NULL;
	char *no_hooks[] = {".git/config", NULL};
	_cleanup_free_ char *state = path_join(dir, "t.protect");
	struct protect_plan *p = NULL;
	struct coi_error err = {0};
	char ws[128];

	(void)snprintf(ws, sizeof(ws), "%s/ws", dir);
	CHECK(tap_sh("rm -rf %s/ws && mkdir %s/ws", dir) == 0);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && p->git_absent && p->n_entries == 0);
	CHECK(p && sweep_save(p, "coi-t-2", state, &err) == 0);
	protect_plan_free(p);
	CHECK(tap_sh("cd %s/ws && git init -q . && printf '#!/bin/sh\n' > .git/hooks/pre-commit && "
	             "chmod 755 .git/hooks/pre-commit && git config core.hooksPath /w/h",
	             dir) == 0);
	CHECK(sweep_finish(state, &report, &err) == 0);
	CHECK(!exists(".git/hooks/pre-commit") && exists(".git/hooks/pre-commit.sample"));
	CHECK(tap_sh("cd %s/ws && test -z \"$(git config --file .git/config core.hooksPath)\"",
	             dir) == 0);
	CHECK(strv_length(report) == 3); /* the summary, the hook, the key */
	report = strv_free(report);

	CHECK(tap_sh("rm -rf %s/ws && mkdir %s/ws", dir) == 0);
	CHECK(protect_plan_build(ws, no_hooks, true, &p, &err) == 0);
	CHECK(p && sweep_save(p, "coi-t-3", state, &err) == 0);
	protect_plan_free(p);
	CHECK(tap_sh("cd %s/ws && git init -q . && echo x > .git/hooks/pre-push", dir) == 0);
	CHECK(sweep_finish(state, &report, &err) == 0);
	CHECK(exists(".git/hooks/pre-push") && report == NULL);
}

/* Two sessions of one workspace: the first made the placeholders (.git/hooks, info/attributes
 * with the info/ directory to hold it), the second protects them as they are. The first's end
 * hands them over: they stay, its state file goes; the second's end removes them. */
static void test_hand_over(void)
{
	_cleanup_strv_free_ char **paths = defaults();
	_cleanup_free_ char *a = path_join(dir, "a.protect"), *b = path_join(dir, "b.protect");
	struct protect_plan *p = NULL;
	struct coi_error err = {0};
	char ws[128];

	(void)snprintf(ws, sizeof(ws), "%s/ws", dir);
	CHECK(tap_sh("rm -rf %s/ws && mkdir %s/ws && cd %s/ws && git init -q . && rm -rf .git/hooks .git/info",
	             dir) == 0);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && sweep_save(p, "coi-t-4", a, &err) == 0);
	protect_plan_free(p);
	CHECK(exists(".git/hooks") && exists(".git/info/attributes"));
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && sweep_save(p, "coi-t-5", b, &err) == 0);
	protect_plan_free(p);

	CHECK(sweep_hand_over(a, b, &err) == 0);
	CHECK(tap_sh("! grep -q '^placeholder\\|^created-dir' %s/a.protect && grep -c '^placeholder' "
	             "%s/b.protect | grep -qx 3",
	             dir) == 0); /* hooks, config.worktree, info/attributes */
	CHECK(sweep_finish(a, NULL, &err) == 0);
	CHECK(exists(".git/hooks") && exists(".git/info/attributes") && access(a, F_OK) < 0);
	CHECK(sweep_finish(b, NULL, &err) == 0);
	CHECK(!exists(".git/hooks") && !exists(".git/info") && !exists(".git/config.worktree"));
}

/* A state file that is missing is nothing to do; one that is not coi's is refused. */
static void test_state_files(void)
{
	struct coi_error err = {0};
	char path[128];

	(void)snprintf(path, sizeof(path), "%s/none.protect", dir);
	CHECK(sweep_finish(path, NULL, &err) == 0);
	CHECK(tap_sh("echo junk > %s/bad.protect", dir) == 0);
	(void)snprintf(path, sizeof(path), "%s/bad.protect", dir);
	CHECK(sweep_finish(path, NULL, &err) == -EINVAL);
}

int main(void)
{
	int r;

	if (system("git --version >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP git is not installed\n");
		return 0;
	}
	strcpy(dir, "/tmp/coi-t-sweep-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_sweep);
	RUN(test_new_top);
	RUN(test_hand_over);
	RUN(test_state_files);
	r = tap_done();
	if (!getenv("COI_T_KEEP"))
		(void)tap_sh("rm -rf %s", dir);
	return r;
}
