/* SPDX-License-Identifier: MIT */
/* rules-internal.h: the predicates' helpers rules.c shares with rules-files.c. It includes no
 * header of src/monitor/ (rules.h is what both implement), so the files form no circle. */
#pragma once

#include <stdbool.h>

#include "util/cleanup.h"

struct rule_hit;

/* Fill h with pattern and reason; true. */
bool rules_hit(struct rule_hit *h, const char *pattern, const char *reason);
/* Fill h: the pattern from fmt, the reason as given; true. */
bool rules_hitf(struct rule_hit *h, const char *reason, const char *fmt, ...) COI_PRINTF(3, 4);
/* prog is one of list (NULL-terminated). */
bool rules_in_list(const char *prog, const char *const *list);
/* The first of needles in s (ignoring case when icase), in *ret_found when wanted. */
bool rules_contains(const char *s, const char *const *needles, bool icase, const char **ret_found);
