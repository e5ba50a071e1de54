/* SPDX-License-Identifier: MIT */
/* protect-snapshot.h: what the host sees at each protected path, at the start of a session and
 * at its end, so the end can say what changed under protection. */
#pragma once

struct coi_error;
struct protect_plan;

/* A digest of what the host sees at each protected path and each git directory mount point:
 * identity (device, inode), type, mode and content, recursively (bounded). One string per path,
 * in plan order, for protect_compare(). */
int protect_snapshot(const struct protect_plan *p, char ***ret, struct coi_error *err);
/* Compare a snapshot with now; ret gets one line per changed path (empty when intact), and
 * protected paths that were missing at the start but exist now. (What the agent planted in git
 * directories, new ones included, is the end-of-session sweep's: sweep.h.) */
int protect_compare(const struct protect_plan *p, char *const *before, char ***ret,
                    struct coi_error *err);
