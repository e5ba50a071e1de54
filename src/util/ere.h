/* SPDX-License-Identifier: MIT */
/* ere.h: whether a POSIX extended regular expression from a file coi does not control (a Sigma
 * rule) can be compiled at a bounded cost. glibc's regcomp copies a repeated part once per
 * repetition: `x++++...` doubles its tree per `+` and `(a{200}){200}` holds 40,000 copies, so a
 * rule file of a few hundred bytes could take gigabytes (fuzz-rulefile found it). Back-references
 * make matching exponential and are refused too. */
#pragma once

#include <stddef.h>

#define ERE_COST_MAX 10000 /* nodes, about a tenth of a megabyte in glibc's tree */

/* The size of re's tree, approximately and never less than glibc's: 0 when within max, else
 * -E2BIG (why says "repetitions that multiply past N nodes") or -EINVAL for a back-reference. A
 * malformed expression is regcomp's to refuse: it costs little here. Pure; linear in re. */
int ere_cost_check(const char *re, size_t max, const char **why);
