/* SPDX-License-Identifier: MIT */
/* idmount.c: see idmount.h. The user namespace that carries the mapping belongs to a short-lived
 * child that does nothing but exist while we open its namespace. */
#include "session/idmount.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/path.h"

#define MOUNTS_DIR "/run/coi/mounts"

char *idmount_target(const char *container)
{
	return path_join(MOUNTS_DIR, container);
}

static int write_proc(pid_t pid, const char *file, const char *text)
{
	char path[64];
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	return n < 0 ? -errno : 0;
}

/* A user namespace fd with uid_map "disk_uid host_uid 1" (and the same for gids). */
static int make_userns(uid_t disk_uid, gid_t disk_gid, uid_t host_uid, gid_t host_gid)
{
	int pipefd[2], r, fd;
	char map[64], path[64];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		char c;

		close(pipefd[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		/* wait until the parent has opened our namespace (or gone away) */
		_exit(read(pipefd[0], &c, 1) < 0 ? 1 : 0);
	}
	close(pipefd[0]);
	/* The child must have unshared before we write its maps: poll its ns link, bounded. */
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	r = -ETIMEDOUT;
	for (int i = 0; i < 2000; i++) {
		struct stat a, b;

		if (stat("/proc/self/ns/user", &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino != b.st_ino) {
			r = 0;
			break;
		}
		usleep(500);
	}
	if (r == 0) {
		(void)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)disk_uid,
		               (unsigned)host_uid);
		r = write_proc(pid, "uid_map", map);
	}
	if (r == 0)
		r = write_proc(pid, "setgroups", "deny");
	if (r == 0) {
		(void)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)disk_gid,
		               (unsigned)host_gid);
		r = write_proc(pid, "gid_map", map);
	}
	fd = r == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (r == 0 && fd < 0)
		r = -errno;
	close(pipefd[1]);
	(void)waitpid(pid, NULL, 0);
	return r < 0 ? r : fd;
}

/* The mount of the directory open at dirfd, idmapped, at target. */
static int idmount_fd(int dirfd, const char *source, const char *target, uid_t disk_uid,
                      gid_t disk_gid, uid_t host_uid, gid_t host_gid, struct coi_error *err)
{
	_cleanup_close_ int userns = -EBADF, tree = -EBADF;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP};
	int r;

	r = mkdir_p(target, 0700);
	if (r < 0)
		return coi_error_errno(err, r, "cannot create '%s'", target);
	userns = make_userns(disk_uid, disk_gid, host_uid, host_gid);
	if (userns < 0)
		return coi_error_errno(err, userns, "cannot make the user namespace for '%s'",
		                       target);
	tree = (int)syscall(SYS_open_tree, dirfd, "",
	                    AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return coi_error_errno(err, errno, "cannot clone a mount of '%s'", source);
	attr.userns_fd = (uint64_t)userns;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return coi_error_errno(err, errno,
		                       "cannot idmap a mount of '%s' (the filesystem must support "
		                       "idmapped mounts)",
		                       source);
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return coi_error_errno(err, errno, "cannot mount at '%s'", target);
	return 0;
}

/* The source directory, opened (symbolic links followed: what is checked and mounted is what
 * was opened), and its owner. */
static int open_source(const char *source, struct stat *ret, struct coi_error *err)
{
	int fd = open(source, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open the workspace '%s'", source);
	if (fstat(fd, ret) < 0) {
		int r = coi_error_errno(err, errno, "cannot stat '%s'", source);

		close(fd);
		return r;
	}
	return fd;
}

int idmount_create(const char *source, const char *target, uid_t disk_uid, gid_t disk_gid,
                   uid_t host_uid, gid_t host_gid, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	fd = open_source(source, &st, err);
	if (fd < 0)
		return fd;
	return idmount_fd(fd, source, target, disk_uid, disk_gid, host_uid, host_gid, err);
}

int idmount_create_owned(const char *source, const char *container, uid_t uid, gid_t gid,
                         struct coi_error *err)
{
	_cleanup_free_ char *target = idmount_target(container);
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (!target)
		return coi_error_oom(err);
	fd = open_source(source, &st, err);
	if (fd < 0)
		return fd;
	/* the checks that matter when root does this for someone else (coi __idmount) */
	if (st.st_uid != uid)
		return coi_error_set(err, -EPERM, "'%s' is not owned by uid %u (but %u)", source,
		                     (unsigned)uid, (unsigned)st.st_uid);
	return idmount_fd(fd, source, target, uid, gid, uid, gid, err);
}

/* Each umount takes off one mount; a target mounted more than once (a session whose workspace
 * was mounted again by `coi attach`) stays busy until all are off. rmdir can still see EBUSY for
 * a moment after a detach while the daemon lets go of the mount: retried, bounded (~0.5 s). */
int idmount_remove(const char *target, struct coi_error *err)
{
	int i;

	for (i = 0; i < 16; i++)
		if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
			if (errno == EINVAL || errno == ENOENT)
				break;
			return coi_error_errno(err, errno, "cannot unmount '%s'", target);
		}
	for (i = 0; rmdir(target) < 0; i++) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || i == 10)
			return coi_error_errno(err, errno, "cannot remove '%s'", target);
		(void)umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW);
		(void)usleep(50000);
	}
	return 0;
}

/* Run `sudo -n <this coi> __idmount ARGS...`; its message (capped) becomes the error. */
static int run_helper(char *const *args, struct coi_error *err)
{
	char self[PATH_MAX], msg[1024] = "";
	char *argv[8] = {"sudo", "-n", self, "__idmount"};
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int pipefd[2], status = 0;
	size_t len = 0;
	pid_t pid;

	if (n <= 0)
		return coi_error_errno(err, errno, "cannot find coi's own executable");
	self[n] = '\0';
	for (size_t i = 0; i < 3 && args[i]; i++)
		argv[4 + i] = args[i];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return coi_error_errno(err, errno, "cannot make a pipe");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return coi_error_errno(err, errno, "cannot fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < sizeof(msg) && (n = read(pipefd[0], msg + len, sizeof(msg) - 1 - len)) > 0)
		len += (size_t)n;
	msg[len] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[strcspn(msg, "\n")] = '\0';
	return coi_error_set(err, -EPERM,
	                     "the workspace mount needs root: 'sudo -n %s __idmount' failed (%s); "
	                     "scripts/setup-host allows it to the group incus-admin",
	                     self, *msg ? msg : "no message");
}

int idmount_create_user(const char *source, const char *container, uid_t uid, gid_t gid,
                        struct coi_error *err)
{
	if (geteuid() == 0)
		return idmount_create_owned(source, container, uid, gid, err);
	return run_helper((char *const[]){"mount", (char *)container, (char *)source, NULL}, err);
}

/* Whether something is mounted at target (mountinfo: readable where /run/coi is not). */
static bool mounted(const char *target)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	size_t n = strlen(target);

	while (f && fgets(line, sizeof(line), f)) {
		const char *p = line;

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": the fifth field (coi's paths hold no
		 * space) */
		for (int i = 0; i < 4 && p; i++)
			p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
		if (p && strncmp(p, target, n) == 0 && p[n] == ' ')
			return true;
	}
	return false;
}

int idmount_remove_container(const char *container, struct coi_error *err)
{
	_cleanup_free_ char *target = idmount_target(container);

	if (!target)
		return coi_error_oom(err);
	if (geteuid() == 0)
		return idmount_remove(target, err);
	if (!mounted(target))
		return 0; /* an empty directory left in /run is root's to tidy */
	return run_helper((char *const[]){"unmount", (char *)container, NULL}, err);
}
