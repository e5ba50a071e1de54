/* SPDX-License-Identifier: MIT */
/* policy.c: the policy model and the validation of everything that later goes into nft text or
 * /etc/hosts. Every string accepted here is from a small character set with no quotes, spaces or
 * separators, so the generator can print it as is and nothing can inject nft syntax. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hostname.h"
#include "util/strv.h"

void net_policy_init(struct net_policy *p)
{
	*p = (struct net_policy){
	        .mode = NET_MODE_RESTRICTED,
	        .block_private_networks = true,
	        .block_metadata_endpoint = true,
	        .dns_min_ttl = 60,
	        .watch = {.rate = 100, .dns = true},
	};
}

void net_policy_release(struct net_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_hosts; i++)
		strv_free(p->hosts[i].hostnames);
	free(p->hosts);
	free(p->allowed_networks);
	free(p->allowlist);
	free(p->dns_servers);
	net_policy_init(p);
}

static bool is_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool net_hostname_valid(const char *s)
{
	return hostname_valid(s);
}

bool net_container_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NET_CONTAINER_MAX || !isalnum((unsigned char)s[0]) ||
	    s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool net_ifname_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NET_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

bool net_table_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NET_TABLE_MAX || (!isalpha((unsigned char)s[0]) && s[0] != '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A decimal number of 1..5 digits within [min, max]. */
static int parse_num(const char *s, size_t n, long min, long max, long *ret)
{
	long v = 0;

	if (!is_digits(s, n) || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int port_item_parse(const char *s, size_t n, struct net_port_range *ret,
                           struct coi_error *err)
{
	const char *dash = memchr(s, '-', n);
	long lo, hi;

	if (parse_num(s, dash ? (size_t)(dash - s) : n, 1, 65535, &lo) < 0)
		return coi_error_set(err, -EINVAL, "'%.*s' is not a port (1-65535)", (int)n, s);
	hi = lo;
	if (dash && parse_num(dash + 1, n - (size_t)(dash + 1 - s), 1, 65535, &hi) < 0)
		return coi_error_set(err, -EINVAL, "'%.*s' is not a port range", (int)n, s);
	if (hi < lo)
		return coi_error_set(err, -EINVAL, "port range '%.*s' is reversed", (int)n, s);
	*ret = (struct net_port_range){(uint16_t)lo, (uint16_t)hi};
	return 0;
}

int net_ports_parse(const char *s, struct net_ports *ret, struct coi_error *err)
{
	struct net_ports ports = {0};
	const char *p = s;
	int r;

	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == 0)
			return coi_error_set(err, -EINVAL, "empty port in '%s'", s);
		if (ports.n == NET_PORTS_MAX)
			return coi_error_set(err, -E2BIG, "more than %d ports in '%s'",
			                     NET_PORTS_MAX, s);
		r = port_item_parse(p, n, &ports.r[ports.n], err);
		if (r < 0)
			return r;
		ports.n++;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*ret = ports;
	return 0;
}

/* 0: parsed; 1: not an IPv4 address at all (maybe a name); negative: a bad CIDR (err set). */
static int cidr_parse(const char *host, struct net_dest *d, struct coi_error *err)
{
	const char *slash = strchr(host, '/');
	char addr[INET_ADDRSTRLEN];
	size_t alen = slash ? (size_t)(slash - host) : strlen(host);
	long prefix = 32;

	if (alen >= sizeof(addr))
		return slash ? coi_error_set(err, -EINVAL, "'%s' is not a CIDR", host) : 1;
	memcpy(addr, host, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &d->addr) != 1)
		return slash ? coi_error_set(err, -EINVAL, "'%s' is not a CIDR", host) : 1;
	if (slash && parse_num(slash + 1, strlen(slash + 1), 0, 32, &prefix) < 0)
		return coi_error_set(err, -EINVAL, "'%s' has a bad prefix length (0-32)", host);
	d->prefix = (unsigned)prefix;
	/* 10.1.2.3/8 means 10.0.0.0/8, as Go's net.ParseCIDR (the original) reads it */
	d->addr.s_addr &= prefix ? htonl(~0U << (32 - prefix)) : 0;
	d->kind = NET_DEST_CIDR;
	return 0;
}

static int dest_check_host(const char *host, const char *entry, struct coi_error *err)
{
	if (*host == '\0')
		return coi_error_set(err, -EINVAL, "'%s' has no host", entry);
	if (strchr(host, '*') && (strncmp(host, "*.", 2) != 0 || strchr(host + 1, '*')))
		return coi_error_set(
		        err, -EINVAL,
		        "'%s': a wildcard is a whole first label, as in '*.example.com'", entry);
	return 0;
}

int net_dest_parse(const char *s, struct net_dest *ret, struct coi_error *err)
{
	struct net_dest d = {0};
	char host[NET_NAME_MAX + 2];
	const char *colon;
	size_t hlen;
	int r;

	if (strlen(s) > 512)
		return coi_error_set(err, -EINVAL, "allowlist entry is too long");
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return coi_error_set(err, -EINVAL,
			                     "allowlist entry has a control character");
	if (strstr(s, "://"))
		return coi_error_set(err, -EINVAL, "'%s' is a URL; write the host name only", s);
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
		return coi_error_set(err, -EINVAL, "'%s': IPv6 is not supported", s);
	hlen = colon ? (size_t)(colon - s) : strlen(s);
	if (hlen >= sizeof(host))
		return coi_error_set(err, -EINVAL, "'%.40s...' is too long for a host name", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	r = dest_check_host(host, s, err);
	if (r < 0)
		return r;
	if (colon) {
		r = net_ports_parse(colon + 1, &d.ports, err);
		if (r < 0) {
			(void)coi_error_prefix(err, "'%s'", s);
			return r;
		}
	}
	r = cidr_parse(host, &d, err);
	if (r <= 0) {
		if (r == 0)
			*ret = d;
		return r;
	}
	if (hlen > 1 && host[hlen - 1] == '.')
		host[--hlen] = '\0';
	d.wildcard = host[0] == '*';
	if (d.wildcard) { /* "*.example.com": kept as "example.com" */
		memmove(host, host + 2, hlen - 1);
		hlen -= 2;
	}
	if (!net_hostname_valid(host))
		return coi_error_set(err, -EINVAL, "'%s' is not a host name, IPv4 address or CIDR",
		                     s);
	for (size_t i = 0; i < hlen; i++)
		d.name[i] = (char)tolower((unsigned char)host[i]);
	d.kind = NET_DEST_NAME;
	*ret = d;
	return 0;
}

bool net_dest_match(const struct net_dest *d, const char *qname)
{
	size_t n = strlen(d->name), q = strlen(qname);

	if (d->kind != NET_DEST_NAME)
		return false;
	if (!d->wildcard)
		return strcmp(d->name, qname) == 0;
	return q > n + 1 && qname[q - n - 1] == '.' && strcmp(qname + q - n, d->name) == 0;
}

static bool ports_equal(const struct net_ports *a, const struct net_ports *b)
{
	return a->n == b->n && memcmp(a->r, b->r, a->n * sizeof(a->r[0])) == 0;
}

size_t net_policy_dns_sets(const struct net_policy *p, uint32_t *set_of)
{
	uint32_t n = 0;

	for (size_t i = 0; i < p->n_allowlist; i++) {
		const struct net_dest *d = &p->allowlist[i];
		const struct net_ports *own = d->ports.n ? &d->ports : &p->allowed_ports;

		set_of[i] = NET_SET_NONE;
		if (d->kind != NET_DEST_NAME)
			continue;
		for (size_t j = 0; j < i && set_of[i] == NET_SET_NONE; j++) {
			const struct net_dest *e = &p->allowlist[j];

			if (set_of[j] != NET_SET_NONE &&
			    ports_equal(own, e->ports.n ? &e->ports : &p->allowed_ports))
				set_of[i] = set_of[j];
		}
		if (set_of[i] == NET_SET_NONE)
			set_of[i] = n++;
	}
	return n;
}

int net_ports_format(const struct net_ports *ports, struct buf *out)
{
	int r = 0;

	for (size_t i = 0; i < ports->n && r >= 0; i++) {
		const struct net_port_range *pr = &ports->r[i];

		if (pr->lo == pr->hi)
			r = buf_printf(out, "%s%u", i ? "," : "", pr->lo);
		else
			r = buf_printf(out, "%s%u-%u", i ? "," : "", pr->lo, pr->hi);
	}
	return r;
}

int net_dest_format(const struct net_dest *d, struct buf *out)
{
	char a[INET_ADDRSTRLEN];
	int r;

	if (d->kind == NET_DEST_NAME)
		r = buf_printf(out, "%s%s", d->wildcard ? "*." : "", d->name);
	else if (d->prefix == 32)
		r = buf_puts(out, inet_ntop(AF_INET, &d->addr, a, sizeof(a)));
	else
		r = buf_printf(out, "%s/%u", inet_ntop(AF_INET, &d->addr, a, sizeof(a)), d->prefix);
	if (r < 0 || d->ports.n == 0)
		return r;
	r = buf_putc(out, ':');
	return r < 0 ? r : net_ports_format(&d->ports, out);
}

/* Make room for element n of an array of sz-byte elements, within max. */
static int grow(void *arrp, size_t n, size_t sz, size_t max, struct coi_error *err)
{
	void **arr = arrp, *p;

	if (n >= max)
		return coi_error_set(err, -E2BIG, "more than %zu entries", max);
	p = reallocarray(*arr, n + 1, sz);
	if (!p)
		return coi_error_oom(err);
	*arr = p;
	return 0;
}

int net_policy_add_dest(struct net_policy *p, const char *entry, struct coi_error *err)
{
	struct net_dest d;
	int r = net_dest_parse(entry, &d, err);

	if (r >= 0)
		r = grow(&p->allowlist, p->n_allowlist, sizeof(d), NET_ALLOWLIST_MAX, err);
	if (r < 0)
		return r;
	p->allowlist[p->n_allowlist++] = d;
	return 0;
}

static int ipv4_parse(const char *s, struct in_addr *ret, struct coi_error *err)
{
	if (inet_pton(AF_INET, s, ret) != 1)
		return coi_error_set(err, -EINVAL, "'%s' is not an IPv4 address", s);
	return 0;
}

int net_policy_add_dns_server(struct net_policy *p, const char *ipv4, struct coi_error *err)
{
	struct in_addr a;
	int r = ipv4_parse(ipv4, &a, err);

	if (r >= 0)
		r = grow(&p->dns_servers, p->n_dns_servers, sizeof(a), NET_LIST_MAX, err);
	if (r < 0)
		return r;
	p->dns_servers[p->n_dns_servers++] = a;
	return 0;
}

static int ports_add(struct net_ports *ports, long port, struct coi_error *err)
{
	if (port < 1 || port > 65535)
		return coi_error_set(err, -ERANGE, "%ld is not a port (1-65535)", port);
	if (ports->n == NET_PORTS_MAX)
		return coi_error_set(err, -E2BIG, "more than %d ports", NET_PORTS_MAX);
	ports->r[ports->n++] = (struct net_port_range){(uint16_t)port, (uint16_t)port};
	return 0;
}

int net_policy_add_allowed_port(struct net_policy *p, long port, struct coi_error *err)
{
	return ports_add(&p->allowed_ports, port, err);
}

int net_policy_add_host(struct net_policy *p, const char *ipv4, char *const *hostnames,
                        const long *ports, size_t n_ports, struct coi_error *err)
{
	struct net_host h = {0};
	int r = ipv4_parse(ipv4, &h.addr, err);

	if (r < 0)
		return r;
	if (strv_length(hostnames) > NET_LIST_MAX)
		return coi_error_set(err, -E2BIG, "more than %d hostnames for %s", NET_LIST_MAX,
		                     ipv4);
	for (size_t i = 0; hostnames && hostnames[i]; i++)
		if (!net_hostname_valid(hostnames[i]))
			return coi_error_set(err, -EINVAL, "'%s' is not a host name", hostnames[i]);
	for (size_t i = 0; i < n_ports; i++) {
		r = ports_add(&h.ports, ports[i], err);
		if (r < 0)
			return r;
	}
	r = grow(&p->hosts, p->n_hosts, sizeof(h), NET_LIST_MAX, err);
	if (r < 0)
		return r;
	h.hostnames = strv_copy(hostnames);
	if (!h.hostnames)
		return coi_error_oom(err);
	p->hosts[p->n_hosts++] = h;
	return 0;
}

int net_policy_add_host_text(struct net_policy *p, const char *text, struct coi_error *err)
{
	_cleanup_free_ char *copy = strdup(text);
	_cleanup_strv_free_ char **names = NULL;
	char *eq = copy ? strchr(copy, '=') : NULL, *save = NULL;

	if (!copy)
		return coi_error_oom(err);
	if (!eq)
		return coi_error_set(err, -EINVAL, "'%s' is not IP=NAME[,NAME...]", text);
	*eq = '\0';
	for (char *n = strtok_r(eq + 1, ",", &save); n; n = strtok_r(NULL, ",", &save))
		if (strv_push(&names, n) < 0)
			return coi_error_oom(err);
	return net_policy_add_host(p, copy, names, NULL, 0, err);
}

static bool in_net(struct in_addr a, uint32_t net, unsigned prefix)
{
	uint32_t mask = prefix ? ~0U << (32 - prefix) : 0;

	return (ntohl(a.s_addr) & mask) == net;
}

/* htonl() of a constant, usable in an initializer */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BE32(x) __builtin_bswap32(x)
#else
#define BE32(x) (x)
#endif
#define CIDR(a, b, c, d, len)                                                 \
	{                                                                     \
		{BE32((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))}, len \
	}
const struct net_cidr net_special_ranges[] = {
        CIDR(0, 0, 0, 0, 8),     CIDR(100, 64, 0, 0, 10),   CIDR(127, 0, 0, 0, 8),
        CIDR(192, 0, 0, 0, 24),  CIDR(192, 0, 2, 0, 24),    CIDR(192, 88, 99, 0, 24),
        CIDR(198, 18, 0, 0, 15), CIDR(198, 51, 100, 0, 24), CIDR(203, 0, 113, 0, 24),
        CIDR(240, 0, 0, 0, 4),
};
const size_t net_n_special_ranges = ELEMENTSOF(net_special_ranges);

bool net_cidr_contains(const struct net_cidr *nets, size_t n, struct in_addr a)
{
	for (size_t i = 0; i < n; i++)
		if (in_net(a, ntohl(nets[i].addr.s_addr), nets[i].prefix))
			return true;
	return false;
}

int net_policy_add_allowed_network(struct net_policy *p, const char *cidr, struct coi_error *err)
{
	struct net_dest d;
	int r = net_dest_parse(cidr, &d, err);

	if (r >= 0 && (d.kind != NET_DEST_CIDR || d.ports.n))
		r = coi_error_set(err, -EINVAL, "'%s' is not an IPv4 network (like 100.64.0.0/10)",
		                  cidr);
	if (r >= 0)
		r = grow(&p->allowed_networks, p->n_allowed_networks, sizeof(struct net_cidr),
		         NET_LIST_MAX, err);
	if (r < 0)
		return r;
	p->allowed_networks[p->n_allowed_networks++] = (struct net_cidr){d.addr, d.prefix};
	return 0;
}

static bool addr_is_private(struct in_addr a)
{
	return in_net(a, 0x0a000000, 8) || in_net(a, 0xac100000, 12) || in_net(a, 0xc0a80000, 16);
}

bool net_policy_name_addr_ok(const struct net_policy *p, struct in_addr a)
{
	if (in_net(a, 0, 8) || in_net(a, 0x7f000000, 8) || in_net(a, 0xe0000000, 3))
		return false; /* this-network, loopback, multicast and reserved (224/3) */
	if (net_cidr_contains(p->allowed_networks, p->n_allowed_networks, a))
		return true; /* accepted before the refusals below */
	if (net_cidr_contains(net_special_ranges, net_n_special_ranges, a))
		return false;
	if (p->block_metadata_endpoint && in_net(a, 0xa9fe0000, 16))
		return false;
	if (p->block_private_networks && !p->allow_local_network_access && addr_is_private(a))
		return false;
	return true;
}
