/* SPDX-License-Identifier: MIT */
/* monitor-internal.h: the state of one container's monitor (struct monitor), shared by the
 * loop (monitor.c) and its sources (monitor-samples.c, monitor-files.c). It does not include
 * monitor.h, which the loop implements, so the files form no circle. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor/opts.h"
#include "monitor/pidset.h"
#include "monitor/rules.h"
#include "monitor/sources.h"

#define IO_WINDOW      5    /* samples summed for the I/O rules */
#define GEN_SLOTS      4096 /* fork generations of live processes, direct-mapped by pid */
#define BUCKET_NS      100000000ull
#define WINDOW_BUCKETS 600 /* up to a 60 s poll interval */
#define SEEN_CONNS     1024
#define FORK_RING      256
#define DISK_EVERY     2
#define RESCAN_EVERY   10 /* samples between looks for new credential files */
#define CPU_EVERY      10 /* samples between looks at each process's CPU use */
#define CPU_PIDS       2048
#define DNS_WINDOW     60           /* seconds; one counter each */
#define LIVE_CHECK_NS  250000000ull /* the pid set against the cgroup, past the count threshold */
#define IDENT_SLOTS    1024         /* programs of live processes, direct-mapped by pid */

struct dnsrec;

struct monitor {
	const struct monitor_opts *o;
	struct rules_config rules; /* o's, with the container's own and its gateway's address */
	struct loop *loop;
	struct audit *audit;
	struct exporter *exporter;
	struct ruleset *ruleset;
	struct responder *resp;
	pid_t init_pid;
	uint64_t init_userns; /* the container's user namespace */
	struct cgroup_ref cg;
	struct pidset ps; /* the container's processes, and other containers' */
	uint64_t *scan;   /* the /proc scan: pids seen this round, a bitmap over ps.max */
	/* the spawn window, one poll interval sliding in 100 ms buckets: forks, exits and the
	 * deepest fork-without-exec chain of each bucket; forks and exits are their sums */
	unsigned forks, exits;
	unsigned n_buckets;
	struct {
		uint64_t id; /* clock_mono_ns() / BUCKET_NS */
		unsigned forks, exits, gen;
	} bucket[WINDOW_BUCKETS];
	uint64_t pids_refused;    /* the pids controller's count of refused forks, a baseline */
	uint64_t pids_checked_ns; /* the last look at it */
	bool pids_refusing;
	uint64_t live_checked_ns; /* the pid set's last comparison with the cgroup */
	struct {
		pid_t pid;
		uint8_t gen;
	} gen[GEN_SLOTS];
	/* what each process runs, as its exec was judged (a fork runs its parent's): the parent of
	 * a short helper may end before the helper is read, and what it ran still counts */
	struct {
		pid_t pid;
		uint8_t cls;
		char name[43];
	} ident[IDENT_SLOTS];
	/* recent forks: child -> parent, for processes gone before we read them */
	pid_t ring_child[FORK_RING], ring_parent[FORK_RING];
	unsigned ring_pos;
	/* I/O */
	uint64_t io_rd, io_wr;
	bool io_base;
	uint64_t io_drd[IO_WINDOW], io_dwr[IO_WINDOW];
	unsigned io_pos, tick;
	/* sockets */
	struct progid *progid; /* the container's shells and interpreters, by binary */
	struct file_watch *fw; /* its credential and persistence files (fanotify), or NULL */
	uint64_t rescan_ns;    /* the file watch's last rescan */
	int rescan_timer;      /* one-shot: a rescan that waited */
	bool rescan_pending;
	int diag_fd;
	uint64_t seen[SEEN_CONNS];
	uint64_t bytes_told[64]; /* connections already reported for their bytes */
	unsigned bytes_pos;
	unsigned lost;
	struct dnsrec *dnsrec; /* the DNS filter's records */
	/* DNS queries per second over the last minute (DNS filter, [monitoring.nft]) */
	unsigned dns_count[DNS_WINDOW];
	uint64_t dns_second[DNS_WINDOW];
	int result;
};

struct loop;
struct threat;

/* The loop's side (monitor.c) the sources use: a finding to the responder, a rule hit as a
 * threat, the pid set, the package manager's processes, a connection judged. */
void monitor_respond(struct monitor *m, struct threat *t, const char *key, uint64_t ev_ns);
void monitor_threat_from_hit(struct threat *t, const struct rule_hit *h, char *desc, size_t size);
bool monitor_pid_has(const struct monitor *m, pid_t p);
/* Whether pid runs under the package manager: dpkg or apt among its ancestors (maintainer
 * scripts, debconf, triggers). */
bool monitor_under_package_manager(pid_t pid);
void monitor_check_conn(struct monitor *m, const struct conn_obs *c, const char *how);
/* The process count and the spawn window (monitor-count.c): a fork (gen: its chain of forks
 * without an exec), exits, the window's old buckets let go, the rules asked. */
void monitor_window_init(struct monitor *m);
void monitor_window_expire(struct monitor *m, uint64_t now);
bool monitor_spawning(const struct monitor *m);
void monitor_count_fork(struct monitor *m, uint64_t now, unsigned gen);
void monitor_count_exits(struct monitor *m, uint64_t now, unsigned n);
void monitor_check_proc_count(struct monitor *m, uint64_t now);
/* The pid set made equal to the cgroup's: a pid new to it is a fork (and is judged), one gone
 * from it an exit. Without memory for the scan's bitmap, the set is seeded from the cgroup. */
void monitor_resync_pids(struct monitor *m, uint64_t now);
/* Fork generations: a fork is one more than its parent, an exec starts over at 0. */
unsigned monitor_gen_get(const struct monitor *m, pid_t pid);
void monitor_gen_set(struct monitor *m, pid_t pid, unsigned gen);
/* The sources (monitor-samples.c, monitor-files.c) the loop wires up and samples. */
void monitor_on_conn(const struct conn_obs *c, void *u);
int monitor_on_nflog(struct loop *l, int fd, uint32_t events, void *u);
int monitor_on_sock_destroy(struct loop *l, int fd, uint32_t events, void *u);
/* The session's DNS filter: its records (and a refused name counts, as a logged query does). */
int monitor_watch_dns_filter(struct monitor *m);
void monitor_sample_io(struct monitor *m);
void monitor_sample_disk(struct monitor *m);
/* Each process's CPU over its life; one that keeps a core busy past a minute is asked for its
 * connections (a miner's pool). */
void monitor_sample_cpu(struct monitor *m);
int monitor_on_filewatch(struct loop *l, int fd, uint32_t events, void *u);
/* Something was created where credential or persistence files live: look again, so a key
 * copied in after the session began is marked before its first use; at most every 50 ms (a
 * flood of new files in a home is one rescan a tick), the one that had to wait on a one-shot
 * timer. */
int monitor_on_filewatch_dirs(struct loop *l, int fd, uint32_t events, void *u);
int monitor_on_rescan_timer(struct loop *l, int fd, uint32_t events, void *u);
void monitor_rescan_files(struct monitor *m);
