/* SPDX-License-Identifier: MIT */
/* sweep-record.h: what the two halves of the sweep share (sweep-save.c writes the state file,
 * sweep.c reads it at the end): the records' escaping, a digest of an entry, and the walk of a
 * directory's entries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "util/hash.h"

struct buf;

#define STATE_MAX    ((size_t)16 << 20)
#define CONFIG_MAX   ((size_t)1 << 20)
#define HOOK_MAX     ((size_t)16 << 20)
#define NAMED_MAX    2000 /* files recorded below one protected name */
#define LINK_MAX_LEN 4096

enum { SWEEP_HOOKS = 1 << 0, SWEEP_CONFIG = 1 << 1, SWEEP_WORKTREE = 1 << 2 };

/* s into b, escaped (%XX for every byte but [A-Za-z0-9._/+-]). */
int sweep_put_escaped(struct buf *b, const char *s);
/* %XX escapes undone in place; false for a malformed escape or an escaped NUL. */
bool sweep_unescape(char *s);
/* A record line "KIND A [C [SHA]]" into b, the paths escaped (c and sha may be NULL). */
int sweep_put_rec(struct buf *b, const char *kind, const char *a, const char *c, const char *sha);
/* The SHA-256 of what entry name of dirfd is: a regular file's content, a symlink's target. */
int sweep_entry_sha(int dirfd, const char *name, const struct stat *st,
                    char sha[SHA256_HEX_LEN + 1]);
/* git's own *.sample hooks, which git never runs. */
bool sweep_is_sample(const char *name);
typedef int (*sweep_entry_fn)(int dirfd, const char *name, const struct stat *st, void *ud);
/* Each entry of directory fd but . and .. */
int sweep_each_entry(int fd, sweep_entry_fn fn, void *ud);
/* The hooks directory of git directory rel (open as gitfd): itself, or where a "hooks" symlink
 * leads inside the workspace (a symlink on the way, or a target outside: -ELOOP/-EXDEV). */
int sweep_open_hooks(int root, int gitfd, const char *rel, char **ret_link);
