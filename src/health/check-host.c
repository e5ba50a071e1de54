/* SPDX-License-Identifier: MIT */
/* check-host.c: checks of this machine alone: the OS, kernel and cgroups, and the storage of
 * coi's own files. None needs Incus. */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config/config.h"
#include "health/internal.h"
#include "session/saved.h"
#include "util/buf.h"
#include "util/path.h"

#define GIB (1024ull * 1024 * 1024)

/* The value of KEY= in an os-release style file, unquoted, into out. */
static int os_release_get(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t n;

		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		p += klen + 1;
		if (*p == '"' || *p == '\'')
			p++;
		n = strcspn(p, "\"'\n");
		if (n >= size)
			n = size - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

HEALTH_CHECK_FN(os)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	char pretty[128] = "", id[64] = "";
	struct utsname u;

	if (uname(&u) < 0 || strcmp(u.sysname, "Linux") != 0) {
		health_set(res, HEALTH_FAILED, "not Linux");
		health_fix(res, "run coi on a Linux host");
		return;
	}
	if (read_file("/etc/os-release", &b, NULL) < 0 &&
	    read_file("/usr/lib/os-release", &b, NULL) < 0) {
		health_set(res, HEALTH_WARNING, "cannot read /etc/os-release (%s)", u.machine);
		return;
	}
	(void)os_release_get(buf_str(&b), "PRETTY_NAME", pretty, sizeof(pretty));
	(void)os_release_get(buf_str(&b), "ID", id, sizeof(id));
	health_set(res, HEALTH_OK, "%s (%s)", pretty[0] ? pretty : id[0] ? id : "Linux", u.machine);
}

void health_eval_kernel(const char *release, struct health_result *res)
{
	unsigned major = 0, minor = 0;

	if (sscanf(release, "%u.%u", &major, &minor) != 2) {
		health_set(res, HEALTH_WARNING, "cannot parse the kernel release '%s'", release);
		return;
	}
	if (major < 5 || (major == 5 && minor < 15)) {
		health_set(res, HEALTH_WARNING,
		           "kernel %s is older than 5.15: idmapped mounts and seccomp "
		           "notification may be missing",
		           release);
		health_fix(res, "upgrade to a kernel of 5.15 or later (6.x recommended)");
		return;
	}
	health_set(res, HEALTH_OK, "%s", release);
}

HEALTH_CHECK_FN(kernel_version)
{
	struct utsname u;

	if (uname(&u) < 0) {
		health_set(res, HEALTH_WARNING, "uname failed: %s", strerror(errno));
		return;
	}
	health_eval_kernel(u.release, res);
}

HEALTH_CHECK_FN(kernel_mitigations)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16 * 1024);
	const char *p;

	if (read_file("/proc/cmdline", &b, NULL) < 0) {
		health_set(res, HEALTH_WARNING, "cannot read /proc/cmdline");
		return;
	}
	for (p = strstr(buf_str(&b), "mitigations=off"); p; p = strstr(p + 1, "mitigations=off"))
		if (p == buf_str(&b) || p[-1] == ' ')
			break;
	if (p) {
		health_set(res, HEALTH_WARNING,
		           "the kernel runs with mitigations=off: containers can attack the host's "
		           "CPU side channels");
		health_fix(res, "remove mitigations=off from the kernel command line and reboot");
		return;
	}
	health_set(res, HEALTH_OK, "CPU vulnerability mitigations are on");
}

HEALTH_CHECK_FN(cgroup)
{
	struct statfs fs, uni;

	if (statfs("/sys/fs/cgroup", &fs) < 0) {
		health_set(res, HEALTH_FAILED, "no cgroup file system at /sys/fs/cgroup");
		health_fix(res, "mount cgroups (cgroup2 on /sys/fs/cgroup)");
		return;
	}
	if (fs.f_type == CGROUP2_SUPER_MAGIC) {
		health_set(res, HEALTH_OK, "v2 (unified)");
		return;
	}
	if (statfs("/sys/fs/cgroup/unified", &uni) == 0 && uni.f_type == CGROUP2_SUPER_MAGIC)
		health_set(res, HEALTH_OK, "v1 hybrid (v1 controllers, cgroup2 at unified/)");
	else
		health_set(res, HEALTH_OK, "v1 (legacy)");
	health_detail(res, "limits and the monitor's I/O counters use the v1 memory, cpuset, pids "
	                   "and blkio controllers");
}

/* ---- storage of coi's own files ---- */

/* Whether mkdir -p could create dir: its nearest existing ancestor is writable. */
static bool creatable(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);
	char *slash;

	while (p && (slash = strrchr(p, '/')) && slash != p) {
		*slash = '\0';
		if (access(p, F_OK) == 0)
			return access(p, W_OK | X_OK) == 0;
	}
	return p && access("/", W_OK | X_OK) == 0;
}

/* A directory coi writes: fine when it is a writable directory, or absent but creatable. */
void health_check_dir(const char *what, const char *dir, struct health_result *res)
{
	struct stat st;

	if (!dir) {
		health_set(res, HEALTH_FAILED, "out of memory");
	} else if (stat(dir, &st) < 0) {
		if (creatable(dir)) {
			health_set(res, HEALTH_OK, "%s (created on first use)", dir);
			return;
		}
		health_set(res, HEALTH_WARNING, "%s '%s' does not exist and cannot be created",
		           what, dir);
		health_fix(res, "mkdir -p '%s'", dir);
	} else if (!S_ISDIR(st.st_mode)) {
		health_set(res, HEALTH_FAILED, "%s '%s' is not a directory", what, dir);
		health_fix(res, "move '%s' out of the way", dir);
	} else if (access(dir, W_OK | X_OK) < 0) {
		health_set(res, HEALTH_FAILED, "%s '%s' is not writable", what, dir);
		health_fix(res, "chown -R $(id -u):$(id -g) '%s'", dir);
	} else {
		health_set(res, HEALTH_OK, "%s", dir);
	}
}

HEALTH_CHECK_FN(coi_directory)
{
	_cleanup_free_ char *dir = coi_dir();

	health_check_dir("coi's directory", dir, res);
}

HEALTH_CHECK_FN(sessions_directory)
{
	_cleanup_free_ char *dir = saved_sessions_dir(ctx->cfg->tool.name ?: "claude");

	health_check_dir("the sessions directory", dir, res);
}

HEALTH_CHECK_FN(disk_space)
{
	_cleanup_free_ char *dir = coi_dir();
	struct statvfs vfs;
	uint64_t avail;

	if (!dir || statvfs(dir, &vfs) < 0) {
		free(dir);
		dir = strdup(home_dir());
		if (!dir || statvfs(dir, &vfs) < 0) {
			health_set(res, HEALTH_WARNING, "cannot tell the free space of '%s'",
			           dir ? dir : "~");
			return;
		}
	}
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < 5 * GIB) {
		health_set(res, HEALTH_WARNING, "%.1f GiB free for '%s'", (double)avail / GIB, dir);
		health_fix(res, "free some space (coi clean removes stopped sessions)");
		return;
	}
	health_set(res, HEALTH_OK, "%.1f GiB free for '%s'", (double)avail / GIB, dir);
}
