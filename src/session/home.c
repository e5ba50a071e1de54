/* SPDX-License-Identifier: MIT */
/* home.c: see home.h. */
#include "session/home.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* mkdir -p of a directory under the code user's home, owned by code. */
static int make_home_dir(struct session *s, const char *rel, struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, rel) < 0)
		return coi_error_oom(err);
	return forward_mkdirs(s, path, err);
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

static int inject_tool_context(struct session *s, const struct tool *t, const char *context,
                               struct coi_error *err)
{
	_cleanup_buf_ struct buf old = BUF_INIT(1u << 20), merged = BUF_INIT(2u << 20);
	_cleanup_free_ char *path = NULL;
	int r;

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, t->context_file) < 0)
		return coi_error_oom(err);
	r = make_parent_dir(s, t->context_file, err);
	if (r < 0)
		return r;
	r = incus_file_read(s->client, s->name, path, &old, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (context_merge_block(r < 0 ? NULL : buf_str(&old), context, &merged) < 0)
		return coi_error_oom(err);
	return write_home_file(s, t->context_file, buf_str(&merged), 0644, err);
}

/* opencode reads its permissions from its config: allow everything in bypass mode. */
static int opencode_bypass(struct session *s, struct coi_error *err)
{
	int r = make_home_dir(s, ".config/opencode", err);

	if (r < 0)
		return r;
	return write_home_file(s, ".config/opencode/opencode.json",
	                       "{\n  \"permission\": {\"edit\": \"allow\", \"bash\": \"allow\", "
	                       "\"webfetch\": \"allow\"}\n}\n",
	                       0644, err);
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

/* [git] name, email, seed_host_identity: the code user's ~/.gitconfig (gitident.h). */
static int write_git_identity(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 10);
	const struct session_git *g = &s->opts->git;

	if (gitident_text(g->name, g->email, g->seed_host, home_dir(), &b) < 0)
		return coi_error_oom(err);
	return b.len ? write_home_file(s, ".gitconfig", buf_str(&b), 0644, err) : 0;
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
static int write_context_json(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	json_error_t je;
	json_t *j;
	int r;

	if (!s->opts->context_json && !s->opts->context_json_file)
		return 0;
	if (!s->opts->context_json_file) {
		if (context_render_json(s, &b) < 0)
			return coi_error_oom(err);
		return write_home_file(s, "SANDBOX_CONTEXT.json", buf_str(&b), 0644, err);
	}
	r = read_file(s->opts->context_json_file, &b, err);
	if (r < 0)
		return coi_error_prefix(err, "[tool] context_json_file");
	j = json_loadb(b.data, b.len, 0, &je);
	if (!j)
		return coi_error_set(err, -EINVAL,
		                     "[tool] context_json_file: %s:%d:%d: not JSON: %s",
		                     s->opts->context_json_file, je.line, je.column, je.text);
	json_decref(j);
	return write_home_file(s, "SANDBOX_CONTEXT.json", buf_str(&b), 0644, err);
}

int home_prepare_user(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf ctx = BUF_INIT(64u << 10), env = BUF_INIT(1u << 20);
	const struct tool *t = tool_find(s->opts->tool);
	int r;

	r = sandbox_context(s, &ctx, err);
	if (r < 0)
		return r;
	if (context_env_file(s->opts, &env) < 0)
		return coi_error_oom(err);
	r = s->opts->resume_dir ? saved_session_restore(s, s->opts->resume_dir, err) : 0;
	if (r >= 0)
		r = forward(s, err);
	if (r >= 0)
		r = make_home_dir(s, ".config/coi", err);
	if (r >= 0)
		r = write_home_file(s, ".config/coi/env", buf_str(&env), 0600, err);
	if (r >= 0)
		r = write_home_file(s, "SANDBOX_CONTEXT.md", buf_str(&ctx), 0644, err);
	if (r >= 0)
		r = write_context_json(s, err);
	if (r >= 0)
		r = write_git_identity(s, err);
	if (r >= 0 && t && s->opts->auto_context && t->context_file)
		r = inject_tool_context(s, t, buf_str(&ctx), err);
	if (r >= 0 && t && s->opts->bypass && strcmp(t->name, "opencode") == 0)
		r = opencode_bypass(s, err);
	if (r >= 0)
		r = copy_credentials(s, t, err);
	if (r >= 0)
		r = forward_copy_credentials(s, err);
	return r < 0 ? coi_error_prefix(err, "preparing the code user's environment") : 0;
}
