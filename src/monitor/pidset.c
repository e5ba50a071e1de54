/* SPDX-License-Identifier: MIT */
/* pidset.c: the container's pids and the foreign ones (pidset.h). */
#include "monitor/pidset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t words(const struct pidset *s)
{
	return s->max / 64 + 1;
}

/* Atomic, as the foreign set may be shared with the kernel (relaxed: each bit stands alone). */
static bool bit(const uint64_t *set, size_t max, pid_t p)
{
	return p > 0 && (size_t)p < max &&
	       (__atomic_load_n(&set[p / 64], __ATOMIC_RELAXED) >> (p % 64)) & 1;
}

static void put(uint64_t *set, size_t max, pid_t p, bool on)
{
	if (p <= 0 || (size_t)p >= max)
		return;
	if (on)
		__atomic_fetch_or(&set[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&set[p / 64], ~(1ull << (p % 64)), __ATOMIC_RELAXED);
}

int pidset_init(struct pidset *s, size_t max)
{
	*s = (struct pidset){.max = max};
	s->mine = calloc(words(s), sizeof(uint64_t));
	s->foreign = calloc(words(s), sizeof(uint64_t));
	if (!s->mine || !s->foreign) {
		pidset_done(s);
		return -ENOMEM;
	}
	return 0;
}

void pidset_share_foreign(struct pidset *s, uint64_t *shared, size_t bytes)
{
	for (size_t w = 0; w < words(s); w++)
		__atomic_store_n(&shared[w], s->foreign[w], __ATOMIC_RELAXED);
	free(s->foreign);
	s->foreign = shared;
	s->shared = bytes;
}

void pidset_done(struct pidset *s)
{
	free(s->mine);
	if (s->shared)
		munmap(s->foreign, s->shared);
	else
		free(s->foreign);
	*s = (struct pidset){0};
}

void pidset_forget_foreign(struct pidset *s)
{
	for (size_t w = 0; w < words(s); w++)
		__atomic_store_n(&s->foreign[w], 0, __ATOMIC_RELAXED);
}

void pidset_clear(struct pidset *s)
{
	memset(s->mine, 0, words(s) * sizeof(uint64_t));
	pidset_forget_foreign(s);
	s->live = 0;
}

bool pidset_has(const struct pidset *s, pid_t p)
{
	return bit(s->mine, s->max, p);
}

bool pidset_is_foreign(const struct pidset *s, pid_t p)
{
	return bit(s->foreign, s->max, p);
}

void pidset_add(struct pidset *s, pid_t p)
{
	if (p <= 0 || (size_t)p >= s->max || pidset_has(s, p))
		return;
	put(s->mine, s->max, p, true);
	put(s->foreign, s->max, p, false);
	s->live++;
}

void pidset_set_foreign(struct pidset *s, pid_t p)
{
	if (!pidset_has(s, p))
		put(s->foreign, s->max, p, true);
}

bool pidset_exit(struct pidset *s, pid_t p)
{
	put(s->foreign, s->max, p, false);
	if (!pidset_has(s, p))
		return false;
	put(s->mine, s->max, p, false);
	s->live--;
	return true;
}

bool pidset_fork(struct pidset *s, pid_t parent, pid_t child)
{
	if (pidset_has(s, parent)) {
		pidset_add(s, child);
		return true;
	}
	put(s->foreign, s->max, child, pidset_is_foreign(s, parent));
	return false;
}

unsigned pidset_keep(struct pidset *s, const uint64_t *seen)
{
	unsigned gone = 0;

	for (size_t w = 0; w < words(s); w++)
		if (s->mine[w] & ~seen[w]) {
			gone += (unsigned)__builtin_popcountll(s->mine[w] & ~seen[w]);
			s->mine[w] &= seen[w];
		}
	s->live -= gone;
	return gone;
}
