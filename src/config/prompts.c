/* SPDX-License-Identifier: MIT */
/* prompts.c: [prompts], the named prompts of 'coi run --prompt-name NAME'. Each is a string or
 * { file = "path" }; a path is made absolute against the directory of the file that sets it when
 * the file is loaded, and read only when the prompt is used. A layer replaces the prompts it names
 * and keeps the others. Whether a file may set [prompts] at all is the trust filter's decision
 * (trusted files only, config.c); a prompt of an approved project file must still lead to a file
 * inside the project, judged on the file actually opened, so no symbolic link (even one swapped
 * in between) takes the read elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/keys.h"
#include "config/settings.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/suggest.h"

#define PROMPT_NAME_MAX 64

/* A name to type after --prompt-name and to list one a line: no option look-alike, no space. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= PROMPT_NAME_MAX && s[0] != '-' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static void prompt_release(struct config_prompt *p)
{
	free(p->name);
	free(p->text);
	free(p->file);
	free(p->root);
	free(p->origin);
	*p = (struct config_prompt){0};
}

/* { file = "path" }: absolute and clean, "~" expanded. */
static int read_file_entry(const struct key_ctx *x, const struct config_key *k, const char *name,
                           const struct toml_value *t, struct config_prompt *p,
                           struct coi_error *err)
{
	const struct toml_value *f = toml_table_get(t, "file");
	_cleanup_free_ char *path = NULL;

	for (size_t i = 0; i < t->u.table.n; i++)
		if (strcmp(t->u.table.items[i].key, "file") != 0)
			return key_bad(x, k, t->u.table.items[i].value, err,
			               "'%s' has an unknown field '%s' (known: file)", name,
			               t->u.table.items[i].key);
	if (!f || !key_plain_string(f) || !*f->u.str.s)
		return key_bad(x, k, f ? f : t, err, "'%s' needs a string 'file'", name);
	path = strdup(f->u.str.s);
	if (!path || key_expand_home(&path) < 0)
		return coi_error_oom(err);
	p->file = key_expand_path(path, x->dir ? x->dir : x->workspace);
	if (!p->file)
		return coi_error_oom(err);
	if (x->project && !(p->root = strdup(x->workspace)))
		return coi_error_oom(err);
	return 0;
}

static int read_prompt(const struct key_ctx *x, const struct config_key *k,
                       const struct toml_kv *kv, struct config_prompt *p, struct coi_error *err)
{
	const struct toml_value *v = kv->value;

	if (!name_ok(kv->key))
		return key_bad(x, k, v, err,
		               "has \"%s\", which is not a prompt name (up to %d letters, digits, "
		               "'_', '.', '-', not starting with '-')",
		               kv->key, PROMPT_NAME_MAX);
	p->name = strdup(kv->key);
	if (!p->name || asprintf(&p->origin, "%s:%u", x->file, v->line) < 0)
		return p->origin = NULL, coi_error_oom(err);
	if (v->type == TOML_TABLE)
		return read_file_entry(x, k, kv->key, v, p, err);
	if (v->type == TOML_STRING && !key_plain_string(v))
		return key_bad(x, k, v, err, "'%s' holds a NUL byte", kv->key);
	if (!key_plain_string(v))
		return key_bad(x, k, v, err, "'%s' must be a string or { file = \"path\" }, not %s",
		               kv->key, toml_type_to_string(v->type));
	if (!*v->u.str.s)
		return key_bad(x, k, v, err, "'%s' is empty", kv->key);
	p->text = strdup(v->u.str.s);
	return p->text ? 0 : coi_error_oom(err);
}

int prompts_set(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err)
{
	int r = key_want_type(x, k, v, TOML_TABLE, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.table.n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < v->u.table.n; i++) {
		struct config_prompt p = {0}, *slot = NULL, *a;

		r = read_prompt(x, k, &v->u.table.items[i], &p, err);
		if (r < 0) {
			prompt_release(&p);
			return r;
		}
		for (size_t j = 0; j < c->n_prompts && !slot; j++)
			if (strcmp(c->prompts[j].name, p.name) == 0)
				slot = &c->prompts[j];
		if (!slot) {
			a = reallocarray(c->prompts, c->n_prompts + 1, sizeof(*a));
			if (!a) {
				prompt_release(&p);
				return coi_error_oom(err);
			}
			c->prompts = a;
			slot = &a[c->n_prompts++];
			*slot = (struct config_prompt){0};
		}
		prompt_release(slot);
		*slot = p;
	}
	return key_check_entries(x, k, v, c->n_prompts, err);
}

void prompts_free(struct coi_config *c)
{
	for (size_t i = 0; i < c->n_prompts; i++)
		prompt_release(&c->prompts[i]);
	free(c->prompts);
	c->prompts = NULL;
	c->n_prompts = 0;
}

json_t *prompts_to_json(const struct coi_config *c)
{
	json_t *j = json_object();

	for (size_t i = 0; j && i < c->n_prompts; i++) {
		const struct config_prompt *p = &c->prompts[i];
		json_t *e = p->text ? json_string(p->text) : json_pack("{s:s}", "file", p->file);

		if (json_object_set_new(j, p->name, e) < 0)
			return json_decref(j), NULL;
	}
	return j;
}

const struct config_prompt *config_prompt_find(const struct coi_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_prompts; i++)
		if (strcmp(c->prompts[i].name, name) == 0)
			return &c->prompts[i];
	return NULL;
}

/* The file actually opened (fd) must lie inside root, both with symbolic links resolved. */
static int check_inside(int fd, const char *file, const char *root, struct coi_error *err)
{
	_cleanup_free_ char *real_root = realpath(root, NULL);
	char proc[64], real[PATH_MAX];
	ssize_t n;

	if (!real_root)
		return coi_error_errno(err, errno, "cannot resolve '%s'", root);
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, real, sizeof(real) - 1);
	if (n < 0)
		return coi_error_errno(err, errno, "cannot resolve '%s'", file);
	real[n] = '\0';
	if (real[0] != '/' || !path_is_inside(real, real_root))
		return coi_error_set(err, -EPERM,
		                     "'%s' leads outside the project ('%s'), which a project file "
		                     "may not point to",
		                     file, real);
	return 0;
}

static int read_prompt_file(const struct config_prompt *p, struct buf *b, struct coi_error *err)
{
	/* a FIFO planted in the project must not hang coi: open it without waiting, then refuse */
	_cleanup_close_ int fd =
	        open(p->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | (p->root ? O_NONBLOCK : 0));
	struct stat st;
	char chunk[8192];
	int r;

	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", p->file);
	if (fstat(fd, &st) < 0)
		return coi_error_errno(err, errno, "cannot stat '%s'", p->file);
	if (S_ISDIR(st.st_mode) || (p->root && !S_ISREG(st.st_mode)))
		return coi_error_set(err, -EINVAL, "'%s' is not a regular file", p->file);
	if (p->root) {
		r = check_inside(fd, p->file, p->root, err);
		if (r < 0)
			return r;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return coi_error_errno(err, errno, "cannot read '%s'", p->file);
		if (n == 0)
			break;
		r = buf_append(b, chunk, (size_t)n);
		if (r == -E2BIG)
			return coi_error_set(err, r, "'%s' is larger than %zu bytes", p->file,
			                     b->max);
		if (r < 0)
			return coi_error_oom(err);
	}
	if (memchr(buf_str(b), '\0', b->len))
		return coi_error_set(err, -EINVAL, "'%s' holds a NUL byte", p->file);
	/* as $(cat FILE) would: the file's final newlines are not part of the prompt */
	while (b->len && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	return 0;
}

int config_prompt_read(const struct config_prompt *p, size_t max, char **ret, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(max);
	char *s;
	int r;

	if (p->text)
		r = buf_puts(&b, p->text) < 0
		            ? coi_error_set(err, -E2BIG, "the prompt is larger than %zu bytes", max)
		            : 0;
	else
		r = read_prompt_file(p, &b, err);
	if (r < 0)
		return r;
	if (b.len == 0)
		return coi_error_set(err, -EINVAL, "the prompt is empty");
	s = buf_steal(&b);
	if (!s)
		return coi_error_oom(err);
	*ret = s;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "no prompt named 'x' (did you mean 'y'?); the prompts: a, b" */
static int unknown_name(const struct coi_config *c, const char *name, struct coi_error *err)
{
	_cleanup_free_ char **names = calloc(c->n_prompts + 1, sizeof(char *));
	_cleanup_free_ char *list = NULL;
	const char *best = NULL;
	unsigned best_d = 3;

	if (!names)
		return coi_error_oom(err);
	if (c->n_prompts == 0)
		return coi_error_set(err, -ENOENT,
		                     "no prompt named '%s': no [prompts] are configured", name);
	for (size_t i = 0; i < c->n_prompts; i++) {
		unsigned d = suggest_distance(name, c->prompts[i].name);

		names[i] = c->prompts[i].name;
		if (d < best_d)
			best = names[i], best_d = d;
	}
	qsort(names, c->n_prompts, sizeof(*names), name_cmp);
	list = strv_join(names, ", ");
	if (!list)
		return coi_error_oom(err);
	return coi_error_set(err, -ENOENT, "no prompt named '%s'%s%s%s; the prompts: %s", name,
	                     best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "",
	                     list);
}

int config_prompt_text(const struct coi_config *c, const char *name, size_t max, char **ret,
                       struct coi_error *err)
{
	const struct config_prompt *p = config_prompt_find(c, name);
	int r;

	if (!p)
		return unknown_name(c, name, err);
	r = config_prompt_read(p, max, ret, err);
	return r < 0 ? coi_error_prefix(err, "prompt '%s' (%s)", name, p->origin) : 0;
}
