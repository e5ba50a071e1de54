/* SPDX-License-Identifier: MIT */
/* What a session asks Incus for at creation: identity mapping, hardening, devices, the NIC. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "netpolicy/netpolicy.h"
#include "session/devices.h"
#include "session/protect.h"
#include "session/session.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

static struct incus_devices profile_nic(void)
{
	struct incus_devices d = {0};

	incus_devices_add(&d, "root", "type", "disk", "path", "/", "pool", "coi", NULL);
	incus_devices_add(&d, "eth0", "type", "nic", "name", "eth0", "network", "incusbr0", NULL);
	return d;
}

static struct protect_plan *fake_plan(void)
{
	struct protect_plan *p = calloc(1, sizeof(*p));

	p->workspace = strdup("/home/u/proj");
	p->gitdir_rel = strdup(".git");
	p->mounts = strv_split(".git .git/info .git/modules/sub", " ");
	p->entries = calloc(3, sizeof(*p->entries));
	p->entries[0] = (struct protect_entry){.rel = strdup(".git/hooks"),
	                                       .host = strdup("/home/u/proj/.git/hooks"),
	                                       .is_dir = true};
	p->entries[1] = (struct protect_entry){
	        .rel = strdup(".vscode"), .host = strdup("/home/u/proj/.vscode"), .is_dir = true};
	p->entries[2] =
	        (struct protect_entry){.rel = strdup(".git/modules/sub/config"),
	                               .host = strdup("/home/u/proj/.git/modules/sub/config"),
	                               .nested = true};
	p->n_entries = 3;
	return p;
}

/* Every rule of the mount family is in the policy (want) or none is. */
static void check_mount_policy(const char *policy, bool want)
{
	static const char *const rules[] = {
	        "umount2 errno 1\n",
	        "umount errno 1\n",
	        "mount errno 1 [3,4096,SCMP_CMP_MASKED_EQ,4128]\n", /* bind, not a remount */
	        "mount errno 1 [3,4128,SCMP_CMP_MASKED_EQ,4129]\n", /* remount,bind without ro */
	        "mount errno 1 [3,8192,SCMP_CMP_MASKED_EQ,8192]\n", /* move */
	        "\nopen_tree errno 1\n",
	        "\nmove_mount errno 1\n",
	        "\nmount_setattr errno 1\n",
	        "\nfsopen errno 1\n",
	        "\nfsconfig errno 1\n",
	        "\nfsmount errno 1\n",
	        "\nfspick errno 1\n",
	        "\npivot_root errno 1\n",
	        "unshare errno 1 [0,131072,SCMP_CMP_MASKED_EQ,131072]\n",
	        "\nclone errno 1 [0,131072,SCMP_CMP_MASKED_EQ,131072]\n",
	        "\nclone3 errno 38\n",
	};

	CHECK(policy != NULL);
	for (size_t i = 0; policy && i < ELEMENTSOF(rules); i++)
		CHECK((strstr(policy, rules[i]) != NULL) == want);
	/* Incus' own default list is kept in front */
	CHECK(policy && strncmp(policy, "2\ndenylist\n[all]\nreject_force_umount", 35) == 0);
}

static void test_create_request(void)
{
	struct session_opts o = {0};
	struct incus_devices prof = profile_nic(), dev = {0};
	struct incus_map cfg = {0};
	struct protect_plan *plan = fake_plan();
	struct coi_error err = {0};

	CHECK(session_opts_default("/home/u/proj", &o, &err) == 0);
	o.host_uid = 1234;
	o.host_gid = 100;
	o.limits.memory = strdup("2147483648");
	o.limits.memory_enforce = strdup("hard");
	o.limits.cpu_allowance = strdup("50%");
	o.limits.cpu_priority = 10;
	o.limits.processes = 4096;
	o.limits.disk_size = strdup("10737418240");
	o.limits.disk_write = strdup("1000iops");
	struct session_layout l = {.slot = 3,
	                           .veth = "vcoiabcd3",
	                           .container_workspace = "/workspace",
	                           .raw_idmap = true,
	                           .with_disks = true,
	                           .home = "0123456789abcdef"};

	CHECK(session_build_create(&o, plan, &prof, &l, &cfg, &dev, &err) == 0);
	/* every session: nothing that removes, copies, moves or unlocks the read-only overlays;
	 * no setuid filter for a non-root user */
	check_mount_policy(incus_map_get(&cfg, "raw.seccomp"), true);
	CHECK(!strstr(incus_map_get(&cfg, "raw.seccomp"), "chmod errno"));
	CHECK_STREQ(incus_map_get(&cfg, "raw.idmap"), "uid 1234 1000\ngid 100 1000");
	CHECK_STREQ(incus_map_get(&cfg, "security.idmap.isolated"), "true");
	CHECK_STREQ(incus_map_get(&cfg, "security.privileged"), "false");
	CHECK_STREQ(incus_map_get(&cfg, "security.guestapi"), "false");
	CHECK_STREQ(incus_map_get(&cfg, "security.nesting"), "false");
	CHECK_STREQ(incus_map_get(&cfg, "boot.autostart"), "false");
	CHECK_STREQ(incus_map_get(&cfg, "linux.sysctl.net.ipv6.conf.all.disable_ipv6"), "1");
	CHECK_STREQ(incus_map_get(&cfg, "user.coi.network_mode"), "restricted");
	/* limits: the cgroup settings through Incus; the root disk with its size, at instance
	 * level, from the profile's */
	CHECK_STREQ(incus_map_get(&cfg, "limits.memory"), "2147483648");
	CHECK_STREQ(incus_map_get(&cfg, "limits.memory.enforce"), "hard");
	CHECK_STREQ(incus_map_get(&cfg, "limits.cpu.allowance"), "50%");
	CHECK_STREQ(incus_map_get(&cfg, "limits.cpu.priority"), "10");
	CHECK_STREQ(incus_map_get(&cfg, "limits.processes"), "4096");
	CHECK(incus_map_get(&cfg, "limits.cpu") == NULL);
	CHECK(incus_map_get(&cfg, "limits.disk.priority") == NULL);
	CHECK(incus_map_get(&cfg, "limits.memory.swap") == NULL);
	CHECK_STREQ(incus_devices_prop(&dev, "root", "size"), "10737418240");
	CHECK_STREQ(incus_devices_prop(&dev, "root", "limits.write"), "1000iops");
	CHECK_STREQ(incus_devices_prop(&dev, "root", "pool"), "coi");
	CHECK_STREQ(incus_devices_prop(&dev, "root", "path"), "/");
	CHECK(incus_devices_prop(&dev, "root", "limits.read") == NULL);
	CHECK_STREQ(incus_map_get(&cfg, "user.coi.workspace"), "/home/u/proj");
	CHECK_STREQ(incus_map_get(&cfg, "user.coi.slot"), "3");
	/* whose owner record it has: another coi home never takes it for an orphan (fleet.h) */
	CHECK_STREQ(incus_map_get(&cfg, "user.coi.home"), "0123456789abcdef");
	/* workspace without shift (shift maps container root to host root) */
	CHECK_STREQ(incus_devices_prop(&dev, "workspace", "source"), "/home/u/proj");
	CHECK_STREQ(incus_devices_prop(&dev, "workspace", "path"), "/workspace");
	CHECK(incus_devices_prop(&dev, "workspace", "shift") == NULL);
	CHECK_STREQ(incus_devices_prop(&dev, "gitdir", "path"), "/workspace/.git");
	CHECK(incus_devices_prop(&dev, "gitdir", "readonly") == NULL);
	/* every other mount point of the plan: writable, a device of its own */
	CHECK_STREQ(incus_devices_prop(&dev, "gitdir-0--git-info", "path"), "/workspace/.git/info");
	CHECK(incus_devices_prop(&dev, "gitdir-0--git-info", "readonly") == NULL);
	CHECK_STREQ(incus_devices_prop(&dev, "gitdir-1--git-modules-sub", "source"),
	            "/home/u/proj/.git/modules/sub");
	CHECK_STREQ(incus_devices_prop(&dev, "protect-2--git-modules-sub-config", "readonly"),
	            "true");
	CHECK_STREQ(incus_devices_prop(&dev, "protect-0--git-hooks", "readonly"), "true");
	CHECK_STREQ(incus_devices_prop(&dev, "protect-0--git-hooks", "path"),
	            "/workspace/.git/hooks");
	CHECK_STREQ(incus_devices_prop(&dev, "protect-1--vscode", "source"),
	            "/home/u/proj/.vscode");
	/* the NIC: copied from the profile and hardened, with our veth name */
	CHECK_STREQ(incus_devices_prop(&dev, "eth0", "network"), "incusbr0");
	CHECK_STREQ(incus_devices_prop(&dev, "eth0", "security.ipv4_filtering"), "true");
	CHECK_STREQ(incus_devices_prop(&dev, "eth0", "security.mac_filtering"), "true");
	CHECK_STREQ(incus_devices_prop(&dev, "eth0", "security.port_isolation"), "true");
	CHECK_STREQ(incus_devices_prop(&dev, "eth0", "host_name"), "vcoiabcd3");
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);

	/* open network: no IPv6 sysctl; docker: nesting */
	o.net = calloc(1, sizeof(*o.net));
	CHECK(o.net != NULL);
	net_policy_init(o.net);
	o.net->mode = NET_MODE_OPEN;
	CHECK(session_net_mode(&o) == NET_MODE_OPEN);
	o.docker = true;
	struct session_layout root = {
	        .slot = 1, .veth = "v", .container_workspace = "/workspace", .deny_setid = true};
	CHECK(session_build_create(&o, NULL, &prof, &root, &cfg, &dev, &err) == 0);
	CHECK(incus_map_get(&cfg, "linux.sysctl.net.ipv6.conf.all.disable_ipv6") == NULL);
	CHECK_STREQ(incus_map_get(&cfg, "user.coi.network_mode"), "open");
	/* host root's session: no raw.idmap, no disks yet, no setuid bits by any route */
	CHECK(incus_map_get(&cfg, "raw.idmap") == NULL);
	CHECK(incus_devices_get(&dev, "workspace") == NULL);
	CHECK(strstr(incus_map_get(&cfg, "raw.seccomp"),
	             "chmod errno 1 [1,2048,SCMP_CMP_MASKED_EQ,2048]"));
	CHECK(strstr(incus_map_get(&cfg, "raw.seccomp"),
	             "openat errno 1 [3,1024,SCMP_CMP_MASKED_EQ,1024]"));
	CHECK(strstr(incus_map_get(&cfg, "raw.seccomp"), "kexec_load errno 38"));
	/* docker: mounts stay allowed (the docs say what that gives up) */
	check_mount_policy(incus_map_get(&cfg, "raw.seccomp"), false);
	CHECK_STREQ(incus_map_get(&cfg, "security.nesting"), "true");
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);

	/* a profile without a NIC is refused */
	struct incus_devices none = {0};
	CHECK(session_build_create(&o, NULL, &none, &root, &cfg, &dev, &err) == -ENOENT);
	CHECK(strstr(err.msg, "no network device") != NULL);

	incus_devices_clear(&prof);
	protect_plan_free(plan);
	session_opts_release(&o);
}

static void test_privileged_profile_refused(void)
{
	struct incus_map m = {0};
	struct coi_error err = {0};

	CHECK(session_check_profile(&m, "default", &err) == 0);
	incus_map_set(&m, "security.privileged", "true");
	CHECK(session_check_profile(&m, "default", &err) == -EPERM);
	CHECK(strstr(err.msg, "incus profile unset default security.privileged") != NULL);
	incus_map_clear(&m);
	incus_map_set(&m, "raw.idmap", "both 0 0");
	CHECK(session_check_profile(&m, "p2", &err) == -EPERM);
	incus_map_clear(&m);
}

/* A persistent container, checked again before it is reused. */
static void test_reused_instance(void)
{
	struct session_opts o = {0};
	struct session_layout user = {.raw_idmap = true}, root = {.deny_setid = true};
	struct incus_map cfg = {0}, fix = {0};
	struct incus_devices prof = profile_nic(), dev = {0};
	struct coi_error err = {0};

	CHECK(session_opts_default("/home/u/proj", &o, &err) == 0);
	o.host_uid = 1234;
	o.host_gid = 100;
	/* as coi made it: nothing to refuse, nothing to fix */
	user.veth = "v";
	user.container_workspace = "/workspace";
	CHECK(session_build_create(&o, NULL, &prof, &user, &cfg, &dev, &err) == 0);
	CHECK(session_check_instance(&o, &user, &cfg, "coi-x-1", &fix, &err) == 0);
	CHECK(fix.n == 0);
	/* the seccomp policy removed, or weakened: put back */
	incus_map_set(&cfg, "raw.seccomp", "2\ndenylist\n[all]\n");
	CHECK(session_check_instance(&o, &user, &cfg, "coi-x-1", &fix, &err) == 0);
	CHECK(incus_map_get(&fix, "raw.seccomp") &&
	      strstr(incus_map_get(&fix, "raw.seccomp"), "mount errno 1 [3,4096,"));
	incus_map_clear(&fix);
	/* privileged, raw.lxc, raw.apparmor on the container itself: refused */
	incus_map_set(&cfg, "security.privileged", "true");
	CHECK(session_check_instance(&o, &user, &cfg, "coi-x-1", &fix, &err) == -EPERM);
	CHECK(strstr(err.msg, "security.privileged=true") &&
	      strstr(err.msg, "incus config unset coi-x-1 security.privileged"));
	incus_map_set(&cfg, "security.privileged", "false");
	incus_map_set(&cfg, "raw.lxc", "lxc.seccomp.profile=");
	CHECK(session_check_instance(&o, &user, &cfg, "coi-x-1", &fix, &err) == -EPERM);
	CHECK(strstr(err.msg, "raw.lxc") != NULL);
	CHECK(fix.n == 0);
	incus_map_clear(&cfg);
	/* a raw.idmap coi did not set: refused (root's sessions have none) */
	incus_map_set(&cfg, "raw.idmap", "both 0 0");
	CHECK(session_check_instance(&o, &user, &cfg, "coi-x-1", &fix, &err) == -EPERM);
	o.host_uid = 0;
	CHECK(session_check_instance(&o, &root, &cfg, "coi-x-1", &fix, &err) == -EPERM);
	CHECK(strstr(err.msg, "raw.idmap") != NULL);
	incus_map_clear(&cfg);
	CHECK(session_check_instance(&o, &root, &cfg, "coi-x-1", &fix, &err) == 0);
	CHECK(incus_map_get(&fix, "raw.seccomp") &&
	      strstr(incus_map_get(&fix, "raw.seccomp"), "chmod errno 1"));
	incus_map_clear(&fix);
	incus_devices_clear(&dev);
	incus_devices_clear(&prof);
	session_opts_release(&o);
}

/* The address decided before start: on the NIC, in raw.lxc (address and gateway only), and the
 * networkd file read-only at its place; a container with that raw.lxc is coi's own when reused,
 * any other raw.lxc (another key, a line more, a value that is not an address) is refused. */
static void test_pinned_address(void)
{
	struct session_opts o = {0};
	struct session_layout l = {.raw_idmap = true,
	                           .veth = "v",
	                           .container_workspace = "/workspace",
	                           .ipv4 = "10.0.3.17",
	                           .gateway = "10.0.3.1",
	                           .prefix = 24,
	                           .net_file = "/home/u/.coi/run/coi-x-1.network"};
	struct incus_map cfg = {0}, fix = {0};
	struct incus_devices prof = profile_nic(), dev = {0};
	const struct incus_device *d;
	struct coi_error err = {0};
	static const char *const refused[] = {
	        "lxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.net.0.ipv4.gateway = 10.0.3.1\n"
	        "lxc.seccomp.profile=",
	        "lxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.apparmor.profile = unconfined",
	        "lxc.net.0.ipv4.address = 10.0.3.17/24",
	        "lxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.net.0.ipv4.address = 10.0.3.17/24",
	        "lxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.net.0.ipv4.gateway = auto",
	        "lxc.net.0.ipv4.address = 10.0.3.17/24 x\nlxc.net.0.ipv4.gateway = 10.0.3.1",
	        "lxc.net.0.ipv4.address = 10.0.3.17\nlxc.net.0.ipv4.gateway = 10.0.3.1",
	        "lxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.net.0.ipv4.gateway = 10.0.3.1/24",
	        "lxc.net.0.ipv4.address=10.0.3.17/24\nlxc.net.0.ipv4.gateway=10.0.3.1",
	        "",
	};

	CHECK(session_opts_default("/home/u/proj", &o, &err) == 0);
	o.host_uid = 1234;
	o.host_gid = 100;
	CHECK(session_build_create(&o, NULL, &prof, &l, &cfg, &dev, &err) == 0);
	CHECK_STREQ(incus_map_get(&cfg, "raw.lxc"),
	            "lxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.net.0.ipv4.gateway = 10.0.3.1");
	d = incus_devices_get(&dev, "eth0");
	CHECK(d && incus_map_get(&d->props, "ipv4.address") &&
	      strcmp(incus_map_get(&d->props, "ipv4.address"), "10.0.3.17") == 0);
	d = incus_devices_get(&dev, "coi-net");
	CHECK(d != NULL);
	CHECK_STREQ(incus_map_get(&d->props, "source"), l.net_file);
	CHECK_STREQ(incus_map_get(&d->props, "path"), SESSION_NET_FILE_PATH);
	CHECK_STREQ(incus_map_get(&d->props, "readonly"), "true");
	CHECK(session_check_instance(&o, &l, &cfg, "coi-x-1", &fix, &err) == 0);
	CHECK(fix.n == 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		incus_map_set(&cfg, "raw.lxc", refused[i]);
		CHECK(session_check_instance(&o, &l, &cfg, "coi-x-1", &fix, &err) == -EPERM);
	}
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);
	/* moved to another address (its start refused): the NIC, raw.lxc and the file, no more */
	l.ipv4 = "10.0.3.18";
	CHECK(session_build_nic(&prof, &l, &cfg, &dev) == 0);
	CHECK(cfg.n == 1 && dev.n == 2);
	CHECK_STREQ(incus_map_get(&cfg, "raw.lxc"),
	            "lxc.net.0.ipv4.address = 10.0.3.18/24\nlxc.net.0.ipv4.gateway = 10.0.3.1");
	d = incus_devices_get(&dev, "eth0");
	CHECK(d && incus_map_get(&d->props, "ipv4.address") &&
	      strcmp(incus_map_get(&d->props, "ipv4.address"), "10.0.3.18") == 0 &&
	      incus_map_get(&d->props, "host_name") &&
	      incus_map_get(&d->props, "security.ipv4_filtering"));
	CHECK(incus_devices_get(&dev, "coi-net") != NULL);
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);
	/* not decided (DHCP): none of it */
	l.ipv4 = NULL;
	CHECK(session_build_create(&o, NULL, &prof, &l, &cfg, &dev, &err) == 0);
	CHECK(!incus_map_get(&cfg, "raw.lxc") && !incus_devices_get(&dev, "coi-net"));
	d = incus_devices_get(&dev, "eth0");
	CHECK(d && !incus_map_get(&d->props, "ipv4.address"));
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);
	incus_devices_clear(&prof);
	session_opts_release(&o);
}

/* reduce_kernel_surface: each call of the families refused with EPERM, in one policy with the
 * mount rules (for host root's sessions too, where io_uring was refused as unimplemented) */
static void test_kernel_surface(void)
{
	static const char *const calls[] = {
	        "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf",
	        "userfaultfd",    "keyctl",         "add_key",           "request_key"};
	struct session_opts o = {0};
	struct incus_devices prof = profile_nic(), dev = {0};
	struct incus_map cfg = {0};
	struct coi_error err = {0};
	struct session_layout l = {.slot = 1, .veth = "v", .container_workspace = "/workspace"};
	char line[64];
	const char *p;

	CHECK(session_opts_default("/home/u/proj", &o, &err) == 0);
	for (int tier = KERNEL_SURFACE_FULL; tier <= KERNEL_SURFACE_STRICT; tier++) {
		for (int root = 0; root <= 1; root++) {
			o.kernel_surface = (enum kernel_surface)tier;
			l.deny_setid = root;
			CHECK(session_build_create(&o, NULL, &prof, &l, &cfg, &dev, &err) == 0);
			p = incus_map_get(&cfg, "raw.seccomp");
			check_mount_policy(p, true);
			for (size_t i = 0; i < ELEMENTSOF(calls); i++) {
				snprintf(line, sizeof(line), "\n%s errno 1\n", calls[i]);
				CHECK((strstr(p, line) != NULL) == (tier != KERNEL_SURFACE_FULL));
			}
			CHECK((strstr(p, "\nperf_event_open errno 1\n") != NULL) ==
			      (tier == KERNEL_SURFACE_STRICT));
			/* one rule per call: a second one for io_uring_setup would fail the policy
			 */
			CHECK((strstr(p, "io_uring_setup errno 38") != NULL) ==
			      (root && tier == KERNEL_SURFACE_FULL));
			CHECK(!strstr(p, "io_uring_setup") ||
			      !strstr(strstr(p, "io_uring_setup") + 1, "io_uring_setup"));
			incus_map_clear(&cfg);
			incus_devices_clear(&dev);
		}
	}
	incus_devices_clear(&prof);
	session_opts_release(&o);
}

int main(void)
{
	RUN(test_create_request);
	RUN(test_kernel_surface);
	RUN(test_privileged_profile_refused);
	RUN(test_reused_instance);
	RUN(test_pinned_address);
	return tap_done();
}
