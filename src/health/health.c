/* SPDX-License-Identifier: MIT */
/* health.c: the check table, the runner and the report. The context is built once: a config that
 * does not load is recorded (the 'config' check reports it) and replaced by the defaults, and a
 * daemon that does not answer is recorded (every check that needs it fails with how to start it),
 * so the run always completes and says something useful. */
#include "health/health.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "session/incus-opts.h"
#include "session/naming.h"
#include "util/json.h"
#include "util/path.h"
#include "util/strv.h"

/* clang-format off */
static const struct health_check checks[] = {
	{ "os",                  HEALTH_CAT_SYSTEM,     health_check_os },
	{ "kernel_version",      HEALTH_CAT_SYSTEM,     health_check_kernel_version },
	{ "kernel_mitigations",  HEALTH_CAT_SYSTEM,     health_check_kernel_mitigations },
	{ "cgroup",              HEALTH_CAT_SYSTEM,     health_check_cgroup },
	{ "incus",               HEALTH_CAT_INCUS,      health_check_incus },
	{ "permissions",         HEALTH_CAT_INCUS,      health_check_permissions },
	{ "storage_pool",        HEALTH_CAT_INCUS,      health_check_storage_pool },
	{ "network_bridge",      HEALTH_CAT_INCUS,      health_check_network_bridge },
	{ "privileged_profile",  HEALTH_CAT_INCUS,      health_check_privileged_profile },
	{ "unprivileged",        HEALTH_CAT_SECURITY,   health_check_unprivileged },
	{ "seccomp",             HEALTH_CAT_SECURITY,   health_check_seccomp },
	{ "apparmor",            HEALTH_CAT_SECURITY,   health_check_apparmor },
	{ "raw_overrides",       HEALTH_CAT_SECURITY,   health_check_raw_overrides },
	{ "image",               HEALTH_CAT_IMAGE,      health_check_image },
	{ "image_age",           HEALTH_CAT_IMAGE,      health_check_image_age },
	{ "nft",                 HEALTH_CAT_NETWORK,    health_check_nft },
	{ "ip_forwarding",       HEALTH_CAT_NETWORK,    health_check_ip_forwarding },
	{ "agent_service",       HEALTH_CAT_NETWORK,    health_check_agent_service },
	{ "nft_tables",          HEALTH_CAT_NETWORK,    health_check_nft_tables },
	{ "orphan_rules",        HEALTH_CAT_NETWORK,    health_check_orphan_rules },
	{ "proc_connector",      HEALTH_CAT_MONITORING, health_check_proc_connector },
	{ "nflog",               HEALTH_CAT_MONITORING, health_check_nflog },
	{ "sock_diag",           HEALTH_CAT_MONITORING, health_check_sock_diag },
	{ "file_watch",          HEALTH_CAT_MONITORING, health_check_file_watch },
	{ "proc_scan",           HEALTH_CAT_MONITORING, health_check_proc_scan },
	{ "cgroup_io",           HEALTH_CAT_MONITORING, health_check_cgroup_io },
	{ "audit_log_directory", HEALTH_CAT_MONITORING, health_check_audit_log_directory },
	{ "coi_directory",       HEALTH_CAT_STORAGE,    health_check_coi_directory },
	{ "sessions_directory",  HEALTH_CAT_STORAGE,    health_check_sessions_directory },
	{ "disk_space",          HEALTH_CAT_STORAGE,    health_check_disk_space },
	{ "config",              HEALTH_CAT_CONFIG,     health_check_config },
	{ "network_mode",        HEALTH_CAT_CONFIG,     health_check_network_mode },
	{ "tool",                HEALTH_CAT_CONFIG,     health_check_tool },
	{ "active_containers",   HEALTH_CAT_STATUS,     health_check_active_containers },
	{ "saved_sessions",      HEALTH_CAT_STATUS,     health_check_saved_sessions },
	{ "orphaned_resources",  HEALTH_CAT_STATUS,     health_check_orphaned_resources },
};

static const char *const status_names[_HEALTH_STATUS_MAX] = {
	[HEALTH_OK]      = "ok",
	[HEALTH_WARNING] = "warning",
	[HEALTH_FAILED]  = "failed",
};

static const char *const overall_names[_HEALTH_STATUS_MAX] = {
	[HEALTH_OK]      = "healthy",
	[HEALTH_WARNING] = "degraded",
	[HEALTH_FAILED]  = "unhealthy",
};

static const char *const category_names[_HEALTH_CAT_MAX] = {
	[HEALTH_CAT_SYSTEM]     = "system",
	[HEALTH_CAT_INCUS]      = "incus",
	[HEALTH_CAT_SECURITY]   = "security",
	[HEALTH_CAT_IMAGE]      = "image",
	[HEALTH_CAT_NETWORK]    = "network",
	[HEALTH_CAT_MONITORING] = "monitoring",
	[HEALTH_CAT_STORAGE]    = "storage",
	[HEALTH_CAT_CONFIG]     = "configuration",
	[HEALTH_CAT_STATUS]     = "status",
};
/* clang-format on */

const struct health_check *health_checks(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(checks);
	return checks;
}

const char *health_status_to_string(enum health_status s)
{
	return (unsigned)s < _HEALTH_STATUS_MAX ? status_names[s] : NULL;
}

const char *health_overall_to_string(enum health_status s)
{
	return (unsigned)s < _HEALTH_STATUS_MAX ? overall_names[s] : NULL;
}

const char *health_category_to_string(enum health_category c)
{
	return (unsigned)c < _HEALTH_CAT_MAX ? category_names[c] : NULL;
}

/* ---- results ---- */

void health_set(struct health_result *res, enum health_status s, const char *fmt, ...)
{
	va_list ap;

	res->status = s;
	va_start(ap, fmt);
	(void)vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

void health_fix(struct health_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(res->fix, sizeof(res->fix), fmt, ap);
	va_end(ap);
}

void health_detail(struct health_result *res, const char *fmt, ...)
{
	size_t len = strlen(res->detail);
	va_list ap;

	if (len > 0 && len + 1 < sizeof(res->detail))
		res->detail[len++] = '\n';
	if (len + 1 >= sizeof(res->detail))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(res->detail + len, sizeof(res->detail) - len, fmt, ap);
	va_end(ap);
}

enum health_status health_report_status(const struct health_result *results, size_t n)
{
	enum health_status worst = HEALTH_OK;

	for (size_t i = 0; i < n; i++)
		if (results[i].status > worst)
			worst = results[i].status;
	return worst;
}

int health_exit_code(enum health_status s)
{
	return s == HEALTH_OK ? 0 : s == HEALTH_WARNING ? 1 : 2;
}

size_t health_report_count(const struct health_report *r, enum health_status s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->results[i].status == s;
	return n;
}

/* ---- context ---- */

bool health_local(const struct health_ctx *ctx)
{
	return ctx->client && !incus_client_is_remote(ctx->client);
}

bool health_need_incus(struct health_ctx *ctx, struct health_result *res)
{
	if (ctx->incus_r >= 0)
		return true;
	health_set(res, HEALTH_FAILED, "not checked: the Incus daemon is not usable");
	health_fix(res, "see the 'incus' check");
	return false;
}

void health_fix_project(const struct health_ctx *ctx, struct health_result *res)
{
	const char *project = ctx->client ? incus_client_project(ctx->client) : NULL;
	size_t len = strlen(res->fix);

	if (!project || strcmp(project, "default") == 0 || strncmp(res->fix, "incus ", 6) != 0)
		return;
	(void)snprintf(res->fix + len, sizeof(res->fix) - len, " --project %s", project);
}

const struct incus_profile *health_default_profile(struct health_ctx *ctx,
                                                   struct health_result *res)
{
	if (!health_need_incus(ctx, res))
		return NULL;
	if (ctx->profile_r == 0)
		ctx->profile_r =
		        incus_profile_get(ctx->client, "default", &ctx->profile, &ctx->profile_err)
		                ?: 1;
	if (ctx->profile_r > 0)
		return ctx->profile;
	health_set(res, HEALTH_FAILED, "cannot read the default profile: %s",
	           coi_error_message(&ctx->profile_err));
	health_fix(res, "create it: incus profile create default, then give it a root disk and a "
	                "NIC ('incus admin init' does both)");
	return NULL;
}

struct incus_instance **health_instances(struct health_ctx *ctx, struct health_result *res)
{
	if (!health_need_incus(ctx, res))
		return NULL;
	if (ctx->instances_r == 0) {
		ctx->instances_r = incus_instance_list(ctx->client, NULL, INCUS_LIST_STATE,
		                                       &ctx->instances, &ctx->instances_err);
		if (ctx->instances_r >= 0)
			ctx->instances_r = 1;
	}
	if (ctx->instances_r > 0)
		return ctx->instances;
	health_set(res, HEALTH_FAILED, "cannot list instances: %s",
	           coi_error_message(&ctx->instances_err));
	return NULL;
}

bool health_is_coi(const struct incus_instance *in)
{
	const char *prefix = session_name_prefix();

	if (strncmp(in->name, prefix, strlen(prefix)) != 0)
		return false;
	return session_parse_name(in->name, NULL) >= 0 ||
	       incus_map_get(&in->config, "user.coi.workspace");
}

static void ctx_load_config(struct health_ctx *ctx)
{
	const struct config_load_opts lo = {
	        .workspace = ctx->opts->workspace,
	        .user_file = ctx->opts->config_file,
	};

	ctx->cfg_r = config_load(&lo, &ctx->cfg, &ctx->cfg_warnings, &ctx->cfg_err);
	if (ctx->cfg_r < 0 && config_new_default(&ctx->cfg, NULL) < 0)
		ctx->cfg = NULL;
}

/* The client as coi would open it: [incus] of the config under the environment, then --socket. */
static void ctx_open_incus(struct health_ctx *ctx)
{
	struct incus_client_opts o;

	if (ctx->cfg)
		session_incus_client_opts(ctx->cfg, &o);
	else
		incus_client_opts_from_env(&o);
	if (ctx->opts->socket) { /* --socket: this local daemon, whatever else says */
		o.socket_path = ctx->opts->socket;
		o.remote_url = NULL;
	}
	o.op_timeout = 30;
	if (!o.remote_url)
		ctx->socket = o.socket_path ? strdup(o.socket_path) : incus_default_socket();
	ctx->incus_r = incus_client_new(&o, &ctx->client, &ctx->incus_err);
	if (ctx->incus_r >= 0)
		ctx->incus_r = incus_server_get(ctx->client, &ctx->server, &ctx->incus_err);
	if (ctx->incus_r == -ECANCELED && incus_interrupted())
		ctx->incus_r = coi_error_set(&ctx->incus_err, -ETIMEDOUT,
		                             "the Incus daemon at '%s' does not answer",
		                             ctx->socket ?: o.remote_url);
}

static void ctx_release(struct health_ctx *ctx)
{
	config_free(ctx->cfg);
	strv_free(ctx->cfg_warnings);
	incus_profile_free(ctx->profile);
	incus_instance_list_free(ctx->instances);
	health_nft_free(ctx->nft);
	incus_server_free(ctx->server);
	incus_client_free(ctx->client);
	free(ctx->socket);
}

int health_ctx_open(const struct health_opts *o, struct health_ctx *ctx, struct coi_error *err)
{
	static const struct health_opts none = {0};

	*ctx = (struct health_ctx){.opts = o ? o : &none};
	ctx_load_config(ctx);
	if (!ctx->cfg) {
		ctx_release(ctx);
		return coi_error_oom(err);
	}
	ctx_open_incus(ctx);
	return 0;
}

void health_ctx_close(struct health_ctx *ctx)
{
	ctx_release(ctx);
	*ctx = (struct health_ctx){0};
}

int health_run_table(const struct health_check *table, size_t n, const struct health_opts *o,
                     struct health_report *ret, struct coi_error *err)
{
	struct health_ctx ctx;
	struct health_result *results;

	results = calloc(n ?: 1, sizeof(*results));
	if (!results)
		return coi_error_oom(err);
	if (health_ctx_open(o, &ctx, err) < 0) {
		free(results);
		return err ? err->code : -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		results[i].id = table[i].id;
		results[i].category = table[i].category;
		table[i].fn(&ctx, &results[i]);
	}
	ctx_release(&ctx);
	*ret = (struct health_report){
	        .results = results,
	        .n = n,
	        .status = health_report_status(results, n),
	};
	return 0;
}

int health_run(const struct health_opts *o, struct health_report *ret, struct coi_error *err)
{
	return health_run_table(checks, ELEMENTSOF(checks), o, ret, err);
}

void health_report_release(struct health_report *r)
{
	free(r->results);
	*r = (struct health_report){0};
}

/* ---- JSON ---- */

static json_t *result_to_json(const struct health_result *res, bool verbose)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", res->id, "category",
	                      health_category_to_string(res->category), "status",
	                      health_status_to_string(res->status), "message", res->message, "fix",
	                      res->fix);

	if (o && verbose && res->detail[0] &&
	    json_object_set_new(o, "detail", json_string(res->detail)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *health_report_to_json(const struct health_report *r, bool verbose)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *arr = json_array();

	root = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I}}", "status",
	                 health_overall_to_string(r->status), "checks", arr, "summary", "total",
	                 (json_int_t)r->n, "ok", (json_int_t)health_report_count(r, HEALTH_OK),
	                 "warnings", (json_int_t)health_report_count(r, HEALTH_WARNING), "failed",
	                 (json_int_t)health_report_count(r, HEALTH_FAILED));
	if (!root)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (json_array_append_new(arr, result_to_json(&r->results[i], verbose)) < 0)
			return NULL;
	return TAKE_PTR(root);
}
