/* SPDX-License-Identifier: MIT */
/* responder.c: dedup, the action for a level, the audit line, the alert. */
#include "monitor/responder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incus/incus.h"
#include "monitor/audit.h"
#include "monitor/opts.h"
#include "monitor/sources.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"

#define DEDUP_SLOTS 128
/* A repeat is written at most once a second per finding: a fork bomb repeats its finding at every
 * fork, thousands a second, and each would be a line of the chain (and of every export). */
#define REPEAT_LINE_NS 1000000000ull

struct seen {
	char key[320];
	uint64_t at_ns;
	uint64_t said_ns; /* the last repeat written */
	unsigned held;    /* repeats not written since */
};

struct responder {
	const struct monitor_opts *o;
	struct audit *audit;
	const struct cgroup_ref *cg;
	struct seen seen[DEDUP_SLOTS];
	bool killed;
	char kept[64];         /* forensics_on_kill: the copy's name, "" when none */
	char kept_err[256];    /* or why there is none */
	uint64_t contained_ns; /* when the CRITICAL response had frozen the container */
};

int responder_new(const struct monitor_opts *o, struct audit *audit, const struct cgroup_ref *cg,
                  struct responder **ret)
{
	struct responder *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->o = o;
	r->audit = audit;
	r->cg = cg;
	*ret = r;
	return 0;
}

struct responder *responder_free(struct responder *r)
{
	free(r);
	return NULL;
}

/* The slot of the same finding when it was handled within the window (a repeat); records it and
 * returns NULL otherwise. */
static struct seen *find_repeat(struct responder *r, const struct threat *t, const char *key,
                                uint64_t now)
{
	char k[320];
	uint64_t window = (uint64_t)MONITOR_DEDUP_SECONDS * 1000000000u;
	struct seen *oldest = &r->seen[0];

	snprintf(k, sizeof(k), "%s:%s:%s", t->category, t->title, key ? key : "");
	for (size_t i = 0; i < DEDUP_SLOTS; i++) {
		struct seen *s = &r->seen[i];

		if (s->at_ns && strcmp(s->key, k) == 0) {
			if (now - s->at_ns < window)
				return s;
			*s = (struct seen){.at_ns = now};
			snprintf(s->key, sizeof(s->key), "%s", k);
			return NULL;
		}
		if (s->at_ns < oldest->at_ns)
			oldest = s;
	}
	*oldest = (struct seen){.at_ns = now};
	snprintf(oldest->key, sizeof(oldest->key), "%s", k);
	return NULL;
}

/* Whether a repeat gets its line: the first at once, then one a second saying how many were not
 * written. */
static bool repeat_written(struct seen *s, uint64_t now)
{
	if (s->said_ns && now - s->said_ns < REPEAT_LINE_NS) {
		s->held++;
		return false;
	}
	s->said_ns = now;
	return true;
}

static int freeze(struct responder *r, struct coi_error *err)
{
	struct incus_instance_state *st = NULL;
	int q;

	if (r->cg && cgroup_freeze(r->cg) < 0)
		log_debug("monitor: cannot freeze the cgroup of '%s' directly, ignoring",
		          r->o->container);
	r->contained_ns = clock_mono_ns();
	q = incus_instance_set_state(r->o->client, r->o->container, INCUS_ACTION_FREEZE, false, -1,
	                             err);

	if (q >= 0)
		return 0;
	/* Already frozen counts as done. */
	if (incus_instance_state(r->o->client, r->o->container, &st, NULL) >= 0 &&
	    st->status == INCUS_STATUS_FROZEN)
		q = 0;
	incus_instance_state_free(st);
	return q;
}

int monitor_forensics_name(const char *container, time_t when, char *out, size_t size)
{
	/* Incus names are at most 63 characters: the prefix, the name, "-", 15 for the time */
	int keep = 63 - (int)strlen(MONITOR_FORENSICS_PREFIX) - 1 - 15;
	struct tm tm;
	int n;

	if (!gmtime_r(&when, &tm))
		return -EINVAL;
	n = snprintf(out, size, "%s%.*s-%04d%02d%02d-%02d%02d%02d", MONITOR_FORENSICS_PREFIX, keep,
	             container, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	             tm.tm_sec);
	return n < 0 || (size_t)n >= size ? -EINVAL : 0;
}

/* The evidence: a copy of the stopped container (its filesystem as the attacker left it), made
 * before the delete. A failure is reported in the finding, never stops the response. */
static void keep_forensics(struct responder *r)
{
	const struct monitor_opts *o = r->o;
	struct coi_error e = {0};

	r->kept[0] = r->kept_err[0] = 0;
	if (monitor_forensics_name(o->container, time(NULL), r->kept, sizeof(r->kept)) < 0)
		coi_error_set(&e, -EINVAL, "no name for the copy");
	else if (incus_instance_copy(o->client, o->container, r->kept, false, NULL, &e) >= 0)
		return;
	snprintf(r->kept_err, sizeof(r->kept_err), "%s", coi_error_message(&e));
	r->kept[0] = 0;
	log_debug("monitor: forensics copy of '%s' failed: %s", o->container, r->kept_err);
}

/* What follows the prefix in a copy of this container (not of one whose name goes on): the time. */
static bool is_own_copy(const char *rest)
{
	return strlen(rest) == 15 && rest[8] == '-' && strspn(rest, "0123456789-") == 15;
}

/* As the original: at most MONITOR_FORENSICS_KEEP copies per container, the newest (the names
 * sort by time). */
static void prune_forensics(struct responder *r)
{
	struct incus_instance **l = NULL;
	char prefix[64];
	int n;

	if (monitor_forensics_name(r->o->container, 0, prefix, sizeof(prefix)) < 0)
		return;
	prefix[strlen(prefix) - 15] = 0; /* without the time */
	n = incus_instance_list(r->o->client, prefix, 0, &l, NULL);
	for (int pass = 0, mine = 0, drop = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			if (!is_own_copy(l[i]->name + strlen(prefix)))
				continue;
			if (pass == 0)
				mine++;
			else if (drop++ < mine - MONITOR_FORENSICS_KEEP)
				(void)incus_instance_delete(r->o->client, l[i]->name, true, NULL);
		}
	incus_instance_list_free(l);
}

static int kill_container(struct responder *r, struct coi_error *err)
{
	const struct monitor_opts *o = r->o;
	int q;

	/* Freezing the cgroup takes microseconds and stops everything in the container at once;
	 * the stop and delete that follow take most of a second. */
	if (r->cg && cgroup_freeze(r->cg) < 0)
		log_debug("monitor: cannot freeze the cgroup of '%s' directly, ignoring",
		          o->container);
	r->contained_ns = clock_mono_ns();
	if (o->remove_network && o->remove_network(o->container, o->userdata) < 0)
		log_debug("monitor: removing the network rules of '%s' failed, ignoring",
		          o->container);
	q = incus_instance_set_state(o->client, o->container, INCUS_ACTION_STOP, true, -1, err);
	if (q < 0 && q != -ENOENT)
		log_debug("monitor: stop '%s': %s, deleting anyway", o->container,
		          coi_error_message(err));
	if (o->forensics_on_kill)
		keep_forensics(r);
	q = incus_instance_delete(o->client, o->container, true, err);
	if (o->forensics_on_kill && r->kept[0])
		prune_forensics(r);
	return q == -ENOENT ? 0 : q;
}

int responder_handle(struct responder *r, struct threat *t, const char *key, uint64_t event_ns)
{
	const struct monitor_opts *o = r->o;
	struct coi_error err = {0};
	struct seen *seen;
	char desc[1024];
	uint64_t now;
	int q = 0;

	threat_init(t);
	now = clock_mono_ns();
	seen = r->killed ? NULL : find_repeat(r, t, key, now);
	if (seen && !repeat_written(seen, now))
		return 0;
	if (r->killed || seen) {
		t->action = ACTION_DEDUPLICATED;
	} else if (t->level == THREAT_CRITICAL && o->auto_kill_on_critical) {
		q = kill_container(r, &err);
		t->action = q < 0 ? ACTION_ALERTED : ACTION_KILLED;
		r->killed = q >= 0;
	} else if (t->level == THREAT_HIGH && o->auto_pause_on_high) {
		q = freeze(r, &err);
		t->action = q < 0 ? ACTION_ALERTED : ACTION_PAUSED;
	} else {
		t->action = t->level >= THREAT_WARNING ? ACTION_ALERTED : ACTION_LOGGED;
	}
	if (event_ns && t->action != ACTION_DEDUPLICATED)
		t->response_ms = (double)(clock_mono_ns() - event_ns) / 1e6;
	if (event_ns && (t->action == ACTION_KILLED || t->action == ACTION_PAUSED))
		t->contained_ms = (double)(r->contained_ns - event_ns) / 1e6;
	if (q < 0) {
		snprintf(desc, sizeof(desc), "%s (response failed: %s)", t->description,
		         coi_error_message(&err));
		t->description = desc;
	} else if (seen && seen->held) {
		snprintf(desc, sizeof(desc), "%s (%u more repeats not written)", t->description,
		         seen->held);
		t->description = desc;
		seen->held = 0;
	} else if (t->action == ACTION_KILLED && o->forensics_on_kill) {
		if (r->kept[0])
			snprintf(desc, sizeof(desc), "%s (kept as '%s')", t->description, r->kept);
		else
			snprintf(desc, sizeof(desc), "%s (no forensics copy: %s)", t->description,
			         r->kept_err);
		t->description = desc;
	}
	if (r->audit && audit_write(r->audit, t, &err) < 0)
		log_debug("monitor: %s, ignoring", coi_error_message(&err));
	/* a record (INFO: a project's .env opened, a PATH line added to .bashrc) is for the
	 * audit log, not the user's screen */
	if (o->alert && t->action != ACTION_DEDUPLICATED && t->level >= THREAT_WARNING)
		o->alert(t, o->userdata);
	return t->action == ACTION_KILLED;
}
