/* SPDX-License-Identifier: MIT */
/* hostname.h: what a DNS name coi accepts looks like, one rule for the configuration loader and
 * the network policy (so the loader refuses what a session would). */
#pragma once

#include <stdbool.h>

/* Letters, digits, '-' and '_' in labels of 1..63 that neither start nor end with '-', dots
 * between them, 253 at most, and a last label that is not all digits (a mistyped address). */
bool hostname_valid(const char *s);
