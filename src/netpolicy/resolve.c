/* SPDX-License-Identifier: MIT */
/* resolve.c: allowlist names to IPv4 addresses, on the host. The container never resolves them
 * itself (its DNS is refused in allowlist mode); it gets exactly these addresses through the
 * /etc/hosts lines coi writes, so a name and its firewall rule always agree. The refresh period
 * is the smallest TTL seen (net_resolver_dns reads them; getaddrinfo gives none), floored at
 * NET_REFRESH_FLOOR and capped at refresh_interval_minutes. */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netpolicy/netpolicy.h"
#include "util/error.h"

static int addr_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
	uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);

	return x < y ? -1 : x > y;
}

static void addrs_sort_unique(struct net_addrs *s)
{
	size_t out = 0;

	qsort(s->a, s->n, sizeof(s->a[0]), addr_cmp);
	for (size_t i = 0; i < s->n; i++)
		if (out == 0 || s->a[i].s_addr != s->a[out - 1].s_addr)
			s->a[out++] = s->a[i];
	s->n = out;
}

static int resolve_system(void *userdata, const char *name, struct net_addrs *ret,
                          uint32_t *ret_ttl, struct coi_error *err)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	struct net_addrs s = {0};
	int r;

	r = getaddrinfo(name, NULL, &hints, &res);
	if (r != 0)
		return coi_error_set(err, r == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH,
		                     "cannot resolve '%s': %s", name, gai_strerror(r));
	for (struct addrinfo *ai = res; ai && s.n < NET_ADDRS_MAX; ai = ai->ai_next)
		if (ai->ai_family == AF_INET)
			s.a[s.n++] = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
	freeaddrinfo(res);
	if (s.n == 0)
		return coi_error_set(err, -EHOSTUNREACH, "'%s' has no IPv4 address", name);
	addrs_sort_unique(&s);
	*ret = s;
	*ret_ttl = 0;
	return 0;
}

const struct net_resolver net_resolver_system = {.resolve = resolve_system};

void net_resolution_release(struct net_resolution *r)
{
	if (!r)
		return;
	free(r->sets);
	*r = (struct net_resolution){0};
}

bool net_resolution_equal(const struct net_resolution *a, const struct net_resolution *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct net_addrs *x = &a->sets[i], *y = &b->sets[i];

		if (x->n != y->n || memcmp(x->a, y->a, x->n * sizeof(x->a[0])) != 0)
			return false;
	}
	return true;
}

/* The previous answers for name, if prev resolved the same name. */
static const struct net_addrs *prev_for(const struct net_policy *p,
                                        const struct net_resolution *prev, size_t i)
{
	if (!prev || i >= prev->n || prev->sets[i].n == 0)
		return NULL;
	return &prev->sets[i];
}

int net_resolve(const struct net_policy *p, const struct net_resolver *r,
                const struct net_resolution *prev, struct net_resolution *ret,
                struct coi_error *err)
{
	struct net_resolution res = {.n = p->n_allowlist};
	uint32_t min_ttl = 0;

	res.sets = calloc(p->n_allowlist ? p->n_allowlist : 1, sizeof(res.sets[0]));
	if (!res.sets)
		return coi_error_oom(err);
	for (size_t i = 0; i < p->n_allowlist; i++) {
		const struct net_dest *d = &p->allowlist[i];
		const struct net_addrs *old = prev_for(p, prev, i);
		uint32_t ttl = 0;

		if (d->kind != NET_DEST_NAME)
			continue;
		/* the resolver's own error text is not needed: a failed name is data */
		if (r->resolve(r->userdata, d->name, &res.sets[i], &ttl, NULL) == 0) {
			if (res.sets[i].n > NET_ADDRS_MAX)
				res.sets[i].n = NET_ADDRS_MAX;
			addrs_sort_unique(&res.sets[i]);
			res.sets[i].cached = false;
			if (ttl > 0 && (min_ttl == 0 || ttl < min_ttl))
				min_ttl = ttl;
		} else if (old) {
			res.sets[i] = *old;
			res.sets[i].cached = true;
		} else {
			res.sets[i] = (struct net_addrs){0};
			res.n_failed++;
		}
	}
	res.min_ttl = min_ttl;
	net_resolution_release(ret);
	*ret = res;
	return (int)res.n_failed;
}

unsigned net_refresh_seconds(const struct net_policy *p, const struct net_resolution *r)
{
	unsigned cap = p->refresh_interval_minutes * 60U;

	if (p->mode != NET_MODE_ALLOWLIST || p->refresh_interval_minutes == 0)
		return 0;
	if (p->refresh_interval_minutes > 7 * 24 * 60)
		cap = 7 * 24 * 3600;
	if (r && r->min_ttl > 0 && r->min_ttl < cap)
		return r->min_ttl < NET_REFRESH_FLOOR ? NET_REFRESH_FLOOR : r->min_ttl;
	return cap < NET_REFRESH_FLOOR ? NET_REFRESH_FLOOR : cap;
}
