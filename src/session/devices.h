/* SPDX-License-Identifier: MIT */
/* devices.h: what the session asks Incus for at creation (see devices.c). */
#pragma once

struct coi_error;
struct incus_devices;
struct incus_map;
struct protect_plan;
struct secret_plan;
struct session_opts;

#include <stdbool.h>

/* How a session container is laid out. */
struct session_layout {
	int slot;
	const char *veth; /* host-side NIC name coi chooses */
	/* the guest's address decided before start (NULL: DHCP decides): pinned on the NIC, set
	 * by LXC before the guest's init, and told to its networkd by net_file */
	const char *ipv4, *gateway;
	unsigned prefix;
	const char *net_file;
	const char *container_workspace; /* "/workspace" */
	const char *source_root;         /* where the workspace is taken from: NULL for the
	                                    workspace itself, or an idmapped mount of it */
	bool raw_idmap;                  /* map the invoking user to code with raw.idmap */
	bool deny_setid;                 /* seccomp: no setuid/setgid bits (every session) */
	bool with_disks;                 /* include the workspace and protection disks */
	/* secret_paths: what to hide, and the empty file and directory to hide it with */
	const struct secret_plan *secrets;
	const char *mask_file, *mask_dir;
	const char *home; /* the coi home that keeps its owner record (fleet.h FLEET_HOME_KEY) */
	const char *warm_note; /* user.coi.warm of a container the warm pool's filler makes, until
	                          its mark (fleet.h FLEET_WARM_FILLING); NULL for a session's */
};

/* Fill the instance config and devices for a session container. profile_devices are the
 * devices of the Incus profile in use (its NIC is copied and hardened). */
int session_build_create(const struct session_opts *o, const struct protect_plan *plan,
                         const struct incus_devices *profile_devices,
                         const struct session_layout *l, struct incus_map *ret_config,
                         struct incus_devices *ret_devices, struct coi_error *err);

/* Only the workspace, git directory, protected-path, secret and extra-mount disks. */
int session_build_disks(const struct session_opts *o, const struct protect_plan *plan,
                        const struct session_layout *l, struct incus_devices *d);
/* Only the disks that hide the secret paths ("secret-N-..."). */
int session_build_secret_disks(const struct session_layout *l, struct incus_devices *d);
/* Is name one of those? */
bool session_is_secret_disk(const char *name);

/* Only the [limits] config (every key, "" for an unset one) and the root disk, for a persistent
 * container started again. */
int session_build_limits(const struct session_opts *o, const struct incus_devices *profile_devices,
                         struct incus_map *cfg, struct incus_devices *d);

/* The NIC alone, as session_build_create makes it (the profile's, hardened, host_name, the
 * address pinned) with, when l has an address, its raw.lxc and the networkd file: to move a
 * created container to another address. -ENOENT: the profile has no NIC. */
int session_build_nic(const struct incus_devices *profile_devices, const struct session_layout *l,
                      struct incus_map *ret_config, struct incus_devices *ret_devices);

/* Whether a raw.lxc value is exactly what coi gives: its address and gateway lines, nothing
 * else (session_check_instance accepts that one on a container). */
bool session_raw_lxc_is_ours(const char *raw);

/* Refuse a profile that would defeat the isolation (security.privileged, raw.idmap). */
int session_check_profile(const struct incus_map *profile_config, const char *profile,
                          struct coi_error *err);

/* Where the guest's networkd finds net_file: sorted before the image's own 10-eth0.network;
 * the disk device that puts it there. */
#define SESSION_NET_FILE_PATH "/etc/systemd/network/05-coi-eth0.network"
#define SESSION_NET_DEVICE    "coi-net"
/* That device, read-only, for the host file net_file. */
int session_build_net_device(const char *net_file, struct incus_devices *d);

/* Before a persistent container is started again: refuse what would defeat the isolation when
 * it is set on the container itself (security.privileged, raw.lxc other than coi's own address
 * lines, raw.apparmor, a raw.idmap other than coi's), and put in ret_fix what must be set again
 * (raw.seccomp when it was removed or changed). l says which identity and policy the session uses,
 * as at creation. */
int session_check_instance(const struct session_opts *o, const struct session_layout *l,
                           const struct incus_map *config, const char *name,
                           struct incus_map *ret_fix, struct coi_error *err);
