/* SPDX-License-Identifier: MIT */
/* gitscan-walk: the workspace walk coi does at the start and end of a session
 * (session/gitscan.h), on a directory, for benchmarks and by hand.
 *   gitscan-walk DIR [MAX_ENTRIES [MAX_DEPTH]]
 * prints the git directories found, then a line "entries N dirs N pointers N not-walked N ms T". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "session/gitscan.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	struct gitscan_opts o = {0};
	struct gitscan s = {0};
	struct coi_error err = {0};
	struct timespec t0, t1;

	if (argc < 2) {
		fprintf(stderr, "usage: gitscan-walk DIR [MAX_ENTRIES [MAX_DEPTH]]\n");
		return 2;
	}
	if (argc > 2)
		o.max_entries = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		o.max_depth = (unsigned)strtoul(argv[3], NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gitscan_walk(argv[1], &o, &s, &err) < 0) {
		fprintf(stderr, "gitscan-walk: %s\n", coi_error_message(&err));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < s.n_dirs; i++)
		printf("%s\n", s.dirs[i].rel);
	printf("entries %zu dirs %zu pointers %zu not-walked %zu ms %.1f\n", s.entries, s.n_dirs,
	       s.n_ptrs, s.n_not_walked,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	gitscan_release(&s);
	return 0;
}
