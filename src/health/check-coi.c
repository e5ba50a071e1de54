/* SPDX-License-Identifier: MIT */
/* check-coi.c: coi's own state: the configuration (loads, network mode, tool) and its sessions
 * (running, saved, orphaned). */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "session/tool.h"
#include "util/path.h"
#include "util/strv.h"

/* ---- configuration ---- */

HEALTH_CHECK_FN(config)
{
	size_t n = strv_length(ctx->cfg_warnings);

	if (ctx->cfg_r < 0) {
		health_set(res, HEALTH_FAILED, "%s", coi_error_message(&ctx->cfg_err));
		health_fix(res, "correct the file (coi config validate FILE checks it); the other "
		                "checks used the built-in defaults");
		return;
	}
	strv_foreach(w, ctx->cfg_warnings)
		if (n > 1)
			health_detail(res, "%s", *w);
	if (n) {
		health_set(res, HEALTH_WARNING, "%s%s", ctx->cfg_warnings[0],
		           n > 1 ? " (and more: see -v)" : "");
		health_fix(res, "coi config validate shows every warning with its place");
		return;
	}
	health_set(res, HEALTH_OK, "loaded%s%s", ctx->cfg->profile ? ", profile " : "",
	           ctx->cfg->profile ?: "");
}

HEALTH_CHECK_FN(network_mode)
{
	const struct coi_config *cfg = ctx->cfg;
	size_t n = strv_length(cfg->network.allowed_domains);

	switch (cfg->network.mode) {
	case NET_MODE_RESTRICTED:
		health_set(res, HEALTH_OK, "restricted: internet only%s",
		           cfg->network.block_private_networks
		                   ? ", private networks blocked"
		                   : "; private networks reachable (block_private_networks off)");
		break;
	case NET_MODE_ALLOWLIST:
		health_set(res, n ? HEALTH_OK : HEALTH_WARNING, "allowlist: %zu allowed domain%s",
		           n, n == 1 ? "" : "s");
		if (!n)
			health_fix(res, "add entries to [network] allowed_domains, or the agent "
			                "reaches nothing");
		break;
	case NET_MODE_OPEN:
		health_set(res, HEALTH_OK,
		           "open: containers reach every network (no egress policy)");
		break;
	case _NET_MODE_MAX:
	case _NET_MODE_INVALID:
	default:
		health_set(res, HEALTH_FAILED, "unknown network mode");
		break;
	}
}

HEALTH_CHECK_FN(tool)
{
	const char *name = ctx->cfg->tool.name;

	if (name && tool_find(name)) {
		health_set(res, HEALTH_OK, "%s%s%s", name, ctx->cfg->tool.binary ? ", binary " : "",
		           ctx->cfg->tool.binary ?: "");
		return;
	}
	if (ctx->cfg->tool.binary || tool_command_ok(name)) {
		const char *near = name ? tool_suggest(name) : NULL;

		/* any other name is a command (docs/tools.md): fine, unless it is a typo */
		health_set(res, near ? HEALTH_WARNING : HEALTH_OK,
		           "'%s' is not one of coi's agents: coi shell runs the command '%s'",
		           name ?: "", ctx->cfg->tool.binary ?: name);
		if (near)
			health_fix(res, "did you mean [tool] name = \"%s\"?", near);
		return;
	}
	health_set(res, HEALTH_FAILED, "[tool] name '%s' is neither an agent nor a command name",
	           name ?: "");
	health_fix(res, "set [tool] name to one of %s, or to a command", tool_names());
}

/* ---- status ---- */

HEALTH_CHECK_FN(active_containers)
{
	struct fleet f = {0};
	struct coi_error err = {0};
	unsigned running = 0;

	if (!health_need_incus(ctx, res))
		return;
	if (fleet_list(ctx->client, false, &f, &err) < 0) {
		health_set(res, HEALTH_FAILED, "cannot list sessions: %s", coi_error_message(&err));
		return;
	}
	for (size_t i = 0; i < f.n; i++) {
		running += strcmp(f.items[i].status, "Running") == 0;
		health_detail(res, "%s %s %s", f.items[i].name, f.items[i].status,
		              f.items[i].workspace);
	}
	health_set(res, HEALTH_OK, "%u running, %zu in all", running, f.n);
	fleet_release(&f);
}

HEALTH_CHECK_FN(saved_sessions)
{
	_cleanup_free_ char *pattern = NULL, *dir = coi_dir();
	glob_t g = {0};
	int r;

	if (!dir || asprintf(&pattern, "%s/sessions-*/*/", dir) < 0) {
		pattern = NULL;
		health_set(res, HEALTH_WARNING, "out of memory");
		return;
	}
	r = glob(pattern, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g);
	if (r != 0 && r != GLOB_NOMATCH) {
		health_set(res, HEALTH_WARNING, "cannot read '%s'", pattern);
		return;
	}
	health_set(res, HEALTH_OK, "%zu saved session%s", g.gl_pathc, g.gl_pathc == 1 ? "" : "s");
	globfree(&g);
}

/* Owner records (coi_dir()/run/<name>.owner) of containers that no longer exist. */
static int stale_owners(struct incus_instance **list, char ***ret)
{
	_cleanup_free_ char *dir = coi_dir(), *run = NULL;
	struct dirent *de;
	DIR *d;

	if (!dir || !(run = path_join(dir, "run")))
		return -ENOMEM;
	d = opendir(run);
	while (d && (de = readdir(d))) {
		char *dot = strrchr(de->d_name, '.');
		bool exists = false;

		if (!dot || strcmp(dot, ".owner") != 0)
			continue;
		*dot = '\0';
		for (size_t i = 0; list[i] && !exists; i++)
			exists = strcmp(list[i]->name, de->d_name) == 0;
		if (!exists && strv_push(ret, de->d_name) < 0)
			break;
	}
	if (d)
		closedir(d);
	return 0;
}

HEALTH_CHECK_FN(orphaned_resources)
{
	struct incus_instance **list = health_instances(ctx, res);
	_cleanup_strv_free_ char **orphans = NULL, **stale = NULL;
	_cleanup_free_ char *names = NULL;
	struct coi_error err = {0};
	struct fleet f = {0};

	if (!list)
		return;
	if (fleet_list(ctx->client, false, &f, &err) < 0) {
		health_set(res, HEALTH_FAILED, "cannot list sessions: %s", coi_error_message(&err));
		return;
	}
	for (size_t i = 0; i < f.n; i++)
		if (f.items[i].orphan)
			(void)strv_push(&orphans, f.items[i].name);
	fleet_release(&f);
	(void)stale_owners(list, &stale);
	if (!orphans && !stale) {
		health_set(res, HEALTH_OK, "none");
		return;
	}
	names = strv_join(orphans ?: stale, ", ");
	health_set(res, HEALTH_WARNING, "%s: %s",
	           orphans ? "sessions whose coi process is gone"
	                   : "records of sessions whose container is gone",
	           names ?: "?");
	health_fix(res, "coi clean --orphans");
}
