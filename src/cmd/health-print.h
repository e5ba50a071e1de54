/* SPDX-License-Identifier: MIT */
/* health-print.h: how a struct health_report looks to the user, shared by `coi health` and any
 * other verb that reports checks in the same shape (`coi selftest`): text grouped by category,
 * colour only on a terminal without NO_COLOR, a fix line under each problem, detail lines with
 * verbose, and a final "healthy|degraded|unhealthy: N checks, ..." line; or the JSON of
 * health_report_to_json(). */
#pragma once

#include <stdbool.h>

struct health_report;

void health_print_text(const struct health_report *rep, bool verbose);
/* 0, or EXIT_FAIL (reported) when out of memory. */
int health_print_json(const struct health_report *rep, bool verbose);
