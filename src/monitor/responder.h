/* SPDX-License-Identifier: MIT */
/* responder.h: what happens to a finding. Repeats of the same finding (category, title and
 * pattern) within MONITOR_DEDUP_SECONDS are logged as "deduplicated" and nothing else (the first
 * at once, then at most one a second, which says how many were not written); otherwise
 * WARNING alerts, HIGH freezes (auto_pause_on_high), CRITICAL removes the network rules, stops
 * and deletes the container (auto_kill_on_critical). The action is taken first, then the audit
 * line is written and the alert hook called. */
#pragma once

#include <stdint.h>

struct audit;
struct cgroup_ref;
struct monitor_opts;
struct threat;

struct responder;

/* cg (may be NULL) lets HIGH and CRITICAL freeze the container through its cgroup at once, before
 * the Incus calls. */
int responder_new(const struct monitor_opts *o, struct audit *audit, const struct cgroup_ref *cg,
                  struct responder **ret);
struct responder *responder_free(struct responder *r);

/* Handles t (its id, time and action are set here). key tells repeats apart (the pattern);
 * event_ns is when the kernel saw the cause (CLOCK_MONOTONIC, 0 if unknown). Returns 1 when the
 * container was killed, 0 otherwise. */
int responder_handle(struct responder *r, struct threat *t, const char *key, uint64_t event_ns);
