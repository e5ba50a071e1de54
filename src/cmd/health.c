/* SPDX-License-Identifier: MIT */
/* coi health: run the checks of src/health/ and render the report, grouped by category with a
 * final status line, or as JSON. Exit 0 healthy, 1 degraded, 2 unhealthy. */
#include "health/health.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/health-print.h"
#include "incus/incus.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_health;

struct health_cmd_opts {
	bool json;
	bool verbose;
	bool fix, dry_run;
};

/* A daemon that accepts connections but never answers must not hang the report: after this
 * long ($COI_HEALTH_TIMEOUT seconds, for tests), calls in flight and all later ones are
 * interrupted and the Incus checks say so. */
#define HEALTH_TIMEOUT_SEC 30

static void on_alarm(int sig)
{
	(void)sig;
	incus_interrupt();
}

static void arm_timeout(void)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	const char *env = secure_getenv("COI_HEALTH_TIMEOUT");
	unsigned sec = env ? (unsigned)strtoul(env, NULL, 10) : 0;

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, NULL);
	incus_interrupt_on_signals();
	alarm(sec > 0 && sec <= 3600 ? sec : HEALTH_TIMEOUT_SEC);
}

static int parse_args(int argc, char **argv, struct health_cmd_opts *o)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'f'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"fix", no_argument, NULL, 'F'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return -cmd_usage_error(&verb_health, "--format is text or json");
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'F':
			o->fix = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'h':
			return cmd_help(&verb_health);
		default:
			return -cmd_bad_option(&verb_health, argv);
		}
	}
	if (optind < argc)
		return -cmd_usage_error(&verb_health, "unexpected argument '%s'", argv[optind]);
	if (o->dry_run && !o->fix)
		return -cmd_usage_error(&verb_health, "--dry-run goes with --fix");
	return 1;
}

/* --fix: the remedies coi may apply, said on stderr, then the checks again (not after
 * --dry-run, which changed nothing). */
static int repair(const struct health_cmd_opts *o, struct health_report *rep, struct coi_error *err)
{
	_cleanup_strv_free_ char **lines = NULL;
	int n = health_repair(NULL, rep, o->dry_run, &lines, err);

	if (n < 0)
		return n;
	strv_foreach(l, lines)
		fprintf(stderr, "coi: %s\n", *l);
	if (n == 0)
		fprintf(stderr, "coi: nothing coi can fix by itself; the fixes below are yours\n");
	if (n == 0 || o->dry_run)
		return 0;
	health_report_release(rep);
	return health_run(NULL, rep, err);
}

static int run(int argc, char **argv)
{
	struct health_cmd_opts o = {0};
	struct health_report rep = {0};
	struct coi_error err = {0};
	int r;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return -r;
	arm_timeout();
	r = health_run(NULL, &rep, &err);
	if (r >= 0 && o.fix)
		r = repair(&o, &rep, &err);
	alarm(0);
	if (r < 0)
		return cmd_fail(&err);
	r = 0;
	if (o.json)
		r = health_print_json(&rep, o.verbose);
	else
		health_print_text(&rep, o.verbose);
	if (r == 0)
		r = health_exit_code(rep.status);
	health_report_release(&rep);
	return r;
}

const struct verb verb_health = {
        .name = "health",
        .run = run,
        .summary = "check that this machine can run coi safely",
        .usage = "Usage: coi health [--json | --format text|json] [-v] [--fix [--dry-run]]\n"
                 "\n"
                 "Check the host, the Incus daemon, the security posture of coi's containers,\n"
                 "the image, the network rules, the monitor's sources, coi's files, the\n"
                 "configuration and the sessions. Every problem comes with how to fix it.\n"
                 "Runs even when the configuration is broken or the daemon is down.\n"
                 "\n"
                 "  --json            the report as JSON: {status, checks[], summary}\n"
                 "  --format FORMAT   text (default) or json\n"
                 "  -v, --verbose     more detail under each check\n"
                 "  --fix             apply the remedies coi may apply by itself (IPv4\n"
                 "                    forwarding on, stale network rules removed, coi's directory\n"
                 "                    made, the sudoers drop-in for nft when run with sudo),\n"
                 "                    then check again; the other fixes stay yours to apply\n"
                 "  --dry-run         with --fix: say what it would do, do nothing\n"
                 "\n"
                 "Exit status: 0 healthy, 1 degraded (warnings), 2 unhealthy (a check failed).",
};
