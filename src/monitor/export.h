/* SPDX-License-Identifier: MIT */
/* export.h: findings leave the host as they happen. The exporter is the audit log's sink
 * (audit_set_sink): each record, once written, goes
 *
 *  - to [monitoring] on_finding, a command run on the host (sh -c) with the record on stdin;
 *  - to on_finding_url, POSTed as application/json (libcurl, in a child process);
 *  - to syslog, one JSON message on /dev/log (or journald's socket behind it), never blocking;
 *  - into a Prometheus text-format file, <metrics_dir>/<container>.prom, rewritten at most once
 *    a second (node_exporter's textfile collector reads such a directory).
 *
 * Each exported copy is the audit line with "container" and "hash" (the SHA-256 of the line, an
 * anchor for `coi audit verify --anchor`) added. The command and the webhook run in children the
 * monitor's loop only watches (a pidfd each): at most EXPORT_MAX_CHILDREN at a time, each killed
 * after timeout_s; a record that finds them all busy waits in a queue of EXPORT_QUEUE_MAX, beyond
 * which it is dropped and counted. Repeats (action "deduplicated") and records below min_level
 * are not sent to the command, the webhook or syslog; the metrics count everything. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "monitor/rules.h"
#include "util/cleanup.h"

struct audit_link;
struct coi_error;
struct loop;
struct threat;

#define EXPORT_MAX_CHILDREN 4
#define EXPORT_QUEUE_MAX    32
#define EXPORT_TIMEOUT_S    10
#define EXPORT_SYSLOG_MAX   16384 /* a longer record is sent without its evidence */
#define EXPORT_SYSLOG_PATH  "/dev/log"

/* The supervisor's environment (settings.h): what ps must not show, and the syslog socket. */
#define MONITOR_ENV_ON_FINDING     "COI_MONITOR_ON_FINDING"
#define MONITOR_ENV_ON_FINDING_URL "COI_MONITOR_ON_FINDING_URL"
#define MONITOR_ENV_SYSLOG_SOCKET  "COI_SYSLOG_SOCKET"

struct export_opts {
	const char *container;
	enum threat_level min_level; /* command, webhook, syslog */
	const char *command;         /* NULL: none */
	const char *url;             /* NULL: none */
	const char *syslog_socket;   /* NULL: no syslog */
	const char *metrics_dir;     /* NULL: no metrics file */
	unsigned timeout_s;          /* 0: EXPORT_TIMEOUT_S */
};

struct exporter;

/* Nothing to export (every destination NULL): *ret = NULL and 0. */
int exporter_new(const struct export_opts *o, struct loop *loop, struct exporter **ret,
                 struct coi_error *err);
/* Kills the children still running and removes the metrics file. */
struct exporter *exporter_free(struct exporter *x);
DEFINE_CLEANUP(struct exporter *, exporter_free)

/* The audit sink (audit_sink_fn); userdata is the exporter. */
void exporter_record(const struct threat *t, const char *line, const struct audit_link *link,
                     void *userdata);

struct buf;
/* The metrics file's text as it would be written now (tests). */
int exporter_metrics_text(const struct exporter *x, struct buf *b);

/* The exported copy of an audit line: the line with "container" and "hash" added; free() it. */
char *export_json(const char *line, const char *container, const char *hash);
/* A syslog datagram for it (RFC 3164 as /dev/log takes it: "<PRI>Mmm dd hh:mm:ss coi[PID]: "
 * then the JSON); free() it. */
char *export_syslog_message(enum threat_level level, const char *json, time_t now, int pid);
