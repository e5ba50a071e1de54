/* SPDX-License-Identifier: MIT */
/* audit.h: the audit log, ~/.coi/audit/<container>.jsonl, one JSON object per line in the
 * original's schema: id (UUID v4), timestamp (RFC 3339, nanoseconds, UTC), level, category,
 * title, description, action, and evidence holding exactly one typed sub-object (process,
 * network, filesystem, file_write, process_count or disk_space). The file is created 0600 and
 * written with O_APPEND, one write() per line, so concurrent writers never interleave lines.
 * Lines older than the retention are dropped when the log is opened. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "monitor/rules.h"
#include "util/cleanup.h"

struct coi_error;

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

/* The JSON line (without newline); free() it. */
int threat_to_json(const struct threat *t, char **ret, struct coi_error *err);

/* coi_dir()/audit/<container>.jsonl; -EINVAL for a name that is not a plain file name. */
int audit_path(const char *container, char **ret, struct coi_error *err);

struct audit;
/* Opens (creating ~/.coi/audit 0700 and the file 0600). With retention_days (0: keep all), first
 * removes the other containers' logs last written before then (audit_prune_dir) and this log's
 * older lines (audit_prune). */
int audit_open(const char *container, unsigned retention_days, struct audit **ret,
               struct coi_error *err);
int audit_write(struct audit *a, const struct threat *t, struct coi_error *err);
struct audit *audit_close(struct audit *a);
DEFINE_CLEANUP(struct audit *, audit_close)

/* Removes the regular *.jsonl files in dir last modified before cutoff; returns how many. */
int audit_prune_dir(const char *dir, time_t cutoff, struct coi_error *err);
/* Rewrites path without the lines whose timestamp is before cutoff; returns lines dropped. */
int audit_prune(const char *path, time_t cutoff, struct coi_error *err);
