/* SPDX-License-Identifier: MIT */
/* nftgen.c: the pure generator, (target, policy, observed state) -> one nft batch.
 * No I/O here. Every string printed into the batch is either a constant, an address printed by
 * inet_ntop, a number, or a name that passed the validators in policy.c (which admit no quotes,
 * spaces, braces or semicolons), so nothing from config or from the network can inject syntax.
 *
 * Keys: the ip family keys a container by its IPv4 source address, because the ip hooks see the
 * bridge, not the veth, as the input interface (br_netfilter); the bridge family keys it by its
 * veth, which is known before boot, and there pins the IPv4 to the veth (`ip saddr A accept`,
 * then drop), so a container cannot borrow another's address to get its policy. Removal is by
 * handle (base-chain jumps, found in the state) and by chain (flush + delete); replacing the
 * rules of a container is flush + refill of its own chains, in the same transaction. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

#define REJECT "reject with icmp type admin-prohibited"
/* One rule's text: the largest is the ICMP rule naming every allowlist CIDR. */
#define RULE_MAX ((size_t)NET_ALLOWLIST_MAX * 24 + 4096)

static const char *const family_names[] = {[NET_FAMILY_IP] = "ip", [NET_FAMILY_BRIDGE] = "bridge"};

struct gen {
	struct buf *out;
	const char *table;
	const char *name; /* the container whose chains rules go into */
	int log_group;
	int r; /* the first error; later emits do nothing */
};

static void COI_PRINTF(2, 3) emit(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	if (g->r < 0)
		return;
	va_start(ap, fmt);
	g->r = buf_vprintf(g->out, fmt, ap);
	va_end(ap);
}

static const char *ip4(struct in_addr a, char buf[static INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* "add rule <family> T <prefix><name> <body> comment "coi:<name>"" */
static void COI_PRINTF(3, 4) chain_rule(struct gen *g, enum net_family f, const char *fmt, ...)
{
	_cleanup_buf_ struct buf body = BUF_INIT(RULE_MAX);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&body, fmt, ap);
	va_end(ap);
	if (r < 0) {
		g->r = g->r < 0 ? g->r : r;
		return;
	}
	emit(g, "add rule %s %s %s-%s %s comment \"coi:%s\"\n", family_names[f], g->table,
	     f == NET_FAMILY_IP ? "ct" : "br", g->name, buf_str(&body), g->name);
}

#define ip_rule(g, ...) chain_rule(g, NET_FAMILY_IP, __VA_ARGS__)
#define br_rule(g, ...) chain_rule(g, NET_FAMILY_BRIDGE, __VA_ARGS__)

/* A refusal: logged to NFLOG (when a group is set), then rejected at once. TCP gets a reset:
 * an ICMP error that reaches a socket still in connect() is taken as a soft error there, and the
 * connection fails only at the SYN retransmit a second later; a RST ends it at once. Everything
 * else gets the ICMP error. */
static void deny(struct gen *g, const char *match)
{
	char log[128] = "";
	const char *sp = *match ? " " : "";

	if (g->log_group >= 0)
		(void)snprintf(log, sizeof(log), "log prefix \"coi-deny:%s \" group %d ", g->name,
		               g->log_group);
	/* the protocol match last: the reset needs tcp as the last l4proto context */
	ip_rule(g, "%s%smeta l4proto tcp %sreject with tcp reset", match, sp, log);
	ip_rule(g, "%s%s%s" REJECT, match, sp, log);
}

/* The credential proxy: the container's HTTPS connections to the gateway (where /etc/hosts
 * inside sends the secrets' hosts) go to the proxy's port, which ct-<name> accepts first. */
static void proxy_rules(struct gen *g, const struct net_target *t, const char *a)
{
	char gw[INET_ADDRSTRLEN];

	ip4(t->gateway, gw);
	emit(g,
	     "add rule ip %s dstnat ip saddr %s ip daddr %s tcp dport 443 dnat to %s:%u comment "
	     "\"coi:%s\"\n",
	     g->table, a, gw, gw, t->proxy_port, g->name);
	ip_rule(g, "ip daddr %s tcp dport %u accept", gw, t->proxy_port);
}

/* The DNS filter: every DNS query (udp and tcp 53, to any server) is redirected to its port on
 * the gateway, where ct-<name> accepts it first (the filter records each query itself). */
static void dns_filter_rules(struct gen *g, const struct net_target *t, const char *a)
{
	char gw[INET_ADDRSTRLEN];

	ip4(t->gateway, gw);
	emit(g,
	     "add rule ip %s dstnat ip saddr %s meta l4proto { tcp, udp } th dport 53 dnat to "
	     "%s:%u comment \"coi:%s\"\n",
	     g->table, a, gw, t->dns_port, g->name);
	ip_rule(g, "ip daddr %s meta l4proto { tcp, udp } th dport %u accept", gw, t->dns_port);
}

/* [monitoring.nft]: the log lines of the monitor, first in ct-<name>, deciding nothing. A DNS
 * query (each UDP packet to port 53: a resolver reuses its socket, so most queries are not new
 * connections) is logged as such and only as such; every other new connection (TCP, UDP, ICMP)
 * once, at its first packet. Each rule has its own rate limit, checked before it logs. */
static void watch_rules(struct gen *g, const struct net_watch *w, bool dns)
{
	if (w->dns && dns) {
		ip_rule(g, "udp dport 53 limit rate %u/second log prefix \"coi-dns:%s \" group %d",
		        w->rate, g->name, g->log_group);
		ip_rule(g,
		        "ct state new meta l4proto . th dport != { udp . 53 } limit rate %u/second "
		        "log prefix \"coi-new:%s \" group %d",
		        w->rate, g->name, g->log_group);
		return;
	}
	ip_rule(g, "ct state new limit rate %u/second log prefix \"coi-new:%s \" group %d", w->rate,
	        g->name, g->log_group);
}

/* [monitoring]: the kernel counts what leaves (a rule each: bytes, DNS queries) and tells the
 * monitor while a limit is exceeded, at most a packet a second. First in ct-<name>, so every
 * packet counts, whatever the policy then does with it. DNS by the port the container sent to:
 * dstnat has already sent the packet on to the DNS filter's port. */
static void count_rules(struct gen *g, const struct net_watch *w)
{
	ip_rule(g,
	        "limit rate over %u kbytes/second burst %u kbytes limit rate 1/second log prefix "
	        "\"coi-bytes:%s \" group %d",
	        w->egress_kbytes_s, w->egress_burst_kbytes, g->name, g->log_group);
	ip_rule(g,
	        "meta l4proto { tcp, udp } ct original proto-dst 53 limit rate over %u/minute burst "
	        "%u packets "
	        "limit rate 1/second log prefix \"coi-dnsx:%s \" group %d",
	        w->dns_per_minute, w->dns_per_minute, g->name, g->log_group);
}

static bool count_ok(const struct net_watch *w)
{
	return w->egress_kbytes_s >= 1 && w->egress_kbytes_s <= NET_COUNT_MAX &&
	       w->egress_burst_kbytes >= 1 && w->egress_burst_kbytes <= NET_COUNT_MAX &&
	       w->dns_per_minute >= 1 && w->dns_per_minute <= NET_COUNT_MAX;
}

/* nat: the dstnat chain, only when a rule needs it (the nat hook loads the kernel's NAT). */
static void setup_tables(struct gen *g, bool nat)
{
	emit(g, "add table ip %s\n", g->table);
	emit(g,
	     "add chain ip %s forward { type filter hook forward priority 10; policy accept; }\n",
	     g->table);
	emit(g, "add chain ip %s input { type filter hook input priority 10; policy accept; }\n",
	     g->table);
	if (nat)
		emit(g,
		     "add chain ip %s dstnat { type nat hook prerouting priority dstnat; policy "
		     "accept; }\n",
		     g->table);
	emit(g, "add table bridge %s\n", g->table);
	emit(g,
	     "add chain bridge %s prerouting { type filter hook prerouting priority -200; policy "
	     "accept; }\n",
	     g->table);
}

/* "a" or "{ a, b/24 }" */
static int addr_set(struct buf *b, const struct in_addr *a, const unsigned *prefix, size_t n)
{
	char s[INET_ADDRSTRLEN];
	int r = n > 1 ? buf_puts(b, "{ ") : 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		r = buf_printf(b, "%s%s", i ? ", " : "", ip4(a[i], s));
		if (r >= 0 && prefix && prefix[i] < 32)
			r = buf_printf(b, "/%u", prefix[i]);
	}
	if (r >= 0 && n > 1)
		r = buf_puts(b, " }");
	return r;
}

/* "th dport 443" or "th dport { 80, 8000-8100 }", after "meta l4proto { tcp, udp }" */
static int port_match(struct buf *b, const struct net_ports *ports)
{
	int r = buf_puts(b, "meta l4proto { tcp, udp }");

	if (r < 0 || ports->n == 0)
		return r;
	r = buf_puts(b, ports->n > 1 ? " th dport { " : " th dport ");
	for (size_t i = 0; i < ports->n && r >= 0; i++) {
		const struct net_port_range *pr = &ports->r[i];

		r = buf_printf(b, "%s%u", i ? ", " : "", pr->lo);
		if (r >= 0 && pr->hi != pr->lo)
			r = buf_printf(b, "-%u", pr->hi);
	}
	if (r >= 0 && ports->n > 1)
		r = buf_puts(b, " }");
	return r;
}

/* "ip daddr <set> meta l4proto { tcp, udp } [th dport <ports>] accept" */
static void accept_dest(struct gen *g, const struct in_addr *a, const unsigned *prefix, size_t n,
                        const struct net_ports *ports)
{
	_cleanup_buf_ struct buf b = BUF_INIT(RULE_MAX);

	if (n == 0)
		return;
	if (addr_set(&b, a, prefix, n) < 0 || buf_putc(&b, ' ') < 0 || port_match(&b, ports) < 0) {
		g->r = g->r < 0 ? g->r : -E2BIG;
		return;
	}
	ip_rule(g, "ip daddr %s accept", buf_str(&b));
}

/* The ports a grant without its own ports gets: the global cap, when set. */
static const struct net_ports *ports_or_cap(const struct net_ports *own, const struct net_policy *p)
{
	return own->n ? own : &p->allowed_ports;
}

static void rules_hosts(struct gen *g, const struct net_policy *p)
{
	for (size_t i = 0; i < p->n_hosts; i++) {
		const struct net_host *h = &p->hosts[i];

		accept_dest(g, &h->addr, NULL, 1, ports_or_cap(&h->ports, p));
	}
}

/* The bridge itself (reached on the input path: DHCP, its DNS, host services) and DHCP
 * broadcasts, then, unless local access is allowed, the other containers: the bridge subnet
 * (reached through forward, as br_netfilter is on), multicast and broadcast (flooded to them). */
static void rules_bridge_subnet(struct gen *g, const struct net_target *t,
                                const struct net_policy *p)
{
	char gw[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN], match[128];
	struct in_addr subnet = {t->gateway.s_addr & htonl(~0U << (32 - t->prefix))};

	/* The bridge's address is the host itself: only its DHCP and DNS (and ping) are for the
	 * container; the host's other services (an sshd or a database listening on every address)
	 * are not, unless the local network is allowed. */
	ip4(t->gateway, gw);
	if (p->allow_local_network_access) {
		ip_rule(g, "ip daddr %s accept", gw);
	} else {
		ip_rule(g, "ip daddr %s udp dport 67 accept", gw);
		if (p->n_dns_servers == 0) /* else only the pinned resolvers */
			ip_rule(g, "ip daddr %s meta l4proto { tcp, udp } th dport 53 accept", gw);
		ip_rule(g, "ip daddr %s icmp type echo-request accept", gw);
	}
	ip_rule(g, "ip daddr 255.255.255.255 udp dport 67 accept");
	if (p->allow_local_network_access)
		return;
	(void)snprintf(match, sizeof(match), "ip daddr { %s/%u, 224.0.0.0/4, 255.255.255.255 }",
	               ip4(subnet, net), t->prefix);
	deny(g, match);
}

/* "{ a/n, b/m }" of a list of networks */
static int cidr_set(struct buf *b, const struct net_cidr *nets, size_t n)
{
	char s[INET_ADDRSTRLEN];
	int r = buf_puts(b, "{ ");

	for (size_t i = 0; i < n && r >= 0; i++)
		r = buf_printf(b, "%s%s/%u", i ? ", " : "", ip4(nets[i].addr, s), nets[i].prefix);
	return r < 0 ? r : buf_puts(b, " }");
}

/* allowed_networks, accepted before every refusal that follows (the port cap applies) */
static void rules_allowed_networks(struct gen *g, const struct net_policy *p)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);

	if (p->n_allowed_networks == 0)
		return;
	if (cidr_set(&b, p->allowed_networks, p->n_allowed_networks) < 0 ||
	    (p->allowed_ports.n &&
	     (buf_puts(&b, " ") < 0 || port_match(&b, &p->allowed_ports) < 0))) {
		g->r = g->r < 0 ? g->r : -E2BIG;
		return;
	}
	ip_rule(g, "ip daddr %s accept", buf_str(&b));
}

/* The host itself, on every address but the bridge's (whose DHCP and DNS came before): a
 * public address of a server, a VPN's, a tailnet's. Its services are not for the container
 * unless the local network is allowed. */
static void rules_host_itself(struct gen *g, const struct net_policy *p)
{
	if (!p->allow_local_network_access)
		deny(g, "fib daddr type local");
}

static void rules_special(struct gen *g)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4096);

	if (buf_puts(&b, "ip daddr ") < 0 ||
	    cidr_set(&b, net_special_ranges, net_n_special_ranges) < 0) {
		g->r = g->r < 0 ? g->r : -E2BIG;
		return;
	}
	deny(g, buf_str(&b));
}

#define RFC1918 "{ 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }"

static void rules_private(struct gen *g, const struct net_policy *p)
{
	if (p->allow_local_network_access)
		ip_rule(g, "ip daddr " RFC1918 " accept");
	else if (p->block_private_networks && p->mode == NET_MODE_RESTRICTED)
		deny(g, "ip daddr " RFC1918);
	if (p->block_metadata_endpoint)
		deny(g, "ip daddr 169.254.0.0/16");
}

static void rules_restricted(struct gen *g, const struct net_target *t, const struct net_policy *p)
{
	ip_rule(g, "ct state established,related accept");
	rules_bridge_subnet(g, t, p);
	if (p->n_dns_servers > 0) {
		_cleanup_buf_ struct buf b = BUF_INIT(4096);

		if (addr_set(&b, p->dns_servers, NULL, p->n_dns_servers) < 0)
			g->r = -E2BIG;
		ip_rule(g, "ip daddr %s meta l4proto { tcp, udp } th dport 53 accept", buf_str(&b));
		deny(g, "meta l4proto { tcp, udp } th dport 53");
	}
	rules_hosts(g, p);
	rules_allowed_networks(g, p);
	rules_host_itself(g, p);
	rules_private(g, p);
	rules_special(g);
	if (p->allowed_ports.n > 0) {
		_cleanup_buf_ struct buf b = BUF_INIT(4096);

		if (port_match(&b, &p->allowed_ports) < 0)
			g->r = -E2BIG;
		ip_rule(g, "%s accept", buf_str(&b));
		ip_rule(g, "icmp type echo-request accept");
		deny(g, "");
		return;
	}
	ip_rule(g, "accept");
}

/* With a DNS filter: each name entry's addresses are its set's, filled by the filter as the
 * names are resolved (with a timeout from the answer's TTL). */
static void rules_sets(struct gen *g, const struct net_policy *p)
{
	_cleanup_free_ uint32_t *set_of = calloc(p->n_allowlist + 1, sizeof(*set_of));
	size_t n;

	if (!set_of) {
		g->r = -ENOMEM;
		return;
	}
	n = net_policy_dns_sets(p, set_of);
	for (uint32_t k = 0; k < n; k++) {
		_cleanup_buf_ struct buf b = BUF_INIT(4096);
		size_t i = 0;

		while (set_of[i] != k)
			i++;
		emit(g, "add set ip %s d%u-%s { type ipv4_addr; flags timeout; }\n", g->table, k,
		     g->name);
		if (port_match(&b, ports_or_cap(&p->allowlist[i].ports, p)) < 0)
			g->r = g->r < 0 ? g->r : -E2BIG;
		ip_rule(g, "ip daddr @d%u-%s %s accept", k, g->name, buf_str(&b));
		ip_rule(g, "ip daddr @d%u-%s icmp type echo-request limit rate 10/second accept", k,
		        g->name);
	}
}

static void rules_allowlist(struct gen *g, const struct net_target *t, const struct net_policy *p)
{
	_cleanup_free_ struct in_addr *all = NULL;
	_cleanup_free_ unsigned *all_prefix = NULL;
	size_t n_all = 0;

	all = calloc(p->n_allowlist + 1, sizeof(*all));
	all_prefix = calloc(p->n_allowlist + 1, sizeof(*all_prefix));
	if (!all || !all_prefix) {
		g->r = -ENOMEM;
		return;
	}
	ip_rule(g, "ct state established,related accept");
	/* DNS goes to the filter (redirected before this chain sees it): to anyone else, never */
	deny(g, "meta l4proto { tcp, udp } th dport 53");
	rules_bridge_subnet(g, t, p);
	rules_hosts(g, p);
	rules_allowed_networks(g, p);
	rules_host_itself(g, p);
	rules_private(g, p);
	if (t->dns_port)
		rules_sets(g, p);
	for (size_t i = 0; i < p->n_allowlist; i++) {
		const struct net_dest *d = &p->allowlist[i];

		if (d->kind != NET_DEST_CIDR)
			continue; /* its set's */
		all[n_all] = d->addr;
		all_prefix[n_all] = d->prefix;
		accept_dest(g, all + n_all, all_prefix + n_all, 1, ports_or_cap(&d->ports, p));
		n_all++;
	}
	if (n_all > 0) {
		_cleanup_buf_ struct buf b = BUF_INIT(RULE_MAX);

		if (addr_set(&b, all, all_prefix, n_all) < 0)
			g->r = -E2BIG;
		ip_rule(g, "ip daddr %s icmp type echo-request limit rate 10/second accept",
		        buf_str(&b));
	}
	deny(g, "");
}

/* ---- removal ---- */

static bool base_chain_ok(enum net_family f, const char *chain)
{
	if (f == NET_FAMILY_IP)
		return strcmp(chain, "forward") == 0 || strcmp(chain, "input") == 0 ||
		       strcmp(chain, "dstnat") == 0;
	return f == NET_FAMILY_BRIDGE && strcmp(chain, "prerouting") == 0;
}

static void remove_base_rules(struct gen *g, const struct net_state *st, const char *owner)
{
	for (size_t i = 0; st && i < st->n_rules; i++) {
		const struct net_state_rule *sr = &st->rules[i];

		if (strcmp(sr->owner, owner) != 0 || !base_chain_ok(sr->family, sr->chain))
			continue;
		emit(g, "delete rule %s %s %s handle %llu\n", family_names[sr->family], g->table,
		     sr->chain, (unsigned long long)sr->handle);
	}
}

/* The chains, then the sets (their rules are gone with the chains). */
static void remove_chains(struct gen *g, const struct net_state *st, const char *owner, bool ip,
                          bool bridge)
{
	for (size_t i = 0; st && i < st->n_chains; i++) {
		const struct net_state_chain *sc = &st->chains[i];
		const char *fam = family_names[sc->family];
		const char *prefix = sc->family == NET_FAMILY_IP ? "ct" : "br";

		if (sc->set || strcmp(sc->owner, owner) != 0 ||
		    !(sc->family == NET_FAMILY_IP ? ip : bridge))
			continue;
		emit(g, "flush chain %s %s %s-%s\n", fam, g->table, prefix, owner);
		emit(g, "delete chain %s %s %s-%s\n", fam, g->table, prefix, owner);
	}
	for (size_t i = 0; ip && st && i < st->n_chains; i++)
		if (st->chains[i].set && strcmp(st->chains[i].owner, owner) == 0)
			emit(g, "delete set ip %s %s\n", g->table, st->chains[i].name);
}

static void remove_owner(struct gen *g, const struct net_state *st, const char *owner)
{
	if (!net_container_name_valid(owner))
		return;
	remove_base_rules(g, st, owner);
	remove_chains(g, st, owner, true, true);
}

/* Every other container whose base rules key on this IPv4 (ip) or veth (bridge): an earlier
 * container that died without cleaning up. Its rules would precede or shadow ours. */
static void remove_stale(struct gen *g, const struct net_state *st, const char *ipv4,
                         const char *veth)
{
	_cleanup_strv_free_ char **stale = NULL;

	for (size_t i = 0; st && i < st->n_rules; i++) {
		const struct net_state_rule *sr = &st->rules[i];
		const char *key = sr->family == NET_FAMILY_IP ? ipv4 : veth;

		if (!sr->owner[0] || strcmp(sr->owner, g->name) == 0 || !key ||
		    strcmp(sr->key, key) != 0 || strv_contains(stale, sr->owner))
			continue;
		if (strv_push(&stale, sr->owner) < 0) {
			g->r = -ENOMEM;
			return;
		}
	}
	strv_foreach(o, stale)
		remove_owner(g, st, *o);
}

/* Another session's rules keyed on an address coi decided before the start are not stale: that
 * session, of another user (each user's picks are apart from another's), picked the same
 * address at the same moment and may already run with it. Removing its rules, as a leased
 * address's stale owner's are, would leave its container with none (the base chains accept),
 * so the address is refused instead and the caller picks another. */
static int pinned_address_free(const struct net_target *t, const struct net_state *st,
                               const char *ipv4, struct coi_error *err)
{
	for (size_t i = 0; t->pinned && st && i < st->n_rules; i++) {
		const struct net_state_rule *sr = &st->rules[i];

		if (sr->family == NET_FAMILY_IP && sr->owner[0] &&
		    strcmp(sr->owner, t->container) != 0 && strcmp(sr->key, ipv4) == 0)
			return coi_error_set(err, -EADDRINUSE, "%s has the rules of '%s'", ipv4,
			                     sr->owner);
	}
	return 0;
}

/* ---- entry points ---- */

static int target_check(const struct net_target *t, bool need_ip, struct coi_error *err)
{
	const char *table = t->table ? t->table : NET_TABLE_DEFAULT;

	if (!net_table_name_valid(table))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid nft table name", table);
	if (!t->container || !net_container_name_valid(t->container))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid container name",
		                     t->container ? t->container : "");
	if (!t->veth || !net_ifname_valid(t->veth))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid interface name",
		                     t->veth ? t->veth : "");
	if (t->log_group < -1 || t->log_group > 65535)
		return coi_error_set(err, -EINVAL, "NFLOG group %d is out of range", t->log_group);
	if (t->gateway.s_addr == INADDR_ANY || t->prefix < 8 || t->prefix > 30)
		return coi_error_set(err, -EINVAL, "the bridge address and prefix are not set");
	if (need_ip && t->ipv4.s_addr == INADDR_ANY)
		return coi_error_set(err, -EINVAL, "the container's IPv4 address is not known");
	return 0;
}

static struct gen gen_for(const struct net_target *t, struct buf *out)
{
	return (struct gen){.out = out,
	                    .table = t->table ? t->table : NET_TABLE_DEFAULT,
	                    .name = t->container,
	                    .log_group = t->log_group};
}

static int gen_done(struct gen *g, struct coi_error *err)
{
	if (g->r < 0)
		return coi_error_set(err, g->r, "cannot generate the nft batch for '%s'",
		                     g->name ? g->name : "coi");
	return 0;
}

/* Create (if missing) and empty a container's chain. */
static void chain_reset(struct gen *g, enum net_family f)
{
	const char *fam = family_names[f], *prefix = f == NET_FAMILY_IP ? "ct" : "br";

	emit(g, "add chain %s %s %s-%s\n", fam, g->table, prefix, g->name);
	emit(g, "flush chain %s %s %s-%s\n", fam, g->table, prefix, g->name);
}

static void bridge_jump(struct gen *g, const char *veth)
{
	emit(g, "add rule bridge %s prerouting iifname \"%s\" jump br-%s comment \"coi:%s\"\n",
	     g->table, veth, g->name, g->name);
}

int net_nft_boot(const struct net_target *t, const struct net_state *st, struct buf *out,
                 struct coi_error *err)
{
	char gw[INET_ADDRSTRLEN];
	struct gen g;
	int r = target_check(t, false, err);

	if (r < 0)
		return r;
	g = gen_for(t, out);
	setup_tables(&g, false);
	remove_stale(&g, st, NULL, t->veth);
	remove_base_rules(&g, st, g.name);
	remove_chains(&g, st, g.name, true, false);
	chain_reset(&g, NET_FAMILY_BRIDGE);
	/* nothing leaves the veth but ARP and DHCP to the bridge until the real rules are in */
	br_rule(&g, "ether type arp accept");
	br_rule(&g, "ip daddr { %s, 255.255.255.255 } udp dport 67 accept", ip4(t->gateway, gw));
	br_rule(&g, "drop");
	bridge_jump(&g, t->veth);
	return gen_done(&g, err);
}

int net_nft_apply(const struct net_target *t, const struct net_policy *p,
                  const struct net_state *st, struct buf *out, struct coi_error *err)
{
	char a[INET_ADDRSTRLEN];
	struct gen g;
	int r = target_check(t, true, err);

	if (r < 0)
		return r;
	if ((int)p->mode < 0 || p->mode >= _NET_MODE_MAX)
		return coi_error_set(err, -EINVAL, "unknown network mode %d", (int)p->mode);
	if (p->watch.enabled && (p->watch.rate < 1 || p->watch.rate > NET_WATCH_RATE_MAX))
		return coi_error_set(err, -EINVAL, "log rate %u is not 1..%d per second",
		                     p->watch.rate, NET_WATCH_RATE_MAX);
	if (p->watch.count && !count_ok(&p->watch))
		return coi_error_set(err, -EINVAL, "egress or DNS limits are not 1..%u",
		                     NET_COUNT_MAX);
	ip4(t->ipv4, a);
	r = pinned_address_free(t, st, a, err);
	if (r < 0)
		return r;
	g = gen_for(t, out);
	setup_tables(&g, t->proxy_port || t->dns_port);
	remove_stale(&g, st, a, t->veth);
	remove_base_rules(&g, st, g.name);
	chain_reset(&g, NET_FAMILY_IP);
	if (p->watch.count && t->log_group >= 0)
		count_rules(&g, &p->watch);
	if (t->proxy_port)
		proxy_rules(&g, t, a);
	if (t->dns_port)
		dns_filter_rules(&g, t, a);
	if (p->watch.enabled && t->log_group >= 0)
		watch_rules(&g, &p->watch, t->dns_port == 0);
	if (p->mode == NET_MODE_RESTRICTED)
		rules_restricted(&g, t, p);
	else if (p->mode == NET_MODE_ALLOWLIST)
		rules_allowlist(&g, t, p);
	else /* open: an explicit accept, and the container is visible in coi's table */
		ip_rule(&g, "accept");
	emit(&g, "add rule ip %s forward ip saddr %s jump ct-%s comment \"coi:%s\"\n", g.table, a,
	     g.name, g.name);
	emit(&g, "add rule ip %s input ip saddr %s jump ct-%s comment \"coi:%s\"\n", g.table, a,
	     g.name, g.name);
	chain_reset(&g, NET_FAMILY_BRIDGE);
	if (p->mode == NET_MODE_OPEN) {
		/* no L2 filtering: drop the boot block (flushed above) and its chain */
		emit(&g, "delete chain bridge %s br-%s\n", g.table, g.name);
		return gen_done(&g, err);
	}
	/* only ARP and IPv4 from the container's own address (DHCP from 0.0.0.0 aside): this drops
	 * IPv6, VLAN-tagged frames and spoofed sources before any IP hook sees them */
	br_rule(&g, "ether type arp accept");
	br_rule(&g, "ip saddr %s accept", a);
	br_rule(&g, "ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp dport 67 accept");
	br_rule(&g, "drop");
	bridge_jump(&g, t->veth);
	return gen_done(&g, err);
}

int net_nft_remove(const char *table, const char *container, const struct net_state *st,
                   struct buf *out, struct coi_error *err)
{
	struct gen g = {.out = out, .table = table ? table : NET_TABLE_DEFAULT, .name = container};

	if (!net_table_name_valid(g.table))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid nft table name", g.table);
	if (!container || !net_container_name_valid(container))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid container name",
		                     container ? container : "");
	remove_owner(&g, st, container);
	return gen_done(&g, err);
}

int net_nft_set_elems(const char *table, const char *container, const struct net_set_elem *e,
                      size_t n, bool adds_only, struct buf *out, struct coi_error *err)
{
	struct gen g = {.out = out, .table = table ? table : NET_TABLE_DEFAULT, .name = container};
	char a[INET_ADDRSTRLEN];

	if (!net_table_name_valid(g.table))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid nft table name", g.table);
	if (!container || !net_container_name_valid(container))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid container name",
		                     container ? container : "");
	for (size_t i = 0; i < n; i++) {
		ip4(e[i].addr, a);
		if (e[i].renew && !adds_only)
			emit(&g, "delete element ip %s d%u-%s { %s }\n", g.table, e[i].set, g.name,
			     a);
		emit(&g, "add element ip %s d%u-%s { %s timeout %us }\n", g.table, e[i].set, g.name,
		     a, e[i].timeout ? e[i].timeout : 1);
	}
	return gen_done(&g, err);
}

int net_nft_purge(const char *table, char *const *live, const struct net_state *st, struct buf *out,
                  struct coi_error *err)
{
	struct gen g = {.out = out, .table = table ? table : NET_TABLE_DEFAULT};
	_cleanup_strv_free_ char **owners = NULL;
	int n = 0;

	if (!net_table_name_valid(g.table))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid nft table name", g.table);
	owners = net_state_owners(st);
	if (!owners)
		return coi_error_oom(err);
	strv_foreach(o, owners) {
		if (strv_contains(live, *o))
			continue;
		remove_owner(&g, st, *o);
		n++;
	}
	return g.r < 0 ? gen_done(&g, err) : n;
}
