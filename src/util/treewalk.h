/* SPDX-License-Identifier: MIT */
/* treewalk.h: a path and, for a directory, everything below it, depth-first and bounded (depth
 * and entry count), never following a symlink: every entry is opened with O_NOFOLLOW and a
 * directory is read through its own fd. Symlinks and special files are passed with fd -1. */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

#define TREEWALK_MAX_DEPTH   32
#define TREEWALK_MAX_ENTRIES 20000

typedef int (*treewalk_fn)(int fd, const char *path, const struct stat *st, void *ud);

/* Call fn for path and everything below it; *budget counts entries down (-E2BIG when it runs out),
 * -ELOOP past TREEWALK_MAX_DEPTH. Stops at fn's first negative return. */
int treewalk(const char *path, size_t *budget, treewalk_fn fn, void *ud);
