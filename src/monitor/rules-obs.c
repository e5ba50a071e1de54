/* SPDX-License-Identifier: MIT */
/* rules-obs.c: the rules on what the monitor measures rather than what a process runs: a
 * connection's destination, I/O rates, process counts and spawns, disk and /tmp use, DNS query
 * rates, the credential proxy's refusals, CPU. Split from rules.c (rules-internal.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/rules-internal.h"
#include "monitor/rules.h"

/* ---- network ------------------------------------------------------------------------------- */

static bool v4_in(struct in_addr a, const char *net, unsigned bits)
{
	struct in_addr n;
	uint32_t mask = bits ? htonl(~0u << (32 - bits)) : 0;

	inet_pton(AF_INET, net, &n);
	return (a.s_addr & mask) == (n.s_addr & mask);
}

static bool is_loopback(const struct conn_obs *c)
{
	if (c->family == AF_INET)
		return v4_in(c->daddr.v4, "127.0.0.0", 8) || c->daddr.v4.s_addr == 0;
	return IN6_IS_ADDR_LOOPBACK(&c->daddr.v6) || IN6_IS_ADDR_UNSPECIFIED(&c->daddr.v6);
}

static bool is_metadata(const struct conn_obs *c)
{
	struct in6_addr md6;

	if (c->family == AF_INET)
		return v4_in(c->daddr.v4, "169.254.169.254", 32);
	inet_pton(AF_INET6, "fd00:ec2::254", &md6);
	return memcmp(&c->daddr.v6, &md6, sizeof(md6)) == 0;
}

static bool is_private(const struct conn_obs *c, const struct rules_config *cfg)
{
	struct in_addr a = c->daddr.v4;

	if (c->family == AF_INET6)
		return (c->daddr.v6.s6_addr[0] & 0xfe) == 0xfc;
	if (a.s_addr == cfg->gateway4.s_addr || a.s_addr == cfg->self4.s_addr)
		return false;
	return v4_in(a, "10.0.0.0", 8) || v4_in(a, "172.16.0.0", 12) ||
	       v4_in(a, "192.168.0.0", 16) || v4_in(a, "100.64.0.0", 10) ||
	       v4_in(a, "169.254.0.0", 16);
}

enum private_verdict { PRIVATE_ADMITTED, PRIVATE_ATTEMPT, PRIVATE_CONNECTED };

/* Not (yet) a connection: a packet the policy dropped, a SYN still unanswered, a first packet
 * nftables logged; UDP only where the policy is known (it drops what it refuses). */
static bool attempt_only(const struct conn_obs *c, const struct rules_config *cfg)
{
	if (c->refused)
		return true;
	if (!c->state)
		return false;
	if (strcmp(c->state, "SYN_SENT") == 0 || strcmp(c->state, "NEW") == 0)
		return true;
	return strcmp(c->state, "UDP") == 0 && cfg->admits;
}

/* A connection to a private address: one the session's policy lets through is the user's
 * (a LAN mirror, a tailnet host: e2e 45 froze on it); an attempt that left nothing is a
 * WARNING; one that is up although the policy refuses it (a way around the firewall), or with
 * no policy known (a monitor attached by hand), is HIGH. */
static enum private_verdict private_verdict(const struct conn_obs *c,
                                            const struct rules_config *cfg)
{
	if (cfg->admits && cfg->admits(cfg->admits_policy, c))
		return PRIVATE_ADMITTED;
	return attempt_only(c, cfg) ? PRIVATE_ATTEMPT : PRIVATE_CONNECTED;
}

static size_t finish_hits(struct rule_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hits[i].level = hits[i].rule->level;
	return n;
}

void conn_obs_format(const struct conn_obs *c, bool remote, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const void *addr = remote ? (const void *)&c->daddr : (const void *)&c->saddr;

	inet_ntop(c->family, addr, a, sizeof(a));
	snprintf(out, size, c->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	         remote ? c->dport : c->sport);
}

size_t rules_match_connection(const struct conn_obs *c, const struct rules_config *cfg,
                              struct rule_hit *hits, size_t max)
{
	static const uint16_t c2_ports[] = {4444, 5555, 1234, 31337, 12345};
	char remote[INET6_ADDRSTRLEN + 8];
	size_t n = 0;

	if (max == 0 || is_loopback(c))
		return 0;
	conn_obs_format(c, true, remote, sizeof(remote));
	if (is_metadata(c) && attempt_only(c, cfg)) {
		/* cloud SDKs probe it by themselves when they find no credentials; the policy
		 * dropped it, nothing was read */
		hits[n] = (struct rule_hit){.rule = rules_find("net-metadata-refused")};
		rules_hit(&hits[n++], remote, "the cloud metadata address, not reached");
		return finish_hits(hits, n);
	}
	if (is_metadata(c)) {
		hits[n] = (struct rule_hit){.rule = rules_find("net-metadata")};
		rules_hit(&hits[n++], remote, "the cloud metadata address");
	}
	for (size_t i = 0; i < ELEMENTSOF(c2_ports) && n < max; i++)
		if (c->dport == c2_ports[i]) {
			hits[n] = (struct rule_hit){.rule = rules_find("net-c2-port")};
			rules_hit(&hits[n++], remote, "a port used by attack tools");
		}
	if (n < max && !is_metadata(c) && is_private(c, cfg)) {
		switch (private_verdict(c, cfg)) {
		case PRIVATE_ADMITTED:
			break;
		case PRIVATE_ATTEMPT:
			hits[n] = (struct rule_hit){.rule = rules_find("net-private-refused")};
			rules_hit(
			        &hits[n++], remote,
			        cfg->admits
			                ? "a private network address the network policy refuses"
			                : "an attempt on a private network address (no policy known)");
			break;
		case PRIVATE_CONNECTED:
			hits[n] = (struct rule_hit){.rule = rules_find("net-private")};
			rules_hit(&hits[n++], remote, "a private network address");
			break;
		}
		return finish_hits(hits, n);
	}
	if (n == 0 && c->refused) {
		hits[n] = (struct rule_hit){.rule = rules_find("net-refused")};
		rules_hit(&hits[n++], remote, "refused by the network policy");
	}
	return finish_hits(hits, n);
}

/* ---- samples ------------------------------------------------------------------------------- */

/* Block I/O of the container's cgroup: a record, not a finding. Builds, package installs and
 * clones read and write hundreds of megabytes; what matters is what leaves, which the kernel
 * counts on the network (net-egress). */
static size_t io_rule(const char *id, uint64_t bytes, double secs, double thr, double rate,
                      struct rule_hit *h)
{
	double mb = (double)bytes / (1024.0 * 1024.0), r = secs > 0 ? mb / secs : mb;

	if (thr <= 0 || mb < thr || r < rate)
		return 0;
	*h = (struct rule_hit){.rule = rules_find(id)};
	h->level = h->rule->level;
	snprintf(h->pattern, sizeof(h->pattern), "%.1f MB in %.1f s", mb, secs);
	snprintf(h->reason, sizeof(h->reason), "%.1f MB/s, threshold %.0f MB at %.0f MB/s", r, thr,
	         rate);
	return 1;
}

size_t rules_match_io(const struct io_obs *o, const struct rules_config *cfg, struct rule_hit *hits,
                      size_t max)
{
	size_t n = 0;

	if (max > n)
		n += io_rule("io-read", o->read_bytes, o->seconds, cfg->read_threshold_mb,
		             cfg->read_rate_mb_s, &hits[n]);
	if (max > n)
		n += io_rule("io-write", o->write_bytes,
		             o->write_seconds > 0 ? o->write_seconds : o->seconds,
		             cfg->write_threshold_mb, cfg->write_rate_mb_s, &hits[n]);
	return n;
}

/* A runaway build passes one threshold or both: WARNING. A fork bomb is more: its processes
 * multiply past the spawn threshold and copy themselves generation after generation (or the
 * kernel's process limit already refuses their forks): HIGH, which freezes it. */
size_t rules_match_proc_count(const struct proc_count_obs *o, const struct rules_config *cfg,
                              struct rule_hit *hits, size_t max)
{
	bool many = cfg->max_processes && o->live > cfg->max_processes;
	bool fast = cfg->spawn_threshold && o->forks > o->exits &&
	            o->forks - o->exits >= cfg->spawn_threshold;
	size_t n = 0;

	if (n < max && fast && (o->generations >= FORKBOMB_GENERATIONS || o->pids_refused)) {
		hits[n] = (struct rule_hit){.rule = rules_find("proc-forkbomb"),
		                            .level = THREAT_HIGH};
		rules_hitf(&hits[n++],
		           o->pids_refused
		                   ? "processes multiply until the process limit refuses them"
		                   : "processes copy themselves generation after generation",
		           "+%u processes in %.1f s (threshold %u), %u generations, %u live",
		           o->forks - o->exits, o->seconds, cfg->spawn_threshold, o->generations,
		           o->live);
		return n; /* the bomb says it all */
	}
	if (n < max && many) {
		hits[n] = (struct rule_hit){.rule = rules_find("proc-count"),
		                            .level = THREAT_WARNING};
		rules_hitf(&hits[n++], "too many processes", "%u processes (threshold %u)", o->live,
		           cfg->max_processes);
	}
	if (n < max && fast) {
		hits[n] = (struct rule_hit){.rule = rules_find("proc-spawn"),
		                            .level = THREAT_WARNING};
		rules_hitf(&hits[n++], "processes multiply",
		           "+%u processes in %.1f s (threshold %u)", o->forks - o->exits,
		           o->seconds, cfg->spawn_threshold);
	}
	return n;
}

size_t rules_match_disk(const struct disk_obs *o, const struct rules_config *cfg,
                        struct rule_hit *hits, size_t max)
{
	double pct;

	if (max == 0 || o->total_bytes == 0 || !cfg->tmp_warn_percent)
		return 0;
	pct = 100.0 * (double)o->used_bytes / (double)o->total_bytes;
	if (pct < cfg->tmp_warn_percent)
		return 0;
	hits[0] = (struct rule_hit){.rule = rules_find("disk-tmp"), .level = THREAT_WARNING};
	rules_hitf(&hits[0], "the container's /tmp is nearly full", "%s %.0f%% used", o->path, pct);
	return 1;
}

/* Data leaving: faster than the read rate beyond a burst of the read threshold (what is too
 * much of the workspace at once, the original's thresholds) is HIGH, and freezes the container
 * a burst after it began; one connection that has sent the threshold in all is a WARNING
 * (a long upload, a large git push). */
size_t rules_match_egress(const struct egress_obs *o, const struct rules_config *cfg,
                          struct rule_hit *hits, size_t max)
{
	double mb = (double)o->conn_bytes / (1024.0 * 1024.0);

	if (max == 0)
		return 0;
	if (o->rate_exceeded) {
		hits[0] = (struct rule_hit){.rule = rules_find("net-egress"), .level = THREAT_HIGH};
		rules_hitf(&hits[0], "data leaves the container faster than the threshold",
		           "over %.0f MB at %.1f MB/s (counted by the kernel)",
		           cfg->read_threshold_mb, cfg->read_rate_mb_s);
		return 1;
	}
	if (cfg->read_threshold_mb <= 0 || mb < cfg->read_threshold_mb)
		return 0;
	hits[0] = (struct rule_hit){.rule = rules_find("net-conn-bytes"), .level = THREAT_WARNING};
	rules_hitf(&hits[0], "one connection has sent more than the threshold", "%.1f MB sent", mb);
	return 1;
}

size_t rules_match_cpu(const struct cpu_obs *o, const struct rules_config *cfg,
                       struct rule_hit *hits, size_t max)
{
	(void)cfg;
	if (max == 0 || o->share < MINER_SHARE || o->seconds < MINER_SECONDS || o->remote == 0)
		return 0;
	hits[0] = (struct rule_hit){.rule = rules_find("cpu-miner"), .level = THREAT_WARNING};
	rules_hitf(&hits[0],
	           "a process keeps a core busy while it holds a connection (a miner's pool)",
	           "%s: %.0f%% of a core for %.0f s, connected to %s", o->comm ? o->comm : "?",
	           o->share * 100, o->seconds, o->peer ? o->peer : "?");
	return 1;
}

/* Many queries in a minute is how data leaves through DNS (each query carries a chunk in its
 * name) or a tunnel talks; a resolver's cache keeps ordinary work far below. */
size_t rules_match_dns(const struct dns_obs *o, const struct rules_config *cfg,
                       struct rule_hit *hits, size_t max)
{
	if (max == 0 || !cfg->dns_per_minute || o->queries <= cfg->dns_per_minute)
		return 0;
	hits[0] = (struct rule_hit){.rule = rules_find("dns-rate"), .level = THREAT_HIGH};
	rules_hitf(&hits[0], "DNS tunnelling or exfiltration suspected",
	           "%u DNS queries in %.0f s (threshold %u a minute), last '%s'", o->queries,
	           o->seconds, cfg->dns_per_minute, o->last_name ? o->last_name : "");
	return 1;
}
