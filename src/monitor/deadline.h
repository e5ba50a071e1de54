/* SPDX-License-Identifier: MIT */
/* deadline.h: limits.runtime.max_duration of a session that outlives its coi process (a
 * detached coi shell). The session's supervisor (`coi monitor NAME --daemon`, or with monitoring
 * off one started only for this, --timer-only) arms it when it starts and holds the identity of
 * the instance it belongs to: the pid of its init (a pidfd) and Incus' volatile.uuid. When the
 * time is up, and again right before anything is done, both must still be that instance's: a
 * later session that reuses the name or slot is another instance and is never touched. While
 * the session still has its own coi process (attached), that process enforces the limit and the
 * deadline waits; once nobody else will, the finding goes to the audit log and the alert hook,
 * and unless warn-only the expire hook ends the session. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct audit;
struct coi_error;
struct incus_client;
struct loop;
struct monitor_opts;

struct deadline;

/* Takes the instance's identity and adds the timer (o->max_duration_s from now) to l. exit_after
 * makes the loop end once the deadline has done its work (the supervisor has nothing else to
 * do). audit may be NULL. */
int deadline_new(const struct monitor_opts *o, struct audit *audit, struct loop *l, bool exit_after,
                 struct deadline **ret, struct coi_error *err);
struct deadline *deadline_free(struct deadline *d);
/* The init pidfd the deadline holds (readable once the container stopped). */
int deadline_pidfd(const struct deadline *d);
/* 1 while container is still the instance (uuid) whose init is the process behind pidfd. */
int deadline_same_instance(struct incus_client *c, const char *container, const char *uuid,
                           int pidfd);

/* Monitoring is off: only the deadline (o->max_duration_s, if set) and the credential proxy's
 * refusals (o->egress_fd, if set), until the container stops (0), the deadline ended the
 * session, or SIGINT/SIGTERM (-EINTR). */
int monitor_deadline_run(const struct monitor_opts *o, struct coi_error *err);
