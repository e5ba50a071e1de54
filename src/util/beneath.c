/* SPDX-License-Identifier: MIT */
/* beneath.c: see beneath.h. */
#include "util/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/cleanup.h"

#define NAME_MAX_LEN 255

/* 1 while openat2 may work, 0 once the kernel (or a seccomp filter) said it does not exist */
static int have_openat2 = 1;

static int open2(int root, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
	        .flags = (unsigned long long)(flags | O_CLOEXEC | O_NOFOLLOW),
	        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* One component at a time: each directory on the way opened with O_NOFOLLOW from the one before.
 */
static int open_walk(int root, const char *rel, int flags, mode_t mode)
{
	_cleanup_close_ int dir = -EBADF;
	int cur = root;

	for (;;) {
		size_t len = strcspn(rel, "/");
		char name[NAME_MAX_LEN + 1];
		const char *next = rel + len;
		int fd;

		while (*next == '/')
			next++;
		if (len == 0 || len > NAME_MAX_LEN)
			return len ? -ENAMETOOLONG : -EINVAL;
		memcpy(name, rel, len);
		name[len] = '\0';
		if (strcmp(name, "..") == 0)
			return -EXDEV;
		if (!*next) {
			fd = openat(cur, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
			return fd < 0 ? -errno : fd;
		}
		fd = openat(cur, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return -errno;
		closep(&dir);
		dir = cur = fd;
		rel = next;
	}
}

int beneath_open(int root, const char *rel, int flags, mode_t mode)
{
	int fd;

	if (!rel || !*rel || rel[0] == '/')
		return -EINVAL;
	if (have_openat2) {
		fd = open2(root, rel, flags, mode);
		if (fd != -ENOSYS && fd != -EPERM && fd != -E2BIG)
			return fd;
		if (fd == -ENOSYS || fd == -E2BIG)
			have_openat2 = 0;
	}
	return open_walk(root, rel, flags, mode);
}

int beneath_open_parent(int root, const char *rel, const char **ret_name)
{
	const char *slash = strrchr(rel, '/');
	char dir[4096];
	int fd;

	if (!slash) {
		fd = fcntl(root, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
		*ret_name = rel;
		return fd;
	}
	if ((size_t)(slash - rel) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	fd = beneath_open(root, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0)
		*ret_name = slash + 1;
	return fd;
}

/* One read, retried on EINTR: the byte count, 0 at the end, -errno. */
static ssize_t read_some(int fd, char *chunk, size_t size)
{
	ssize_t n;

	do
		n = read(fd, chunk, size);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int fd_read_all(int fd, struct buf *b)
{
	char chunk[16384];
	ssize_t n;

	while ((n = read_some(fd, chunk, sizeof(chunk))) > 0) {
		int r = buf_append(b, chunk, (size_t)n);

		if (r < 0)
			return r;
	}
	if (n < 0)
		return (int)n;
	return b->data ? 0 : buf_append(b, "", 0);
}

int fd_copy(int in, int out, size_t max)
{
	char chunk[16384];
	size_t total = 0;
	ssize_t n;

	while ((n = read_some(in, chunk, sizeof(chunk))) > 0) {
		int r;

		total += (size_t)n;
		if (total > max)
			return -E2BIG;
		r = fd_write_all(out, chunk, (size_t)n);
		if (r < 0)
			return r;
	}
	return (int)n;
}

int beneath_read(int root, const char *rel, struct buf *b)
{
	_cleanup_close_ int fd = beneath_open(root, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return fd_read_all(fd, b);
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
