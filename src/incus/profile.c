/* SPDX-License-Identifier: MIT */
/* profile.c: reading Incus profiles (the session checks them for privileged settings before it
 * creates anything, and copies the NIC it hardens). */
#include <errno.h>
#include <stdlib.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"

struct incus_profile *incus_profile_free(struct incus_profile *p)
{
	if (!p)
		return NULL;
	free(p->name);
	incus_map_clear(&p->config);
	incus_devices_clear(&p->devices);
	free(p);
	return NULL;
}

int incus_profile_get(struct incus_client *c, const char *name, struct incus_profile **ret,
                      struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/profiles/%s", name);
	_cleanup_(incus_profile_freep) struct incus_profile *p = calloc(1, sizeof(*p));
	_cleanup_json_ json_t *md = NULL;
	bool ok = true;
	int r;

	if (!path || !p)
		return coi_error_oom(err);
	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot read profile '%s'", name);
	p->name = incus_json_strdup(md, "name", &ok);
	if (!ok || incus_map_from_json(json_get_obj(md, "config"), &p->config) < 0 ||
	    incus_devices_from_json(json_get_obj(md, "devices"), &p->devices) < 0)
		return coi_error_oom(err);
	*ret = TAKE_PTR(p);
	return 0;
}
