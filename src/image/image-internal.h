/* SPDX-License-Identifier: MIT */
/* image-internal.h: what the files of src/image/ share, not for other modules. */
#pragma once

#include "image/image.h"
#include "util/cleanup.h"

struct incus_progress;

/* An image server coi knows by name ("images:debian/12"). */
struct image_remote {
	const char *name;     /* "images" */
	const char *url;      /* "https://images.linuxcontainers.org" */
	const char *protocol; /* "simplestreams" */
};

/* The remote a base like "images:debian/12" names (and *ret_name = "debian/12"), or NULL. */
const struct image_remote *image_remote_find(const char *base, const char **ret_name);

/* One build, from the options to the published image. */
struct build_ctx {
	struct incus_client *c;
	const struct image_build_opts *opts;
	struct image_build_result *res;
	struct coi_error *err;
	const char *cache; /* the cache directory */
	int log_fd;
	char *base_alias;                  /* local alias, or the remote's image name */
	const struct image_remote *remote; /* set when the base is on an image server */
	char stamp[IMAGE_STAMP_LEN + 1];   /* YYYYMMDD-HHMMSS, UTC */
	char container[64];                /* coi-build-STAMP */
	bool container_made;
	bool create_failed; /* the daemon may still be creating it */
	bool published;     /* the new version exists ... */
	bool repointed;     /* ... and the alias names it: from here on the build has succeeded */
	enum image_phase phase; /* for progress from Incus operations */
};

void build_progress(struct build_ctx *b, enum image_phase phase, int percent, const char *fmt, ...)
        COI_PRINTF(4, 5);
/* An incus_progress_fn that forwards to build_progress() in b->phase. */
void build_incus_progress(const struct incus_progress *p, void *userdata);

/* Sets b->base_alias (and b->remote), making or importing the base when needed. */
int build_resolve_base(struct build_ctx *b);
