/* SPDX-License-Identifier: MIT */
/* path.h: path strings and the few file operations every module needs, all bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;
struct coi_error;

/* "a" + "/" + "b" without doubled slashes; NULL on OOM. */
char *path_join(const char *a, const char *b);
/* Lexically clean an absolute path: collapse "//", drop ".", resolve ".." (no symlinks read). */
char *path_clean(const char *p);
/* Absolute and clean, relative to the current directory when p is relative. */
int path_absolute(const char *p, char **ret, struct coi_error *err);
/* True when the clean absolute path p is dir or below it (lexically: "/a/bc" is not under "/a/b").
 */
bool path_is_inside(const char *p, const char *dir);
/* True for a non-empty relative path with no ".." component (safe to join under a root). */
bool path_is_safe_relative(const char *p);
/* The last component (points into p). */
const char *path_basename(const char *p);

/* mkdir -p with mode for each created component. */
int mkdir_p(const char *path, mode_t mode);
/* Read a whole regular file into b, failing with -E2BIG past b's ceiling. */
int read_file(const char *path, struct buf *b, struct coi_error *err);
/* Write data to path through a temporary file and rename, so readers never see half a file. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct coi_error *err);

/* The user's home ($HOME, else the passwd entry); never NULL. */
const char *home_dir(void);
/* ~/.coi, or $COI_HOME when set (tests); newly allocated. */
char *coi_dir(void);
/* rel in the source tree this coi was built in (build/<BUILD>/coi), when it is one and the file
 * is there; NULL for an installed coi. For hints that name a script of the tree. */
char *source_tree_file(const char *rel);
