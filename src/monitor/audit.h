/* SPDX-License-Identifier: MIT */
/* audit.h: the audit log, ~/.coi/audit/<container>.jsonl, one JSON object per line in the
 * original's schema: id (UUID v4), timestamp (RFC 3339, nanoseconds, UTC), level, category,
 * title, description, action, and evidence holding exactly one typed sub-object (process,
 * network, filesystem, file_write, process_count or disk_space); then the chain, seq and prev
 * (audit-chain.h). The file is created 0600 and written with O_APPEND, one write() per line,
 * under an exclusive flock that also covers the head file, so writers never interleave and a
 * reader that takes a shared lock sees whole lines and a head that matches them. Old lines are
 * dropped from the front when the log is opened (retention), leaving a pruning record. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "monitor/rules.h"
#include "util/cleanup.h"

struct audit_link;
struct audit_verify;
struct coi_error;
struct json_t;

enum threat_action {
	ACTION_LOGGED,
	ACTION_ALERTED,
	ACTION_PAUSED,
	ACTION_KILLED,
	ACTION_DEDUPLICATED,
	_ACTION_MAX,
};
const char *threat_action_to_string(enum threat_action a);

enum evidence_kind {
	EVIDENCE_NONE,
	EVIDENCE_PROCESS,
	EVIDENCE_NETWORK,
	EVIDENCE_FILESYSTEM,
	EVIDENCE_FILE_WRITE,
	EVIDENCE_PROCESS_COUNT,
	EVIDENCE_DISK_SPACE,
};

/* One finding. Strings are borrowed; the writer copies nothing. */
struct threat {
	char id[37];
	struct timespec time; /* CLOCK_REALTIME */
	enum threat_level level;
	const char *category;
	const char *title;
	const char *description;
	const char *rule; /* the rule id (an extra field the original does not have) */
	enum threat_action action;
	double response_ms;  /* from the kernel event to the action done (extra field; 0: none) */
	double contained_ms; /* CRITICAL: from the event to the container frozen (extra field) */
	enum evidence_kind kind;
	union {
		struct {
			pid_t pid;
			const char *command;
			const char *user;
			const char *pattern;
			const char *indicators[4]; /* NULL-terminated when shorter */
		} process;
		struct {
			const char *protocol;
			const char *local_addr;
			const char *remote_addr;
			const char *state;
			const char *suspect_reason;
			const char *reason;
			const char *remote_host;
		} network;
		struct {
			double mb;
			double rate_mb_s;
			double threshold_mb;
			int64_t duration_ns;
		} io; /* EVIDENCE_FILESYSTEM and EVIDENCE_FILE_WRITE */
		struct {
			unsigned count;
			unsigned threshold;
			int delta;
		} process_count;
		struct {
			const char *path;
			uint64_t used_mb;
			uint64_t total_mb;
			double percent;
		} disk;
	} ev;
};

/* A fresh id and the current time. */
void threat_init(struct threat *t);

/* The JSON line (without newline and without the chain fields); free() it. */
int threat_to_json(const struct threat *t, char **ret, struct coi_error *err);
/* The same as an object (NULL on OOM), for callers that add fields. */
struct json_t *threat_to_object(const struct threat *t);

/* coi_dir()/audit/<container>.jsonl; -EINVAL for a name that is not a plain file name. */
int audit_path(const char *container, char **ret, struct coi_error *err);
/* Its head file (audit-chain.h): coi_dir()/audit/<container>.head */
int audit_head_path(const char *container, char **ret, struct coi_error *err);
/* The last finding of container's log at or above min (repeats skipped), read from the last
 * 256 KiB: 1 when found, 0 when none, -ENOENT when there is no log. */
struct audit_finding {
	enum threat_level level;
	char title[128];
	char timestamp[40];
	char action[16];
	time_t time; /* UTC seconds */
};
int audit_last_finding(const char *container, enum threat_level min, struct audit_finding *ret);
/* Checks the log and head of container against its chain (audit-chain.h), under a shared lock;
 * -ENOENT when it has no log. */
int audit_verify_log(const char *container, const struct audit_link *anchor,
                     struct audit_verify *ret, struct coi_error *err);

struct audit;
/* Opens (creating ~/.coi/audit 0700 and the file 0600). With retention_days (0: keep all), first
 * removes the other containers' logs last written before then (audit_prune_dir) and this log's
 * older lines (audit_prune). */
int audit_open(const char *container, unsigned retention_days, struct audit **ret,
               struct coi_error *err);
/* Appends t as the next record of the chain. */
int audit_write(struct audit *a, const struct threat *t, struct coi_error *err);
/* Writes a pending note first (below). */
struct audit *audit_close(struct audit *a);
DEFINE_CLEANUP(struct audit *, audit_close)

/* Called after each record is written, with its line (no newline) and its place in the chain:
 * how findings leave the host as they happen (export.h). */
typedef void (*audit_sink_fn)(const struct threat *t, const char *line,
                              const struct audit_link *link, void *userdata);
/* Sets the sink, then writes what audit_open found (below), so the sink sees it too. */
void audit_set_sink(struct audit *a, audit_sink_fn fn, void *userdata);

/* When audit_open finds the end of the log does not match its head file (lines removed from the
 * end, or the head itself removed), the next record written is a note of that: a WARNING,
 * category "audit", with {"audit": {"event": "truncated" | "head_missing", ...}}, so the
 * evidence stays in the chain after the head moves on. This writes it now (0 if none). */
int audit_flush_note(struct audit *a, struct coi_error *err);

/* Removes the regular *.jsonl files in dir last modified before cutoff, and their heads;
 * returns how many logs. */
int audit_prune_dir(const char *dir, time_t cutoff, struct coi_error *err);
/* Rewrites path without its leading records whose timestamp is before cutoff (up to the first
 * break in the chain, so retention never removes the evidence of an edit), replaced by one
 * pruning record; returns the records dropped. */
int audit_prune(const char *path, time_t cutoff, struct coi_error *err);
