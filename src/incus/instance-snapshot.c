/* SPDX-License-Identifier: MIT */
/* instance-snapshot.c: instance snapshots: create, list, restore, delete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"

struct incus_snapshot **incus_snapshot_list_free(struct incus_snapshot **l)
{
	for (size_t i = 0; l && l[i]; i++) {
		free(l[i]->name);
		free(l[i]->created_at);
		free(l[i]->expires_at);
		free(l[i]);
	}
	free(l);
	return NULL;
}

int incus_snapshot_create(struct incus_client *c, const char *instance, const char *snap,
                          bool stateful, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s/snapshots", instance);
	_cleanup_json_ json_t *body = json_pack("{s:s, s:b}", "name", snap, "stateful", stateful);
	int r;

	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "POST", path, body, NULL, NULL, err);
	return r < 0 ? coi_error_prefix(err, "cannot snapshot '%s' as '%s'", instance, snap) : 0;
}

static int snapshot_from_json(const json_t *j, struct incus_snapshot **ret)
{
	struct incus_snapshot *s = calloc(1, sizeof(*s));
	const char *name = json_get_str(j, "name"), *slash;
	bool ok = true;

	if (!s)
		return -ENOMEM;
	/* older daemons name snapshots "instance/snap" */
	slash = name ? strrchr(name, '/') : NULL;
	s->name = strdup(slash ? slash + 1 : name ? name : "");
	s->created_at = incus_json_strdup(j, "created_at", &ok);
	s->expires_at = incus_json_strdup(j, "expires_at", &ok);
	s->stateful = json_get_bool(j, "stateful", false);
	s->size = json_get_int(j, "size", -1);
	*ret = s;
	return s->name && ok ? 0 : -ENOMEM;
}

static int cmp_snapshot(const void *a, const void *b)
{
	const struct incus_snapshot *x = *(struct incus_snapshot *const *)a;
	const struct incus_snapshot *y = *(struct incus_snapshot *const *)b;
	int r = strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");

	return r ? r : strcmp(x->name, y->name);
}

int incus_snapshot_list(struct incus_client *c, const char *instance, struct incus_snapshot ***ret,
                        struct coi_error *err)
{
	_cleanup_free_ char *path =
	        incus_pathf(c, "/1.0/instances/%s/snapshots?recursion=1", instance);
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	_cleanup_json_ json_t *md = NULL;
	size_t n = 0, i;
	json_t *v;
	int r;

	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot list the snapshots of '%s'", instance);
	l = calloc(json_array_size(md) + 1, sizeof(*l));
	if (!l)
		return coi_error_oom(err);
	json_array_foreach(md, i, v) {
		if (snapshot_from_json(v, &l[n++]) < 0)
			return coi_error_oom(err);
	}
	qsort(l, n, sizeof(*l), cmp_snapshot);
	*ret = TAKE_PTR(l);
	return (int)n;
}

int incus_snapshot_restore(struct incus_client *c, const char *instance, const char *snap,
                           bool stateful, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", instance);
	_cleanup_json_ json_t *body =
	        json_pack("{s:s, s:b}", "restore", snap, "stateful", stateful);
	int r;

	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "PUT", path, body, NULL, NULL, err);
	return r < 0 ? coi_error_prefix(err, "cannot restore '%s' to '%s'", instance, snap) : 0;
}

int incus_snapshot_delete(struct incus_client *c, const char *instance, const char *snap,
                          struct coi_error *err)
{
	_cleanup_free_ char *path =
	        incus_pathf(c, "/1.0/instances/%s/snapshots/%s", instance, snap);
	int r = incus_simple(c, "DELETE", path, NULL, NULL, NULL, err);

	return r < 0 ? coi_error_prefix(err, "cannot delete snapshot '%s' of '%s'", snap, instance)
	             : 0;
}
