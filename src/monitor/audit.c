/* SPDX-License-Identifier: MIT */
/* audit.c: the JSONL audit writer. Encoding goes through jansson; the typed struct threat is
 * the only input, so the schema lives in one function. */
#include "monitor/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

#define AUDIT_FILE_MAX (256u << 20)

struct audit {
	int fd;
	char *path;
};

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

int threat_to_json(const struct threat *t, char **ret, struct coi_error *err)
{
	_cleanup_json_ json_t *o = NULL;
	json_t *ev = NULL, *sub;
	char ts[40];
	char *s;

	format_time(&t->time, ts);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", t->id, "timestamp", ts, "level",
	              threat_level_to_string(t->level), "category", t->category ? t->category : "",
	              "title", t->title ? t->title : "", "description",
	              t->description ? t->description : "", "action",
	              threat_action_to_string(t->action));
	if (!o || set_str(o, "rule", t->rule) < 0)
		return coi_error_oom(err);
	if (t->response_ms > 0 &&
	    json_object_set_new(o, "response_ms", json_real(t->response_ms)) < 0)
		return coi_error_oom(err);
	if (t->contained_ms > 0 &&
	    json_object_set_new(o, "contained_ms", json_real(t->contained_ms)) < 0)
		return coi_error_oom(err);
	ev = json_object();
	if (!ev || json_object_set_new(o, "evidence", ev) < 0)
		return coi_error_oom(err);
	if (evidence_key(t->kind)) {
		sub = evidence(t);
		if (!sub || json_object_set_new(ev, evidence_key(t->kind), sub) < 0)
			return coi_error_oom(err);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (!s)
		return coi_error_oom(err);
	*ret = s;
	return 0;
}

int audit_path(const char *container, char **ret, struct coi_error *err)
{
	_cleanup_free_ char *dir = NULL, *file = NULL;
	char *p;

	if (!container || !*container || strchr(container, '/') || container[0] == '.')
		return coi_error_set(err, -EINVAL, "invalid container name '%s'",
		                     container ? container : "");
	dir = coi_dir();
	if (!dir || asprintf(&file, "audit/%s.jsonl", container) < 0)
		return coi_error_oom(err);
	p = path_join(dir, file);
	if (!p)
		return coi_error_oom(err);
	*ret = p;
	return 0;
}

/* The timestamp of a line, 0 when it has none we can read. */
static time_t line_time(const char *line, size_t len)
{
	const char *k = memmem(line, len, "\"timestamp\":\"", 13);
	struct tm tm = {0};
	char buf[20];

	if (!k || (size_t)(line + len - (k + 13)) < 19)
		return 0;
	memcpy(buf, k + 13, 19);
	buf[19] = 0;
	if (!strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

int audit_prune(const char *path, time_t cutoff, struct coi_error *err)
{
	_cleanup_buf_ struct buf in = BUF_INIT(AUDIT_FILE_MAX);
	_cleanup_buf_ struct buf out = BUF_INIT(AUDIT_FILE_MAX);
	const char *p, *end;
	int dropped = 0, r;

	r = read_file(path, &in, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (p = buf_str(&in), end = p + in.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		time_t t = line_time(p, len);

		if (t && t < cutoff)
			dropped++;
		else if (buf_append(&out, p, len) < 0)
			return coi_error_oom(err);
		p += len;
	}
	if (dropped == 0)
		return 0;
	r = write_file_atomic(path, out.data ? out.data : "", out.len, 0600, err);
	return r < 0 ? r : dropped;
}

int audit_prune_dir(const char *dir, time_t cutoff, struct coi_error *err)
{
	DIR *d = opendir(dir);
	int removed = 0;

	if (!d)
		return errno == ENOENT ? 0 : coi_error_errno(err, errno, "cannot open '%s'", dir);
	for (struct dirent *de; (de = readdir(d));) {
		const char *dot = strrchr(de->d_name, '.');
		struct stat st;

		if (de->d_name[0] == '.' || !dot || strcmp(dot, ".jsonl") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int audit_open(const char *container, unsigned retention_days, struct audit **ret,
               struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct audit *a;
	char *slash;
	int r;

	r = audit_path(container, &path, err);
	if (r < 0)
		return r;
	slash = strrchr(path, '/');
	*slash = 0;
	r = mkdir_p(path, 0700);
	*slash = '/';
	if (r < 0)
		return coi_error_errno(err, r, "cannot create the audit directory for '%s'", path);
	if (retention_days > 0) {
		time_t cutoff = time(NULL) - (time_t)retention_days * 86400;

		/* the logs of containers long gone, then the old lines of this one's */
		*slash = 0;
		r = audit_prune_dir(path, cutoff, err);
		*slash = '/';
		if (r >= 0)
			r = audit_prune(path, cutoff, err);
		if (r < 0)
			return coi_error_prefix(err, "pruning '%s'", path);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", path);
	a = calloc(1, sizeof(*a));
	if (!a)
		return coi_error_oom(err);
	a->fd = TAKE_FD(fd);
	a->path = TAKE_PTR(path);
	*ret = a;
	return 0;
}

int audit_write(struct audit *a, const struct threat *t, struct coi_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t len;
	ssize_t n;
	int r;

	r = threat_to_json(t, &line, err);
	if (r < 0)
		return r;
	len = strlen(line);
	line[len] = '\n'; /* json_dumps leaves room: replace the NUL, write len + 1 */
	n = write(a->fd, line, len + 1);
	line[len] = 0;
	if (n < 0)
		return coi_error_errno(err, errno, "cannot write '%s'", a->path);
	if ((size_t)n != len + 1)
		return coi_error_set(err, -EIO, "short write to '%s'", a->path);
	return 0;
}

struct audit *audit_close(struct audit *a)
{
	if (a) {
		if (a->fd >= 0)
			close(a->fd);
		free(a->path);
		free(a);
	}
	return NULL;
}
