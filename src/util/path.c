/* SPDX-License-Identifier: MIT */
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/beneath.h"
#include "util/buf.h"
#include "util/error.h"

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *r;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (asprintf(&r, "%.*s%s%s", (int)la, a, (la && a[la - 1] == '/') ? "" : "/", b) < 0)
		return NULL;
	return r;
}

char *path_clean(const char *p)
{
	size_t n = strlen(p);
	char *r = malloc(n + 2), *o;

	if (!r)
		return NULL;
	o = r;
	*o++ = '/';
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (o > r + 1) {
				o--;
				while (o > r + 1 && o[-1] != '/')
					o--;
			}
		} else {
			memcpy(o, p, len);
			o += len;
			*o++ = '/';
		}
		p += len;
	}
	if (o > r + 1)
		o--;
	*o = '\0';
	return r;
}

int path_absolute(const char *p, char **ret, struct coi_error *err)
{
	_cleanup_free_ char *joined = NULL;
	char cwd[PATH_MAX];
	char *r;

	if (p[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return coi_error_errno(err, errno, "cannot read the current directory");
		joined = path_join(cwd, p);
		if (!joined)
			return coi_error_oom(err);
		p = joined;
	}
	r = path_clean(p);
	if (!r)
		return coi_error_oom(err);
	*ret = r;
	return 0;
}

bool path_is_inside(const char *p, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!p || !dir)
		return false;
	if (n == 1 && dir[0] == '/')
		return p[0] == '/';
	return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

bool path_is_safe_relative(const char *p)
{
	if (!p || !*p || *p == '/')
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		while (*p == '/')
			p++;
	}
	return true;
}

const char *path_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int read_file(const char *path, struct buf *b, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer for ever */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0)
		return coi_error_errno(err, errno, "cannot stat '%s'", path);
	if (S_ISDIR(st.st_mode))
		return coi_error_set(err, -EISDIR, "'%s' is a directory", path);
	/* /dev/null reads as empty ("no config": COI_CONFIG=/dev/null); every other device, a
	 * FIFO or a socket could block or never end */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		return buf_append(b, "", 0);
	if (!S_ISREG(st.st_mode))
		return coi_error_set(
		        err, -EINVAL,
		        "'%s' is not a regular file (a FIFO, socket or device), not read", path);
	r = fd_read_all(fd, b);
	if (r == -E2BIG)
		return coi_error_set(err, r, "'%s' is larger than %zu bytes", path, b->max);
	if (r == -ENOMEM)
		return coi_error_oom(err);
	if (r < 0)
		return coi_error_errno(err, r, "cannot read '%s'", path);
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct coi_error *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	const char *p = data;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return coi_error_oom(err);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot create '%s'", tmp);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			(void)unlink(tmp);
			return coi_error_errno(err, e, "cannot write '%s'", tmp);
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		(void)unlink(tmp);
		return coi_error_errno(err, e, "cannot replace '%s'", path);
	}
	return 0;
}

const char *home_dir(void)
{
	const char *h = secure_getenv("HOME");
	struct passwd *pw;

	if (h && h[0] == '/')
		return h;
	pw = getpwuid(getuid());
	if (pw && pw->pw_dir)
		return pw->pw_dir;
	return "/";
}

char *coi_dir(void)
{
	const char *e = secure_getenv("COI_HOME");

	if (e && e[0] == '/')
		return strdup(e);
	return path_join(home_dir(), ".coi");
}

char *source_tree_file(const char *rel)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *p = NULL, *slash;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* <tree>/build/<BUILD>/coi */
	for (int up = 0; up < 3 && (slash = strrchr(exe, '/')); up++)
		*slash = '\0';
	if (asprintf(&p, "%s/%s", exe, rel) < 0)
		return NULL;
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}
