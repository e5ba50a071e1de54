/* SPDX-License-Identifier: MIT */
/* events.c: the daemon's event stream (/1.0/events) over a websocket, decoded into struct
 * incus_event. One JSON text message per event. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "incus/ws.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"

#define EVENT_MAX (1u << 20)

struct incus_events {
	struct incus_ws *ws;
};

void incus_event_release(struct incus_event *e)
{
	free(e->type);
	free(e->action);
	free(e->source);
	free(e->instance);
	free(e->project);
	free(e->timestamp);
	*e = (struct incus_event){0};
}

struct incus_events *incus_events_free(struct incus_events *ev)
{
	if (!ev)
		return NULL;
	incus_ws_free(ev->ws);
	free(ev);
	return NULL;
}

int incus_events_open(struct incus_client *c, const char *types, struct incus_events **ret,
                      struct coi_error *err)
{
	_cleanup_(incus_events_freep) struct incus_events *ev = calloc(1, sizeof(*ev));
	_cleanup_free_ char *path =
	        incus_pathf(c, "/1.0/events?type=%s", types ? types : "lifecycle");
	int r;

	if (!ev || !path)
		return coi_error_oom(err);
	r = incus_ws_open(c, path, EVENT_MAX, &ev->ws, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot subscribe to incus events");
	*ret = TAKE_PTR(ev);
	return 0;
}

int incus_events_fd(const struct incus_events *ev)
{
	return ev->ws->fd;
}

/* "/1.0/instances/NAME" or "/1.0/instances/NAME/..." -> NAME */
static char *instance_of(const char *source)
{
	static const char prefix[] = "/1.0/instances/";

	if (!source || strncmp(source, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	source += sizeof(prefix) - 1;
	return strndup(source, strcspn(source, "/?"));
}

int incus_event_parse(const char *text, size_t len, struct incus_event *ret)
{
	_cleanup_json_ json_t *j = NULL;
	struct incus_event e = {0};
	const json_t *md;
	bool ok = true;

	if (json_parse(text, len, &j, NULL) < 0 || !json_is_object(j))
		return -EBADMSG;
	md = json_get_obj(j, "metadata");
	e.type = incus_json_strdup(j, "type", &ok);
	e.project = incus_json_strdup(j, "project", &ok);
	e.timestamp = incus_json_strdup(j, "timestamp", &ok);
	e.action = incus_json_strdup(md, "action", &ok);
	e.source = incus_json_strdup(md, "source", &ok);
	e.instance = instance_of(e.source);
	if (!ok || (e.source && !e.instance && strncmp(e.source, "/1.0/instances/", 15) == 0)) {
		incus_event_release(&e);
		return -ENOMEM;
	}
	if (!e.type) {
		incus_event_release(&e);
		return -EBADMSG;
	}
	*ret = e;
	return 0;
}

int incus_events_next(struct incus_events *ev, int timeout_ms, struct incus_event *ret,
                      struct coi_error *err)
{
	for (;;) {
		struct ws_message m = {0};
		int r = ws_recv(ev->ws->ws, &m, timeout_ms, err);

		if (r == WS_CLOSED) {
			ws_message_release(&m);
			return coi_error_set(err, -ECONNRESET, "incus closed the event stream");
		}
		if (r < 0)
			return r;
		r = m.op == WS_OP_TEXT ? incus_event_parse(m.data, m.len, ret) : -EBADMSG;
		ws_message_release(&m);
		if (r == 0)
			return 0;
		if (r == -ENOMEM)
			return coi_error_oom(err);
		/* skip what is not an event */
	}
}

int incus_events_wait(struct incus_events *ev, const char *instance, const char *action,
                      int timeout_ms, struct coi_error *err)
{
	long deadline = timeout_ms >= 0 ? clock_mono_ms() + timeout_ms : 0;

	for (;;) {
		struct incus_event e;
		long left = deadline ? deadline - clock_mono_ms() : -1;
		int r;

		if (deadline && left <= 0)
			return coi_error_set(err, -ETIMEDOUT, "no '%s' event for '%s' in time",
			                     action, instance);
		r = incus_events_next(ev, (int)left, &e, err);
		if (r == -ETIMEDOUT)
			return coi_error_set(err, r, "no '%s' event for '%s' in time", action,
			                     instance);
		if (r < 0)
			return r;
		r = e.action && e.instance && strcmp(e.action, action) == 0 &&
		    strcmp(e.instance, instance) == 0;
		incus_event_release(&e);
		if (r)
			return 0;
	}
}
