/* SPDX-License-Identifier: MIT */
/* image.h: 'coi build', the sandbox image. Owns the recipes (embedded in the binary), the base
 * (from an image server, or made on the host with debootstrap and cached), the build container
 * pipeline (launch, push, run the recipe with its output streamed, stop, publish, repoint the
 * alias) and the pruning of old versions.
 *
 * Invariants: a build container (coi-build-<timestamp>-<4 hex>) never outlives image_build(),
 * whatever the exit path (error, SIGINT through incus_interrupt()); the alias is repointed only
 * after the new image is published, so a failed build keeps the previous image. Every published
 * image carries the recipe hash as the property 'coi.recipe', which decides whether a rebuild is
 * needed.
 *
 * Library code: nothing is printed. The build's own output goes to opts->log_fd; phases and
 * percentages go to opts->progress. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coi_error;
struct incus_client;

#define IMAGE_DEFAULT_ALIAS   "coi-default"
#define IMAGE_DEFAULT_KEEP    3
#define IMAGE_DEFAULT_CACHE   "/var/cache/coi"
#define IMAGE_DEFAULT_AGENTS  "claude opencode codex gemini"
#define IMAGE_RECIPE_PROPERTY "coi.recipe"
#define IMAGE_HASH_LEN        16
#define IMAGE_BUILD_PREFIX    "coi-build-"
#define IMAGE_STAMP_LEN       15 /* YYYYMMDD-HHMMSS */

/* ---- the embedded recipes ------------------------------------------------------------------- */

enum image_recipe_id {
	IMAGE_RECIPE_BASE,  /* base-debootstrap.sh: host side, root */
	IMAGE_RECIPE_BUILD, /* build.sh: inside the build container */
	IMAGE_RECIPE_DUMMY, /* dummy: the fake agent */
	_IMAGE_RECIPE_MAX,
};

struct image_recipe {
	const char *name; /* file name, e.g. "build.sh" */
	const char *data; /* NUL-terminated */
	size_t len;       /* without the NUL */
};

/* The embedded recipe; id must be valid. */
struct image_recipe image_recipe_get(enum image_recipe_id id);

/* The recipe hash: the first IMAGE_HASH_LEN hex digits of a SHA-256 over every embedded recipe,
 * the agent list (normalised: order and separators do not matter) and a custom script (may be
 * NULL). ret must hold IMAGE_HASH_LEN + 1 bytes. */
int image_recipe_hash(const char *agents, const char *custom_script, char *ret);

/* The hash of the base recipe alone (keys the debootstrap cache). */
int image_base_hash(char *ret);

/* ---- building ------------------------------------------------------------------------------- */

/* A phase of the build, for progress output. */
enum image_phase {
	IMAGE_PHASE_CHECK,
	IMAGE_PHASE_BASE,
	IMAGE_PHASE_LAUNCH,
	IMAGE_PHASE_PUSH,
	IMAGE_PHASE_SCRIPT,
	IMAGE_PHASE_STOP,
	IMAGE_PHASE_PUBLISH,
	IMAGE_PHASE_ALIAS,
	IMAGE_PHASE_CLEANUP,
	_IMAGE_PHASE_MAX,
};
const char *image_phase_to_string(enum image_phase p);

/* text is a short description; percent is -1 when there is none. */
typedef void (*image_progress_fn)(enum image_phase phase, const char *text, int percent,
                                  void *userdata);

struct image_build_opts {
	const char *alias; /* NULL: IMAGE_DEFAULT_ALIAS */
	/* Where the base comes from:
	 *   NULL or "auto"  the default image server when it answers, else "debootstrap"
	 *   "debootstrap"   made on the host (root) by the embedded base recipe, cached
	 *   "REMOTE:NAME"   an image on an image server, e.g. "images:debian/12"
	 *   anything else   a local image alias (custom images: "coi-default") */
	const char *base;
	const char *agents;       /* space/comma separated; NULL: IMAGE_DEFAULT_AGENTS */
	const char *script;       /* a custom image: this script (text) runs as root on top of base
	                             instead of the coi recipe; NULL: the coi recipe */
	const char *storage_pool; /* NULL: the default profile's */
	const char *compression;  /* publish compression; NULL: "zstd" for a local daemon */
	const char *cache_dir;    /* NULL: $COI_IMAGE_CACHE, else IMAGE_DEFAULT_CACHE */
	const char *apt_mirror;   /* NULL: the base's own (for debootstrap: the host's) */
	int keep;                 /* versions to keep; 0: IMAGE_DEFAULT_KEEP */
	bool force;               /* rebuild even when the alias carries this recipe hash */
	int log_fd; /* the build's own output (recipes' stdout and stderr); -1: none */
	image_progress_fn progress;
	void *userdata;
};

struct image_build_result {
	bool skipped; /* the alias already carries this recipe hash */
	char recipe[IMAGE_HASH_LEN + 1];
	char *fingerprint;   /* the new (or, when skipped, existing) image */
	char *version_alias; /* "coi-default-20261128-114502"; NULL when skipped */
	char *base;          /* the base used: an alias or "REMOTE:NAME" */
	double base_seconds; /* making/importing the base (0 when cached) */
	double total_seconds;
	int64_t size; /* bytes, as the daemon reports the published image */
	int pruned;   /* old versions deleted */
	/* Set, on success and on failure alike, when the build container could not be deleted:
	 * what to tell the user ("cannot delete build container ...; delete it with ..."). */
	char *leftover;
};
void image_build_result_release(struct image_build_result *r);

/* Builds the image (see the invariants at the top). On failure *ret holds only leftover, which
 * the caller releases with image_build_result_release() as on success. */
int image_build(struct incus_client *c, const struct image_build_opts *opts,
                struct image_build_result *ret, struct coi_error *err);

/* ---- versions ------------------------------------------------------------------------------- */

/* Deletes old versions of alias: images with an alias ALIAS-YYYYMMDD-HHMMSS, keeping the newest
 * keep (>= 1) of them and always the image ALIAS itself points to. *ret_deleted (may be NULL)
 * receives the version aliases deleted. Returns the number deleted. */
int image_cleanup(struct incus_client *c, const char *alias, int keep, char ***ret_deleted,
                  struct coi_error *err);

/* The value of property key of the image alias_or_fp names: 0 and *ret (newly allocated, NULL
 * when the property is absent), or -ENOENT when there is no such image. */
int image_property(struct incus_client *c, const char *alias_or_fp, const char *key, char **ret,
                   struct coi_error *err);

/* 1 when the image alias names was built by coi from a recipe other than the one this coi builds
 * for the same agents (*ret_built: when, from its coi.built), 0 when it is current, not coi's, or
 * a custom build (its script is not known here); -ENOENT when there is no such image.
 * *ret_target (may be NULL): the fingerprint alias named as read, NULL when alias is none. */
int image_recipe_stale(struct incus_client *c, const char *alias, char **ret_built,
                       char **ret_target, struct coi_error *err);

/* True when s is "ALIAS-YYYYMMDD-HHMMSS" for this alias. */
bool image_is_version_alias(const char *alias, const char *s);
