/* SPDX-License-Identifier: MIT */
/* child.c: the supervisor's proxy process (child.h). */
#include "egress/child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "egress/ca.h"
#include "egress/httpreq.h"
#include "egress/proxy.h"
#include "egress/secret.h"
#include "egress/source.h"
#include "egress/wire.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/path.h"
#include "util/proc.h"
#include "util/strv.h"

#define RENEW_AHEAD 60 /* seconds before the expiry that a login is renewed */

struct held {
	int64_t expires;       /* 0: unknown */
	struct timespec mtime; /* of a FILE source when last read */
};

struct child {
	const struct egress_child_opts *o;
	struct egress_set set;
	struct held *held;
	struct egress_connect_to ct[EGRESS_CONNECT_TO_MAX];
	size_t n_ct;
};

static bool file_changed(const struct egress_secret *s, struct held *h)
{
	struct stat st;

	if (s->source.kind != EGRESS_SOURCE_FILE || stat(s->source.file, &st) < 0)
		return false;
	if (st.st_mtim.tv_sec == h->mtime.tv_sec && st.st_mtim.tv_nsec == h->mtime.tv_nsec)
		return false;
	h->mtime = st.st_mtim;
	return true;
}

/* The value of secret i now: re-read when the host changed its file (the host's own agent
 * renewed the login), renewed here when it is about to expire. A value that cannot be renewed
 * is still offered until it has expired. */
static const char *value_now(void *u, size_t i)
{
	struct child *c = u;
	struct egress_secret *s = &c->set.v[i];
	struct held *h = &c->held[i];
	struct coi_error err = {0};
	int64_t now = (int64_t)time(NULL), exp;

	if (file_changed(s, h) && egress_source_load(s, &exp, &err) >= 0)
		h->expires = exp;
	if (s->refresh.url && h->expires && now >= h->expires - RENEW_AHEAD) {
		coi_error_clear(&err);
		if (egress_refresh(s, c->o->cafile, c->ct, c->n_ct, &exp, &err) >= 0) {
			h->expires = exp;
			(void)file_changed(s, h); /* our own write */
			log_info("egress: renewed the login of secret '%s' on the host", s->name);
		} else {
			log_warn("egress: %s", coi_error_message(&err));
			if (now >= h->expires)
				return NULL;
		}
	}
	return s->value;
}

static void on_finding(void *u, const char *host, const struct egress_finding *f)
{
	struct child *c = u;
	struct egress_report rep = {.status = (uint16_t)egress_verdict_status(f->verdict)};

	if (c->o->report_fd < 0 ||
	    (f->verdict != EGRESS_REFUSE_PLACEHOLDER && f->verdict != EGRESS_REFUSE_MISDIRECTED))
		return;
	(void)snprintf(rep.secret, sizeof(rep.secret), "%s", f->secret ? f->secret : "");
	(void)snprintf(rep.host, sizeof(rep.host), "%s", host);
	(void)snprintf(rep.where, sizeof(rep.where), "%s", f->where);
	(void)snprintf(rep.method, sizeof(rep.method), "%s", f->method);
	(void)snprintf(rep.target, sizeof(rep.target), "%s", f->target);
	if (send(c->o->report_fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_warn("egress: cannot report a refusal to the supervisor: %m");
}

static void on_ready(void *u)
{
	struct child *c = u;

	if (c->o->ready)
		c->o->ready(c->o->userdata);
}

static int publish_ca(const struct child *c, struct egress_ca *ca, struct coi_error *err)
{
	_cleanup_buf_ struct buf pem = BUF_INIT(1u << 16);

	if (egress_ca_pem(ca, &pem) < 0)
		return coi_error_oom(err);
	return write_file_atomic(c->o->ca_out, pem.data, pem.len, 0644, err);
}

static int setup(struct child *c, struct egress_ca **ret_ca, struct coi_error *err)
{
	_cleanup_free_ int64_t *exp = NULL;
	_cleanup_strv_free_ char **hosts = NULL;
	int r = egress_wire_read(c->o->secrets_fd, &c->set, &exp, err);

	if (r < 0)
		return r;
	c->held = calloc(c->set.n + 1, sizeof(*c->held));
	if (!c->held)
		return coi_error_oom(err);
	for (size_t i = 0; i < c->set.n; i++) {
		c->held[i].expires = exp[i];
		(void)file_changed(&c->set.v[i], &c->held[i]); /* the mtime the value is from */
	}
	if (c->o->connect_to) {
		r = egress_connect_to_parse(c->o->connect_to, c->ct, EGRESS_CONNECT_TO_MAX, err);
		if (r < 0)
			return r;
		c->n_ct = (size_t)r;
	}
	hosts = egress_set_hosts(&c->set);
	if (!hosts)
		return coi_error_oom(err);
	r = egress_ca_new(hosts, c->o->container, ret_ca, err);
	return r < 0 ? r : publish_ca(c, *ret_ca, err);
}

char *egress_child_ca_path(const char *container)
{
	return proc_run_path(container, "egress-ca.pem");
}

int egress_child_run(const struct egress_child_opts *o, struct coi_error *err)
{
	struct child c = {.o = o};
	struct egress_ca *ca = NULL;
	struct egress_stats st;
	int r = setup(&c, &ca, err);

	if (r >= 0)
		r = egress_proxy_run(&(struct egress_proxy_opts){.listen_fd = o->listen_fd,
		                                                 .set = &c.set,
		                                                 .ca = ca,
		                                                 .cafile = o->cafile,
		                                                 .connect_to = c.ct,
		                                                 .n_connect_to = c.n_ct,
		                                                 .stop_fd = o->stop_fd,
		                                                 .value = value_now,
		                                                 .finding = on_finding,
		                                                 .ready = on_ready,
		                                                 .userdata = &c},
		                     &st, err);
	if (o->ca_out)
		(void)unlink(o->ca_out);
	egress_ca_free(ca);
	egress_set_release(&c.set);
	free(c.held);
	return r;
}
