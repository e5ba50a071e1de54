/* SPDX-License-Identifier: MIT */
/* protect.h: which workspace paths are out of the agent's reach, decided on the host before the
 * container exists. Files the host later executes or interprets (.git/hooks, .git/config,
 * .vscode, ...) are mounted read-only over the workspace mount, and the same git paths of every
 * git directory in the workspace (submodules, nested repositories, worktrees: session/gitscan.h).
 * Each git directory, and each directory between one and a protected path inside it (info/ for
 * info/attributes), is mounted as its own device: a mount point cannot be renamed away, where a
 * plain directory holding one can (mv .git/info .git/x && mkdir .git/info).
 *
 * Everything here works on host paths and never follows a symlink: a protected path of the
 * workspace's own that is a symlink (or lies under one) is refused, so a repository cannot make
 * coi mount or chattr an arbitrary host file; in a nested git directory it is skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "session/gitscan.h"

struct coi_error;

/* Git directories that get mounts of their own; more are found, and checked at the end of the
 * session, but each costs a few devices (each ~2-3 ms of container start). */
#define PROTECT_MAX_GITDIRS 32

struct protect_entry {
	char *rel;  /* relative to the workspace, as seen under /workspace */
	char *host; /* absolute host path */
	bool is_dir;
	bool created; /* coi created it so that it could be protected (a placeholder) */
	bool nested;  /* it belongs to a git directory other than the workspace's own */
	dev_t dev;    /* what it was at the start (a placeholder is removed only if still it) */
	ino_t ino;
};

struct protect_plan {
	char *workspace;
	struct protect_entry *entries; /* mounted read-only */
	size_t n_entries;
	char **mounts;    /* mounted writable as their own devices, parents first: git directories
	                     and the directories between one and a protected path inside it */
	char *gitdir_rel; /* the workspace's own git directory (".git", or where a .git file
	                     points), NULL if none we can see; mounts[0] when set */
	char **gitdirs;   /* every git directory whose paths are protected, gitdir_rel first */
	char **git_paths; /* the git paths of the list (".git/hooks", ...) */
	char **names;     /* the list's other paths, looked for in every folder too (.vscode) */
	size_t gitdirs_left; /* git directories found beyond PROTECT_MAX_GITDIRS */
	char **created_dirs; /* directories coi made to hold a placeholder (info/), deepest last */
	struct gitscan scan; /* what the walk of the workspace found */
	char **notes;        /* what the user should be told (skipped paths and why) */
	char **missing;  /* protected paths that did not exist (watched: created ones are reported)
	                  */
	bool git_absent; /* the workspace had no .git at all */
};

/* Decide what to protect in workspace (absolute) from the effective list of relative paths.
 * create_missing makes what git would create later and that changes what the host runs
 * (.git/hooks; empty info/attributes and config.worktree placeholders) so it can be protected;
 * protect_remove_placeholders() takes them away at the end. Fails with -ELOOP naming the path
 * when a protected path of the workspace's own is or lies under a symlink. */
int protect_plan_build(const char *workspace, char *const *paths, bool create_missing,
                       struct protect_plan **ret, struct coi_error *err);
struct protect_plan *protect_plan_free(struct protect_plan *p);
/* [git] protected_branches: refs/heads/<branch> of the workspace's own git directory read-only,
 * with refs/ and refs/heads/ as mount points (a branch cannot be moved, deleted or renamed away
 * by any route inside). A branch only in packed-refs first gets its loose file, as git writes
 * it (the same object). A branch that does not exist is left alone. */
int protect_plan_branches(struct protect_plan *p, char *const *branches, struct coi_error *err);

/* Remove the placeholders the plan created that are still as coi made them (an empty file, an
 * empty directory, the same inode), and the directories made for them when empty. */
int protect_remove_placeholders(const struct protect_plan *p, struct coi_error *err);
/* One placeholder at host: removed when it is still the inode coi made, and empty. */
int protect_placeholder_remove(const char *host, bool is_dir, dev_t dev, ino_t ino);
