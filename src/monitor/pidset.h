/* SPDX-License-Identifier: MIT */
/* pidset.h: the processes one monitor knows of, by host pid (the proc connector's tgids): the
 * container's own, counted, and foreign ones, which live in another container's cgroup and can
 * never become the container's (procfs.c, cgroup_place()): their execs and forks need no look
 * at all. A process in neither set is unknown: its exec costs a cgroup read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pidset {
	uint64_t *mine;    /* bitmap over [0, max) */
	uint64_t *foreign; /* bitmap over [0, max) */
	size_t shared;     /* foreign is a mapping this long, shared with the kernel */
	size_t max;        /* pid_max + 1 */
	unsigned live;     /* bits set in mine */
};

/* Both sets empty, for pids below max; -ENOMEM. */
int pidset_init(struct pidset *s, size_t max);
/* The foreign set moves to words (max bits at least, bytes long, mapped: pidset_done unmaps
 * it), which the kernel's filter shares (sources.h, proccn_filter_foreign): it marks the
 * children of foreign processes and forgets those that end, concurrently, so every access to
 * the foreign set is atomic. */
void pidset_share_foreign(struct pidset *s, uint64_t *words, size_t bytes);
void pidset_done(struct pidset *s);
/* Empty both (events were lost: what we knew may be stale). */
void pidset_clear(struct pidset *s);
/* Empty the foreign set only (events were lost; the container's own set is rescanned). */
void pidset_forget_foreign(struct pidset *s);
bool pidset_has(const struct pidset *s, pid_t p);
bool pidset_is_foreign(const struct pidset *s, pid_t p);
/* p is the container's (and so not foreign). */
void pidset_add(struct pidset *s, pid_t p);
void pidset_set_foreign(struct pidset *s, pid_t p);
/* p ended: it leaves both sets; whether it was the container's. */
bool pidset_exit(struct pidset *s, pid_t p);
/* parent forked child: the child of a container process is one too (returns true); the child of
 * a foreign process is foreign (it starts in its parent's cgroup); any other child is unknown,
 * whatever its pid was before. */
bool pidset_fork(struct pidset *s, pid_t parent, pid_t child);
/* A scan of the cgroup saw the pids in seen (a bitmap over max): the container's others are
 * gone. Returns how many left. */
unsigned pidset_keep(struct pidset *s, const uint64_t *seen);
