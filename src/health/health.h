/* SPDX-License-Identifier: MIT */
/* health.h: `coi health`, as data. The checks are one table (health_checks()): each entry has an
 * id, a category and a small function that fills one struct health_result with a status, a
 * message and, when something is wrong, how to fix it. health_run() runs them all in table order
 * against a shared context (the configuration, or the defaults when it does not load; the Incus
 * client, whose absence fails only the checks that need it) and returns a report. The library
 * never prints: the command renders the report as text, and health_report_to_json() gives the
 * JSON form. The report is plain data, so another verb (`coi selftest`) can fill its own array of
 * struct health_result, set the status with health_report_status(), and print it exactly like
 * `coi health` does with cmd/health-print.h, or run its own table through health_run_table().
 *
 * Overall status: any failed check makes the report unhealthy (exit 2), else any warning makes it
 * degraded (exit 1), else it is healthy (exit 0). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "health/result.h"

struct coi_error;
typedef struct json_t json_t;

/* The table, in report order; *ret_n gets the count. */
const struct health_check *health_checks(size_t *ret_n);

struct health_opts {
	const char *workspace;   /* for the project config layer; NULL: the current directory */
	const char *config_file; /* NULL: $COI_CONFIG or ~/.coi/config.toml */
	const char *socket;      /* the daemon's socket; NULL: config, then environment */
	const char *nft_table;   /* coi's nft table name; NULL: "coi" */
};

struct health_report {
	struct health_result *results;
	size_t n;
	enum health_status status; /* the worst result */
};

/* Run every check. Fails only on OOM: a check that cannot tell reports a failure, not an error. */
int health_run(const struct health_opts *o, struct health_report *ret, struct coi_error *err);
/* Run another table of checks (n entries) with the same context (health/internal.h). */
int health_run_table(const struct health_check *table, size_t n, const struct health_opts *o,
                     struct health_report *ret, struct coi_error *err);
void health_report_release(struct health_report *r);

/* The worst status of the results (HEALTH_OK for none). */
enum health_status health_report_status(const struct health_result *results, size_t n);
/* 0 healthy, 1 degraded, 2 unhealthy. */
int health_exit_code(enum health_status s);
/* Counts of results with status s. */
size_t health_report_count(const struct health_report *r, enum health_status s);

/* coi health --fix: for each check of rep that is not ok and has a remedy coi may apply itself
 * (safe, reversible, nothing a session relies on: IPv4 forwarding on until the next boot, the
 * rules of containers that are gone removed, coi's own directories made, the sudoers drop-in for
 * nft when run through sudo), apply it, or with dry_run only say it. One line per remedy goes to
 * *ret_lines. Returns how many were applied (or would be), or a negative errno (OOM). */
int health_repair(const struct health_opts *o, const struct health_report *rep, bool dry_run,
                  char ***ret_lines, struct coi_error *err);

/* {"status": "healthy|degraded|unhealthy", "checks": [{"id", "category", "status", "message",
 * "fix"(, "detail" when verbose and not empty)}], "summary": {"total", "ok", "warnings",
 * "failed"}}. NULL on OOM. */
json_t *health_report_to_json(const struct health_report *r, bool verbose);
