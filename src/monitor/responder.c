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
#include "monitor/monitor.h"
#include "monitor/sources.h"
#include "util/error.h"
#include "util/log.h"

#define DEDUP_SLOTS 128

struct seen {
	char key[320];
	uint64_t at_ns;
};

struct responder {
	const struct monitor_opts *o;
	struct audit *audit;
	const struct cgroup_ref *cg;
	struct seen seen[DEDUP_SLOTS];
	bool killed;
	uint64_t contained_ns; /* when the CRITICAL response had frozen the container */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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

/* True when the same finding was handled within the window; records it otherwise. */
static bool is_repeat(struct responder *r, const struct threat *t, const char *key)
{
	char k[320];
	uint64_t now = now_ns(), window = (uint64_t)MONITOR_DEDUP_SECONDS * 1000000000u;
	struct seen *oldest = &r->seen[0];

	snprintf(k, sizeof(k), "%s:%s:%s", t->category, t->title, key ? key : "");
	for (size_t i = 0; i < DEDUP_SLOTS; i++) {
		struct seen *s = &r->seen[i];

		if (s->at_ns && strcmp(s->key, k) == 0) {
			if (now - s->at_ns < window)
				return true;
			s->at_ns = now;
			return false;
		}
		if (s->at_ns < oldest->at_ns)
			oldest = s;
	}
	snprintf(oldest->key, sizeof(oldest->key), "%s", k);
	oldest->at_ns = now;
	return false;
}

static int freeze(struct responder *r, struct coi_error *err)
{
	struct incus_instance_state *st = NULL;
	int q;

	if (r->cg && cgroup_freeze(r->cg) < 0)
		log_debug("monitor: cannot freeze the cgroup of '%s' directly, ignoring",
		          r->o->container);
	r->contained_ns = now_ns();
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

static int kill_container(struct responder *r, struct coi_error *err)
{
	const struct monitor_opts *o = r->o;
	int q;

	/* Freezing the cgroup takes microseconds and stops everything in the container at once;
	 * the stop and delete that follow take most of a second. */
	if (r->cg && cgroup_freeze(r->cg) < 0)
		log_debug("monitor: cannot freeze the cgroup of '%s' directly, ignoring",
		          o->container);
	r->contained_ns = now_ns();
	if (o->remove_network && o->remove_network(o->container, o->userdata) < 0)
		log_debug("monitor: removing the network rules of '%s' failed, ignoring",
		          o->container);
	q = incus_instance_set_state(o->client, o->container, INCUS_ACTION_STOP, true, -1, err);
	if (q < 0 && q != -ENOENT)
		log_debug("monitor: stop '%s': %s, deleting anyway", o->container,
		          coi_error_message(err));
	q = incus_instance_delete(o->client, o->container, true, err);
	return q == -ENOENT ? 0 : q;
}

int responder_handle(struct responder *r, struct threat *t, const char *key, uint64_t event_ns)
{
	const struct monitor_opts *o = r->o;
	struct coi_error err = {0};
	char desc[1024];
	int q = 0;

	threat_init(t);
	if (r->killed || is_repeat(r, t, key)) {
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
		t->response_ms = (double)(now_ns() - event_ns) / 1e6;
	if (event_ns && (t->action == ACTION_KILLED || t->action == ACTION_PAUSED))
		t->contained_ms = (double)(r->contained_ns - event_ns) / 1e6;
	if (q < 0) {
		snprintf(desc, sizeof(desc), "%s (response failed: %s)", t->description,
		         coi_error_message(&err));
		t->description = desc;
	}
	if (r->audit && audit_write(r->audit, t, &err) < 0)
		log_debug("monitor: %s, ignoring", coi_error_message(&err));
	if (o->alert && t->action != ACTION_DEDUPLICATED)
		o->alert(t, o->userdata);
	return t->action == ACTION_KILLED;
}
