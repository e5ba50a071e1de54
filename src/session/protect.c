/* SPDX-License-Identifier: MIT */
/* protect.c: see protect.h. The workspace's own protected paths come from the list as written;
 * each git directory found by the walk gets the list's git paths (".git/X" is "<dir>/X"). */
#include "session/protect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define GITFILE_MAX 4096

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
	strv_free(p->mounts);
	strv_free(p->gitdirs);
	strv_free(p->git_paths);
	strv_free(p->names);
	strv_free(p->created_dirs);
	gitscan_release(&p->scan);
	strv_free(p->notes);
	strv_free(p->missing);
	free(p);
	return NULL;
}
DEFINE_CLEANUP(struct protect_plan *, protect_plan_free)

static bool is_git_path(const char *rel)
{
	return strcmp(rel, ".git") == 0 || strncmp(rel, ".git/", 5) == 0;
}

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

/* ---- placeholders --------------------------------------------------------------------------- */

/* The git paths git creates later that change what the host runs: made now (empty), so they
 * can be protected. */
static bool placeholder_kind(const char *sub, bool *is_dir)
{
	*is_dir = strcmp(sub, "hooks") == 0;
	return *is_dir || strcmp(sub, "info/attributes") == 0 ||
	       strcmp(sub, "config.worktree") == 0;
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

/* Make rel (sub below a git directory) as an empty placeholder, and the directory holding it
 * if needed (recorded, to be removed again). */
static int create_placeholder(struct protect_plan *p, const char *rel, const char *sub,
                              struct stat *st)
{
	_cleanup_free_ char *host = path_join(p->workspace, rel), *dir = NULL;
	bool is_dir;
	int fd;

	if (!host)
		return -ENOMEM;
	if (!placeholder_kind(sub, &is_dir))
		return -ENOENT;
	if (is_dir) {
		if (mkdir(host, 0755) < 0)
			return -errno;
		own_like_parent(host);
		return lstat(host, st) < 0 ? -errno : 0;
	}
	dir = strdup(rel);
	if (!dir)
		return -ENOMEM;
	*strrchr(dir, '/') = '\0';
	if (strchr(sub, '/')) { /* info/attributes: info/ may be missing too */
		_cleanup_free_ char *hdir = path_join(p->workspace, dir);

		if (!hdir)
			return -ENOMEM;
		if (mkdir(hdir, 0755) == 0) {
			own_like_parent(hdir);
			if (strv_push(&p->created_dirs, dir) < 0)
				return -ENOMEM;
		} else if (errno != EEXIST) {
			return -errno;
		}
	}
	fd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	(void)close(fd);
	own_like_parent(host);
	return lstat(host, st) < 0 ? -errno : 0;
}

int protect_placeholder_remove(const char *host, bool is_dir, dev_t dev, ino_t ino)
{
	struct stat st;
	int r;

	if (lstat(host, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (st.st_dev != dev || st.st_ino != ino)
		return 0; /* not the one coi made */
	if (is_dir ? !S_ISDIR(st.st_mode) : (!S_ISREG(st.st_mode) || st.st_size != 0))
		return 0; /* something was put there: no longer a placeholder */
	r = is_dir ? rmdir(host) : unlink(host);
	/* a hooks directory that holds something now is not ours to remove */
	return r < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST ? -errno : 0;
}

int protect_remove_placeholders(const struct protect_plan *p, struct coi_error *err)
{
	int first = 0;

	for (size_t i = 0; i < p->n_entries; i++) {
		const struct protect_entry *e = &p->entries[i];
		int r;

		if (!e->created)
			continue;
		r = protect_placeholder_remove(e->host, e->is_dir, e->dev, e->ino);
		if (r < 0 && !first)
			first = coi_error_errno(err, r, "cannot remove '%s'", e->rel);
	}
	for (size_t i = strv_length(p->created_dirs); i-- > 0;) {
		_cleanup_free_ char *host = path_join(p->workspace, p->created_dirs[i]);

		if (host)
			(void)rmdir(host); /* only when empty */
	}
	return first;
}

/* ---- the plan ------------------------------------------------------------------------------- */

static int plan_add(struct protect_plan *p, const char *rel, const struct stat *st, bool created,
                    bool nested)
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
	*e = (struct protect_entry){.is_dir = S_ISDIR(st->st_mode),
	                            .created = created,
	                            .nested = nested,
	                            .dev = st->st_dev,
	                            .ino = st->st_ino};
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

static int add_mount(struct protect_plan *p, const char *rel)
{
	return strv_contains(p->mounts, rel) ? 0 : strv_push(&p->mounts, rel);
}

/* A path of the workspace's own list, relative to its root. */
static int plan_one(struct protect_plan *p, const char *rel, struct coi_error *err)
{
	struct stat st;
	int r;

	r = lstat_chain(p->workspace, rel, &st, err);
	if (r == -ENOENT)
		return strv_push(&p->missing, rel) < 0 ? coi_error_oom(err) : 0;
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return coi_error_set(err, -EINVAL,
		                     "protected path '%s' is neither a file nor a directory", rel);
	return plan_add(p, rel, &st, false, false) < 0 ? coi_error_oom(err) : 0;
}

/* The directories between git directory dir and sub below it ("info" of "info/attributes"):
 * each its own mount point, when it exists. */
static int mount_between(struct protect_plan *p, const char *dir, const char *sub)
{
	for (const char *s = strchr(sub, '/'); s; s = strchr(s + 1, '/')) {
		_cleanup_free_ char *rel = NULL;
		struct stat st;

		if (asprintf(&rel, "%s/%.*s", dir, (int)(s - sub), sub) < 0)
			return -ENOMEM;
		if (lstat_chain(p->workspace, rel, &st, NULL) < 0 || !S_ISDIR(st.st_mode))
			return 0;
		if (add_mount(p, rel) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* One git path (sub, e.g. "hooks") of git directory dir. */
static int plan_git_path(struct protect_plan *p, const char *dir, const char *sub, bool nested,
                         bool create_missing, struct coi_error *err)
{
	_cleanup_free_ char *rel = path_join(dir, sub);
	bool created = false;
	struct stat st;
	int r;

	if (!rel)
		return coi_error_oom(err);
	r = lstat_chain(p->workspace, rel, &st, nested ? NULL : err);
	if (r == -ELOOP && nested) {
		_cleanup_free_ char *n = NULL;

		return asprintf(&n,
		                "'%s' is or lies under a symlink: not mounted read-only (the end "
		                "of the session checks it)",
		                rel) < 0 ||
		                       strv_consume(&p->notes, TAKE_PTR(n)) < 0
		               ? coi_error_oom(err)
		               : 0;
	}
	if (r == -ENOENT && create_missing) {
		r = create_placeholder(p, rel, sub, &st);
		created = r == 0;
		if (r < 0 && r != -ENOENT)
			return coi_error_errno(err, r, "cannot create '%s' to protect it", rel);
	}
	if (r == -ENOENT)
		return nested || strv_push(&p->missing, rel) >= 0 ? 0 : coi_error_oom(err);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return nested ? 0
		              : coi_error_set(
		                        err, -EINVAL,
		                        "protected path '%s' is neither a file nor a directory",
		                        rel);
	if (mount_between(p, dir, sub) < 0 || plan_add(p, rel, &st, created, nested) < 0)
		return coi_error_oom(err);
	return 0;
}

/* Directories between a git directory's modules/ (or worktrees/) and a git directory below it
 * ("lib" of .git/modules/lib/a, a submodule named lib/a): mount points too, or renaming one
 * would take the submodule's git directory away and let a new one take its place. */
static int mount_ancestors(struct protect_plan *p, const char *dir)
{
	for (const char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
		_cleanup_free_ char *prefix = strndup(dir, (size_t)(s - dir));

		if (!prefix)
			return -ENOMEM;
		strv_foreach(g, p->gitdirs) {
			size_t n = strlen(*g);

			if (strncmp(prefix, *g, n) != 0 || prefix[n] != '/' ||
			    (strncmp(prefix + n + 1, "modules/", 8) != 0 &&
			     strncmp(prefix + n + 1, "worktrees/", 10) != 0))
				continue;
			if (add_mount(p, prefix) < 0)
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

/* Git directory dir: its own mount, the list's git paths in it (only config.worktree for a
 * worktree's, whose hooks and config are the common directory's; and its commondir file, which
 * says where that is), and its modules/ and worktrees/ as mount points. */
static int plan_gitdir(struct protect_plan *p, const char *dir, bool linked, char *const *git_paths,
                       bool create_missing, struct coi_error *err)
{
	static const char *const meta[] = {"modules", "worktrees"};
	bool nested = !p->gitdir_rel || strcmp(dir, p->gitdir_rel) != 0;
	int r = 0;

	if (mount_ancestors(p, dir) < 0 || add_mount(p, dir) < 0 || strv_push(&p->gitdirs, dir) < 0)
		return coi_error_oom(err);
	strv_foreach(g, (char **)git_paths) {
		const char *sub = *g + 5;

		if (strcmp(*g, ".git") == 0 || (linked && strcmp(sub, "config.worktree") != 0))
			continue;
		r = plan_git_path(p, dir, sub, nested, create_missing, err);
		if (r < 0)
			return r;
	}
	if (linked)
		r = plan_git_path(p, dir, "commondir", nested, false, err);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(meta); i++) {
		_cleanup_free_ char *rel = path_join(dir, meta[i]);
		struct stat st;

		if (!rel)
			return coi_error_oom(err);
		if (lstat_chain(p->workspace, rel, &st, NULL) == 0 && S_ISDIR(st.st_mode) &&
		    add_mount(p, rel) < 0)
			return coi_error_oom(err);
	}
	return r;
}

/* A ".git" file naming a git directory inside the workspace: read-only, so it cannot be made to
 * name another one. */
static int plan_pointer(struct protect_plan *p, const struct gitscan_pointer *ptr,
                        struct coi_error *err)
{
	struct stat st;

	if (ptr->symlink || !ptr->target || strcmp(path_basename(ptr->rel), ".git") != 0)
		return 0;
	if (lstat_chain(p->workspace, ptr->rel, &st, NULL) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return plan_add(p, ptr->rel, &st, false, strcmp(ptr->rel, ".git") != 0) < 0
	               ? coi_error_oom(err)
	               : 0;
}

/* The workspace's own git directory. */
static int plan_top(struct protect_plan *p, char *const *git_paths, bool create_missing,
                    struct coi_error *err)
{
	const struct gitscan_dir *d;

	if (!p->gitdir_rel)
		return 0;
	d = gitscan_find(&p->scan, p->gitdir_rel);
	return plan_gitdir(p, p->gitdir_rel, d && d->linked, git_paths, create_missing, err);
}

/* Every other git directory the walk found, and the .git files that name them. */
static int plan_nested(struct protect_plan *p, char *const *git_paths, bool create_missing,
                       struct coi_error *err)
{
	size_t n = p->gitdir_rel ? 1 : 0;
	int r = 0;

	if (!git_paths)
		return 0; /* no git path is protected: nothing nested to mount */
	for (size_t i = 0; r >= 0 && i < p->scan.n_dirs; i++) {
		const struct gitscan_dir *d = &p->scan.dirs[i];

		if (p->gitdir_rel && strcmp(d->rel, p->gitdir_rel) == 0)
			continue;
		if (n >= PROTECT_MAX_GITDIRS) {
			p->gitdirs_left++;
			continue;
		}
		r = plan_gitdir(p, d->rel, d->linked, git_paths, create_missing, err);
		n++;
	}
	for (size_t i = 0; r >= 0 && i < p->scan.n_ptrs; i++)
		r = plan_pointer(p, &p->scan.ptrs[i], err);
	if (r >= 0 && p->gitdirs_left)
		r = strv_pushf(
		            &p->notes,
		            "%zu more git directories than the %d that get read-only mounts: they are "
		            "checked at the end of the session",
		            p->gitdirs_left, PROTECT_MAX_GITDIRS) < 0
		            ? coi_error_oom(err)
		            : 0;
	return r;
}

static int note_walk(struct protect_plan *p, struct coi_error *err)
{
	_cleanup_free_ char *left = gitscan_not_walked_text(&p->scan);

	if (!p->scan.truncated)
		return 0;
	return strv_pushf(
	               &p->notes,
	               "the walk of the workspace for git directories stopped after %zu entries or "
	               "%d levels; not walked: %s",
	               p->scan.entries, GITSCAN_MAX_DEPTH, left ? left : "(unknown)") < 0
	               ? coi_error_oom(err)
	               : 0;
}

/* ---- protected branches --------------------------------------------------------------------- */

#define PACKED_REFS_MAX ((size_t)64 << 20)

/* What git's check-ref-format refuses, for the names coi puts into a path. */
static bool branch_name_ok(const char *b)
{
	size_t n = strlen(b);

	if (!path_is_safe_relative(b) || b[0] == '-' || strstr(b, "..") || strstr(b, "/.") ||
	    b[0] == '.' || strstr(b, "@{") || (n >= 5 && strcmp(b + n - 5, ".lock") == 0) ||
	    b[n - 1] == '.' || b[n - 1] == '/')
		return false;
	for (const unsigned char *c = (const unsigned char *)b; *c; c++)
		if (*c < 0x20 || *c == 0x7f || strchr(" ~^:?*[\\", *c))
			return false;
	return true;
}

/* The object name of refs/heads/<branch> in the git directory's packed-refs, or NULL. */
static char *packed_ref(const struct protect_plan *p, const char *branch)
{
	_cleanup_buf_ struct buf b = BUF_INIT(PACKED_REFS_MAX);
	_cleanup_free_ char *rel = path_join(p->gitdir_rel, "packed-refs"), *host = NULL;
	_cleanup_free_ char *ref = NULL;
	struct stat st;

	if (!rel || asprintf(&ref, "refs/heads/%s", branch) < 0 ||
	    lstat_chain(p->workspace, rel, &st, NULL) < 0 || !S_ISREG(st.st_mode) ||
	    !(host = path_join(p->workspace, rel)) || read_file(host, &b, NULL) < 0)
		return NULL;
	for (char *save = NULL, *l = strtok_r(b.data, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		size_t hex = sp ? (size_t)(sp - l) : 0;

		if (l[0] == '#' || l[0] == '^' || (hex != 40 && hex != 64) ||
		    strspn(l, "0123456789abcdef") != hex || strcmp(sp + 1, ref) != 0)
			continue;
		return strndup(l, hex);
	}
	return NULL;
}

/* A branch only in packed-refs gets the loose file git itself would write (the same object):
 * a read-only loose ref cannot be replaced, and it wins over packed-refs. */
static int loosen_ref(struct protect_plan *p, const char *rel, const char *branch, struct stat *st)
{
	_cleanup_free_ char *oid = packed_ref(p, branch), *host = path_join(p->workspace, rel);
	int fd, r = 0;

	if (!host)
		return -ENOMEM;
	if (!oid)
		return -ENOENT;
	fd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s\n", oid) < 0)
		r = -EIO;
	(void)close(fd);
	if (r < 0) {
		(void)unlink(host);
		return r;
	}
	own_like_parent(host);
	return lstat(host, st) < 0 ? -errno : 0;
}

int protect_plan_branches(struct protect_plan *p, char *const *branches, struct coi_error *err)
{
	const struct gitscan_dir *top =
	        p->gitdir_rel ? gitscan_find(&p->scan, p->gitdir_rel) : NULL;

	if (!branches || !p->gitdir_rel)
		return 0;
	if (!top || top->linked)
		return strv_pushf(
		               &p->notes,
		               "[git] protected_branches: the workspace's git directory is a "
		               "worktree's, whose branches are another repository's: not protected") <
		                       0
		               ? coi_error_oom(err)
		               : 0;
	strv_foreach(b, (char **)branches) {
		_cleanup_free_ char *rel = NULL, *sub = NULL;
		struct stat st;
		int r;

		if (!branch_name_ok(*b)) {
			if (strv_pushf(&p->notes,
			               "[git] protected_branches: '%s' is no branch name", *b) < 0)
				return coi_error_oom(err);
			continue;
		}
		if (asprintf(&sub, "refs/heads/%s", *b) < 0 ||
		    !(rel = path_join(p->gitdir_rel, sub)))
			return coi_error_oom(err);
		r = lstat_chain(p->workspace, rel, &st, NULL);
		if (r == -ENOENT)
			r = loosen_ref(p, rel, *b, &st);
		if (r == -ENOENT)
			continue; /* no such branch: nothing of the host's to keep */
		if (r < 0 || !S_ISREG(st.st_mode)) {
			if (strv_pushf(
			            &p->notes,
			            "[git] protected_branches: '%s' is not a plain file: not protected",
			            rel) < 0)
				return coi_error_oom(err);
			continue;
		}
		if (mount_between(p, p->gitdir_rel, sub) < 0 ||
		    plan_add(p, rel, &st, false, false) < 0)
			return coi_error_oom(err);
	}
	return 0;
}

int protect_plan_build(const char *workspace, char *const *paths, bool create_missing,
                       struct protect_plan **ret, struct coi_error *err)
{
	_cleanup_(protect_plan_freep) struct protect_plan *p = calloc(1, sizeof(*p));
	char **git_paths, **other;
	int r;

	if (!p || !(p->workspace = path_clean(workspace)))
		return coi_error_oom(err);
	strv_foreach(s, (char **)paths) {
		if (!path_is_safe_relative(*s))
			return coi_error_set(
			        err, -EINVAL,
			        "protected path '%s' must be relative to the workspace, without '..'",
			        *s);
		if ((is_git_path(*s) ? strv_push(&p->git_paths, *s) : strv_push(&p->names, *s)) < 0)
			return coi_error_oom(err);
	}
	git_paths = p->git_paths;
	other = p->names;
	r = gitscan_walk(p->workspace, &(struct gitscan_opts){.names = other}, &p->scan, err);
	if (r >= 0)
		r = resolve_gitdir(p, err);
	if (r >= 0)
		r = plan_top(p, git_paths, create_missing, err);
	strv_foreach(s, other) {
		if (r >= 0)
			r = plan_one(p, *s, err);
	}
	if (r >= 0)
		r = plan_nested(p, git_paths, create_missing, err);
	if (r >= 0)
		r = note_walk(p, err);
	if (r < 0) {
		(void)protect_remove_placeholders(p, NULL);
		return r;
	}
	*ret = TAKE_PTR(p);
	return 0;
}
