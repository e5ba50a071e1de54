/* SPDX-License-Identifier: MIT */
/* secrets.h: [security] secret_paths. The workspace's files and directories that match a pattern
 * are hidden for the whole session behind an empty, read-only mount (the host's copy is never
 * touched); the container-wide seccomp policy keeps container root from unmounting, moving or
 * copying around it (devices.c), except with [container] docker, which keeps Incus' policy.
 *
 * Patterns: one without a slash (".env", "*.pem", ".env.*") matches a name at any depth, as in
 * .gitignore; one with a slash ("config/secrets.yml", "deploy/NAME.key") matches the path from the
 * workspace's root (a leading "**" and slash: at any depth); DIR, a slash and "**" hides the
 * directory DIR; a trailing slash matches directories only.
 * A match that is a directory is hidden whole. A symbolic link that matches hides what it leads
 * to when that is in the workspace (a link out of it leads to nothing the container has).
 *
 * The search is breadth first, bounded (depth and entries), never follows a symbolic link and
 * does not enter .git directories (the git directory has mounts of its own). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct coi_error;

struct secret_entry {
	char *rel; /* relative to the workspace, no symbolic link on the way */
	bool is_dir;
};

struct secret_plan {
	struct secret_entry *entries;
	size_t n_entries;
	char **notes; /* what the user should be told: links skipped, a search cut short */
};

/* The most paths one session hides (each is a mount): more is an error that says to hide
 * their directory instead. */
#define SECRETS_MAX 128

/* Find what patterns match in workspace (absolute). An empty or missing list gives an empty
 * plan. */
int secrets_plan_build(const char *workspace, char *const *patterns, struct secret_plan **ret,
                       struct coi_error *err);
struct secret_plan *secrets_plan_free(struct secret_plan *p);

/* Does pattern match the path rel (relative to the workspace; its last component is the name)? */
bool secrets_pattern_match(const char *pattern, const char *rel);

/* Where the masks are made: /run/coi/masks for root, else $XDG_RUNTIME_DIR/coi/masks or
 * ~/.cache/coi/masks; never coi's state directory, which no container may have. */
char *secrets_masks_dir(void);
/* The empty file and the empty directory the masks are made of, in dir (a directory of this
 * user's, made if missing; a file that is not empty any more is made empty again, a directory
 * that is not is refused). Newly allocated paths. */
int secrets_mask_sources(const char *dir, char **ret_file, char **ret_dir, struct coi_error *err);
