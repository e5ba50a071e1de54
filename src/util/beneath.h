/* SPDX-License-Identifier: MIT */
/* beneath.h: file access below a directory the caller holds open, for trees that someone else may
 * have filled with symlinks (the workspace after a session). No symlink is followed on the way,
 * the last component included, and ".." never leads out: openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) where the kernel has it, else one openat(O_NOFOLLOW) per component.
 * Relative paths only; every fd is O_CLOEXEC. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct buf;

/* open(2) of rel below root: the fd, or a negative errno (-ELOOP for a symlink on the way). */
int beneath_open(int root, const char *rel, int flags, mode_t mode);
/* The directory holding rel's last component, opened (O_DIRECTORY); *ret_name points at the last
 * component inside rel. rel "a" gives a duplicate of root. */
int beneath_open_parent(int root, const char *rel, const char **ret_name);
/* Read the regular file rel below root into b (bounded by b's ceiling): -EINVAL when it is not a
 * regular file, -E2BIG past the ceiling. */
int beneath_read(int root, const char *rel, struct buf *b);
/* Read what is left of fd into b, bounded by b's ceiling (-E2BIG); b holds "" at least. */
int fd_read_all(int fd, struct buf *b);
/* Write all of data to fd; -errno on failure. */
int fd_write_all(int fd, const void *data, size_t len);
/* Copy what is left of in to out, at most max bytes: -E2BIG past max (out then holds a prefix,
 * which the caller discards), -errno on failure, else 0. */
int fd_copy(int in, int out, size_t max);
