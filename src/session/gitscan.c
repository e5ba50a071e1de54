/* SPDX-License-Identifier: MIT */
/* gitscan.c: see gitscan.h. Breadth first, so what the caps leave out is the deepest part of the
 * tree, and each directory is opened from the workspace's fd without following a symlink
 * (util/beneath.h): a link planted in the tree cannot lead the walk out of it. */
#include "session/gitscan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/beneath.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define POINTER_MAX 4096
#define HEAD_MAX    256

struct dent {
	char *name;
	unsigned char type; /* DT_* */
};

struct listing {
	struct dent *e;
	size_t n;
};

struct pending {
	char *rel; /* "" for the workspace itself */
	unsigned depth;
	bool meta; /* below a git directory's modules/ or worktrees/ */
};

struct walk {
	int root;
	const char *workspace;
	const struct gitscan_opts *o;
	size_t max_entries;
	unsigned max_depth;
	struct gitscan *s;
	struct pending *q;
	size_t q_head, q_len, q_cap;
};

static void listing_release(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	*l = (struct listing){0};
}

static const struct dent *listing_get(const struct listing *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

/* d_type, asking the file system when the directory entry does not say */
static unsigned char entry_type(int dirfd, const char *name, unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN)
		return type;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	return S_ISDIR(st.st_mode)   ? DT_DIR
	       : S_ISLNK(st.st_mode) ? DT_LNK
	       : S_ISREG(st.st_mode) ? DT_REG
	                             : DT_UNKNOWN;
}

/* Files are kept only when their name matters: most of a tree is files nobody looks at. */
static bool wanted(const struct walk *w, const char *name, unsigned char type)
{
	static const char *const names[] = {".git", "HEAD", "commondir", "objects", "refs"};

	if (type == DT_DIR)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	strv_foreach(n, (char **)w->o->names) {
		size_t first = strcspn(*n, "/");

		if (strncmp(name, *n, first) == 0 && !name[first])
			return true;
	}
	return false;
}

static int keep(struct listing *l, const char *name, unsigned char type)
{
	if ((l->n & (l->n - 1)) == 0) { /* at 0, 1, 2, 4, ...: double */
		struct dent *e = realloc(l->e, sizeof(*e) * (l->n ? 2 * l->n : 1));

		if (!e)
			return -ENOMEM;
		l->e = e;
	}
	l->e[l->n].type = type;
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return -ENOMEM;
	l->n++;
	return 0;
}

struct linux_dirent64 {
	ino64_t d_ino;
	off64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Read the directory fd into l, counting every entry against the budget: -E2BIG when it runs out.
 * getdents64 directly: no DIR stream, no second descriptor. */
static int list_dir(struct walk *w, int fd, struct listing *l)
{
	_Alignas(struct linux_dirent64) char chunk[32768];

	for (;;) {
		long n = syscall(SYS_getdents64, fd, chunk, sizeof(chunk));

		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(chunk + off);
			unsigned char type;
			int r;

			off += de->d_reclen;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (w->s->entries >= w->max_entries)
				return -E2BIG;
			w->s->entries++;
			type = entry_type(fd, de->d_name, de->d_type);
			if (!wanted(w, de->d_name, type))
				continue;
			r = keep(l, de->d_name, type);
			if (r < 0)
				return r;
		}
	}
}

static char *rel_join(const char *dir, const char *name)
{
	return *dir ? path_join(dir, name) : strdup(name);
}

static int push(struct walk *w, const char *dir, const char *name, unsigned depth, bool meta)
{
	char *rel;

	if (w->q_len == w->q_cap) {
		size_t cap = w->q_cap ? 2 * w->q_cap : 64;
		struct pending *q = realloc(w->q, sizeof(*q) * cap);

		if (!q)
			return -ENOMEM;
		w->q = q;
		w->q_cap = cap;
	}
	rel = name ? rel_join(dir, name) : strdup(dir);
	if (!rel)
		return -ENOMEM;
	w->q[w->q_len++] = (struct pending){.rel = rel, .depth = depth, .meta = meta};
	return 0;
}

static int not_walked(struct gitscan *s, const char *rel)
{
	s->truncated = true;
	if (strv_contains(s->not_walked, *rel ? rel : "."))
		return 0;
	if (s->n_not_walked++ >= GITSCAN_NOT_WALKED_SHOWN)
		return 0;
	return strv_push(&s->not_walked, *rel ? rel : ".");
}

/* ---- what git takes for a git directory ------------------------------------------------------ */

/* setup.c validate_headref: "ref: refs/...", an object name, or a symlink into refs/ */
static bool head_valid(int dirfd, const struct dent *head)
{
	_cleanup_buf_ struct buf b = BUF_INIT(HEAD_MAX);
	_cleanup_close_ int fd = -EBADF;
	size_t hex;

	if (head->type == DT_LNK) {
		char t[HEAD_MAX];
		ssize_t n = readlinkat(dirfd, "HEAD", t, sizeof(t) - 1);

		return n > 5 && strncmp(t, "refs/", 5) == 0;
	}
	if (head->type != DT_REG)
		return false;
	fd = openat(dirfd, "HEAD", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fd_read_all(fd, &b) < 0 || !b.data)
		return false;
	if (strncmp(b.data, "ref:", 4) == 0)
		return true;
	hex = strspn(b.data, "0123456789abcdef");
	return hex == 40 || hex == 64;
}

static bool is_git_dir(int dirfd, const struct listing *l, bool common_only)
{
	const struct dent *head = listing_get(l, "HEAD"), *cd = listing_get(l, "commondir");
	const struct dent *obj = listing_get(l, "objects"), *refs = listing_get(l, "refs");
	bool store = obj && obj->type == DT_DIR && refs && refs->type == DT_DIR;

	if (common_only)
		return store;
	if (!head || !head_valid(dirfd, head))
		return false;
	return store || (cd && cd->type == DT_REG);
}

static struct gitscan_dir *find_dir(struct gitscan *s, const char *rel)
{
	for (size_t i = 0; i < s->n_dirs; i++)
		if (strcmp(s->dirs[i].rel, rel) == 0)
			return &s->dirs[i];
	return NULL;
}

const struct gitscan_dir *gitscan_find(const struct gitscan *s, const char *rel)
{
	return find_dir((struct gitscan *)s, rel);
}

static int add_dir(struct gitscan *s, const char *rel, int fd, const struct listing *l, bool common,
                   struct gitscan_dir **ret)
{
	struct gitscan_dir *d = find_dir(s, rel);
	const struct dent *cd = listing_get(l, "commondir");
	struct stat st;

	if (d) {
		d->common = d->common && common; /* also a git directory of its own */
		*ret = d;
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	d = realloc(s->dirs, sizeof(*d) * (s->n_dirs + 1));
	if (!d)
		return -ENOMEM;
	s->dirs = d;
	d = &s->dirs[s->n_dirs];
	*d = (struct gitscan_dir){
	        .linked = cd && cd->type == DT_REG,
	        .common = common,
	        .dev = st.st_dev,
	        .ino = st.st_ino,
	};
	d->rel = strdup(rel);
	if (!d->rel)
		return -ENOMEM;
	s->n_dirs++;
	*ret = d;
	return 0;
}

/* ---- pointers: .git files and symlinks, commondir files ---------------------------------------
 */

/* The workspace-relative form of target (relative to the directory base, or absolute), when it
 * lies inside the workspace; NULL otherwise. */
static char *inside_rel(const struct walk *w, const char *base, const char *target)
{
	_cleanup_free_ char *abs = NULL, *clean = NULL;
	size_t n = strlen(w->workspace);

	if (target[0] == '/')
		abs = strdup(target);
	else {
		_cleanup_free_ char *dir = path_join(w->workspace, base);

		abs = dir ? path_join(dir, target) : NULL;
	}
	if (!abs || !(clean = path_clean(abs)))
		return NULL;
	if (strncmp(clean, w->workspace, n) != 0 || clean[n] != '/' || !clean[n + 1])
		return NULL;
	return strdup(clean + n + 1);
}

static int visit_gitdir(struct walk *w, const char *rel, unsigned depth, bool common);

/* Record a pointer found in directory dir (relative), and the git directory it names. */
static int add_pointer(struct walk *w, const char *dir, const char *name, const char *raw,
                       bool symlink, unsigned depth)
{
	struct gitscan *s = w->s;
	struct gitscan_pointer *p;
	bool common = strcmp(name, "commondir") == 0;
	size_t idx = s->n_ptrs;
	char *target;
	int r;

	p = realloc(s->ptrs, sizeof(*p) * (s->n_ptrs + 1));
	if (!p)
		return -ENOMEM;
	s->ptrs = p;
	p = &s->ptrs[s->n_ptrs];
	*p = (struct gitscan_pointer){.symlink = symlink};
	p->rel = rel_join(dir, name);
	p->raw = strdup(raw);
	target = inside_rel(w, dir, raw);
	if (!p->rel || !p->raw) {
		free(p->rel);
		free(p->raw);
		free(target);
		return -ENOMEM;
	}
	s->n_ptrs++;
	if (!target)
		return 0;
	/* (visiting may add pointers of its own: s->ptrs moves) */
	r = visit_gitdir(w, target, depth, common);
	if (r == 1)
		s->ptrs[idx].target = target;
	else
		free(target);
	return r < 0 ? r : 0;
}

/* git's read_gitfile: "gitdir: " then the path, trailing newlines dropped */
static int read_gitfile(struct walk *w, int dirfd, const char *dir, const struct dent *e,
                        unsigned depth)
{
	_cleanup_buf_ struct buf b = BUF_INIT(POINTER_MAX);
	_cleanup_close_ int fd = -EBADF;
	size_t len;

	if (e->type == DT_LNK) {
		char t[POINTER_MAX];
		ssize_t n = readlinkat(dirfd, e->name, t, sizeof(t) - 1);

		if (n <= 0)
			return 0;
		t[n] = '\0';
		return add_pointer(w, dir, e->name, t, true, depth);
	}
	fd = openat(dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fd_read_all(fd, &b) < 0 || !b.data)
		return 0; /* unreadable or too long: git refuses it too */
	if (strcmp(e->name, ".git") == 0) {
		if (strncmp(b.data, "gitdir: ", 8) != 0)
			return 0;
		memmove(b.data, b.data + 8, b.len - 7);
		b.len -= 8;
	}
	len = b.len;
	while (len && (b.data[len - 1] == '\n' || b.data[len - 1] == '\r'))
		len--;
	b.data[len] = '\0';
	if (!len || strlen(b.data) != len)
		return 0;
	return add_pointer(w, dir, e->name, b.data, false, depth);
}

/* ---- the walk -----------------------------------------------------------------------------------
 */

/* rel (open as fd, listed in l) is a git directory: record it and queue its modules/ and
 * worktrees/, and follow its commondir file. */
static int gitdir_found(struct walk *w, const char *rel, int fd, const struct listing *l,
                        unsigned depth, bool common)
{
	static const char *const meta[] = {"modules", "worktrees"};
	const struct dent *cd = listing_get(l, "commondir");
	struct gitscan_dir *d = NULL;
	int r = add_dir(w->s, rel, fd, l, common, &d);

	if (r < 0 || d->meta_walked)
		return r;
	d->meta_walked = true;
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(meta); i++) {
		const struct dent *e = listing_get(l, meta[i]);

		if (e && e->type == DT_DIR)
			r = push(w, rel, meta[i], depth + 1, true);
	}
	if (r >= 0 && cd && cd->type == DT_REG)
		r = read_gitfile(w, fd, rel, cd, depth);
	return r;
}

/* A git directory named by a pointer: 1 when git would take it for one (and it is recorded), 0
 * when not. */
static int visit_gitdir(struct walk *w, const char *rel, unsigned depth, bool common)
{
	_cleanup_close_ int fd = beneath_open(w->root, rel, O_RDONLY | O_DIRECTORY, 0);
	struct listing l = {0};
	int r;

	if (fd < 0)
		return 0;
	r = list_dir(w, fd, &l);
	if (r == -E2BIG)
		r = not_walked(w->s, rel);
	else if (r >= 0 && is_git_dir(fd, &l, common))
		r = gitdir_found(w, rel, fd, &l, depth, common) < 0 ? -ENOMEM : 1;
	listing_release(&l);
	return r;
}

/* Matches of the names to find, in directory rel (its listing l). */
static int find_names(struct walk *w, const char *rel, const struct listing *l)
{
	strv_foreach(n, (char **)w->o->names) {
		size_t first = strcspn(*n, "/");
		_cleanup_free_ char *head = strndup(*n, first), *match = NULL;
		const struct dent *e = head ? listing_get(l, head) : NULL;
		struct stat st;

		if (!head)
			return -ENOMEM;
		if (!e)
			continue;
		match = rel_join(rel, *n);
		if (!match)
			return -ENOMEM;
		if ((*n)[first]) { /* more components: is the rest there? */
			_cleanup_close_ int fd = beneath_open(w->root, match, O_PATH, 0);

			if (fd < 0 || fstat(fd, &st) < 0)
				continue;
		}
		if (strv_push(&w->s->named, match) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int walk_dir(struct walk *w, const struct pending *p)
{
	_cleanup_close_ int fd = -EBADF;
	struct listing l = {0};
	int r;

	fd = *p->rel ? beneath_open(w->root, p->rel, O_RDONLY | O_DIRECTORY, 0)
	             : fcntl(w->root, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return 0; /* gone, or a symlink now: nothing git would find through it */
	r = list_dir(w, fd, &l);
	if (r == -E2BIG) {
		listing_release(&l);
		return not_walked(w->s, p->rel) < 0 ? -ENOMEM : -E2BIG;
	}
	if (r >= 0 && *p->rel && is_git_dir(fd, &l, false)) {
		r = gitdir_found(w, p->rel, fd, &l, p->depth, false);
		listing_release(&l);
		return r;
	}
	if (r >= 0 && !p->meta && w->o->names)
		r = find_names(w, p->rel, &l);
	for (size_t i = 0; r >= 0 && i < l.n; i++) {
		const struct dent *e = &l.e[i];

		if (strcmp(e->name, ".git") == 0 && (e->type == DT_REG || e->type == DT_LNK))
			r = read_gitfile(w, fd, p->rel, e, p->depth + 1);
		else if (e->type != DT_DIR)
			continue;
		else if (p->depth + 1 > w->max_depth) {
			_cleanup_free_ char *rel = rel_join(p->rel, e->name);

			r = rel ? not_walked(w->s, rel) : -ENOMEM;
		} else
			r = push(w, p->rel, e->name, p->depth + 1, p->meta);
	}
	listing_release(&l);
	return r;
}

static int walk_all(struct walk *w)
{
	int r = push(w, "", NULL, 0, false);

	while (r >= 0 && w->q_head < w->q_len) {
		struct pending p = w->q[w->q_head++];

		r = walk_dir(w, &p);
		free(p.rel);
	}
	if (r == -E2BIG) { /* the entry budget ran out: what is still queued was not walked */
		r = 0;
		while (r >= 0 && w->q_head < w->q_len) {
			struct pending p = w->q[w->q_head++];

			r = not_walked(w->s, p.rel);
			free(p.rel);
		}
	}
	while (w->q_head < w->q_len)
		free(w->q[w->q_head++].rel);
	return r;
}

static int cmp_dir(const void *a, const void *b)
{
	return strcmp(((const struct gitscan_dir *)a)->rel, ((const struct gitscan_dir *)b)->rel);
}

int gitscan_walk(const char *workspace, const struct gitscan_opts *o, struct gitscan *ret,
                 struct coi_error *err)
{
	static const struct gitscan_opts none = {0};
	_cleanup_free_ char *ws = path_clean(workspace);
	struct gitscan s = {0};
	struct walk w = {.o = o ? o : &none, .s = &s};
	int r;

	if (!ws)
		return coi_error_oom(err);
	w.workspace = ws;
	w.max_entries = w.o->max_entries ? w.o->max_entries : GITSCAN_MAX_ENTRIES;
	w.max_depth = w.o->max_depth ? w.o->max_depth : GITSCAN_MAX_DEPTH;
	w.root = open(ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.root < 0)
		return coi_error_errno(err, errno, "cannot open the workspace '%s'", ws);
	r = walk_all(&w);
	(void)close(w.root);
	if (r >= 0 && s.n_dirs > 1) /* parents first: mounts are made in this order */
		qsort(s.dirs, s.n_dirs, sizeof(*s.dirs), cmp_dir);
	free(w.q);
	if (r < 0) {
		gitscan_release(&s);
		return coi_error_errno(err, r, "cannot walk the workspace '%s'", ws);
	}
	*ret = s;
	return 0;
}

void gitscan_release(struct gitscan *s)
{
	for (size_t i = 0; i < s->n_dirs; i++)
		free(s->dirs[i].rel);
	for (size_t i = 0; i < s->n_ptrs; i++) {
		free(s->ptrs[i].rel);
		free(s->ptrs[i].raw);
		free(s->ptrs[i].target);
	}
	free(s->dirs);
	free(s->ptrs);
	strv_free(s->named);
	strv_free(s->not_walked);
	*s = (struct gitscan){0};
}

char *gitscan_not_walked_text(const struct gitscan *s)
{
	_cleanup_free_ char *list = NULL;
	char *r = NULL;

	if (!s->n_not_walked)
		return NULL;
	list = strv_join(s->not_walked, ", ");
	if (!list)
		return NULL;
	if (s->n_not_walked <= GITSCAN_NOT_WALKED_SHOWN)
		return TAKE_PTR(list);
	return asprintf(&r, "%s and %zu more", list, s->n_not_walked - GITSCAN_NOT_WALKED_SHOWN) < 0
	               ? NULL
	               : r;
}
