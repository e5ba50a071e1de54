/* SPDX-License-Identifier: MIT */
/* protect-snapshot.c: see protect-snapshot.h. */
#include "session/protect-snapshot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/protect.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/treewalk.h"

struct digest_ctx {
	EVP_MD_CTX *md;
	size_t root_len;
};

static int digest_file(EVP_MD_CTX *md, int fd)
{
	char chunk[16384];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (!EVP_DigestUpdate(md, chunk, (size_t)n))
			return -EIO;
	return n < 0 ? -errno : 0;
}

static int digest_entry(int fd, const char *path, const struct stat *st, void *ud)
{
	struct digest_ctx *c = ud;
	char line[PATH_MAX + 128];
	int n;

	n = snprintf(line, sizeof(line), "%s|%o|%lld|%u:%u\n", path + c->root_len,
	             (unsigned)st->st_mode, (long long)st->st_size, (unsigned)st->st_uid,
	             (unsigned)st->st_gid);
	if (n < 0 || (size_t)n >= sizeof(line) || !EVP_DigestUpdate(c->md, line, (size_t)n))
		return -EIO;
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t l = readlink(path, target, sizeof(target));

		return l < 0 ? -errno : (EVP_DigestUpdate(c->md, target, (size_t)l) ? 0 : -EIO);
	}
	return fd >= 0 && S_ISREG(st->st_mode) ? digest_file(c->md, fd) : 0;
}

/* "dev:ino:<sha256 of the tree>" for a protected path, "dev:ino" for the git directory (whose
 * content changes with every commit), "absent" when missing. */
static int describe(const char *host, bool content, char **ret)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	struct digest_ctx c = {.root_len = strlen(host)};
	size_t budget = TREEWALK_MAX_ENTRIES;
	unsigned int len = 0;
	struct stat st;
	int r;

	if (lstat(host, &st) < 0)
		return errno == ENOENT ? ((*ret = strdup("absent")) ? 0 : -ENOMEM) : -errno;
	if (!content)
		return asprintf(ret, "%llu:%llu", (unsigned long long)st.st_dev,
		                (unsigned long long)st.st_ino) < 0
		               ? -ENOMEM
		               : 0;
	c.md = EVP_MD_CTX_new();
	if (!c.md)
		return -ENOMEM;
	r = EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) ? treewalk(host, &budget, digest_entry, &c)
	                                                : -EIO;
	if (r >= 0 && !EVP_DigestFinal_ex(c.md, md, &len))
		r = -EIO;
	EVP_MD_CTX_free(c.md);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < len; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return asprintf(ret, "%llu:%llu:%s", (unsigned long long)st.st_dev,
	                (unsigned long long)st.st_ino, hex) < 0
	               ? -ENOMEM
	               : 0;
}

int protect_snapshot(const struct protect_plan *p, char ***ret, struct coi_error *err)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
	char *d = NULL;
	int r;

	if (!l)
		return coi_error_oom(err);
	for (size_t i = 0; i < p->n_entries; i++) {
		r = describe(p->entries[i].host, true, &d);
		if (r < 0)
			return coi_error_errno(err, r, "cannot read '%s'", p->entries[i].rel);
		if (strv_consume(&l, d) < 0)
			return coi_error_oom(err);
	}
	strv_foreach(m, p->mounts) {
		_cleanup_free_ char *host = path_join(p->workspace, *m);

		r = host ? describe(host, false, &d) : -ENOMEM;
		if (r < 0 || strv_consume(&l, d) < 0)
			return coi_error_errno(err, r < 0 ? r : -ENOMEM, "cannot read '%s'", *m);
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int protect_compare(const struct protect_plan *p, char *const *before, char ***ret,
                    struct coi_error *err)
{
	_cleanup_strv_free_ char **now = NULL, **changes = calloc(1, sizeof(char *));
	size_t i;
	int r;

	if (!changes)
		return coi_error_oom(err);
	r = protect_snapshot(p, &now, err);
	if (r < 0)
		return r;
	for (i = 0; i < p->n_entries; i++)
		if (!before[i] || strcmp(before[i], now[i]) != 0) {
			_cleanup_free_ char *msg = NULL;

			if (asprintf(&msg, "'%s' changed during the session", p->entries[i].rel) <
			            0 ||
			    strv_consume(&changes, TAKE_PTR(msg)) < 0)
				return coi_error_oom(err);
		}
	for (size_t m = 0; m < strv_length(p->mounts); m++, i++) {
		_cleanup_free_ char *msg = NULL;

		if (before[i] && strcmp(before[i], now[i]) == 0)
			continue;
		if (asprintf(&msg,
		             "'%s' is not the same directory as at the start (replaced or moved)",
		             p->mounts[m]) < 0 ||
		    strv_consume(&changes, TAKE_PTR(msg)) < 0)
			return coi_error_oom(err);
	}
	strv_foreach(m, p->missing) {
		_cleanup_free_ char *host = path_join(p->workspace, *m), *msg = NULL;
		struct stat st;

		if (!host)
			return coi_error_oom(err);
		if (lstat(host, &st) < 0)
			continue;
		if (asprintf(&msg,
		             "'%s' did not exist at the start and was created during the session: "
		             "review it before your host uses it",
		             *m) < 0 ||
		    strv_consume(&changes, TAKE_PTR(msg)) < 0)
			return coi_error_oom(err);
	}
	*ret = TAKE_PTR(changes);
	return 0;
}
