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

#define MONITOR_DEDUP_SECONDS 30

/* forensics_on_kill: before a CRITICAL response deletes a container, it is stopped and copied
 * (never started) to coi-forensics-<container>-<YYYYMMDD-HHMMSS> (UTC). The prefix keeps the copy
 * out of `coi list` and `coi clean`, which removes it only with --forensics; older copies of the
 * same container beyond MONITOR_FORENSICS_KEEP are removed. */
#define MONITOR_FORENSICS_PREFIX "coi-forensics-"
#define MONITOR_FORENSICS_KEEP   3 /* per container, the newest */
/* The copy's name for container at when, cut to Incus' 63 characters; -EINVAL if size is short. */
int monitor_forensics_name(const char *container, time_t when, char *out, size_t size);

struct monitor_opts {
	const char *container;
	struct incus_client *client;   /* borrowed */
	bool auto_pause_on_high;       /* default true */
	bool auto_kill_on_critical;    /* default true */
	bool forensics_on_kill;        /* copy the container before a CRITICAL kill deletes it */
	unsigned audit_retention_days; /* 30; 0: keep all */
	struct rules_config rules;
	unsigned sample_ms;   /* I/O, sockets, process count, /tmp (every 10th); default 1000 */
	unsigned scan_ms;     /* the /proc scan when the proc connector is not available; 500 */
	uint16_t nflog_group; /* 0: no NFLOG listener; the session sets coi_nflog_group() */
	bool force_scan;      /* use the /proc scan even when the proc connector works */

	/* export.h: where findings go as they happen. on_finding and on_finding_url may hold
	 * tokens, so the supervisor reads them from its environment (settings.h), not from its
	 * command line, which `ps` shows to every user. */
	enum threat_level export_level; /* warning */
	const char *on_finding;         /* a command, or NULL */
	const char *on_finding_url;     /* a URL, or NULL */
	const char *syslog_socket;      /* NULL: no syslog */
	const char *metrics_dir;        /* NULL: no metrics file */
	/* ruleset.h: rule files besides coi's own (NULL: none) */
	const char *gtfobins_dir;
	const char *sigma_dir;

	/* Hooks; all may be NULL. remove_network runs before a CRITICAL stop. alert sees every
	 * finding that is not a repeat (after its action); it is how the user hears of it. periodic
	 * runs every periodic_s seconds (the allowlist refresh). */
	int (*remove_network)(const char *container, void *userdata);
	void (*alert)(const struct threat *t, void *userdata);
	void (*periodic)(void *userdata);
	unsigned periodic_s;
	/* Called once every source is live, just before the loop starts waiting. */
	void (*ready)(void *userdata);

	/* The credential proxy, a child of the supervisor (proxyrec.h): egress_fd is readable when
	 * it refused requests, which egress_read turns into findings one at a time (1; strings of
	 * t valid until the next call), or says none is left (0) or that the proxy is gone (< 0);
	 * egress_pidfd is readable once it ended. -1: none. */
	int egress_fd, egress_pidfd;
	int (*egress_read)(int fd, struct threat *t, char *key, size_t key_size, void *userdata);

	/* limits.runtime.max_duration of a session that may outlive its coi process (deadline.h):
	 * seconds from the start of the supervisor, 0: none. handed_over says whether the session
	 * still has a coi process that enforces it (0) or not (1; NULL: never has); expire ends the
	 * session, re-checking the instance (deadline_same_instance) before each step. */
	unsigned max_duration_s;
	bool duration_warn_only; /* auto_stop = false: only record it */
	int (*handed_over)(const char *container, void *userdata);
	int (*expire)(const char *container, const char *uuid, int pidfd, void *userdata,
	              struct coi_error *err);
	void *userdata;
};
void monitor_opts_default(struct monitor_opts *o);

/* Runs until the container stops or is deleted (0), the monitor killed it (1), or SIGINT/SIGTERM
 * (-EINTR). */
int monitor_run(const struct monitor_opts *o, struct coi_error *err);

/* Monitoring is off: only the deadline (o->max_duration_s, if set) and the credential proxy's
 * refusals (o->egress_fd, if set), until the container stops (0), the deadline ended the
 * session, or SIGINT/SIGTERM (-EINTR). */
int monitor_deadline_run(const struct monitor_opts *o, struct coi_error *err);

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
/* Stops it (SIGTERM, then SIGKILL after 3 s) and removes the pid file; 0 when none ran. Returns
 * 1 when one was stopped. */
int monitor_supervisor_stop(const char *container, struct coi_error *err);
/* Called in the supervisor process: takes the pid file (locked for its lifetime); -EEXIST when
 * another supervisor holds it. The returned fd must stay open. */
int monitor_supervisor_claim(const char *container, int *ret_fd, struct coi_error *err);
