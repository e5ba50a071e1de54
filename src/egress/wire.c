/* SPDX-License-Identifier: MIT */
/* wire.c: the secret set as JSON in a sealed memfd (wire.h). */
#include "egress/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "egress/secret.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

static const char *const kinds[] = {
        [EGRESS_SOURCE_NONE] = "none",
        [EGRESS_SOURCE_ENV] = "env",
        [EGRESS_SOURCE_FILE] = "file",
        [EGRESS_SOURCE_COMMAND] = "command",
};

/* Sets key to s when s is not NULL. */
static int put(json_t *o, const char *key, const char *s)
{
	return !s || json_object_set_new(o, key, json_string(s)) == 0 ? 0 : -ENOMEM;
}

static json_t *strv_json(char **l)
{
	json_t *a = json_array();

	strv_foreach(s, l)
		if (!a || json_array_append_new(a, json_string(*s)) < 0)
			return json_decref(a), NULL;
	return a;
}

static json_t *secret_json(const struct egress_secret *s, int64_t expires)
{
	json_t *o = json_object(), *src = json_object(), *rf = json_object();
	int r = o && src && rf ? 0 : -ENOMEM;

	if (r >= 0)
		r = put(o, "name", s->name) ?: put(o, "header", s->header) ?:
		    put(o, "format", s->format) ?: put(o, "basic_user", s->basic_user) ?:
		    put(o, "placeholder", s->placeholder) ?: put(o, "value", s->value);
	if (r >= 0)
		r = put(src, "kind", kinds[s->source.kind]) ?: put(src, "env", s->source.env) ?:
		    put(src, "file", s->source.file) ?: put(src, "field", s->source.field);
	if (r >= 0)
		r = put(rf, "url", s->refresh.url) ?: put(rf, "client_id", s->refresh.client_id) ?:
		    put(rf, "token_field", s->refresh.token_field) ?:
		    put(rf, "expires_field", s->refresh.expires_field);
	if (r >= 0 && s->source.command)
		r = json_object_set_new(src, "command", strv_json(s->source.command));
	if (r >= 0)
		r = json_object_set_new(o, "hosts", strv_json(s->hosts)) ?:
		    json_object_set_new(o, "expires", json_integer(expires)) ?:
		    json_object_set_new(o, "source", TAKE_PTR(src)) ?:
		    json_object_set_new(o, "refresh", TAKE_PTR(rf));
	json_decref(src);
	json_decref(rf);
	if (r < 0)
		return json_decref(o), NULL;
	return o;
}

int egress_wire_memfd(const struct egress_set *set, const int64_t *expires, int *ret_fd,
                      struct coi_error *err)
{
	_cleanup_json_ json_t *a = json_array(), *root = NULL;
	_cleanup_close_ int fd = -EBADF;
	char *text;
	size_t n;
	int r = 0;

	for (size_t i = 0; a && i < set->n && r >= 0; i++)
		r = json_array_append_new(a, secret_json(&set->v[i], expires ? expires[i] : 0));
	root = a && r >= 0 ? json_pack("{s:O}", "secrets", a) : NULL;
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	if (!text)
		return coi_error_oom(err);
	n = strlen(text);
	fd = memfd_create("coi-secrets", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		r = coi_error_errno(err, errno, "cannot make a memfd for the secrets");
	else if (write(fd, text, n) != (ssize_t)n ||
	         fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
	                 0)
		r = coi_error_errno(err, errno, "cannot write the secrets' memfd");
	explicit_bzero(text, n);
	free(text);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

static int get(const json_t *o, const char *key, char **ret)
{
	const char *s = json_get_str(o, key);

	*ret = s ? strdup(s) : NULL;
	return !s || *ret ? 0 : -ENOMEM;
}

static int get_strv(const json_t *a, char ***ret)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, v)
		if (!json_is_string(v) || strv_push(ret, json_string_value(v)) < 0)
			return -EBADMSG;
	return 0;
}

static int kind_of(const char *k)
{
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
		if (k && strcmp(k, kinds[i]) == 0)
			return (int)i;
	return -EBADMSG;
}

static int secret_from(const json_t *o, struct egress_secret *s, int64_t *ret_expires)
{
	const json_t *src = json_object_get(o, "source"), *rf = json_object_get(o, "refresh");
	int kind = kind_of(json_get_str(src, "kind"));
	int r = kind < 0 ? kind : 0;

	if (r >= 0)
		r = get(o, "name", &s->name) ?: get(o, "header", &s->header) ?:
		    get(o, "format", &s->format) ?: get(o, "basic_user", &s->basic_user) ?:
		    get(o, "placeholder", &s->placeholder) ?: get(o, "value", &s->value);
	if (r >= 0)
		r = get(src, "env", &s->source.env) ?: get(src, "file", &s->source.file) ?:
		    get(src, "field", &s->source.field) ?:
		    get_strv(json_object_get(src, "command"), &s->source.command);
	if (r >= 0)
		r = get(rf, "url", &s->refresh.url) ?: get(rf, "client_id", &s->refresh.client_id) ?:
		    get(rf, "token_field", &s->refresh.token_field) ?:
		    get(rf, "expires_field", &s->refresh.expires_field);
	if (r >= 0)
		r = get_strv(json_object_get(o, "hosts"), &s->hosts);
	s->source.kind = kind >= 0 ? (enum egress_source_kind)kind : EGRESS_SOURCE_NONE;
	*ret_expires = json_get_int(o, "expires", 0);
	return r;
}

static int read_all(int fd, struct buf *b, struct coi_error *err)
{
	char chunk[16384];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, chunk, sizeof(chunk), off)) > 0) {
		if (buf_append(b, chunk, (size_t)n) < 0)
			return coi_error_set(err, -E2BIG, "the secrets are larger than %u bytes",
			                     EGRESS_WIRE_MAX);
		off += n;
	}
	explicit_bzero(chunk, sizeof(chunk));
	return n < 0 ? coi_error_errno(err, errno, "cannot read the secrets") : 0;
}

int egress_wire_read(int fd, struct egress_set *ret, int64_t **ret_expires, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(EGRESS_WIRE_MAX);
	_cleanup_json_ json_t *root = NULL;
	struct egress_set set = {0};
	_cleanup_free_ int64_t *exp = NULL;
	const json_t *a;
	int r = read_all(fd, &b, err);

	if (r >= 0)
		r = json_parse(b.data, b.len, &root, err);
	if (b.data)
		explicit_bzero(b.data, b.len);
	if (r < 0)
		return r;
	a = json_object_get(root, "secrets");
	if (!json_is_array(a) || json_array_size(a) > EGRESS_SECRETS_MAX)
		return coi_error_set(err, -EBADMSG, "the secrets are not a list");
	set.v = calloc(json_array_size(a) + 1, sizeof(*set.v));
	exp = calloc(json_array_size(a) + 1, sizeof(*exp));
	if (!set.v || !exp)
		return free(set.v), coi_error_oom(err);
	for (size_t i = 0; r >= 0 && i < json_array_size(a); i++) {
		r = secret_from(json_array_get(a, i), &set.v[set.n], &exp[set.n]);
		set.n++;
		if (r < 0)
			r = coi_error_set(err, r, "the secrets' list is malformed");
		else
			r = egress_secret_check(&set.v[set.n - 1], err);
	}
	if (r < 0) {
		egress_set_release(&set);
		return r;
	}
	*ret = set;
	*ret_expires = TAKE_PTR(exp);
	return 0;
}
