/* SPDX-License-Identifier: MIT */
/* audit-threat.c: a struct threat as the audit log's JSON object: the schema, in one function
 * (threat_to_object()), and the names of the actions taken. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "monitor/audit.h"
#include "util/json.h"

static const char *const action_names[_ACTION_MAX] = {"logged", "alerted", "paused", "killed",
                                                      "deduplicated"};

const char *threat_action_to_string(enum threat_action a)
{
	return a >= 0 && a < _ACTION_MAX ? action_names[a] : "logged";
}

void threat_init(struct threat *t)
{
	uint8_t b[16] = {0};

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		/* Not fatal: ids only need to be unique within a log. */
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		memcpy(b, &now, sizeof(now) < sizeof(b) ? sizeof(now) : sizeof(b));
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(t->id, sizeof(t->id),
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
	clock_gettime(CLOCK_REALTIME, &t->time);
}

static void format_time(const struct timespec *ts, char out[40])
{
	struct tm tm;
	char base[24];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%09ldZ", base, ts->tv_nsec);
}

/* json_pack with "s?" would drop NULLs as null; the original omits empty fields, so do that. */
static int set_str(json_t *o, const char *key, const char *v)
{
	return v && *v ? json_object_set_new(o, key, json_string(v)) : 0;
}

static json_t *evidence_process(const struct threat *t)
{
	json_t *o = json_object(), *ind = json_array();

	if (!o || !ind)
		goto oom;
	if (json_object_set_new(o, "pid", json_integer(t->ev.process.pid)) < 0 ||
	    set_str(o, "command", t->ev.process.command) < 0 ||
	    set_str(o, "user", t->ev.process.user) < 0 ||
	    set_str(o, "pattern", t->ev.process.pattern) < 0)
		goto oom;
	for (size_t i = 0; i < ELEMENTSOF(t->ev.process.indicators) && t->ev.process.indicators[i];
	     i++)
		if (json_array_append_new(ind, json_string(t->ev.process.indicators[i])) < 0)
			goto oom;
	if (json_array_size(ind) == 0) {
		json_decref(ind);
		return o;
	}
	if (json_object_set_new(o, "indicators", ind) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
oom:
	json_decref(o);
	json_decref(ind);
	return NULL;
}

static json_t *evidence_network(const struct threat *t)
{
	json_t *o = json_object(), *conn = json_object();

	if (!o || !conn || set_str(conn, "protocol", t->ev.network.protocol) < 0 ||
	    set_str(conn, "local_addr", t->ev.network.local_addr) < 0 ||
	    set_str(conn, "remote_addr", t->ev.network.remote_addr) < 0 ||
	    set_str(conn, "state", t->ev.network.state) < 0 ||
	    /* a record of [monitoring.nft] (level info) is no suspicion */
	    json_object_set_new(conn, "suspicious", json_boolean(t->level != THREAT_INFO)) < 0 ||
	    set_str(conn, "suspect_reason", t->ev.network.suspect_reason) < 0 ||
	    json_object_set(o, "connection", conn) < 0 ||
	    set_str(o, "reason", t->ev.network.reason) < 0 ||
	    set_str(o, "remote_host", t->ev.network.remote_host) < 0) {
		json_decref(o);
		json_decref(conn);
		return NULL;
	}
	json_decref(conn);
	return o;
}

static json_t *evidence(const struct threat *t)
{
	bool w = t->kind == EVIDENCE_FILE_WRITE;

	switch (t->kind) {
	case EVIDENCE_PROCESS:
		return evidence_process(t);
	case EVIDENCE_NETWORK:
		return evidence_network(t);
	case EVIDENCE_FILESYSTEM:
	case EVIDENCE_FILE_WRITE:
		return json_pack("{s:f, s:f, s:f, s:I}", w ? "write_bytes_mb" : "read_bytes_mb",
		                 t->ev.io.mb, w ? "write_rate_mb_per_sec" : "read_rate_mb_per_sec",
		                 t->ev.io.rate_mb_s, "threshold_mb", t->ev.io.threshold_mb,
		                 "duration", (json_int_t)t->ev.io.duration_ns);
	case EVIDENCE_PROCESS_COUNT:
		return json_pack("{s:i, s:i, s:i}", "count", (int)t->ev.process_count.count,
		                 "threshold", (int)t->ev.process_count.threshold, "delta",
		                 t->ev.process_count.delta);
	case EVIDENCE_DISK_SPACE:
		return json_pack("{s:s, s:I, s:I, s:f}", "path",
		                 t->ev.disk.path ? t->ev.disk.path : "", "used_mb",
		                 (json_int_t)t->ev.disk.used_mb, "total_mb",
		                 (json_int_t)t->ev.disk.total_mb, "percent", t->ev.disk.percent);
	case EVIDENCE_NONE:
		break;
	}
	return json_object();
}

static const char *evidence_key(enum evidence_kind k)
{
	static const char *const keys[] = {
	        [EVIDENCE_NONE] = NULL,
	        [EVIDENCE_PROCESS] = "process",
	        [EVIDENCE_NETWORK] = "network",
	        [EVIDENCE_FILESYSTEM] = "filesystem",
	        [EVIDENCE_FILE_WRITE] = "file_write",
	        [EVIDENCE_PROCESS_COUNT] = "process_count",
	        [EVIDENCE_DISK_SPACE] = "disk_space",
	};
	return keys[k];
}

json_t *threat_to_object(const struct threat *t)
{
	json_t *o, *ev = NULL, *sub;
	char ts[40];

	format_time(&t->time, ts);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", t->id, "timestamp", ts, "level",
	              threat_level_to_string(t->level), "category", t->category ? t->category : "",
	              "title", t->title ? t->title : "", "description",
	              t->description ? t->description : "", "action",
	              threat_action_to_string(t->action));
	if (!o || set_str(o, "rule", t->rule) < 0)
		goto oom;
	if (t->response_ms > 0 &&
	    json_object_set_new(o, "response_ms", json_real(t->response_ms)) < 0)
		goto oom;
	if (t->contained_ms > 0 &&
	    json_object_set_new(o, "contained_ms", json_real(t->contained_ms)) < 0)
		goto oom;
	ev = json_object();
	if (!ev || json_object_set_new(o, "evidence", ev) < 0)
		goto oom;
	if (evidence_key(t->kind)) {
		sub = evidence(t);
		if (!sub || json_object_set_new(ev, evidence_key(t->kind), sub) < 0)
			goto oom;
	}
	return o;
oom:
	json_decref(o);
	return NULL;
}
