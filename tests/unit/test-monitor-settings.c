/* SPDX-License-Identifier: MIT */
/* [monitoring] -> `coi monitor --daemon` options -> struct monitor_opts, as a round trip: what a
 * session configures is what its supervisor does. Also the forensics copy's name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "monitor/monitor.h"
#include "monitor/settings.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

/* What the supervisor ends up with for cfg: its own defaults, then the session's options. */
static int round_trip(const struct coi_config *cfg, struct monitor_opts *o, char ***ret_argv)
{
	struct coi_error err = {0};
	char **argv = NULL;
	int r;

	monitor_opts_default(o);
	r = monitor_config_argv(cfg, &argv, &err);
	if (r < 0)
		return r;
	for (size_t i = 0; argv && argv[i]; i++) {
		const char *opt = argv[i], *value = NULL;

		if (argv[i + 1] && strncmp(argv[i + 1], "--", 2) != 0)
			value = argv[++i];
		CHECK(strncmp(opt, "--", 2) == 0);
		CHECK(monitor_opts_set(o, opt + 2, value, &err) == 0);
	}
	*ret_argv = argv;
	return 0;
}

/* On by default (issue 23: its corpora allow it): a session with no configuration is watched,
 * HIGH pausing and CRITICAL killing; `enabled = false` gives no monitor arguments at all. */
static void test_off(void)
{
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	char **argv = (char **)1;

	CHECK(config_new_default(&cfg, &err) == 0);
	CHECK(cfg->monitoring.enabled);
	CHECK(cfg->monitoring.auto_pause_on_high && cfg->monitoring.auto_kill_on_critical);
	CHECK(monitor_config_argv(cfg, &argv, &err) == 0);
	CHECK(argv != NULL && !strv_contains(argv, "--no-pause") &&
	      !strv_contains(argv, "--no-kill"));
	strv_free(argv);
	argv = (char **)1;
	cfg->monitoring.enabled = false;
	CHECK(monitor_config_argv(cfg, &argv, &err) == 0);
	CHECK(argv == NULL);
	config_free(cfg);
}

static void test_defaults(void)
{
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	struct monitor_opts o;
	_cleanup_strv_free_ char **argv = NULL;

	CHECK(config_new_default(&cfg, &err) == 0);
	cfg->monitoring.enabled = true;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(argv && !strv_contains(argv, "--no-pause") && !strv_contains(argv, "--no-kill"));
	CHECK(!strv_contains(argv, "--forensics"));
	CHECK(o.auto_pause_on_high && o.auto_kill_on_critical && !o.forensics_on_kill);
	CHECK(o.rules.oneliners == ONELINER_CRITICAL);
	CHECK(o.sample_ms == 2000); /* poll_interval_sec = 2, the original's */
	CHECK(o.rules.read_threshold_mb == 50 && o.rules.write_threshold_mb == 50);
	CHECK(o.rules.read_rate_mb_s == 10 && o.rules.write_rate_mb_s == 10);
	CHECK(o.audit_retention_days == 30);
	/* the rule directories, "~/" expanded: the supervisor has no config of its own */
	CHECK(o.gtfobins_dir && o.gtfobins_dir[0] == '/' &&
	      strstr(o.gtfobins_dir, "/.coi/gtfobins") != NULL);
	CHECK(o.sigma_dir && o.sigma_dir[0] == '/' && strstr(o.sigma_dir, "/.coi/sigma") != NULL);
	free(cfg->detection.sigma_dir);
	cfg->detection.sigma_dir = strdup("rel/dir");
	CHECK(monitor_config_argv(cfg, &(char **){NULL}, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'detection.sigma_dir' must be an absolute path"));
	CHECK(o.rules.max_processes == 1000 && o.rules.spawn_threshold == 200);
	config_free(cfg);
}

static void test_every_key(void)
{
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	struct monitor_opts o;
	_cleanup_strv_free_ char **argv = NULL;

	CHECK(config_new_default(&cfg, &err) == 0);
	cfg->monitoring.enabled = true;
	cfg->monitoring.auto_pause_on_high = false;
	cfg->monitoring.auto_kill_on_critical = false;
	cfg->monitoring.forensics_on_kill = true;
	cfg->monitoring.reverse_shell_one_liners = ONE_LINER_WARN;
	cfg->monitoring.poll_interval_sec = 5;
	cfg->monitoring.file_read_threshold_mb = 12.5;
	cfg->monitoring.file_read_rate_mb_per_sec = 0.1;
	cfg->monitoring.audit_log_retention_days = 0;
	cfg->monitoring.process_count_threshold = 0;
	cfg->monitoring.process_spawn_rate_threshold = 77;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(o.rules.max_processes == 0 && o.rules.spawn_threshold == 77);
	CHECK(!o.auto_pause_on_high && !o.auto_kill_on_critical && o.forensics_on_kill);
	CHECK(o.rules.oneliners == ONELINER_WARN);
	CHECK(o.sample_ms == 5000);
	CHECK(o.rules.read_threshold_mb == 12.5 && o.rules.write_threshold_mb == 12.5);
	CHECK(o.rules.read_rate_mb_s == 0.1); /* exact: printed with %.17g */
	CHECK(o.audit_retention_days == 0);
	strv_free(argv);
	argv = NULL;
	cfg->monitoring.reverse_shell_one_liners = ONE_LINER_OFF;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(o.rules.oneliners == ONELINER_OFF);
	config_free(cfg);
}

/* The DNS threshold always reaches the supervisor (the DNS filter counts refused queries);
 * [monitoring.nft] with log_dns_queries makes every query count. Its other keys shape the nft
 * rules. */
static void test_nft(void)
{
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	struct monitor_opts o;
	char **argv = NULL;

	CHECK(config_new_default(&cfg, &err) == 0);
	cfg->monitoring.enabled = true;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(strv_contains(argv, "--dns-threshold") && !strv_contains(argv, "--dns-count-all"));
	CHECK(o.rules.dns_per_minute == 100 && !o.dns_count_all);
	strv_free(argv);
	argv = NULL;
	cfg->monitoring.nft.enabled = true;
	cfg->monitoring.nft.dns_query_threshold = 7;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(strv_contains(argv, "--dns-threshold") && strv_contains(argv, "7"));
	CHECK(o.rules.dns_per_minute == 7 && o.dns_count_all);
	strv_free(argv);
	argv = NULL;
	cfg->monitoring.nft.log_dns_queries = false;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(!o.dns_count_all);
	strv_free(argv);
	argv = NULL;
	cfg->monitoring.nft.dns_query_threshold = 0;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	CHECK(strstr(err.msg, "'monitoring.nft.dns_query_threshold'"));
	cfg->monitoring.nft.dns_query_threshold = 100;
	cfg->monitoring.nft.rate_limit_per_second = 0;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	CHECK(strstr(err.msg, "'monitoring.nft.rate_limit_per_second'"));
	cfg->monitoring.nft.enabled = false; /* the log rate is not checked when off */
	CHECK(monitor_config_argv(cfg, &argv, &err) == 0 && argv);
	strv_free(argv);
	monitor_opts_default(&o);
	CHECK(o.rules.dns_per_minute == 100);
	CHECK(monitor_opts_set(&o, "dns-threshold", "0", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "dns-threshold", "2.5", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "dns-threshold", "12", &err) == 0 &&
	      o.rules.dns_per_minute == 12);
	config_free(cfg);
}

static void test_bad_keys(void)
{
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	char **argv = NULL;

	CHECK(config_new_default(&cfg, &err) == 0);
	cfg->monitoring.enabled = true;
	cfg->monitoring.poll_interval_sec = 0;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	CHECK(strstr(err.msg, "'monitoring.poll_interval_sec'"));
	cfg->monitoring.poll_interval_sec = 2;
	cfg->monitoring.audit_log_retention_days = -1;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	CHECK(strstr(err.msg, "'monitoring.audit_log_retention_days'"));
	cfg->monitoring.audit_log_retention_days = 30;
	cfg->monitoring.file_read_threshold_mb = 0;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	cfg->monitoring.file_read_threshold_mb = 50;
	cfg->monitoring.file_read_rate_mb_per_sec = -1;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	cfg->monitoring.file_read_rate_mb_per_sec = 10;
	cfg->monitoring.process_spawn_rate_threshold = -1;
	CHECK(monitor_config_argv(cfg, &argv, &err) == -EINVAL && !argv);
	CHECK(strstr(err.msg, "process_spawn_rate_threshold"));
	config_free(cfg);
}

static void test_bad_options(void)
{
	struct coi_error err = {0};
	struct monitor_opts o;

	monitor_opts_default(&o);
	CHECK(monitor_opts_set(&o, "poll-interval", "abc", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "poll-interval", "1.5", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "poll-interval", "0", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "poll-interval", "", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "poll-interval", NULL, &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "read-threshold-mb", "nan", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "read-rate-mb", "5x", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "audit-retention-days", "-3", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "one-liners", "loud", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "max-processes", "-1", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "spawn-threshold", "1.5", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "bogus", NULL, &err) == -ENOENT);
	CHECK(o.sample_ms == 1000 && o.audit_retention_days == 30); /* untouched */
	CHECK(o.rules.oneliners == ONELINER_CRITICAL);
}

/* Where findings go: the level, syslog and the metrics directory on the command line; the
 * command and the URL only in the environment (ps shows command lines to every user). */
static void test_export(void)
{
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	struct monitor_opts o;
	_cleanup_strv_free_ char **argv = NULL, **env = NULL;

	CHECK(config_new_default(&cfg, &err) == 0);
	cfg->monitoring.enabled = true;
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(o.export_level == THREAT_WARNING && !o.syslog_socket && !o.metrics_dir);
	CHECK(monitor_config_env(cfg, &env, &err) == 0 && env == NULL);
	strv_free(argv);
	argv = NULL;
	cfg->monitoring.export_level = THREAT_HIGH;
	cfg->monitoring.syslog = true;
	cfg->monitoring.metrics_dir = strdup("/var/lib/m");
	cfg->monitoring.on_finding = strdup("logger -t x");
	cfg->monitoring.on_finding_url = strdup("https://hooks.example.test/s3cr3t");
	unsetenv(MONITOR_ENV_SYSLOG_SOCKET);
	CHECK(round_trip(cfg, &o, &argv) == 0);
	CHECK(o.export_level == THREAT_HIGH);
	CHECK(o.syslog_socket && strcmp(o.syslog_socket, "/dev/log") == 0);
	CHECK(o.metrics_dir && strcmp(o.metrics_dir, "/var/lib/m") == 0);
	strv_foreach(a, argv)
		CHECK(!strstr(*a, "logger") && !strstr(*a, "s3cr3t"));
	CHECK(monitor_config_env(cfg, &env, &err) == 0);
	CHECK(strv_contains(env, "COI_MONITOR_ON_FINDING=logger -t x"));
	CHECK(strv_contains(env, "COI_MONITOR_ON_FINDING_URL=https://hooks.example.test/s3cr3t"));
	setenv(MONITOR_ENV_SYSLOG_SOCKET, "/tmp/x.sock", 1);
	CHECK(monitor_opts_set(&o, "syslog", NULL, &err) == 0 &&
	      strcmp(o.syslog_socket, "/tmp/x.sock") == 0);
	CHECK(monitor_opts_set(&o, "export-level", "loud", &err) == -EINVAL);
	CHECK(monitor_opts_set(&o, "metrics-dir", "rel", &err) == -EINVAL);
	free(cfg->monitoring.on_finding_url);
	cfg->monitoring.on_finding_url = strdup("file:///etc/passwd");
	CHECK(monitor_config_argv(cfg, &(char **){NULL}, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'monitoring.on_finding_url'"));
	config_free(cfg);
}

static void test_forensics_name(void)
{
	char name[64], small[16];
	const char *long_name = "coi-a-very-long-container-name-that-goes-on-and-on-and-on-x";

	CHECK(monitor_forensics_name("coi-1a2b3c4d-1", 1795870800, name, sizeof(name)) == 0);
	CHECK_STREQ(name, "coi-forensics-coi-1a2b3c4d-1-20261128-130000");
	CHECK(monitor_forensics_name(long_name, 1795870800, name, sizeof(name)) == 0);
	CHECK(strlen(name) == 63);
	CHECK(strncmp(name, MONITOR_FORENSICS_PREFIX, strlen(MONITOR_FORENSICS_PREFIX)) == 0);
	CHECK(strcmp(name + 63 - 16, "-20261128-130000") == 0);
	CHECK(monitor_forensics_name("coi-x", 0, small, sizeof(small)) == -EINVAL);
}

int main(void)
{
	RUN(test_off);
	RUN(test_defaults);
	RUN(test_every_key);
	RUN(test_nft);
	RUN(test_bad_keys);
	RUN(test_bad_options);
	RUN(test_export);
	RUN(test_forensics_name);
	return tap_done();
}
