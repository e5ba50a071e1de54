/* SPDX-License-Identifier: MIT */
/* recipes.c: the image recipes, embedded in the binary with the assembler's .incbin, so 'coi build'
 * runs exactly the scripts it was built with and never reads them from disk at run time (a script
 * on disk could be changed by anyone who can write there). The Makefile names these files as
 * prerequisites of this object, because the compiler's dependency output does not see .incbin.
 * Also what identifies a build: the recipe hash, and the names of versions and phases. Nothing
 * here talks to Incus. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/strv.h"

/* Each file becomes a hidden, NUL-terminated symbol pair NAME / NAME_end in .rodata. Paths are
 * relative to the top of the tree, where make runs the compiler. */
#define COI_INCBIN(sym, file)                                          \
	__asm__(".section .rodata\n"                                   \
	        ".balign 16\n"                                         \
	        ".global " #sym "\n"                                   \
	        ".hidden " #sym "\n" #sym ":\n"                        \
	        ".incbin \"" file "\"\n"                               \
	        ".global " #sym "_end\n"                               \
	        ".hidden " #sym "_end\n" #sym "_end:\n"                \
	        ".byte 0\n"                                            \
	        ".previous\n");                                        \
	extern const char sym[] __attribute__((visibility("hidden"))); \
	extern const char sym##_end[] __attribute__((visibility("hidden")))

COI_INCBIN(coi_recipe_base, "src/image/base-debootstrap.sh");
COI_INCBIN(coi_recipe_build, "src/image/build.sh");
COI_INCBIN(coi_recipe_dummy, "src/image/dummy");

struct image_recipe image_recipe_get(enum image_recipe_id id)
{
	switch (id) {
	case IMAGE_RECIPE_BASE:
		return (struct image_recipe){"base-debootstrap.sh", coi_recipe_base,
		                             (size_t)(coi_recipe_base_end - coi_recipe_base)};
	case IMAGE_RECIPE_BUILD:
		return (struct image_recipe){"build.sh", coi_recipe_build,
		                             (size_t)(coi_recipe_build_end - coi_recipe_build)};
	case IMAGE_RECIPE_DUMMY:
		return (struct image_recipe){"dummy", coi_recipe_dummy,
		                             (size_t)(coi_recipe_dummy_end - coi_recipe_dummy)};
	case _IMAGE_RECIPE_MAX:
		break;
	}
	return (struct image_recipe){NULL, "", 0};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
	strv_foreach(a, l) {
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

/* clang-format off */
static const char *const phase_names[_IMAGE_PHASE_MAX] = {
	[IMAGE_PHASE_CHECK]   = "check",
	[IMAGE_PHASE_BASE]    = "base",
	[IMAGE_PHASE_LAUNCH]  = "launch",
	[IMAGE_PHASE_PUSH]    = "push",
	[IMAGE_PHASE_SCRIPT]  = "script",
	[IMAGE_PHASE_STOP]    = "stop",
	[IMAGE_PHASE_PUBLISH] = "publish",
	[IMAGE_PHASE_ALIAS]   = "alias",
	[IMAGE_PHASE_CLEANUP] = "cleanup",
};
/* clang-format on */

const char *image_phase_to_string(enum image_phase p)
{
	return p >= 0 && p < _IMAGE_PHASE_MAX ? phase_names[p] : "?";
}
