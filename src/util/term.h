/* SPDX-License-Identifier: MIT */
/* term.h: text that is safe to print on a terminal. A name or path coi did not choose (a
 * workspace directory, a key of a project's config, a command line seen inside a container, a
 * daemon's message) may hold escape sequences that a terminal would act on: retitle it, rewrite
 * what is on screen, or worse. Everything that prints such text passes it through here: control
 * characters (C0 but newline and tab where lines are kept, DEL, C1 such as U+009B), and bytes
 * that are not UTF-8, become a visible \xNN. Other text, UTF-8 included, is unchanged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether s holds anything term_escape() would change. */
bool term_needs_escape(const char *s, bool keep_lines);
/* s escaped into out (size > 0), cut at a character boundary when out is too small; returns
 * out. keep_lines keeps '\n' and '\t' (messages), else they are escaped too (table cells). */
char *term_escape(const char *s, bool keep_lines, char *out, size_t size);
/* The same, newly allocated; NULL on OOM. */
char *term_escape_dup(const char *s, bool keep_lines);
