/* SPDX-License-Identifier: MIT */
/* test-image.c: the embedded recipes are the files in the tree, byte for byte; the recipe hash
 * changes with every input and only with them; version aliases are recognised exactly. */
#include <string.h>

#include "../fake-incusd/fake-incusd.h"
#include "image/image.h"
#include "incus/incus.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

static const char *const files[_IMAGE_RECIPE_MAX] = {
        [IMAGE_RECIPE_BASE] = "src/image/base-debootstrap.sh",
        [IMAGE_RECIPE_BUILD] = "src/image/build.sh",
        [IMAGE_RECIPE_DUMMY] = "src/image/dummy",
};

static void test_recipes_embedded(void)
{
	for (int id = 0; id < _IMAGE_RECIPE_MAX; id++) {
		struct image_recipe rc = image_recipe_get((enum image_recipe_id)id);
		struct buf b = BUF_INIT(1u << 20);

		CHECK(read_file(files[id], &b, NULL) == 0);
		CHECK(rc.len == b.len);
		CHECK(rc.len > 100 && memcmp(rc.data, buf_str(&b), rc.len) == 0);
		CHECK(rc.data[rc.len] == '\0');
		CHECK(strncmp(rc.data, "#!/bin/", 7) == 0);
		CHECK_STREQ(rc.name, path_basename(files[id]));
		buf_release(&b);
	}
	CHECK(image_recipe_get(_IMAGE_RECIPE_MAX).name == NULL);
}

static void test_recipe_hash(void)
{
	char a[IMAGE_HASH_LEN + 1], b[IMAGE_HASH_LEN + 1], base[IMAGE_HASH_LEN + 1];

	CHECK(image_recipe_hash(NULL, NULL, a) == 0);
	CHECK(strlen(a) == IMAGE_HASH_LEN);
	CHECK(strspn(a, "0123456789abcdef") == IMAGE_HASH_LEN);
	/* the default agent list, in another order and with other separators, is the same recipe */
	CHECK(image_recipe_hash("gemini,codex opencode, claude", NULL, b) == 0);
	CHECK_STREQ(a, b);
	CHECK(image_recipe_hash("claude claude opencode codex gemini", NULL, b) == 0);
	CHECK_STREQ(a, b);
	/* other agents, or a custom script, are another recipe */
	CHECK(image_recipe_hash("claude", NULL, b) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(image_recipe_hash(NULL, "echo hi\n", b) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(image_recipe_hash(NULL, "echo hi\n", a) == 0);
	CHECK_STREQ(a, b);
	CHECK(image_base_hash(base) == 0);
	CHECK(strlen(base) == IMAGE_HASH_LEN && strcmp(base, a) != 0);
}

static void test_version_alias(void)
{
	CHECK(image_is_version_alias("coi-default", "coi-default-20261128-114502"));
	CHECK(!image_is_version_alias("coi-default", "coi-default"));
	CHECK(!image_is_version_alias("coi-default", "coi-default-"));
	CHECK(!image_is_version_alias("coi-default", "coi-default-20261128-11450"));
	CHECK(!image_is_version_alias("coi-default", "coi-default-20261128-1145022"));
	CHECK(!image_is_version_alias("coi-default", "coi-default-20261128_114502"));
	CHECK(!image_is_version_alias("coi-default", "coi-default-2026112a-114502"));
	CHECK(!image_is_version_alias("coi", "coi-default-20261128-114502"));
	CHECK(!image_is_version_alias("coi-default", "coi-defaultx20261128-114502"));
	CHECK(image_is_version_alias("my.img", "my.img-20000101-000000"));
}

static void test_phase_names(void)
{
	for (int p = 0; p < _IMAGE_PHASE_MAX; p++)
		CHECK(strcmp(image_phase_to_string((enum image_phase)p), "?") != 0);
	CHECK_STREQ(image_phase_to_string(_IMAGE_PHASE_MAX), "?");
}

static struct fake fake;

static struct incus_client *client_for(const char *case_name)
{
	struct incus_client_opts o = {.op_timeout = -1};
	struct incus_client *c = NULL;

	if (fake_start(&fake, case_name) < 0)
		return NULL;
	o.socket_path = fake.socket;
	CHECK(incus_client_new(&o, &c, NULL) == 0);
	return c;
}

/* keep 1: the newest version stays, and the one the alias names (not the newest) too; older
 * ones go, oldest last; other aliases and unnamed images are not touched. */
static void test_cleanup(void)
{
	struct incus_client *c = client_for("image-cleanup");
	struct coi_error err = {0};
	char **deleted = NULL;

	if (!c)
		return;
	CHECK(image_cleanup(c, "coi-default", 0, NULL, &err) == -EINVAL);
	CHECK(image_cleanup(c, "coi-default", 1, &deleted, &err) == 2);
	CHECK(strv_length(deleted) == 2);
	CHECK_STREQ(deleted ? deleted[0] : NULL, "coi-default-20261128-100000");
	CHECK_STREQ(deleted ? deleted[1] : NULL, "coi-default-20261127-090000");
	strv_free(deleted);
	incus_client_free(c);
	CHECK(fake_stop(&fake) == 0);
}

static void test_property(void)
{
	struct incus_client *c = client_for("image-property");
	struct coi_error err = {0};
	char *v = NULL;

	if (!c)
		return;
	CHECK(image_property(c, "coi-default", "coi.recipe", &v, &err) == 0);
	CHECK_STREQ(v, "0123456789abcdef");
	free(v);
	v = (char *)"untouched";
	CHECK(image_property(c, "coi-default", "coi.recipe", &v, &err) == 0);
	CHECK(v == NULL);
	CHECK(image_property(c, "nope", "coi.recipe", &v, &err) == -ENOENT);
	incus_client_free(c);
	CHECK(fake_stop(&fake) == 0);
}

int main(void)
{
	RUN(test_recipes_embedded);
	RUN(test_recipe_hash);
	RUN(test_version_alias);
	RUN(test_phase_names);
	RUN(test_cleanup);
	RUN(test_property);
	return tap_done();
}
