/* SPDX-License-Identifier: MIT */
/* protect.c: see protect.h. Walks are bounded (depth and entry count) and never follow symlinks:
 * every open uses O_NOFOLLOW, every directory is read through its own fd. */
#include "session/protect.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strv.h"

#define WALK_MAX_DEPTH   32
#define WALK_MAX_ENTRIES 20000
#define GITFILE_MAX      4096

struct protect_plan *protect_plan_free(struct protect_plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_entries; i++) {
		free(p->entries[i].rel);
		free(p->entries[i].host);
	}
	free(p->entries);
	free(p->workspace);
	free(p->gitdir_rel);
	strv_free(p->notes);
	strv_free(p->missing);
	strv_free(p->git_watch);
	free(p);
	return NULL;
}
DEFINE_CLEANUP(struct protect_plan *, protect_plan_free)

/* lstat each component of rel under ws. -ENOENT when a component is missing; -ELOOP (with err
 * set) when one is a symlink. */
static int lstat_chain(const char *ws, const char *rel, struct stat *ret, struct coi_error *err)
{
	_cleanup_free_ char *cur = strdup(ws);
	const char *p = rel;

	if (!cur)
		return coi_error_oom(err);
	while (*p) {
		size_t len = strcspn(p, "/");
		char *next;

		if (asprintf(&next, "%s/%.*s", cur, (int)len, p) < 0)
			return coi_error_oom(err);
		free(cur);
		cur = next;
		if (lstat(cur, ret) < 0)
			return errno == ENOENT || errno == ENOTDIR
			               ? -ENOENT
			               : coi_error_errno(err, errno, "cannot inspect '%s'", cur);
		if (S_ISLNK(ret->st_mode))
			return coi_error_set(
			        err, -ELOOP,
			        "protected path '%s' is or lies under a symlink ('%s'); "
			        "refusing to mount or lock what it points to (remove the "
			        "symlink, or change [security] protected_paths)",
			        rel, cur);
		p += len;
		while (*p == '/')
			p++;
	}
	return 0;
}

/* A path relative to ws if abs lies strictly inside it, else NULL. */
static const char *inside(const char *ws, const char *abs)
{
	size_t n = strlen(ws);

	if (strncmp(abs, ws, n) == 0 && abs[n] == '/' && abs[n + 1])
		return abs + n + 1;
	return NULL;
}

/* Where ".git" really is: a directory in the workspace, or a "gitdir: X" file (submodules,
 * worktrees) pointing inside or outside it, or a symlink (skipped). Sets p->gitdir_rel when the
 * git directory is inside the workspace. */
static int resolve_gitdir(struct protect_plan *p, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(GITFILE_MAX);
	_cleanup_free_ char *dotgit = path_join(p->workspace, ".git"), *abs = NULL, *target = NULL;
	const char *rel;
	struct stat st;
	char *s;
	int r;

	if (!dotgit)
		return coi_error_oom(err);
	if (lstat(dotgit, &st) < 0) {
		if (errno != ENOENT)
			return coi_error_errno(err, errno, "cannot inspect '%s'", dotgit);
		p->git_absent = true;
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return strv_push(&p->notes,
		                 ".git is a symlink (a worktree setup?): skipped, its hooks "
		                 "and config are not protected");
	if (S_ISDIR(st.st_mode))
		return (p->gitdir_rel = strdup(".git")) ? 0 : coi_error_oom(err);
	r = read_file(dotgit, &b, err);
	if (r < 0)
		return r;
	s = strstr(b.data, "gitdir:");
	if (!s || s != b.data)
		return strv_push(&p->notes, ".git is a file without a 'gitdir:' line: skipped");
	s += strlen("gitdir:");
	s += strspn(s, " \t");
	s[strcspn(s, "\r\n")] = '\0';
	target = s[0] == '/' ? strdup(s) : path_join(p->workspace, s);
	if (!target || !(abs = path_clean(target)))
		return coi_error_oom(err);
	rel = inside(p->workspace, abs);
	if (!rel) {
		_cleanup_free_ char *note = NULL;

		if (asprintf(&note,
		             ".git points to '%s', outside the workspace: the container cannot "
		             "see it, so there is nothing to protect there",
		             abs) < 0)
			return coi_error_oom(err);
		return strv_consume(&p->notes, TAKE_PTR(note));
	}
	r = lstat_chain(p->workspace, rel, &st, err);
	if (r == -ENOENT)
		return strv_push(&p->notes, ".git points to a git directory that does not exist");
	if (r < 0)
		return r;
	return (p->gitdir_rel = strdup(rel)) ? 0 : coi_error_oom(err);
}

/* ".git/hooks" -> "<gitdir_rel>/hooks"; NULL result (and 0) when git paths are not protectable. */
static int map_git_path(const struct protect_plan *p, const char *rel, char **ret)
{
	if (strcmp(rel, ".git") != 0 && strncmp(rel, ".git/", 5) != 0)
		return (*ret = strdup(rel)) ? 0 : -ENOMEM;
	*ret = NULL;
	if (!p->gitdir_rel)
		return 0;
	if (asprintf(ret, "%s%s", p->gitdir_rel, rel + 4) < 0)
		return -ENOMEM;
	return 0;
}

/* A placeholder belongs to whoever owns the directory it is made in: under sudo, coi runs as
 * root, and the user must be able to remove what it leaves in their repository. */
static void own_like_parent(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	struct stat st;

	if (!dir || !strrchr(dir, '/'))
		return;
	*strrchr(dir, '/') = '\0';
	if (stat(dir, &st) == 0)
		(void)!lchown(path, st.st_uid, st.st_gid);
}

/* Git would create these later, and each changes what the host runs: create them now. */
static int create_git_placeholder(struct protect_plan *p, const char *rel, struct stat *st)
{
	static const char *const dirs[] = {"hooks"};
	static const char *const files[] = {"info/attributes", "config.worktree"};
	const char *sub;
	_cleanup_free_ char *host = NULL;

	if (!p->gitdir_rel || strncmp(rel, p->gitdir_rel, strlen(p->gitdir_rel)) != 0)
		return -ENOENT;
	sub = rel + strlen(p->gitdir_rel);
	if (*sub++ != '/')
		return -ENOENT;
	host = path_join(p->workspace, rel);
	if (!host)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if (strcmp(sub, dirs[i]) == 0) {
			if (mkdir(host, 0755) < 0)
				return -errno;
			own_like_parent(host);
			return lstat(host, st) < 0 ? -errno : 0;
		}
	for (size_t i = 0; i < ELEMENTSOF(files); i++)
		if (strcmp(sub, files[i]) == 0) {
			_cleanup_free_ char *dir = strdup(host);
			int fd;

			if (!dir)
				return -ENOMEM;
			*strrchr(dir, '/') = '\0';
			if (mkdir(dir, 0755) == 0)
				own_like_parent(dir);
			fd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd < 0)
				return -errno;
			(void)close(fd);
			own_like_parent(host);
			return lstat(host, st) < 0 ? -errno : 0;
		}
	return -ENOENT;
}

static int plan_add(struct protect_plan *p, const char *rel, const struct stat *st, bool created)
{
	struct protect_entry *e;

	for (size_t i = 0; i < p->n_entries; i++)
		if (strcmp(p->entries[i].rel, rel) == 0)
			return 0;
	e = realloc(p->entries, sizeof(*e) * (p->n_entries + 1));
	if (!e)
		return -ENOMEM;
	p->entries = e;
	e = &p->entries[p->n_entries];
	*e = (struct protect_entry){.is_dir = S_ISDIR(st->st_mode), .created = created};
	e->rel = strdup(rel);
	e->host = path_join(p->workspace, rel);
	if (!e->rel || !e->host) {
		free(e->rel);
		free(e->host);
		return -ENOMEM;
	}
	p->n_entries++;
	return 0;
}

static int plan_one(struct protect_plan *p, const char *path, bool create_missing,
                    struct coi_error *err)
{
	_cleanup_free_ char *rel = NULL;
	bool created = false;
	struct stat st;
	int r;

	if (!path_is_safe_relative(path))
		return coi_error_set(
		        err, -EINVAL,
		        "protected path '%s' must be relative to the workspace, without '..'",
		        path);
	if (map_git_path(p, path, &rel) < 0)
		return coi_error_oom(err);
	if (!rel && !p->git_absent)
		return 0; /* a git path, but no git directory we can see: noted already */
	if (!rel)         /* no .git yet: one made during the session is reported */
		return strv_push(&p->git_watch, path) < 0 ? coi_error_oom(err) : 0;
	r = lstat_chain(p->workspace, rel, &st, err);
	if (r == -ENOENT && create_missing) {
		r = create_git_placeholder(p, rel, &st);
		created = r == 0;
		if (r < 0 && r != -ENOENT)
			return coi_error_errno(err, r, "cannot create '%s' to protect it", rel);
	}
	if (r == -ENOENT)
		return strv_push(&p->missing, rel) < 0 ? coi_error_oom(err) : 0;
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return coi_error_set(err, -EINVAL,
		                     "protected path '%s' is neither a file nor a directory", rel);
	return plan_add(p, rel, &st, created) < 0 ? coi_error_oom(err) : 0;
}

int protect_plan_build(const char *workspace, char *const *paths, bool create_missing,
                       struct protect_plan **ret, struct coi_error *err)
{
	_cleanup_(protect_plan_freep) struct protect_plan *p = calloc(1, sizeof(*p));
	int r;

	if (!p || !(p->workspace = path_clean(workspace)))
		return coi_error_oom(err);
	r = resolve_gitdir(p, err);
	if (r < 0)
		return r;
	strv_foreach(s, (char **)paths) {
		r = plan_one(p, *s, create_missing, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

/* ---- bounded walks ---------------------------------------------------------------------- */

typedef int (*walk_fn)(int fd, const char *path, const struct stat *st, void *ud);

/* Call fn for path and, for a directory, everything below it, depth-first, never following a
 * symlink (symlinks are passed to fn with fd -1). *budget counts entries down. */
static int walk(const char *path, int depth, size_t *budget, walk_fn fn, void *ud)
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
	if (depth >= WALK_MAX_DEPTH)
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

/* ---- immutable flags -------------------------------------------------------------------- */

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
	size_t budget = WALK_MAX_ENTRIES;
	int r = 0;

	c.state_fd = open(state_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c.state_fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", state_file);
	for (size_t i = 0; i < p->n_entries && r >= 0; i++) {
		r = walk(p->entries[i].host, 0, &budget, make_immutable, &c);
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

/* ---- snapshots -------------------------------------------------------------------------- */

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
	size_t budget = WALK_MAX_ENTRIES;
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
	r = EVP_DigestInit_ex(c.md, EVP_sha256(), NULL) ? walk(host, 0, &budget, digest_entry, &c)
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
	if (p->gitdir_rel) {
		_cleanup_free_ char *host = path_join(p->workspace, p->gitdir_rel);

		r = host ? describe(host, false, &d) : -ENOMEM;
		if (r < 0 || strv_consume(&l, d) < 0)
			return coi_error_errno(err, r < 0 ? r : -ENOMEM,
			                       "cannot read the git directory");
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* ---- a repository created during the session ---------------------------------------------- */

#define GITCONFIG_MAX ((size_t)1 << 20)
#define FOUND_MAX     32

/* Add s to the list unless it is there or the list is full (then count it in *more). */
static int found(char ***l, const char *s, size_t *more)
{
	if (strv_contains(*l, s))
		return 0;
	if (strv_length(*l) >= FOUND_MAX) {
		(*more)++;
		return 0;
	}
	return strv_push(l, s);
}

/* "a, b, c" (and "and N more"); NULL on OOM */
static char *found_join(char **l, size_t more)
{
	_cleanup_free_ char *j = strv_join(l, ", ");
	char *r = NULL;

	if (!j)
		return NULL;
	if (!more)
		return TAKE_PTR(j);
	return asprintf(&r, "%s and %zu more", j, more) < 0 ? NULL : r;
}

/* The hooks in dir, by name: every entry but git's own *.sample files and empty files. */
static int new_hooks(const char *dir, char ***ret, size_t *more)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	DIR *d;
	int r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(dup(fd));
	if (!d)
		return -errno;
	for (struct dirent *de; r >= 0 && (de = readdir(d));) {
		size_t n = strlen(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (n > 7 && strcmp(de->d_name + n - 7, ".sample") == 0))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (S_ISREG(st.st_mode) && st.st_size == 0))
			continue;
		r = found(ret, de->d_name, more);
	}
	closedir(d);
	return r;
}

/* Git config keys whose value is a program git runs, or more configuration to read: "section.key"
 * with the subsection left out, or "section." for every key of the section. */
static const char *const runs_program[] = {
        "core.hookspath",  "core.fsmonitor", "core.sshcommand",
        "core.pager",      "core.editor",    "core.askpass",
        "sequence.editor", "diff.external",  "diff.textconv",
        "diff.command",    "merge.driver",   "filter.clean",
        "filter.smudge",   "filter.process", "credential.helper",
        "gpg.program",     "include.path",   "includeif.path",
        "alias.",          "pager.",         "uploadpack.packobjectshook",
};

static bool key_runs_program(const char *section, const char *key)
{
	size_t n = strlen(section);

	for (size_t i = 0; i < ELEMENTSOF(runs_program); i++) {
		const char *k = runs_program[i];

		if (strncmp(k, section, n) == 0 && k[n] == '.' &&
		    (!k[n + 1] || strcmp(k + n + 1, key) == 0))
			return true;
	}
	return false;
}

/* The keys of a git config text that run a program, as "section[.sub].key". Not git's parser:
 * enough to point a reader at what to review. */
static int config_program_keys(char *text, char ***ret, size_t *more)
{
	char section[64] = "", sub[128] = "", key[64];
	int r = 0;

	for (char *line = strtok(text, "\n"); r >= 0 && line; line = strtok(NULL, "\n")) {
		size_t n;

		line += strspn(line, " \t");
		if (*line == '[') {
			char *q;

			line++;
			n = strcspn(line, " \t.]\"");
			snprintf(section, sizeof(section), "%.*s", (int)n, line);
			sub[0] = '\0';
			line += n;
			line += strspn(line, " \t.\"");
			q = line + strcspn(line, "\"]");
			if (q > line)
				snprintf(sub, sizeof(sub), "%.*s", (int)(q - line), line);
			for (char *c = section; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			continue;
		}
		n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");
		if (!n || !section[0] || n >= sizeof(key))
			continue;
		for (size_t i = 0; i < n; i++)
			key[i] = (char)tolower((unsigned char)line[i]);
		key[n] = '\0';
		if (key_runs_program(section, key)) {
			_cleanup_free_ char *name = NULL;

			if (asprintf(&name, "%s%s%s.%s", section, sub[0] ? "." : "", sub, key) < 0)
				return -ENOMEM;
			r = found(ret, name, more);
		}
	}
	return r;
}

static int report_git_config(const char *host, const char *rel, char ***changes)
{
	_cleanup_buf_ struct buf b = BUF_INIT(GITCONFIG_MAX);
	_cleanup_strv_free_ char **keys = NULL;
	_cleanup_free_ char *list = NULL;
	size_t more = 0;
	struct stat st;
	int r;

	if (lstat(host, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return strv_pushf(changes, "'%s' was created during the session and is not a file",
		                  rel);
	r = read_file(host, &b, NULL);
	if (r < 0)
		return strv_pushf(changes,
		                  "'%s' was written during the session and could not be read", rel);
	r = config_program_keys(b.data, &keys, &more);
	if (r < 0)
		return r;
	if (!keys)
		return strv_pushf(
		        changes,
		        "'%s' was written during the session (it sets no key known to run a "
		        "program): review it",
		        rel);
	list = found_join(keys, more);
	if (!list)
		return -ENOMEM;
	return strv_pushf(
	        changes,
	        "'%s' was written during the session and sets %s: programs your host's git "
	        "runs",
	        rel, list);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int report_one_git_path(const struct protect_plan *p, const char *rel, char ***changes)
{
	_cleanup_free_ char *host = path_join(p->workspace, rel), *list = NULL;
	_cleanup_strv_free_ char **hooks = NULL;
	size_t more = 0;
	struct stat st;
	int r;

	if (!host)
		return -ENOMEM;
	if (strcmp(rel, ".git/config") == 0)
		return report_git_config(host, rel, changes);
	if (lstat(host, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (strcmp(rel, ".git/hooks") == 0 && S_ISDIR(st.st_mode)) {
		r = new_hooks(host, &hooks, &more);
		if (r < 0 || !hooks)
			return r;
		qsort(hooks, strv_length(hooks), sizeof(char *), cmp_str);
		list = found_join(hooks, more);
		return list ? strv_pushf(
		                      changes,
		                      "'%s' holds hooks written during the session, which your host's "
		                      "git runs: %s",
		                      rel, list)
		            : -ENOMEM;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		return 0;
	return strv_pushf(changes, "'%s' was created during the session: review it", rel);
}

/* The workspace had no .git: one there now is a repository the agent made, whose hooks and config
 * the host's git would run. */
static int report_new_git(const struct protect_plan *p, char ***changes)
{
	_cleanup_free_ char *host = NULL;
	char target[PATH_MAX];
	struct stat st;
	ssize_t l;
	int r;

	if (!p->git_absent || !p->git_watch)
		return 0;
	host = path_join(p->workspace, ".git");
	if (!host)
		return -ENOMEM;
	if (lstat(host, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		l = readlink(host, target, sizeof(target) - 1);
		target[l < 0 ? 0 : l] = '\0';
		return strv_pushf(
		        changes,
		        "'.git' did not exist at the start and was created during the session, "
		        "as a symlink to '%s': review it before you run git here",
		        target);
	}
	if (!S_ISDIR(st.st_mode))
		return strv_pushf(
		        changes,
		        "'.git' did not exist at the start and was created during the session, "
		        "as a file (a 'gitdir:' pointer?): review it and where it points before "
		        "you run git here");
	r = strv_pushf(changes,
	               "'.git' did not exist at the start and was created during the session: "
	               "review the repository before you run git here");
	strv_foreach(w, p->git_watch)
		if (r >= 0 && strcmp(*w, ".git") != 0)
			r = report_one_git_path(p, *w, changes);
	return r;
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
	if (p->gitdir_rel && (!before[i] || strcmp(before[i], now[i]) != 0)) {
		_cleanup_free_ char *msg = NULL;

		if (asprintf(&msg,
		             "'%s' is not the same directory as at the start (replaced or moved)",
		             p->gitdir_rel) < 0 ||
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
	r = report_new_git(p, &changes);
	if (r < 0)
		return coi_error_errno(err, r, "cannot look at the new '.git'");
	*ret = TAKE_PTR(changes);
	return 0;
}
