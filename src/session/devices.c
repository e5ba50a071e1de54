/* SPDX-License-Identifier: MIT */
/* devices.c: the container's config and devices, decided before first boot and sent in the one
 * create request (no patching afterwards): identity mapping, hardening, the workspace and the
 * read-only overlays of the protected paths, extra mounts, the hardened NIC, limits. A pure
 * function of its inputs, so unit tests check exactly what is asked of Incus. */
#include "session/devices.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "session/protect.h"
#include "session/secrets.h"
#include "session/state.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

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
 * comes first). It applies to every process of the container, PID 1 and whatever it starts, and
 * to every invoker: a read-only mount is only as good as container root's inability to get
 * around it, and a host user who is not root has no immutable flags to fall back on.
 *
 * Refused (the first five each measured here as a way to write under a read-only protected
 * path, from a shell or a small static program):
 * - umount/umount2 (umount is the 32-bit call, which x86-64 kernels also take): remove the
 *   read-only mount itself;
 * - mount(2) with MS_BIND and without MS_REMOUNT: a non-recursive bind of /workspace is a copy
 *   without the read-only mounts on it;
 * - mount(2) with MS_BIND|MS_REMOUNT and without MS_RDONLY: "remount,bind,rw" clears the
 *   read-only flag of a mount (a remount that makes a mount read-only stays allowed: systemd
 *   seals its credential directories that way);
 * - mount(2) with MS_MOVE: moves the git directory's mount, with the read-only ones on it, away
 *   from the real directory underneath;
 * - the new mount API: open_tree clones a tree like a bind, move_mount moves one, mount_setattr
 *   clears read-only; with them fsopen, fsconfig, fsmount, fspick; and pivot_root;
 * - new mount namespaces (unshare/clone with CLONE_NEWNS; clone3, whose flags a filter cannot
 *   see, as unimplemented so callers fall back to clone). Not an attack in itself, but systemd
 *   skips its per-service sandboxing when it cannot make one ("assuming containerized
 *   execution"), where otherwise the refused bind mounts would fail networkd, resolved, logind
 *   and more (measured on the Debian 12 image). The image recipe also empties service
 *   credentials, whose setup needs a move mount.
 * Docker inside needs all of these: container.docker keeps Incus' default policy, and the docs
 * say what that gives up.
 *
 * No setuid or setgid bits by any route, in every session (deny_setid): the agent cannot leave a
 * setuid program in the workspace for the host to run, as host root's (sessions started by root)
 * or as the user's (container root could chmod the user's files: it holds CAP_FOWNER over the
 * ids its namespace maps). Each mode-taking call is filtered on its mode argument; calls whose mode
 * cannot be filtered (openat2, fchmodat2, io_uring) are refused as unimplemented, and callers fall
 * back to the filtered ones. */
/* LXC's argument filter is [index,value,op,mask]: refused when (arg & mask) == value. */
static const char seccomp_mounts[] =
        "umount2 errno 1\n"
        "umount errno 1\n"
        "mount errno 1 [3,4096,SCMP_CMP_MASKED_EQ,4128]\n" /* MS_BIND, not MS_REMOUNT */
        "mount errno 1 [3,4128,SCMP_CMP_MASKED_EQ,4129]\n" /* MS_BIND|MS_REMOUNT, not ro */
        "mount errno 1 [3,8192,SCMP_CMP_MASKED_EQ,8192]\n" /* MS_MOVE */
        "open_tree errno 1\nmove_mount errno 1\nmount_setattr errno 1\n"
        "fsopen errno 1\nfsconfig errno 1\nfsmount errno 1\nfspick errno 1\n"
        "pivot_root errno 1\n"
        "unshare errno 1 [0,131072,SCMP_CMP_MASKED_EQ,131072]\n" /* CLONE_NEWNS */
        "clone errno 1 [0,131072,SCMP_CMP_MASKED_EQ,131072]\n"
        "clone3 errno 38\n";

/* [security] reduce_kernel_surface: the system call families behind most recent container escapes
 * and kernel privilege escalations, none of which an agent's work needs (libuv, in Node, probes
 * io_uring and falls back to its thread pool). EPERM, as a permission refusal reads to callers;
 * strict adds perf_event_open, which profilers need. */
static const char seccomp_reduced[] = "io_uring_setup errno 1\nio_uring_enter errno 1\n"
                                      "io_uring_register errno 1\nbpf errno 1\n"
                                      "userfaultfd errno 1\nkeyctl errno 1\nadd_key errno 1\n"
                                      "request_key errno 1\n";

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

	if (!deny_setid && o->docker && o->kernel_surface == KERNEL_SURFACE_FULL)
		return 0; /* Incus' own default policy */
	r = buf_puts(&b,
	             "2\ndenylist\n[all]\n"
	             "reject_force_umount  # comment this to allow umount -f;  not recommended\n"
	             "[all]\n"
	             "kexec_load errno 38\nopen_by_handle_at errno 38\ninit_module errno 38\n"
	             "finit_module errno 38\ndelete_module errno 38\n");
	if (r >= 0 && !o->docker)
		r = buf_puts(&b, seccomp_mounts);
	if (r >= 0 && o->kernel_surface != KERNEL_SURFACE_FULL)
		r = buf_puts(&b, seccomp_reduced);
	if (r >= 0 && o->kernel_surface == KERNEL_SURFACE_STRICT)
		r = buf_puts(&b, "perf_event_open errno 1\n");
	if (r >= 0 && deny_setid)
		r = buf_puts(&b, "openat2 errno 38\nfchmodat2 errno 38\n");
	/* io_uring's writes cannot be filtered on their mode: refused either way */
	if (r >= 0 && deny_setid && o->kernel_surface == KERNEL_SURFACE_FULL)
		r = buf_puts(&b, "io_uring_setup errno 38\n");
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

/* [limits] as instance config: Incus turns them into the container's cgroup settings. With
 * all, an unset one is "" (which unsets it), for a container made before. */
static int add_limits(struct incus_map *cfg, const struct session_limits *l, bool all)
{
	const char *const strings[][2] = {
	        {"limits.cpu", l->cpu},
	        {"limits.cpu.allowance", l->cpu_allowance},
	        {"limits.memory", l->memory},
	        {"limits.memory.enforce", l->memory_enforce},
	        {"limits.memory.swap", l->memory_swap},
	};
	const struct {
		const char *key;
		long long v, unset;
	} numbers[] = {
	        {"limits.cpu.priority", l->cpu_priority, -1},
	        {"limits.disk.priority", l->disk_priority, -1},
	        {"limits.processes", l->processes, 0},
	};
	char num[32];

	for (size_t i = 0; i < ELEMENTSOF(strings); i++)
		if (((strings[i][1] && *strings[i][1]) || all) &&
		    set(cfg, strings[i][0], strings[i][1] ? strings[i][1] : "") < 0)
			return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(numbers); i++) {
		num[0] = '\0';
		if (numbers[i].v == numbers[i].unset && !all)
			continue;
		if (numbers[i].v != numbers[i].unset)
			(void)snprintf(num, sizeof(num), "%lld", numbers[i].v);
		if (set(cfg, numbers[i].key, num) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The root disk with its size and I/O limits: the profile's, at instance level (a device from a
 * profile cannot be changed per instance), in the pool asked for. Without any of them, the
 * profile's as it is. */
static int add_root_disk(struct incus_devices *d, const struct incus_devices *profile_devices,
                         const struct session_opts *o)
{
	const struct session_limits *l = &o->limits;
	const char *const props[][2] = {
	        {"size", l->disk_size},
	        {"limits.read", l->disk_read},
	        {"limits.write", l->disk_write},
	        {"limits.max", l->disk_max},
	};
	const struct incus_device *root = NULL;
	struct incus_device *mine;
	bool any = false;

	for (size_t i = 0; i < ELEMENTSOF(props); i++)
		any = any || (props[i][1] && *props[i][1]);
	for (size_t i = 0; profile_devices && i < profile_devices->n; i++) {
		const struct incus_map *p = &profile_devices->items[i].props;
		const char *type = incus_map_get(p, "type"), *path = incus_map_get(p, "path");

		if (type && path && strcmp(type, "disk") == 0 && strcmp(path, "/") == 0)
			root = &profile_devices->items[i];
	}
	if (!any || (!root && !o->storage_pool))
		return 0;
	if (incus_devices_add(d, "root", "type", "disk", "path", "/", NULL) < 0)
		return -ENOMEM;
	mine = (struct incus_device *)incus_devices_get(d, "root");
	for (size_t i = 0; root && i < root->props.n; i++)
		if (incus_map_set(&mine->props, root->props.items[i].key,
		                  root->props.items[i].value) < 0)
			return -ENOMEM;
	if (o->storage_pool && incus_map_set(&mine->props, "pool", o->storage_pool) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(props); i++)
		if (props[i][1] && *props[i][1] &&
		    incus_map_set(&mine->props, props[i][0], props[i][1]) < 0)
			return -ENOMEM;
	return 0;
}

static int add_metadata(struct incus_map *cfg, const struct session_opts *o,
                        const struct session_layout *l)
{
	char s[16];

	(void)snprintf(s, sizeof(s), "%d", l->slot);
	/* a container the filler is still making is nobody's session either (fleet.h) */
	if (l->warm_note && set(cfg, "user.coi.warm", l->warm_note) < 0)
		return -ENOMEM;
	/* whose owner record it has (fleet.h): another home's coi never takes it for an orphan */
	if (l->home && set(cfg, "user.coi.home", l->home) < 0)
		return -ENOMEM;
	if (set(cfg, "user.coi.workspace", o->workspace) < 0 || set(cfg, "user.coi.slot", s) < 0 ||
	    set(cfg, "user.coi.persistent", o->persistent ? "true" : "false") < 0 ||
	    set(cfg, "user.coi.image", o->image) < 0 ||
	    (o->tool && set(cfg, "user.coi.tool", o->tool) < 0) ||
	    set(cfg, "user.coi.network_mode", net_mode_to_string(session_net_mode(o))) < 0 ||
	    (o->session_name && set(cfg, "user.coi.session_name", o->session_name) < 0))
		return -ENOMEM;
	return 0;
}

#define SECRET_PREFIX "secret-"

bool session_is_secret_disk(const char *name)
{
	return strncmp(name, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0;
}

static bool is_secret(const struct session_layout *l, const char *rel)
{
	for (size_t i = 0; l->secrets && i < l->secrets->n_entries; i++)
		if (strcmp(l->secrets->entries[i].rel, rel) == 0)
			return true;
	return false;
}

/* Each secret path under an empty read-only mount. Incus mounts a container's disks parent
 * first, so one inside a protected directory is mounted over that directory's mount. */
int session_build_secret_disks(const struct session_layout *l, struct incus_devices *d)
{
	for (size_t i = 0; l->secrets && i < l->secrets->n_entries; i++) {
		const struct secret_entry *e = &l->secrets->entries[i];
		_cleanup_free_ char *name = device_name(SECRET_PREFIX, e->rel, i);
		_cleanup_free_ char *dst = path_join(l->container_workspace, e->rel);

		if (!name || !dst ||
		    incus_devices_add(d, name, "type", "disk", "source",
		                      e->is_dir ? l->mask_dir : l->mask_file, "path", dst,
		                      "readonly", "true", NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

int session_build_disks(const struct session_opts *o, const struct protect_plan *plan,
                        const struct session_layout *l, struct incus_devices *d)
{
	const char *src_root = l->source_root ? l->source_root : o->workspace;
	const char *cws = l->container_workspace;
	size_t idx = 0, n_mounts = 0;

	if (incus_devices_add(d, "workspace", "type", "disk", "source", src_root, "path", cws,
	                      NULL) < 0)
		return -ENOMEM;
	/* Git directories (and the directories between one and a protected path inside it) as
	 * mount points of their own: none can be renamed away from under the read-only mounts
	 * (HOST.md section 6, gotcha 3). The workspace's own is "gitdir", as it always was. */
	strv_foreach(m, plan ? plan->mounts : NULL) {
		bool top = plan->gitdir_rel && strcmp(*m, plan->gitdir_rel) == 0;
		_cleanup_free_ char *name =
		        top ? strdup("gitdir") : device_name("gitdir-", *m, n_mounts++);
		_cleanup_free_ char *src = path_join(src_root, *m);
		_cleanup_free_ char *dst = path_join(cws, *m);

		/* [git] readonly: the git directories read-only as a whole */
		if (!name || !src || !dst ||
		    incus_devices_add(d, name, "type", "disk", "source", src, "path", dst,
		                      o->git.readonly ? "readonly" : NULL, "true", NULL) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; plan && i < plan->n_entries; i++) {
		_cleanup_free_ char *name = NULL, *dst = NULL, *src = NULL;

		if (is_secret(l, plan->entries[i].rel))
			continue; /* hidden, which is read-only too: one mount per path */
		name = device_name("protect-", plan->entries[i].rel, idx++);
		dst = path_join(cws, plan->entries[i].rel);
		src = path_join(src_root, plan->entries[i].rel);
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
	return session_build_secret_disks(l, d);
}

/* The profile's NIC, overridden at instance level with anti-spoofing and port isolation, and a
 * host-side name coi chooses, so the network policy can drop its traffic before the first packet
 * (the name is known before the container starts). */
static int add_nic(struct incus_devices *d, const struct incus_devices *profile_devices,
                   const struct session_layout *l)
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
	if (incus_map_set(&mine->props, "host_name", l->veth) < 0)
		return -ENOMEM;
	/* decided before start: the bridge's DHCP server reserves it (its leases list it) */
	if (l->ipv4 && incus_map_set(&mine->props, "ipv4.address", l->ipv4) < 0)
		return -ENOMEM;
	return 0;
}

/* The only raw.lxc coi gives (and accepts on a container it made): the guest's address and
 * gateway, which LXC sets up in its network namespace before the guest's init runs, so the
 * network is up at the command's first instruction without waiting for the guest's DHCP. */
#define RAW_LXC_ADDRESS "lxc.net.0.ipv4.address = "
#define RAW_LXC_GATEWAY "lxc.net.0.ipv4.gateway = "

static int add_address(struct incus_map *cfg, struct incus_devices *d,
                       const struct session_layout *l)
{
	char raw[128];
	int n;

	if (!l->ipv4)
		return 0;
	n = snprintf(raw, sizeof(raw), RAW_LXC_ADDRESS "%s/%u\n" RAW_LXC_GATEWAY "%s", l->ipv4,
	             l->prefix, l->gateway);
	if (n < 0 || (size_t)n >= sizeof(raw))
		return -EINVAL;
	if (set(cfg, "raw.lxc", raw) < 0)
		return -ENOMEM;
	/* networkd is told the same address, so it keeps it instead of asking DHCP */
	return l->net_file ? session_build_net_device(l->net_file, d) : 0;
}

int session_build_net_device(const char *net_file, struct incus_devices *d)
{
	return incus_devices_add(d, SESSION_NET_DEVICE, "type", "disk", "source", net_file, "path",
	                         SESSION_NET_FILE_PATH, "readonly", "true", NULL) < 0
	               ? -ENOMEM
	               : 0;
}

static int build_nic(const struct incus_devices *profile_devices, const struct session_layout *l,
                     struct incus_map *cfg, struct incus_devices *d)
{
	int r = add_nic(d, profile_devices, l);

	return r < 0 ? r : add_address(cfg, d, l);
}

int session_build_nic(const struct incus_devices *profile_devices, const struct session_layout *l,
                      struct incus_map *ret_config, struct incus_devices *ret_devices)
{
	struct incus_map cfg = {0};
	struct incus_devices dev = {0};
	int r = build_nic(profile_devices, l, &cfg, &dev);

	if (r < 0) {
		incus_map_clear(&cfg);
		incus_devices_clear(&dev);
		return r;
	}
	*ret_config = cfg;
	*ret_devices = dev;
	return 0;
}

/* An IPv4 address in dotted form, then optionally "/prefix", and nothing else. */
static bool is_ipv4(const char *v, size_t len, bool with_prefix)
{
	char ip[INET_ADDRSTRLEN + 4], *slash;
	struct in_addr a;
	unsigned prefix;
	char end;

	if (len == 0 || len >= sizeof(ip))
		return false;
	memcpy(ip, v, len);
	ip[len] = '\0';
	slash = strchr(ip, '/');
	if (with_prefix) {
		if (!slash || sscanf(slash + 1, "%u%c", &prefix, &end) != 1 || prefix > 32)
			return false;
		*slash = '\0';
	} else if (slash) {
		return false;
	}
	return inet_pton(AF_INET, ip, &a) == 1;
}

bool session_raw_lxc_is_ours(const char *raw)
{
	bool addr = false, gw = false;

	for (const char *p = raw; *p;) {
		size_t len = strcspn(p, "\n");

		if (!addr && strncmp(p, RAW_LXC_ADDRESS, strlen(RAW_LXC_ADDRESS)) == 0 &&
		    is_ipv4(p + strlen(RAW_LXC_ADDRESS), len - strlen(RAW_LXC_ADDRESS), true))
			addr = true;
		else if (!gw && strncmp(p, RAW_LXC_GATEWAY, strlen(RAW_LXC_GATEWAY)) == 0 &&
		         is_ipv4(p + strlen(RAW_LXC_GATEWAY), len - strlen(RAW_LXC_GATEWAY), false))
			gw = true;
		else
			return false;
		p += len;
		if (*p)
			p++;
	}
	return addr && gw;
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
		r = add_limits(&cfg, &o->limits, false);
	if (r >= 0)
		r = add_metadata(&cfg, o, l);
	if (r >= 0 && l->with_disks)
		r = session_build_disks(o, plan, l, &dev);
	if (r >= 0)
		r = build_nic(profile_devices, l, &cfg, &dev);
	if (r >= 0)
		r = add_root_disk(&dev, profile_devices, o);
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

static bool is_true(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

int session_build_limits(const struct session_opts *o, const struct incus_devices *profile_devices,
                         struct incus_map *cfg, struct incus_devices *d)
{
	int r = add_limits(cfg, &o->limits, true);

	return r < 0 ? r : add_root_disk(d, profile_devices, o);
}

int session_check_profile(const struct incus_map *profile_config, const char *profile,
                          struct coi_error *err)
{
	if (is_true(incus_map_get(profile_config, "security.privileged")))
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

int session_check_instance(const struct session_opts *o, const struct session_layout *l,
                           const struct incus_map *config, const char *name,
                           struct incus_map *ret_fix, struct coi_error *err)
{
	static const char *const raw[] = {"raw.lxc", "raw.apparmor"};
	struct incus_map want = {0};
	const char *v, *have;
	int r = 0;

	if (is_true(incus_map_get(config, "security.privileged")))
		return coi_error_set(
		        err, -EPERM,
		        "the container '%s' sets security.privileged=true, which turns off every "
		        "container isolation (user namespace, seccomp, AppArmor); coi refuses to "
		        "start. Fix: incus config unset %s security.privileged",
		        name, name);
	for (size_t i = 0; i < ELEMENTSOF(raw); i++)
		if ((v = incus_map_get(config, raw[i])) && !(i == 0 && session_raw_lxc_is_ours(v)))
			return coi_error_set(err, -EPERM,
			                     "the container '%s' sets %s, which can undo its "
			                     "confinement; coi refuses to start. Fix: incus config "
			                     "unset %s %s",
			                     name, raw[i], name, raw[i]);
	if (l->raw_idmap)
		r = add_identity(&want, o);
	if (r >= 0)
		r = add_seccomp(&want, o, l->deny_setid);
	if (r < 0) {
		incus_map_clear(&want);
		return r == -ENOMEM ? coi_error_oom(err)
		                    : coi_error_set(err, r, "bad session options");
	}
	v = incus_map_get(&want, "raw.idmap");
	have = incus_map_get(config, "raw.idmap");
	if ((v || have) && (!v || !have || strcmp(v, have) != 0)) {
		incus_map_clear(&want);
		return coi_error_set(
		        err, -EPERM,
		        "the container '%s' has a raw.idmap coi did not give it, which "
		        "would change who owns files in your workspace; coi refuses to "
		        "start. Fix: coi kill %s, and start afresh",
		        name, name);
	}
	/* The seccomp policy: put back when it was removed or changed. */
	v = incus_map_get(&want, "raw.seccomp");
	have = incus_map_get(config, "raw.seccomp");
	if (v && (!have || strcmp(v, have) != 0) && incus_map_set(ret_fix, "raw.seccomp", v) < 0)
		r = coi_error_oom(err);
	incus_map_clear(&want);
	return r < 0 ? r : 0;
}
