/* SPDX-License-Identifier: MIT */
/* The workspace walk (session/gitscan.h) on trees made with git itself: the top repository, a
 * submodule with a nested submodule, a nested repository, a worktree inside, a bare repository,
 * .git files and symlinks pointing in and out; the caps, and what they say was not walked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/gitscan.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

static char ws[64];

static bool have(const struct gitscan *s, const char *rel)
{
	return gitscan_find(s, rel) != NULL;
}

static const char git[] = "git -c user.email=t@e -c user.name=t -c protocol.file.allow=always "
                          "-c init.defaultBranch=main";

static void make_tree(void)
{
	char cmd[4096];

	(void)snprintf(
	        cmd, sizeof(cmd),
	        "set -e; cd %s; G='%s';"
	        "$G init -q src-a; $G -C src-a commit -q --allow-empty -m a;"
	        "$G init -q src-b; $G -C src-b commit -q --allow-empty -m b;"
	        "$G -C src-a submodule -q add \"$PWD/src-b\" nested-b; $G -C src-a commit -qm n;"
	        "$G init -q top; cd top; $G commit -q --allow-empty -m t;"
	        "$G submodule -q add \"$(dirname $PWD)/src-a\" lib/a;"
	        "$G submodule -q update --init --recursive; $G commit -qm s;"
	        "$G init -q vendor/x; $G -C vendor/x commit -q --allow-empty -m x;"
	        "$G worktree add -q wt;"
	        "$G init -q --bare store.git;"
	        "mkdir -p deep/a/b/c/d/e; $G init -q deep/a/b/c/d/e/r;"
	        "mkdir -p linked; ln -s ../vendor/x/.git linked/.git;"
	        "mkdir -p outside; echo 'gitdir: /elsewhere/repo' > outside/.git;"
	        "mkdir -p pkg/.vscode; echo {} > pkg/.vscode/tasks.json;"
	        "mkdir -p pkg/.claude; echo {} > pkg/.claude/settings.json;"
	        "mkdir -p notgit/objects notgit/refs; echo junk > notgit/HEAD",
	        ws, git);
	CHECK(system(cmd) == 0);
}

static void test_walk(void)
{
	char top[128];
	char *names[] = {".vscode", ".claude/settings.json", NULL};
	struct gitscan s = {0};
	struct coi_error err = {0};

	make_tree();
	(void)snprintf(top, sizeof(top), "%s/top", ws);
	CHECK(gitscan_walk(top, &(struct gitscan_opts){.names = names}, &s, &err) == 0);
	for (size_t i = 0; i < s.n_dirs; i++)
		printf("# found %s%s\n", s.dirs[i].rel, s.dirs[i].linked ? " (linked)" : "");
	CHECK(have(&s, ".git"));
	CHECK(have(&s, ".git/modules/lib/a"));
	CHECK(have(&s, ".git/modules/lib/a/modules/nested-b"));
	CHECK(have(&s, ".git/worktrees/wt"));
	CHECK(gitscan_find(&s, ".git/worktrees/wt") &&
	      gitscan_find(&s, ".git/worktrees/wt")->linked);
	CHECK(have(&s, "vendor/x/.git"));
	CHECK(have(&s, "store.git"));
	CHECK(have(&s, "deep/a/b/c/d/e/r/.git"));
	CHECK(!have(&s, "notgit"));
	CHECK(s.n_dirs == 7);
	/* the pointers: lib/a/.git, lib/a/nested-b/.git, wt/.git, linked/.git, outside/.git, and
	 * the worktree's commondir */
	for (size_t i = 0; i < s.n_ptrs; i++) {
		printf("# pointer %s -> %s (%s)\n", s.ptrs[i].rel, s.ptrs[i].raw,
		       s.ptrs[i].target ? s.ptrs[i].target : "outside");
		if (strcmp(s.ptrs[i].rel, "outside/.git") == 0)
			CHECK(s.ptrs[i].target == NULL);
		if (strcmp(s.ptrs[i].rel, "linked/.git") == 0)
			CHECK(s.ptrs[i].symlink && s.ptrs[i].target &&
			      strcmp(s.ptrs[i].target, "vendor/x/.git") == 0);
		if (strcmp(s.ptrs[i].rel, "lib/a/.git") == 0)
			CHECK(s.ptrs[i].target &&
			      strcmp(s.ptrs[i].target, ".git/modules/lib/a") == 0);
	}
	CHECK(s.n_ptrs == 6);
	CHECK(strv_contains(s.named, "pkg/.vscode"));
	CHECK(strv_contains(s.named, "pkg/.claude/settings.json"));
	CHECK(!s.truncated && s.n_not_walked == 0);
	gitscan_release(&s);
}

/* Over the caps: what was not walked is named, shallow parts first. */
static void test_caps(void)
{
	char top[128];
	struct gitscan s = {0};
	struct coi_error err = {0};
	_cleanup_free_ char *text = NULL;

	(void)snprintf(top, sizeof(top), "%s/top", ws);
	CHECK(gitscan_walk(top, &(struct gitscan_opts){.max_depth = 3}, &s, &err) == 0);
	CHECK(s.truncated);
	CHECK(!have(&s, "deep/a/b/c/d/e/r/.git"));
	CHECK(have(&s, ".git/modules/lib/a"));
	CHECK(strv_contains(s.not_walked, "deep/a/b/c"));
	gitscan_release(&s);

	CHECK(gitscan_walk(top, &(struct gitscan_opts){.max_entries = 30}, &s, &err) == 0);
	CHECK(s.truncated && s.n_not_walked > 0);
	CHECK(s.entries == 30);
	text = gitscan_not_walked_text(&s);
	printf("# not walked: %s\n", text ? text : "(none)");
	CHECK(text != NULL);
	gitscan_release(&s);
}

/* A symlink on the way is never followed, and a .git symlink out of the workspace names no git
 * directory. */
static void test_symlinks(void)
{
	char top[128];
	struct gitscan s = {0};
	struct coi_error err = {0};

	(void)snprintf(top, sizeof(top), "%s/top", ws);
	CHECK(tap_sh("cd %s/top && ln -s %s/src-a via-link && ln -s /etc dotgit-out && mkdir o2 && "
	             "ln -s %s/src-b/.git o2/.git",
	             ws) == 0);
	CHECK(gitscan_walk(top, NULL, &s, &err) == 0);
	CHECK(!have(&s, "via-link/.git"));
	for (size_t i = 0; i < s.n_ptrs; i++)
		if (strcmp(s.ptrs[i].rel, "o2/.git") == 0)
			CHECK(s.ptrs[i].target == NULL);
	gitscan_release(&s);
}

int main(void)
{
	int r;

	if (system("git --version >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP git is not installed\n");
		return 0;
	}
	strcpy(ws, "/tmp/coi-t-gitscan-XXXXXX");
	if (!mkdtemp(ws))
		return 1;
	RUN(test_walk);
	RUN(test_caps);
	RUN(test_symlinks);
	r = tap_done();
	(void)tap_sh("rm -rf %s", ws);
	return r;
}
