/* SPDX-License-Identifier: MIT */
/* monitor-samples.c: the monitor's network and sampled sources: NFLOG records (the policy's
 * refusals, [monitoring.nft]'s DNS and egress counters), connections (sock_diag), and the
 * samples of I/O, disk and CPU. Split from monitor.c (monitor-internal.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/audit.h"
#include "monitor/dnsrec.h"
#include "monitor/monitor-internal.h"
#include "monitor/sources.h"
#include "util/clock.h"
#include "util/log.h"

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

	monitor_threat_from_hit(&t, h, desc, sizeof(desc));
	t.kind = EVIDENCE_NETWORK;
	t.ev.network.protocol = "udp";
	t.ev.network.state = "DNS";
	t.ev.network.suspect_reason = h->reason;
	t.ev.network.reason = how;
	t.ev.network.remote_host = name;
	monitor_respond(m, &t, h->rule->id, clock_mono_ns());
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

static void dns_counted(void *u, const char *name)
{
	struct monitor *m = u;

	if (m->result != 1)
		count_dns(m, name);
}

int monitor_watch_dns_filter(struct monitor *m)
{
	struct dnsrec_opts o = monitor_dnsrec_opts(m->o, dns_counted, m);

	return dnsrec_new(&o, m->audit, m->loop, &m->dnsrec);
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
	monitor_threat_from_hit(&t, h, desc, sizeof(desc));
	t.kind = EVIDENCE_NETWORK;
	t.ev.network.protocol = c->proto == IPPROTO_UDP ? "udp" : "tcp";
	t.ev.network.local_addr = local;
	t.ev.network.remote_addr = remote;
	t.ev.network.state = c->state ? c->state : "ESTABLISHED";
	t.ev.network.suspect_reason = h->reason;
	t.ev.network.reason = how;
	t.ev.network.remote_host = host;
	monitor_respond(m, &t, key, clock_mono_ns());
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
		monitor_check_conn(m, &p->conn, "refused by the network policy (nflog)");
		return;
	case NFLOG_NEW:
		log_packet(m, p);
		/* the rules sock_diag's samples apply, to connections too short for them */
		monitor_check_conn(m, &p->conn, "logged by nftables (nflog)");
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

int monitor_on_nflog(struct loop *l, int fd, uint32_t events, void *u)
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

void monitor_on_conn(const struct conn_obs *c, void *u)
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
	monitor_check_conn(m, c, "seen by sock_diag");
}

int monitor_on_sock_destroy(struct loop *l, int fd, uint32_t events, void *u)
{
	char buf[16384] __attribute__((aligned(8)));

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		(void)sockdiag_parse(buf, (size_t)n, 0, monitor_on_conn, u);
	}
	return 0;
}

void monitor_sample_io(struct monitor *m)
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

		monitor_threat_from_hit(&t, &hits[i], desc, sizeof(desc));
		t.kind = w ? EVIDENCE_FILE_WRITE : EVIDENCE_FILESYSTEM;
		t.ev.io.mb = (double)(w ? swr : srd) / (1024.0 * 1024.0);
		secs = w ? o.write_seconds : o.seconds;
		t.ev.io.rate_mb_s = secs > 0 ? t.ev.io.mb / secs : 0;
		t.ev.io.threshold_mb = w ? m->rules.write_threshold_mb : m->rules.read_threshold_mb;
		t.ev.io.duration_ns = (int64_t)(secs * 1e9);
		monitor_respond(m, &t, hits[i].rule->id, clock_mono_ns());
		/* Start over, so one burst is one finding. */
		memset(w ? m->io_dwr : m->io_drd, 0, sizeof(m->io_drd));
	}
}

void monitor_sample_disk(struct monitor *m)
{
	struct rule_hit hits[RULES_MAX_HITS];
	struct disk_obs d;

	if (container_disk(m->init_pid, "/tmp", &d) < 0)
		return;
	if (rules_match_disk(&d, &m->rules, hits, RULES_MAX_HITS) == 1) {
		struct threat t;
		char desc[512];

		monitor_threat_from_hit(&t, &hits[0], desc, sizeof(desc));
		t.kind = EVIDENCE_DISK_SPACE;
		t.ev.disk.path = "/tmp";
		t.ev.disk.used_mb = d.used_bytes >> 20;
		t.ev.disk.total_mb = d.total_bytes >> 20;
		t.ev.disk.percent = 100.0 * (double)d.used_bytes / (double)d.total_bytes;
		monitor_respond(m, &t, "/tmp", 0);
	}
}

/* Each process's CPU over its life; one that keeps a core busy past a minute is asked for its
 * connections (a miner's pool). */
void monitor_sample_cpu(struct monitor *m)
{
	size_t words = m->ps.max / 64 + 1;
	unsigned looked = 0;

	for (size_t w = 0; w < words && looked < CPU_PIDS && m->result != 1; w++)
		for (uint64_t bits = m->ps.mine[w]; bits && looked < CPU_PIDS; bits &= bits - 1) {
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

				monitor_threat_from_hit(&t, &hits[0], desc, sizeof(desc));
				t.kind = EVIDENCE_PROCESS;
				t.ev.process.pid = pid;
				t.ev.process.command = comm;
				t.ev.process.user = "";
				t.ev.process.pattern = hits[0].pattern;
				t.ev.process.indicators[0] = hits[0].reason;
				snprintf(key, sizeof(key), "cpu:%d", (int)pid);
				monitor_respond(m, &t, key, clock_mono_ns());
			}
		}
}
