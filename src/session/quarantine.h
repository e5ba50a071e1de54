/* SPDX-License-Identifier: MIT */
/* quarantine.h: where the end of a session puts what the agent planted for the host to run
 * (sweep.h): ~/.coi/quarantine/<time>-<container>/, made on first use (mode 0700), with a REPORT
 * that says what was found, where, why it was taken, and the command that puts it back. Files are
 * kept without their execute bits; a file coi rewrote is kept whole, as it was.
 *
 * Files are taken from a directory fd the caller opened without following symlinks, by name
 * (openat/unlinkat with O_NOFOLLOW), so nothing planted can redirect what coi reads or removes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct coi_error;

struct quarantine {
	char *base;      /* coi_dir()/quarantine */
	char *tag;       /* "<time>-<container>" */
	char *dir;       /* base/tag, once made */
	char *workspace; /* absolute host path, for the report's paths */
	struct buf report;
	char **lines; /* for the user, shortest form */
	size_t n_moved, n_failed, n_files;
};

int quarantine_init(struct quarantine *q, const char *workspace, const char *name,
                    struct coi_error *err);
void quarantine_release(struct quarantine *q);

/* Move entry name of directory dirfd (rel: its path in the workspace) into the quarantine: a
 * regular file is copied and removed, a symlink recorded and removed. When the entry cannot be
 * removed (a directory coi may not write to: container root made it) it is said so. why says
 * what it is. */
int quarantine_move(struct quarantine *q, int dirfd, const char *name, const char *rel,
                    const char *why);
/* Keep data, the content rel had before coi rewrote it, in the quarantine; *ret_path (when not
 * NULL) gets where. */
int quarantine_keep(struct quarantine *q, const char *rel, const void *data, size_t len,
                    char **ret_path);
/* What the last finding noted could not be neutralised (the user is told to do it). */
void quarantine_failed(struct quarantine *q);
/* A finding of the report, and a line for the user. */
int quarantine_note(struct quarantine *q, const char *fmt, ...) COI_PRINTF(2, 3);
/* Write REPORT (when anything was quarantined) and hand over the user's lines (ret_lines may be
 * NULL): a summary first, then the findings (at most a screenful). */
int quarantine_close(struct quarantine *q, char ***ret_lines, struct coi_error *err);
