/* SPDX-License-Identifier: MIT */
/* dnsfilter.h: what coi's DNS filter does with each query of the container, and which firewall
 * set entries an answer needs (ARCHITECTURE.md decision 10). Pure: no I/O, no clock (times are
 * passed in), so every decision is unit-tested.
 *
 * The order, for a query of class IN (anything else is REFUSED):
 *  1. a name of [[network.hosts]] is answered from it, in every mode (A: its address; other
 *     types: no records);
 *  2. allowlist: a name no name entry matches (exactly, or below a "*.suffix" wildcard) is
 *     NXDOMAIN and never leaves the host. A matching name: AAAA has no records (IPv6 is
 *     dropped); A is answered from the host's /etc/hosts when it has the name, else asked
 *     upstream, and every address of the answer that net_policy_name_addr_ok() admits goes
 *     into the sets of every entry that matched, for egress_filter_timeout(ttl) seconds, before
 *     the container sees the answer; other types are asked upstream and answered as they are;
 *  3. restricted: AAAA has no records (IPv6 is dropped), everything else is asked upstream;
 *     open: everything is asked upstream. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpolicy/netpolicy.h"

struct coi_error;
struct dns_query;

#define EGRESS_TTL_MAX 3600 /* no address stays longer on one answer */
/* Set entries outlive the answer's TTL by this much: a connection opened as the client's cache
 * of the answer runs out still finds the address in the set. */
#define EGRESS_GRACE      10
#define EGRESS_SETS_MAX   64 /* distinct port lists among the name entries */
#define EGRESS_FEED_SLACK 5  /* an entry is renewed only when it would end this much earlier */

struct egress_filter {
	const struct net_policy *policy; /* borrowed */
	uint32_t *set_of;                /* allowlist entry -> its set (net_policy_dns_sets) */
	size_t n_sets;
	char *hosts;               /* the host's /etc/hosts ("" when none) */
	uint32_t ttl_min, ttl_max; /* ttl_max >= ttl_min */
};

/* hosts_text: the host's /etc/hosts (NULL: none); ttl_min: [network] dns_min_ttl. */
int egress_filter_init(struct egress_filter *f, const struct net_policy *p, const char *hosts_text,
                       uint32_t ttl_min, struct coi_error *err);
void egress_filter_release(struct egress_filter *f);

enum egress_verdict {
	EGRESS_REFUSE,  /* answered with rcode, never leaves the host */
	EGRESS_LOCAL,   /* answered from [[network.hosts]] or the host's /etc/hosts */
	EGRESS_EMPTY,   /* NOERROR, no records */
	EGRESS_FORWARD, /* asked upstream, answered as it is */
	EGRESS_ALLOW,   /* an allowed name's A: asked upstream (or local), addresses fed to sets */
	_EGRESS_VERDICT_MAX,
};
const char *egress_verdict_to_string(enum egress_verdict v);

struct egress_decision {
	enum egress_verdict verdict;
	int rcode;              /* EGRESS_REFUSE: NXDOMAIN or REFUSED */
	uint64_t sets;          /* EGRESS_ALLOW: bit k for set k */
	bool local;             /* EGRESS_ALLOW: answered from the host's /etc/hosts (addrs) */
	struct net_addrs addrs; /* EGRESS_LOCAL, and EGRESS_ALLOW when local */
	const char *why;        /* a short reason, for the record */
};

void egress_filter_decide(const struct egress_filter *f, const struct dns_query *q,
                          struct egress_decision *ret);

/* Whether an answered address may be given to the container and put in a set (allowlist:
 * net_policy_name_addr_ok(); other modes: every address). userdata: the filter. */
bool egress_filter_addr_ok(struct in_addr a, void *filter);

/* Seconds an answer's addresses stay in the sets: ttl within [ttl_min, ttl_max], plus the grace.
 */
uint32_t egress_filter_timeout(const struct egress_filter *f, uint32_t ttl);

/* ---- which set entries an answer needs ----------------------------------------------------- */

/* The entries coi put in the sets and when they end (by its clock), so a name asked again and
 * again does not cost a firewall transaction each time. Bounded: when full, expired entries
 * are dropped, and an entry that finds no room is still added to the set (only not tracked). */
#define EGRESS_FEED_MAX 16384

struct egress_feed;
int egress_feed_new(struct egress_feed **ret);
struct egress_feed *egress_feed_free(struct egress_feed *f);

/* For an answer (addresses a, fed to the sets in mask for timeout seconds at now_ms): the
 * entries to write into out (room for n * popcount(sets)), and their new end recorded. An entry
 * that will still last until EGRESS_FEED_SLACK seconds before the new end is left as it is.
 * Returns the count. */
size_t egress_feed_plan(struct egress_feed *f, uint64_t now_ms, uint64_t sets, uint32_t timeout,
                        const struct in_addr *a, size_t n, struct net_set_elem *out);
/* The write of these entries failed: forget them, so the next answer writes them again. */
void egress_feed_forget(struct egress_feed *f, const struct net_set_elem *e, size_t n);
/* Entries tracked now (for the bench's memory bound). */
size_t egress_feed_count(const struct egress_feed *f);
