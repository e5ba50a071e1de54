/* SPDX-License-Identifier: MIT */
/* idmount.h: an idmapped bind mount of the workspace, for every session.
 *
 * Mapping host root into a container is not an option: the container's uid would own every
 * host-root file it can see, /sys included (measured here: `code` could rewrite host sysfs
 * settings). So for root, code keeps an unprivileged host uid X (from the container's isolated
 * range), and the workspace is bind-mounted through an idmapped mount on which disk uid/gid 0
 * appear as X: the agent reads and writes the root-owned project as itself, its new files are
 * root's on disk, and every other id (container root included) is unmapped there, so container
 * root cannot create, chown or chmod anything in the workspace at all. */
#pragma once

#include <sys/types.h>

struct coi_error;

/* Where coi keeps these mounts: /run/coi/mounts/<container>. Newly allocated. */
char *idmount_target(const char *container);

/* Bind source at target (created) so that disk_uid/disk_gid appear as host_uid/host_gid. */
int idmount_create(const char *source, const char *target, uid_t disk_uid, gid_t disk_gid,
                   uid_t host_uid, gid_t host_gid, struct coi_error *err);

/* Sessions of another user: bind source (a directory uid owns) at idmount_target(container) so
 * that only uid and gid are mapped, to themselves. The agent (uid, through raw.idmap) reads and
 * writes as the user; container root, whose host uid is unmapped there, cannot create, chown or
 * chmod anything, so nothing in the workspace ends up owned by an id the user cannot remove.
 * idmount_create_owned does it (as root: it refuses a source uid does not own);
 * idmount_create_user does it as root, else through `sudo -n <coi> __idmount` (cmd/idmount.c),
 * which scripts/setup-host allows to the group incus-admin. */
int idmount_create_owned(const char *source, const char *container, uid_t uid, gid_t gid,
                         struct coi_error *err);
int idmount_create_user(const char *source, const char *container, uid_t uid, gid_t gid,
                        struct coi_error *err);
/* The mount of container gone: as root, else through the same sudo helper; none is no error. */
int idmount_remove_container(const char *container, struct coi_error *err);

/* Detach the mount at target and remove the directory; a missing target is not an error. */
int idmount_remove(const char *target, struct coi_error *err);
