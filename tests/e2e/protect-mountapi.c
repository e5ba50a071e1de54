/* SPDX-License-Identifier: MIT */
/* protect-mountapi.c: the attacks on the protected paths that need system calls no shell tool in
 * the tiny image makes (busybox has no open_tree, move_mount, mount_setattr, fsopen or
 * pivot_root). Built static, pushed into a test container, run there as container root. Prints
 * "opened" when the attack's system calls all succeed, else "blocked: <call>: <error>".
 *
 *   clone SRC DST     copy the mount at SRC (without its read-only sub-mounts) to DST
 *   setattr PATH      clear the read-only flag of the mount at PATH
 *   fsopen            make a new tmpfs with the new mount API
 *   pivot DIR         in a new mount namespace if one can be made, pivot_root(DIR, DIR) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int blocked(const char *call)
{
	printf("blocked: %s: %s\n", call, strerror(errno));
	return 1;
}

static int do_clone(const char *src, const char *dst)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (fd < 0)
		return blocked("open_tree");
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return blocked("move_mount");
	return 0;
}

static int do_setattr(const char *path)
{
	struct mount_attr a = {.attr_clr = MOUNT_ATTR_RDONLY};

	if (syscall(SYS_mount_setattr, AT_FDCWD, path, 0, &a, sizeof(a)) < 0)
		return blocked("mount_setattr");
	return 0;
}

static int do_fsopen(void)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);

	if (fs < 0)
		return blocked("fsopen");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return blocked("fsconfig");
	if (syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0) < 0)
		return blocked("fsmount");
	return 0;
}

static int do_pivot(const char *dir)
{
	/* in a namespace of its own when one can be made, so the container keeps its root */
	(void)unshare(CLONE_NEWNS);
	(void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL); /* pivot_root needs no sharing */
	if (chdir(dir) < 0)
		return blocked("chdir");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return blocked("pivot_root");
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	if (argc == 4 && strcmp(argv[1], "clone") == 0)
		r = do_clone(argv[2], argv[3]);
	else if (argc == 3 && strcmp(argv[1], "setattr") == 0)
		r = do_setattr(argv[2]);
	else if (argc == 2 && strcmp(argv[1], "fsopen") == 0)
		r = do_fsopen();
	else if (argc == 3 && strcmp(argv[1], "pivot") == 0)
		r = do_pivot(argv[2]);
	if (r == 0)
		printf("opened\n");
	return r;
}
