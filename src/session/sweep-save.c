/* SPDX-License-Identifier: MIT */
/* sweep-save.c: the start of the sweep (sweep.h): what the end needs, written into the state
 * file (its format is described in sweep.c). */
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
#include "session/sweep.h"
#include "util/beneath.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strv.h"

struct save_ctx {
	struct buf *b;
	const char *rel; /* the git directory */
};

struct named_ctx {
	struct buf *b;
	int root;
	size_t left;
};

static int save_hook(int dirfd, const char *name, const struct stat *st, void *ud)
{
	struct save_ctx *c = ud;
	char sha[SHA256_HEX_LEN + 1];

	if (sweep_is_sample(name) || S_ISDIR(st->st_mode) ||
	    sweep_entry_sha(dirfd, name, st, sha) < 0)
		return 0;
	return sweep_put_rec(c->b, "hook", c->rel, name, sha);
}

static int save_config(struct buf *b, int gitfd, const char *rel, const char *file)
{
	_cleanup_buf_ struct buf text = BUF_INIT(CONFIG_MAX);
	_cleanup_close_ int fd =
	        openat(gitfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	char sha[SHA256_HEX_LEN + 1];
	struct gitconfig c = {0};
	struct stat st;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fd_read_all(fd, &text) < 0)
		return 0; /* missing, a link, or too large: whatever is there at the end is new */
	if (sha256_hex(text.data, text.len, sha) < 0)
		return -EIO;
	r = sweep_put_rec(b, "conf", rel, file, sha);
	if (r < 0 || gitconfig_parse(text.data, text.len, &c, NULL) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < c.n; i++) {
		_cleanup_buf_ struct buf kv = BUF_INIT(CONFIG_MAX);

		if (!gitconfig_runs_program(c.entries[i].name))
			continue;
		r = buf_append(&kv, c.entries[i].name, strlen(c.entries[i].name) + 1);
		if (r >= 0 && c.entries[i].value)
			r = buf_puts(&kv, c.entries[i].value);
		if (r >= 0 && sha256_hex(kv.data, kv.len, sha) < 0)
			r = -EIO;
		if (r >= 0)
			r = sweep_put_rec(b, "key", rel, file, sha);
	}
	gitconfig_release(&c);
	return r;
}

static int save_gitdir(struct buf *b, int root, const struct gitscan_dir *d, unsigned what)
{
	_cleanup_close_ int fd = beneath_open(root, d->rel, O_RDONLY | O_DIRECTORY, 0);
	_cleanup_free_ char *link = NULL;
	char sha[SHA256_HEX_LEN + 1];
	int r;

	if (fd < 0)
		return 0;
	r = buf_printf(b, "gitdir %llu %llu ", (unsigned long long)d->dev,
	               (unsigned long long)d->ino);
	if (r >= 0)
		r = sweep_put_escaped(b, d->rel);
	if (r >= 0)
		r = buf_putc(b, '\n');
	if (r >= 0 && (what & SWEEP_HOOKS)) {
		_cleanup_close_ int h = sweep_open_hooks(root, fd, d->rel, &link);

		if (link && sha256_hex(link, strlen(link), sha) == 0)
			r = sweep_put_rec(b, "hooklink", d->rel, NULL, sha);
		if (r >= 0 && h >= 0)
			r = sweep_each_entry(h, save_hook,
			                     &(struct save_ctx){.b = b, .rel = d->rel});
	}
	if (r >= 0 && (what & SWEEP_CONFIG))
		r = save_config(b, fd, d->rel, "config");
	if (r >= 0 && (what & SWEEP_WORKTREE))
		r = save_config(b, fd, d->rel, "config.worktree");
	return r;
}

/* rel and everything below it (files and links), bounded, without following a symlink */
static int save_named(struct named_ctx *c, const char *rel, unsigned depth)
{
	_cleanup_close_ int fd = -EBADF;
	DIR *d;
	int r = 0;

	if (c->left == 0)
		return 0;
	c->left--;
	fd = beneath_open(c->root, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0 || depth > 8) /* a symlink (-ELOOP) is recorded as the name itself */
		return fd == -ELOOP || depth > 8 ? sweep_put_rec(c->b, "named", rel, NULL, NULL)
		                                 : 0;
	d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 3));
	if (!d) /* not a directory */
		return sweep_put_rec(c->b, "named", rel, NULL, NULL);
	for (struct dirent *de; r >= 0 && (de = readdir(d));) {
		_cleanup_free_ char *child = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = path_join(rel, de->d_name);
		r = child ? save_named(c, child, depth + 1) : -ENOMEM;
	}
	closedir(d);
	return r;
}

static unsigned sweep_what(const struct protect_plan *p)
{
	unsigned what = 0;

	strv_foreach(g, p->git_paths) {
		if (strcmp(*g, ".git/hooks") == 0)
			what |= SWEEP_HOOKS;
		else if (strcmp(*g, ".git/config") == 0)
			what |= SWEEP_CONFIG;
		else if (strcmp(*g, ".git/config.worktree") == 0)
			what |= SWEEP_WORKTREE;
	}
	return what;
}

static int save_baseline(struct buf *b, const struct protect_plan *p)
{
	_cleanup_close_ int root = open(p->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned what = sweep_what(p);
	int r = buf_printf(b, "sweep %u\n", what);

	if (root < 0)
		return -errno;
	strv_foreach(n, p->names) {
		if (r >= 0)
			r = sweep_put_rec(b, "find", *n, NULL, NULL);
	}
	for (size_t i = 0; r >= 0 && i < p->scan.n_dirs; i++)
		r = save_gitdir(b, root, &p->scan.dirs[i], what);
	strv_foreach(n, p->scan.named) {
		struct named_ctx c = {.b = b, .root = root, .left = NAMED_MAX};

		if (r >= 0)
			r = save_named(&c, *n, 0);
	}
	return r;
}

/* The placeholder and created-dir records of another state file (a warm container's). */
static int inherit(struct buf *b, const char *from)
{
	_cleanup_buf_ struct buf old = BUF_INIT(STATE_MAX);
	int r = from ? read_file(from, &old, NULL) : -ENOENT;

	if (r == -ENOENT || strncmp(buf_str(&old), "coi-protect 1\n", 14) != 0)
		return 0;
	if (r < 0)
		return r;
	for (char *save = NULL, *line = strtok_r(old.data + 14, "\n", &save); r >= 0 && line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "placeholder ", 12) == 0 ||
		    strncmp(line, "created-dir ", 12) == 0)
			r = buf_printf(b, "%s\n", line);
	return r;
}

int sweep_save(const struct protect_plan *p, const char *name, const char *state_file,
               struct coi_error *err)
{
	return sweep_save_with(p, name, state_file, &(struct sweep_save_opts){.baseline = true},
	                       err);
}

int sweep_save_with(const struct protect_plan *p, const char *name, const char *state_file,
                    const struct sweep_save_opts *o, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(STATE_MAX);
	int r;

	r = buf_puts(&b, "coi-protect 1\n");
	if (r >= 0)
		r = sweep_put_rec(&b, "workspace", p->workspace, NULL, NULL);
	if (r >= 0)
		r = sweep_put_rec(&b, "name", name, NULL, NULL);
	for (size_t i = 0; r >= 0 && i < p->n_entries; i++) {
		const struct protect_entry *e = &p->entries[i];

		if (!e->created)
			continue;
		r = buf_printf(&b, "placeholder %c %llu %llu ", e->is_dir ? 'd' : 'f',
		               (unsigned long long)e->dev, (unsigned long long)e->ino);
		if (r >= 0)
			r = sweep_put_escaped(&b, e->rel);
		if (r >= 0)
			r = buf_putc(&b, '\n');
	}
	strv_foreach(d, p->created_dirs) {
		if (r >= 0)
			r = sweep_put_rec(&b, "created-dir", *d, NULL, NULL);
	}
	if (r >= 0)
		r = inherit(&b, o->inherit);
	if (r >= 0 && o->baseline)
		r = save_baseline(&b, p);
	if (r < 0)
		return r == -ENOMEM ? coi_error_oom(err)
		       : r == -E2BIG
		               ? coi_error_set(err, r, "the protection state is too large")
		               : coi_error_errno(err, r, "cannot record the workspace's state");
	return write_file_atomic(state_file, b.data, b.len, 0600, err);
}
