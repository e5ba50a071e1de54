/* SPDX-License-Identifier: MIT */
/* check-monitor.c: whether the sources the security monitor reads are open to this process: the
 * netlink proc connector (exec/fork events), NFLOG (denied packets), sock_diag in a container's
 * network namespace (connections), fanotify (credential and startup files), /proc (the fallback
 * scan), the cgroup I/O counters, and the audit log directory. Missing sources are warnings: the
 * monitor degrades, it does not stop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "health/internal.h"
#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/path.h"
#include "util/strv.h"

/* Whether cap is in this process's effective set. */
static bool have_cap(int cap)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {0};

	if (syscall(SYS_capget, &h, d) < 0)
		return geteuid() == 0;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

HEALTH_CHECK_FN(proc_connector)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	_cleanup_close_ int fd = -EBADF;
	int r = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = errno;
	else if (!net_have_cap_net_admin())
		r = EPERM; /* binding works, but subscribing (PROC_CN_MCAST_LISTEN) needs it */
	if (r) {
		health_set(res, HEALTH_WARNING,
		           "the proc connector is not usable (%s): the monitor falls back to "
		           "scanning /proc",
		           strerror(r));
		health_fix(res, "run coi as root (or with CAP_NET_ADMIN) for event-driven process "
		                "monitoring");
		return;
	}
	health_set(res, HEALTH_OK, "process events available (netlink proc connector)");
}

HEALTH_CHECK_FN(nflog)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	_cleanup_close_ int fd = -EBADF;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		health_set(res, HEALTH_WARNING, "no netfilter netlink socket (%s)",
		           strerror(errno));
		health_fix(res, "enable CONFIG_NETFILTER_NETLINK_LOG in the kernel");
		return;
	}
	if (!net_have_cap_net_admin()) {
		health_set(res, HEALTH_WARNING,
		           "NFLOG needs CAP_NET_ADMIN: denied packets are not reported live");
		health_fix(res, "run coi as root to see denied connections as they happen");
		return;
	}
	health_set(res, HEALTH_OK, "denied packets are reported (NFLOG)");
}

HEALTH_CHECK_FN(proc_scan)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	DIR *d = opendir("/proc");

	if (!d) {
		health_set(res, HEALTH_FAILED, "cannot read /proc: %s", strerror(errno));
		health_fix(res, "mount proc on /proc");
		return;
	}
	closedir(d);
	if (read_file("/proc/1/status", &b, NULL) < 0) {
		health_set(res, HEALTH_WARNING,
		           "other users' processes are hidden in /proc (hidepid): the fallback "
		           "scan cannot see container processes");
		health_fix(res, "run coi as root, or mount /proc without hidepid");
		return;
	}
	health_set(res, HEALTH_OK, "/proc is readable (fallback process scan)");
}

HEALTH_CHECK_FN(sock_diag)
{
	_cleanup_close_ int fd = -EBADF;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		health_set(res, HEALTH_WARNING, "no sock_diag netlink socket (%s)",
		           strerror(errno));
		health_fix(res, "enable CONFIG_INET_DIAG in the kernel");
		return;
	}
	if (!have_cap(CAP_SYS_ADMIN)) {
		health_set(res, HEALTH_WARNING,
		           "cannot enter a container's network namespace (no CAP_SYS_ADMIN): "
		           "connections are seen only by the /proc scan");
		health_fix(res, "run coi as root for live connection monitoring");
		return;
	}
	health_set(res, HEALTH_OK, "connections are visible (sock_diag in the container's netns)");
}

/* fanotify with permission events on another user's files: the container's credential and
 * persistence files. */
HEALTH_CHECK_FN(file_watch)
{
	int fd =
	        fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		health_set(res, HEALTH_WARNING,
		           "no file watch (fanotify: %s): keys and tokens opened by a program, and "
		           "reverse shells planted in startup files, are not seen; only command "
		           "lines that name them are",
		           strerror(errno));
		health_fix(res, "run coi as root (fanotify needs CAP_SYS_ADMIN)");
		return;
	}
	close(fd);
	health_set(res, HEALTH_OK, "credential and startup files are watched (fanotify)");
}

HEALTH_CHECK_FN(cgroup_io)
{
	_cleanup_strv_free_ char **controllers = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(4096);

	/* the monitor's choice (monitor/procfs.c, cgroup_io): v1 blkio misses writeback */
	if (read_file("/sys/fs/cgroup/cgroup.controllers", &b, NULL) >= 0)
		controllers = strv_split(buf_str(&b), " \n");
	if (strv_contains(controllers, "io")) {
		health_set(res, HEALTH_OK, "I/O counters from the cgroup2 io controller");
		return;
	}
	if (access("/proc/self/io", R_OK) < 0) {
		health_set(res, HEALTH_WARNING,
		           "no I/O counters: bulk reads and writes are not recorded");
		health_fix(res, "enable the io controller (cgroup2) or task I/O accounting");
		return;
	}
	health_set(res, HEALTH_OK, "I/O counters from the container's processes (/proc/PID/io)");
}

HEALTH_CHECK_FN(audit_log_directory)
{
	_cleanup_free_ char *dir = coi_dir();
	_cleanup_free_ char *audit = dir ? path_join(dir, "audit") : NULL;

	health_check_dir("the audit log directory", audit, res);
}
