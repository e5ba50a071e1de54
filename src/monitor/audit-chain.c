/* SPDX-License-Identifier: MIT */
/* audit-chain.c: reading an audit log's chain: one line at a time, so a log of any length is
 * checked in constant memory; the head file; the check of a whole log (audit-chain.h). */
#include "monitor/audit-chain.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json.h"

static const char *const problem_names[_AUDIT_PROBLEM_MAX] = {
        [AUDIT_INTACT] = "intact",       [AUDIT_NOT_CHAINED] = "not-chained",
        [AUDIT_BAD_LINE] = "bad-line",   [AUDIT_EDITED] = "edited",
        [AUDIT_MISSING] = "missing",     [AUDIT_REORDERED] = "reordered",
        [AUDIT_TRUNCATED] = "truncated", [AUDIT_NO_HEAD] = "no-head",
        [AUDIT_NOTED] = "noted",         [AUDIT_ANCHOR] = "anchor",
};

const char *audit_problem_to_string(enum audit_problem p)
{
	return p >= 0 && p < _AUDIT_PROBLEM_MAX ? problem_names[p] : "unknown";
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != SHA256_HEX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return false;
	return true;
}

/* A JSON integer from 1 to INT64_MAX. */
static bool get_seq(const json_t *o, const char *key, uint64_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return false;
	*ret = (uint64_t)json_integer_value(v);
	return true;
}

static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	const char *end;

	if (!s)
		return 0;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return end ? (int64_t)timegm(&tm) : 0;
}

static void parse_json(json_t *o, struct audit_line *l)
{
	json_t *audit = json_object_get(o, "audit");
	const char *event = json_is_object(audit) ? json_get_str(audit, "event") : NULL;
	const char *prev = json_get_str(o, "prev");

	l->time = parse_time(json_get_str(o, "timestamp"));
	if (event && strcmp(event, "pruned") == 0 && !json_object_get(o, "seq")) {
		const char *h = json_get_str(audit, "hash");
		json_t *n = json_object_get(audit, "records");

		if (!is_hex64(h) || !json_is_integer(n) || json_integer_value(n) < 0)
			return;
		/* seq 0: everything before the chain began was removed */
		if (json_integer_value(json_object_get(audit, "seq")) != 0 &&
		    !get_seq(audit, "seq", &l->pruned.seq))
			return;
		memcpy(l->pruned.hash, h, sizeof(l->pruned.hash));
		l->pruned_records = (uint64_t)json_integer_value(n);
		l->kind = AUDIT_LINE_PRUNED;
		return;
	}
	if (!get_seq(o, "seq", &l->seq) || !is_hex64(prev))
		return;
	memcpy(l->prev, prev, sizeof(l->prev));
	l->kind = AUDIT_LINE_RECORD;
	l->tamper_note =
	        event && (strcmp(event, "truncated") == 0 || strcmp(event, "head_missing") == 0);
}

int audit_line_parse(const char *line, size_t len, struct audit_line *ret)
{
	_cleanup_json_ json_t *o = NULL;

	*ret = (struct audit_line){.kind = AUDIT_LINE_OTHER};
	if (sha256_hex(line, len, ret->hash) < 0)
		return -EIO;
	if (len == 0 || len > AUDIT_LINE_MAX || line[0] != '{')
		return 0;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(o))
		parse_json(o, ret);
	return 0;
}

/* ---- the check ----------------------------------------------------------------------------- */

COI_PRINTF(4, 5)
static void problem(struct audit_verify *v, enum audit_problem p, uint64_t line, const char *fmt,
                    ...)
{
	va_list ap;

	v->problems++;
	if (v->problem != AUDIT_INTACT)
		return;
	v->problem = p;
	v->problem_line = line;
	va_start(ap, fmt);
	(void)vsnprintf(v->what, sizeof(v->what), fmt, ap);
	va_end(ap);
}

void audit_verify_init(struct audit_verify *v, const struct audit_link *head,
                       const struct audit_link *anchor)
{
	*v = (struct audit_verify){0};
	memcpy(v->prev_line_hash, AUDIT_GENESIS, sizeof(v->prev_line_hash));
	memcpy(v->link.hash, AUDIT_GENESIS, sizeof(v->link.hash));
	if (head) {
		v->head = *head;
		v->has_head = true;
	}
	if (anchor) {
		v->anchor = *anchor;
		v->has_anchor = true;
	}
}

static void on_marker(struct audit_verify *v, const struct audit_line *l)
{
	if (v->lines != 1) {
		problem(v, AUDIT_BAD_LINE, v->lines,
		        "line %" PRIu64 " is a pruning record, which only the first line may be",
		        v->lines);
		v->resync = true;
		memcpy(v->prev_line_hash, l->hash, sizeof(l->hash));
		return;
	}
	v->started = true;
	v->pruned = l->pruned_records;
	v->pruned_seq = l->pruned.seq;
	v->link = l->pruned;
	memcpy(v->prev_line_hash, l->pruned.hash, sizeof(l->pruned.hash));
}

/* Checks a record's seq and prev against the record before it. */
static void check_link(struct audit_verify *v, const struct audit_line *l)
{
	uint64_t want = v->link.seq + 1;

	if (l->seq == want && strcmp(l->prev, v->prev_line_hash) == 0)
		return;
	if (l->seq == want) {
		if (v->lines == 2 && v->pruned)
			problem(v, AUDIT_EDITED, 1,
			        "line 1, the pruning record, was changed (line 2 links to another "
			        "record)");
		else
			problem(v, AUDIT_EDITED, v->lines - 1,
			        "line %" PRIu64 " was changed after it was written (line %" PRIu64
			        ", record %" PRIu64 ", records another hash for it)",
			        v->lines - 1, v->lines, l->seq);
	} else if (l->seq > want) {
		/* missing, unless the records turn up later (then: out of order) */
		if (v->problem == AUDIT_INTACT) {
			v->gap_line = v->lines;
			v->gap_want = want;
			v->gap_got = l->seq;
		}
		if (l->seq - want == 1)
			problem(v, AUDIT_MISSING, v->lines,
			        "record %" PRIu64 " is missing before line %" PRIu64, want,
			        v->lines);
		else
			problem(v, AUDIT_MISSING, v->lines,
			        "records %" PRIu64 "..%" PRIu64 " are missing before line %" PRIu64,
			        want, l->seq - 1, v->lines);
	} else {
		problem(v, AUDIT_REORDERED, v->lines,
		        "line %" PRIu64 " holds record %" PRIu64 " after record %" PRIu64
		        " (line %" PRIu64 "): lines out of order or repeated",
		        v->lines, l->seq, v->link.seq, v->prev_seq_line);
	}
}

/* A record that was missing turns up later: the first problem was a move, not a deletion. */
static void refine_gap(struct audit_verify *v, const struct audit_line *l)
{
	if (v->problem != AUDIT_MISSING || !v->gap_line || l->seq < v->gap_want ||
	    l->seq >= v->gap_got)
		return;
	v->problem = AUDIT_REORDERED;
	(void)snprintf(v->what, sizeof(v->what),
	               "line %" PRIu64 " holds record %" PRIu64 ", but record %" PRIu64
	               " comes later (line %" PRIu64 "): lines out of order",
	               v->gap_line, v->gap_got, l->seq, v->lines);
	v->gap_line = 0;
}

static void check_marks(struct audit_verify *v, const struct audit_line *l)
{
	if (v->has_head && l->seq == v->head.seq) {
		v->head_seen = true;
		if (strcmp(l->hash, v->head.hash) != 0)
			problem(v, AUDIT_EDITED, v->lines,
			        "line %" PRIu64 " (record %" PRIu64 ") was changed after it was "
			        "written (the head file records another hash for it)",
			        v->lines, l->seq);
	}
	if (v->has_anchor && l->seq == v->anchor.seq) {
		v->anchor_seen = true;
		if (strcmp(l->hash, v->anchor.hash) != 0)
			problem(v, AUDIT_ANCHOR, v->lines,
			        "line %" PRIu64 " (record %" PRIu64 ") is not the record "
			        "the anchor names (another hash)",
			        v->lines, l->seq);
	}
}

static void on_record(struct audit_verify *v, const struct audit_line *l)
{
	refine_gap(v, l);
	if (v->resync)
		v->resync = false; /* after a bad line: take this one as it comes */
	else
		check_link(v, l);
	check_marks(v, l);
	if (l->tamper_note)
		problem(v, AUDIT_NOTED, v->lines,
		        "line %" PRIu64 " (record %" PRIu64 ") says the log had been altered when "
		        "the monitor reopened it",
		        v->lines, l->seq);
	if (v->records++ == 0) {
		v->first.seq = l->seq;
		memcpy(v->first.hash, l->hash, sizeof(l->hash));
	}
	v->started = true;
	v->link.seq = l->seq;
	memcpy(v->link.hash, l->hash, sizeof(l->hash));
	v->last = v->link;
	v->prev_seq_line = v->lines;
	memcpy(v->prev_line_hash, l->hash, sizeof(l->hash));
}

int audit_verify_line(struct audit_verify *v, const char *line, size_t len)
{
	struct audit_line l;
	int r;

	v->lines++;
	r = audit_line_parse(line, len, &l);
	if (r < 0)
		return r;
	switch (l.kind) {
	case AUDIT_LINE_PRUNED:
		on_marker(v, &l);
		break;
	case AUDIT_LINE_OTHER:
		if (!v->started) {
			v->legacy++; /* written before coi chained its logs */
		} else {
			problem(v, AUDIT_BAD_LINE, v->lines,
			        "line %" PRIu64 " is not a chained record (changed, or not written "
			        "by coi)",
			        v->lines);
			v->resync = true;
		}
		memcpy(v->prev_line_hash, l.hash, sizeof(l.hash));
		break;
	case AUDIT_LINE_RECORD:
		on_record(v, &l);
		break;
	}
	return 0;
}

static void end_head(struct audit_verify *v)
{
	if (!v->has_head) {
		problem(v, AUDIT_NO_HEAD, 0,
		        "there is no head file: whether lines were removed from the end cannot "
		        "be checked");
		return;
	}
	if (v->head_seen)
		return;
	if (v->head.seq > v->link.seq)
		problem(v, AUDIT_TRUNCATED, 0,
		        "the log ends at record %" PRIu64 ", but record %" PRIu64
		        " was written (the head file): the last %" PRIu64 " record%s removed",
		        v->link.seq, v->head.seq, v->head.seq - v->link.seq,
		        v->head.seq - v->link.seq > 1 ? "s were" : " was");
	else if (v->head.seq == v->link.seq && strcmp(v->head.hash, v->link.hash) != 0)
		problem(v, AUDIT_EDITED, 1,
		        "the pruning record was changed (the head file names another record)");
	/* a head behind the last record: the writer stopped between its line and its head */
}

void audit_verify_end(struct audit_verify *v)
{
	if (!v->started) {
		if (v->lines > 0)
			problem(v, AUDIT_NOT_CHAINED, 0,
			        "no line carries a chain (written by an older coi, or stripped)");
		else if (v->has_head && v->head.seq > 0)
			problem(v, AUDIT_TRUNCATED, 0,
			        "the log is empty, but record %" PRIu64
			        " was written (the head file)",
			        v->head.seq);
		return;
	}
	end_head(v);
	if (v->has_anchor && !v->anchor_seen) {
		if (v->anchor.seq <= v->pruned_seq)
			v->anchor_pruned = true;
		else if (v->anchor.seq > v->link.seq)
			problem(v, AUDIT_ANCHOR, 0,
			        "the anchor names record %" PRIu64 ", but the log ends at record "
			        "%" PRIu64 ": records were removed from its end",
			        v->anchor.seq, v->link.seq);
		else
			problem(v, AUDIT_ANCHOR, 0,
			        "record %" PRIu64 " (the anchor) is not in the log", v->anchor.seq);
	}
}

/* ---- the head file ------------------------------------------------------------------------- */

void audit_head_format(const struct audit_link *l, char out[AUDIT_HEAD_SIZE + 1])
{
	(void)snprintf(out, AUDIT_HEAD_SIZE + 1, "coi-audit-head %020" PRIu64 " %s\n", l->seq,
	               l->hash);
}

int audit_head_read(const char *path, struct audit_link *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char text[AUDIT_HEAD_SIZE + 2] = "", hash[SHA256_HEX_LEN + 2] = "";
	uint64_t seq;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return -errno;
	if (n != AUDIT_HEAD_SIZE ||
	    sscanf(text, "coi-audit-head %20" SCNu64 " %65s", &seq, hash) != 2 || !is_hex64(hash))
		return -EBADMSG;
	ret->seq = seq;
	memcpy(ret->hash, hash, sizeof(ret->hash));
	return 0;
}

int audit_link_parse(const char *s, struct audit_link *ret)
{
	char *end = NULL;
	unsigned long long seq;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	seq = strtoull(s, &end, 10);
	if (errno || seq == 0 || *end != ':')
		return -EINVAL;
	end++;
	if (strncmp(end, "sha256:", 7) == 0)
		end += 7;
	if (!is_hex64(end))
		return -EINVAL;
	ret->seq = seq;
	memcpy(ret->hash, end, sizeof(ret->hash));
	return 0;
}
