/* SPDX-License-Identifier: MIT */
/* versions.c: what an image carries (its properties) and pruning old versions. Images are
 * versioned by alias: ALIAS-YYYYMMDD-HHMMSS, one per build; ALIAS itself points at the newest
 * good one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "incus/incus.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

static int cmp_str_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* Incus has no typed wrapper for image properties yet: read them with the generic call, the
 * image's one GET (an alias resolved first, as incus_image_get does; reading the image through
 * incus_image_get and then its properties was the same GET twice, on every session's start). */
static int image_properties(struct incus_client *c, const char *alias_or_fp, json_t **ret,
                            char **ret_fp, struct coi_error *err)
{
	_cleanup_free_ char *fp = NULL, *path = NULL;
	int r = incus_image_alias_target(c, alias_or_fp, &fp, err);

	if (r == -ENOENT) /* no such alias: a fingerprint */
		coi_error_clear(err);
	else if (r < 0)
		return r;
	if (asprintf(&path, "/1.0/images/%s", fp ? fp : alias_or_fp) < 0)
		return coi_error_oom(err);
	r = incus_request(c, "GET", path, NULL, NULL, ret, err);
	if (r == -ENOENT)
		return coi_error_set(err, r, "no image '%s'", alias_or_fp);
	if (r >= 0 && ret_fp)
		*ret_fp = TAKE_PTR(fp);
	return r;
}

int image_property(struct incus_client *c, const char *alias_or_fp, const char *key, char **ret,
                   struct coi_error *err)
{
	_cleanup_json_ json_t *meta = NULL;
	const char *v;
	int r;

	r = image_properties(c, alias_or_fp, &meta, NULL, err);
	if (r < 0)
		return r;
	v = json_get_str(json_get_obj(meta, "properties"), key);
	if (!v) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(v);
	return *ret ? 0 : coi_error_oom(err);
}

int image_recipe_stale(struct incus_client *c, const char *alias, char **ret_built,
                       char **ret_target, struct coi_error *err)
{
	_cleanup_json_ json_t *meta = NULL;
	const json_t *p;
	const char *have, *agents, *base, *built;
	char want[IMAGE_HASH_LEN + 1];
	int r;

	r = image_properties(c, alias, &meta, ret_target, err);
	if (r < 0)
		return r;
	p = json_get_obj(meta, "properties");
	have = json_get_str(p, IMAGE_RECIPE_PROPERTY);
	agents = json_get_str(p, "coi.agents");
	base = json_get_str(p, "coi.base");
	built = json_get_str(p, "coi.built");
	/* not coi's, or a custom build (on another image, with a script this coi does not know) */
	if (!have || !agents || !base || (strncmp(base, "coi-base-", 9) != 0 && !strchr(base, '/')))
		return 0;
	if (image_recipe_hash(agents, NULL, want) < 0 || strcmp(have, want) == 0)
		return 0;
	*ret_built = strdup(built ? built : "an earlier coi");
	return *ret_built ? 1 : coi_error_oom(err);
}

/* The version aliases of alias among all images, newest first, each as "ALIAS-STAMP\tFP". */
static int list_versions(struct incus_client *c, const char *alias, char ***ret,
                         struct coi_error *err)
{
	_cleanup_(incus_image_list_freep) struct incus_image **l = NULL;
	_cleanup_strv_free_ char **v = NULL;
	int r;

	r = incus_image_list(c, &l, err);
	if (r < 0)
		return r;
	for (size_t i = 0; l[i]; i++) {
		strv_foreach(a, l[i]->aliases) {
			char *e;

			if (!image_is_version_alias(alias, *a))
				continue;
			if (asprintf(&e, "%s\t%s", *a, l[i]->fingerprint) < 0 ||
			    strv_consume(&v, e) < 0)
				return coi_error_oom(err);
		}
	}
	if (v)
		qsort(v, strv_length(v), sizeof(char *), cmp_str_desc);
	*ret = TAKE_PTR(v);
	return 0;
}

int image_cleanup(struct incus_client *c, const char *alias, int keep, char ***ret_deleted,
                  struct coi_error *err)
{
	_cleanup_(incus_image_freep) struct incus_image *cur = NULL;
	_cleanup_strv_free_ char **versions = NULL, **deleted = NULL;
	int r, kept = 0;

	if (keep < 1)
		return coi_error_set(err, -EINVAL, "must keep at least one version, not %d", keep);
	r = incus_image_get(c, alias, &cur, err);
	if (r < 0 && r != -ENOENT)
		return r;
	r = list_versions(c, alias, &versions, err);
	if (r < 0)
		return r;
	strv_foreach(e, versions) {
		char *fp = strchr(*e, '\t');

		*fp++ = '\0';
		if (kept < keep || (cur && strcmp(fp, cur->fingerprint) == 0)) {
			kept++;
			continue;
		}
		log_debug("image: deleting old version '%s' (%.12s)", *e, fp);
		r = incus_image_delete(c, fp, err);
		if (r == -ENOENT)
			continue; /* another alias of the same image took it already */
		if (r < 0)
			return coi_error_prefix(err, "deleting '%s'", *e);
		if (strv_push(&deleted, *e) < 0)
			return coi_error_oom(err);
	}
	r = (int)strv_length(deleted);
	if (ret_deleted)
		*ret_deleted = TAKE_PTR(deleted);
	return r;
}
