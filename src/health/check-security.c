/* SPDX-License-Identifier: MIT */
/* check-security.c: the security posture of coi's containers: unprivileged (user namespace),
 * seccomp filter in force, AppArmor (active, or not available on this kernel), and no raw.*
 * overrides in profiles that could undo either. Running sessions are inspected from the host
 * side (/proc/<init pid>/uid_map and status) when the daemon is local. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health/internal.h"
#include "incus/incus.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/path.h"

/* Reads /proc/<pid>/<file> into b; false when gone or unreadable. */
static bool proc_read(int64_t pid, const char *file, struct buf *b)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%" PRId64 "/%s", pid, file);
	return read_file(path, b, NULL) >= 0;
}

/* The host pid of a running instance's init that we may inspect, or 0. */
static int64_t inspectable_pid(const struct health_ctx *ctx, const struct incus_instance *in)
{
	if (!health_local(ctx) || !in->state || in->state->status != INCUS_STATUS_RUNNING)
		return 0;
	return in->state->pid;
}

/* Whether the init's uid map is the identity (a privileged container): "0 0 4294967295". */
static int uid_map_identity(int64_t pid)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	unsigned long long inside, outside, count;

	if (!proc_read(pid, "uid_map", &b) ||
	    sscanf(buf_str(&b), "%llu %llu %llu", &inside, &outside, &count) != 3)
		return -ENOENT;
	return inside == 0 && outside == 0;
}

HEALTH_CHECK_FN(unprivileged)
{
	struct incus_instance **list = health_instances(ctx, res);
	unsigned n = 0, inspected = 0;

	if (!list)
		return;
	health_set(res, HEALTH_OK, "no coi containers to inspect");
	for (size_t i = 0; list[i]; i++) {
		const char *priv = incus_map_get(&list[i]->expanded_config, "security.privileged");
		int64_t pid = inspectable_pid(ctx, list[i]);

		if (!health_is_coi(list[i]))
			continue;
		n++;
		if ((priv && strcmp(priv, "true") == 0) ||
		    (pid > 0 && uid_map_identity(pid) == 1)) {
			health_set(res, HEALTH_FAILED, "container '%s' is privileged",
			           list[i]->name);
			health_fix(res,
			           "incus delete -f %s, and unset security.privileged in its "
			           "profiles",
			           list[i]->name);
			return;
		}
		inspected += pid > 0;
	}
	if (n)
		health_set(res, HEALTH_OK,
		           "%u coi container%s, none privileged (%u running checked in /proc)", n,
		           n == 1 ? "" : "s", inspected);
}

/* The Seccomp: field of /proc/<pid>/status (0 none, 1 strict, 2 filter), or -1. */
static int seccomp_mode(const char *pid)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16 * 1024);
	char path[64];
	const char *p;
	int mode;

	(void)snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (read_file(path, &b, NULL) < 0 || !(p = strstr(buf_str(&b), "\nSeccomp:")) ||
	    sscanf(p + 9, "%d", &mode) != 1)
		return -1;
	return mode;
}

HEALTH_CHECK_FN(seccomp)
{
	struct incus_instance **list;
	unsigned filtered = 0;

	if (seccomp_mode("self") < 0 ||
	    access("/proc/sys/kernel/seccomp/actions_avail", F_OK) < 0) {
		health_set(res, HEALTH_FAILED, "this kernel has no seccomp filter support");
		health_fix(res, "use a kernel built with CONFIG_SECCOMP_FILTER");
		return;
	}
	health_set(res, HEALTH_OK, "the kernel supports seccomp filters");
	list = ctx->incus_r >= 0 ? health_instances(ctx, res) : NULL;
	for (size_t i = 0; list && list[i]; i++) {
		int64_t pid = inspectable_pid(ctx, list[i]);
		char spid[24];
		int mode;

		if (!health_is_coi(list[i]) || pid <= 0)
			continue;
		(void)snprintf(spid, sizeof(spid), "%" PRId64, pid);
		mode = seccomp_mode(spid);
		if (mode == 0) {
			health_set(res, HEALTH_FAILED,
			           "container '%s' runs without a seccomp filter", list[i]->name);
			health_fix(res,
			           "remove the raw.lxc or security.syscalls settings that turn "
			           "seccomp off, then restart the session");
			return;
		}
		filtered += mode == 2;
	}
	if (filtered)
		health_set(res, HEALTH_OK, "active: %u running coi container%s filtered", filtered,
		           filtered == 1 ? "" : "s");
}

HEALTH_CHECK_FN(apparmor)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64);

	if (read_file("/sys/module/apparmor/parameters/enabled", &b, NULL) < 0) {
		health_set(res, HEALTH_OK,
		           "not available on this kernel: confinement is user namespaces, seccomp "
		           "and cgroups");
		return;
	}
	if (buf_str(&b)[0] != 'Y') {
		health_set(res, HEALTH_WARNING, "AppArmor is built in but disabled");
		health_fix(res, "boot with apparmor=1 security=apparmor for an extra layer");
		return;
	}
	health_set(res, HEALTH_OK, "active");
}

int health_eval_raw(const char *profile, const struct incus_map *config, struct health_result *res)
{
	static const char *const keys[] = {"raw.seccomp", "raw.apparmor", "raw.lxc"};
	int found = 0;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		if (!incus_map_get(config, keys[i]))
			continue;
		if (res->status == HEALTH_OK)
			health_set(res, HEALTH_WARNING,
			           "profile '%s' overrides %s: it can weaken the container's "
			           "confinement",
			           profile, keys[i]);
		if (!res->fix[0])
			health_fix(res, "incus profile unset %s %s", profile, keys[i]);
		health_detail(res, "profile '%s' sets %s", profile, keys[i]);
		found++;
	}
	return found;
}

/* A JSON object of strings as an incus_map. */
static int map_from_json(const json_t *obj, struct incus_map *m)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (json_is_string(v) && incus_map_set(m, k, json_string_value(v)) < 0)
			return -ENOMEM;
	return 0;
}

HEALTH_CHECK_FN(raw_overrides)
{
	_cleanup_json_ json_t *profiles = NULL;
	struct coi_error err = {0};
	size_t i;
	json_t *p;
	int n = 0;

	if (!health_need_incus(ctx, res))
		return;
	if (incus_request(ctx->client, "GET", "/1.0/profiles?recursion=1", NULL, NULL, &profiles,
	                  &err) < 0) {
		health_set(res, HEALTH_FAILED, "cannot list profiles: %s", coi_error_message(&err));
		return;
	}
	health_set(res, HEALTH_OK, "no raw.seccomp, raw.apparmor or raw.lxc in any profile");
	json_array_foreach(profiles, i, p) {
		struct incus_map m = {0};
		const char *name = json_get_str(p, "name");

		if (name && map_from_json(json_get_obj(p, "config"), &m) == 0)
			n += health_eval_raw(name, &m, res);
		incus_map_clear(&m);
	}
	health_fix_project(ctx, res);
	if (n > 1)
		(void)snprintf(res->message + strlen(res->message),
		               sizeof(res->message) - strlen(res->message), " (and %d more)",
		               n - 1);
}
