/* SPDX-License-Identifier: MIT */
/* sweep-record.c: see sweep-record.h. */
#include "session/sweep-record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/quarantine.h"
#include "util/beneath.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/path.h"

int sweep_put_escaped(struct buf *b, const char *s)
{
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)s; r >= 0 && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._/+-", *p))
			r = buf_putc(b, (char)*p);
		else
			r = buf_printf(b, "%%%02x", *p);
	}
	return r;
}

/* In place; false for a malformed escape or an escaped NUL. */
bool sweep_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned v;

		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if (sscanf(s + 1, "%2x", &v) != 1 || v == 0 || !s[1] || !s[2])
			return false;
		*o++ = (char)v;
		s += 2;
	}
	*o = '\0';
	return true;
}

int sweep_put_rec(struct buf *b, const char *kind, const char *a, const char *c, const char *sha)
{
	int r = buf_printf(b, "%s ", kind);

	if (r >= 0)
		r = sweep_put_escaped(b, a);
	if (r >= 0 && c) {
		r = buf_putc(b, ' ');
		if (r >= 0)
			r = sweep_put_escaped(b, c);
	}
	if (r >= 0 && sha)
		r = buf_printf(b, " %s", sha);
	return r < 0 ? r : buf_putc(b, '\n');
}

/* The SHA-256 of what entry name of dirfd is: a regular file's content, a symlink's target. */
int sweep_entry_sha(int dirfd, const char *name, const struct stat *st,
                    char sha[SHA256_HEX_LEN + 1])
{
	_cleanup_buf_ struct buf b = BUF_INIT(HOOK_MAX);
	_cleanup_close_ int fd = -EBADF;
	char target[LINK_MAX_LEN + 2] = "l:";
	ssize_t n;
	int r;

	if (S_ISLNK(st->st_mode)) {
		n = readlinkat(dirfd, name, target + 2, LINK_MAX_LEN - 1);
		if (n < 0)
			return -errno;
		return sha256_hex(target, (size_t)n + 2, sha);
	}
	if (!S_ISREG(st->st_mode))
		return sha256_hex("special", 7, sha);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, &b);
	if (r == -E2BIG)
		return sha256_hex("too large", 9, sha); /* changed or not, taken as new */
	if (r < 0)
		return r;
	return sha256_hex(b.data, b.len, sha);
}

bool sweep_is_sample(const char *name)
{
	size_t n = strlen(name);

	return n > 7 && strcmp(name + n - 7, ".sample") == 0;
}

/* Each entry of directory fd but . and .. */
int sweep_each_entry(int fd, sweep_entry_fn fn, void *ud)
{
	DIR *d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 3));
	int r = 0;

	if (!d)
		return -errno;
	for (struct dirent *de; r >= 0 && (de = readdir(d));) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		r = fn(fd, de->d_name, &st, ud);
	}
	closedir(d);
	return r;
}

/* The hooks directory of git directory rel (open as gitfd): itself, or where a "hooks" symlink
 * leads inside the workspace (a symlink on the way, or a target outside: -ELOOP/-EXDEV). */
int sweep_open_hooks(int root, int gitfd, const char *rel, char **ret_link)
{
	_cleanup_free_ char *hooks = path_join(rel, "hooks"), *joined = NULL, *clean = NULL;
	char target[LINK_MAX_LEN];
	ssize_t n;
	int fd;

	if (!hooks)
		return -ENOMEM;
	fd = beneath_open(root, hooks, O_RDONLY | O_DIRECTORY, 0);
	if (fd != -ELOOP)
		return fd;
	n = readlinkat(gitfd, "hooks", target, sizeof(target) - 1);
	if (n <= 0)
		return -ELOOP;
	target[n] = '\0';
	if (ret_link && !(*ret_link = strdup(target)))
		return -ENOMEM;
	if (target[0] == '/' || asprintf(&joined, "/%s/%s", rel, target) < 0 ||
	    !(clean = path_clean(joined)) || strcmp(clean, "/") == 0)
		return -EXDEV;
	return beneath_open(root, clean + 1, O_RDONLY | O_DIRECTORY, 0);
}
