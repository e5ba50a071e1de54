/* SPDX-License-Identifier: MIT */
/* naming.c: see naming.h. The names are the contract with the original tool and with
 * `coi clean --orphans`, which finds what a crash left by these names. */
#include "session/naming.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strv.h"

const char *session_name_prefix(void)
{
	const char *p = secure_getenv("COI_CONTAINER_PREFIX");

	/* Incus names: letters, digits, dashes; keep the prefix to what can start such a name. */
	if (p && *p && strlen(p) < 32 &&
	    strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(p))
		return p;
	return "coi-";
}

int session_workspace_hash(const char *abs_workspace, char ret[WORKSPACE_HASH_LEN + 1])
{
	char hex[SHA256_HEX_LEN + 1];
	int r = sha256_hex(abs_workspace, strlen(abs_workspace), hex);

	if (r < 0)
		return r;
	memcpy(ret, hex, WORKSPACE_HASH_LEN);
	ret[WORKSPACE_HASH_LEN] = '\0';
	return 0;
}

int session_identity_hash(const char *abs_workspace, const char *name,
                          char ret[WORKSPACE_HASH_LEN + 1])
{
	_cleanup_free_ char *key = NULL;
	size_t wl = strlen(abs_workspace), nl = name ? strlen(name) : 0;
	char hex[SHA256_HEX_LEN + 1];
	int r;

	if (!nl)
		return session_workspace_hash(abs_workspace, ret);
	key = malloc(wl + 1 + nl);
	if (!key)
		return -ENOMEM;
	memcpy(key, abs_workspace, wl + 1); /* with its NUL */
	memcpy(key + wl + 1, name, nl);
	r = sha256_hex(key, wl + 1 + nl, hex);
	if (r < 0)
		return r;
	memcpy(ret, hex, WORKSPACE_HASH_LEN);
	ret[WORKSPACE_HASH_LEN] = '\0';
	return 0;
}

char *session_container_name(const char *hash, int slot)
{
	char *r;

	if (asprintf(&r, "%s%s-%d", session_name_prefix(), hash, slot) < 0)
		return NULL;
	return r;
}

int session_parse_name(const char *name, char ret_hash[WORKSPACE_HASH_LEN + 1])
{
	const char *prefix = session_name_prefix(), *p;
	size_t pl = strlen(prefix);
	char *end;
	long slot;

	if (strncmp(name, prefix, pl) != 0)
		return -EINVAL;
	p = name + pl;
	if (strspn(p, "0123456789abcdef") != WORKSPACE_HASH_LEN || p[WORKSPACE_HASH_LEN] != '-')
		return -EINVAL;
	errno = 0;
	slot = strtol(p + WORKSPACE_HASH_LEN + 1, &end, 10);
	if (errno || *end || end == p + WORKSPACE_HASH_LEN + 1 || slot < 1 ||
	    slot > SESSION_SLOT_MAX)
		return -EINVAL;
	if (ret_hash) {
		memcpy(ret_hash, p, WORKSPACE_HASH_LEN);
		ret_hash[WORKSPACE_HASH_LEN] = '\0';
	}
	return (int)slot;
}

int session_pick_slot(const char *hash, char *const *existing)
{
	for (int slot = 1; slot <= SESSION_SLOT_MAX_AUTO; slot++) {
		_cleanup_free_ char *name = session_container_name(hash, slot);

		if (!name)
			return -ENOMEM;
		if (!strv_contains(existing, name))
			return slot;
	}
	return -EBUSY;
}

/* Whether fd is still the file at path: the previous holder may have removed it between our
 * open and our lock. */
static bool lock_is_current(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int session_lock_workspace(const char *hash, int timeout_ms, struct ws_lock *ret,
                           struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir(), *run = NULL, *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct timespec step = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	int r;

	if (!dir || !(run = path_join(dir, "run")) || asprintf(&path, "%s/%s.lock", run, hash) < 0)
		return coi_error_oom(err);
	r = mkdir_p(run, 0700);
	if (r < 0)
		return coi_error_errno(err, r, "cannot create '%s'", run);
	/* flock has no timeout: retry the non-blocking form, bounded. */
	for (int waited = 0;; waited += 20) {
		if (fd < 0) {
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
			if (fd < 0)
				return coi_error_errno(err, errno, "cannot open lock '%s'", path);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			if (lock_is_current(fd, path)) {
				ret->fd = TAKE_FD(fd);
				ret->path = TAKE_PTR(path);
				return 0;
			}
			closep(&fd); /* removed by its last holder: open the path afresh */
			fd = -EBADF;
			continue;
		}
		if (errno != EWOULDBLOCK)
			return coi_error_errno(err, errno, "cannot lock '%s'", path);
		if (waited >= timeout_ms)
			return coi_error_set(err, -ETIMEDOUT,
			                     "another coi is starting a session for this workspace "
			                     "(lock '%s' held for %d ms)",
			                     path, timeout_ms);
		(void)nanosleep(&step, NULL);
	}
}

void session_unlock_workspace(struct ws_lock *l)
{
	/* removed while still held, so nobody can take the lock of a file about to go */
	if (l->fd >= 0 && l->path)
		(void)unlink(l->path);
	if (l->fd >= 0)
		(void)close(l->fd);
	free(l->path);
	*l = (struct ws_lock)WS_LOCK_INIT;
}
