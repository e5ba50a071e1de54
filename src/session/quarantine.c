/* SPDX-License-Identifier: MIT */
/* quarantine.c: see quarantine.h. */
#include "session/quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/beneath.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define REPORT_MAX   ((size_t)4 << 20)
#define KEEP_MAX     ((size_t)64 << 20) /* a file bigger than this is removed, not kept */
#define LINES_SHOWN  12
#define LINK_MAX_LEN 4096

int quarantine_init(struct quarantine *q, const char *workspace, const char *name,
                    struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir();
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	*q = (struct quarantine){.report = BUF_INIT(REPORT_MAX)};
	if (!localtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
		strcpy(stamp, "0");
	q->base = dir ? path_join(dir, "quarantine") : NULL;
	q->workspace = strdup(workspace);
	if (!q->base || !q->workspace || asprintf(&q->tag, "%s-%s", stamp, name) < 0) {
		quarantine_release(q);
		return coi_error_oom(err);
	}
	return 0;
}

void quarantine_release(struct quarantine *q)
{
	free(q->base);
	free(q->tag);
	free(q->dir);
	free(q->workspace);
	buf_release(&q->report);
	strv_free(q->lines);
	*q = (struct quarantine){0};
}

/* Control characters of what the agent named (paths, values) as '?': none reaches a terminal. */
static void defang(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			s[i] = '?';
		else if ((unsigned char)s[i] == 0x7f)
			s[i] = '?';
}

static void defang_line(char *s)
{
	defang(s, strlen(s));
	for (char *p = s; (p = strchr(p, '\n'));)
		*p = ' ';
}

static int make_dir(struct quarantine *q)
{
	_cleanup_free_ char *files = NULL;

	if (q->dir)
		return 0;
	q->dir = path_join(q->base, q->tag);
	files = q->dir ? path_join(q->dir, "files") : NULL;
	if (!files)
		return -ENOMEM;
	if (mkdir_p(files, 0700) < 0)
		return -errno;
	return 0;
}

/* A new file of the quarantine for rel: files/NNNN-<last component>. */
static int new_file(struct quarantine *q, const char *rel, mode_t mode, char **ret_path)
{
	_cleanup_free_ char *path = NULL;
	int r = make_dir(q), fd;

	if (r < 0)
		return r;
	if (asprintf(&path, "%s/files/%04zu-%s", q->dir, ++q->n_files, path_basename(rel)) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	*ret_path = TAKE_PTR(path);
	return fd;
}

static int vnote(struct quarantine *q, const char *fmt, va_list ap) COI_PRINTF(2, 0);
static int vnote(struct quarantine *q, const char *fmt, va_list ap)
{
	char *line;

	if (vasprintf(&line, fmt, ap) < 0)
		return -ENOMEM;
	defang_line(line);
	(void)buf_printf(&q->report, "- %s\n", line);
	return strv_consume(&q->lines, line);
}

void quarantine_failed(struct quarantine *q)
{
	q->n_failed++;
}

int quarantine_note(struct quarantine *q, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vnote(q, fmt, ap);
	va_end(ap);
	return r;
}

/* Single quotes for the shell, for the restore commands of the report. */
static int put_quoted(struct buf *b, const char *s)
{
	int r = buf_putc(b, '\'');

	for (; r >= 0 && *s; s++)
		r = *s == '\'' ? buf_puts(b, "'\\''") : buf_putc(b, *s);
	return r < 0 ? r : buf_putc(b, '\'');
}

static int restore_line(struct quarantine *q, const char *cmd, const char *from, const char *rel)
{
	_cleanup_free_ char *host = path_join(q->workspace, rel);
	int r;

	if (!host)
		return -ENOMEM;
	r = buf_printf(&q->report, "    to put it back: %s ", cmd);
	if (r >= 0)
		r = put_quoted(&q->report, from);
	if (r >= 0)
		r = buf_putc(&q->report, ' ');
	if (r >= 0)
		r = put_quoted(&q->report, host);
	return r < 0 ? r : buf_putc(&q->report, '\n');
}

static int copy_out(struct quarantine *q, int fd, const char *rel, mode_t mode, char **ret_path)
{
	_cleanup_close_ int out =
	        new_file(q, rel, mode & 0644 ? mode & 0666 & ~0111 : 0600, ret_path);

	return out < 0 ? out : fd_copy(fd, out, KEEP_MAX);
}

/* Keep what dirfd/name is (a copy, or where a symlink pointed) before it is removed. */
static int keep_entry(struct quarantine *q, int dirfd, const char *name, const char *rel,
                      const struct stat *st)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	char target[LINK_MAX_LEN];
	ssize_t n;
	int r;

	if (S_ISLNK(st->st_mode)) {
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		r = buf_printf(&q->report, "    it was a symlink to '%s'\n", target);
		if (r >= 0)
			r = buf_puts(&q->report, "    to put it back: ln -s ");
		if (r >= 0)
			r = put_quoted(&q->report, target);
		if (r >= 0 && !(path = path_join(q->workspace, rel)))
			r = -ENOMEM;
		if (r >= 0)
			r = buf_putc(&q->report, ' ');
		if (r >= 0)
			r = put_quoted(&q->report, path);
		return r < 0 ? r : buf_putc(&q->report, '\n');
	}
	if (!S_ISREG(st->st_mode))
		return buf_puts(&q->report, "    it was not a regular file: nothing kept\n");
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = copy_out(q, fd, rel, st->st_mode, &path);
	if (r == -E2BIG)
		return buf_printf(&q->report, "    larger than %zu bytes: removed, not kept\n",
		                  KEEP_MAX);
	if (r < 0)
		return r;
	r = buf_printf(&q->report, "    kept as %s (mode %o, now without execute bits)\n", path,
	               (unsigned)(st->st_mode & 07777));
	if (r >= 0) {
		char cmd[32];

		(void)snprintf(cmd, sizeof(cmd), "install -m %o", (unsigned)(st->st_mode & 0777));
		r = restore_line(q, cmd, path, rel);
	}
	return r;
}

int quarantine_move(struct quarantine *q, int dirfd, const char *name, const char *rel,
                    const char *why)
{
	struct stat st;
	int r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	r = buf_printf(&q->report, "- %s: %s\n", rel, why);
	if (r < 0)
		return r;
	r = keep_entry(q, dirfd, name, rel, &st);
	if (r < 0)
		(void)buf_printf(&q->report, "    could not keep a copy: %s\n", strerror(-r));
	if (unlinkat(dirfd, name, 0) < 0) {
		int e = errno;
		char *line = NULL;

		q->n_failed++;
		(void)buf_printf(&q->report, "    COULD NOT BE REMOVED: %s (remove it yourself)\n",
		                 strerror(e));
		if (asprintf(
		            &line,
		            "'%s' (%s) could not be removed: %s; remove it before you run git there",
		            rel, why, strerror(e)) < 0)
			return -ENOMEM;
		defang_line(line);
		if (strv_consume(&q->lines, line) < 0)
			return -ENOMEM;
		return 0;
	}
	q->n_moved++;
	if (!strv_contains(q->lines, rel) && strv_length(q->lines) < 1000) {
		char *line = NULL;

		if (asprintf(&line, "'%s': %s", rel, why) < 0)
			return -ENOMEM;
		defang_line(line);
		if (strv_consume(&q->lines, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

int quarantine_keep(struct quarantine *q, const char *rel, const void *data, size_t len,
                    char **ret_path)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = new_file(q, rel, 0600, &path);
	int r;

	if (fd < 0)
		return fd;
	r = fd_write_all(fd, data, len);
	if (r >= 0)
		r = buf_printf(&q->report, "    the file as it was is kept as %s\n", path);
	if (r >= 0)
		r = restore_line(q, "cp", path, rel);
	if (r >= 0)
		q->n_moved++;
	if (r >= 0 && ret_path)
		*ret_path = TAKE_PTR(path);
	return r;
}

static int write_report(struct quarantine *q, struct coi_error *err)
{
	_cleanup_free_ char *path = path_join(q->dir, "REPORT");
	_cleanup_buf_ struct buf head = BUF_INIT(REPORT_MAX + 4096);
	int r;

	if (!path)
		return coi_error_oom(err);
	r = buf_printf(
	        &head,
	        "coi quarantine %s\n"
	        "workspace: %s\n\n"
	        "At the end of the session these were found where the host's git (or an\n"
	        "editor) would run them, and were written during the session. They were\n"
	        "moved here, or the keys that run programs were taken out of the file (the\n"
	        "file as it was is kept here too). Nothing else in the workspace was changed.\n"
	        "Review each before you put it back.\n\n",
	        q->tag, q->workspace);
	if (r >= 0)
		r = buf_append(&head, q->report.data ? q->report.data : "", q->report.len);
	if (r < 0)
		return coi_error_oom(err);
	defang(head.data, head.len); /* a path or value with control characters shows them as ? */
	return write_file_atomic(path, head.data, head.len, 0600, err);
}

int quarantine_close(struct quarantine *q, char ***ret_lines, struct coi_error *err)
{
	_cleanup_strv_free_ char **out = NULL;
	char *head = NULL;
	size_t n = strv_length(q->lines);
	int r;

	if (ret_lines)
		*ret_lines = NULL;
	if (!n)
		return 0;
	if (q->dir) {
		r = write_report(q, err);
		if (r < 0)
			return r;
	}
	if (asprintf(&head,
	             "%zu thing(s) written during the session where the host's git would run them "
	             "were neutralised%s%s%s%s",
	             n - q->n_failed, q->dir ? " (moved to " : "", q->dir ? q->dir : "",
	             q->dir ? "; its REPORT says how to put each back)" : "",
	             q->n_failed ? "; SOME COULD NOT BE: remove them yourself before you run git "
	                           "there (listed below)"
	                         : "") < 0 ||
	    strv_consume(&out, head) < 0)
		return coi_error_oom(err);
	for (size_t i = 0; i < n && i < LINES_SHOWN; i++)
		if (strv_push(&out, q->lines[i]) < 0)
			return coi_error_oom(err);
	if (n > LINES_SHOWN) {
		char *more = NULL;

		if (asprintf(&more, "and %zu more (see the REPORT)", n - LINES_SHOWN) < 0 ||
		    strv_consume(&out, more) < 0)
			return coi_error_oom(err);
	}
	if (ret_lines)
		*ret_lines = TAKE_PTR(out);
	return 0;
}
