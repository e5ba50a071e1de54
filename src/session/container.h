/* SPDX-License-Identifier: MIT */
/* container.h: the session's container, up to the moment it runs commands: the host's id
 * ranges, the name and slot, a persistent container found again (and checked again), the image,
 * the workspace mount (idmapped for another user or for host root), creation with its devices,
 * readiness, /tmp in memory, the workspace checked inside. Each reads and fills struct session
 * (state.h) and pushes its own undo steps; session.c runs them in order. */
#pragma once

#include <stdint.h>

struct coi_error;
struct session;
struct session_opts;

/* Incus may map host id into containers ("root:ID:1" or a range holding it in file), else -EPERM
 * saying how to fix it. */
int container_check_subid(int64_t id, const char *file, struct coi_error *err);
/* The extra mounts' sources resolved here, once (a link in the workspace leading out is refused).
 */
int container_resolve_mounts(struct session_opts *o, struct coi_error *err);
/* s->slot and s->name: the given slot, a persistent session's stopped container, or the lowest
 * free slot. */
int container_pick_name(struct session *s, struct coi_error *err);
/* An existing container of that name: reused (s->reused) when persistent and stopped, deleted
 * when stopped, else -EBUSY. */
int container_handle_existing(struct session *s, struct coi_error *err);
/* The image exists, else -ENOENT saying how to build it. */
int container_check_image(struct session *s, struct coi_error *err);
/* The workspace through an idmapped mount: of the user's ids (another user), or of the
 * container's range (host root; the container must exist). */
int container_mount_user_workspace(struct session *s, struct coi_error *err);
int container_mount_idmapped_workspace(struct session *s, struct coi_error *err);
/* sha256 (hex) of the create request container_create() makes for s->name, s->slot and
 * s->ipv4, and of the image the alias names now (warm.h: a warm container's mark); a claimer's
 * "now" is when its command read the alias (s->opts->image_target, when read: container.c). */
int container_fingerprint(struct session *s, char out[65], struct coi_error *err);
/* A warm container claimed (warm.h): the undo steps container_create() would have pushed. */
int container_take_warm(struct session *s, struct coi_error *err);
/* Create and start the container with its devices; pushes its undo steps. */
int container_create(struct session *s, struct coi_error *err);
/* A persistent container started again gets today's [limits] and secret_paths masks. */
int container_refresh_limits(struct session *s, struct coi_error *err);
int container_refresh_secrets(struct session *s, struct coi_error *err);
/* and this session's protection disks (its git directories may have come and gone). */
int container_sync_disks(struct session *s, struct coi_error *err);
/* Exec works (bounded by ready_timeout); /tmp in memory ([limits.disk] tmpfs_size); the
 * workspace is a directory of the container user inside. */
int container_wait_ready(struct session *s, struct coi_error *err);
int container_mount_tmpfs(struct session *s, struct coi_error *err);
/* [git] strip_attribution: the hooks of githooks.h, set up as root. A failure is a warning in
 * s->warnings, and the session goes on (the hooks are a courtesy to the user's history, no
 * protection). */
void container_git_hooks(struct session *s);
int container_verify_workspace(struct session *s, struct coi_error *err);

/* Undo steps session.c tells apart at the end (what may finish in the background). */
/* An ephemeral session's end: every process of the container killed and gone within timeout_ms
 * (SIGKILL to its init through a pidfd). -EOPNOTSUPP for a remote server, -EPERM for a user who
 * may not signal the container's root, -ESRCH when it does not run: the caller freezes it. */
int container_kill_init(struct session *s, int timeout_ms, struct coi_error *err);
/* container_kill_init() in two halves: the SIGKILL (the init's pidfd into *ret_fd), so that the
 * caller can start something else meanwhile, and the wait for every process to be gone. */
int container_signal_init(struct session *s, int *ret_fd, struct coi_error *err);
int container_wait_init(struct session *s, int fd, int timeout_ms, struct coi_error *err);
int container_undo_delete(struct session *s, struct coi_error *err);
int container_undo_stop(struct session *s, struct coi_error *err);
int container_undo_save(struct session *s, struct coi_error *err);
