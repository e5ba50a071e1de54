/* SPDX-License-Identifier: MIT */
/* idmount.h: an idmapped bind mount of the workspace, for sessions started by host root.
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

/* Detach the mount at target and remove the directory; a missing target is not an error. */
int idmount_remove(const char *target, struct coi_error *err);
