/* SPDX-License-Identifier: MIT */
/* netpolicy.h: a container's network egress policy and how it becomes host nftables rules.
 *
 * The model (struct net_policy) is what the session fills from the config; the allowlist entries
 * are parsed and validated here. Names in the allowlist are never resolved here: the session's
 * DNS filter (egress/) resolves them when the container asks, and puts their addresses into the
 * container's sets (net_nft_set_elems). A pure generator turns (target, policy, observed state)
 * into one nftables batch; the applier runs it atomically through libnftables (with
 * CAP_NET_ADMIN) or `sudo -n nft -f -`.
 *
 * Objects coi owns, in table T ("coi" unless a test picks another):
 *   ip T      chains forward (hook forward, priority 10) and input (hook input, priority 10),
 *             each holding `ip saddr <IPv4> jump ct-<name>` per container; chain ct-<name> holds
 *             the container's policy (reject with ICMP admin-prohibited, logged to NFLOG).
 *   bridge T  chain prerouting (hook prerouting, priority -200) holding
 *             `iifname "<veth>" jump br-<name>`; chain br-<name> is the boot block before the
 *             real rules, then lets only ARP and IPv4 from the container's own address through
 *             (so IPv6, VLAN frames and spoofed sources are dropped) in restricted/allowlist.
 *   ip T      with a credential proxy (target proxy_port): chain dstnat (hook prerouting,
 *             priority dstnat) holding `ip saddr <IPv4> ip daddr <gateway> tcp dport 443 dnat
 *             to <gateway>:<proxy_port>`; ct-<name> then accepts <gateway>:<proxy_port> first.
 *   ip T      with a DNS filter (target dns_port): chain dstnat (hook prerouting, priority
 *             dstnat) holding `ip saddr <IPv4> ... th dport 53 dnat to <gateway>:<dns_port>`, and
 *             in allowlist mode the sets d<k>-<name> (ipv4_addr, flags timeout) the filter fills.
 * Every rule carries the comment "coi:<name>", so stale rules are found by name.
 *
 * Why two families: with br_netfilter, the ip family's forward and input hooks see the *bridge*
 * as the input interface (verified on this kernel: `iifname "<veth>"` there never matches), so
 * the veth can only be matched in the bridge family, which lacks conntrack and reject here. The
 * bridge family therefore holds the drops keyed by veth (known before boot: fail closed), the ip
 * family the policy keyed by IPv4 (known after DHCP; the bridge chain pins it to the veth).
 *
 * ct-<name>, in order (each refusal is `log prefix "coi-deny:<name> " group N` + reject):
 *   restricted: established/related accept; bridge address accept; DHCP broadcast accept;
 *     refuse bridge subnet, multicast, broadcast (other containers) unless
 *     allow_local_network_access; dns_servers: accept :53 to them, refuse other :53;
 *     [[network.hosts]] accept (their ports, else allowed_ports); allowed_networks accept
 *     (allowed_ports, if any); refuse every other address of the host itself (`fib daddr type
 *     local`) unless allow_local_network_access; RFC1918 accept (allow_local_network_access)
 *     or refuse (block_private_networks); refuse 169.254/16 (block_metadata_endpoint); refuse
 *     the special-purpose ranges (net_special_ranges); allowed_ports: accept those tcp/udp
 *     ports and ICMP echo, refuse the rest; else accept.
 * With a DNS filter, ct-<name> starts with the accept of its port on the gateway (so its traffic
 * is neither logged as a connection nor refused: DNS to any server arrives there, redirected).
 *   allowlist: established/related accept; refuse :53 (DNS, to anyone); bridge address, DHCP,
 *     other containers, [[network.hosts]], allowed_networks, the host's own addresses, RFC1918
 *     accept and the metadata refusal as in restricted (no dns_servers, no RFC1918 refusal: the
 *     final one covers it); accept each entry's addresses (tcp/udp, its ports, else
 *     allowed_ports: an IP or CIDR entry's as written, a name entry's those of its set, filled
 *     by the DNS filter as names are resolved, so without a filter a name reaches nothing);
 *     ICMP echo to them, 10/s; refuse everything else.
 *   open: accept (and no bridge chain: IPv6 passes).
 * With watch.count ([monitoring] enabled), ct-<name> starts with two rules that count and decide
 * nothing: the bytes the container sends (`limit rate over <egress_kbytes_s> kbytes/second burst
 * <egress_burst_kbytes> kbytes`) and its DNS queries (tcp/udp to port 53, `limit rate over
 * <dns_per_minute>/minute burst <dns_per_minute> packets`), each logging at most one packet a
 * second as `coi-bytes:<name> ` / `coi-dnsx:<name> ` while its limit is exceeded.
 * With watch.enabled ([monitoring.nft]), ct-<name> then has two rules that log and decide
 * nothing: every UDP packet to port 53 (a DNS query) as `log prefix "coi-dns:<name> "`, and every
 * other new connection as `log prefix "coi-new:<name> "`, both to the same NFLOG group and each
 * `limit rate <watch.rate>/second` before it logs. Being first, they see what the policy then
 * refuses as well.
 *
 * Lifecycle: net_nft_boot before the container starts (the NIC's host_name fixes the veth name
 * in advance), net_nft_apply once the IPv4 is known (the DNS filter's port with it),
 * net_nft_remove on every exit path, net_nft_purge for `coi clean --orphans`. */
#pragma once

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/netmode.h"

struct buf;
struct coi_error;

#define NET_TABLE_DEFAULT "coi"
#define NET_NAME_MAX      253 /* a DNS name */
#define NET_CONTAINER_MAX 63  /* an Incus instance name */
#define NET_IFNAME_MAX    15  /* IFNAMSIZ - 1 */
#define NET_TABLE_MAX     32
#define NET_PORTS_MAX     64  /* port items in one entry or in allowed_ports */
#define NET_ADDRS_MAX     64  /* addresses kept per name */
#define NET_ALLOWLIST_MAX 512 /* allowlist entries */
#define NET_LIST_MAX      64  /* dns_servers, hosts, hostnames per host */

struct net_port_range {
	uint16_t lo, hi; /* lo == hi for a single port */
};

/* n == 0 means every port. */
struct net_ports {
	size_t n;
	struct net_port_range r[NET_PORTS_MAX];
};

enum net_dest_kind { NET_DEST_NAME, NET_DEST_CIDR };

/* One allowlist entry: "host", "*.host", "host:443", "host:80,443", "1.2.3.4:8000-8100",
 * "10.0.0.0/8". */
struct net_dest {
	enum net_dest_kind kind;
	char name[NET_NAME_MAX + 1]; /* NET_DEST_NAME: lower case, no trailing dot */
	bool wildcard;       /* NET_DEST_NAME "*.name": every name below name (not name itself) */
	struct in_addr addr; /* NET_DEST_CIDR: network address (host bits cleared) */
	unsigned prefix;     /* NET_DEST_CIDR: 0..32; a plain address is /32 */
	struct net_ports ports;
};

/* An IPv4 network: address (host bits cleared) and prefix length 0..32. */
struct net_cidr {
	struct in_addr addr;
	unsigned prefix;
};

/* The IANA special-purpose ranges that are not globally reachable, besides RFC 1918 (10/8,
 * 172.16/12, 192.168/16: block_private_networks), link-local (169.254/16:
 * block_metadata_endpoint) and multicast (224/4): "this network" 0/8 (which Linux routes to
 * the host itself), shared address space 100.64/10 (carrier-grade NAT, Tailscale and other
 * overlay networks: a tailnet), loopback 127/8, IETF protocol assignments 192.0.0/24, the
 * documentation ranges 192.0.2/24, 198.51.100/24 and 203.0.113/24, the retired 6to4 relay
 * 192.88.99/24, benchmarking 198.18/15 (also the fake-IP range of some proxies) and reserved
 * 240/4. Nothing on the internet answers there; a host that routes one has something of its
 * own behind it. Restricted mode refuses them all; allowed_networks opens one. */
extern const struct net_cidr net_special_ranges[];
extern const size_t net_n_special_ranges;

/* A [[network.hosts]] entry: an /etc/hosts line, and reachability through the policy. */
struct net_host {
	struct in_addr addr;
	char **hostnames; /* strv, validated DNS names */
	struct net_ports ports;
};

/* [monitoring.nft]: log lines for the host's monitor (NFLOG), no verdict. */
struct net_watch {
	bool enabled;  /* default false */
	unsigned rate; /* packets logged per second, per rule: 1..NET_WATCH_RATE_MAX (100) */
	bool dns;      /* log each DNS query (UDP port 53) apart from the connections (true) */
	/* [monitoring] enabled: the kernel counts the container's outgoing bytes and DNS queries
	 * against these limits and logs one packet a second while one is exceeded (coi-bytes:,
	 * coi-dnsx:), so the monitor hears of a burst at once, however fast, without sampling */
	bool count;
	unsigned egress_kbytes_s;     /* 1..NET_COUNT_MAX */
	unsigned egress_burst_kbytes; /* 1..NET_COUNT_MAX */
	unsigned dns_per_minute;      /* 1..NET_COUNT_MAX */
};
#define NET_WATCH_RATE_MAX 10000
#define NET_COUNT_MAX      (1u << 30)

struct net_policy {
	enum net_mode mode;
	bool block_private_networks;     /* default true: reject RFC1918 (restricted) */
	bool block_metadata_endpoint;    /* default true: reject 169.254.0.0/16 */
	bool allow_local_network_access; /* default false: accept RFC1918 and the bridge subnet */
	unsigned dns_min_ttl; /* seconds an allowed name's addresses stay at least (default 60) */
	struct net_ports allowed_ports; /* global egress port cap; n == 0: none */
	struct in_addr *dns_servers;    /* restricted: port 53 only to these (and the bridge) */
	size_t n_dns_servers;
	struct net_dest *allowlist; /* allowlist mode: the only reachable destinations */
	size_t n_allowlist;
	struct net_host *hosts;
	size_t n_hosts;
	/* restricted and allowlist: networks reachable despite the default refusals of the host's
	 * own addresses, the special-purpose ranges and the private and metadata ranges (not the
	 * bridge subnet: allow_local_network_access) */
	struct net_cidr *allowed_networks;
	size_t n_allowed_networks;
	struct net_watch watch;
};

/* Defaults as the original's: restricted, block private and metadata. */
void net_policy_init(struct net_policy *p);
void net_policy_release(struct net_policy *p);

/* Parse one allowlist entry. A wildcard is a whole first label ("*.example.com"); other
 * wildcards, URLs, IPv6 and malformed ports are refused with a reason. */
int net_dest_parse(const char *s, struct net_dest *ret, struct coi_error *err);
/* Whether name entry d allows qname (lower case, no trailing dot): the name itself, or for a
 * wildcard any name below it. */
bool net_dest_match(const struct net_dest *d, const char *qname);
/* "name:80,443" / "10.0.0.0/8" / "1.2.3.4:8000-8100" (a /32 is written as the bare address). */
int net_dest_format(const struct net_dest *d, struct buf *out);
/* Parse "443" / "80,443" / "8000-8100" into ret. */
int net_ports_parse(const char *s, struct net_ports *ret, struct coi_error *err);
int net_ports_format(const struct net_ports *ports, struct buf *out);
/* A DNS name as coi accepts it (letters, digits, '-', '_', dots; labels of 1..63). */
bool net_hostname_valid(const char *s);
/* Incus instance names: [A-Za-z0-9-], 1..63, starting with a letter or digit, not ending in '-'. */
bool net_container_name_valid(const char *s);
/* Host-side interface names: [A-Za-z0-9_.-], 1..15, not "." or "..". */
bool net_ifname_valid(const char *s);
/* nft table names coi uses: [A-Za-z_][A-Za-z0-9_]*, up to 32. */
bool net_table_name_valid(const char *s);

/* Builders for the session (each validates; 0 or negative errno with err set). */
int net_policy_add_dest(struct net_policy *p, const char *entry, struct coi_error *err);
int net_policy_add_dns_server(struct net_policy *p, const char *ipv4, struct coi_error *err);
/* "100.64.0.0/10" or an address (a /32). */
int net_policy_add_allowed_network(struct net_policy *p, const char *cidr, struct coi_error *err);
/* Whether a is in one of the n networks. */
bool net_cidr_contains(const struct net_cidr *nets, size_t n, struct in_addr a);
int net_policy_add_allowed_port(struct net_policy *p, long port, struct coi_error *err);
int net_policy_add_host(struct net_policy *p, const char *ipv4, char *const *hostnames,
                        const long *ports, size_t n_ports, struct coi_error *err);
/* "IP=NAME[,NAME...]": a [[network.hosts]] entry without ports, as the DNS filter's options
 * carry it. */
int net_policy_add_host_text(struct net_policy *p, const char *text, struct coi_error *err);

/* Whether an address a name resolved to may be installed: never 0/8, 127/8, multicast or
 * reserved; an address of allowed_networks always; not another special-purpose range; not
 * 169.254/16 when block_metadata_endpoint; not RFC1918 when block_private_networks and not
 * allow_local_network_access (a DNS answer must not open the LAN; list LAN addresses
 * explicitly). */
bool net_policy_name_addr_ok(const struct net_policy *p, struct in_addr a);

/* The DNS filter's nft sets (allowlist mode): the addresses a name entry's names resolve to go
 * into set "d<k>-<container>" of the ip table, k = set_of[entry]; name entries with the same
 * ports (their own, else allowed_ports) share a set. set_of has n_allowlist slots; CIDR entries
 * get NET_SET_NONE. Returns the number of sets. */
#define NET_SET_NONE UINT32_MAX
size_t net_policy_dns_sets(const struct net_policy *p, uint32_t *set_of);

/* A free address for a container on the bridge whose address is gateway/prefix (8..30): the
 * seed's hash (the container name) picks where to start, then the first address that is neither
 * the network's, its broadcast, the gateway nor one of taken; attempt skips that many free ones
 * (another try after the first proved taken). -ENOSPC when none is left, -EINVAL
 * for a prefix out of range. */
int net_pick_address(struct in_addr gateway, unsigned prefix, const char *seed,
                     const struct in_addr *taken, size_t n_taken, unsigned attempt,
                     struct in_addr *ret);

/* ---- addresses ---- */

struct net_addrs {
	size_t n;
	struct in_addr a[NET_ADDRS_MAX];
};

/* The IPv4 addresses hosts-file text gives name (canonical name or alias, any case; comments and
 * IPv6 lines skipped), in file order. 0, or -ENOENT when it has none. */
int net_hosts_lookup(const char *text, const char *name, struct net_addrs *ret);

/* ---- /etc/hosts and descriptions ---- */

#define NET_HOSTS_BEGIN "# coi:begin network"
#define NET_HOSTS_END   "# coi:end network"

/* The block of /etc/hosts lines coi writes: [[network.hosts]] (every mode), between markers. */
int net_hosts_render(const struct net_policy *p, struct buf *out);
/* existing /etc/hosts text with its coi block replaced by block (or block appended). */
int net_hosts_merge(const char *existing, const char *block, struct buf *out);

/* A short human text for the sandbox context file. */
int net_policy_describe(const struct net_policy *p, struct buf *out);
/* The same as JSON (for `coi list --json` and SANDBOX_CONTEXT.json); NULL on OOM. */
json_t *net_policy_to_json(const struct net_policy *p);

/* ---- nftables: target, observed state, batch generation ---- */

struct net_target {
	const char *table;     /* NULL: NET_TABLE_DEFAULT */
	const char *container; /* the coi container name */
	const char *veth; /* host-side veth (set the NIC's host_name so it is known before boot) */
	struct in_addr ipv4; /* the container's address; INADDR_ANY while unknown */
	bool pinned; /* ipv4 was decided by this session before its start, not leased by DHCP:
	                another session's rules keyed on it make net_nft_apply fail with
	                -EADDRINUSE (a session that picked it too) instead of being removed */
	struct in_addr gateway; /* the bridge's address */
	unsigned prefix;        /* the bridge subnet's prefix length */
	int log_group;          /* NFLOG group for denials; -1: no logging */
	uint16_t proxy_port;    /* the credential proxy's port on the gateway; 0: none */
	uint16_t dns_port;      /* the session's DNS filter listens on gateway:dns_port, and the
	                           container's DNS (any server, udp and tcp 53) is redirected to it;
	                           0: none */
};

enum net_family { NET_FAMILY_IP, NET_FAMILY_BRIDGE };

/* A rule coi found in one of its base chains. */
struct net_state_rule {
	enum net_family family;
	char chain[NET_TABLE_MAX + 1]; /* forward, input, prerouting */
	uint64_t handle;
	char owner[NET_CONTAINER_MAX + 1];          /* from the comment "coi:<name>"; "" if none */
	char key[INET_ADDRSTRLEN + NET_IFNAME_MAX]; /* the ip saddr or iifname it matches; "" */
};

/* A per-container chain (ct-<name>, br-<name>) or set (d<k>-<name>, ip only) coi found. */
struct net_state_chain {
	enum net_family family;
	bool set;
	char name[NET_CONTAINER_MAX + 16];
	char owner[NET_CONTAINER_MAX + 1];
};

/* What exists now in coi's tables (from `nft -j list table`). */
struct net_state {
	bool have_ip, have_bridge;
	struct net_state_rule *rules;
	size_t n_rules;
	struct net_state_chain *chains;
	size_t n_chains;
};

void net_state_release(struct net_state *st);
/* Add what one `nft -j list table <family> <table>` output shows; other tables are ignored. */
int net_state_parse(const char *json, size_t len, const char *table, struct net_state *st,
                    struct coi_error *err);
/* Container names owning anything in st (strv, sorted, unique); NULL on OOM. */
char **net_state_owners(const struct net_state *st);

/* Batches (text for `nft -f`), appended to out. st may be NULL (nothing exists yet).
 * boot:   drop everything from the veth but ARP and DHCP to the bridge; removes whatever the
 *         container (or another owner of the same veth) left before. Needs container and veth.
 * apply:  the real rules for the mode; replaces the boot block, the container's previous rules
 *         (a second apply) and any other container's rules keyed on the same IPv4 or veth, in one
 *         transaction. Needs container, veth, ipv4, gateway and prefix.
 * remove: everything of one container.
 * purge:  everything of every container not in live (a strv). */
int net_nft_boot(const struct net_target *t, const struct net_state *st, struct buf *out,
                 struct coi_error *err);
int net_nft_apply(const struct net_target *t, const struct net_policy *p,
                  const struct net_state *st, struct buf *out, struct coi_error *err);
int net_nft_remove(const char *table, const char *container, const struct net_state *st,
                   struct buf *out, struct coi_error *err);
int net_nft_purge(const char *table, char *const *live, const struct net_state *st, struct buf *out,
                  struct coi_error *err);

/* One entry of a DNS filter's set (d<set>-<container>): an address a name resolved to, for
 * timeout seconds. renew: it is in the set already; it is deleted and added again in the same
 * transaction, as a kernel before 6.10 keeps the old timeout when an element is added again. */
struct net_set_elem {
	uint32_t set;
	struct in_addr addr;
	uint32_t timeout;
	bool renew;
};
/* "add element ip T d<k>-<container> { A timeout Ns }" lines (each renew after a "delete
 * element"), appended to out; with adds_only, no deletes. */
int net_nft_set_elems(const char *table, const char *container, const struct net_set_elem *e,
                      size_t n, bool adds_only, struct buf *out, struct coi_error *err);

/* ---- applying ---- */

enum net_backend {
	NET_BACKEND_AUTO, /* libnftables with CAP_NET_ADMIN, else exec */
	NET_BACKEND_LIBNFTABLES,
	NET_BACKEND_EXEC, /* argv + "-f -" with the batch on stdin */
};

struct net_nft {
	enum net_backend backend;
	char *const *argv;    /* exec: NULL means { "sudo", "-n", "nft" } */
	unsigned timeout_sec; /* exec: 0 means 30 */
};

/* True when this process holds CAP_NET_ADMIN (effective). */
bool net_have_cap_net_admin(void);

/* Run an nft script atomically; with json, the output (of list commands) is JSON. out may be
 * NULL. Errors carry nft's own message. */
int net_nft_run(const struct net_nft *n, const char *script, bool json, struct buf *out,
                struct coi_error *err);
/* Whether nft can be used this way at all (`nft list tables`; for sudo: is it allowed without
 * a password). For `coi health` and for failing fast when use_sudo is off. */
int net_nft_probe(const struct net_nft *n, struct coi_error *err);
/* Read coi's tables (missing tables read as empty). */
int net_nft_read_state(const struct net_nft *n, const char *table, struct net_state *ret,
                       struct coi_error *err);

/* The operations the session calls: read state, generate, apply; retried (state re-read) when
 * the batch fails, since another coi may have changed the tables in between. */
int netpolicy_boot_block(const struct net_nft *n, const struct net_target *t,
                         struct coi_error *err);
int netpolicy_apply(const struct net_nft *n, const struct net_target *t, const struct net_policy *p,
                    struct coi_error *err);
int netpolicy_remove(const struct net_nft *n, const char *table, const char *container,
                     struct coi_error *err);
/* Writes set entries in one transaction; when that fails (an entry to renew ended meanwhile),
 * once more with adds only. */
int netpolicy_set_elems(const struct net_nft *n, const char *table, const char *container,
                        const struct net_set_elem *e, size_t n_elems, struct coi_error *err);
/* Returns the number of containers whose rules were removed. */
int netpolicy_purge_orphans(const struct net_nft *n, const char *table, char *const *live,
                            struct coi_error *err);
