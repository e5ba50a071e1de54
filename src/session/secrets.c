/* SPDX-License-Identifier: MIT */
/* secrets.c: see secrets.h. Directories are opened beneath the workspace with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a link swapped in during the search leads
 * nowhere; a matching link is resolved once, and kept only when it stays in the workspace. */
#include "session/secrets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define WALK_MAX_DEPTH   32
#define WALK_MAX_ENTRIES 200000

struct secret_plan *secrets_plan_free(struct secret_plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_entries; i++)
		free(p->entries[i].rel);
	free(p->entries);
	strv_free(p->notes);
	free(p);
	return NULL;
}
DEFINE_CLEANUP(struct secret_plan *, secrets_plan_free)

/* --- patterns --- */

static bool match_suffixes(const char *core, const char *rel)
{
	for (const char *s = rel; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
		if (fnmatch(core, s, FNM_PATHNAME) == 0)
			return true;
	return false;
}

static bool pattern_match(const char *pattern, const char *rel, bool is_dir)
{
	char core[PATH_MAX];
	const char *p = pattern;
	bool anchored = false, any_depth = false, dir_only = false;
	size_t n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	for (; *p == '/'; p++)
		anchored = true;
	for (; strncmp(p, "**/", 3) == 0; p += 3)
		any_depth = true;
	n = strlen(p);
	if (n >= sizeof(core))
		return false;
	memcpy(core, p, n + 1);
	if (n >= 3 && strcmp(core + n - 3, "/**") == 0) {
		core[n -= 3] = '\0';
		anchored = true; /* "dir/" + "**": a slash in the middle */
	} else if (n > 0 && core[n - 1] == '/') {
		core[--n] = '\0';
		dir_only = true;
	}
	if (!*core || strcmp(core, "**") == 0 || (dir_only && !is_dir))
		return false;
	if (strchr(core, '/'))
		anchored = !any_depth;
	if (anchored)
		return fnmatch(core, rel, FNM_PATHNAME) == 0;
	if (strchr(core, '/'))
		return match_suffixes(core, rel);
	return fnmatch(core, path_basename(rel), 0) == 0;
}

bool secrets_pattern_match(const char *pattern, const char *rel)
{
	return pattern_match(pattern, rel, false);
}

static bool any_match(char *const *patterns, const char *rel, bool is_dir)
{
	for (size_t i = 0; patterns && patterns[i]; i++)
		if (pattern_match(patterns[i], rel, is_dir))
			return true;
	return false;
}

/* --- the plan --- */

static int plan_add(struct secret_plan *p, const char *rel, bool is_dir)
{
	struct secret_entry *e;

	for (size_t i = 0; i < p->n_entries; i++)
		if (strcmp(p->entries[i].rel, rel) == 0)
			return 0;
	e = reallocarray(p->entries, p->n_entries + 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	p->entries = e;
	e[p->n_entries].rel = strdup(rel);
	e[p->n_entries].is_dir = is_dir;
	return e[p->n_entries++].rel ? 0 : -ENOMEM;
}

static int note(struct secret_plan *p, const char *fmt, ...) COI_PRINTF(2, 3);
static int note(struct secret_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? -ENOMEM : strv_consume(&p->notes, s);
}

/* A matching symbolic link: what it leads to, when that is in the workspace. */
static int add_link(struct secret_plan *p, const char *ws_real, const char *workspace,
                    const char *rel)
{
	_cleanup_free_ char *abs = path_join(workspace, rel), *real = NULL;
	size_t n = strlen(ws_real);
	struct stat st;

	if (!abs)
		return -ENOMEM;
	real = realpath(abs, NULL);
	if (!real || !path_is_inside(real, ws_real) || strlen(real) == n || stat(real, &st) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return note(p,
		            "secret_paths: '%s' is a symbolic link that leads out of the "
		            "workspace or nowhere: nothing of it is in the container, not hidden",
		            rel);
	return plan_add(p, real + n + 1, S_ISDIR(st.st_mode));
}

static int open_beneath(int ws_fd, const char *rel)
{
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};

	return (int)syscall(SYS_openat2, ws_fd, *rel ? rel : ".", &how, sizeof(how));
}

static unsigned depth_of(const char *rel)
{
	unsigned d = *rel ? 1 : 0;

	for (; *rel; rel++)
		d += *rel == '/';
	return d;
}

struct walk {
	struct secret_plan *plan;
	char *const *patterns;
	const char *workspace, *ws_real;
	char **queue; /* directories still to read, relative */
	size_t next;
	size_t seen;
};

/* One directory: each entry matched, unmatched directories queued. */
static int walk_dir(struct walk *w, int ws_fd, const char *dir)
{
	_cleanup_close_ int fd = open_beneath(ws_fd, dir);
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (fd < 0)
		return 0; /* gone, or a link swapped in: nothing there to hide */
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;
	while (r >= 0 && (e = readdir(d))) {
		_cleanup_free_ char *rel = NULL;
		unsigned char type = e->d_type;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (++w->seen > WALK_MAX_ENTRIES) {
			r = 1;
			break;
		}
		rel = *dir ? path_join(dir, e->d_name) : strdup(e->d_name);
		if (!rel) {
			r = -ENOMEM;
			break;
		}
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode)   ? DT_DIR
			       : S_ISREG(st.st_mode) ? DT_REG
			       : S_ISLNK(st.st_mode) ? DT_LNK
			                             : DT_UNKNOWN;
		}
		if ((type == DT_REG || type == DT_DIR || type == DT_LNK) &&
		    any_match(w->patterns, rel, type == DT_DIR))
			r = type == DT_LNK ? add_link(w->plan, w->ws_real, w->workspace, rel)
			                   : plan_add(w->plan, rel, type == DT_DIR);
		else if (type == DT_DIR && strcmp(e->d_name, ".git") != 0 &&
		         depth_of(rel) < WALK_MAX_DEPTH)
			r = strv_consume(&w->queue, TAKE_PTR(rel));
	}
	closedir(d);
	return r;
}

/* Drop what lies in a hidden directory (its mount hides it already). */
static void plan_prune(struct secret_plan *p)
{
	size_t out = 0;

	for (size_t i = 0; i < p->n_entries; i++) {
		bool covered = false;

		for (size_t j = 0; j < p->n_entries && !covered; j++) {
			size_t n = strlen(p->entries[j].rel);

			covered = j != i && p->entries[j].is_dir &&
			          strncmp(p->entries[i].rel, p->entries[j].rel, n) == 0 &&
			          p->entries[i].rel[n] == '/';
		}
		if (covered)
			free(p->entries[i].rel);
		else
			p->entries[out++] = p->entries[i];
	}
	p->n_entries = out;
}

int secrets_plan_build(const char *workspace, char *const *patterns, struct secret_plan **ret,
                       struct coi_error *err)
{
	_cleanup_(secrets_plan_freep) struct secret_plan *p = calloc(1, sizeof(*p));
	_cleanup_free_ char *ws_real = NULL;
	_cleanup_close_ int ws_fd = -1;
	struct walk w = {.patterns = patterns, .workspace = workspace};
	int r = 0;

	if (!p)
		return coi_error_oom(err);
	if (!patterns || !*patterns) {
		*ret = TAKE_PTR(p);
		return 0;
	}
	ws_real = realpath(workspace, NULL);
	ws_fd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ws_real || ws_fd < 0)
		return coi_error_errno(err, errno, "secret_paths: cannot open the workspace '%s'",
		                       workspace);
	w.plan = p;
	w.ws_real = ws_real;
	r = strv_push(&w.queue, "");
	while (r == 0 && w.queue[w.next])
		r = walk_dir(&w, ws_fd, w.queue[w.next++]);
	strv_free(w.queue);
	if (r == 1)
		r = note(p,
		         "secret_paths: the search of the workspace stopped after %d entries; "
		         "files deeper than that were not checked",
		         WALK_MAX_ENTRIES);
	if (r < 0)
		return r == -ENOMEM ? coi_error_oom(err)
		                    : coi_error_errno(err, -r, "secret_paths: cannot search '%s'",
		                                      workspace);
	plan_prune(p);
	if (p->n_entries > SECRETS_MAX)
		return coi_error_set(err, -E2BIG,
		                     "[security] secret_paths matches %zu paths in the workspace, "
		                     "more than the %d a session hides (each is a mount): hide "
		                     "their directory instead (\"DIR/**\")",
		                     p->n_entries, SECRETS_MAX);
	*ret = TAKE_PTR(p);
	return 0;
}

/* --- the masks --- */

/* An empty, read-only regular file at path (an existing one that is not is replaced). */
static int empty_file(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	    (st.st_mode & 07777) == 0444)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	close(fd);
	return chmod(path, 0444) < 0 ? -errno : 0;
}

/* An empty, read-only directory at path. */
static int empty_dir(const char *path)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (mkdir(path, 0555) < 0 && errno != EEXIST)
		return -errno;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	if (n > 0)
		return -ENOTEMPTY;
	return chmod(path, 0555) < 0 ? -errno : 0;
}

char *secrets_masks_dir(void)
{
	const char *run = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return strdup("/run/coi/masks");
	if (run && *run == '/')
		return path_join(run, "coi/masks");
	return path_join(home_dir(), ".cache/coi/masks");
}

int secrets_mask_sources(const char *dir, char **ret_file, char **ret_dir, struct coi_error *err)
{
	_cleanup_free_ char *file = path_join(dir, "empty-file"),
	                    *empty = path_join(dir, "empty-dir");
	struct stat st;
	int r;

	if (!file || !empty)
		return coi_error_oom(err);
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return coi_error_errno(err, -r, "cannot make '%s'", dir);
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return coi_error_set(err, -EPERM, "'%s' must be a directory of yours", dir);
	r = empty_file(file);
	if (r < 0)
		return coi_error_errno(err, -r, "cannot make the empty file '%s'", file);
	r = empty_dir(empty);
	if (r < 0)
		return coi_error_errno(err, -r,
		                       "'%s' must be an empty directory (secret_paths hides with "
		                       "it); remove it",
		                       empty);
	*ret_file = TAKE_PTR(file);
	*ret_dir = TAKE_PTR(empty);
	return 0;
}
