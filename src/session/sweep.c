/* SPDX-License-Identifier: MIT */
/* sweep.c: see sweep.h. The state file is text, one record a line, fields separated by spaces,
 * paths escaped (%XX for every byte but [A-Za-z0-9._/+-]) so no name can break a record:
 *
 *   coi-protect 1
 *   workspace PATH
 *   name CONTAINER
 *   placeholder f|d DEV INO REL     an empty file or directory coi made
 *   created-dir REL                 a directory made to hold one (removed when empty)
 *   sweep hooks|config|config.worktree   which git paths were protected (and are swept)
 *   gitdir DEV INO REL              a git directory at the start
 *   hook REL NAME SHA               a hook (not a sample) and its content (or link target)
 *   conf REL FILE SHA               config / config.worktree as it was
 *   key REL FILE SHA                a key that runs a program, SHA of "name\0value"
 *   named REL                       a file at a protected name in a folder (.vscode/...)
 *
 * At the end, a git directory that is not one of the start's (by path and inode) is new: every
 * hook in it and every key that runs a program is taken; in one of the start's, only what is not
 * in the baseline. A file at a protected name that was not there at the start is taken. */
#include "session/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/gitconfig.h"
#include "session/gitscan.h"
#include "session/protect.h"
#include "session/quarantine.h"
#include "session/sweep-record.h"
#include "util/beneath.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strv.h"

struct gitdir_rec {
	char *rel;
	dev_t dev;
	ino_t ino;
};

struct state {
	char *workspace;
	char *name;
	char **created_dirs;
	unsigned what;
	struct gitdir_rec *dirs;
	size_t n_dirs;
	char **base; /* "hook REL NAME SHA", "conf ...", "key ...", "hooklink REL SHA", "named REL"
	                as written (escaped), for lookups */
};

static void state_release(struct state *st)
{
	free(st->workspace);
	free(st->name);
	strv_free(st->created_dirs);
	for (size_t i = 0; i < st->n_dirs; i++)
		free(st->dirs[i].rel);
	free(st->dirs);
	strv_free(st->base);
}

/* One "placeholder" record: removed at once (the workspace line comes first). */
static int do_placeholder(const struct state *st, char *rest, struct coi_error *err)
{
	unsigned long long dev, ino;
	char kind, rel[4096];
	_cleanup_free_ char *host = NULL;
	int r;

	if (sscanf(rest, "%c %llu %llu %4095s", &kind, &dev, &ino, rel) != 4 ||
	    !sweep_unescape(rel) || !path_is_safe_relative(rel) || !st->workspace)
		return coi_error_set(err, -EINVAL, "a malformed placeholder record");
	host = path_join(st->workspace, rel);
	if (!host)
		return coi_error_oom(err);
	r = protect_placeholder_remove(host, kind == 'd', (dev_t)dev, (ino_t)ino);
	return r < 0 ? coi_error_errno(err, r, "cannot remove the placeholder '%s'", rel) : 0;
}

static int do_gitdir(struct state *st, const char *rest, struct coi_error *err)
{
	unsigned long long dev, ino;
	char rel[4096];
	struct gitdir_rec *d;

	if (sscanf(rest, "%llu %llu %4095s", &dev, &ino, rel) != 3 || !sweep_unescape(rel) ||
	    !path_is_safe_relative(rel))
		return coi_error_set(err, -EINVAL, "a malformed git directory record");
	d = realloc(st->dirs, sizeof(*d) * (st->n_dirs + 1));
	if (!d)
		return coi_error_oom(err);
	st->dirs = d;
	d = &st->dirs[st->n_dirs];
	*d = (struct gitdir_rec){.dev = (dev_t)dev, .ino = (ino_t)ino, .rel = strdup(rel)};
	if (!d->rel)
		return coi_error_oom(err);
	st->n_dirs++;
	return 0;
}

static int do_record(struct state *st, char *line, struct coi_error *err)
{
	char *rest = strchr(line, ' '), *kind = line;

	if (!rest)
		return 0;
	*rest++ = '\0';
	if (strcmp(kind, "workspace") == 0 || strcmp(kind, "name") == 0) {
		char **dst = kind[0] == 'w' ? &st->workspace : &st->name;

		if (*dst || !sweep_unescape(rest) || (kind[0] == 'w' && rest[0] != '/'))
			return coi_error_set(err, -EINVAL, "a malformed %s record", kind);
		*dst = strdup(rest);
		return *dst ? 0 : coi_error_oom(err);
	}
	if (strcmp(kind, "placeholder") == 0)
		return do_placeholder(st, rest, err);
	if (strcmp(kind, "created-dir") == 0) {
		if (!sweep_unescape(rest) || !path_is_safe_relative(rest))
			return coi_error_set(err, -EINVAL, "a malformed directory record");
		return strv_push(&st->created_dirs, rest) < 0 ? coi_error_oom(err) : 0;
	}
	if (strcmp(kind, "sweep") == 0)
		return sscanf(rest, "%u", &st->what) == 1
		               ? 0
		               : coi_error_set(err, -EINVAL, "a malformed sweep record");
	if (strcmp(kind, "gitdir") == 0)
		return do_gitdir(st, rest, err);
	if (strcmp(kind, "hook") == 0 || strcmp(kind, "hooklink") == 0 ||
	    strcmp(kind, "conf") == 0 || strcmp(kind, "key") == 0 || strcmp(kind, "named") == 0 ||
	    strcmp(kind, "find") == 0) {
		rest[-1] = ' ';
		return strv_push(&st->base, kind) < 0 ? coi_error_oom(err) : 0;
	}
	return 0; /* a record of a later coi: not ours to act on */
}

/* Is this record (built as sweep_save writes it) in the baseline? */
static bool in_base(const struct state *st, const char *kind, const char *a, const char *c,
                    const char *sha)
{
	_cleanup_buf_ struct buf b = BUF_INIT(STATE_MAX);

	if (sweep_put_rec(&b, kind, a, c, sha) < 0)
		return false;
	b.data[--b.len] = '\0'; /* no newline: strtok took it */
	return strv_contains(st->base, b.data);
}

static const struct gitdir_rec *known_gitdir(const struct state *st, const struct gitscan_dir *d)
{
	for (size_t i = 0; i < st->n_dirs; i++)
		if (strcmp(st->dirs[i].rel, d->rel) == 0)
			return st->dirs[i].dev == d->dev && st->dirs[i].ino == d->ino ? &st->dirs[i]
			                                                              : NULL;
	return NULL;
}

/* ---- the end -------------------------------------------------------------------------------- */

struct sweep {
	const struct state *st;
	const struct gitscan *scan;
	struct quarantine *q;
	int root;
	const char *rel; /* the git directory */
	const char *hooks_rel;
	bool known;
};

static int sweep_hook(int dirfd, const char *name, const struct stat *st, void *ud)
{
	struct sweep *w = ud;
	_cleanup_free_ char *rel = NULL;
	char sha[SHA256_HEX_LEN + 1];

	if (sweep_is_sample(name) || S_ISDIR(st->st_mode))
		return 0; /* git runs neither */
	if (sweep_entry_sha(dirfd, name, st, sha) < 0)
		strcpy(sha, "unreadable");
	if (w->known && in_base(w->st, "hook", w->rel, name, sha))
		return 0;
	rel = path_join(w->hooks_rel, name);
	if (!rel)
		return -ENOMEM;
	return quarantine_move(w->q, dirfd, name, rel,
	                       "a hook written during the session (the host's git runs hooks)");
}

static int sweep_hooks(struct sweep *w, int gitfd)
{
	_cleanup_free_ char *link = NULL, *rel = path_join(w->rel, "hooks");
	_cleanup_close_ int fd = -EBADF;
	char sha[SHA256_HEX_LEN + 1];

	if (!rel)
		return -ENOMEM;
	fd = sweep_open_hooks(w->root, gitfd, w->rel, &link);
	if (link && (!w->known || sha256_hex(link, strlen(link), sha) < 0 ||
	             !in_base(w->st, "hooklink", w->rel, NULL, sha))) {
		closep(&fd);
		return quarantine_move(
		        w->q, gitfd, "hooks", rel,
		        "a hooks directory that is a symlink, made during the session");
	}
	if (fd < 0)
		return 0;
	w->hooks_rel = rel;
	return sweep_each_entry(fd, sweep_hook, w);
}

/* core.worktree naming the very directory whose .git file names this git directory: what git
 * submodule add and absorbgitdirs write, left alone. Anywhere else it would send a checkout's
 * files over other files (the host's, or another repository's hooks). */
static bool own_worktree(const struct sweep *w, const char *value)
{
	_cleanup_free_ char *abs = NULL, *clean = NULL, *dotgit = NULL;
	size_t n = strlen(w->st->workspace);

	if (value[0] == '/')
		abs = strdup(value);
	else if (asprintf(&abs, "%s/%s/%s", w->st->workspace, w->rel, value) < 0)
		abs = NULL;
	if (!abs || !(clean = path_clean(abs)) || strncmp(clean, w->st->workspace, n) != 0 ||
	    clean[n] != '/' || !(dotgit = path_join(clean + n + 1, ".git")))
		return false;
	for (size_t i = 0; i < w->scan->n_ptrs; i++) {
		const struct gitscan_pointer *p = &w->scan->ptrs[i];

		if (!p->symlink && p->target && strcmp(p->rel, dotgit) == 0 &&
		    strcmp(p->target, w->rel) == 0)
			return true;
	}
	return false;
}

static bool drop_key(const struct sweep *w, const char *file, const struct gitconfig_entry *e)
{
	_cleanup_buf_ struct buf kv = BUF_INIT(CONFIG_MAX);
	char sha[SHA256_HEX_LEN + 1];

	if (!gitconfig_runs_program(e->name))
		return false;
	if (strcmp(e->name, "core.worktree") == 0 && e->value && own_worktree(w, e->value))
		return false;
	if (!w->known)
		return true;
	if (buf_append(&kv, e->name, strlen(e->name) + 1) < 0 ||
	    (e->value && buf_puts(&kv, e->value) < 0) || sha256_hex(kv.data, kv.len, sha) < 0)
		return true;
	return !in_base(w->st, "key", w->rel, file, sha);
}

/* The text without the dropped entries reads again, with none of them and the rest the same. */
static bool rewrite_ok(const struct gitconfig *c, const bool *drop, const struct buf *out)
{
	struct gitconfig again = {0};
	size_t k = 0;
	bool ok = gitconfig_parse(out->data ? out->data : "", out->len, &again, NULL) == 0;

	for (size_t i = 0; ok && i < c->n; i++) {
		if (drop[i])
			continue;
		ok = k < again.n && strcmp(c->entries[i].name, again.entries[k].name) == 0 &&
		     ((!c->entries[i].value && !again.entries[k].value) ||
		      (c->entries[i].value && again.entries[k].value &&
		       strcmp(c->entries[i].value, again.entries[k].value) == 0));
		k++;
	}
	ok = ok && k == again.n;
	gitconfig_release(&again);
	return ok;
}

/* Replace file in gitfd with out, as the same owner and mode, through a new file and a rename. */
static int replace_file(int gitfd, const char *file, const struct stat *st, const struct buf *out)
{
	char tmp[64];
	int fd, r;

	(void)snprintf(tmp, sizeof(tmp), ".%s.coi-%d", file, (int)getpid());
	fd = openat(gitfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	            st->st_mode & 0666);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, out->data ? out->data : "", out->len);
	if (r >= 0 && geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) < 0)
		r = -errno;
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	(void)close(fd);
	if (r >= 0 && renameat(gitfd, tmp, gitfd, file) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(gitfd, tmp, 0);
	return r;
}

static int note_keys(struct sweep *w, const char *rel, const struct gitconfig *c, const bool *drop)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < c->n; i++)
		if (drop[i])
			r = quarantine_note(w->q,
			                    "'%s' line %u: %s = '%s' taken out (it runs a "
			                    "program, or reads more configuration)",
			                    rel, c->entries[i].line, c->entries[i].name,
			                    c->entries[i].value ? c->entries[i].value : "true");
	return r;
}

/* config or config.worktree of a git directory: the keys that run programs and were not there
 * at the start are taken out; a file coi cannot read as git does is taken whole. */
static int sweep_config(struct sweep *w, int gitfd, const char *file)
{
	_cleanup_buf_ struct buf text = BUF_INIT(CONFIG_MAX), out = BUF_INIT(CONFIG_MAX + 1);
	_cleanup_free_ char *rel = path_join(w->rel, file);
	_cleanup_free_ bool *drop = NULL;
	_cleanup_close_ int fd = -EBADF;
	char sha[SHA256_HEX_LEN + 1];
	struct gitconfig c = {0};
	struct stat st;
	size_t n = 0;
	int r;

	if (!rel)
		return -ENOMEM;
	fd = openat(gitfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fd_read_all(fd, &text) < 0)
		return quarantine_move(
		        w->q, gitfd, file, rel,
		        "a git configuration coi cannot read as git would (a symlink, "
		        "not a file, or too large), written during the session");
	if (sha256_hex(text.data, text.len, sha) < 0)
		return -EIO;
	if (w->known && in_base(w->st, "conf", w->rel, file, sha))
		return 0; /* as it was */
	if (gitconfig_parse(text.data, text.len, &c, NULL) < 0)
		return quarantine_move(w->q, gitfd, file, rel,
		                       "a git configuration written during the session that coi "
		                       "cannot read exactly as git does: taken whole");
	drop = calloc(c.n + 1, sizeof(bool));
	for (size_t i = 0; drop && i < c.n; i++)
		n += (drop[i] = drop_key(w, file, &c.entries[i]));
	r = drop ? 0 : -ENOMEM;
	if (r >= 0 && n &&
	    (gitconfig_without(text.data, text.len, &c, drop, &out) < 0 ||
	     !rewrite_ok(&c, drop, &out)))
		r = quarantine_move(
		        w->q, gitfd, file, rel,
		        "a git configuration with keys that run programs, which coi could "
		        "not take out alone: taken whole");
	else if (r >= 0 && n) {
		r = note_keys(w, rel, &c, drop);
		if (r >= 0)
			r = quarantine_keep(w->q, rel, text.data, text.len, NULL);
		if (r >= 0)
			r = replace_file(gitfd, file, &st, &out);
		if (r < 0) {
			quarantine_failed(w->q);
			r = quarantine_note(w->q,
			                    "'%s' COULD NOT BE REWRITTEN (%s): remove those keys "
			                    "before you run git there",
			                    rel, strerror(-r));
		}
	}
	gitconfig_release(&c);
	return r;
}

static int sweep_gitdir(const struct state *st, const struct gitscan *s, struct quarantine *q,
                        int root, const struct gitscan_dir *d)
{
	_cleanup_close_ int fd = beneath_open(root, d->rel, O_RDONLY | O_DIRECTORY, 0);
	struct sweep w = {.st = st, .scan = s, .q = q, .root = root, .rel = d->rel};
	int r = 0;

	if (fd < 0)
		return 0;
	w.known = known_gitdir(st, d) != NULL;
	if (st->what & SWEEP_HOOKS)
		r = sweep_hooks(&w, fd);
	if (r >= 0 && (st->what & SWEEP_CONFIG))
		r = sweep_config(&w, fd, "config");
	if (r >= 0 && (st->what & SWEEP_WORKTREE))
		r = sweep_config(&w, fd, "config.worktree");
	return r;
}

/* Files at a protected name (.vscode/tasks.json in any folder) that were not there at the start. */
static int sweep_named(const struct state *st, struct quarantine *q, int root, const char *rel,
                       unsigned depth)
{
	_cleanup_close_ int fd = -EBADF;
	const char *name;
	DIR *d;
	int r = 0;

	fd = beneath_open(root, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	d = fd >= 0 && depth <= 8 ? fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 3)) : NULL;
	if (!d) {
		_cleanup_close_ int parent = -EBADF;

		if (in_base(st, "named", rel, NULL, NULL))
			return 0;
		parent = beneath_open_parent(root, rel, &name);
		return parent < 0
		               ? 0
		               : quarantine_move(q, parent, name, rel,
		                                 "a file at a protected name, made during the "
		                                 "session (hosts' editors and agents read these)");
	}
	for (struct dirent *de; r >= 0 && (de = readdir(d));) {
		_cleanup_free_ char *child = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = path_join(rel, de->d_name);
		r = child ? sweep_named(st, q, root, child, depth + 1) : -ENOMEM;
	}
	closedir(d);
	return r;
}

static int sweep_all(const struct state *st, char **names, struct quarantine *q,
                     struct coi_error *err)
{
	_cleanup_close_ int root = open(st->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct gitscan s = {0};
	int r;

	if (root < 0)
		return 0; /* the workspace is gone: nothing of it to run */
	r = gitscan_walk(st->workspace, &(struct gitscan_opts){.names = names}, &s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < s.n_dirs; i++)
		r = sweep_gitdir(st, &s, q, root, &s.dirs[i]);
	strv_foreach(n, s.named) {
		if (r >= 0)
			r = sweep_named(st, q, root, *n, 0);
	}
	if (r >= 0 && s.truncated) {
		_cleanup_free_ char *left = gitscan_not_walked_text(&s);

		r = quarantine_note(
		        q,
		        "the walk for git directories stopped after %zu entries: not "
		        "checked: %s (look there for hooks and configuration before you "
		        "run git in them)",
		        s.entries, left ? left : "(unknown)");
	}
	gitscan_release(&s);
	return r < 0 ? coi_error_errno(err, r, "cannot check the workspace's git directories") : 0;
}

/* The names of the protected paths to look for in every folder: the state's named records
 * say which matched at the start; the list itself is the plan's (recorded as "find"). */
static char **names_of(const struct state *st)
{
	char **l = NULL;

	strv_foreach(b, st->base) {
		_cleanup_free_ char *n = NULL;

		if (strncmp(*b, "find ", 5) != 0)
			continue;
		n = strdup(*b + 5);
		if (!n || !sweep_unescape(n) || !path_is_safe_relative(n) || strv_push(&l, n) < 0) {
			strv_free(l);
			return NULL;
		}
	}
	return l;
}

/* Whether a record is one of the placeholders (or a directory made to hold one). */
static bool is_placeholder_rec(const char *line)
{
	return strncmp(line, "placeholder ", 12) == 0 || strncmp(line, "created-dir ", 12) == 0;
}

int sweep_hand_over(const char *state_file, const char *heir, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(STATE_MAX), keep = BUF_INIT(STATE_MAX),
	                         to = BUF_INIT(STATE_MAX);
	size_t given = 0;
	int r = read_file(state_file, &b, NULL);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return coi_error_errno(err, r, "cannot read '%s'", state_file);
	r = read_file(heir, &to, NULL);
	if (r < 0)
		return coi_error_errno(err, r, "cannot read '%s'", heir);
	for (char *save = NULL, *line = strtok_r(b.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool give = is_placeholder_rec(line);

		if (buf_printf(give ? &to : &keep, "%s\n", line) < 0)
			return coi_error_oom(err);
		given += give;
	}
	if (!given)
		return 0;
	/* the heir's end removes them; its own records come first (the workspace line) */
	r = write_file_atomic(heir, to.data, to.len, 0600, err);
	return r < 0 ? r : write_file_atomic(state_file, keep.data, keep.len, 0600, err);
}

int sweep_finish(const char *state_file, char ***ret_report, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(STATE_MAX);
	_cleanup_strv_free_ char **names = NULL;
	struct quarantine q = {0};
	struct state st = {0};
	int r, first = 0;

	if (ret_report)
		*ret_report = NULL;
	r = read_file(state_file, &b, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return coi_error_errno(err, r, "cannot read '%s'", state_file);
	if (strncmp(buf_str(&b), "coi-protect 1\n", 14) != 0)
		return coi_error_set(err, -EINVAL, "'%s' is not a protection state", state_file);
	for (char *save = NULL, *line = strtok_r(b.data + 14, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		r = do_record(&st, line, first ? NULL : err);
		if (r < 0 && !first)
			first = r;
	}
	names = names_of(&st);
	if (st.workspace && (st.what || names) &&
	    quarantine_init(&q, st.workspace, st.name ? st.name : "session", NULL) == 0) {
		r = sweep_all(&st, names, &q, first ? NULL : err);
		if (r < 0 && !first)
			first = r;
		r = quarantine_close(&q, ret_report, first ? NULL : err);
		if (r < 0 && !first)
			first = r;
		quarantine_release(&q);
	}
	for (size_t i = strv_length(st.created_dirs); st.workspace && i-- > 0;) {
		_cleanup_free_ char *host = path_join(st.workspace, st.created_dirs[i]);

		if (host)
			(void)rmdir(host); /* only when empty */
	}
	state_release(&st);
	if (first < 0)
		return first;
	if (unlink(state_file) < 0 && errno != ENOENT)
		return coi_error_errno(err, errno, "cannot remove '%s'", state_file);
	return 0;
}
