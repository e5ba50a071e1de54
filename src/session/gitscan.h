/* SPDX-License-Identifier: MIT */
/* gitscan.h: every git directory in the workspace that the host could run git in, found by a
 * bounded walk: the top .git (a directory, or a "gitdir:" file or symlink pointing inside),
 * submodules' .git/modules/... (nested ones too), worktrees' .git/worktrees/NAME, nested
 * repositories' .git, bare repositories, and the common directory a "commondir" file names.
 *
 * A directory is a git directory when git would take it for one (setup.c: is_git_directory): a
 * valid HEAD, and objects/ and refs/ (or a commondir file). The walk follows no symlink (it reads
 * where a .git symlink points, and checks the target without following one), reads each directory
 * once, never stats a file (the directory entry's type says enough), and inside a git directory
 * only walks modules/ and worktrees/. It stops at max_depth and after max_entries directory
 * entries, and then names what it did not walk. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct coi_error;

#define GITSCAN_MAX_ENTRIES      400000
#define GITSCAN_MAX_DEPTH        40
#define GITSCAN_NOT_WALKED_SHOWN 8

struct gitscan_opts {
	size_t max_entries; /* 0: GITSCAN_MAX_ENTRIES */
	unsigned max_depth; /* 0: GITSCAN_MAX_DEPTH */
	char *const *names; /* relative paths to find in every folder (".vscode",
	                       ".claude/settings.json"); NULL: none */
};

struct gitscan_dir {
	char *rel;   /* relative to the workspace: ".git", ".git/modules/sub", "vendor/x/.git" */
	bool linked; /* has a commondir file: a worktree's, whose hooks and config are elsewhere */
	bool common; /* named by a commondir file (its HEAD is not needed) */
	dev_t dev;
	ino_t ino;
	bool meta_walked; /* internal: its modules/ and worktrees/ are queued */
};

/* A ".git" file ("gitdir: X") or symlink, or a git directory's "commondir" file. */
struct gitscan_pointer {
	char *rel;    /* where the pointer is */
	char *raw;    /* where it points, as written */
	char *target; /* the git directory it names, relative to the workspace, when that is inside
	                 the workspace and reachable without a symlink; NULL otherwise */
	bool symlink;
};

struct gitscan {
	struct gitscan_dir *dirs; /* in walk order: shallower first */
	size_t n_dirs;
	struct gitscan_pointer *ptrs;
	size_t n_ptrs;
	char **named;        /* matches of opts->names, relative (files or directories) */
	char **not_walked;   /* the first GITSCAN_NOT_WALKED_SHOWN directories left out */
	size_t n_not_walked; /* all of them */
	size_t entries;      /* directory entries read */
	bool truncated;      /* a cap was reached */
};

int gitscan_walk(const char *workspace, const struct gitscan_opts *o, struct gitscan *ret,
                 struct coi_error *err);
void gitscan_release(struct gitscan *s);
/* The git directory at rel, or NULL. */
const struct gitscan_dir *gitscan_find(const struct gitscan *s, const char *rel);
/* "a, b, c and N more" for the directories left out; NULL when none (or on OOM). */
char *gitscan_not_walked_text(const struct gitscan *s);
