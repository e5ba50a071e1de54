/* SPDX-License-Identifier: MIT */
/* alias.h: workspace aliases, as the original keeps them: NAME -> {workspace, profile} in
 * coi_dir()/aliases.json, so 'coi shell NAME' and 'coi attach NAME' work from any directory. The
 * original registers them from [container] alias, a key coi does not act on
 * (docs/configuration.md); a user's existing file is read. */
#pragma once

#include <stdbool.h>

struct coi_error;

/* Letters, digits, '-' and '_', starting with a letter, at most 64. */
bool alias_valid(const char *alias);

/* Record alias -> workspace (and profile, may be NULL). An alias already registered to another
 * workspace is refused (-EEXIST, naming it); the same workspace is updated. */
int alias_register(const char *alias, const char *workspace, const char *profile,
                   struct coi_error *err);

/* The workspace (and profile, NULL when none) of alias; -ENOENT when it is not registered. */
int alias_lookup(const char *alias, char **ret_workspace, char **ret_profile,
                 struct coi_error *err);
