/* SPDX-License-Identifier: MIT */
/* warm-image.c: the warm containers an image rebuild leaves behind (warm.h). A warm container's
 * mark covers the image its alias named when it was made, so after 'coi build' repointed the
 * alias no session will ever claim it: it would only hold memory until its workspace's next
 * filler removed it. The build removes them at once, every user's (they are all on this daemon
 * and none can be claimed any more); a claimed one is never touched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "session/fleet.h"
#include "session/warm.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv.h"

/* A warm container (marked: nobody's session yet) of image alias made from another image than
 * fingerprint. */
static bool of_old_image(const struct incus_instance *in, const char *alias,
                         const char *fingerprint)
{
	const char *image = incus_map_get(&in->config, "user.coi.image");
	const char *base = incus_map_get(&in->config, "volatile.base_image");

	return fleet_is_warm_mark(incus_map_get(&in->config, FLEET_WARM_KEY)) && image &&
	       strcmp(image, alias) == 0 && (!base || strcmp(base, fingerprint) != 0);
}

/* The mark taken away under the instance's ETag, as a claim takes it (warm.c): of this and a
 * claimer that computed its fingerprint before the alias moved, one wins. 1 when the container is
 * this process's to remove, 0 when it is claimed or gone. */
static int unmark(struct incus_client *c, const char *name, const char *alias,
                  const char *fingerprint, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct incus_map none = {0};
	char etag[128];
	int r = incus_instance_get_etag(c, name, &in, etag, sizeof(etag), err);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (!of_old_image(in, alias, fingerprint) || !*etag)
		return 0;
	if (incus_map_set(&none, FLEET_WARM_KEY, "") < 0)
		r = coi_error_oom(err);
	else
		r = incus_instance_patch_if(c, name, &none, etag, err);
	incus_map_clear(&none);
	if (r == -ESTALE || r == -ENOENT) {
		coi_error_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

int warm_remove_old_image(struct incus_client *c, const char *alias, const char *fingerprint,
                          char ***ret_removed, struct coi_error *err)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **list = NULL;
	int r = incus_instance_list(c, NULL, 0, &list, err), first = 0;

	if (r < 0)
		return coi_error_prefix(err, "warm pool");
	for (size_t i = 0; list[i]; i++) {
		struct coi_error e = {0};

		if (!of_old_image(list[i], alias, fingerprint))
			continue;
		r = unmark(c, list[i]->name, alias, fingerprint, &e);
		/* with what it left on this user's host; another user's is that user's to clean
		 * (their coi clean --orphans: fleet.h) */
		if (r > 0 && fleet_kill(c, list[i]->name, NULL, NULL, &e) < 0 &&
		    incus_instance_exists(c, list[i]->name, NULL) != 0)
			r = e.code ? e.code : -EIO;
		if (r > 0 && ret_removed && strv_push(ret_removed, list[i]->name) < 0)
			return coi_error_oom(err);
		if (r < 0 && !first)
			first = coi_error_set(err, r, "cannot remove warm container '%s': %s",
			                      list[i]->name, coi_error_message(&e));
	}
	return first;
}
