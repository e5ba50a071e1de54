/* SPDX-License-Identifier: MIT */
/* network.c: reading an Incus network (the session needs the bridge's address and prefix). */
#include <errno.h>
#include <stdlib.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"

struct incus_network *incus_network_free(struct incus_network *n)
{
	if (!n)
		return NULL;
	free(n->name);
	free(n->type);
	incus_map_clear(&n->config);
	free(n);
	return NULL;
}

int incus_network_get(struct incus_client *c, const char *name, struct incus_network **ret,
                      struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/networks/%s", name);
	_cleanup_(incus_network_freep) struct incus_network *n = calloc(1, sizeof(*n));
	_cleanup_json_ json_t *md = NULL;
	bool ok = true;
	int r;

	if (!path || !n)
		return coi_error_oom(err);
	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot read network '%s'", name);
	n->name = incus_json_strdup(md, "name", &ok);
	n->type = incus_json_strdup(md, "type", &ok);
	n->managed = json_get_bool(md, "managed", false);
	if (!ok || incus_map_from_json(json_get_obj(md, "config"), &n->config) < 0)
		return coi_error_oom(err);
	*ret = TAKE_PTR(n);
	return 0;
}
