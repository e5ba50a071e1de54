/* SPDX-License-Identifier: MIT */
/* devices.c: the container's config and devices, decided before first boot and sent in the one
 * create request (no patching afterwards): identity mapping, hardening, the workspace and the
 * read-only overlays of the protected paths, extra mounts, the hardened NIC, limits. A pure
 * function of its inputs, so unit tests check exactly what is asked of Incus. */
#include "session/devices.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "session/protect.h"
#include "session/session.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

/* Incus device names: keep letters, digits and dashes; everything else becomes a dash. */
static char *device_name(const char *prefix, const char *rel, size_t index)
{
	char *r;

	if (asprintf(&r, "%s%zu-%s", prefix, index, rel) < 0)
		return NULL;
	for (char *p = r + strlen(prefix); *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			*p = '-';
	if (strlen(r) > 60)
		r[60] = '\0';
	return r;
}

static int set(struct incus_map *m, const char *k, const char *v)
{
	return incus_map_set(m, k, v);
}

/* Container uid/gid code_uid is the invoking host user: files the agent writes are the user's,
 * and container root is an unprivileged uid from the container's own isolated range, so it can
 * never make a host-root-owned or setuid-root file (HOST.md section 6). No shift=true: that maps
 * container root to host root on the workspace mount. */
static int add_identity(struct incus_map *cfg, const struct session_opts *o)
{
	char idmap[128];
	int n = snprintf(idmap, sizeof(idmap), "uid %lld %lld\ngid %lld %lld",
	                 (long long)o->host_uid, (long long)o->code_uid, (long long)o->host_gid,
	                 (long long)o->code_uid);

	if (n < 0 || (size_t)n >= sizeof(idmap))
		return -EINVAL;
	if (set(cfg, "raw.idmap", idmap) < 0)
		return -ENOMEM;
	return 0;
}

/* The container-wide seccomp policy (raw.seccomp replaces Incus' own, so its default deny list
 * comes first).
 *
 * umount2 is refused to everything in the container: root could otherwise unmount the read-only
 * overlays of the protected paths and the git directory's own mount point (measured here).
 * Refusing it breaks nothing systemd needs to boot (measured); refusing MS_MOVE or bind mounts
 * as well would (systemd's service sandboxing uses them), so those stay, and the host-side
 * immutable flags and the end-of-session identity check cover what they allow. Docker inside
 * needs umount2: container.docker keeps it.
 *
 * When the agent's files are host root's (sessions started by root): no setuid or setgid bits by
 * any route, so the agent cannot leave a setuid-root program in the workspace for the host to
 * run. Each mode-taking call is filtered on its mode argument; calls whose mode cannot be
 * filtered (openat2, fchmodat2, io_uring) are refused as unimplemented, and callers fall back to
 * the filtered ones. */
static int add_seccomp(struct incus_map *cfg, const struct session_opts *o, bool deny_setid)
{
	static const struct {
		const char *name;
		int mode_arg;
	} mode_calls[] = {
	        {"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"creat", 1},
	        {"open", 2},  {"openat", 3}, {"mknod", 1},    {"mknodat", 2},
	};
	_cleanup_buf_ struct buf b = BUF_INIT(8192);
	int r;

	if (!deny_setid && o->docker)
		return 0; /* Incus' own default policy */
	r = buf_puts(&b,
	             "2\ndenylist\n[all]\n"
	             "reject_force_umount  # comment this to allow umount -f;  not recommended\n"
	             "[all]\n"
	             "kexec_load errno 38\nopen_by_handle_at errno 38\ninit_module errno 38\n"
	             "finit_module errno 38\ndelete_module errno 38\n");
	if (r >= 0 && !o->docker)
		r = buf_puts(&b, "umount2 errno 1\n");
	if (r >= 0 && deny_setid)
		r = buf_puts(&b, "openat2 errno 38\nfchmodat2 errno 38\nio_uring_setup errno 38\n");
	for (size_t i = 0; r >= 0 && deny_setid && i < ELEMENTSOF(mode_calls); i++)
		for (int bit = 04000; r >= 0 && bit >= 02000; bit >>= 1)
			r = buf_printf(&b, "%s errno 1 [%d,%d,SCMP_CMP_MASKED_EQ,%d]\n",
			               mode_calls[i].name, mode_calls[i].mode_arg, bit, bit);
	if (r < 0)
		return r;
	return set(cfg, "raw.seccomp", buf_str(&b));
}

static int add_hardening(struct incus_map *cfg, const struct session_opts *o)
{
	static const char *const fixed[][2] = {
	        {"security.privileged", "false"},
	        /* a uid range of its own: no other container shares its ids */
	        {"security.idmap.isolated", "true"},
	        /* /dev/incus leaks host details and lets the guest talk to the daemon */
	        {"security.guestapi", "false"},
	        /* a crash must not bring the agent back by itself when incusd restarts */
	        {"boot.autostart", "false"},
	};

	for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
		if (set(cfg, fixed[i][0], fixed[i][1]) < 0)
			return -ENOMEM;
	if (set(cfg, "security.nesting", o->docker ? "true" : "false") < 0)
		return -ENOMEM;
	if (session_net_mode(o) != NET_MODE_OPEN &&
	    (set(cfg, "linux.sysctl.net.ipv6.conf.all.disable_ipv6", "1") < 0 ||
	     set(cfg, "linux.sysctl.net.ipv6.conf.default.disable_ipv6", "1") < 0))
		return -ENOMEM;
	return 0;
}

static int add_limits(struct incus_map *cfg, const struct session_opts *o)
{
	char procs[32];

	if (o->limits_cpu && *o->limits_cpu && set(cfg, "limits.cpu", o->limits_cpu) < 0)
		return -ENOMEM;
	if (o->limits_memory && *o->limits_memory &&
	    set(cfg, "limits.memory", o->limits_memory) < 0)
		return -ENOMEM;
	if (o->limits_processes > 0) {
		(void)snprintf(procs, sizeof(procs), "%lld", (long long)o->limits_processes);
		if (set(cfg, "limits.processes", procs) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int add_metadata(struct incus_map *cfg, const struct session_opts *o, int slot)
{
	char s[16];

	(void)snprintf(s, sizeof(s), "%d", slot);
	if (set(cfg, "user.coi.workspace", o->workspace) < 0 || set(cfg, "user.coi.slot", s) < 0 ||
	    set(cfg, "user.coi.persistent", o->persistent ? "true" : "false") < 0 ||
	    set(cfg, "user.coi.image", o->image) < 0 ||
	    (o->tool && set(cfg, "user.coi.tool", o->tool) < 0) ||
	    set(cfg, "user.coi.network_mode", net_mode_to_string(session_net_mode(o))) < 0)
		return -ENOMEM;
	return 0;
}

int session_build_disks(const struct session_opts *o, const struct protect_plan *plan,
                        const struct session_layout *l, struct incus_devices *d)
{
	const char *src_root = l->source_root ? l->source_root : o->workspace;
	const char *cws = l->container_workspace;
	size_t idx = 0;

	if (incus_devices_add(d, "workspace", "type", "disk", "source", src_root, "path", cws,
	                      NULL) < 0)
		return -ENOMEM;
	/* The git directory as its own mount point: it cannot be renamed away from under the
	 * read-only hooks and config (HOST.md section 6, gotcha 3). */
	if (plan && plan->gitdir_rel) {
		_cleanup_free_ char *src = path_join(src_root, plan->gitdir_rel);
		_cleanup_free_ char *dst = path_join(cws, plan->gitdir_rel);

		if (!src || !dst ||
		    incus_devices_add(d, "gitdir", "type", "disk", "source", src, "path", dst,
		                      NULL) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; plan && i < plan->n_entries; i++) {
		_cleanup_free_ char *name = device_name("protect-", plan->entries[i].rel, idx++);
		_cleanup_free_ char *dst = path_join(cws, plan->entries[i].rel);
		_cleanup_free_ char *src = path_join(src_root, plan->entries[i].rel);

		if (!name || !dst || !src ||
		    incus_devices_add(d, name, "type", "disk", "source", src, "path", dst,
		                      "readonly", "true", NULL) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_mounts; i++) {
		char name[32];

		(void)snprintf(name, sizeof(name), "mount-%zu", i);
		if (incus_devices_add(d, name, "type", "disk", "source", o->mounts[i].host, "path",
		                      o->mounts[i].container, "readonly",
		                      o->mounts[i].readonly ? "true" : "false", NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The profile's NIC, overridden at instance level with anti-spoofing and port isolation, and a
 * host-side name coi chooses, so the network policy can drop its traffic before the first packet
 * (the name is known before the container starts). */
static int add_nic(struct incus_devices *d, const struct incus_devices *profile_devices,
                   const char *veth)
{
	static const char *const hardening[][2] = {
	        {"security.ipv4_filtering", "true"},
	        {"security.mac_filtering", "true"},
	        {"security.port_isolation", "true"},
	};
	const struct incus_device *nic = NULL;
	struct incus_device *mine;

	for (size_t i = 0; profile_devices && i < profile_devices->n; i++) {
		const char *type = incus_map_get(&profile_devices->items[i].props, "type");

		if (type && strcmp(type, "nic") == 0) {
			nic = &profile_devices->items[i];
			break;
		}
	}
	if (!nic)
		return -ENOENT;
	if (incus_devices_add(d, nic->name, "type", "nic", NULL) < 0)
		return -ENOMEM;
	mine = (struct incus_device *)incus_devices_get(d, nic->name);
	for (size_t i = 0; i < nic->props.n; i++)
		if (incus_map_set(&mine->props, nic->props.items[i].key,
		                  nic->props.items[i].value) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(hardening); i++)
		if (incus_map_set(&mine->props, hardening[i][0], hardening[i][1]) < 0)
			return -ENOMEM;
	if (incus_map_set(&mine->props, "host_name", veth) < 0)
		return -ENOMEM;
	return 0;
}

int session_build_create(const struct session_opts *o, const struct protect_plan *plan,
                         const struct incus_devices *profile_devices,
                         const struct session_layout *l, struct incus_map *ret_config,
                         struct incus_devices *ret_devices, struct coi_error *err)
{
	struct incus_map cfg = {0};
	struct incus_devices dev = {0};
	int r = 0;

	if (l->raw_idmap)
		r = add_identity(&cfg, o);
	if (r >= 0)
		r = add_hardening(&cfg, o);
	if (r >= 0)
		r = add_seccomp(&cfg, o, l->deny_setid);
	if (r >= 0)
		r = add_limits(&cfg, o);
	if (r >= 0)
		r = add_metadata(&cfg, o, l->slot);
	if (r >= 0 && l->with_disks)
		r = session_build_disks(o, plan, l, &dev);
	if (r >= 0)
		r = add_nic(&dev, profile_devices, l->veth);
	if (r < 0) {
		incus_map_clear(&cfg);
		incus_devices_clear(&dev);
		if (r == -ENOENT)
			return coi_error_set(
			        err, r,
			        "the Incus profile has no network device (nic); the "
			        "container would have no network and coi could not apply "
			        "its policy");
		return r == -ENOMEM ? coi_error_oom(err)
		                    : coi_error_set(err, r, "bad session options");
	}
	*ret_config = cfg;
	*ret_devices = dev;
	return 0;
}

int session_check_profile(const struct incus_map *profile_config, const char *profile,
                          struct coi_error *err)
{
	const char *v = incus_map_get(profile_config, "security.privileged");

	if (v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0))
		return coi_error_set(
		        err, -EPERM,
		        "the Incus profile '%s' sets security.privileged=true, which turns "
		        "off every container isolation (user namespace, seccomp, AppArmor); "
		        "coi refuses to start. Fix: incus profile unset %s security.privileged",
		        profile, profile);
	if (incus_map_get(profile_config, "raw.idmap"))
		return coi_error_set(
		        err, -EPERM,
		        "the Incus profile '%s' sets raw.idmap, which would change who owns "
		        "files in your workspace; coi refuses to start. Fix: incus profile "
		        "unset %s raw.idmap",
		        profile, profile);
	return 0;
}
