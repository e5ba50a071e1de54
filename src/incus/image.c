/* SPDX-License-Identifier: MIT */
/* image.c: images and aliases: list, get, alias create/update/delete, delete, import of a split
 * image (metadata tarball + rootfs) as multipart/form-data, publish of an instance. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

struct incus_image *incus_image_free(struct incus_image *i)
{
	if (!i)
		return NULL;
	free(i->fingerprint);
	strv_free(i->aliases);
	free(i->description);
	free(i->architecture);
	free(i->created_at);
	free(i->os);
	free(i->release);
	free(i);
	return NULL;
}

struct incus_image **incus_image_list_free(struct incus_image **l)
{
	for (size_t i = 0; l && l[i]; i++)
		incus_image_free(l[i]);
	free(l);
	return NULL;
}

static int image_from_json(const json_t *j, struct incus_image **ret)
{
	_cleanup_(incus_image_freep) struct incus_image *i = calloc(1, sizeof(*i));
	const json_t *props = json_get_obj(j, "properties");
	bool ok = true;
	size_t k;
	json_t *a;

	if (!i)
		return -ENOMEM;
	i->fingerprint = incus_json_strdup(j, "fingerprint", &ok);
	i->architecture = incus_json_strdup(j, "architecture", &ok);
	i->created_at = incus_json_strdup(j, "created_at", &ok);
	i->description = incus_json_strdup(props, "description", &ok);
	i->os = incus_json_strdup(props, "os", &ok);
	i->release = incus_json_strdup(props, "release", &ok);
	i->size = json_get_int(j, "size", -1);
	i->public = json_get_bool(j, "public", false);
	i->aliases = calloc(1, sizeof(char *));
	if (!ok || !i->aliases)
		return -ENOMEM;
	json_array_foreach(json_get_arr(j, "aliases"), k, a) {
		const char *n = json_get_str(a, "name");

		if (n && strv_push(&i->aliases, n) < 0)
			return -ENOMEM;
	}
	if (!i->fingerprint)
		return -EBADMSG;
	*ret = TAKE_PTR(i);
	return 0;
}

static int cmp_image(const void *a, const void *b)
{
	const struct incus_image *x = *(struct incus_image *const *)a;
	const struct incus_image *y = *(struct incus_image *const *)b;
	const char *xa = x->aliases[0] ? x->aliases[0] : "\x7f",
	           *ya = y->aliases[0] ? y->aliases[0] : "\x7f";
	int r = strcmp(xa, ya);

	return r ? r : strcmp(x->fingerprint, y->fingerprint);
}

int incus_image_list(struct incus_client *c, struct incus_image ***ret, struct coi_error *err)
{
	_cleanup_(incus_image_list_freep) struct incus_image **l = NULL;
	_cleanup_json_ json_t *md = NULL;
	size_t n = 0, i;
	json_t *v;
	int r;

	r = incus_simple(c, "GET", "/1.0/images?recursion=1", NULL, NULL, &md, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot list images");
	l = calloc(json_array_size(md) + 1, sizeof(*l));
	if (!l)
		return coi_error_oom(err);
	json_array_foreach(md, i, v) {
		r = image_from_json(v, &l[n]);
		if (r < 0)
			return coi_error_set(err, r, "cannot decode an image");
		n++;
	}
	qsort(l, n, sizeof(*l), cmp_image);
	*ret = TAKE_PTR(l);
	return (int)n;
}

/* The fingerprint an alias points to; -ENOENT without touching err when there is no such alias. */
static int alias_target(struct incus_client *c, const char *alias, char **ret,
                        struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/images/aliases/%s", alias);
	_cleanup_json_ json_t *md = NULL;
	struct coi_error e = {0};
	const char *t;
	int r;

	r = incus_simple(c, "GET", path, NULL, NULL, &md, &e);
	if (r == -ENOENT)
		return r;
	if (r < 0) {
		if (err)
			*err = e;
		return r;
	}
	t = json_get_str(md, "target");
	if (!t)
		return coi_error_set(err, -EBADMSG, "alias '%s' has no target", alias);
	*ret = strdup(t);
	return *ret ? 0 : coi_error_oom(err);
}

int incus_image_alias_exists(struct incus_client *c, const char *alias, struct coi_error *err)
{
	_cleanup_free_ char *fp = NULL;
	int r = alias_target(c, alias, &fp, err);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

int incus_image_alias_target(struct incus_client *c, const char *alias, char **ret,
                             struct coi_error *err)
{
	int r = alias_target(c, alias, ret, err);

	return r == -ENOENT ? coi_error_set(err, r, "no image alias '%s'", alias) : r;
}

int incus_image_get(struct incus_client *c, const char *alias_or_fp, struct incus_image **ret,
                    struct coi_error *err)
{
	_cleanup_free_ char *fp = NULL, *path = NULL;
	_cleanup_json_ json_t *md = NULL;
	int r;

	r = alias_target(c, alias_or_fp, &fp, err);
	if (r < 0 && r != -ENOENT)
		return r;
	path = incus_pathf(c, "/1.0/images/%s", fp ? fp : alias_or_fp);
	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r == -ENOENT)
		return coi_error_set(err, r, "no image '%s'", alias_or_fp);
	if (r < 0)
		return r;
	r = image_from_json(md, ret);
	return r < 0 ? coi_error_set(err, r, "cannot decode image '%s'", alias_or_fp) : 0;
}

int incus_image_alias_create(struct incus_client *c, const char *alias, const char *fingerprint,
                             const char *description, struct coi_error *err)
{
	_cleanup_json_ json_t *body =
	        json_pack("{s:s, s:s, s:s}", "name", alias, "target", fingerprint, "description",
	                  description ? description : "");
	int r;

	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "POST", "/1.0/images/aliases", body, NULL, NULL, err);
	return r < 0 ? coi_error_prefix(err, "cannot create alias '%s'", alias) : 0;
}

int incus_image_alias_update(struct incus_client *c, const char *alias, const char *fingerprint,
                             struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/images/aliases/%s", alias);
	_cleanup_json_ json_t *body = json_pack("{s:s}", "target", fingerprint);
	int r;

	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "PATCH", path, body, NULL, NULL, err);
	return r < 0 ? coi_error_prefix(err, "cannot update alias '%s'", alias) : 0;
}

int incus_image_alias_delete(struct incus_client *c, const char *alias, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/images/aliases/%s", alias);
	int r = incus_simple(c, "DELETE", path, NULL, NULL, NULL, err);

	return r < 0 ? coi_error_prefix(err, "cannot delete alias '%s'", alias) : 0;
}

int incus_image_delete(struct incus_client *c, const char *alias_or_fp, struct coi_error *err)
{
	_cleanup_(incus_image_freep) struct incus_image *img = NULL;
	_cleanup_free_ char *path = NULL;
	int r;

	r = incus_image_get(c, alias_or_fp, &img, err);
	if (r < 0)
		return r;
	path = incus_pathf(c, "/1.0/images/%s", img->fingerprint);
	r = incus_simple(c, "DELETE", path, NULL, NULL, NULL, err);
	return r < 0 ? coi_error_prefix(err, "cannot delete image '%s'", alias_or_fp) : 0;
}

/* Points alias at fp, creating it or moving it from another image. */
static int alias_set(struct incus_client *c, const char *alias, const char *fp,
                     struct coi_error *err)
{
	int r = incus_image_alias_exists(c, alias, err);

	if (r < 0)
		return r;
	return r ? incus_image_alias_update(c, alias, fp, err)
	         : incus_image_alias_create(c, alias, fp, NULL, err);
}

/* The fingerprint from a finished image operation's metadata, aliased if asked. */
static int image_done(struct incus_client *c, const json_t *md, const char *alias, char **ret_fp,
                      struct coi_error *err)
{
	const char *fp = json_get_str(md, "fingerprint");
	int r;

	if (!fp)
		return coi_error_set(err, -EBADMSG, "incus did not say which image it made");
	if (alias) {
		r = alias_set(c, alias, fp, err);
		if (r < 0)
			return r;
	}
	if (ret_fp) {
		*ret_fp = strdup(fp);
		if (!*ret_fp)
			return coi_error_oom(err);
	}
	return 0;
}

static int mime_file(curl_mime *m, const char *name, const char *path)
{
	curl_mimepart *p = curl_mime_addpart(m);

	if (!p || curl_mime_name(p, name) != CURLE_OK || curl_mime_filedata(p, path) != CURLE_OK)
		return -ENOMEM;
	return 0;
}

int incus_image_import(struct incus_client *c, const char *meta_path, const char *rootfs_path,
                       const char *alias, const struct incus_wait *wait, char **ret_fingerprint,
                       struct coi_error *err)
{
	curl_mime *m = curl_mime_init(c->curl);
	struct incus_http req;
	struct incus_http_resp resp;
	struct incus_envelope e = {0};
	json_t *op = NULL;
	int r;

	if (!m || mime_file(m, "metadata", meta_path) < 0 ||
	    mime_file(m, "rootfs", rootfs_path) < 0) {
		curl_mime_free(m);
		return coi_error_oom(err);
	}
	incus_http_init(&req, "POST", "/1.0/images");
	req.mime = m;
	r = incus_http(c, &req, &resp, err);
	curl_mime_free(m);
	if (r < 0)
		return coi_error_prefix(err, "cannot import '%s'", rootfs_path);
	r = incus_envelope_parse(resp.status, resp.body.data, resp.body.len, &e, err);
	incus_http_resp_release(&resp);
	if (r >= 0 && e.type == INCUS_RESP_ASYNC)
		r = incus_operation_wait(c, e.operation, wait, &op, err);
	if (r >= 0)
		r = image_done(c, op ? json_get_obj(op, "metadata") : e.metadata, alias,
		               ret_fingerprint, err);
	json_decref(op);
	incus_envelope_release(&e);
	return r < 0 ? coi_error_prefix(err, "cannot import image") : 0;
}

int incus_image_publish(struct incus_client *c, const struct incus_publish_opts *o,
                        const struct incus_wait *wait, char **ret_fingerprint,
                        struct coi_error *err)
{
	_cleanup_json_ json_t *body = NULL, *md = NULL;
	json_t *props = incus_map_to_json(&o->properties);
	int r;

	if (props && o->description)
		json_object_set_new(props, "description", json_string(o->description));
	body = json_pack("{s:{s:s, s:s}, s:b, s:o*}", "source", "type",
	                 strchr(o->instance, '/') ? "snapshot" : "instance", "name", o->instance,
	                 "public", o->public, "properties", props);
	if (!body || (o->compression && json_object_set_new(body, "compression_algorithm",
	                                                    json_string(o->compression)) < 0))
		return coi_error_oom(err);
	r = incus_simple(c, "POST", "/1.0/images", body, wait, &md, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot publish '%s'", o->instance);
	r = image_done(c, md, o->alias, ret_fingerprint, err);
	return r < 0 ? coi_error_prefix(err, "cannot publish '%s'", o->instance) : 0;
}
