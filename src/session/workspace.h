/* SPDX-License-Identifier: MIT */
/* workspace.h: which host directories may be a session's workspace (see workspace.c for the
 * lists), and coi's own state directories, which no container may reach. */
#pragma once

#include <stdbool.h>

struct coi_error;

/* -EPERM, with why and how to pick a project directory, when workspace (with every symbolic
 * link followed) is `/`, a system directory or lies in one, a directory that holds projects
 * (/home, /opt, /srv, /tmp, ...), the invoking user's home (and the sudo user's), the Incus
 * daemon's state, or contains any of them. unsafe (--unsafe-workspace, COI_UNSAFE_WORKSPACE=1)
 * lifts those refusals; never the one of a workspace that contains or lies in coi's state
 * directory. */
int session_workspace_check(const char *workspace, bool unsafe, struct coi_error *err);
/* -EPERM when host (resolved) contains or lies in coi's state directory: an extra mount. */
int session_mount_check(const char *host, struct coi_error *err);
/* coi's state directories, resolved: coi_dir() ($COI_HOME, else ~/.coi) and, for root under
 * sudo, the sudo user's ~/.coi. */
int session_state_dirs(char ***ret);
