/* SPDX-License-Identifier: MIT */
/* immutable.h: the host's backstop under the read-only mounts. While a session runs, the
 * protected paths are immutable on the host (chattr +i), which container root cannot undo even
 * where it could get past a mount. Each flag coi sets is recorded in a state file first, so the
 * end of the session, or `coi clean` after a crash, clears exactly those. */
#pragma once

struct coi_error;
struct protect_plan;

/* Set the immutable flag on every read-only path of the plan (directories recursively),
 * recording in state_file each path whose flag coi set. Returns the number of paths flagged;
 * -EPERM when coi lacks CAP_LINUX_IMMUTABLE. */
int protect_set_immutable(const struct protect_plan *p, const char *state_file,
                          struct coi_error *err);
/* Clear the flags recorded in state_file and remove it; a missing file is not an error. */
int protect_restore_immutable(const char *state_file, struct coi_error *err);
