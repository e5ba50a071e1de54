/* SPDX-License-Identifier: MIT */
/* versions.c: what identifies a build (the recipe hash), what an image carries (its properties),
 * and pruning old versions. Images are versioned by alias: ALIAS-YYYYMMDD-HHMMSS, one per build;
 * ALIAS itself points at the newest good one. */
#include "image/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strv.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_str_desc(const void *a, const void *b)
{
	return -cmp_str(a, b);
}

/* "codex, claude  gemini" -> "claude,codex,gemini" (sorted, deduplicated). */
static char *agents_normalise(const char *agents)
{
	_cleanup_strv_free_ char **l = strv_split(agents ? agents : IMAGE_DEFAULT_AGENTS, " ,\t\n");
	_cleanup_strv_free_ char **u = NULL;
	size_t n;

	if (!l)
		return NULL;
	n = strv_length(l);
	qsort(l, n, sizeof(char *), cmp_str);
	strv_foreach(a, l)
	{
		if (!strv_contains(u, *a) && strv_push(&u, *a) < 0)
			return NULL;
	}
	return strv_join(u, ",");
}

static int hash_into(struct buf *b, char *ret)
{
	char hex[SHA256_HEX_LEN + 1];
	int r;

	r = sha256_hex(b->data ? b->data : "", b->len, hex);
	if (r < 0)
		return r;
	memcpy(ret, hex, IMAGE_HASH_LEN);
	ret[IMAGE_HASH_LEN] = '\0';
	return 0;
}

static int put_part(struct buf *b, const char *name, const char *data, size_t len)
{
	if (buf_printf(b, "%s %zu\n", name, len) < 0 || buf_append(b, data, len) < 0 ||
	    buf_putc(b, '\n') < 0)
		return -ENOMEM;
	return 0;
}

int image_recipe_hash(const char *agents, const char *custom_script, char *ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 20);
	_cleanup_free_ char *norm = agents_normalise(agents);

	if (!norm)
		return -ENOMEM;
	for (int id = 0; id < _IMAGE_RECIPE_MAX; id++) {
		struct image_recipe rc = image_recipe_get((enum image_recipe_id)id);

		if (put_part(&b, rc.name, rc.data, rc.len) < 0)
			return -ENOMEM;
	}
	if (put_part(&b, "agents", norm, strlen(norm)) < 0)
		return -ENOMEM;
	if (custom_script && put_part(&b, "custom", custom_script, strlen(custom_script)) < 0)
		return -ENOMEM;
	return hash_into(&b, ret);
}

int image_base_hash(char *ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(16u << 20);
	struct image_recipe rc = image_recipe_get(IMAGE_RECIPE_BASE);

	if (put_part(&b, rc.name, rc.data, rc.len) < 0)
		return -ENOMEM;
	return hash_into(&b, ret);
}

bool image_is_version_alias(const char *alias, const char *s)
{
	size_t n = strlen(alias);

	if (strncmp(s, alias, n) != 0 || s[n] != '-')
		return false;
	s += n + 1;
	if (strlen(s) != IMAGE_STAMP_LEN)
		return false;
	for (int i = 0; i < IMAGE_STAMP_LEN; i++) {
		if (i == 8 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* Incus has no typed wrapper for image properties yet: read them with the generic call. */
int image_property(struct incus_client *c, const char *alias_or_fp, const char *key, char **ret,
                   struct coi_error *err)
{
	_cleanup_(incus_image_freep) struct incus_image *img = NULL;
	_cleanup_json_ json_t *meta = NULL;
	_cleanup_free_ char *path = NULL;
	const char *v;
	int r;

	r = incus_image_get(c, alias_or_fp, &img, err);
	if (r < 0)
		return r;
	if (asprintf(&path, "/1.0/images/%s", img->fingerprint) < 0)
		return coi_error_oom(err);
	r = incus_request(c, "GET", path, NULL, NULL, &meta, err);
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
		strv_foreach(a, l[i]->aliases)
		{
			char *e;

			if (!image_is_version_alias(alias, *a))
				continue;
			if (asprintf(&e, "%s\t%s", *a, l[i]->fingerprint) < 0 || strv_consume(&v, e) < 0)
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
	strv_foreach(e, versions)
	{
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
