/* SPDX-License-Identifier: MIT */
/* monitor.h: the security monitor of one container, run on the host (ARCHITECTURE.md decision 5).
 *
 * monitor_run() watches the container in one epoll loop until it is gone: exec/fork/exit from
 * the proc connector (or a /proc scan of its cgroup when that is not permitted), its sockets
 * through sock_diag, refused packets through NFLOG, cgroup I/O and /tmp on a timer. Findings go
 * through the rule table (rules.h) to the responder: WARNING alerts, HIGH freezes the container,
 * CRITICAL removes its network rules (a hook) then stops and deletes it; a repeat of the same
 * finding within 30 s is logged as deduplicated. Every finding is a line in the audit log.
 *
 * Host-only: it needs the container's processes on this machine. Responses go through the Incus
 * client. A detached supervisor (`coi monitor --daemon`) runs the same loop after the user
 * leaves; monitor_supervisor_*() start, find and stop it by container name. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "monitor/deadline.h"
#include "monitor/opts.h"
#include "monitor/rules.h"

struct coi_error;
struct incus_client;
struct threat;

/* NFLOG groups of coi's log rules (the policy's refusals, [monitoring.nft]'s records). The kernel
 * allows one listener per group, and every session has its own monitor, so each container gets
 * its own group: the policy writes `log prefix "coi-deny:<container> " group <N>`, and the
 * prefix names the container whatever the group. N starts at coi_nflog_group(container), a hash;
 * monitor_nflog_group_pick() moves on past the groups another process listens on, and the
 * session passes a group other than the hash to its supervisor (--nflog-group). */
#define COI_NFLOG_GROUP_BASE  7700
#define COI_NFLOG_GROUP_COUNT 256

static inline uint16_t coi_nflog_group(const char *container)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = container; p && *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return (uint16_t)(COI_NFLOG_GROUP_BASE + h % COI_NFLOG_GROUP_COUNT);
}

/* The first of coi's groups, from coi_nflog_group(container) on (wrapping), that nobody listens
 * on by /proc/net/netfilter/nfnetlink_log (the hash itself when that cannot be read, or when every
 * group is taken). Two sessions starting in the same instant can still pick the same group; the
 * second supervisor then cannot listen (its socket samples still run). */
uint16_t monitor_nflog_group_pick(const char *container);
/* The same over the text of /proc/net/netfilter/nfnetlink_log (for tests). */
uint16_t monitor_nflog_group_free(const char *proc_text, uint16_t start);

/* Runs until the container stops or is deleted (0), the monitor killed it (1), or SIGINT/SIGTERM
 * (-EINTR). */
int monitor_run(const struct monitor_opts *o, struct coi_error *err);

/* A one-time look at a running container, for `coi monitor`. */
struct monitor_proc {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	char *command;
};
struct monitor_conn {
	char proto[4];
	char local[64];
	char remote[64];
	char state[16];
};
struct monitor_snapshot {
	pid_t init_pid;
	struct monitor_proc *procs;
	size_t n_procs;
	struct monitor_conn *conns;
	size_t n_conns;
	bool conns_available; /* sock_diag needs root */
	uint64_t read_bytes;
	uint64_t write_bytes;
	struct disk_obs tmp;
};
int monitor_snapshot(struct incus_client *c, const char *container, struct monitor_snapshot **ret,
                     struct coi_error *err);
struct monitor_snapshot *monitor_snapshot_free(struct monitor_snapshot *s);

/* ---- the supervisor ------------------------------------------------------------------------ */

/* coi_dir()/run/<container>.pid */
int monitor_supervisor_pidfile(const char *container, char **ret, struct coi_error *err);
/* The pid of the live supervisor for container (its pid file is locked), 0 when none. */
int monitor_supervisor_find(const char *container, pid_t *ret_pid, struct coi_error *err);
/* Tells it to stop (SIGTERM) and returns at once: a session's end lets it wind down while the
 * kernel ends the container's processes, and monitor_supervisor_stop() then waits for it. */
void monitor_supervisor_signal(const char *container);
/* Stops it (SIGTERM, then SIGKILL after 3 s) and removes the pid file; 0 when none ran. Returns
 * 1 when one was stopped. */
int monitor_supervisor_stop(const char *container, struct coi_error *err);
/* Called in the supervisor process: takes the pid file (locked for its lifetime); -EEXIST when
 * another supervisor holds it. The returned fd must stay open. */
int monitor_supervisor_claim(const char *container, int *ret_fd, struct coi_error *err);
