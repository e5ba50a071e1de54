/* SPDX-License-Identifier: MIT */
/* monitor.c: one container's monitor: sources wired to the rules and the responder in one epoll
 * loop. Container processes are tracked in a pid bitmap: seeded from the cgroup, grown by fork
 * events of known pids and by exec events of pids whose /proc/<pid>/cgroup is the container's
 * (incus exec joins the cgroup before it execs). */
#include "monitor/monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "incus/incus.h"
#include "monitor/audit.h"
#include "monitor/deadline.h"
#include "monitor/export.h"
#include "monitor/loop.h"
#include "monitor/progid.h"
#include "monitor/proxyrec.h"
#include "monitor/responder.h"
#include "monitor/ruleset.h"
#include "monitor/sources.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv.h"

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
#define DNS_WINDOW     60 /* seconds; one counter each */

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
	uint64_t *pids; /* bitmap over pid_max */
	uint64_t *scan; /* the /proc scan: pids seen this round */
	size_t pid_max;
	unsigned live;
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
	struct {
		pid_t pid;
		uint8_t gen;
	} gen[GEN_SLOTS];
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
	/* DNS queries per second over the last minute ([monitoring.nft]) */
	unsigned dns_count[DNS_WINDOW];
	uint64_t dns_second[DNS_WINDOW];
	int result;
};

void monitor_opts_default(struct monitor_opts *o)
{
	*o = (struct monitor_opts){
	        .auto_pause_on_high = true,
	        .auto_kill_on_critical = true,
	        .audit_retention_days = 30,
	        .export_level = THREAT_WARNING,
	        .sample_ms = 1000,
	        .scan_ms = 500,
	        .egress_fd = -1,
	        .egress_pidfd = -1,
	};
	rules_config_default(&o->rules);
}

/* ---- the pid set --------------------------------------------------------------------------- */

static bool pid_has(const struct monitor *m, pid_t p)
{
	return p > 0 && (size_t)p < m->pid_max && (m->pids[p / 64] >> (p % 64)) & 1;
}

static void pid_add(struct monitor *m, pid_t p)
{
	if (p > 0 && (size_t)p < m->pid_max && !pid_has(m, p)) {
		m->pids[p / 64] |= 1ull << (p % 64);
		m->live++;
	}
}

static void pid_del(struct monitor *m, pid_t p)
{
	if (pid_has(m, p)) {
		m->pids[p / 64] &= ~(1ull << (p % 64));
		m->live--;
	}
}

static int seed_one(pid_t pid, void *u)
{
	pid_add(u, pid);
	return 0;
}

static void pids_reseed(struct monitor *m)
{
	memset(m->pids, 0, (m->pid_max / 64 + 1) * sizeof(uint64_t));
	m->live = 0;
	(void)cgroup_pids(&m->cg, seed_one, m);
}

/* ---- findings ------------------------------------------------------------------------------ */

static void respond(struct monitor *m, struct threat *t, const char *key, uint64_t ev_ns)
{
	if (responder_handle(m->resp, t, key, ev_ns) == 1) {
		m->result = 1;
		loop_exit(m->loop, 1);
	}
}

/* A refusal of the credential proxy (proxyrec.h). */
static void respond_proxy(struct threat *t, const char *key, void *u)
{
	respond(u, t, key, 0);
}

static void threat_from_hit(struct threat *t, const struct rule_hit *h, char *desc, size_t size)
{
	*t = (struct threat){.level = h->level,
	                     .category = h->rule->category,
	                     .title = h->rule->title,
	                     .rule = h->rule->id};
	int n = snprintf(desc, size, "%s: %s", h->reason, h->pattern);

	if (n < 0 || (size_t)n >= size)
		desc[size - 1] = 0; /* a long pattern is cut; the evidence holds it whole */
	t->description = desc;
}

/* Whether pid runs under the package manager: dpkg or apt among its ancestors (maintainer
 * scripts, debconf, triggers). */
static bool under_package_manager(pid_t pid)
{
	static const char *const pm[] = {"dpkg", "apt", "apt-get", "aptitude", "unattended-upgr",
	                                 NULL};

	for (int depth = 0; depth < 12 && pid > 1; depth++) {
		char comm[17] = "";
		pid_t ppid = 0;

		if (proc_parent(pid, &ppid, comm) < 0)
			return false;
		if (strv_contains((char *const *)pm, comm))
			return true;
		pid = ppid;
	}
	return false;
}

static bool parent_own_code(pid_t ppid)
{
	_cleanup_strv_free_ char **argv = NULL;
	char path[64], cwd[PATH_MAX] = "";
	ssize_t n;

	if (proc_argv(ppid, &argv) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)ppid);
	n = readlink(path, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = 0;
	return rules_own_code(argv, cwd);
}

/* What the binary of the process is (a renamed shell is a shell) and, for a shell or an
 * interpreter, or a program whose output is a connection, the sockets of the process that
 * started it: facts for the rules that judge behaviour, read while both still run. */
static void judge_binary(struct monitor *m, struct proc_obs *o, char *ident, size_t size,
                         struct sock_facts *pfacts, char pcomm[17])
{
	enum prog_class cls;

	o->cls = m->progid ? progid_of_pid(m->progid, o->pid, ident, size) : PROG_UNKNOWN;
	o->identity = o->cls != PROG_UNKNOWN ? ident : NULL;
	cls = o->cls != PROG_UNKNOWN ? o->cls : prog_class_of_name(o->argv[0]);
	if (((cls != PROG_SHELL && cls != PROG_INTERP) && o->socks.stdio[1] != PEER_REMOTE &&
	     o->socks.stdio[2] != PEER_REMOTE) ||
	    o->ppid <= 1)
		return;
	if (proc_socks_read(o->ppid, pfacts) < 0)
		return;
	o->parent_obs.socks = *pfacts;
	o->parent_obs.comm = proc_comm(o->ppid, pcomm) == 0 ? pcomm : NULL;
	log_debug("monitor: pid %d (%s) under %d (%s): %u connections to other machines",
	          (int)o->pid, o->argv[0], (int)o->ppid, pcomm, pfacts->remote);
	if (pfacts->remote && m->progid)
		o->parent_obs.cls = progid_of_pid(m->progid, o->ppid, NULL, 0);
	if (pfacts->remote && o->parent_obs.cls == PROG_INTERP)
		o->parent_obs.own_code = parent_own_code(o->ppid);
}

/* known: pid is a container process; otherwise its cgroup is checked after its facts are read
 * (short-lived processes: the command line first, while it is still there). */
static void check_process(struct monitor *m, pid_t pid, bool known, uint64_t ev_ns)
{
	struct proc_facts f = {0};
	struct rule_hit hits[RULES_MAX_HITS];
	_cleanup_free_ char *cmd = NULL;
	char user[16], ident[320], pcomm[17] = "";
	struct sock_facts pfacts;
	struct proc_obs obs;
	bool from_parent = false;
	size_t n;

	_cleanup_strv_free_ char **early = NULL;

	if (!known) {
		(void)proc_argv(pid, &early);
		if (cgroup_has_pid(&m->cg, pid) != 1)
			return;
		pid_add(m, pid);
	}
	if (proc_facts_read(pid, &f) < 0 && !f.argv)
		f = (struct proc_facts){0};
	if (!f.argv)
		f.argv = TAKE_PTR(early);
	if (!f.argv) {
		/* Gone already: its parent (often `sh -c "..."`) holds the command. */
		pid_t parent = f.ppid;

		for (unsigned i = 0; !parent && i < FORK_RING; i++)
			if (m->ring_child[i] == pid)
				parent = m->ring_parent[i];
		if (parent <= 0 || proc_argv(parent, &f.argv) < 0)
			return;
		from_parent = true;
	}
	obs = (struct proc_obs){.pid = pid,
	                        .ppid = f.ppid,
	                        .uid = f.uid,
	                        .argv = f.argv,
	                        .parent = f.parent,
	                        .socks = f.socks};
	if (!from_parent) {
		uint64_t ns = proc_userns(pid);

		obs.own_userns = ns && m->init_userns && ns != m->init_userns;
		judge_binary(m, &obs, ident, sizeof(ident), &pfacts, pcomm);
	}
	n = rules_match_process(&obs, &m->rules, hits, RULES_MAX_HITS);
	cmd = n ? strv_join(f.argv, " ") : NULL;
	snprintf(user, sizeof(user), "%u", (unsigned)f.uid);
	for (size_t i = 0; i < n && m->result != 1; i++) {
		struct threat t;
		char desc[512];

		threat_from_hit(&t, &hits[i], desc, sizeof(desc));
		t.kind = EVIDENCE_PROCESS;
		t.ev.process.pid = pid;
		t.ev.process.command = cmd;
		t.ev.process.user = user;
		t.ev.process.pattern = hits[i].pattern;
		t.ev.process.indicators[0] = hits[i].reason;
		t.ev.process.indicators[1] = f.parent[0] ? f.parent : NULL;
		t.ev.process.indicators[2] = from_parent ? "read from the parent process" : NULL;
		respond(m, &t, hits[i].pattern, ev_ns);
	}
	proc_facts_release(&f);
}

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
static void window_expire(struct monitor *m, uint64_t now)
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

static void count_fork(struct monitor *m, uint64_t now, unsigned gen)
{
	unsigned slot = bucket_at(m, now);

	m->bucket[slot].forks++;
	m->forks++;
	if (gen > m->bucket[slot].gen)
		m->bucket[slot].gen = gen;
}

static void count_exits(struct monitor *m, uint64_t now, unsigned n)
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

static void window_init(struct monitor *m)
{
	unsigned ms = m->o->sample_ms < 1000 ? 1000 : m->o->sample_ms;

	m->n_buckets = ms / (BUCKET_NS / 1000000u);
	if (m->n_buckets > WINDOW_BUCKETS)
		m->n_buckets = WINDOW_BUCKETS;
	(void)cgroup_pids_refused(&m->cg, &m->pids_refused);
}

static bool spawning(const struct monitor *m)
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

static void check_proc_count(struct monitor *m, uint64_t now)
{
	struct rule_hit hits[RULES_MAX_HITS];
	struct proc_count_obs o;
	size_t n;

	if (spawning(m))
		check_pids_refused(m, now);
	o = (struct proc_count_obs){.live = m->live,
	                            .forks = m->forks,
	                            .exits = m->exits,
	                            .seconds = (double)(m->n_buckets * BUCKET_NS) / 1e9,
	                            .generations = spawning(m) ? window_gen(m, now) : 0,
	                            .pids_refused = m->pids_refusing};
	n = rules_match_proc_count(&o, &m->rules, hits, RULES_MAX_HITS);
	for (size_t i = 0; i < n && m->result != 1; i++) {
		struct threat t;
		char desc[512];

		threat_from_hit(&t, &hits[i], desc, sizeof(desc));
		t.kind = EVIDENCE_PROCESS_COUNT;
		t.ev.process_count.count = m->live;
		t.ev.process_count.threshold = strcmp(hits[i].rule->id, "proc-count") == 0
		                                       ? m->rules.max_processes
		                                       : m->rules.spawn_threshold;
		t.ev.process_count.delta = (int)m->forks - (int)m->exits;
		respond(m, &t, hits[i].rule->id, now);
	}
}

/* Fork generations: a fork is one more than its parent, an exec starts over at 0. */
static unsigned gen_get(const struct monitor *m, pid_t pid)
{
	return m->gen[(unsigned)pid % GEN_SLOTS].pid == pid ? m->gen[(unsigned)pid % GEN_SLOTS].gen
	                                                    : 0;
}

static void gen_set(struct monitor *m, pid_t pid, unsigned gen)
{
	m->gen[(unsigned)pid % GEN_SLOTS].pid = pid;
	m->gen[(unsigned)pid % GEN_SLOTS].gen = (uint8_t)(gen > 255 ? 255 : gen);
}

static void check_conn(struct monitor *m, const struct conn_obs *c, const char *how)
{
	struct rule_hit hits[RULES_MAX_HITS];
	size_t n = rules_match_connection(c, &m->rules, hits, RULES_MAX_HITS);
	char local[80], remote[80];

	char host[INET6_ADDRSTRLEN] = "";

	conn_obs_format(c, false, local, sizeof(local));
	conn_obs_format(c, true, remote, sizeof(remote));
	inet_ntop(c->family, &c->daddr, host, sizeof(host));
	for (size_t i = 0; i < n && m->result != 1; i++) {
		struct threat t;
		char desc[512];

		threat_from_hit(&t, &hits[i], desc, sizeof(desc));
		t.kind = EVIDENCE_NETWORK;
		t.ev.network.protocol = c->proto == IPPROTO_UDP ? "udp" : "tcp";
		t.ev.network.local_addr = local;
		t.ev.network.remote_addr = remote;
		t.ev.network.state = c->state;
		t.ev.network.suspect_reason = hits[i].reason;
		t.ev.network.reason = how;
		t.ev.network.remote_host = host;
		respond(m, &t, host,
		        clock_mono_ns()); /* one finding per address, whatever the ports */
	}
}

/* ---- proc connector ------------------------------------------------------------------------ */

static void on_proc_event(const struct proccn_event *ev, void *u)
{
	struct monitor *m = u;
	uint64_t now;

	if (m->result == 1 || ev->thread)
		return;
	switch (ev->what) {
	case PROCCN_FORK:
		if (!pid_has(m, ev->ppid))
			return;
		pid_add(m, ev->pid);
		m->ring_child[m->ring_pos % FORK_RING] = ev->pid;
		m->ring_parent[m->ring_pos++ % FORK_RING] = ev->ppid;
		now = clock_mono_ns();
		gen_set(m, ev->pid, gen_get(m, ev->ppid) + 1);
		count_fork(m, now, gen_get(m, ev->pid));
		check_proc_count(m, now);
		return;
	case PROCCN_EXEC:
		gen_set(m, ev->pid, 0);
		check_process(m, ev->pid, pid_has(m, ev->pid), ev->time_ns);
		return;
	case PROCCN_EXIT:
		if (pid_has(m, ev->pid)) {
			pid_del(m, ev->pid);
			count_exits(m, clock_mono_ns(), 1);
		}
		return;
	}
}

static int on_proccn(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;
	char buf[8192] __attribute__((aligned(8)));

	for (int i = 0; i < 256 && m->result != 1; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: rebuild the pid set from the cgroup. */
			m->lost++;
			log_debug("monitor: proc connector overrun (%u), rescanning", m->lost);
			pids_reseed(m);
			continue;
		}
		if (n <= 0)
			break;
		(void)proccn_parse(buf, (size_t)n, on_proc_event, m);
	}
	return 0;
}

/* ---- /proc scan fallback ------------------------------------------------------------------- */

static int scan_one(pid_t pid, void *u)
{
	struct monitor *m = u;

	if ((size_t)pid >= m->pid_max)
		return 0;
	m->scan[pid / 64] |= 1ull << (pid % 64);
	if (!pid_has(m, pid)) {
		pid_add(m, pid);
		count_fork(m, clock_mono_ns(), 0);
		check_process(m, pid, true, 0);
	}
	return m->result == 1 ? -ECANCELED : 0;
}

static int on_scan(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;
	uint64_t now = clock_mono_ns();
	size_t words = m->pid_max / 64 + 1;

	window_expire(m, now);
	memset(m->scan, 0, words * sizeof(uint64_t));
	(void)cgroup_pids(&m->cg, scan_one, m);
	for (size_t w = 0; w < words; w++)
		if (m->pids[w] & ~m->scan[w]) {
			m->live -= (unsigned)__builtin_popcountll(m->pids[w] & ~m->scan[w]);
			count_exits(m, now,
			            (unsigned)__builtin_popcountll(m->pids[w] & ~m->scan[w]));
			m->pids[w] &= m->scan[w];
		}
	if (m->result != 1)
		check_proc_count(m, now);
	return 0;
}

/* ---- NFLOG, sockets, samples ----------------------------------------------------------------- */

/* [monitoring.nft]: a packet its rules logged, as an audit line of its own (level info, action
 * logged). Written directly, not through the responder: these are records, not findings, and
 * must neither be deduplicated nor alert anyone. */
static void log_packet(struct monitor *m, const struct nflog_packet *p)
{
	char local[80], remote[80], host[INET6_ADDRSTRLEN] = "", desc[512];
	const char *proto = p->conn.proto == IPPROTO_TCP      ? "tcp"
	                    : p->conn.proto == IPPROTO_UDP    ? "udp"
	                    : p->conn.proto == IPPROTO_ICMP   ? "icmp"
	                    : p->conn.proto == IPPROTO_ICMPV6 ? "icmpv6"
	                                                      : "ip";
	bool dns = p->kind == NFLOG_DNS;
	struct threat t = {.level = THREAT_INFO,
	                   .category = "network",
	                   .title = dns ? "DNS query" : "Outbound connection",
	                   .rule = dns ? "nft-dns" : "nft-new",
	                   .action = ACTION_LOGGED,
	                   .kind = EVIDENCE_NETWORK};
	int n;

	inet_ntop(p->conn.family, &p->conn.daddr, host, sizeof(host));
	if (p->conn.proto == IPPROTO_TCP || p->conn.proto == IPPROTO_UDP) {
		conn_obs_format(&p->conn, false, local, sizeof(local));
		conn_obs_format(&p->conn, true, remote, sizeof(remote));
	} else { /* no ports */
		inet_ntop(p->conn.family, &p->conn.saddr, local, sizeof(local));
		(void)snprintf(remote, sizeof(remote), "%s", host);
	}
	if (dns)
		n = snprintf(desc, sizeof(desc), "DNS query for '%s' (type %u) to %s", p->qname,
		             p->qtype, remote);
	else
		n = snprintf(desc, sizeof(desc), "new %s connection %s -> %s", proto, local,
		             remote);
	if (n < 0 || (size_t)n >= sizeof(desc))
		desc[sizeof(desc) - 1] = 0;
	threat_init(&t);
	t.description = desc;
	t.ev.network.protocol = proto;
	t.ev.network.local_addr = local;
	t.ev.network.remote_addr = remote;
	t.ev.network.state = p->conn.state;
	t.ev.network.reason = "logged by nftables (nflog)";
	t.ev.network.remote_host = dns && p->qname[0] ? p->qname : host;
	if (audit_write(m->audit, &t, NULL) < 0)
		log_debug("monitor: cannot write the audit log, ignoring");
}

/* A DNS finding: one for the container, whichever count saw it first (the key is the rule). */
static void respond_dns(struct monitor *m, const struct rule_hit *h, const char *name,
                        const char *how)
{
	struct threat t;
	char desc[512];

	threat_from_hit(&t, h, desc, sizeof(desc));
	t.kind = EVIDENCE_NETWORK;
	t.ev.network.protocol = "udp";
	t.ev.network.state = "DNS";
	t.ev.network.suspect_reason = h->reason;
	t.ev.network.reason = how;
	t.ev.network.remote_host = name;
	respond(m, &t, h->rule->id, clock_mono_ns());
}

/* Counts a DNS query in the one-minute window; over the threshold, a finding (and the count
 * starts over, so one burst is one finding). */
static void count_dns(struct monitor *m, const char *name)
{
	struct rule_hit hits[RULES_MAX_HITS];
	uint64_t now = clock_mono_ns() / 1000000000u;
	size_t slot = now % DNS_WINDOW;
	struct dns_obs o = {.seconds = 0, .last_name = name};

	if (m->dns_second[slot] != now) {
		m->dns_second[slot] = now;
		m->dns_count[slot] = 0;
	}
	m->dns_count[slot]++;
	for (size_t i = 0; i < DNS_WINDOW; i++)
		if (m->dns_second[i] + DNS_WINDOW > now && m->dns_count[i]) {
			o.queries += m->dns_count[i];
			if ((double)(now - m->dns_second[i] + 1) > o.seconds)
				o.seconds = (double)(now - m->dns_second[i] + 1);
		}
	if (rules_match_dns(&o, &m->rules, hits, RULES_MAX_HITS) == 1) {
		memset(m->dns_count, 0, sizeof(m->dns_count));
		respond_dns(m, &hits[0], name, "logged by nftables (nflog)");
	}
}

/* The connection that has sent the most, for the evidence of a burst. */
struct top_sender {
	struct conn_obs c;
	bool found;
};

static void top_sender_fn(const struct conn_obs *c, void *u)
{
	struct top_sender *t = u;

	if (!t->found || c->bytes_acked > t->c.bytes_acked) {
		t->c = *c;
		t->c.state = NULL;
		t->found = true;
	}
}

static void respond_egress(struct monitor *m, const struct rule_hit *h, const struct conn_obs *c,
                           const char *how, const char *key)
{
	char local[80], remote[80], host[INET6_ADDRSTRLEN] = "", desc[512];
	struct threat t;

	conn_obs_format(c, false, local, sizeof(local));
	conn_obs_format(c, true, remote, sizeof(remote));
	inet_ntop(c->family, &c->daddr, host, sizeof(host));
	threat_from_hit(&t, h, desc, sizeof(desc));
	t.kind = EVIDENCE_NETWORK;
	t.ev.network.protocol = c->proto == IPPROTO_UDP ? "udp" : "tcp";
	t.ev.network.local_addr = local;
	t.ev.network.remote_addr = remote;
	t.ev.network.state = c->state ? c->state : "ESTABLISHED";
	t.ev.network.suspect_reason = h->reason;
	t.ev.network.reason = how;
	t.ev.network.remote_host = host;
	respond(m, &t, key, clock_mono_ns());
}

/* The kernel says the container sends faster than the limit: freeze it, naming the connection
 * that sent the most (or the packet the kernel logged, when sock_diag is not there). */
static void check_egress(struct monitor *m, const struct conn_obs *pkt)
{
	struct rule_hit hits[RULES_MAX_HITS];
	struct top_sender top = {0};
	char how[160];

	if (rules_match_egress(&(struct egress_obs){.rate_exceeded = true}, &m->rules, hits,
	                       RULES_MAX_HITS) != 1)
		return;
	if (m->diag_fd >= 0)
		(void)sockdiag_dump(m->diag_fd, top_sender_fn, &top);
	if (top.found && top.c.bytes_acked)
		snprintf(how, sizeof(how), "counted by nftables; %.1f MB sent on this connection",
		         (double)top.c.bytes_acked / (1024.0 * 1024.0));
	else
		snprintf(how, sizeof(how), "counted by nftables");
	respond_egress(m, &hits[0], top.found ? &top.c : pkt, how, "egress");
}

/* One connection's running total (sock_diag samples). */
static bool bytes_reported(const struct monitor *m, uint64_t k)
{
	for (size_t i = 0; i < ELEMENTSOF(m->bytes_told); i++)
		if (m->bytes_told[i] == k)
			return true;
	return false;
}

static void check_conn_bytes(struct monitor *m, const struct conn_obs *c, uint64_t k)
{
	struct rule_hit hits[RULES_MAX_HITS];
	char key[INET6_ADDRSTRLEN + 16] = "bytes:";

	if (rules_match_egress(&(struct egress_obs){.conn_bytes = c->bytes_acked}, &m->rules, hits,
	                       RULES_MAX_HITS) != 1)
		return;
	m->bytes_told[m->bytes_pos++ % ELEMENTSOF(m->bytes_told)] = k; /* once a connection */
	inet_ntop(c->family, &c->daddr, key + 6, sizeof(key) - 6);
	respond_egress(m, &hits[0], c, "seen by sock_diag", key);
}

/* The kernel says DNS queries passed the threshold a minute. */
static void dns_over(struct monitor *m, const char *name)
{
	struct rule_hit hits[RULES_MAX_HITS];
	struct dns_obs o = {
	        .queries = m->rules.dns_per_minute + 1, .seconds = 60, .last_name = name};

	if (rules_match_dns(&o, &m->rules, hits, RULES_MAX_HITS) != 1)
		return;
	snprintf(hits[0].pattern, sizeof(hits[0].pattern),
	         "over %u DNS queries a minute (counted by the kernel), one for '%s'",
	         m->rules.dns_per_minute, name && *name ? name : "?");
	respond_dns(m, &hits[0], name, "counted by nftables");
}

static void on_nflog_packet(const struct nflog_packet *p, void *u)
{
	struct monitor *m = u;

	if (m->result == 1 || strcmp(p->container, m->o->container) != 0)
		return;
	switch (p->kind) {
	case NFLOG_DENY:
		check_conn(m, &p->conn, "refused by the network policy (nflog)");
		return;
	case NFLOG_NEW:
		log_packet(m, p);
		/* the rules sock_diag's samples apply, to connections too short for them */
		check_conn(m, &p->conn, "logged by nftables (nflog)");
		if (m->result != 1 && p->conn.proto == IPPROTO_TCP && p->conn.dport == 53)
			count_dns(m, ""); /* DNS over TCP */
		return;
	case NFLOG_DNS:
		log_packet(m, p);
		count_dns(m, p->qname);
		return;
	case NFLOG_BYTES:
		check_egress(m, &p->conn);
		return;
	case NFLOG_DNSX:
		dns_over(m, p->qname);
		return;
	case NFLOG_OTHER:
		return;
	}
}

static int on_nflog(struct loop *l, int fd, uint32_t events, void *u)
{
	char buf[16384] __attribute__((aligned(8)));

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		(void)nflog_parse(buf, (size_t)n, on_nflog_packet, u);
	}
	return 0;
}

static uint64_t conn_key(const struct conn_obs *c)
{
	const uint8_t *p = (const uint8_t *)&c->daddr;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(c->daddr); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	h = (h ^ c->dport) * 1099511628211ull;
	h = (h ^ c->sport) * 1099511628211ull;
	return (h ^ (uint64_t)c->proto) | 1;
}

static void on_conn(const struct conn_obs *c, void *u)
{
	struct monitor *m = u;
	uint64_t k = conn_key(c);
	size_t slot = k % SEEN_CONNS;

	if (m->result == 1)
		return;
	if (c->bytes_acked && !bytes_reported(m, k))
		check_conn_bytes(m, c, k);
	if (m->result == 1 || m->seen[slot] == k)
		return;
	m->seen[slot] = k;
	check_conn(m, c, "seen by sock_diag");
}

static int on_sock_destroy(struct loop *l, int fd, uint32_t events, void *u)
{
	char buf[16384] __attribute__((aligned(8)));

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		(void)sockdiag_parse(buf, (size_t)n, 0, on_conn, u);
	}
	return 0;
}

static void sample_io(struct monitor *m)
{
	struct rule_hit hits[RULES_MAX_HITS];
	uint64_t rd, wr, srd = 0, swr = 0;
	unsigned ard = 0, awr = 0;
	struct io_obs o;
	size_t n;

	if (cgroup_io(&m->cg, &rd, &wr) < 0)
		return;
	if (m->io_base) {
		m->io_drd[m->io_pos % IO_WINDOW] = rd >= m->io_rd ? rd - m->io_rd : 0;
		m->io_dwr[m->io_pos++ % IO_WINDOW] = wr >= m->io_wr ? wr - m->io_wr : 0;
	}
	m->io_rd = rd;
	m->io_wr = wr;
	m->io_base = true;
	/* Each rate is over the samples that saw that I/O: 40 MB written in one second of a
	 * five-second window is 40 MB/s, not 8, however much is read meanwhile. */
	for (size_t i = 0; i < IO_WINDOW; i++) {
		srd += m->io_drd[i], swr += m->io_dwr[i];
		ard += m->io_drd[i] != 0, awr += m->io_dwr[i] != 0;
	}
	o = (struct io_obs){srd, swr, (double)(ard ? ard : 1) * m->o->sample_ms / 1000.0,
	                    (double)(awr ? awr : 1) * m->o->sample_ms / 1000.0};
	n = rules_match_io(&o, &m->rules, hits, RULES_MAX_HITS);
	for (size_t i = 0; i < n && m->result != 1; i++) {
		struct threat t;
		char desc[512];
		bool w = strcmp(hits[i].rule->id, "io-write") == 0;
		double secs;

		threat_from_hit(&t, &hits[i], desc, sizeof(desc));
		t.kind = w ? EVIDENCE_FILE_WRITE : EVIDENCE_FILESYSTEM;
		t.ev.io.mb = (double)(w ? swr : srd) / (1024.0 * 1024.0);
		secs = w ? o.write_seconds : o.seconds;
		t.ev.io.rate_mb_s = secs > 0 ? t.ev.io.mb / secs : 0;
		t.ev.io.threshold_mb = w ? m->rules.write_threshold_mb : m->rules.read_threshold_mb;
		t.ev.io.duration_ns = (int64_t)(secs * 1e9);
		respond(m, &t, hits[i].rule->id, clock_mono_ns());
		/* Start over, so one burst is one finding. */
		memset(w ? m->io_dwr : m->io_drd, 0, sizeof(m->io_drd));
	}
}

static void sample_disk(struct monitor *m)
{
	struct rule_hit hits[RULES_MAX_HITS];
	struct disk_obs d;

	if (container_disk(m->init_pid, "/tmp", &d) < 0)
		return;
	if (rules_match_disk(&d, &m->rules, hits, RULES_MAX_HITS) == 1) {
		struct threat t;
		char desc[512];

		threat_from_hit(&t, &hits[0], desc, sizeof(desc));
		t.kind = EVIDENCE_DISK_SPACE;
		t.ev.disk.path = "/tmp";
		t.ev.disk.used_mb = d.used_bytes >> 20;
		t.ev.disk.total_mb = d.total_bytes >> 20;
		t.ev.disk.percent = 100.0 * (double)d.used_bytes / (double)d.total_bytes;
		respond(m, &t, "/tmp", 0);
	}
}

/* Each process's CPU over its life; one that keeps a core busy past a minute is asked for its
 * connections (a miner's pool). */
static void sample_cpu(struct monitor *m)
{
	size_t words = m->pid_max / 64 + 1;
	unsigned looked = 0;

	for (size_t w = 0; w < words && looked < CPU_PIDS && m->result != 1; w++)
		for (uint64_t bits = m->pids[w]; bits && looked < CPU_PIDS; bits &= bits - 1) {
			pid_t pid = (pid_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			struct rule_hit hits[RULES_MAX_HITS];
			struct sock_facts sf;
			struct cpu_obs o = {.pid = pid};
			char comm[17] = "";

			looked++;
			if (proc_cpu(pid, &o.share, &o.seconds) < 0 || o.share < MINER_SHARE ||
			    o.seconds < MINER_SECONDS || proc_socks_read(pid, &sf) < 0)
				continue;
			o.remote = sf.remote;
			o.peer = sf.peer;
			o.comm = proc_comm(pid, comm) == 0 ? comm : NULL;
			if (rules_match_cpu(&o, &m->rules, hits, RULES_MAX_HITS) == 1) {
				struct threat t;
				char desc[512], key[32];

				threat_from_hit(&t, &hits[0], desc, sizeof(desc));
				t.kind = EVIDENCE_PROCESS;
				t.ev.process.pid = pid;
				t.ev.process.command = comm;
				t.ev.process.user = "";
				t.ev.process.pattern = hits[0].pattern;
				t.ev.process.indicators[0] = hits[0].reason;
				snprintf(key, sizeof(key), "cpu:%d", (int)pid);
				respond(m, &t, key, clock_mono_ns());
			}
		}
}

/* ---- credential files (fanotify) ----------------------------------------------------------- */

/* Who opens a file, as the file rules judge it: the binary as progid knows it (a copy of ssh is
 * ssh: the name before ", copied"), else a binary in a system directory by its name; for an
 * interpreter, the installed program it runs (python3 /usr/bin/aws: "aws"; -m azure.cli; a
 * title it gave itself, "npm install": "npm"). The rules take the latter only for programs
 * that are scripts (a node script calling itself ssh is not ssh). */
static void opener_facts(struct monitor *m, pid_t pid, struct open_obs *o, char *prog,
                         size_t prog_size, char *script, size_t script_size)
{
	char exe[PATH_MAX] = "", path[64];
	enum prog_class cls =
	        m->progid ? progid_of_pid(m->progid, pid, prog, prog_size) : PROG_UNKNOWN;
	_cleanup_strv_free_ char **argv = NULL;
	ssize_t n;

	if (cls != PROG_UNKNOWN) {
		prog[strcspn(prog, ",")] = 0;
		o->program = prog;
	} else {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		if (strncmp(exe, "/usr/", 5) == 0 || strncmp(exe, "/bin/", 5) == 0 ||
		    strncmp(exe, "/sbin/", 6) == 0 || strncmp(exe, "/opt/", 5) == 0) {
			snprintf(prog, prog_size, "%s", strrchr(exe, '/') + 1);
			o->program = prog;
		}
	}
	if (cls != PROG_INTERP || proc_argv(pid, &argv) < 0)
		return;
	for (size_t i = 1; argv[i]; i++) {
		const char *w = argv[i];

		if (strcmp(w, "-m") == 0 && argv[i + 1]) {
			snprintf(script, script_size, "%s", argv[i + 1]);
			o->script = script;
			return;
		}
		if (!*w || w[0] == '-')
			continue;
		if (strncmp(w, "/usr/", 5) == 0 || strncmp(w, "/opt/", 5) == 0) {
			snprintf(script, script_size, "%s", strrchr(w, '/') + 1);
			o->script = script;
			o->installed = true;
			return;
		}
		break;
	}
	/* A title the program set itself (npm's "npm install", padded with blanks): its first
	 * word. */
	if (prog_class_of_name(argv[0]) == PROG_OTHER) {
		const char *t = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

		snprintf(script, script_size, "%.*s", (int)strcspn(t, " "), t);
		o->script = script;
	}
}

/* A finding about a file: the process, the file, how it was seen. */
static void respond_file(struct monitor *m, const struct rule_hit *h, const struct file_event *ev,
                         const char *cmd, const char *how, const char *more)
{
	struct threat t;
	char desc[512];

	threat_from_hit(&t, h, desc, sizeof(desc));
	t.kind = EVIDENCE_PROCESS;
	t.ev.process.pid = ev->pid;
	t.ev.process.command = cmd;
	t.ev.process.user = "";
	t.ev.process.pattern = ev->path;
	t.ev.process.indicators[0] = h->reason;
	t.ev.process.indicators[1] = how;
	t.ev.process.indicators[2] = more;
	respond(m, &t, ev->path, clock_mono_ns());
}

/* A credential file opened: judged by what it is and which program opened it. Returns whether
 * the open may go on (a permission event waits for this). */
static bool on_open(struct monitor *m, const struct file_event *ev)
{
	struct rule_hit hits[RULES_MAX_HITS];
	char prog[320] = "", script[256] = "", comm[17] = "";
	struct open_obs o = {.pid = ev->pid, .path = ev->path, .private_key = ev->private_key};
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *cmd = NULL;
	bool allow = true;
	size_t n;

	opener_facts(m, ev->pid, &o, prog, sizeof(prog), script, sizeof(script));
	o.comm = proc_comm(ev->pid, comm) == 0 ? comm : NULL;
	o.packaging = under_package_manager(ev->pid);
	n = rules_match_open(&o, &m->rules, hits, RULES_MAX_HITS);
	if (n && proc_argv(ev->pid, &argv) >= 0)
		cmd = strv_join(argv, " ");
	for (size_t i = 0; i < n && m->result != 1; i++) {
		respond_file(m, &hits[i], ev, cmd ? cmd : comm,
		             ev->perm ? "opened (fanotify, held for the verdict)"
		                      : "opened (fanotify)",
		             strstr(ev->opened, ev->path) ? NULL : ev->opened);
		if ((hits[i].level == THREAT_HIGH && m->o->auto_pause_on_high) ||
		    (hits[i].level == THREAT_CRITICAL && m->o->auto_kill_on_critical))
			allow = false; /* refused, as the container is frozen or gone */
	}
	return allow;
}

/* A file that runs later was written: judged by what it gained. */
static void on_write(struct monitor *m, const struct file_event *ev)
{
	struct rule_hit hits[RULES_MAX_HITS];
	char prog[320] = "", script[256] = "", comm[17] = "";
	struct open_obs who = {.pid = ev->pid};
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *cmd = NULL;
	size_t n;

	if (ev->pid > 0) {
		opener_facts(m, ev->pid, &who, prog, sizeof(prog), script, sizeof(script));
		if (proc_argv(ev->pid, &argv) >= 0)
			cmd = strv_join(argv, " ");
		(void)proc_comm(ev->pid, comm);
	}
	n = rules_match_write(
	        &(struct write_obs){.pid = ev->pid,
	                            .path = ev->path,
	                            .added = ev->added,
	                            .program = who.program,
	                            .packaging = ev->pid > 0 && under_package_manager(ev->pid)},
	        &m->rules, hits, RULES_MAX_HITS);
	for (size_t i = 0; i < n && m->result != 1; i++)
		respond_file(m, &hits[i], ev,
		             cmd       ? cmd
		             : comm[0] ? comm
		                       : "?",
		             ev->pid ? "written (fanotify)"
		                     : "found changed by a rescan (replaced by a rename)",
		             ev->added);
}

static bool on_file_event(const struct file_event *ev, void *u)
{
	struct monitor *m = u;

	if (m->result == 1)
		return true;
	if (ev->pid > 0 && !pid_has(m, ev->pid) && cgroup_has_pid(&m->cg, ev->pid) != 1)
		return true; /* not the container's (the host's editor on the workspace) */
	if (ev->written) {
		on_write(m, ev);
		return true;
	}
	return on_open(m, ev);
}

static void rescan_files(struct monitor *m)
{
	m->rescan_ns = clock_mono_ns();
	m->rescan_pending = false;
	(void)filewatch_rescan(m->fw, on_file_event, m);
}

/* Something was created where credential or persistence files live: look again, so a key
 * copied in after the session began is marked before its first use; at most every 50 ms (a
 * flood of new files in a home is one rescan a tick), the one that had to wait on a one-shot
 * timer. */
static int on_filewatch_dirs(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;
	struct itimerspec its = {.it_value = {0, 50000000}};

	if (filewatch_changed(m->fw) <= 0)
		return 0;
	if (clock_mono_ns() - m->rescan_ns >= 50000000u) {
		rescan_files(m);
		return 0;
	}
	if (!m->rescan_pending && m->rescan_timer >= 0 &&
	    timerfd_settime(m->rescan_timer, 0, &its, NULL) == 0)
		m->rescan_pending = true;
	return 0;
}

static int on_rescan_timer(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n) && m->rescan_pending)
		rescan_files(m);
	return 0;
}

static int on_filewatch(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;

	if (filewatch_read(m->fw, on_file_event, m) < 0)
		log_debug("monitor: reading the file watch failed, ignoring");
	return 0;
}

static int on_sample(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;

	window_expire(m, clock_mono_ns());
	if (!spawning(m)) { /* a new baseline of forks the kernel refused */
		m->pids_refusing = false;
		(void)cgroup_pids_refused(&m->cg, &m->pids_refused);
	}

	sample_io(m);
	if (m->result != 1 && m->diag_fd >= 0 && sockdiag_dump(m->diag_fd, on_conn, m) < 0)
		log_debug("monitor: sock_diag dump failed, ignoring");
	if (m->result != 1 && m->tick % DISK_EVERY == 0)
		sample_disk(m);
	if (m->result != 1 && m->tick % CPU_EVERY == CPU_EVERY / 2)
		sample_cpu(m);
	if (m->fw && m->tick % RESCAN_EVERY == RESCAN_EVERY - 1)
		rescan_files(m);
	m->tick++;
	return 0;
}

static int on_periodic(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;

	m->o->periodic(m->o->userdata);
	return 0;
}

static int on_init_exit(struct loop *l, int fd, uint32_t events, void *u)
{
	loop_exit(l, 0); /* the container stopped */
	return 0;
}

/* ---- setup --------------------------------------------------------------------------------- */

/* The container's default gateway, from its routing table as the host reads it (/proc/PID/net
 * is the network namespace of PID): DHCP, DNS and the bridge are expected to be talked to. Read
 * once, when the monitor starts, before the agent could change its routes. */
static void read_gateway(pid_t pid, struct in_addr *ret)
{
	char path[64], line[256], dest[16], gw[16];
	_cleanup_fclose_ FILE *f = NULL;

	(void)snprintf(path, sizeof(path), "/proc/%d/net/route", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		/* the kernel prints each address as the hex of its raw (network order) u32 */
		if (sscanf(line, "%*15s %15s %15s", dest, gw) == 2 &&
		    strcmp(dest, "00000000") == 0) {
			ret->s_addr = (in_addr_t)strtoul(gw, NULL, 16);
			return;
		}
}

static int attach(struct monitor *m, struct coi_error *err)
{
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	const struct incus_nic *nic;
	char buf[32] = "";
	FILE *f;
	int r;

	if (incus_client_is_remote(m->o->client))
		return coi_error_set(err, -EOPNOTSUPP,
		                     "the monitor watches the host's processes; it cannot watch a "
		                     "container on a remote Incus server");
	r = incus_instance_state(m->o->client, m->o->container, &st, err);
	if (r < 0)
		return r;
	if (st->status != INCUS_STATUS_RUNNING && st->status != INCUS_STATUS_FROZEN)
		return coi_error_set(err, -ESRCH, "container '%s' is not running", m->o->container);
	m->init_pid = (pid_t)st->pid;
	m->init_userns = proc_userns(m->init_pid);
	nic = incus_state_nic(st, "eth0");
	if (m->rules.self4.s_addr == INADDR_ANY && nic && nic->ipv4)
		(void)inet_pton(AF_INET, nic->ipv4, &m->rules.self4);
	if (m->rules.gateway4.s_addr == INADDR_ANY)
		read_gateway(m->init_pid, &m->rules.gateway4);
	r = cgroup_of_init(m->init_pid, &m->cg);
	if (r < 0)
		return coi_error_errno(err, r, "cannot find the cgroup of '%s' (init pid %d)",
		                       m->o->container, (int)m->init_pid);
	m->pid_max = 4194304;
	if ((f = fopen("/proc/sys/kernel/pid_max", "re"))) {
		if (fgets(buf, sizeof(buf), f))
			m->pid_max = (size_t)strtoul(buf, NULL, 10) + 1;
		fclose(f);
	}
	m->pids = calloc(m->pid_max / 64 + 1, sizeof(uint64_t));
	if (!m->pids)
		return coi_error_oom(err);
	pids_reseed(m);
	if (progid_new(m->init_pid, &m->progid) < 0)
		log_debug("monitor: cannot scan the container's programs, judging them by name");
	else
		log_debug("monitor: %zu shells and interpreters known by their binary",
		          progid_known_count(m->progid));
	return 0;
}

/* The file watch needs CAP_SYS_ADMIN (fanotify on another user's files); without it the
 * command-line rules still see `cat ~/.ssh/id_rsa`, not a program that opens the key itself. */
static void add_filewatch(struct monitor *m)
{
	char root[64];
	bool perm = m->o->auto_pause_on_high || m->o->auto_kill_on_critical;
	int r;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)m->init_pid);
	r = filewatch_open(root, "/workspace", perm, &m->fw);
	if (r >= 0)
		r = loop_add_fd(m->loop, filewatch_fd(m->fw), false, on_filewatch, m);
	if (r >= 0 && filewatch_inotify_fd(m->fw) >= 0) {
		r = loop_add_fd(m->loop, filewatch_inotify_fd(m->fw), false, on_filewatch_dirs, m);
		m->rescan_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (r >= 0 && m->rescan_timer >= 0 &&
		    loop_add_fd(m->loop, m->rescan_timer, true, on_rescan_timer, m) < 0) {
			close(m->rescan_timer);
			m->rescan_timer = -EBADF;
		}
	}
	if (r < 0) {
		log_debug("monitor: no file watch (%s), ignoring", strerror(-r));
		m->fw = filewatch_free(m->fw);
		return;
	}
	log_debug("monitor: %u file watch marks", filewatch_marks(m->fw));
}

static int add_sources(struct monitor *m, struct coi_error *err)
{
	const struct monitor_opts *o = m->o;
	int fd = -EBADF, r;

	r = o->force_scan ? -EPERM : proccn_open(&fd);
	if (r >= 0) {
		r = loop_add_fd(m->loop, fd, true, on_proccn, m);
	} else {
		log_debug("monitor: proc connector unavailable (%s), scanning /proc every %u ms",
		          strerror(-r), o->scan_ms);
		m->scan = calloc(m->pid_max / 64 + 1, sizeof(uint64_t));
		r = m->scan ? loop_add_timer(m->loop, o->scan_ms, on_scan, m) : -ENOMEM;
	}
	if (r < 0)
		return coi_error_errno(err, r, "cannot watch processes");
	if (o->nflog_group && (r = nflog_open(o->nflog_group, &fd)) >= 0)
		r = loop_add_fd(m->loop, fd, true, on_nflog, m);
	if (r < 0)
		log_debug("monitor: nflog group %u: %s, ignoring", o->nflog_group, strerror(-r));
	add_filewatch(m);
	if (sockdiag_open(m->init_pid, &m->diag_fd, &fd) < 0)
		log_debug("monitor: sock_diag unavailable, ignoring");
	else if (fd >= 0 && loop_add_fd(m->loop, fd, true, on_sock_destroy, m) < 0)
		close(fd);
	r = loop_add_timer(m->loop, o->sample_ms, on_sample, m);
	if (r >= 0 && o->periodic && o->periodic_s)
		r = loop_add_timer(m->loop, (uint64_t)o->periodic_s * 1000, on_periodic, m);
	if (r >= 0 && (fd = (int)syscall(SYS_pidfd_open, m->init_pid, 0)) >= 0)
		r = loop_add_fd(m->loop, fd, true, on_init_exit, m);
	if (r >= 0)
		r = loop_add_exit_signals(m->loop);
	return r < 0 ? coi_error_errno(err, r, "cannot set up the monitor loop") : 0;
}

static void warn_rule_file(const char *msg, void *userdata)
{
	(void)userdata;
	log_warn("monitor: %s, ignoring", msg);
}

/* The rule files, coi's own and the user's (ruleset.h), asked after the table's own rules. A
 * user's file that does not load is warned about in the monitor's log and skipped. */
static int load_rules(struct monitor *m, struct coi_error *err)
{
	const struct monitor_opts *o = m->o;
	int r = ruleset_new(&m->ruleset) < 0 ? coi_error_oom(err) : 0;

	if (r >= 0)
		r = ruleset_add_builtin(m->ruleset, err);
	if (r >= 0 && o->gtfobins_dir)
		r = ruleset_add_dir(m->ruleset, RULESET_GTFOBINS, o->gtfobins_dir, warn_rule_file,
		                    NULL, err);
	if (r >= 0 && o->sigma_dir)
		r = ruleset_add_dir(m->ruleset, RULESET_SIGMA, o->sigma_dir, warn_rule_file, NULL,
		                    err);
	if (r < 0)
		return r;
	m->rules.extra = ruleset_match_process;
	m->rules.extra_set = m->ruleset;
	log_debug("monitor: %zu rules loaded from files", ruleset_count(m->ruleset));
	return 0;
}

/* Findings leave the host as they are written: the exporter is the audit log's sink. */
static int start_export(struct monitor *m, struct coi_error *err)
{
	const struct monitor_opts *o = m->o;
	struct export_opts x = {.container = o->container,
	                        .min_level = o->export_level,
	                        .command = o->on_finding && *o->on_finding ? o->on_finding : NULL,
	                        .url = o->on_finding_url && *o->on_finding_url ? o->on_finding_url
	                                                                       : NULL,
	                        .syslog_socket = o->syslog_socket,
	                        .metrics_dir = o->metrics_dir};
	int r = exporter_new(&x, m->loop, &m->exporter, err);

	if (r >= 0 && m->exporter)
		audit_set_sink(m->audit, exporter_record, m->exporter);
	return r;
}

/* A command like `cat .env` lives a few hundred microseconds after its exec; its command line
 * can only be read while it lives. Waking first matters: measured on this 2-core machine, 24 of
 * 30 such commands were read at normal priority, 27 at nice -15, 30 of 30 at SCHED_FIFO 1. The
 * loop only waits on fds and does bounded work per wakeup, and the kernel's RT throttling
 * keeps 5% of each CPU for others even so. Children get normal scheduling. */
static void raise_priority(void)
{
	struct sched_param sp = {.sched_priority = 1};

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
		return;
	if (setpriority(PRIO_PROCESS, 0, -10) < 0)
		log_debug("monitor: cannot raise the priority, ignoring");
}

int monitor_run(const struct monitor_opts *o, struct coi_error *err)
{
	struct monitor m = {.o = o, .rules = o->rules, .diag_fd = -EBADF};
	struct deadline *deadline = NULL;
	struct proxyrec *proxy = NULL;
	const struct proxyrec_opts po = {o->egress_fd, o->egress_pidfd, o->egress_read, o->alert,
	                                 o->userdata};
	int r;

	r = audit_open(o->container, o->audit_retention_days, &m.audit, err);
	if (r >= 0)
		r = loop_new(&m.loop) < 0 ? coi_error_oom(err) : 0;
	if (r >= 0)
		r = start_export(&m, err);
	if (r >= 0)
		r = load_rules(&m, err);
	if (r >= 0)
		r = attach(&m, err);
	if (r >= 0)
		r = responder_new(o, m.audit, &m.cg, &m.resp) < 0 ? coi_error_oom(err) : 0;
	if (r >= 0)
		r = add_sources(&m, err);
	if (r >= 0)
		window_init(&m);
	if (r >= 0 && o->max_duration_s)
		r = deadline_new(o, m.audit, m.loop, false, &deadline, err);
	if (r >= 0 && (r = proxyrec_new(&po, m.audit, respond_proxy, &m, m.loop, &proxy)) < 0)
		coi_error_errno(err, r, "cannot watch the credential proxy");
	if (r >= 0) {
		log_debug("monitor: watching '%s' (init %d, cgroup %s, %u processes)", o->container,
		          (int)m.init_pid, m.cg.root, m.live);
		raise_priority();
		if (o->ready)
			o->ready(o->userdata);
		r = loop_run(m.loop);
		if (r < 0 && r != -EINTR)
			coi_error_errno(err, r, "monitor loop failed");
	}
	loop_free(m.loop);
	deadline_free(deadline);
	proxyrec_free(proxy);
	responder_free(m.resp);
	audit_close(m.audit); /* may write a note, which goes out too */
	exporter_free(m.exporter);
	ruleset_free(m.ruleset);
	if (m.diag_fd >= 0)
		close(m.diag_fd);
	free(m.pids);
	free(m.scan);
	progid_free(m.progid);
	filewatch_free(m.fw);
	return r;
}
