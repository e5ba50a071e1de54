/* SPDX-License-Identifier: MIT */
/* treewalk.c: see treewalk.h. */
#include "util/treewalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/path.h"

static int walk(const char *path, int depth, size_t *budget, treewalk_fn fn, void *ud)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	DIR *d;
	int r;

	if ((*budget)-- == 0)
		return -E2BIG;
	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode) || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
		return fn(-1, path, &st, ud);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = fn(fd, path, &st, ud);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	if (depth >= TREEWALK_MAX_DEPTH)
		return -ELOOP;
	d = fdopendir(dup(fd));
	if (!d)
		return -errno;
	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_free_ char *child = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = path_join(path, de->d_name);
		r = child ? walk(child, depth + 1, budget, fn, ud) : -ENOMEM;
		if (r < 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

int treewalk(const char *path, size_t *budget, treewalk_fn fn, void *ud)
{
	return walk(path, 0, budget, fn, ud);
}
