/* SPDX-License-Identifier: MIT */
/* strv.h: NULL-terminated vectors of owned strings (argv-like). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/cleanup.h"

#define strv_foreach(s, l) for (char **s = (l); s && *s; s++)

char **strv_free(char **l);
DEFINE_CLEANUP(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Append a copy of s; 0 or -ENOMEM. *l may be NULL (an empty vector). */
int strv_push(char ***l, const char *s);
/* Append s itself, taking ownership (freed on failure). */
int strv_consume(char ***l, char *s);
/* strv_consume() of a formatted string. 0 or -ENOMEM. */
int strv_pushf(char ***l, const char *fmt, ...) COI_PRINTF(2, 3);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Join with sep; NULL on OOM. An empty or NULL vector gives "". */
char *strv_join(char *const *l, const char *sep);
/* Split on any of the separator characters, dropping empty fields. */
char **strv_split(const char *s, const char *seps);
