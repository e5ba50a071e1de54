/* SPDX-License-Identifier: MIT */
/* check-incus.c: the daemon (reachable, version, permission), the storage pool and bridge the
 * default profile gives containers, whether that profile is privileged, and coi's image. Calls
 * without a typed wrapper go through incus_request(); what they return is decoded into the small
 * structs below, here and nowhere else in this module. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "util/json.h"
#include "util/path.h"

#define GIB (1024ull * 1024 * 1024)

/* ---- the daemon ---- */

void health_eval_incus_version(const char *version, struct health_result *res)
{
	unsigned major = 0, minor = 0;

	if (!version || sscanf(version, "%u.%u", &major, &minor) < 1) {
		health_set(res, HEALTH_WARNING, "the daemon answers but gives no version");
		return;
	}
	if (major < 6) {
		health_set(res, HEALTH_WARNING, "Incus %s is older than 6.0", version);
		health_fix(res, "upgrade Incus to 6.0 LTS or later (bookworm-backports has 6.0)");
		return;
	}
	health_set(res, HEALTH_OK, "Incus %s", version);
}

/* The socket exists but this user may not use it. */
static bool socket_denied(const struct health_ctx *ctx)
{
	return ctx->socket && access(ctx->socket, F_OK) == 0 &&
	       access(ctx->socket, R_OK | W_OK) < 0;
}

HEALTH_CHECK_FN(incus)
{
	_cleanup_free_ char *setup = NULL;

	if (ctx->incus_r >= 0) {
		health_eval_incus_version(ctx->server->server_version, res);
		if (res->status == HEALTH_OK && ctx->socket)
			health_set(res, HEALTH_OK, "Incus %s at '%s'", ctx->server->server_version,
			           ctx->socket);
		health_detail(res, "server '%s', API %s, driver %s",
		              ctx->server->server_name ?: "?", ctx->server->api_version ?: "?",
		              ctx->server->driver_version ?: "?");
		return;
	}
	if (socket_denied(ctx)) {
		health_set(res, HEALTH_FAILED, "this user may not use the Incus socket '%s'",
		           ctx->socket);
		health_fix(res, "see the 'permissions' check");
		return;
	}
	health_set(res, HEALTH_FAILED, "%s", coi_error_message(&ctx->incus_err));
	/* the tree's script where coi runs from its source tree; an installed coi has none */
	setup = source_tree_file("scripts/setup-host");
	if (ctx->incus_r == -ETIMEDOUT)
		health_fix(res, "restart incusd (it accepts connections but does not answer): %s",
		           setup ? setup : "systemctl restart incus");
	else if (ctx->socket)
		health_fix(
		        res,
		        "start incusd: %s (coi expects its socket at '%s'; set [incus] socket or "
		        "INCUS_SOCKET otherwise)",
		        setup ? setup : "systemctl start incus", ctx->socket);
	else
		health_fix(res, "check [incus] remote_url and that the server is up");
}

HEALTH_CHECK_FN(permissions)
{
	if (socket_denied(ctx)) {
		health_set(res, HEALTH_FAILED, "no permission to use the Incus socket '%s'",
		           ctx->socket);
		health_fix(res,
		           "add yourself to the %s group (usermod -aG %s \"$USER\"), then log in "
		           "again",
		           ctx->cfg->incus.group, ctx->cfg->incus.group);
		return;
	}
	if (!health_need_incus(ctx, res))
		return;
	if (!ctx->server->trusted) {
		health_set(res, HEALTH_FAILED, "the daemon does not trust this client");
		health_fix(res, "add coi's client certificate to the server's trust store "
		                "(incus config trust add-certificate)");
		return;
	}
	if (ctx->socket)
		health_set(res, HEALTH_OK, "trusted (%s)",
		           geteuid() == 0 ? "root" : "this user may use the socket");
	else
		health_set(res, HEALTH_OK, "trusted by the remote server");
}

/* ---- storage pool ---- */

/* Every pool (for the detail), the driver of pool name, and its space. */
static int pool_get(struct health_ctx *ctx, const char *name, const char **ret_driver,
                    json_t **ret_pools, json_t **ret_res, struct health_result *res,
                    struct coi_error *err)
{
	char path[512];
	json_t *p;
	size_t i;
	int r;

	r = incus_request(ctx->client, "GET", "/1.0/storage-pools?recursion=1", NULL, NULL,
	                  ret_pools, err);
	if (r < 0)
		return r;
	r = -ENOENT;
	json_array_foreach(*ret_pools, i, p) {
		const char *n = json_get_str(p, "name"), *d = json_get_str(p, "driver");

		health_detail(res, "pool '%s': %s", n ?: "?", d ?: "?");
		if (n && strcmp(n, name) == 0) {
			*ret_driver = d ?: "?";
			r = 0;
		}
	}
	if (r < 0)
		return coi_error_set(err, r, "no such pool");
	(void)snprintf(path, sizeof(path), "/1.0/storage-pools/%s/resources", name);
	r = incus_request(ctx->client, "GET", path, NULL, NULL, ret_res, err);
	return r < 0 ? r : 0;
}

void health_eval_pool(const char *name, const char *driver, uint64_t used, uint64_t total,
                      struct health_result *res)
{
	uint64_t avail = total > used ? total - used : 0;
	double pct = total ? 100.0 * (double)used / (double)total : 0;

	health_set(res, HEALTH_OK, "pool '%s' (%s): %.1f GiB free of %.1f GiB", name, driver,
	           (double)avail / GIB, (double)total / GIB);
	if (total && (avail < 2 * GIB || pct > 90)) {
		res->status = HEALTH_FAILED;
		health_fix(res, "free space in pool '%s' (coi clean; incus image list) or grow it",
		           name);
	} else if (total && (avail < 5 * GIB || pct > 80)) {
		res->status = HEALTH_WARNING;
		health_fix(res, "free space in pool '%s' (coi clean; incus image list) or grow it",
		           name);
	} else if (strcmp(driver, "dir") == 0) {
		res->status = HEALTH_WARNING;
		(void)strncat(res->message, ": the dir driver unpacks the image on every launch",
		              sizeof(res->message) - strlen(res->message) - 1);
		health_fix(res,
		           "use a btrfs or zfs pool: incus storage create coi btrfs "
		           "size=20GiB, and set it as the root disk pool of the default profile");
	}
}

/* The pool coi's containers use: [container] storage_pool, else the default profile's root. */
static const char *pool_name(struct health_ctx *ctx, const struct incus_profile *p)
{
	const char *name = ctx->cfg->container.storage_pool;

	if (name)
		return name;
	for (size_t i = 0; i < p->devices.n; i++) {
		const struct incus_map *m = &p->devices.items[i].props;
		const char *type = incus_map_get(m, "type"), *path = incus_map_get(m, "path");

		if (type && strcmp(type, "disk") == 0 && path && strcmp(path, "/") == 0)
			return incus_map_get(m, "pool");
	}
	return NULL;
}

HEALTH_CHECK_FN(storage_pool)
{
	_cleanup_json_ json_t *pools = NULL, *rsrc = NULL;
	const struct incus_profile *p = health_default_profile(ctx, res);
	const char *name, *driver = NULL;
	struct coi_error err = {0};

	if (!p)
		return;
	name = pool_name(ctx, p);
	if (!name) {
		health_set(res, HEALTH_FAILED, "the default profile has no root disk");
		health_fix(res, "incus profile device add default root disk path=/ pool=POOL");
		return;
	}
	if (pool_get(ctx, name, &driver, &pools, &rsrc, res, &err) < 0) {
		health_set(res, HEALTH_FAILED, "storage pool '%s': %s", name,
		           coi_error_message(&err));
		health_fix(res, "create it: incus storage create %s btrfs size=20GiB", name);
		return;
	}
	health_eval_pool(name, driver,
	                 (uint64_t)json_get_int(json_get_obj(rsrc, "space"), "used", 0),
	                 (uint64_t)json_get_int(json_get_obj(rsrc, "space"), "total", 0), res);
}

/* ---- bridge ---- */

/* The managed network the default profile's NIC is attached to. */
static const char *bridge_name(const struct incus_profile *p)
{
	for (size_t i = 0; i < p->devices.n; i++) {
		const struct incus_map *m = &p->devices.items[i].props;
		const char *type = incus_map_get(m, "type");

		if (type && strcmp(type, "nic") == 0)
			return incus_map_get(m, "network") ?: incus_map_get(m, "parent");
	}
	return NULL;
}

HEALTH_CHECK_FN(network_bridge)
{
	const struct incus_profile *p = health_default_profile(ctx, res);
	_cleanup_json_ json_t *net = NULL;
	struct coi_error err = {0};
	const char *name, *type, *addr;
	char path[512];

	if (!p)
		return;
	name = bridge_name(p);
	if (!name) {
		health_set(res, HEALTH_FAILED, "the default profile has no network interface");
		health_fix(res, "incus profile device add default eth0 nic network=incusbr0 "
		                "name=eth0");
		return;
	}
	(void)snprintf(path, sizeof(path), "/1.0/networks/%s", name);
	if (incus_request(ctx->client, "GET", path, NULL, NULL, &net, &err) < 0) {
		health_set(res, HEALTH_FAILED, "network '%s': %s", name, coi_error_message(&err));
		health_fix(res, "incus network create %s", name);
		return;
	}
	type = json_get_str(net, "type");
	addr = json_get_str(json_get_obj(net, "config"), "ipv4.address");
	if (!type || strcmp(type, "bridge") != 0 || !json_get_bool(net, "managed", false)) {
		health_set(res, HEALTH_FAILED, "network '%s' is not a bridge Incus manages", name);
		health_fix(res, "attach the default profile to a managed bridge (incus network "
		                "create coibr0)");
	} else if (!addr || !strchr(addr, '/')) {
		health_set(res, HEALTH_FAILED, "bridge '%s' has no IPv4 subnet", name);
		health_fix(res, "incus network set %s ipv4.address=10.0.100.1/24 ipv4.nat=true",
		           name);
	} else {
		health_set(res, HEALTH_OK, "%s (%s)", name, addr);
	}
}

/* ---- the default profile ---- */

void health_eval_privileged(const char *profile, const struct incus_map *config,
                            struct health_result *res)
{
	const char *v = incus_map_get(config, "security.privileged");

	if (v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)) {
		health_set(res, HEALTH_FAILED,
		           "profile '%s' makes containers privileged (security.privileged=%s): "
		           "root in the container is root on the host",
		           profile, v);
		health_fix(res, "incus profile unset %s security.privileged", profile);
		return;
	}
	health_set(res, HEALTH_OK, "profile '%s' is unprivileged", profile);
}

HEALTH_CHECK_FN(privileged_profile)
{
	const struct incus_profile *p = health_default_profile(ctx, res);

	if (!p)
		return;
	health_eval_privileged("default", &p->config, res);
	health_fix_project(ctx, res);
}

/* ---- image ---- */

HEALTH_CHECK_FN(image)
{
	_cleanup_(incus_image_freep) struct incus_image *img = NULL;
	const char *alias = ctx->cfg->container.image;
	struct coi_error err = {0};
	int r;

	if (!health_need_incus(ctx, res))
		return;
	r = incus_image_get(ctx->client, alias, &img, &err);
	if (r == -ENOENT) {
		health_set(res, HEALTH_FAILED, "image '%s' does not exist", alias);
		health_fix(res, "build it: coi build (or set [container] image to an existing "
		                "alias)");
	} else if (r < 0) {
		health_set(res, HEALTH_FAILED, "image '%s': %s", alias, coi_error_message(&err));
	} else {
		health_set(res, HEALTH_OK, "'%s' (%.12s, %.0f MiB)", alias, img->fingerprint,
		           (double)img->size / (1024 * 1024));
		health_detail(res, "created %s, %s %s", img->created_at ?: "?", img->os ?: "",
		              img->release ?: "");
	}
}

int health_parse_time(const char *s, int64_t *ret)
{
	struct tm tm = {0};
	const char *end;

	if (!s)
		return -EINVAL;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

void health_eval_image_age(const char *alias, const char *created_at, int64_t now,
                           struct health_result *res)
{
	int64_t t, days;

	if (health_parse_time(created_at, &t) < 0) {
		health_set(res, HEALTH_WARNING, "image '%s' has no creation date", alias);
		return;
	}
	days = (now - t) / 86400;
	if (days > 30) {
		health_set(res, HEALTH_WARNING, "image '%s' is %" PRId64 " days old", alias, days);
		health_fix(res, "rebuild it for current packages and agents: coi build --force");
		return;
	}
	health_set(res, HEALTH_OK, "image '%s' is %" PRId64 " day%s old", alias, days,
	           days == 1 ? "" : "s");
}

HEALTH_CHECK_FN(image_age)
{
	_cleanup_(incus_image_freep) struct incus_image *img = NULL;
	const char *alias = ctx->cfg->container.image;

	if (!health_need_incus(ctx, res))
		return;
	if (incus_image_get(ctx->client, alias, &img, NULL) < 0) {
		health_set(res, HEALTH_FAILED, "not checked: image '%s' does not exist", alias);
		health_fix(res, "see the 'image' check");
		return;
	}
	health_eval_image_age(alias, img->created_at, (int64_t)time(NULL), res);
}
