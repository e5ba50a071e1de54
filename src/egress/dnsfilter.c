/* SPDX-License-Identifier: MIT */
/* dnsfilter.c: see dnsfilter.h. */
#include "egress/dnsfilter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/dnsmsg.h"
#include "util/error.h"
#include "util/strv.h"

static const char *const verdicts[] = {
        [EGRESS_REFUSE] = "refused",    [EGRESS_LOCAL] = "local",   [EGRESS_EMPTY] = "empty",
        [EGRESS_FORWARD] = "forwarded", [EGRESS_ALLOW] = "allowed",
};

const char *egress_verdict_to_string(enum egress_verdict v)
{
	return (unsigned)v < _EGRESS_VERDICT_MAX ? verdicts[v] : "unknown";
}

int egress_filter_init(struct egress_filter *f, const struct net_policy *p, const char *hosts_text,
                       uint32_t ttl_min, struct coi_error *err)
{
	*f = (struct egress_filter){.policy = p, .ttl_min = ttl_min};
	f->ttl_max = f->ttl_min > EGRESS_TTL_MAX ? f->ttl_min : EGRESS_TTL_MAX;
	f->set_of = calloc(p->n_allowlist + 1, sizeof(*f->set_of));
	f->hosts = strdup(hosts_text ? hosts_text : "");
	if (!f->set_of || !f->hosts) {
		egress_filter_release(f);
		return coi_error_oom(err);
	}
	f->n_sets = net_policy_dns_sets(p, f->set_of);
	if (f->n_sets > EGRESS_SETS_MAX) {
		egress_filter_release(f);
		return coi_error_set(err, -E2BIG,
		                     "the allowlist's names have more than %d different port lists",
		                     EGRESS_SETS_MAX);
	}
	return 0;
}

void egress_filter_release(struct egress_filter *f)
{
	if (!f)
		return;
	free(f->set_of);
	free(f->hosts);
	*f = (struct egress_filter){0};
}

bool egress_filter_addr_ok(struct in_addr a, void *filter)
{
	const struct egress_filter *f = filter;

	return f->policy->mode != NET_MODE_ALLOWLIST || net_policy_name_addr_ok(f->policy, a);
}

uint32_t egress_filter_timeout(const struct egress_filter *f, uint32_t ttl)
{
	uint32_t t = ttl < f->ttl_min ? f->ttl_min : ttl > f->ttl_max ? f->ttl_max : ttl;

	return t + EGRESS_GRACE;
}

/* [[network.hosts]]: the entry naming q, or NULL. */
static const struct net_host *static_host(const struct net_policy *p, const char *lname)
{
	for (size_t i = 0; *lname && i < p->n_hosts; i++)
		strv_foreach(n, p->hosts[i].hostnames)
			if (strcasecmp(*n, lname) == 0)
				return &p->hosts[i];
	return NULL;
}

static void decide_allowlist(const struct egress_filter *f, const struct dns_query *q,
                             struct egress_decision *d)
{
	const struct net_policy *p = f->policy;

	for (size_t i = 0; *q->lname && i < p->n_allowlist; i++)
		if (net_dest_match(&p->allowlist[i], q->lname))
			d->sets |= 1ull << f->set_of[i];
	if (!d->sets) {
		*d = (struct egress_decision){
		        .verdict = EGRESS_REFUSE, .rcode = DNS_NXDOMAIN, .why = "not allowed"};
		return;
	}
	if (q->qtype == DNS_TYPE_AAAA) {
		*d = (struct egress_decision){.verdict = EGRESS_EMPTY, .why = "IPv6 is dropped"};
		return;
	}
	if (q->qtype != DNS_TYPE_A) {
		*d = (struct egress_decision){.verdict = EGRESS_FORWARD, .why = "allowed"};
		return;
	}
	d->verdict = EGRESS_ALLOW;
	d->why = "allowed";
	/* the host's /etc/hosts first, as every lookup on the host does ("files dns") */
	if (net_hosts_lookup(f->hosts, q->lname, &d->addrs) == 0) {
		d->local = true;
		d->why = "allowed, the host's /etc/hosts";
	}
}

void egress_filter_decide(const struct egress_filter *f, const struct dns_query *q,
                          struct egress_decision *ret)
{
	const struct net_host *h = static_host(f->policy, q->lname);
	struct egress_decision d = {0};

	if (q->qclass != DNS_CLASS_IN) {
		d = (struct egress_decision){
		        .verdict = EGRESS_REFUSE, .rcode = DNS_REFUSED, .why = "class is not IN"};
	} else if (h && q->qtype == DNS_TYPE_A) {
		d = (struct egress_decision){.verdict = EGRESS_LOCAL, .why = "[[network.hosts]]"};
		d.addrs.n = 1;
		d.addrs.a[0] = h->addr;
	} else if (h) {
		d = (struct egress_decision){.verdict = EGRESS_EMPTY, .why = "[[network.hosts]]"};
	} else if (f->policy->mode == NET_MODE_ALLOWLIST) {
		decide_allowlist(f, q, &d);
	} else if (f->policy->mode == NET_MODE_RESTRICTED && q->qtype == DNS_TYPE_AAAA) {
		d = (struct egress_decision){.verdict = EGRESS_EMPTY, .why = "IPv6 is dropped"};
	} else {
		d = (struct egress_decision){.verdict = EGRESS_FORWARD, .why = "forwarded"};
	}
	*ret = d;
}

/* ---- the feed ----------------------------------------------------------------------------- */

/* Open addressing on (set, addr); end 0 is a free slot. */
struct feed_slot {
	uint32_t addr; /* network order */
	uint32_t set;
	uint64_t end_ms;
};

struct egress_feed {
	size_t n;
	struct feed_slot slot[EGRESS_FEED_MAX];
	struct feed_slot keep[EGRESS_FEED_MAX]; /* feed_sweep's */
};

int egress_feed_new(struct egress_feed **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

struct egress_feed *egress_feed_free(struct egress_feed *f)
{
	free(f);
	return NULL;
}

size_t egress_feed_count(const struct egress_feed *f)
{
	return f->n;
}

static size_t slot_hash(uint32_t set, struct in_addr a)
{
	uint64_t h = ((uint64_t)set << 32 | a.s_addr) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) % EGRESS_FEED_MAX;
}

/* Drops entries that ended (the kernel dropped them too): rebuilt, as removal from open
 * addressing would break the probe chains. */
static void feed_sweep(struct egress_feed *f, uint64_t now_ms)
{
	struct feed_slot *keep = f->keep;
	size_t n = 0;

	for (size_t i = 0; i < EGRESS_FEED_MAX; i++)
		if (f->slot[i].end_ms > now_ms)
			keep[n++] = f->slot[i];
	memset(f->slot, 0, sizeof(f->slot));
	f->n = 0;
	for (size_t i = 0; i < n; i++) {
		size_t h = slot_hash(keep[i].set, (struct in_addr){keep[i].addr});

		while (f->slot[h].end_ms)
			h = (h + 1) % EGRESS_FEED_MAX;
		f->slot[h] = keep[i];
		f->n++;
	}
}

/* The slot of (set, a), or a free one for it; NULL when full. */
static struct feed_slot *feed_find(struct egress_feed *f, uint32_t set, struct in_addr a)
{
	size_t h = slot_hash(set, a);

	for (size_t i = 0; i < EGRESS_FEED_MAX; i++, h = (h + 1) % EGRESS_FEED_MAX) {
		struct feed_slot *s = &f->slot[h];

		if (!s->end_ms || (s->set == set && s->addr == a.s_addr))
			return s;
	}
	return NULL;
}

size_t egress_feed_plan(struct egress_feed *f, uint64_t now_ms, uint64_t sets, uint32_t timeout,
                        const struct in_addr *a, size_t n, struct net_set_elem *out)
{
	uint64_t end = now_ms + (uint64_t)timeout * 1000;
	size_t k = 0;

	/* keep the table at most 3/4 full, so probes stay short */
	if (f->n + n * (size_t)__builtin_popcountll(sets) > EGRESS_FEED_MAX * 3 / 4)
		feed_sweep(f, now_ms);
	for (uint32_t set = 0; set < 64; set++) {
		if (!(sets >> set & 1))
			continue;
		for (size_t i = 0; i < n; i++) {
			struct feed_slot *s =
			        f->n < EGRESS_FEED_MAX * 7 / 8 ? feed_find(f, set, a[i]) : NULL;
			bool live = s && s->end_ms > now_ms;

			if (live && s->end_ms + (uint64_t)EGRESS_FEED_SLACK * 1000 >= end)
				continue; /* lasts long enough as it is */
			out[k++] = (struct net_set_elem){set, a[i], timeout, live};
			if (!s)
				continue;
			if (!s->end_ms)
				f->n++;
			*s = (struct feed_slot){a[i].s_addr, set, end};
		}
	}
	return k;
}

void egress_feed_forget(struct egress_feed *f, const struct net_set_elem *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct feed_slot *s = feed_find(f, e[i].set, e[i].addr);

		if (s && s->end_ms)
			s->end_ms =
			        1; /* ended: written again next time, dropped at the next sweep */
	}
}
