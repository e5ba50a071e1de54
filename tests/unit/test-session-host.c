/* SPDX-License-Identifier: MIT */
/* Host-side session pieces: names and slots, protected-path planning, immutable flags and the
 * before/after comparison. Works on real files in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/naming.h"
#include "session/protect.h"
#include "session/veth.h"
#include "tap.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

static char ws[64];

static void test_names(void)
{
	char hash[WORKSPACE_HASH_LEN + 1], back[WORKSPACE_HASH_LEN + 1];
	_cleanup_free_ char *name = NULL;

	CHECK(session_workspace_hash("/home/user/project", hash) == 0);
	/* printf '%s' /home/user/project | sha256sum | cut -c1-8 */
	CHECK_STREQ(hash, "9dad1e4e");
	name = session_container_name(hash, 3);
	CHECK_STREQ(name, "coi-9dad1e4e-3");
	CHECK(session_parse_name(name, back) == 3);
	CHECK_STREQ(back, hash);
	CHECK(session_parse_name("coi-9dad1e4e-0", NULL) == -EINVAL);
	CHECK(session_parse_name("coi-9dad1e4e-x", NULL) == -EINVAL);
	CHECK(session_parse_name("coi-2b2ba5c-3", NULL) == -EINVAL);
	CHECK(session_parse_name("other-9dad1e4e-3", NULL) == -EINVAL);
}

static void test_slots(void)
{
	char *existing[12] = {"coi-9dad1e4e-1", "coi-9dad1e4e-2", "coi-ffffffff-3", NULL};
	char buf[10][32];

	CHECK(session_pick_slot("9dad1e4e", existing) == 3);
	CHECK(session_pick_slot("ffffffff", existing) == 1);
	for (int i = 0; i < 10; i++) {
		(void)snprintf(buf[i], sizeof(buf[i]), "coi-9dad1e4e-%d", i + 1);
		existing[i] = buf[i];
	}
	existing[10] = NULL;
	CHECK(session_pick_slot("9dad1e4e", existing) == -EBUSY);
}

static void test_lock(void)
{
	char home[] = "/tmp/coi-lock-XXXXXX";
	struct coi_error err = {0};
	struct ws_lock a = WS_LOCK_INIT, b = WS_LOCK_INIT;
	char path[64];
	int stale;

	CHECK(mkdtemp(home) != NULL);
	setenv("COI_HOME", home, 1);
	(void)snprintf(path, sizeof(path), "%s/run/abcd1234.lock", home);
	CHECK(session_lock_workspace("abcd1234", 100, &a, &err) == 0);
	CHECK(a.fd >= 0 && access(path, F_OK) == 0);
	/* flock locks belong to the open file description: a second open conflicts */
	CHECK(session_lock_workspace("abcd1234", 60, &b, &err) == -ETIMEDOUT);
	CHECK(b.fd == -1 && b.path == NULL);
	CHECK(strstr(err.msg, "another coi is starting") != NULL);
	/* a waiter that opened the file before its holder removed it: gets a lock of its own */
	stale = open(path, O_RDWR | O_CLOEXEC);
	CHECK(stale >= 0);
	session_unlock_workspace(&a);
	CHECK(a.fd == -1 && a.path == NULL);
	CHECK(access(path, F_OK) < 0);               /* no lock file left behind */
	CHECK(flock(stale, LOCK_EX | LOCK_NB) == 0); /* the removed file's lock, now free */
	CHECK(session_lock_workspace("abcd1234", 60, &b, &err) == 0);
	CHECK(access(path, F_OK) == 0);
	session_unlock_workspace(&b);
	session_unlock_workspace(&b); /* twice is fine */
	close(stale);
	tap_sh("rm -rf %s", home);
	unsetenv("COI_HOME");
}

static char **defaults(void)
{
	return strv_split(".git/hooks .git/config .git/config.worktree .git/info/attributes .husky "
	                  ".vscode .coi .claude/settings.json",
	                  " ");
}

static void test_plan_basic(void)
{
	_cleanup_strv_free_ char **paths = defaults();
	struct protect_plan *p = NULL;
	struct coi_error err = {0};

	tap_sh("rm -rf %s && mkdir -p %s/.git %s/.vscode", ws);
	tap_sh("echo '[core]' > %s/.git/config", ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && p->gitdir_rel && strcmp(p->gitdir_rel, ".git") == 0);
	/* hooks, config, config.worktree, info/attributes (created), .vscode */
	CHECK(p && p->n_entries == 5);
	CHECK(p && p->entries[0].created && p->entries[0].is_dir);
	CHECK(p && !p->entries[1].created && !p->entries[1].is_dir);
	CHECK(access(".", F_OK) == 0);
	CHECK(p && strv_contains(p->missing, ".husky") && strv_contains(p->missing, ".coi"));
	CHECK(p && strv_contains(p->missing, ".claude/settings.json"));
	protect_plan_free(p);
}

static void test_plan_symlink_refused(void)
{
	_cleanup_strv_free_ char **paths = defaults();
	struct protect_plan *p = NULL;
	struct coi_error err = {0};

	tap_sh("rm -rf %s && mkdir -p %s/.git/hooks && ln -s /etc %s/.vscode", ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == -ELOOP);
	CHECK(p == NULL);
	CHECK(strstr(err.msg, "'.vscode' is or lies under a symlink") != NULL);
	/* under a symlinked directory */
	tap_sh("rm -rf %s && mkdir -p %s/real && ln -s real %s/.claude", ws);
	tap_sh("touch %s/real/settings.json", ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == -ELOOP);
	CHECK(strstr(err.msg, "'.claude/settings.json'") != NULL);
}

static void test_plan_git_variants(void)
{
	_cleanup_strv_free_ char **paths = defaults();
	struct protect_plan *p = NULL;
	struct coi_error err = {0};

	/* .git is a symlink: skipped with a note, the rest still protected */
	tap_sh("rm -rf %s && mkdir -p %s/elsewhere/hooks %s/.vscode", ws);
	tap_sh("ln -s elsewhere %s/.git", ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && p->gitdir_rel == NULL && p->n_entries == 1);
	CHECK(p && p->notes && strstr(p->notes[0], "symlink"));
	p = protect_plan_free(p);

	/* .git is a file pointing inside the workspace (a submodule's parent layout) */
	tap_sh("rm -rf %s && mkdir -p %s/.gitmod/hooks && echo '[core]' > %s/.gitmod/config", ws);
	tap_sh("echo 'gitdir: .gitmod' > %s/.git", ws);
	CHECK(protect_plan_build(ws, paths, false, &p, &err) == 0);
	CHECK(p && p->gitdir_rel && strcmp(p->gitdir_rel, ".gitmod") == 0);
	CHECK(p && p->n_entries == 2 && strcmp(p->entries[0].rel, ".gitmod/hooks") == 0);
	p = protect_plan_free(p);

	/* .git points outside: a note, nothing mounted */
	tap_sh("rm -rf %s && mkdir -p %s && echo 'gitdir: /nonexistent/x/.git' > %s/.git", ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && p->gitdir_rel == NULL && p->n_entries == 0);
	CHECK(p && p->notes && strstr(p->notes[0], "outside the workspace"));
	p = protect_plan_free(p);

	/* a bad list entry */
	char *bad[] = {"../etc", NULL};
	CHECK(protect_plan_build(ws, bad, true, &p, &err) == -EINVAL);
}

static bool is_immutable(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK), flags = 0;
	bool r = fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL);

	if (fd >= 0)
		close(fd);
	return r;
}

static void test_immutable_and_compare(void)
{
	_cleanup_strv_free_ char **paths = defaults(), **before = NULL, **changes = NULL;
	_cleanup_free_ char *state = NULL, *hook = NULL;
	struct protect_plan *p = NULL;
	struct coi_error err = {0};
	int n;

	tap_sh("rm -rf %s && mkdir -p %s/.git/hooks %s/.vscode", ws);
	tap_sh("echo x > %s/.git/hooks/pre-commit && echo '[core]' > %s/.git/config && touch %s/.vscode/t",
	       ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(protect_snapshot(p, &before, &err) == 0);
	state = path_join(ws, "../coi-immutable-state");
	hook = path_join(ws, ".git/hooks/pre-commit");
	n = protect_set_immutable(p, state, &err);
	if (n == -EPERM || n == -ENOTTY || n == -EOPNOTSUPP) {
		printf("# immutable flags not available here (%s), skipping that part\n", err.msg);
	} else {
		CHECK(n >= 5);
		CHECK(is_immutable(hook));
		CHECK(open(hook, O_WRONLY | O_APPEND) < 0 && errno == EPERM);
		CHECK(protect_restore_immutable(state, &err) == 0);
		CHECK(!is_immutable(hook));
		CHECK(access(state, F_OK) < 0);
	}
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(changes && changes[0] == NULL);
	changes = strv_free(changes);
	tap_sh("echo evil >> %s/.git/hooks/pre-commit && mkdir %s/.husky", ws);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(strv_length(changes) == 2);
	CHECK(changes && strstr(changes[0], "'.git/hooks' changed"));
	CHECK(changes && changes[1] && strstr(changes[1], "'.husky' did not exist"));
	changes = strv_free(changes);
	tap_sh("mv %s/.git %s/.git-moved && mkdir -p %s/.git/hooks", ws);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(changes && strv_length(changes) >= 2);
	CHECK(changes && strstr(changes[strv_length(changes) - 2], "'.git' is not the same"));
	protect_plan_free(p);
}

/* No .git at the start: a repository made during the session is reported, with its hooks (not
 * git's samples, not empty files), its config and the keys in it that run a program. */
static void test_new_git(void)
{
	_cleanup_strv_free_ char **paths = defaults(), **before = NULL, **changes = NULL;
	struct protect_plan *p = NULL;
	struct coi_error err = {0};

	tap_sh("rm -rf %s && mkdir -p %s", ws);
	CHECK(protect_plan_build(ws, paths, true, &p, &err) == 0);
	CHECK(p && p->git_absent && p->gitdir_rel == NULL && p->n_entries == 0);
	CHECK(p && strv_length(p->git_watch) == 4);
	CHECK(access(".", F_OK) == 0);
	CHECK(protect_snapshot(p, &before, &err) == 0);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(changes && changes[0] == NULL); /* still no .git: nothing to say */
	changes = strv_free(changes);

	/* what 'git init' leaves: samples, a plain config: the .git and its config are named */
	tap_sh("mkdir -p %s/.git/hooks %s/.git/info && touch %s/.git/hooks/pre-commit.sample", ws);
	tap_sh("printf '[core]\\n\\tbare = false\\n' > %s/.git/config && touch %s/.git/hooks/empty",
	       ws);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(strv_length(changes) == 2);
	CHECK(changes && strstr(changes[0], "'.git' did not exist at the start"));
	CHECK(changes && changes[1] && strstr(changes[1], "'.git/config' was written") &&
	      strstr(changes[1], "no key known to run a program"));
	changes = strv_free(changes);

	/* then hooks and keys that run programs */
	tap_sh("echo evil > %s/.git/hooks/pre-commit && ln -s /tmp/x %s/.git/hooks/post-checkout",
	       ws);
	tap_sh("printf '[Core]\\n  hooksPath = /w/h\\n fsmonitor=/w/m\\n[filter \"x\"]\\n clean = sh\\n' "
	       ">> %s/.git/config",
	       ws);
	tap_sh("printf '[alias]\\n co = !sh\\n[user]\\n name = a\\n' >> %s/.git/config && echo a > "
	       "%s/.git/info/attributes",
	       ws);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(strv_length(changes) == 4);
	CHECK(changes && changes[1] && strstr(changes[1], "'.git/hooks' holds hooks") &&
	      strstr(changes[1], ": post-checkout, pre-commit"));
	CHECK(changes && changes[2] &&
	      strstr(changes[2], "sets core.hookspath, core.fsmonitor, filter.x.clean, alias.co:"));
	CHECK(changes && changes[3] && strstr(changes[3], "'.git/info/attributes' was created"));
	changes = strv_free(changes);

	/* a .git file or symlink is named as such */
	tap_sh("rm -rf %s/.git && ln -s /tmp %s/.git", ws);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(strv_length(changes) == 1 && strstr(changes[0], "as a symlink to '/tmp'"));
	changes = strv_free(changes);
	protect_plan_free(p);

	/* with hooks writable ([git] writable_hooks), a new repository's hooks are not listed */
	char *only_config[] = {".git/config", NULL};
	tap_sh("rm -rf %s && mkdir -p %s", ws);
	CHECK(protect_plan_build(ws, only_config, true, &p, &err) == 0);
	tap_sh("mkdir -p %s/.git/hooks && echo x > %s/.git/hooks/pre-push", ws);
	CHECK(protect_compare(p, before, &changes, &err) == 0);
	CHECK(strv_length(changes) == 1 && strstr(changes[0], "'.git' did not exist"));
	protect_plan_free(p);
}

/* The host NIC names coi gives (session.c: "vcoi%.8s%d"), and nothing else. */
static void test_veth_names(void)
{
	char hash[WORKSPACE_HASH_LEN + 1] = "";
	char name[32];

	(void)snprintf(name, sizeof(name), VETH_PREFIX "%.8s%d", "0a1b2c3d", 12);
	CHECK(veth_parse_name(name, hash) == 12);
	CHECK_STREQ(hash, "0a1b2c3d");
	CHECK(veth_parse_name("vcoi0a1b2c3d1", NULL) == 1);
	CHECK(veth_parse_name("vcoi0a1b2c3d", NULL) == 0);     /* no slot */
	CHECK(veth_parse_name("vcoi0a1b2c3d0", NULL) == 0);    /* slots start at 1 */
	CHECK(veth_parse_name("vcoi0a1b2c3d1x", NULL) == 0);   /* trailing junk */
	CHECK(veth_parse_name("vcoi0A1b2c3d1", NULL) == 0);    /* hashes are lower case */
	CHECK(veth_parse_name("vcoi0a1b2c3d1234", NULL) == 0); /* longer than any slot */
	CHECK(veth_parse_name("veth0a1b2c3d1", NULL) == 0);
	CHECK(veth_parse_name("vcoi", NULL) == 0);
	CHECK(veth_parse_name(NULL, NULL) == 0);
}

int main(void)
{
	strcpy(ws, "/tmp/coi-ws-XXXXXX");
	if (!mkdtemp(ws))
		return 1;
	RUN(test_names);
	RUN(test_slots);
	RUN(test_lock);
	RUN(test_plan_basic);
	RUN(test_plan_symlink_refused);
	RUN(test_plan_git_variants);
	RUN(test_immutable_and_compare);
	RUN(test_new_git);
	RUN(test_veth_names);
	tap_sh("rm -rf %s %s/../coi-immutable-state", ws);
	return tap_done();
}
