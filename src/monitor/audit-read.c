/* SPDX-License-Identifier: MIT */
/* audit-read.c: reading an audit log back: checking its chain against its head or an anchor
 * (coi audit verify), and its last finding (coi top, coi list). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/audit-chain.h"
#include "monitor/audit.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"

/* ---- checking a log ------------------------------------------------------------------------ */

int audit_head_path(const char *container, char **ret, struct coi_error *err)
{
	char *p = NULL;
	int r = audit_path(container, &p, err);

	if (r < 0)
		return r;
	strcpy(p + strlen(p) - strlen(".jsonl"), ".head"); /* shorter: fits */
	*ret = p;
	return 0;
}

/* Feeds fd's lines to v; a line longer than AUDIT_LINE_MAX is fed cut (it is no record). */
static int feed_lines(int fd, struct audit_verify *v)
{
	_cleanup_buf_ struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	char chunk[65536];
	bool cut = false;
	ssize_t n;
	int r;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (char *p = chunk, *end = chunk + n; p < end;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = (size_t)((nl ? nl : end) - p);

			if (!cut && buf_append(&line, p, take) < 0)
				cut = true; /* keep what fits; the rest of the line is skipped */
			p += take;
			if (!nl)
				break;
			p++;
			r = audit_verify_line(v, buf_str(&line), line.len);
			if (r < 0)
				return r;
			buf_reset(&line);
			cut = false;
		}
	}
	if (n < 0)
		return -errno;
	/* a last line without its newline (a torn write) is still a line */
	return line.len > 0 ? audit_verify_line(v, buf_str(&line), line.len) : 0;
}

int audit_verify_log(const char *container, const struct audit_link *anchor,
                     struct audit_verify *ret, struct coi_error *err)
{
	_cleanup_free_ char *path = NULL, *head_path = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct audit_link head;
	bool has_head;
	int r;

	r = audit_path(container, &path, err);
	if (r >= 0)
		r = audit_head_path(container, &head_path, err);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", path);
	/* the writer holds an exclusive lock while it appends a line and moves its head */
	if (flock(fd, LOCK_SH) < 0)
		return coi_error_errno(err, errno, "cannot lock '%s'", path);
	r = audit_head_read(head_path, &head);
	if (r < 0 && r != -ENOENT && r != -EBADMSG)
		return coi_error_errno(err, r, "cannot read '%s'", head_path);
	has_head = r >= 0;
	audit_verify_init(ret, has_head ? &head : NULL, anchor);
	r = feed_lines(fd, ret);
	if (r < 0)
		return coi_error_errno(err, r, "cannot read '%s'", path);
	audit_verify_end(ret);
	return 0;
}

/* ---- the last finding ---------------------------------------------------------------------- */

#define AUDIT_TAIL_READ (256u << 10)

static bool finding_of(const char *line, size_t len, enum threat_level min,
                       struct audit_finding *ret)
{
	_cleanup_json_ json_t *o = json_loadb(line, len, 0, NULL);
	const char *action = json_get_str(o, "action"), *ts = json_get_str(o, "timestamp");
	int level = threat_level_from_string(json_get_str(o, "level"));
	struct tm tm = {0};

	if (level < 0 || (enum threat_level)level < min || !action ||
	    strcmp(action, "deduplicated") == 0)
		return false;
	*ret = (struct audit_finding){.level = (enum threat_level)level};
	(void)snprintf(ret->title, sizeof(ret->title), "%s", json_get_str(o, "title") ?: "");
	(void)snprintf(ret->action, sizeof(ret->action), "%s", action);
	(void)snprintf(ret->timestamp, sizeof(ret->timestamp), "%s", ts ?: "");
	if (ts && strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm))
		ret->time = timegm(&tm);
	return true;
}

int audit_last_finding(const char *container, enum threat_level min, struct audit_finding *ret)
{
	_cleanup_free_ char *path = NULL, *b = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct audit_finding f;
	const char *p;
	struct stat st;
	off_t from;
	ssize_t n;
	int found = 0;

	if (audit_path(container, &path, NULL) < 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !(b = malloc(AUDIT_TAIL_READ + 1)))
		return -ENOMEM;
	from = st.st_size > (off_t)AUDIT_TAIL_READ ? st.st_size - (off_t)AUDIT_TAIL_READ : 0;
	n = pread(fd, b, AUDIT_TAIL_READ, from);
	if (n < 0)
		return -errno;
	b[n] = 0;
	/* a cut first line is no record: skip it */
	p = b;
	if (from) {
		p = strchr(b, '\n');
		p = p ? p + 1 : b + n;
	}
	while (*p) {
		const char *nl = strchrnul(p, '\n');

		if (finding_of(p, (size_t)(nl - p), min, &f)) {
			*ret = f;
			found = 1;
		}
		p = *nl ? nl + 1 : nl;
	}
	return found;
}
