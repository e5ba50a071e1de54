/* SPDX-License-Identifier: MIT */
/* naming.h: container names and slots, compatible with the original so a user can switch:
 * "<prefix><first 8 hex of sha256(absolute workspace path)>-<slot>", prefix "coi-" (or
 * $COI_CONTAINER_PREFIX). Slots 1..10 are picked automatically; a lock file serialises the
 * pick-and-create step so two concurrent starts never take the same slot. */
#pragma once

#include <stdbool.h>

struct coi_error;

#define SESSION_SLOT_MAX_AUTO 10
#define SESSION_SLOT_MAX      99
#define WORKSPACE_HASH_LEN    8

/* The container name prefix: $COI_CONTAINER_PREFIX, else "coi-". */
const char *session_name_prefix(void);

/* First 8 hex of sha256 of the (already absolute, clean) workspace path. */
int session_workspace_hash(const char *abs_workspace, char ret[WORKSPACE_HASH_LEN + 1]);

/* [container] session_name: the hash of another identity of the workspace, first 8 hex of
 * sha256(workspace, a NUL byte, name); name NULL or empty: session_workspace_hash(). */
int session_identity_hash(const char *abs_workspace, const char *name,
                          char ret[WORKSPACE_HASH_LEN + 1]);

/* "<prefix><hash>-<slot>"; NULL on OOM. */
char *session_container_name(const char *hash, int slot);

/* If name is "<prefix><8 hex>-<slot>", the slot (and the hash copied to ret_hash if not NULL);
 * else -EINVAL. */
int session_parse_name(const char *name, char ret_hash[WORKSPACE_HASH_LEN + 1]);

/* The lowest slot in 1..SESSION_SLOT_MAX_AUTO whose name is not in existing (a NULL-terminated
 * list of instance names); -EBUSY when all are taken. */
int session_pick_slot(const char *hash, char *const *existing);

/* An exclusive lock for one workspace hash: the file coi_dir()/run/<hash>.lock, flock()ed. The
 * holder removes the file when it lets go, so lock files do not pile up; a waiter that then gets
 * the lock of the removed file sees it is no longer the one at the path and tries again. */
struct ws_lock {
	int fd;
	char *path;
};
#define WS_LOCK_INIT                   \
	{                              \
		.fd = -1, .path = NULL \
	}

/* Take it, waiting up to timeout_ms; ret untouched on failure. */
int session_lock_workspace(const char *hash, int timeout_ms, struct ws_lock *ret,
                           struct coi_error *err);
/* Remove the file and release; a released lock is left as WS_LOCK_INIT (calling again is fine). */
void session_unlock_workspace(struct ws_lock *l);
