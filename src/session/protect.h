/* SPDX-License-Identifier: MIT */
/* protect.h: the host side of protected paths. Files the host later executes or interprets
 * (.git/hooks, .git/config, .vscode, ...) are mounted read-only over the workspace mount, the
 * .git directory is mounted as its own device (a mount point cannot be renamed away), and while a
 * session runs the files are made immutable on the host (container root cannot undo that). At the
 * end, what the host sees is compared with what it saw at the start.
 *
 * Everything here works on host paths and never follows a symlink: a protected path that is a
 * symlink (or lies under one) is refused, so a repository cannot make coi mount or chattr an
 * arbitrary host file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct coi_error;

struct protect_entry {
	char *rel;  /* relative to the workspace, as seen under /workspace */
	char *host; /* absolute host path */
	bool is_dir;
	bool created; /* coi created it so that it could be protected */
};

struct protect_plan {
	char *workspace;
	struct protect_entry *entries;
	size_t n_entries;
	char *gitdir_rel; /* relative path of a git directory inside the workspace to mount as its
	                     own device (".git", or where a .git file points), NULL if none */
	char **notes;     /* what the user should be told (skipped paths and why) */
	char **missing;   /* protected paths that did not exist (watched: created ones are reported)
	                   */
	bool git_absent;  /* the workspace had no .git at all */
	char **git_watch; /* no .git at the start: the git paths of the list (".git/hooks", ...), to
	                     report what a repository created during the session holds of them */
};

/* Decide what to protect in workspace (absolute) from the effective list of relative paths.
 * create_missing makes what git would create later and that changes what the host runs
 * (.git/hooks; empty .git/info/attributes and .git/config.worktree placeholders) so it can be
 * protected. Fails with -ELOOP naming the path when a protected path is or lies under a symlink. */
int protect_plan_build(const char *workspace, char *const *paths, bool create_missing,
                       struct protect_plan **ret, struct coi_error *err);
struct protect_plan *protect_plan_free(struct protect_plan *p);

/* Set the immutable flag on every protected path (directories recursively), recording in
 * state_file each path whose flag coi set, so protect_restore_immutable() (at session end, or
 * `coi clean` after a crash) clears exactly those. Returns the number of paths flagged. -EPERM
 * when coi lacks CAP_LINUX_IMMUTABLE. */
int protect_set_immutable(const struct protect_plan *p, const char *state_file,
                          struct coi_error *err);
/* Clear the flags recorded in state_file and remove it; a missing file is not an error. */
int protect_restore_immutable(const char *state_file, struct coi_error *err);

/* A digest of what the host sees at each protected path and the git directory: identity
 * (device, inode), type, mode and content, recursively (bounded). One string per path, in plan
 * order, for protect_compare(). */
int protect_snapshot(const struct protect_plan *p, char ***ret, struct coi_error *err);
/* Compare a snapshot with now; ret gets one line per changed path (empty when intact), and
 * protected paths that were missing at the start but exist now. A .git that appeared in a
 * workspace that had none is reported too, with what of it the host's git would run: each hook
 * with content, the config and the keys in it that name a program, and the other git paths of the
 * list that hold something. */
int protect_compare(const struct protect_plan *p, char *const *before, char ***ret,
                    struct coi_error *err);
