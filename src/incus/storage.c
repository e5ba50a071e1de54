/* SPDX-License-Identifier: MIT */
/* storage.c: storage pools (a session names one in its error when it is missing). */
#include <errno.h>
#include <stdlib.h>

#include "incus/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

int incus_storage_pool_exists(struct incus_client *c, const char *name, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/storage-pools/%s", name);
	int r = incus_simple(c, "GET", path, NULL, NULL, NULL, err);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}
