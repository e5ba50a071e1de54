/* SPDX-License-Identifier: MIT */
/* internal.h: what the check files of src/health/ share: the context every check reads, the
 * result setters, the check functions the table in health.c names, and the pure evaluators the
 * unit tests call directly. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "health/result.h"
#include "util/cleanup.h"
#include "util/error.h"

struct coi_config;
struct health_opts;
struct incus_client;
struct incus_instance;
struct incus_map;
struct incus_profile;
struct incus_server;
struct net_state;

/* Built once by health_run(); checks read it and may fill the lazily loaded parts. */
struct health_ctx {
	const struct health_opts *opts;
	/* configuration: the loaded one, or the defaults when loading failed (cfg_r < 0) */
	struct coi_config *cfg;
	int cfg_r;
	struct coi_error cfg_err;
	char **cfg_warnings;
	/* Incus: incus_r < 0 when the daemon cannot be used (incus_err says why) */
	struct incus_client *client;
	char *socket; /* the local socket path, NULL for a remote */
	struct incus_server *server;
	int incus_r;
	struct coi_error incus_err;
	/* the default profile, once fetched (profile_r 0 = not yet, 1 = fetched, < 0 = failed) */
	struct incus_profile *profile;
	int profile_r;
	struct coi_error profile_err;
	/* every instance with its state, once fetched (same convention as profile_r) */
	struct incus_instance **instances;
	int instances_r;
	struct coi_error instances_err;
	/* nft: usable as the session would use it, and coi's tables, once read (same convention) */
	int nft_probe_r;
	struct coi_error nft_probe_err;
	struct net_state *nft;
	int nft_r;
	struct coi_error nft_err;
};

/* The context health_run() builds (configuration, the client) and its release. */
int health_ctx_open(const struct health_opts *o, struct health_ctx *ctx, struct coi_error *err);
void health_ctx_close(struct health_ctx *ctx);

/* Setters: the status and message, the fix, a line of detail (for -v). */
void health_set(struct health_result *res, enum health_status s, const char *fmt, ...)
        COI_PRINTF(3, 4);
void health_fix(struct health_result *res, const char *fmt, ...) COI_PRINTF(2, 3);
void health_detail(struct health_result *res, const char *fmt, ...) COI_PRINTF(2, 3);

/* False (with res failed, saying why and how to start the daemon) when Incus is not usable. */
bool health_need_incus(struct health_ctx *ctx, struct health_result *res);
/* Appends " --project NAME" to an "incus ..." fix when coi uses a project other than default. */
void health_fix_project(const struct health_ctx *ctx, struct health_result *res);
/* The default profile, or NULL with res failed. */
const struct incus_profile *health_default_profile(struct health_ctx *ctx,
                                                   struct health_result *res);
/* Every instance (NULL-terminated, with state), or NULL with res failed. */
struct incus_instance **health_instances(struct health_ctx *ctx, struct health_result *res);
/* Whether an instance is one of coi's sessions (its name shape or its user.coi.* metadata). */
bool health_is_coi(const struct incus_instance *in);
/* True when coi runs against a local daemon (host-only checks apply). */
bool health_local(const struct health_ctx *ctx);

/* A directory coi writes: ok when writable, or absent but creatable (mkdir -p). dir NULL (its
 * path could not be made): failed, out of memory. */
void health_check_dir(const char *what, const char *dir, struct health_result *res);

/* ---- checks (check-*.c) ---- */
#define HEALTH_CHECK_FN(name) \
	void health_check_##name(struct health_ctx *ctx, struct health_result *res)
HEALTH_CHECK_FN(os);
HEALTH_CHECK_FN(kernel_version);
HEALTH_CHECK_FN(kernel_mitigations);
HEALTH_CHECK_FN(cgroup);
HEALTH_CHECK_FN(incus);
HEALTH_CHECK_FN(permissions);
HEALTH_CHECK_FN(storage_pool);
HEALTH_CHECK_FN(network_bridge);
HEALTH_CHECK_FN(privileged_profile);
HEALTH_CHECK_FN(unprivileged);
HEALTH_CHECK_FN(seccomp);
HEALTH_CHECK_FN(apparmor);
HEALTH_CHECK_FN(raw_overrides);
HEALTH_CHECK_FN(image);
HEALTH_CHECK_FN(image_age);
HEALTH_CHECK_FN(nft);
HEALTH_CHECK_FN(ip_forwarding);
HEALTH_CHECK_FN(agent_service);
HEALTH_CHECK_FN(nft_tables);
HEALTH_CHECK_FN(orphan_rules);
HEALTH_CHECK_FN(proc_connector);
HEALTH_CHECK_FN(nflog);
HEALTH_CHECK_FN(sock_diag);
HEALTH_CHECK_FN(file_watch);
HEALTH_CHECK_FN(proc_scan);
HEALTH_CHECK_FN(cgroup_io);
HEALTH_CHECK_FN(audit_log_directory);
HEALTH_CHECK_FN(coi_directory);
HEALTH_CHECK_FN(sessions_directory);
HEALTH_CHECK_FN(disk_space);
HEALTH_CHECK_FN(config);
HEALTH_CHECK_FN(network_mode);
HEALTH_CHECK_FN(tool);
HEALTH_CHECK_FN(active_containers);
HEALTH_CHECK_FN(saved_sessions);
HEALTH_CHECK_FN(orphaned_resources);

/* ---- pure evaluators (unit-tested) ---- */

/* Kernel release "6.18.0-foo": below 5.15 is a warning. */
void health_eval_kernel(const char *release, struct health_result *res);
/* Incus version "6.0.4": below 6.0 a warning. */
void health_eval_incus_version(const char *version, struct health_result *res);
/* A storage pool: driver, bytes used and total (total 0: unknown). `dir` is a warning (slow
 * launches); free below 5 GiB or use above 80 % a warning, below 2 GiB or above 90 % a failure. */
void health_eval_pool(const char *name, const char *driver, uint64_t used, uint64_t total,
                      struct health_result *res);
/* security.privileged in a profile's config: failed when true. */
void health_eval_privileged(const char *profile, const struct incus_map *config,
                            struct health_result *res);
/* Keys raw.seccomp, raw.apparmor, raw.lxc set in a profile's config: appended to res (a
 * warning per key); returns how many were found. */
int health_eval_raw(const char *profile, const struct incus_map *config, struct health_result *res);
/* Age of an image from its created_at (RFC 3339) at time now: older than 30 days a warning. */
void health_eval_image_age(const char *alias, const char *created_at, int64_t now,
                           struct health_result *res);
/* RFC 3339 "2026-11-28T10:00:00.123Z" to seconds since the epoch; -EINVAL if not one. */
int health_parse_time(const char *s, int64_t *ret);

/* coi's nft tables (netpolicy's struct net_state): no tables is fine; rules without an owner
 * comment, or per-container chains no rule jumps to, are warnings. */
void health_eval_nft_tables(const struct net_state *st, struct health_result *res);
/* Rules whose owner is not among existing (instance names) are a warning. */
void health_eval_orphan_rules(const struct net_state *st, char *const *existing,
                              struct health_result *res);
void health_nft_free(struct net_state *st);
