/* SPDX-License-Identifier: MIT */
/* settings.c: the [monitoring] keys as options of the supervisor, both ways (settings.h). */
#include "monitor/settings.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/keys.h"
#include "monitor/monitor.h"
#include "netpolicy/netpolicy.h"
#include "util/error.h"
#include "util/strv.h"

static const char *const oneliner_names[] = {
        [ONELINER_CRITICAL] = "critical",
        [ONELINER_WARN] = "warn",
        [ONELINER_OFF] = "off",
};

static int parse_number(const char *opt, const char *value, double min, double max, double *ret,
                        struct coi_error *err)
{
	char *end = NULL;
	double d;

	errno = 0;
	d = value ? strtod(value, &end) : NAN;
	if (!value || !*value || errno || *end || !isfinite(d) || d < min || d > max)
		return coi_error_set(err, -EINVAL, "--%s takes a number from %g to %g, not '%s'",
		                     opt, min, max, value ? value : "");
	*ret = d;
	return 0;
}

static int set_oneliners(struct monitor_opts *o, const char *value, struct coi_error *err)
{
	for (size_t i = 0; i < ELEMENTSOF(oneliner_names); i++)
		if (value && strcmp(value, oneliner_names[i]) == 0) {
			o->rules.oneliners = (enum oneliner_mode)i;
			return 0;
		}
	return coi_error_set(err, -EINVAL, "--one-liners takes critical, warn or off, not '%s'",
	                     value ? value : "");
}

int monitor_opts_set(struct monitor_opts *o, const char *opt, const char *value,
                     struct coi_error *err)
{
	double d;
	int r;

	if (strcmp(opt, "no-pause") == 0) {
		o->auto_pause_on_high = false;
		return 0;
	}
	if (strcmp(opt, "no-kill") == 0) {
		o->auto_kill_on_critical = false;
		return 0;
	}
	if (strcmp(opt, "forensics") == 0) {
		o->forensics_on_kill = true;
		return 0;
	}
	if (strcmp(opt, "dns-count-all") == 0) {
		o->dns_count_all = true;
		return 0;
	}
	if (strcmp(opt, "one-liners") == 0)
		return set_oneliners(o, value, err);
	if (strcmp(opt, "export-level") == 0) {
		r = threat_level_from_string(value);
		if (r < 0)
			return coi_error_set(
			        err, -EINVAL,
			        "--export-level takes info, warning, high or critical, "
			        "not '%s'",
			        value ? value : "");
		o->export_level = (enum threat_level)r;
		return 0;
	}
	if (strcmp(opt, "syslog") == 0) {
		const char *sock = secure_getenv(MONITOR_ENV_SYSLOG_SOCKET);

		o->syslog_socket = sock && *sock ? sock : EXPORT_SYSLOG_PATH;
		return 0;
	}
	if (strcmp(opt, "metrics-dir") == 0 || strcmp(opt, "gtfobins-dir") == 0 ||
	    strcmp(opt, "sigma-dir") == 0) {
		if (!value || value[0] != '/')
			return coi_error_set(err, -EINVAL, "--%s takes an absolute path, not '%s'",
			                     opt, value ? value : "");
		*(opt[0] == 'm'   ? &o->metrics_dir
		  : opt[0] == 'g' ? &o->gtfobins_dir
		                  : &o->sigma_dir) = value;
		return 0;
	}
	if (strcmp(opt, "read-threshold-mb") == 0) {
		r = parse_number(opt, value, 0.001, 1e9, &d, err);
		if (r >= 0)
			o->rules.read_threshold_mb = o->rules.write_threshold_mb = d;
		return r;
	}
	if (strcmp(opt, "read-rate-mb") == 0) {
		r = parse_number(opt, value, 0, 1e9, &d, err);
		if (r >= 0)
			o->rules.read_rate_mb_s = o->rules.write_rate_mb_s = d;
		return r;
	}
	if (strcmp(opt, "poll-interval") == 0) {
		r = parse_number(opt, value, 1, MONITOR_POLL_MAX_S, &d, err);
		if (r >= 0 && d != floor(d))
			r = coi_error_set(err, -EINVAL, "--poll-interval takes whole seconds");
		if (r >= 0)
			o->sample_ms = (unsigned)d * 1000u;
		return r;
	}
	if (strcmp(opt, "dns-threshold") == 0) {
		r = parse_number(opt, value, 1, MONITOR_DNS_THRESHOLD_MAX, &d, err);
		if (r >= 0 && d != floor(d))
			r = coi_error_set(err, -EINVAL, "--dns-threshold takes a whole number");
		if (r >= 0)
			o->rules.dns_per_minute = (unsigned)d;
		return r;
	}
	if (strcmp(opt, "max-processes") == 0 || strcmp(opt, "spawn-threshold") == 0) {
		r = parse_number(opt, value, 0, MONITOR_PROCESSES_MAX, &d, err);
		if (r >= 0 && d != floor(d))
			r = coi_error_set(err, -EINVAL, "--%s takes a whole number", opt);
		if (r >= 0 && opt[0] == 'm')
			o->rules.max_processes = (unsigned)d;
		else if (r >= 0)
			o->rules.spawn_threshold = (unsigned)d;
		return r;
	}
	if (strcmp(opt, "audit-retention-days") == 0) {
		r = parse_number(opt, value, 0, MONITOR_RETENTION_MAX_DAY, &d, err);
		if (r >= 0 && d != floor(d))
			r = coi_error_set(err, -EINVAL, "--audit-retention-days takes whole days");
		if (r >= 0)
			o->audit_retention_days = (unsigned)d;
		return r;
	}
	return coi_error_set(err, -ENOENT, "unknown monitor option '--%s'", opt);
}

static int push_opt(char ***argv, const char *opt, const char *fmt, ...) COI_PRINTF(3, 4);
static int push_opt(char ***argv, const char *opt, const char *fmt, ...)
{
	char *v = NULL;
	va_list ap;
	int n;

	if (strv_push(argv, opt) < 0)
		return -ENOMEM;
	if (!fmt)
		return 0;
	va_start(ap, fmt);
	n = vasprintf(&v, fmt, ap);
	va_end(ap);
	return n < 0 ? -ENOMEM : strv_consume(argv, v);
}

static int check_keys(const struct coi_config *cfg, struct coi_error *err)
{
	const typeof(cfg->monitoring) *m = &cfg->monitoring;

	if (m->poll_interval_sec < 1 || m->poll_interval_sec > MONITOR_POLL_MAX_S)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.poll_interval_sec' must be 1..%d seconds, not %d",
		                     MONITOR_POLL_MAX_S, m->poll_interval_sec);
	if (m->audit_log_retention_days < 0 ||
	    m->audit_log_retention_days > MONITOR_RETENTION_MAX_DAY)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.audit_log_retention_days' must be 0..%d (0: keep "
		                     "all), not %d",
		                     MONITOR_RETENTION_MAX_DAY, m->audit_log_retention_days);
	if (!(m->file_read_threshold_mb >= 0.001) || m->file_read_threshold_mb > 1e9)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.file_read_threshold_mb' must be above 0, not %g",
		                     m->file_read_threshold_mb);
	if (!(m->file_read_rate_mb_per_sec >= 0) || m->file_read_rate_mb_per_sec > 1e9)
		return coi_error_set(
		        err, -EINVAL,
		        "'monitoring.file_read_rate_mb_per_sec' must be 0 or more, not %g",
		        m->file_read_rate_mb_per_sec);
	if (m->process_count_threshold < 0 || m->process_count_threshold > MONITOR_PROCESSES_MAX ||
	    m->process_spawn_rate_threshold < 0 ||
	    m->process_spawn_rate_threshold > MONITOR_PROCESSES_MAX)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.process_count_threshold' and "
		                     "'process_spawn_rate_threshold' must be 0..%d (0: off)",
		                     MONITOR_PROCESSES_MAX);
	if (m->nft.enabled &&
	    (m->nft.rate_limit_per_second < 1 || m->nft.rate_limit_per_second > NET_WATCH_RATE_MAX))
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.nft.rate_limit_per_second' must be 1..%d, not %d",
		                     NET_WATCH_RATE_MAX, m->nft.rate_limit_per_second);
	if (m->nft.dns_query_threshold < 1 ||
	    m->nft.dns_query_threshold > MONITOR_DNS_THRESHOLD_MAX)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.nft.dns_query_threshold' must be 1..%d, not %d",
		                     MONITOR_DNS_THRESHOLD_MAX, m->nft.dns_query_threshold);
	if ((unsigned)m->reverse_shell_one_liners >= _ONE_LINER_MAX)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.reverse_shell_one_liners' is invalid");
	if ((unsigned)m->export_level >= _THREAT_LEVEL_MAX)
		return coi_error_set(err, -EINVAL, "'monitoring.export_level' is invalid");
	if (m->metrics_dir && m->metrics_dir[0] != '/')
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.metrics_dir' must be an absolute path (or start "
		                     "with ~/), not '%s'",
		                     m->metrics_dir);
	if (m->on_finding_url && strncmp(m->on_finding_url, "http://", 7) != 0 &&
	    strncmp(m->on_finding_url, "https://", 8) != 0)
		return coi_error_set(err, -EINVAL,
		                     "'monitoring.on_finding_url' must be an http:// or https:// "
		                     "URL, not '%s'",
		                     m->on_finding_url);
	return 0;
}

/* A rule directory as the supervisor gets it: absolute ("~/" expanded as the loader does). */
static int rule_dir(const char *dir, const char *key, char **ret, struct coi_error *err)
{
	char *d = dir && *dir ? strdup(dir) : NULL;

	*ret = NULL;
	if (!dir || !*dir)
		return 0;
	if (!d || key_expand_home(&d) < 0) {
		free(d);
		return coi_error_oom(err);
	}
	if (d[0] != '/') {
		free(d);
		return coi_error_set(err, -EINVAL,
		                     "'%s' must be an absolute path (or start with ~/), not '%s'",
		                     key, dir);
	}
	*ret = d;
	return 0;
}

int monitor_config_argv(const struct coi_config *cfg, char ***ret, struct coi_error *err)
{
	/* config.h's enum and the rules' enum name the same modes in the same order */
	static const char *const modes[] = {
	        [ONE_LINER_CRITICAL] = "critical",
	        [ONE_LINER_WARN] = "warn",
	        [ONE_LINER_OFF] = "off",
	};
	const typeof(cfg->monitoring) *m = &cfg->monitoring;
	_cleanup_free_ char *gtfobins = NULL, *sigma = NULL;
	_cleanup_strv_free_ char **argv = NULL;
	int r;

	if (!m->enabled) {
		*ret = NULL;
		return 0;
	}
	r = check_keys(cfg, err);
	if (r >= 0)
		r = rule_dir(cfg->detection.gtfobins_dir, "detection.gtfobins_dir", &gtfobins, err);
	if (r >= 0)
		r = rule_dir(cfg->detection.sigma_dir, "detection.sigma_dir", &sigma, err);
	if (r < 0)
		return r;
	if ((!m->auto_pause_on_high && push_opt(&argv, "--no-pause", NULL) < 0) ||
	    (!m->auto_kill_on_critical && push_opt(&argv, "--no-kill", NULL) < 0) ||
	    (m->forensics_on_kill && push_opt(&argv, "--forensics", NULL) < 0) ||
	    push_opt(&argv, "--one-liners", "%s", modes[m->reverse_shell_one_liners]) < 0 ||
	    push_opt(&argv, "--poll-interval", "%d", m->poll_interval_sec) < 0 ||
	    push_opt(&argv, "--read-threshold-mb", "%.17g", m->file_read_threshold_mb) < 0 ||
	    push_opt(&argv, "--read-rate-mb", "%.17g", m->file_read_rate_mb_per_sec) < 0 ||
	    push_opt(&argv, "--audit-retention-days", "%d", m->audit_log_retention_days) < 0 ||
	    push_opt(&argv, "--max-processes", "%d", m->process_count_threshold) < 0 ||
	    push_opt(&argv, "--spawn-threshold", "%d", m->process_spawn_rate_threshold) < 0 ||
	    /* the DNS filter counts refused queries; [monitoring.nft]'s DNS records, every one */
	    push_opt(&argv, "--dns-threshold", "%d", m->nft.dns_query_threshold) < 0 ||
	    (m->nft.enabled && m->nft.log_dns_queries &&
	     push_opt(&argv, "--dns-count-all", NULL) < 0) ||
	    push_opt(&argv, "--export-level", "%s", threat_level_to_string(m->export_level)) < 0 ||
	    (m->syslog && push_opt(&argv, "--syslog", NULL) < 0) ||
	    (m->metrics_dir && push_opt(&argv, "--metrics-dir", "%s", m->metrics_dir) < 0) ||
	    (gtfobins && push_opt(&argv, "--gtfobins-dir", "%s", gtfobins) < 0) ||
	    (sigma && push_opt(&argv, "--sigma-dir", "%s", sigma) < 0))
		return coi_error_oom(err);
	*ret = TAKE_PTR(argv);
	return 0;
}

int monitor_config_env(const struct coi_config *cfg, char ***ret, struct coi_error *err)
{
	const typeof(cfg->monitoring) *m = &cfg->monitoring;
	_cleanup_strv_free_ char **env = NULL;
	char *v = NULL;

	*ret = NULL;
	if (!m->enabled)
		return 0;
	if (m->on_finding && (asprintf(&v, "%s=%s", MONITOR_ENV_ON_FINDING, m->on_finding) < 0 ||
	                      strv_consume(&env, v) < 0))
		return coi_error_oom(err);
	if (m->on_finding_url &&
	    (asprintf(&v, "%s=%s", MONITOR_ENV_ON_FINDING_URL, m->on_finding_url) < 0 ||
	     strv_consume(&env, v) < 0))
		return coi_error_oom(err);
	*ret = TAKE_PTR(env);
	return 0;
}
