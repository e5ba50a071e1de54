/* SPDX-License-Identifier: MIT */
/* suggest.h: "did you mean" for a misspelt word (a verb, an option): the closest candidate by
 * edit distance, when it is close enough to read as a typo. */
#pragma once

#include <stddef.h>

/* Edit distance of a and b (insertions, deletions, substitutions and swaps of two neighbours);
 * 99 when either is 63 bytes or longer. */
unsigned suggest_distance(const char *a, const char *b);

/* The candidate (NULL-terminated list) nearest to word and within a typo of it (1 edit up to 5
 * bytes, 2 up to 8, else 3), or NULL. Ties go to the first. */
const char *suggest_closest(const char *word, const char *const *candidates);
