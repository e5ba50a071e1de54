/* SPDX-License-Identifier: MIT */
/* network.c: reading an Incus network (the session needs the bridge's address and prefix). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

void incus_leases_free(struct incus_lease *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].hostname);
		free(l[i].address);
	}
	free(l);
}

int incus_network_leases(struct incus_client *c, const char *network, struct incus_lease **ret,
                         size_t *ret_n, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/networks/%s/leases", network);
	_cleanup_json_ json_t *md = NULL;
	struct incus_lease *l;
	size_t n = 0, i;
	json_t *v;
	int r;

	if (!path)
		return coi_error_oom(err);
	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r < 0)
		return r;
	l = calloc(json_array_size(md) + 1, sizeof(*l));
	if (!l)
		return coi_error_oom(err);
	json_array_foreach(md, i, v) {
		const char *h = json_get_str(v, "hostname"), *a = json_get_str(v, "address");

		if (!h || !a || !strchr(a, '.'))
			continue; /* IPv4 only */
		l[n].hostname = strdup(h);
		l[n].address = strdup(a);
		if (!l[n].hostname || !l[n].address) {
			incus_leases_free(l, n + 1);
			return coi_error_oom(err);
		}
		n++;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}
