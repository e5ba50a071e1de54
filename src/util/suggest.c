/* SPDX-License-Identifier: MIT */
/* suggest.c: see suggest.h. */
#include "util/suggest.h"

#include <string.h>

unsigned suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned rows[3][64], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned *t;

		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			/* two letters swapped ("lsit") is one slip, not two */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *suggest_closest(const char *word, const char *const *candidates)
{
	size_t len = strlen(word);
	unsigned limit = len >= 9 ? 3 : len >= 6 ? 2 : 1, best_d = limit + 1;
	const char *best = NULL;

	for (size_t i = 0; candidates && candidates[i]; i++) {
		unsigned d = suggest_distance(word, candidates[i]);

		if (d < best_d && strcmp(word, candidates[i]) != 0) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
