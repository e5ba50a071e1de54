/* SPDX-License-Identifier: MIT */
/* saved.c: the agent's state outlives an ephemeral container. At the end of a session the tool's
 * state directory (e.g. ~/.claude) is pulled to ~/.coi/sessions-<tool>/<id>/ with a
 * metadata.json in the original's shape; --resume pushes it into the next container. The copy
 * is atomic: a new one replaces the old only when complete. Pulls never follow or create
 * symlinks (incus_file_pull), so a hostile container cannot write outside that directory. */
#include "session/saved.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "incus/incus.h"
#include "session/state.h"
#include "session/tool.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

char *saved_sessions_dir(const char *tool)
{
	_cleanup_free_ char *dir = coi_dir();
	char *r;

	if (!dir || asprintf(&r, "%s/sessions-%s", dir, tool) < 0)
		return NULL;
	return r;
}

int saved_new_id(char ret[SAVED_ID_MAX])
{
	_cleanup_buf_ struct buf b = BUF_INIT(64);

	if (read_file("/proc/sys/kernel/random/uuid", &b, NULL) < 0 || b.len < 36)
		return -EIO;
	memcpy(ret, b.data, 36);
	ret[36] = '\0';
	return 0;
}

static int write_metadata(const char *dir, const struct saved_source *src, const char *id,
                          struct coi_error *err)
{
	_cleanup_json_ json_t *md = NULL;
	_cleanup_free_ char *text = NULL, *path = path_join(dir, "metadata.json");
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	md = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "session_id", id, "container_name",
	               src->container, "persistent", src->persistent, "workspace", src->workspace,
	               "saved_at", when, "tool", src->tool);
	text = md ? json_dumps(md, JSON_INDENT(2)) : NULL;
	if (!text || !path)
		return coi_error_oom(err);
	return write_file_atomic(path, text, strlen(text), 0600, err);
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *child = NULL;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = path_join(path, de->d_name);
		if (child && lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(child);
		else if (child)
			(void)unlink(child);
	}
	if (d)
		closedir(d);
	(void)rmdir(path);
}

/* Entries under dir other than skip (a path relative to dir), counted up to 2. */
static int count_entries(const char *dir, const char *skip)
{
	DIR *d = opendir(dir);
	int n = 0;

	for (struct dirent *de; d && n < 2 && (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (skip && strcmp(de->d_name, skip) == 0))
			continue;
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

int saved_session_save_from(struct incus_client *c, const struct saved_source *src, const char *id,
                            struct coi_error *err)
{
	const struct tool *t = tool_find(src->tool);
	_cleanup_free_ char *base = NULL, *tmp = NULL, *final = NULL, *dst = NULL, *from = NULL;
	int r;

	if (!t || !t->state_dir)
		return 0;
	base = saved_sessions_dir(t->name);
	if (!base || asprintf(&tmp, "%s/.%s.tmp", base, id) < 0 ||
	    asprintf(&final, "%s/%s", base, id) < 0 ||
	    asprintf(&from, "/home/%s/%s", src->code_user, t->state_dir) < 0 ||
	    !(dst = path_join(tmp, path_basename(t->state_dir))))
		return coi_error_oom(err);
	remove_tree(tmp);
	r = mkdir_p(tmp, 0700);
	if (r < 0)
		return coi_error_errno(err, r, "cannot create '%s'", tmp);
	/* (a directory with only the context file: not pulled, the same nothing to save) */
	r = incus_file_pull_unless(c, src->container, from, dst,
	                           t->context_file ? path_basename(t->context_file) : NULL, err);
	/* the agent never ran or kept no state (only the context coi itself wrote): nothing to
	 * save, so a plain 'coi run' does not fill ~/.coi with empty sessions */
	if (r == -ENOENT ||
	    (r >= 0 &&
	     count_entries(dst, t->context_file ? path_basename(t->context_file) : NULL) == 0)) {
		remove_tree(tmp);
		coi_error_clear(err);
		return 0;
	}
	if (r >= 0)
		r = write_metadata(tmp, src, id, err);
	if (r >= 0) {
		remove_tree(final);
		if (rename(tmp, final) < 0)
			r = coi_error_errno(err, errno, "cannot save the session to '%s'", final);
	}
	if (r < 0)
		remove_tree(tmp);
	return r < 0 ? r : 1;
}

int saved_session_save(struct session *s, const char *id, struct coi_error *err)
{
	struct saved_source src = {
	        .container = s->name,
	        .tool = s->opts->tool,
	        .code_user = s->opts->code_user,
	        .workspace = s->opts->workspace,
	        .persistent = s->opts->persistent,
	};

	return saved_session_save_from(s->client, &src, id, err);
}

int saved_session_save_instance(struct incus_client *c, const struct incus_instance *in,
                                struct coi_error *err)
{
	struct saved_source src = {
	        .container = in->name,
	        .tool = incus_map_get(&in->config, "user.coi.tool"),
	        .code_user = "code",
	        .workspace = incus_map_get(&in->config, "user.coi.workspace"),
	};
	char id[SAVED_ID_MAX];

	if (!src.tool)
		return 0;
	if (saved_new_id(id) < 0)
		return coi_error_set(err, -EIO, "cannot make a session id");
	return saved_session_save_from(c, &src, id, err);
}

/* The saved session to resume: id, or the newest saved for this workspace. */
int saved_session_find(const char *tool, const char *workspace, const char *id, char **ret_dir,
                       struct coi_error *err)
{
	_cleanup_free_ char *base = saved_sessions_dir(tool), *best = NULL;
	time_t best_time = 0;
	DIR *d;

	if (!base)
		return coi_error_oom(err);
	if (id) {
		struct stat st;

		if (strchr(id, '/') || id[0] == '.' || !(best = path_join(base, id)) ||
		    stat(best, &st) < 0)
			return coi_error_set(err, -ENOENT,
			                     "no saved %s session '%s' (coi list --all)", tool, id);
		*ret_dir = TAKE_PTR(best);
		return 0;
	}
	d = opendir(base);
	for (struct dirent *de; d && (de = readdir(d));) {
		_cleanup_free_ char *dir = NULL, *mdpath = NULL;
		_cleanup_buf_ struct buf b = BUF_INIT(64u << 10);
		_cleanup_json_ json_t *md = NULL;
		struct stat st;

		if (de->d_name[0] == '.' || !(dir = path_join(base, de->d_name)) ||
		    !(mdpath = path_join(dir, "metadata.json")) ||
		    read_file(mdpath, &b, NULL) < 0 || json_parse(b.data, b.len, &md, NULL) < 0 ||
		    stat(mdpath, &st) < 0)
			continue;
		if (!json_get_str(md, "workspace") ||
		    strcmp(json_get_str(md, "workspace"), workspace))
			continue;
		if (st.st_mtime >= best_time) {
			best_time = st.st_mtime;
			free(best);
			best = TAKE_PTR(dir);
		}
	}
	if (d)
		closedir(d);
	if (!best)
		return coi_error_set(err, -ENOENT, "no saved %s session for this workspace", tool);
	*ret_dir = TAKE_PTR(best);
	return 0;
}

int saved_session_restore(struct session *s, const char *dir, struct coi_error *err)
{
	const struct tool *t = tool_find(s->opts->tool);
	_cleanup_free_ char *src = NULL, *dst = NULL;
	struct incus_file_attrs a = {
	        .uid = s->opts->code_uid, .gid = s->opts->code_uid, .mode = -1};

	if (!t || !t->state_dir)
		return coi_error_set(err, -EINVAL, "tool '%s' keeps no state to resume",
		                     s->opts->tool);
	if (!(src = path_join(dir, path_basename(t->state_dir))) ||
	    asprintf(&dst, "/home/%s/%s", s->opts->code_user, t->state_dir) < 0)
		return coi_error_oom(err);
	return incus_file_push(s->client, s->name, src, dst, true, &a, err);
}

void saved_list_release(struct saved_entry *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].id);
		free(l[i].tool);
		free(l[i].workspace);
		free(l[i].saved_at);
		free(l[i].container);
		free(l[i].dir);
	}
	free(l);
}

static int saved_add(struct saved_entry **l, size_t *n, const char *dir)
{
	_cleanup_free_ char *mdpath = path_join(dir, "metadata.json");
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 10);
	_cleanup_json_ json_t *md = NULL;
	struct saved_entry *e;

	if (!mdpath || read_file(mdpath, &b, NULL) < 0 || json_parse(b.data, b.len, &md, NULL) < 0)
		return 0; /* not a saved session */
	e = realloc(*l, sizeof(**l) * (*n + 1));
	if (!e)
		return -ENOMEM;
	*l = e;
	e = &e[(*n)++];
	*e = (struct saved_entry){0};
	e->id = strdup(json_get_str(md, "session_id") ? json_get_str(md, "session_id") : "");
	e->tool = strdup(json_get_str(md, "tool") ? json_get_str(md, "tool") : "");
	e->workspace = strdup(json_get_str(md, "workspace") ? json_get_str(md, "workspace") : "");
	e->saved_at = strdup(json_get_str(md, "saved_at") ? json_get_str(md, "saved_at") : "");
	e->container = strdup(
	        json_get_str(md, "container_name") ? json_get_str(md, "container_name") : "");
	e->dir = strdup(dir);
	return e->id && e->tool && e->workspace && e->saved_at && e->container && e->dir ? 0
	                                                                                 : -ENOMEM;
}

static int by_time(const void *a, const void *b)
{
	return strcmp(((const struct saved_entry *)a)->saved_at,
	              ((const struct saved_entry *)b)->saved_at);
}

int saved_list(struct saved_entry **ret, size_t *ret_n, struct coi_error *err)
{
	_cleanup_free_ char *base = coi_dir();
	struct saved_entry *l = NULL;
	size_t n = 0;
	DIR *d = base ? opendir(base) : NULL;
	int r = base ? 0 : -ENOMEM;

	for (struct dirent *de; r >= 0 && d && (de = readdir(d));) {
		_cleanup_free_ char *tdir = NULL;
		DIR *td;

		if (strncmp(de->d_name, "sessions-", 9) != 0 ||
		    !(tdir = path_join(base, de->d_name)))
			continue;
		td = opendir(tdir);
		for (struct dirent *se; r >= 0 && td && (se = readdir(td));) {
			_cleanup_free_ char *sdir = NULL;

			if (se->d_name[0] == '.' || !(sdir = path_join(tdir, se->d_name)))
				continue;
			r = saved_add(&l, &n, sdir);
		}
		if (td)
			closedir(td);
	}
	if (d)
		closedir(d);
	if (r < 0) {
		saved_list_release(l, n);
		return coi_error_oom(err);
	}
	if (n)
		qsort(l, n, sizeof(*l), by_time);
	*ret = l;
	*ret_n = n;
	return 0;
}

int saved_session_delete(const struct saved_entry *e)
{
	remove_tree(e->dir);
	return access(e->dir, F_OK) == 0 ? -EIO : 0;
}
