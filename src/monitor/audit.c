/* SPDX-License-Identifier: MIT */
/* audit.c: the JSONL audit writer and its retention. Encoding goes through jansson; the typed
 * struct threat is the only input, so the schema lives in one function (threat_to_object(), in
 * audit-threat.c). Reading a log back (verify, the last finding) is in audit-read.c. */
#include "monitor/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/audit-chain.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/path.h"

enum note { NOTE_NONE, NOTE_TRUNCATED, NOTE_HEAD_MISSING };

struct audit {
	int fd;      /* the log, O_APPEND */
	int head_fd; /* its head file */
	char *path;
	char *head_path;
	struct audit_link link; /* the last record in the log, as this writer knows it */
	off_t end;              /* the log's size after it: another size means another writer */
	dev_t dev;
	ino_t ino;
	enum note note; /* what audit_open found, to be written first */
	struct audit_link note_want;
	uint64_t note_found;
	audit_sink_fn sink;
	void *sink_data;
};

static char *dump(const json_t *o)
{
	return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

int threat_to_json(const struct threat *t, char **ret, struct coi_error *err)
{
	_cleanup_json_ json_t *o = threat_to_object(t);
	char *s = o ? dump(o) : NULL;

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

/* ---- the writer ---------------------------------------------------------------------------- */

static void link_reset(struct audit_link *l)
{
	l->seq = 0;
	memcpy(l->hash, AUDIT_GENESIS, sizeof(l->hash));
}

/* The last line of fd (size bytes, the last one a newline), into ret: where the chain goes on. A
 * line that is no record (a log begun by an older coi, or damaged) starts a new chain at seq 1
 * linked to its hash; verify shows the damage. */
static int read_last_link(int fd, off_t size, struct audit_link *ret)
{
	_cleanup_free_ char *b = NULL;
	size_t want = 65536;
	struct audit_line l;

	link_reset(ret);
	if (size <= 1)
		return 0;
	for (;;) {
		size_t n = (size_t)(size - 1) < want ? (size_t)(size - 1) : want;
		char *nl;

		free(b);
		b = malloc(n ? n : 1);
		if (!b)
			return -ENOMEM;
		if (pread(fd, b, n, size - 1 - (off_t)n) != (ssize_t)n)
			return -EIO;
		nl = memrchr(b, '\n', n);
		if (nl || n == (size_t)(size - 1)) {
			const char *start = nl ? nl + 1 : b;
			size_t len = (size_t)(b + n - start);

			if (audit_line_parse(start, len, &l) < 0)
				return -EIO;
			if (l.kind == AUDIT_LINE_RECORD)
				ret->seq = l.seq;
			if (l.kind == AUDIT_LINE_PRUNED)
				*ret = l.pruned;
			else
				memcpy(ret->hash, l.hash, sizeof(l.hash));
			return 0;
		}
		if (want >= AUDIT_LINE_MAX)
			return 0; /* no record is this long: start over */
		want = AUDIT_LINE_MAX;
	}
}

/* Under the lock: learns where the chain stands from the file itself. A last line without its
 * newline (a writer that died mid-line) is ended first, so the next record starts a line. */
static int sync_tail(struct audit *a)
{
	struct stat st;
	char c = 0;

	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (st.st_size > 0 && (pread(a->fd, &c, 1, st.st_size - 1) != 1 || c != '\n')) {
		if (write(a->fd, "\n", 1) != 1)
			return -EIO;
		st.st_size++;
	}
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->end = st.st_size;
	return read_last_link(a->fd, st.st_size, &a->link);
}

/* The log was replaced (pruned by another process) or removed since this writer opened it. */
static int reopen_if_replaced(struct audit *a)
{
	struct stat st;
	int fd;

	if (stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
		return 0;
	fd = open(a->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(a->fd); /* drops the lock on the old file */
	a->fd = fd;
	a->end = -1;
	return 0;
}

static int lock_and_sync(struct audit *a)
{
	struct stat st;
	int r;

	if (flock(a->fd, LOCK_EX) < 0)
		return -errno;
	r = reopen_if_replaced(a);
	if (r >= 0 && (fstat(a->fd, &st) < 0 || st.st_size != a->end))
		r = sync_tail(a);
	return r;
}

static void write_head(struct audit *a)
{
	char text[AUDIT_HEAD_SIZE + 1];

	audit_head_format(&a->link, text);
	if (a->head_fd >= 0 && pwrite(a->head_fd, text, AUDIT_HEAD_SIZE, 0) != AUDIT_HEAD_SIZE)
		log_debug("audit: cannot write '%s', ignoring", a->head_path);
}

/* A record beyond what a reader accepts loses its evidence, never the record. */
static char *dump_capped(json_t *o)
{
	char *s = dump(o);
	size_t len = s ? strlen(s) : 0;

	if (len < AUDIT_LINE_MAX)
		return s;
	free(s);
	if (json_object_set_new(o, "evidence", json_object()) < 0 ||
	    json_object_set_new(o, "evidence_dropped_bytes", json_integer((json_int_t)len)) < 0)
		return NULL;
	return dump(o);
}

/* Adds the chain fields to o and appends it. Returns the line (free() it) in *ret_line. */
static int append_record(struct audit *a, json_t *o, char **ret_line, struct coi_error *err)
{
	_cleanup_free_ char *line = NULL;
	struct audit_link next;
	size_t len;
	ssize_t n;
	int r;

	r = lock_and_sync(a);
	if (r < 0) {
		(void)flock(a->fd, LOCK_UN);
		return coi_error_errno(err, r, "cannot append to '%s'", a->path);
	}
	next.seq = a->link.seq + 1;
	if (json_object_set_new(o, "seq", json_integer((json_int_t)next.seq)) < 0 ||
	    json_object_set_new(o, "prev", json_string(a->link.hash)) < 0 ||
	    !(line = dump_capped(o)) || sha256_hex(line, strlen(line), next.hash) < 0) {
		(void)flock(a->fd, LOCK_UN);
		return coi_error_oom(err);
	}
	len = strlen(line);
	line[len] = '\n'; /* json_dumps leaves room: replace the NUL, write len + 1 */
	n = write(a->fd, line, len + 1);
	line[len] = 0;
	if (n == (ssize_t)(len + 1)) {
		a->link = next;
		a->end += n;
		write_head(a);
	}
	(void)flock(a->fd, LOCK_UN);
	if (n < 0)
		return coi_error_errno(err, errno, "cannot write '%s'", a->path);
	if ((size_t)n != len + 1)
		return coi_error_set(err, -EIO, "short write to '%s'", a->path);
	*ret_line = TAKE_PTR(line);
	return 0;
}

static int write_threat(struct audit *a, const struct threat *t, json_t *extra,
                        struct coi_error *err)
{
	_cleanup_json_ json_t *o = threat_to_object(t);
	_cleanup_free_ char *line = NULL;
	int r;

	if (!o || (extra && json_object_set(o, "audit", extra) < 0))
		return coi_error_oom(err);
	r = append_record(a, o, &line, err);
	if (r >= 0 && a->sink)
		a->sink(t, line, &a->link, a->sink_data);
	return r;
}

int audit_flush_note(struct audit *a, struct coi_error *err)
{
	_cleanup_json_ json_t *extra = NULL;
	struct threat t = {.level = THREAT_WARNING,
	                   .category = "audit",
	                   .action = ACTION_LOGGED,
	                   .rule = "audit-chain"};
	char desc[320];

	if (a->note == NOTE_NONE)
		return 0;
	threat_init(&t);
	if (a->note == NOTE_TRUNCATED) {
		t.title = "Audit log truncated";
		(void)snprintf(
		        desc, sizeof(desc),
		        "the log ended at record %" PRIu64 ", but its head file names record "
		        "%" PRIu64 ": records were removed from its end while no monitor ran",
		        a->note_found, a->note_want.seq);
		extra = json_pack("{s:s, s:I, s:s, s:I}", "event", "truncated", "expected_seq",
		                  (json_int_t)a->note_want.seq, "expected_hash", a->note_want.hash,
		                  "found_seq", (json_int_t)a->note_found);
	} else {
		t.title = "Audit log head missing";
		(void)snprintf(desc, sizeof(desc),
		               "the head file of this log was gone when the monitor reopened it "
		               "(record %" PRIu64
		               " was the last): whether records were removed from "
		               "its end cannot be known",
		               a->note_found);
		extra = json_pack("{s:s, s:I}", "event", "head_missing", "found_seq",
		                  (json_int_t)a->note_found);
	}
	t.description = desc;
	a->note = NOTE_NONE;
	if (!extra)
		return coi_error_oom(err);
	return write_threat(a, &t, extra, err);
}

int audit_write(struct audit *a, const struct threat *t, struct coi_error *err)
{
	int r = audit_flush_note(a, err);

	return r < 0 ? r : write_threat(a, t, NULL, err);
}

void audit_set_sink(struct audit *a, audit_sink_fn fn, void *userdata)
{
	a->sink = fn;
	a->sink_data = userdata;
	if (audit_flush_note(a, NULL) < 0)
		log_debug("audit: cannot record the state of '%s', ignoring", a->path);
}

/* Compares the end of the log with its head, for the note. */
static void check_head(struct audit *a)
{
	struct audit_link head;
	int r = audit_head_read(a->head_path, &head);

	if (r < 0) {
		/* a log with records but no head: it was removed (a fresh log has neither) */
		if (a->link.seq > 0)
			a->note = NOTE_HEAD_MISSING;
	} else if (head.seq > a->link.seq ||
	           (head.seq == a->link.seq && strcmp(head.hash, a->link.hash) != 0)) {
		a->note = NOTE_TRUNCATED;
		a->note_want = head;
	}
	a->note_found = a->link.seq;
}

static int open_files(struct audit *a, struct coi_error *err)
{
	int r;

	a->fd = open(a->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", a->path);
	a->head_fd = open(a->head_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->head_fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", a->head_path);
	if (flock(a->fd, LOCK_EX) < 0)
		return coi_error_errno(err, errno, "cannot lock '%s'", a->path);
	r = sync_tail(a);
	if (r >= 0)
		check_head(a);
	(void)flock(a->fd, LOCK_UN);
	return r < 0 ? coi_error_errno(err, r, "cannot read '%s'", a->path) : 0;
}

int audit_open(const char *container, unsigned retention_days, struct audit **ret,
               struct coi_error *err)
{
	_cleanup_(audit_closep) struct audit *a = NULL;
	char *slash;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return coi_error_oom(err);
	a->fd = a->head_fd = -EBADF;
	link_reset(&a->link);
	r = audit_path(container, &a->path, err);
	if (r >= 0)
		r = audit_head_path(container, &a->head_path, err);
	if (r < 0)
		return r;
	slash = strrchr(a->path, '/');
	*slash = 0;
	r = mkdir_p(a->path, 0700);
	if (r >= 0 && retention_days > 0) {
		time_t cutoff = time(NULL) - (time_t)retention_days * 86400;

		/* the logs of containers long gone, then the old lines of this one's */
		r = audit_prune_dir(a->path, cutoff, err);
		*slash = '/';
		if (r >= 0)
			r = audit_prune(a->path, cutoff, err);
		if (r < 0)
			return coi_error_prefix(err, "pruning '%s'", a->path);
	} else if (r < 0) {
		return coi_error_errno(err, r, "cannot create the audit directory '%s'", a->path);
	}
	*slash = '/';
	r = open_files(a, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(a);
	return 0;
}

struct audit *audit_close(struct audit *a)
{
	if (!a)
		return NULL;
	if (a->fd >= 0 && audit_flush_note(a, NULL) < 0)
		log_debug("audit: cannot record the state of '%s', ignoring", a->path);
	if (a->fd >= 0)
		close(a->fd);
	if (a->head_fd >= 0)
		close(a->head_fd);
	free(a->path);
	free(a->head_path);
	free(a);
	return NULL;
}

/* ---- retention ----------------------------------------------------------------------------- */

int audit_prune_dir(const char *dir, time_t cutoff, struct coi_error *err)
{
	DIR *d = opendir(dir);
	int removed = 0;

	if (!d)
		return errno == ENOENT ? 0 : coi_error_errno(err, errno, "cannot open '%s'", dir);
	for (struct dirent *de; (de = readdir(d));) {
		const char *dot = strrchr(de->d_name, '.');
		char head[NAME_MAX + 1];
		struct stat st;

		if (de->d_name[0] == '.' || !dot || strcmp(dot, ".jsonl") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
		(void)snprintf(head, sizeof(head), "%.*s.head", (int)(dot - de->d_name),
		               de->d_name);
		(void)unlinkat(dirfd(d), head, 0);
	}
	closedir(d);
	return removed;
}

/* The pruning record: removed records, and the last of them. */
static char *marker_line(uint64_t records, const struct audit_link *last, time_t cutoff)
{
	_cleanup_json_ json_t *o = NULL;
	struct threat t = {.level = THREAT_INFO,
	                   .category = "audit",
	                   .title = "Audit log pruned",
	                   .action = ACTION_LOGGED,
	                   .rule = "audit-retention"};
	char desc[160], day[16];
	struct tm tm;

	threat_init(&t);
	gmtime_r(&cutoff, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	(void)snprintf(desc, sizeof(desc),
	               "%" PRIu64 " records written before %s were removed "
	               "(audit_log_retention_days); the next record links to the last of them",
	               records, day);
	t.description = desc;
	o = threat_to_object(&t);
	if (!o || json_object_set_new(o, "audit",
	                              json_pack("{s:s, s:I, s:I, s:s}", "event", "pruned",
	                                        "records", (json_int_t)records, "seq",
	                                        (json_int_t)last->seq, "hash", last->hash)) < 0)
		return NULL;
	return dump(o);
}

/* Where the front of text may be cut: after the last leading line older than cutoff that comes
 * before any break of the chain. ret_last gets the link the rest follows, ret_records the count
 * removed (a marker's own count included). */
static int prune_point(const char *text, size_t len, time_t cutoff, size_t *ret_cut,
                       struct audit_link *ret_last, uint64_t *ret_records)
{
	struct audit_verify v;
	uint64_t records = 0;
	size_t cut = 0;

	audit_verify_init(&v, NULL, NULL);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		struct audit_line l;

		if (audit_line_parse(p, n, &l) < 0 || audit_verify_line(&v, p, n) < 0)
			return -EIO;
		if (v.problem != AUDIT_INTACT ||
		    (l.kind != AUDIT_LINE_PRUNED && (l.time == 0 || l.time >= cutoff)))
			break;
		if (l.kind == AUDIT_LINE_PRUNED) {
			records += l.pruned_records;
			*ret_last = l.pruned;
		} else {
			records++;
			ret_last->seq = l.kind == AUDIT_LINE_RECORD ? l.seq : v.link.seq;
			memcpy(ret_last->hash, l.hash, sizeof(l.hash));
		}
		p += n + (nl ? 1 : 0);
		cut = (size_t)(p - text);
	}
	*ret_cut = cut;
	*ret_records = records;
	return 0;
}

int audit_prune(const char *path, time_t cutoff, struct coi_error *err)
{
	_cleanup_buf_ struct buf in = BUF_INIT(AUDIT_FILE_MAX);
	_cleanup_buf_ struct buf out = BUF_INIT(AUDIT_FILE_MAX);
	_cleanup_free_ char *marker = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct audit_link last;
	struct audit_line first;
	uint64_t records = 0, before;
	size_t cut = 0;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : coi_error_errno(err, errno, "cannot open '%s'", path);
	/* held until the new file has replaced this one: no writer appends to what is dropped */
	if (flock(fd, LOCK_EX) < 0)
		return coi_error_errno(err, errno, "cannot lock '%s'", path);
	r = read_file(path, &in, err);
	if (r < 0)
		return r;
	link_reset(&last);
	r = prune_point(buf_str(&in), in.len, cutoff, &cut, &last, &records);
	if (r < 0)
		return coi_error_errno(err, r, "cannot read '%s'", path);
	if (audit_line_parse(buf_str(&in), strcspn(buf_str(&in), "\n"), &first) < 0)
		return coi_error_errno(err, -EIO, "cannot read '%s'", path);
	before = first.kind == AUDIT_LINE_PRUNED ? first.pruned_records : 0;
	if (records == before)
		return 0; /* nothing to drop, or only the marker already there */
	marker = marker_line(records, &last, cutoff);
	if (!marker || buf_puts(&out, marker) < 0 || buf_putc(&out, '\n') < 0 ||
	    buf_append(&out, in.data + cut, in.len - cut) < 0)
		return coi_error_oom(err);
	r = write_file_atomic(path, out.data, out.len, 0600, err);
	return r < 0 ? r : (int)(records - before);
}
