/* SPDX-License-Identifier: MIT */
/* home.c: see home.h. */
#include "session/home.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/secret.h"
#include "incus/incus.h"
#include "session/context.h"
#include "session/forward.h"
#include "session/gitident.h"
#include "session/saved.h"
#include "session/state.h"
#include "session/tool.h"
#include "session/undo.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/path.h"

static int write_home_file(struct session *s, const char *rel, const char *text, int mode,
                           struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct incus_file_attrs a = {
	        .uid = s->opts->code_uid, .gid = s->opts->code_uid, .mode = mode};

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, rel) < 0)
		return coi_error_oom(err);
	return incus_file_write(s->client, s->name, path, text, strlen(text), &a, err);
}

/* mkdir -p of a directory under the code user's home, owned by code. The home itself (and /home)
 * only by the first of a start: after it they are there, and each mkdir is a request. */
static int make_home_dir(struct session *s, const char *rel, struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct incus_file_attrs a = {
	        .uid = s->opts->code_uid, .gid = s->opts->code_uid, .mode = 0700};
	int r;

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, rel) < 0)
		return coi_error_oom(err);
	if (s->home_made)
		return incus_file_mkdir_below(s->client, s->name, path,
		                              strlen("/home/") + strlen(s->opts->code_user), &a,
		                              err);
	r = forward_mkdirs(s, path, err);
	s->home_made = r >= 0;
	return r;
}

/* The directory that holds rel (a path under the code user's home), made when rel has one. */
static int make_parent_dir(struct session *s, const char *rel, struct coi_error *err)
{
	_cleanup_free_ char *dir = strdup(rel);
	char *slash;

	if (!dir)
		return coi_error_oom(err);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return make_home_dir(s, dir, err);
}

/* ---- what follows from the config and the workspace alone ---------------------------------
 *
 * The directories and files below are the same for every session of a config, workspace and
 * container (its name and slot): a warm container's filler writes them before it marks it, and
 * their text is in the mark (home_fingerprint), so that a claimer whose config, workspace or host
 * files would write another text matches none. One list, walked by a writer (a cold start, the
 * filler) and by the fingerprint, so the two cannot drift apart. */

enum home_item {
	HOME_DIR,    /* mkdir -p, code's, 0700 */
	HOME_FILE,   /* written whole, code's, of mode */
	HOME_MERGED, /* coi's block in the file that is there (the tool's context file) */
};

struct home_sink {
	int (*put)(struct home_sink *k, enum home_item what, const char *rel, const char *text,
	           int mode, struct coi_error *err);
	struct session *s;
	struct buf *out; /* the fingerprint's text */
	bool clash;      /* a secret's login file is one of these (home_by_filler) */
};

static int merge_tool_context(struct session *s, const char *rel, const char *context,
                              struct coi_error *err)
{
	_cleanup_buf_ struct buf old = BUF_INIT(1u << 20), merged = BUF_INIT(2u << 20);
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, rel) < 0)
		return coi_error_oom(err);
	r = incus_file_read(s->client, s->name, path, &old, err);
	if (r < 0 && r != -ENOENT)
		return r;
	coi_error_clear(err);
	if (context_merge_block(r < 0 ? NULL : buf_str(&old), context, &merged) < 0)
		return coi_error_oom(err);
	return write_home_file(s, rel, buf_str(&merged), 0644, err);
}

static int put_write(struct home_sink *k, enum home_item what, const char *rel, const char *text,
                     int mode, struct coi_error *err)
{
	switch (what) {
	case HOME_DIR:
		return make_home_dir(k->s, rel, err);
	case HOME_MERGED:
		return merge_tool_context(k->s, rel, text, err);
	case HOME_FILE:
	default:
		return write_home_file(k->s, rel, text, mode, err);
	}
}

static int put_hash(struct home_sink *k, enum home_item what, const char *rel, const char *text,
                    int mode, struct coi_error *err)
{
	size_t n = text ? strlen(text) : 0;

	if (buf_printf(k->out, "%d %s %o %zu\n", (int)what, rel, (unsigned)mode, n) < 0 ||
	    buf_append(k->out, text ? text : "", n) < 0 || buf_putc(k->out, '\n') < 0)
		return coi_error_oom(err);
	return 0;
}

/* Whether a [[secrets]] login file (written by the supervisor's side, credproxy.c, before these in
 * a cold start, after them in a claimed one) has the name of one of these: then the order decides
 * what is left, and the claimer writes them all. By name alone: a false alarm costs speed only. */
static int put_clash(struct home_sink *k, enum home_item what, const char *rel, const char *text,
                     int mode, struct coi_error *err)
{
	const struct egress_set *set = k->s->opts->secrets;

	(void)what, (void)text, (void)mode, (void)err;
	for (size_t i = 0; set && i < set->n; i++)
		if (set->v[i].container_file &&
		    strcmp(path_basename(set->v[i].container_file), path_basename(rel)) == 0)
			k->clash = true;
	return 0;
}

/* opencode reads its permissions from its config: allow everything in bypass mode. */
static int opencode_bypass(struct home_sink *k, struct coi_error *err)
{
	int r = k->put(k, HOME_DIR, ".config/opencode", NULL, 0700, err);

	if (r < 0)
		return r;
	return k->put(k, HOME_FILE, ".config/opencode/opencode.json",
	              "{\n  \"permission\": {\"edit\": \"allow\", \"bash\": \"allow\", "
	              "\"webfetch\": \"allow\"}\n}\n",
	              0644, err);
}

/* [git] name, email, seed_host_identity: the code user's ~/.gitconfig (gitident.h). */
static int git_identity(struct home_sink *k, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 10);
	const struct session_git *g = &k->s->opts->git;

	if (gitident_text(g->name, g->email, g->seed_host, home_dir(), &b) < 0)
		return coi_error_oom(err);
	return b.len ? k->put(k, HOME_FILE, ".gitconfig", buf_str(&b), 0644, err) : 0;
}

/* ~/SANDBOX_CONTEXT.md: rendered, or [tool] context_file's text. */
static int sandbox_context(struct session *s, struct buf *out, struct coi_error *err)
{
	int r;

	if (!s->opts->context_file)
		return context_render(s, out) < 0 ? coi_error_oom(err) : 0;
	r = read_file(s->opts->context_file, out, err);
	return r < 0 ? coi_error_prefix(err, "[tool] context_file") : 0;
}

/* ~/SANDBOX_CONTEXT.json: rendered, or [tool] context_json_file's, which must be JSON (it is for
 * programs: a broken file would break exactly them). */
static int context_json(struct home_sink *k, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	const struct session_opts *o = k->s->opts;
	json_error_t je;
	json_t *j;
	int r;

	if (!o->context_json && !o->context_json_file)
		return 0;
	if (!o->context_json_file) {
		if (context_render_json(k->s, &b) < 0)
			return coi_error_oom(err);
		return k->put(k, HOME_FILE, "SANDBOX_CONTEXT.json", buf_str(&b), 0644, err);
	}
	r = read_file(o->context_json_file, &b, err);
	if (r < 0)
		return coi_error_prefix(err, "[tool] context_json_file");
	j = json_loadb(b.data, b.len, 0, &je);
	if (!j)
		return coi_error_set(err, -EINVAL,
		                     "[tool] context_json_file: %s:%d:%d: not JSON: %s",
		                     o->context_json_file, je.line, je.column, je.text);
	json_decref(j);
	return k->put(k, HOME_FILE, "SANDBOX_CONTEXT.json", buf_str(&b), 0644, err);
}

/* The tool's own context file gets the sandbox context as a marked block (context.h). */
static int tool_context(struct home_sink *k, const char *context, struct coi_error *err)
{
	const struct tool *t = tool_find(k->s->opts->tool);
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int r = 0;

	if (!t || !k->s->opts->auto_context || !t->context_file)
		return 0;
	dir = strdup(t->context_file);
	if (!dir)
		return coi_error_oom(err);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = k->put(k, HOME_DIR, dir, NULL, 0700, err);
	}
	return r < 0 ? r : k->put(k, HOME_MERGED, t->context_file, context, 0644, err);
}

/* The list, in the order a cold start writes it. */
static int config_files(struct home_sink *k, struct coi_error *err)
{
	_cleanup_buf_ struct buf ctx = BUF_INIT(64u << 10);
	const struct tool *t = tool_find(k->s->opts->tool);
	int r = sandbox_context(k->s, &ctx, err);

	if (r >= 0) /* where the environment file goes, the claimer's (per session) */
		r = k->put(k, HOME_DIR, ".config/coi", NULL, 0700, err);
	if (r >= 0)
		r = k->put(k, HOME_FILE, "SANDBOX_CONTEXT.md", buf_str(&ctx), 0644, err);
	if (r >= 0)
		r = context_json(k, err);
	if (r >= 0)
		r = git_identity(k, err);
	if (r >= 0)
		r = tool_context(k, buf_str(&ctx), err);
	if (r >= 0 && t && k->s->opts->bypass && strcmp(t->name, "opencode") == 0)
		r = opencode_bypass(k, err);
	return r;
}

/* Not when the session forwards sockets or ports (their numbers are picked, and their
 * variables named, after the claim decides; the context lists them), nor when a secret's login
 * file could be one of them. */
bool home_by_filler(struct session *s)
{
	const struct session_opts *o = s->opts;
	struct home_sink k = {.put = put_clash, .s = s};

	if (o->n_sockets || o->n_ports || o->port_pool)
		return false;
	if (o->secrets && config_files(&k, NULL) < 0)
		return false;
	return !k.clash;
}

int home_prepare_warm(struct session *s, struct coi_error *err)
{
	struct home_sink k = {.put = put_write, .s = s};
	int r = home_by_filler(s) ? config_files(&k, err) : 0;

	return r < 0 ? coi_error_prefix(err, "preparing the code user's environment") : 0;
}

int home_fingerprint(struct session *s, struct buf *out)
{
	_cleanup_buf_ struct buf b = BUF_INIT(8u << 20);
	struct home_sink k = {.put = put_hash, .s = s, .out = &b};
	char sha[SHA256_HEX_LEN + 1];
	struct coi_error e = {0};

	if (!home_by_filler(s))
		return buf_puts(out, "home=claimer's\n");
	/* what cannot be rendered now (an unreadable [tool] context_file) no filler wrote: it
	 * matches nothing, and the cold start says why */
	if (config_files(&k, &e) < 0)
		return buf_printf(out, "home=unrendered %d\n", e.code);
	if (sha256_hex(b.data, b.len, sha) < 0)
		return -ENOMEM;
	return buf_printf(out, "home=%s\n", sha);
}

static int undo_forward(struct session *s, struct coi_error *err)
{
	return forward_devices_remove(s, err);
}

/* Sockets in and ports out (forward.c); a persistent container must not keep them: they would
 * bind host ports and need host sockets the next time it starts. */
static int forward(struct session *s, struct coi_error *err)
{
	int r = forward_devices_add(s, err);

	if (r < 0 || !(s->opts->persistent || s->reused))
		return r;
	return session_undo_push(s, "remove forwarded devices", undo_forward) < 0
	               ? coi_error_oom(err)
	               : 0;
}

/* [tool] copy_credentials: the tool's own login, copied (never mounted) as code's, mode 0600. */
static int copy_credentials(struct session *s, const struct tool *t, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	int r;

	if (!s->opts->credentials || !t || !t->credential_file)
		return 0;
	r = read_file(s->opts->credentials, &b, err);
	if (r < 0)
		return coi_error_prefix(err, "[tool] copy_credentials");
	r = make_parent_dir(s, t->credential_file, err);
	if (r < 0)
		return r;
	return write_home_file(s, t->credential_file, buf_str(&b), 0600, err);
}

int home_prepare_user(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf env = BUF_INIT(1u << 20);
	struct home_sink k = {.put = put_write, .s = s};
	const struct tool *t = tool_find(s->opts->tool);
	/* a claimed container has what follows from the config: its filler wrote it, and its
	 * mark says for which (home_fingerprint) */
	bool written = s->claimed && home_by_filler(s);
	int r;

	if (context_env_file(s->opts, &env) < 0)
		return coi_error_oom(err);
	s->home_made = s->home_made || written;
	r = s->opts->resume_dir ? saved_session_restore(s, s->opts->resume_dir, err) : 0;
	if (r >= 0)
		r = forward(s, err);
	if (r >= 0 && !written)
		r = config_files(&k, err);
	if (r >= 0)
		r = write_home_file(s, ".config/coi/env", buf_str(&env), 0600, err);
	if (r >= 0)
		r = copy_credentials(s, t, err);
	if (r >= 0)
		r = forward_copy_credentials(s, err);
	return r < 0 ? coi_error_prefix(err, "preparing the code user's environment") : 0;
}
