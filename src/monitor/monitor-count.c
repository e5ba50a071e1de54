/* SPDX-License-Identifier: MIT */
/* monitor-count.c: how many processes the container has and how fast they multiply: the live
 * count (pidset.h), a sliding window of forks and exits in 100 ms buckets, the deepest chain of
 * forks without an exec, and whether the kernel refuses forks (the pids controller), judged by
 * the process-count and spawn-rate rules. */
#include <string.h>

#include "monitor/audit.h"
#include "monitor/monitor-internal.h"
#include "monitor/sources.h"

/* The bucket of now, emptied (its old counts leave the sums) when its slot held an older one. */
static unsigned bucket_at(struct monitor *m, uint64_t now)
{
	uint64_t id = now / BUCKET_NS;
	unsigned slot = (unsigned)(id % m->n_buckets);

	if (m->bucket[slot].id != id) {
		m->forks -= m->bucket[slot].forks;
		m->exits -= m->bucket[slot].exits;
		m->bucket[slot].id = id;
		m->bucket[slot].forks = m->bucket[slot].exits = m->bucket[slot].gen = 0;
	}
	return slot;
}

/* Buckets older than the window leave the sums even when no event lands in their slot. */
void monitor_window_expire(struct monitor *m, uint64_t now)
{
	uint64_t id = now / BUCKET_NS;

	for (unsigned i = 0; i < m->n_buckets; i++)
		if (m->bucket[i].id + m->n_buckets <= id &&
		    (m->bucket[i].forks || m->bucket[i].exits)) {
			m->forks -= m->bucket[i].forks;
			m->exits -= m->bucket[i].exits;
			m->bucket[i].forks = m->bucket[i].exits = m->bucket[i].gen = 0;
		}
}

void monitor_count_fork(struct monitor *m, uint64_t now, unsigned gen)
{
	unsigned slot = bucket_at(m, now);

	m->bucket[slot].forks++;
	m->forks++;
	if (gen > m->bucket[slot].gen)
		m->bucket[slot].gen = gen;
}

void monitor_count_exits(struct monitor *m, uint64_t now, unsigned n)
{
	m->bucket[bucket_at(m, now)].exits += n;
	m->exits += n;
}

/* The deepest fork-without-exec chain within the window. */
static unsigned window_gen(const struct monitor *m, uint64_t now)
{
	uint64_t id = now / BUCKET_NS;
	unsigned g = 0;

	for (unsigned i = 0; i < m->n_buckets; i++)
		if (m->bucket[i].id + m->n_buckets > id && m->bucket[i].gen > g)
			g = m->bucket[i].gen;
	return g;
}

void monitor_window_init(struct monitor *m)
{
	unsigned ms = m->o->sample_ms < 1000 ? 1000 : m->o->sample_ms;

	m->n_buckets = ms / (BUCKET_NS / 1000000u);
	if (m->n_buckets > WINDOW_BUCKETS)
		m->n_buckets = WINDOW_BUCKETS;
	(void)cgroup_pids_refused(&m->cg, &m->pids_refused);
}

bool monitor_spawning(const struct monitor *m)
{
	return m->rules.spawn_threshold && m->forks > m->exits &&
	       m->forks - m->exits >= m->rules.spawn_threshold;
}

/* While processes multiply fast, whether the kernel has started refusing their forks (at most
 * every 100 ms). */
static void check_pids_refused(struct monitor *m, uint64_t now)
{
	uint64_t refused;

	if (m->pids_refusing || now - m->pids_checked_ns < 100000000u)
		return;
	m->pids_checked_ns = now;
	if (cgroup_pids_refused(&m->cg, &refused) >= 0 && refused > m->pids_refused)
		m->pids_refusing = true;
}

void monitor_check_proc_count(struct monitor *m, uint64_t now)
{
	struct rule_hit hits[RULES_MAX_HITS];
	struct proc_count_obs o;
	size_t n;

	if (monitor_spawning(m))
		check_pids_refused(m, now);
	/* Past the count threshold, the set is compared with the cgroup first (at most every
	 * 250 ms): after an overrun, the queue's older forks of processes whose exits were lost
	 * put them back in the set for ever, and "too many processes" would stay true for the
	 * rest of the session. */
	if (m->rules.max_processes && m->ps.live > m->rules.max_processes &&
	    now - m->live_checked_ns >= LIVE_CHECK_NS) {
		monitor_resync_pids(m, now);
		if (m->result == 1)
			return;
	}
	o = (struct proc_count_obs){.live = m->ps.live,
	                            .forks = m->forks,
	                            .exits = m->exits,
	                            .seconds = (double)(m->n_buckets * BUCKET_NS) / 1e9,
	                            .generations = monitor_spawning(m) ? window_gen(m, now) : 0,
	                            .pids_refused = m->pids_refusing};
	n = rules_match_proc_count(&o, &m->rules, hits, RULES_MAX_HITS);
	for (size_t i = 0; i < n && m->result != 1; i++) {
		struct threat t;
		char desc[512];

		monitor_threat_from_hit(&t, &hits[i], desc, sizeof(desc));
		t.kind = EVIDENCE_PROCESS_COUNT;
		t.ev.process_count.count = m->ps.live;
		t.ev.process_count.threshold = strcmp(hits[i].rule->id, "proc-count") == 0
		                                       ? m->rules.max_processes
		                                       : m->rules.spawn_threshold;
		t.ev.process_count.delta = (int)m->forks - (int)m->exits;
		monitor_respond(m, &t, hits[i].rule->id, now);
	}
}

/* Fork generations: a fork is one more than its parent, an exec starts over at 0. */
unsigned monitor_gen_get(const struct monitor *m, pid_t pid)
{
	return m->gen[(unsigned)pid % GEN_SLOTS].pid == pid ? m->gen[(unsigned)pid % GEN_SLOTS].gen
	                                                    : 0;
}

void monitor_gen_set(struct monitor *m, pid_t pid, unsigned gen)
{
	m->gen[(unsigned)pid % GEN_SLOTS].pid = pid;
	m->gen[(unsigned)pid % GEN_SLOTS].gen = (uint8_t)(gen > 255 ? 255 : gen);
}
