/* SPDX-License-Identifier: MIT */
/* deadline.c: see deadline.h. */
#include "monitor/deadline.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "incus/incus.h"
#include "monitor/audit.h"
#include "monitor/dnsrec.h"
#include "monitor/loop.h"
#include "monitor/opts.h"
#include "monitor/proxyrec.h"
#include "util/error.h"
#include "util/log.h"
#include "util/proc.h"

/* While the session's own coi process is there, look again this often. */
#define DEADLINE_RECHECK_S 2

struct deadline {
	const struct monitor_opts *o;
	struct audit *audit; /* borrowed */
	struct loop *loop;   /* borrowed */
	bool exit_after;
	char uuid[64];
	int pidfd;
	int tfd; /* owned by the loop */
};

static bool init_alive(int pidfd)
{
	return poll(&(struct pollfd){.fd = pidfd, .events = POLLIN}, 1, 0) == 0;
}

int deadline_pidfd(const struct deadline *d)
{
	return d->pidfd;
}

/* The instance's volatile.uuid and init pid, read together. */
static int identity(struct incus_client *c, const char *container, char *uuid, size_t size,
                    pid_t *ret_pid, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	const char *u;
	int r;

	r = incus_instance_get(c, container, &in, err);
	if (r >= 0)
		r = incus_instance_state(c, container, &st, err);
	if (r < 0)
		return r;
	u = incus_map_get(&in->config, "volatile.uuid");
	if (!u || !*u || strlen(u) >= size)
		return coi_error_set(err, -EPROTO, "'%s' has no volatile.uuid", container);
	if (st->status != INCUS_STATUS_RUNNING && st->status != INCUS_STATUS_FROZEN)
		return coi_error_set(err, -ESRCH, "'%s' is not running", container);
	snprintf(uuid, size, "%s", u);
	*ret_pid = (pid_t)st->pid;
	return 0;
}

int deadline_same_instance(struct incus_client *c, const char *container, const char *uuid,
                           int pidfd)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	const char *u;

	/* while the init we hold lives, the container is the one it started in */
	if (pidfd >= 0 && !init_alive(pidfd))
		return 0;
	if (incus_instance_get(c, container, &in, NULL) < 0)
		return 0;
	u = incus_map_get(&in->config, "volatile.uuid");
	return u && strcmp(u, uuid) == 0;
}

static void record(struct deadline *d, enum threat_action action, const char *what)
{
	const struct monitor_opts *o = d->o;
	struct coi_error err = {0};
	struct threat t = {
	        .level = THREAT_WARNING,
	        .category = "limits",
	        .title = "Session time limit reached",
	        .rule = "max_duration",
	        .description = what,
	};

	threat_init(&t);
	t.action = action;
	if (d->audit && audit_write(d->audit, &t, &err) < 0)
		log_debug("deadline: %s, ignoring", coi_error_message(&err));
	if (o->alert)
		o->alert(&t, o->userdata);
}

static int rearm(struct deadline *d, time_t secs)
{
	struct itimerspec its = {.it_value = {secs, 0}};

	return timerfd_settime(d->tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int on_deadline(struct loop *l, int fd, uint32_t events, void *u)
{
	struct deadline *d = u;
	const struct monitor_opts *o = d->o;
	struct coi_error err = {0};
	char what[1400];
	int r;

	if (!deadline_same_instance(o->client, o->container, d->uuid, d->pidfd)) {
		log_debug("deadline: '%s' is not the instance it was armed for, nothing to do",
		          o->container);
		loop_exit(l, 0);
		return 0;
	}
	if (o->handed_over && o->handed_over(o->container, o->userdata) == 0)
		return rearm(d, DEADLINE_RECHECK_S); /* its coi process ends it */
	if (o->duration_warn_only) {
		snprintf(what, sizeof(what),
		         "limits.runtime.max_duration (%us) reached; auto_stop = false, so the "
		         "session goes on",
		         o->max_duration_s);
		record(d, ACTION_ALERTED, what);
		if (d->exit_after)
			loop_exit(l, 0);
		return 0;
	}
	r = o->expire ? o->expire(o->container, d->uuid, d->pidfd, o->userdata, &err) : 0;
	snprintf(what, sizeof(what), "limits.runtime.max_duration (%us) reached: %s%s",
	         o->max_duration_s, r < 0 ? "ending the session failed: " : "the session was ended",
	         r < 0 ? coi_error_message(&err) : "");
	record(d, r < 0 ? ACTION_ALERTED : ACTION_KILLED, what);
	loop_exit(l, r < 0 ? r : 0);
	return 0;
}

int deadline_new(const struct monitor_opts *o, struct audit *audit, struct loop *l, bool exit_after,
                 struct deadline **ret, struct coi_error *err)
{
	struct deadline *d = calloc(1, sizeof(*d));
	struct itimerspec its = {0};
	pid_t pid = 0, again = 0;
	char uuid2[64];
	int r;

	if (!d)
		return coi_error_oom(err);
	*d = (struct deadline){.o = o,
	                       .audit = audit,
	                       .loop = l,
	                       .exit_after = exit_after,
	                       .pidfd = -EBADF,
	                       .tfd = -EBADF};
	/* uuid and init pid, the pidfd, and both again: the pidfd is of that instance's init */
	r = incus_client_is_remote(o->client)
	            ? coi_error_set(err, -EOPNOTSUPP, "max_duration needs a local Incus daemon")
	            : 0;
	if (r >= 0)
		r = identity(o->client, o->container, d->uuid, sizeof(d->uuid), &pid, err);
	if (r >= 0 && (d->pidfd = proc_pidfd_open(pid)) < 0)
		r = coi_error_errno(err, d->pidfd, "cannot hold the init of '%s'", o->container);
	if (r >= 0)
		r = identity(o->client, o->container, uuid2, sizeof(uuid2), &again, err);
	if (r >= 0 && (again != pid || strcmp(uuid2, d->uuid) != 0 || !init_alive(d->pidfd)))
		r = coi_error_set(err, -ESRCH, "'%s' changed while its deadline was armed",
		                  o->container);
	if (r >= 0) {
		/* wall-clock: a suspended host still counts the time */
		d->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
		its.it_value.tv_sec = time(NULL) + (time_t)o->max_duration_s;
		if (d->tfd < 0 || timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
			r = coi_error_errno(err, errno, "cannot arm the max_duration timer");
	}
	if (r >= 0 && (r = loop_add_fd(l, d->tfd, true, on_deadline, d)) < 0)
		r = coi_error_errno(err, r, "cannot arm the max_duration timer");
	if (r < 0) {
		if (d->tfd >= 0) /* never added to the loop */
			close(d->tfd);
		deadline_free(d);
		return r;
	}
	log_debug("deadline: '%s' (uuid %s, init %d) ends in %us", o->container, d->uuid, (int)pid,
	          o->max_duration_s);
	*ret = d;
	return 0;
}

struct deadline *deadline_free(struct deadline *d)
{
	if (!d)
		return NULL;
	if (d->pidfd >= 0)
		close(d->pidfd);
	free(d);
	return NULL;
}

static int on_init_exit(struct loop *l, int fd, uint32_t events, void *u)
{
	loop_exit(l, 0); /* the container stopped: the session is over */
	return 0;
}

/* The container's init, when no deadline holds it. */
static int init_pidfd(const struct monitor_opts *o, int *ret, struct coi_error *err)
{
	char uuid[64];
	pid_t pid;
	int r = identity(o->client, o->container, uuid, sizeof(uuid), &pid, err);

	if (r >= 0 && (*ret = proc_pidfd_open(pid)) < 0)
		r = coi_error_errno(err, *ret, "cannot hold the init of '%s'", o->container);
	return r;
}

int monitor_deadline_run(const struct monitor_opts *o, struct coi_error *err)
{
	_cleanup_(audit_closep) struct audit *audit = NULL;
	struct deadline *d = NULL;
	struct proxyrec *proxy = NULL;
	const struct proxyrec_opts po = {o->egress_fd, o->egress_pidfd, o->egress_read, o->alert,
	                                 o->userdata};
	struct dnsrec *dr = NULL;
	struct dnsrec_opts dro = monitor_dnsrec_opts(o, NULL, NULL);
	struct loop *l = NULL;
	/* with the credential proxy or the DNS filter, the loop goes on after a deadline that only
	 * warned */
	bool more = o->egress_fd >= 0 || o->dns_fd >= 0 || o->dns_pidfd >= 0;
	int r, init = -EBADF;

	r = audit_open(o->container, o->audit_retention_days, &audit, err);
	if (r >= 0)
		r = loop_new(&l) < 0 ? coi_error_oom(err) : 0;
	if (r >= 0 && o->max_duration_s)
		r = deadline_new(o, audit, l, !more, &d, err);
	if (r >= 0)
		r = d ? (init = d->pidfd, 0) : init_pidfd(o, &init, err);
	if (r >= 0)
		r = loop_add_fd(l, init, !d, on_init_exit, NULL);
	if (r >= 0)
		r = proxyrec_new(&po, audit, NULL, NULL, l, &proxy);
	if (r >= 0)
		r = dnsrec_new(&dro, audit, l, &dr);
	if (r >= 0)
		r = loop_add_exit_signals(l);
	if (r < 0 && err && !err->code)
		coi_error_errno(err, r, "cannot set up the supervisor's loop");
	if (r >= 0) {
		if (o->ready)
			o->ready(o->userdata);
		r = loop_run(l);
		if (r < 0 && r != -EINTR)
			coi_error_errno(err, r, "the supervisor's loop failed");
	}
	loop_free(l);
	proxyrec_free(proxy);
	dnsrec_free(dr);
	deadline_free(d);
	return r;
}
