/* SPDX-License-Identifier: MIT */
/* fuzz-gitconfig: the git configuration reader on arbitrary bytes (what an agent can write into a
 * repository's config). Besides not crashing: when a file is read, removing the keys that run
 * programs must give a file that reads again, with none of them left and every other entry as it
 * was, in order. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/gitconfig.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gitconfig c = {0}, again = {0};
	struct buf out = BUF_INIT(1 << 20);
	bool *drop;
	size_t k = 0;

	if (size > (1 << 16) || gitconfig_parse((const char *)data, size, &c, NULL) < 0)
		return 0;
	drop = calloc(c.n + 1, sizeof(bool));
	if (!drop)
		abort();
	for (size_t i = 0; i < c.n; i++)
		drop[i] = gitconfig_runs_program(c.entries[i].name);
	if (gitconfig_without((const char *)data, size, &c, drop, &out) < 0 ||
	    gitconfig_parse(out.data ? out.data : "", out.len, &again, NULL) < 0)
		abort();
	for (size_t i = 0; i < c.n; i++) {
		if (drop[i])
			continue;
		if (k >= again.n || strcmp(c.entries[i].name, again.entries[k].name) != 0 ||
		    !same(c.entries[i].value, again.entries[k].value))
			abort();
		k++;
	}
	if (k != again.n)
		abort();
	free(drop);
	buf_release(&out);
	gitconfig_release(&c);
	gitconfig_release(&again);
	return 0;
}
