/* SPDX-License-Identifier: MIT */
/* config.h: coi's configuration. One table of keys (config_keys()) maps each "section.key" of the
 * TOML files to a field of struct coi_config, with its type, default, description and trust class.
 * config_load() merges the layers in a fixed order, later wins per key:
 *
 *	built-in defaults -> ~/.coi/config.toml (or $COI_CONFIG) -> <workspace>/.coi/config.toml
 *	-> the selected profile (~/.coi/profiles/NAME/config.toml or
 *<workspace>/.coi/profiles/NAME/...)
 *
 * The project file and project profiles come with a cloned repository, so they are untrusted: keys
 * that would weaken isolation are dropped from them with a warning unless the file's current
 * content was approved with 'coi trust' (see config/trust.h). Warnings (unknown keys, dropped
 * keys) are returned as strings; the library never prints.
 *
 * Every field below always holds a valid value after config_load(): strings are NULL only where
 * the key has no default ("unset"); string vectors may be NULL or empty. */
#pragma once

#include <stdbool.h>

#include "config/settings.h"

struct coi_config;
struct coi_error;

/* Where key i's value came from: NULL for the built-in default, else "FILE:LINE". */
const char *config_origin(const struct coi_config *c, size_t i);

struct config_load_opts {
	const char *workspace; /* the project directory; NULL: the current directory */
	const char *profile;   /* --profile NAME, or NULL for [defaults] profile or none */
	const char *user_file; /* instead of $COI_CONFIG / ~/.coi/config.toml; NULL: those */
	bool no_user;          /* skip the user layer (tests, validate) */
	bool trust_all;        /* treat project files as approved (COI_TRUST_ALL=1 sets this too) */
};

/* Load the effective configuration. Warnings (NULL-terminated, may be NULL) are for the user. */
int config_load(const struct config_load_opts *o, struct coi_config **ret, char ***ret_warnings,
                struct coi_error *err);
/* The built-in defaults only. */
int config_new_default(struct coi_config **ret, struct coi_error *err);
struct coi_config *config_free(struct coi_config *c);

/* Profile NAME for workspace: its file (*ret_path, NULL for a built-in one: default, hardened)
 * and whether it is the project's (*ret_project). -ENOENT when there is none, -EINVAL for a name
 * that is not one, -EEXIST when both the user and the project define it. */
int config_profile_find(const char *name, const char *workspace, char **ret_path, bool *ret_project,
                        struct coi_error *err);
/* Where NAME's file goes: coi_dir()/profiles/NAME/config.toml, or in the workspace's
 * .coi/profiles/ when project. -EINVAL for a name that is not one. */
int config_profile_path(const char *name, const char *workspace, bool project, char **ret,
                        struct coi_error *err);
/* Every profile there is for workspace: the built-in ones, then the user's and the project's,
 * each sorted. 0 or -ENOMEM. */
int config_profile_names(const char *workspace, char ***ret);
/* The names of the built-in profiles, NULL-terminated, and the text of one (NULL: not built in;
 * "" for default, which adds nothing). */
extern const char *const config_builtin_profiles[];
const char *config_builtin_profile(const char *name);

/* Check one file as a trusted layer over the defaults (coi config validate). Warnings as above. */
int config_validate_file(const char *path, char ***ret_warnings, struct coi_error *err);

/* The protected paths in effect: protected_paths + additional_protected_paths - writable_paths,
 * minus .git/hooks when git.writable_hooks, empty when disable_protection. */
int config_protected_paths(const struct coi_config *c, char ***ret);

/* The effective configuration as TOML, each value annotated with its origin; or as JSON
 * ({"key": {"value": ..., "origin": ...}}). Newly allocated. */
char *config_to_toml(const struct coi_config *c);
char *config_to_json(const struct coi_config *c);
