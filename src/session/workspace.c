/* SPDX-License-Identifier: MIT */
/* workspace.c: which host directories may be a session's workspace, and which host paths coi
 * keeps to itself. The workspace is mounted read-write into the container, so it must be a
 * project, not the host: `/`, a system tree, a directory that only holds projects, the user's
 * home itself, or anything that contains one of those is refused, judged on the path with every
 * symbolic link followed. coi's own state directory (~/.coi: trust approvals, locks, sessions)
 * is never part of a workspace or an extra mount, whatever else is allowed. */
#include "session/workspace.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

/* Trees of the system, never a project: refused, and everything inside them. */
static const char *const system_trees[] = {
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/proc",
        "/run",
        "/sbin",
        "/sys",
        "/usr/bin",
        "/usr/include",
        "/usr/lib",
        "/usr/lib32",
        "/usr/lib64",
        "/usr/libexec",
        "/usr/libx32",
        "/usr/sbin",
        "/usr/share",
        "/usr/local/bin",
        "/usr/local/etc",
        "/usr/local/include",
        "/usr/local/lib",
        "/usr/local/sbin",
        "/usr/local/share",
        "/var/backups",
        "/var/cache",
        "/var/lib/incus",
        "/var/lib/lxcfs",
        "/var/log",
        "/var/mail",
        "/var/spool",
};

/* Directories that hold projects (or users, or programs) without being one: refused themselves,
 * their subdirectories are fine. */
static const char *const holders[] = {
        "/home", "/media",     "/mnt",           "/opt",     "/root",    "/srv",
        "/tmp",  "/usr/local", "/usr/local/src", "/usr/src", "/var/tmp",
};

/* p with every symbolic link resolved when it exists, else cleaned as written. */
static char *resolved(const char *p)
{
	char *r = realpath(p, NULL);

	return r ? r : path_clean(p);
}

/* The home of uid, or NULL. */
static const char *home_of(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

/* Under sudo, the user who ran it (SUDO_UID), else -1. */
static long sudo_uid(void)
{
	const char *s = getenv("SUDO_UID");
	char *end;
	long v;

	if (getuid() != 0 || !s || !*s)
		return -1;
	v = strtol(s, &end, 10);
	return *end || v <= 0 ? -1 : v;
}

int session_state_dirs(char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *own = coi_dir();
	long su = sudo_uid();

	if (!own || strv_consume(&l, resolved(own)) < 0)
		return -ENOMEM;
	if (su > 0 && home_of((uid_t)su)) {
		_cleanup_free_ char *d = path_join(home_of((uid_t)su), ".coi");

		if (!d || strv_consume(&l, resolved(d)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* The homes a workspace may not be: the invoking user's ($HOME, and the sudo user's). */
static int homes(char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	long su = sudo_uid();

	if (strv_consume(&l, resolved(home_dir())) < 0)
		return -ENOMEM;
	if (su > 0 && home_of((uid_t)su) && strv_consume(&l, resolved(home_of((uid_t)su))) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(l);
	return 0;
}

#define HOW      "run coi from your project's directory (cd ~/src/myproject), or name it with -w DIR"
#define OVERRIDE " (to use it all the same, add --unsafe-workspace)"

/* "refusing the workspace 'WS': WHY 'WHAT'; how to do better" (no quotes without what) */
static int refuse(struct coi_error *err, const char *ws, const char *why, const char *what)
{
	const char *q = *what ? "'" : "";

	return coi_error_set(err, -EPERM, "refusing the workspace '%s': %s%s%s%s; %s" OVERRIDE, ws,
	                     why, q, what, q, HOW);
}

/* The state directory that path lies in or contains, into *ret_dir (and whether it lies in it):
 * 1, or 0 when there is none. */
static int state_dir_clash(const char *path, char **ret_dir, bool *ret_inside)
{
	_cleanup_strv_free_ char **dirs = NULL;

	if (session_state_dirs(&dirs) < 0)
		return -ENOMEM;
	strv_foreach(d, dirs)
		if (path_is_inside(path, *d) || path_is_inside(*d, path)) {
			*ret_inside = path_is_inside(path, *d);
			*ret_dir = strdup(*d);
			return *ret_dir ? 1 : -ENOMEM;
		}
	return 0;
}

/* The state directories: inside one, or containing one. No override. */
static int check_state_dirs(const char *ws, struct coi_error *err)
{
	_cleanup_free_ char *d = NULL;
	bool inside;
	int r = state_dir_clash(ws, &d, &inside);

	if (r <= 0)
		return r < 0 ? coi_error_oom(err) : 0;
	return coi_error_set(err, -EPERM,
	                     "refusing the workspace '%s': %s coi's own state directory '%s' (its "
	                     "trust approvals, locks and sessions), which a container must never "
	                     "reach; %s",
	                     ws, inside ? "it lies inside" : "it contains", d, HOW);
}

/* A system tree, a holder or a home: the directory itself, or one that contains it. */
static int check_places(const char *ws, struct coi_error *err)
{
	_cleanup_strv_free_ char **h = NULL;

	if (strcmp(ws, "/") == 0)
		return refuse(err, ws, "it is the root of the host", "");
	for (size_t i = 0; i < ELEMENTSOF(system_trees); i++) {
		_cleanup_free_ char *t = resolved(system_trees[i]);

		if (!t)
			return coi_error_oom(err);
		if (path_is_inside(ws, t))
			return refuse(err, ws, "it is or lies in the system directory ", t);
		if (path_is_inside(t, ws))
			return refuse(err, ws, "it contains the system directory ", t);
	}
	if (homes(&h) < 0)
		return coi_error_oom(err);
	strv_foreach(p, h)
		if (path_is_inside(*p, ws))
			return refuse(
			        err, ws,
			        strcmp(*p, ws) == 0
			                ? "it is your home directory, with your shell's startup "
			                  "files, your keys and every other project"
			                : "it contains your home directory ",
			        strcmp(*p, ws) == 0 ? "" : *p);
	for (size_t i = 0; i < ELEMENTSOF(holders); i++) {
		_cleanup_free_ char *t = resolved(holders[i]);

		if (!t)
			return coi_error_oom(err);
		if (path_is_inside(t, ws))
			return refuse(err, ws, "it holds other projects, users or programs, like ",
			              t);
	}
	return 0;
}

/* The Incus daemon's state ($INCUS_DIR when it is not the default): container root
 * filesystems and the daemon's socket. */
static int check_incus_dir(const char *ws, struct coi_error *err)
{
	const char *e = secure_getenv("INCUS_DIR");
	_cleanup_free_ char *d = NULL;

	if (!e || e[0] != '/')
		return 0;
	d = resolved(e);
	if (!d)
		return coi_error_oom(err);
	if (path_is_inside(ws, d) || path_is_inside(d, ws))
		return refuse(err, ws, "it holds or lies in the Incus daemon's state ", d);
	return 0;
}

int session_workspace_check(const char *workspace, bool unsafe, struct coi_error *err)
{
	_cleanup_free_ char *ws = realpath(workspace, NULL);
	int r;

	if (!ws)
		return coi_error_errno(err, errno, "cannot resolve the workspace '%s'", workspace);
	r = unsafe ? 0 : check_places(ws, err);
	if (r >= 0 && !unsafe)
		r = check_incus_dir(ws, err);
	return r < 0 ? r : check_state_dirs(ws, err);
}

int session_mount_check(const char *host, struct coi_error *err)
{
	_cleanup_free_ char *d = NULL;
	bool inside;
	int r = state_dir_clash(host, &d, &inside);

	if (r <= 0)
		return r < 0 ? coi_error_oom(err) : 0;
	return coi_error_set(err, -EPERM,
	                     "refusing to mount '%s': it %s coi's own state directory '%s', which "
	                     "a container must never reach",
	                     host, inside ? "lies in" : "contains", d);
}
