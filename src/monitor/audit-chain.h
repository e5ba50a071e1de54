/* SPDX-License-Identifier: MIT */
/* audit-chain.h: the hash chain of an audit log, and what can be proven with it.
 *
 * Every record the writer appends carries "seq" (1, 2, 3, ... over the life of the log) and
 * "prev", the SHA-256 (hex) of the previous line's bytes without its newline; the first record
 * of a log has prev = 64 zeros. So a record that is edited, removed or moved breaks the link of
 * the line after it. What the chain alone cannot show is a cut at the end, so the writer also
 * keeps a head file next to the log, <container>.head, holding the seq and hash of the last
 * record it wrote; a writer that reopens a log whose end does not match its head records that in
 * the chain itself (an "audit" record, event "truncated" or "head_missing"), so the evidence
 * outlives the next write.
 *
 * Retention drops old records from the front only, up to the first break, and puts in their
 * place one line, {"audit": {"event": "pruned", "records": N, "seq": S, "hash": H}}, naming the
 * last record removed; the record after it links to H. The marker itself is not chained: it is
 * an anchor, and a changed S or H breaks the link of the line after it.
 *
 * Limits (docs/monitoring.md says so too): anyone who can write the log and its head can also
 * rebuild the whole chain; the chain shows edits by anyone who does not. The exported copies of
 * each record (syslog, on_finding) carry its seq and hash, and `coi audit verify --anchor
 * SEQ:HASH` checks the log against one kept elsewhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"

#define AUDIT_GENESIS   "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_LINE_MAX  (4u << 20)   /* a longer line is not a record the writer made */
#define AUDIT_FILE_MAX  (256u << 20) /* what pruning reads into memory */
#define AUDIT_HEAD_SIZE 101          /* the head file: one fixed-size line */

/* A position in the chain: a record's seq and the hash of its line. */
struct audit_link {
	uint64_t seq;
	char hash[SHA256_HEX_LEN + 1];
};

/* What one line is, as far as the chain is concerned. */
enum audit_line_kind {
	AUDIT_LINE_OTHER,  /* not a JSON object, or one without the chain fields */
	AUDIT_LINE_RECORD, /* seq and prev */
	AUDIT_LINE_PRUNED, /* the pruning marker */
};

struct audit_line {
	enum audit_line_kind kind;
	uint64_t seq;                  /* RECORD */
	char prev[SHA256_HEX_LEN + 1]; /* RECORD */
	struct audit_link pruned;      /* PRUNED: the last record removed */
	uint64_t pruned_records;       /* PRUNED: how many, over every pruning */
	bool tamper_note;              /* RECORD: the writer found the log altered */
	char hash[SHA256_HEX_LEN + 1]; /* of the line itself */
	int64_t time;                  /* its timestamp (UTC seconds), 0 if unreadable */
};

/* Parses one line (without its newline). Never fails on content: what is not a chained record
 * is AUDIT_LINE_OTHER. -EIO only if hashing failed. */
int audit_line_parse(const char *line, size_t len, struct audit_line *ret);

enum audit_problem {
	AUDIT_INTACT,
	AUDIT_NOT_CHAINED, /* no chained record at all */
	AUDIT_BAD_LINE,    /* a line that is not a chained record, after the chain began */
	AUDIT_EDITED,      /* a record's bytes changed: the next link (or the head) disagrees */
	AUDIT_MISSING,     /* records missing: seq jumps and they appear nowhere later */
	AUDIT_REORDERED,   /* records out of order */
	AUDIT_TRUNCATED,   /* the log ends before the record its head names */
	AUDIT_NO_HEAD,     /* chained records but no head file: the end cannot be checked */
	AUDIT_NOTED,       /* a record says the writer found the log altered earlier */
	AUDIT_ANCHOR,      /* the record an anchor names is not there, or differs */
	_AUDIT_PROBLEM_MAX,
};
const char *audit_problem_to_string(enum audit_problem p); /* "intact", "edited", ... */

struct audit_verify {
	/* the result */
	uint64_t records; /* chained records */
	uint64_t legacy;  /* lines before the chain began (written by an older coi) */
	uint64_t lines;
	uint64_t pruned;               /* records the marker says were removed */
	uint64_t pruned_seq;           /* the last of them */
	struct audit_link first, last; /* first and last chained record (seq 0: none) */
	enum audit_problem problem;    /* the first one found */
	uint64_t problem_line;         /* its line, 1-based (0: the end of the log) */
	char what[320];                /* what it is, in words */
	unsigned problems;             /* how many links were broken in all */
	/* scanning state */
	struct audit_link link; /* the record the next one must follow */
	bool started;           /* a record or the marker was seen */
	bool resync;            /* after a bad line: take the next record as it comes */
	uint64_t gap_line, gap_want, gap_got;
	char prev_line_hash[SHA256_HEX_LEN + 1]; /* of the previous line, whatever it was */
	uint64_t prev_seq_line;                  /* the line of link.seq */
	struct audit_link head, anchor;
	bool has_head, has_anchor, head_seen, anchor_seen;
	bool anchor_pruned; /* the anchor names a record that was pruned: not checked */
};

/* A streaming check: init with the head (NULL when there is none) and an anchor (NULL: none),
 * one call per line (without its newline), then end. */
void audit_verify_init(struct audit_verify *v, const struct audit_link *head,
                       const struct audit_link *anchor);
int audit_verify_line(struct audit_verify *v, const char *line, size_t len);
void audit_verify_end(struct audit_verify *v);

/* "SEQ:HASH" (the hash as 64 hex digits, or "sha256:" and them) -> link; -EINVAL if not. */
int audit_link_parse(const char *s, struct audit_link *ret);

/* Reads it: 0, -ENOENT when there is none, -EBADMSG when it is not a head. */
int audit_head_read(const char *path, struct audit_link *ret);
/* The fixed-size text of a head (AUDIT_HEAD_SIZE bytes, newline included, not NUL-terminated). */
void audit_head_format(const struct audit_link *l, char out[AUDIT_HEAD_SIZE + 1]);
