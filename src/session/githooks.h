/* SPDX-License-Identifier: MIT */
/* githooks.h: [git] strip_attribution. Inside the container, git's system configuration points
 * core.hooksPath at /etc/coi/git-hooks (root's, read-only to code): its commit-msg hook takes
 * the lines that match the patterns (AI co-author trailers, "Generated with ..." lines) out of
 * the message, then runs the repository's own commit-msg hook; every other hook name runs the
 * repository's own hook, so a project's hooks work inside as before. The hooks are set up by one
 * script run as root at the start (nothing when the image has no git). */
#pragma once

/* The built-in patterns (extended regular expressions, matched without regard to case), used
 * when [git] strip_attribution_patterns is unset. */
extern const char *const githooks_default_patterns[];

/* The argv of the set-up script for the patterns (NULL: the built-in ones): "sh", "-c", SCRIPT,
 * "sh", then one argument per pattern; NULL on OOM. Free with strv_free(). */
char **githooks_setup_argv(char *const *patterns);
