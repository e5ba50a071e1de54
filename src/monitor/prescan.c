/* SPDX-License-Identifier: MIT */
/* prescan.c: see prescan.h. */
#include "monitor/prescan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/progid.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/path.h"
#include "util/proc.h"

#define PRESCAN_MAGIC "coiscan1" /* bump when the header changes */

struct header {
	char magic[8];
	char container[64];  /* whose it is: another's, even running, is not this one's */
	uint32_t progid_len; /* this build's progid_bytes() length */
	int32_t init_pid;
	uint64_t init_start; /* its start time (proc_starttime) */
	uint32_t self4;      /* network order */
	uint32_t pad;
};

int monitor_prescan_write(const char *container, pid_t init_pid, struct in_addr self4,
                          struct coi_error *err)
{
	_cleanup_free_ char *path = proc_run_path(container, "prescan");
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	struct progid *p = NULL;
	struct header h = {.magic = PRESCAN_MAGIC, .init_pid = init_pid, .self4 = self4.s_addr};
	unsigned long long start;
	const void *bytes;
	size_t len;
	int r;

	if (!path || proc_run_dir_make() < 0)
		return coi_error_oom(err);
	if (strlen(container) >= sizeof(h.container))
		return coi_error_set(err, -ENAMETOOLONG, "'%s': name too long", container);
	memcpy(h.container, container, strlen(container));
	r = proc_starttime(init_pid, &start);
	if (r < 0)
		return coi_error_errno(err, r, "the init of '%s' (pid %d) is gone", container,
		                       (int)init_pid);
	r = progid_new(init_pid, &p);
	if (r < 0)
		return coi_error_errno(err, r, "cannot scan the programs of '%s'", container);
	bytes = progid_bytes(p, &len);
	h.progid_len = (uint32_t)len;
	h.init_start = start;
	r = buf_append(&b, &h, sizeof(h)) < 0 || buf_append(&b, bytes, len) < 0 ? -ENOMEM : 0;
	progid_free(p);
	if (r < 0)
		return coi_error_oom(err);
	return write_file_atomic(path, b.data, b.len, 0600, err);
}

/* The file opened, as written by this user and nobody else (its directory is 0700: belt and
 * braces). */
static int open_own(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		close(fd);
		return -EBADMSG;
	}
	return fd;
}

static int read_own(const char *path, struct buf *b)
{
	_cleanup_close_ int fd = open_own(path);
	char chunk[16384];
	ssize_t n;

	if (fd < 0)
		return fd;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) < 0)
			return -EBADMSG; /* past the ceiling: not one of ours */
	return n < 0 ? -errno : 0;
}

/* This build's header, of container's init. */
static bool header_ok(const struct header *h, const char *container)
{
	return memcmp(h->magic, PRESCAN_MAGIC, sizeof(h->magic)) == 0 && h->init_pid > 1 &&
	       memchr(h->container, 0, sizeof(h->container)) &&
	       strcmp(h->container, container) == 0;
}

int monitor_prescan_init(const char *container, pid_t *ret_pid, unsigned long long *ret_start)
{
	_cleanup_free_ char *path = proc_run_path(container, "prescan");
	_cleanup_close_ int fd = path ? open_own(path) : -ENOMEM;
	struct header h;
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, &h, sizeof(h));
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(h) || !header_ok(&h, container))
		return -EBADMSG;
	*ret_pid = h.init_pid;
	*ret_start = h.init_start;
	return 0;
}

int monitor_prescan_take(const char *container, struct monitor_prescan *ret)
{
	_cleanup_free_ char *path = proc_run_path(container, "prescan");
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	unsigned long long start;
	struct header h;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_own(path, &b);
	(void)unlink(path);
	if (r < 0)
		return r;
	if (b.len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, b.data, sizeof(h));
	if (!header_ok(&h, container) || h.progid_len != b.len - sizeof(h))
		return -EBADMSG;
	/* the same process as when the filler scanned: a pid reused since starts later */
	if (proc_starttime(h.init_pid, &start) < 0 || start != h.init_start)
		return -ESTALE;
	r = progid_from_bytes((const char *)b.data + sizeof(h), h.progid_len, &ret->progid);
	if (r < 0)
		return r;
	ret->init_pid = h.init_pid;
	ret->self4.s_addr = h.self4;
	return 0;
}

void monitor_prescan_remove(const char *container)
{
	_cleanup_free_ char *path = proc_run_path(container, "prescan");

	if (path)
		(void)unlink(path);
}
