/* SPDX-License-Identifier: MIT */
/* recipes.c: the image recipes, embedded in the binary with the assembler's .incbin, so 'coi build'
 * runs exactly the scripts it was built with and never reads them from disk at run time (a script
 * on disk could be changed by anyone who can write there). The Makefile names these files as
 * prerequisites of this object, because the compiler's dependency output does not see .incbin. */
#include "image/image.h"

/* Each file becomes a hidden, NUL-terminated symbol pair NAME / NAME_end in .rodata. Paths are
 * relative to the top of the tree, where make runs the compiler. */
#define COI_INCBIN(sym, file)                                                                      \
	__asm__(".section .rodata\n"                                                               \
	        ".balign 16\n"                                                                     \
	        ".global " #sym "\n"                                                               \
	        ".hidden " #sym "\n"                                                               \
	        #sym ":\n"                                                                         \
	        ".incbin \"" file "\"\n"                                                           \
	        ".global " #sym "_end\n"                                                           \
	        ".hidden " #sym "_end\n"                                                           \
	        #sym "_end:\n"                                                                     \
	        ".byte 0\n"                                                                        \
	        ".previous\n");                                                                    \
	extern const char sym[] __attribute__((visibility("hidden")));                            \
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
