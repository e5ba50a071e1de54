/* SPDX-License-Identifier: MIT */
/* immutable.c: see immutable.h. */
#include "session/immutable.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "session/protect.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/treewalk.h"

static int flags_get(int fd, int *ret)
{
	return ioctl(fd, FS_IOC_GETFLAGS, ret) < 0 ? -errno : 0;
}

static int flags_set(int fd, int flags)
{
	return ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0 ? -errno : 0;
}

struct immutable_ctx {
	int state_fd;
	int count;
};

static int make_immutable(int fd, const char *path, const struct stat *st, void *ud)
{
	struct immutable_ctx *c = ud;
	int flags, r;

	if (fd < 0)
		return 0; /* symlinks cannot carry the flag; the directory holding them does */
	r = flags_get(fd, &flags);
	if (r < 0)
		return r;
	if (flags & FS_IMMUTABLE_FL)
		return 0; /* already immutable: not ours to clear later */
	/* Record before flipping, so a crash in between leaves nothing set that is not recorded. */
	if (write(c->state_fd, path, strlen(path) + 1) < 0)
		return -errno;
	r = flags_set(fd, flags | FS_IMMUTABLE_FL);
	if (r < 0)
		return r;
	c->count++;
	return 0;
}

int protect_set_immutable(const struct protect_plan *p, const char *state_file,
                          struct coi_error *err)
{
	struct immutable_ctx c = {.state_fd = -EBADF};
	size_t budget = TREEWALK_MAX_ENTRIES;
	int r = 0;

	c.state_fd = open(state_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c.state_fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", state_file);
	for (size_t i = 0; i < p->n_entries && r >= 0; i++) {
		r = treewalk(p->entries[i].host, &budget, make_immutable, &c);
		if (r < 0)
			(void)coi_error_errno(err, r, "cannot make '%s' immutable",
			                      p->entries[i].rel);
	}
	(void)fsync(c.state_fd);
	(void)close(c.state_fd);
	return r < 0 ? r : c.count;
}

int protect_restore_immutable(const char *state_file, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 20);
	int r, failed = 0;

	r = read_file(state_file, &b, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t off = 0; off < b.len;) {
		const char *path = b.data + off;
		_cleanup_close_ int fd = -EBADF;
		int flags;

		off += strlen(path) + 1;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0 || flags_get(fd, &flags) < 0 ||
		    flags_set(fd, flags & ~FS_IMMUTABLE_FL) < 0) {
			if (errno != ENOENT && !failed++)
				(void)coi_error_errno(err, errno,
				                      "cannot clear the immutable flag of '%s'",
				                      path);
		}
	}
	if (failed)
		return err ? err->code : -EIO;
	if (unlink(state_file) < 0 && errno != ENOENT)
		return coi_error_errno(err, errno, "cannot remove '%s'", state_file);
	return 0;
}
