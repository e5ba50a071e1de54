/* SPDX-License-Identifier: MIT */
/* proxyrec.c: see proxyrec.h. */
#include "monitor/proxyrec.h"

#include <errno.h>
#include <stdlib.h>

#include "monitor/audit.h"
#include "monitor/loop.h"
#include "util/error.h"
#include "util/log.h"

struct proxyrec {
	const struct proxyrec_opts *o;
	struct audit *audit;                                         /* borrowed */
	void (*respond)(struct threat *t, const char *key, void *u); /* NULL: record only */
	void *respond_u;
};

static void record(struct proxyrec *p, struct threat *t, const char *key)
{
	struct coi_error err = {0};

	if (p->respond) {
		p->respond(t, key, p->respond_u);
		return;
	}
	threat_init(t);
	t->action = ACTION_LOGGED;
	if (p->audit && audit_write(p->audit, t, &err) < 0)
		log_debug("proxy: %s, ignoring", coi_error_message(&err));
	if (p->o->alert)
		p->o->alert(t, p->o->userdata);
}

static int on_report(struct loop *l, int fd, uint32_t events, void *u)
{
	struct proxyrec *p = u;
	struct threat t;
	char key[512];
	int r;

	while ((r = p->o->read(fd, &t, key, sizeof(key), p->o->userdata)) > 0)
		record(p, &t, key);
	if (r < 0)
		(void)loop_remove_fd(l, fd); /* the proxy is gone; its pidfd tells */
	return 0;
}

static int on_end(struct loop *l, int fd, uint32_t events, void *u)
{
	struct proxyrec *p = u;
	struct threat t = {
	        .level = THREAT_WARNING,
	        .category = "network",
	        .title = "Credential proxy ended",
	        .rule = "egress-ended",
	        .description = "the session's credential proxy is gone: requests that carry "
	                       "placeholders fail from now on (~/.coi/logs/<container>.monitor.log "
	                       "says why)",
	};

	record(p, &t, "egress-ended");
	(void)loop_remove_fd(l, fd);
	return 0;
}

int proxyrec_new(const struct proxyrec_opts *o, struct audit *audit,
                 void (*respond)(struct threat *t, const char *key, void *u), void *respond_u,
                 struct loop *l, struct proxyrec **ret)
{
	struct proxyrec *p;
	int r;

	*ret = NULL;
	if (o->fd < 0 || !o->read)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct proxyrec){.o = o, .audit = audit, .respond = respond, .respond_u = respond_u};
	r = loop_add_fd(l, o->fd, false, on_report, p);
	if (r >= 0 && o->pidfd >= 0)
		r = loop_add_fd(l, o->pidfd, false, on_end, p);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

struct proxyrec *proxyrec_free(struct proxyrec *p)
{
	free(p);
	return NULL;
}
