/* SPDX-License-Identifier: MIT */
/* settings.h: [monitoring] -> the supervisor's command line -> struct monitor_opts. A session
 * turns its merged, trust-filtered config into options of `coi monitor NAME --daemon`
 * (monitor_config_argv); the supervisor, a detached process of its own, reads them back
 * (monitor_opts_set). The session's config stays the one source: the supervisor never reads
 * config files, which would need the session's workspace and profile to get the same answer.
 *
 *   key                         option                    monitor_opts field
 *   auto_pause_on_high = false  --no-pause                auto_pause_on_high
 *   auto_kill_on_critical=false --no-kill                 auto_kill_on_critical
 *   forensics_on_kill = true    --forensics               forensics_on_kill
 *   reverse_shell_one_liners    --one-liners MODE         rules.oneliners
 *   poll_interval_sec           --poll-interval S         sample_ms
 *   file_read_threshold_mb      --read-threshold-mb N     rules.read/write_threshold_mb
 *   file_read_rate_mb_per_sec   --read-rate-mb N          rules.read/write_rate_mb_s
 *   audit_log_retention_days    --audit-retention-days N  audit_retention_days
 *   process_count_threshold     --max-processes N         rules.max_processes
 *   process_spawn_rate_threshold --spawn-threshold N      rules.spawn_threshold
 *   nft.dns_query_threshold     --dns-threshold N         rules.dns_per_minute
 *     (the kernel counts DNS queries against it too; [monitoring.nft]'s other keys shape the
 *     nft log rules, netpolicy.h)
 *   export_level                --export-level L          export_level
 *   syslog = true               --syslog                  syslog_socket (/dev/log, or
 *                                                           $COI_SYSLOG_SOCKET)
 *   metrics_dir                 --metrics-dir DIR         metrics_dir
 *   detection.gtfobins_dir      --gtfobins-dir DIR        gtfobins_dir
 *   detection.sigma_dir         --sigma-dir DIR           sigma_dir
 *   on_finding                  $COI_MONITOR_ON_FINDING   on_finding
 *   on_finding_url              $COI_MONITOR_ON_FINDING_URL  on_finding_url
 * The last two go in the supervisor's environment (monitor_config_env): a command or URL may
 * hold a token, and a command line is every local user's to read. */
#pragma once

#include "monitor/export.h" /* the environment's names */

struct coi_config;
struct coi_error;
struct monitor_opts;

/* Limits of the numeric options (and keys). */
#define MONITOR_POLL_MAX_S        3600
#define MONITOR_RETENTION_MAX_DAY 36500
#define MONITOR_DNS_THRESHOLD_MAX 1000000
#define MONITOR_PROCESSES_MAX     4194304 /* the kernel's largest pid_max */

/* The options for cfg's [monitoring] (every value spelled out, so the supervisor does not depend
 * on its own defaults); NULL when monitoring is off. A value out of range is an error naming the
 * key. */
int monitor_config_argv(const struct coi_config *cfg, char ***ret, struct coi_error *err);

/* "NAME=value" for the supervisor's environment (the on_finding keys); NULL when none, or when
 * monitoring is off. */
int monitor_config_env(const struct coi_config *cfg, char ***ret, struct coi_error *err);

/* Sets the option named opt (without "--"; value NULL for the flags) in o. -EINVAL for an
 * unknown option or a bad value, -ENOENT when opt is not one of these settings. */
int monitor_opts_set(struct monitor_opts *o, const char *opt, const char *value,
                     struct coi_error *err);
