/* SPDX-License-Identifier: MIT */
/* dns.c: a resolver that knows TTLs. getaddrinfo hides them, so this one asks the host's
 * configured DNS servers itself (res_nsearch, in glibc's libc since 2.34) for the A records and
 * reads the answer: the addresses of the name asked and of the CNAMEs it leads to, and the
 * smallest TTL among the records used. Records for any other owner are ignored, so a server
 * cannot slip in addresses for names nobody asked about. A name the host's /etc/hosts has is
 * answered from it first, as every other lookup on the host does (nsswitch "files dns"): the name
 * is not sent to a DNS server, and no DNS answer overrides the local entry. When the query fails
 * (no DNS server) it falls back to getaddrinfo, without a TTL. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/path.h"

#define DNS_ANSWER_MAX 65536
#define DNS_RR_MAX     256 /* answer records looked at */
#define CNAME_DEPTH    8

struct rr {
	char owner[NS_MAXDNAME];
	uint16_t type;
	uint32_t ttl;
	struct in_addr a;         /* type A */
	char target[NS_MAXDNAME]; /* type CNAME */
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One resource record at *pos; advances *pos. */
static int read_rr(const uint8_t *msg, size_t len, size_t *pos, struct rr *rr)
{
	int n = dn_expand(msg, msg + len, msg + *pos, rr->owner, sizeof(rr->owner));
	uint16_t rdlen;

	if (n < 0 || *pos + (size_t)n + 10 > len)
		return -EBADMSG;
	*pos += (size_t)n;
	rr->type = get16(msg + *pos);
	rr->ttl = get32(msg + *pos + 4) & 0x7fffffff; /* RFC 2181: the top bit means 0 */
	rdlen = get16(msg + *pos + 8);
	*pos += 10;
	if (*pos + rdlen > len)
		return -EBADMSG;
	if (get16(msg + *pos - 8) != ns_c_in)
		rr->type = 0; /* not class IN: ignore */
	else if (rr->type == ns_t_a && rdlen == 4)
		memcpy(&rr->a, msg + *pos, 4);
	else if (rr->type == ns_t_cname &&
	         dn_expand(msg, msg + len, msg + *pos, rr->target, sizeof(rr->target)) < 0)
		return -EBADMSG;
	else if (rr->type == ns_t_a)
		rr->type = 0; /* an A record of the wrong size */
	*pos += rdlen;
	return 0;
}

/* Follow CNAMEs from the question's name, then take the A records of the chain. */
static int collect(const struct rr *rrs, size_t n, const char *qname, struct net_addrs *ret,
                   uint32_t *ret_ttl)
{
	const char *chain[CNAME_DEPTH + 1] = {qname};
	size_t depth = 1;
	uint32_t ttl = UINT32_MAX;
	struct net_addrs s = {0};

	for (size_t round = 0; round < CNAME_DEPTH; round++)
		for (size_t i = 0; i < n && depth <= CNAME_DEPTH; i++)
			if (rrs[i].type == ns_t_cname &&
			    strcasecmp(rrs[i].owner, chain[depth - 1]) == 0) {
				chain[depth++] = rrs[i].target;
				ttl = rrs[i].ttl < ttl ? rrs[i].ttl : ttl;
				break;
			}
	for (size_t i = 0; i < n && s.n < NET_ADDRS_MAX; i++) {
		bool in_chain = false;

		for (size_t k = 0; k < depth && !in_chain; k++)
			in_chain = strcasecmp(rrs[i].owner, chain[k]) == 0;
		if (rrs[i].type != ns_t_a || !in_chain)
			continue;
		s.a[s.n++] = rrs[i].a;
		ttl = rrs[i].ttl < ttl ? rrs[i].ttl : ttl;
	}
	if (s.n == 0)
		return -ENOENT;
	*ret = s;
	*ret_ttl = ttl;
	return 0;
}

int net_dns_parse_answer(const uint8_t *msg, size_t len, struct net_addrs *ret, uint32_t *ret_ttl)
{
	char qname[NS_MAXDNAME];
	_cleanup_free_ struct rr *rrs = NULL;
	size_t pos = 12, n = 0;
	uint16_t qd, an;
	int r;

	if (len < 12 || len > DNS_ANSWER_MAX)
		return -EBADMSG;
	if ((msg[3] & 0x0f) != 0)
		return -ENOENT; /* rcode: NXDOMAIN, SERVFAIL, ... */
	qd = get16(msg + 4);
	an = get16(msg + 6);
	if (qd != 1)
		return -EBADMSG;
	r = dn_expand(msg, msg + len, msg + pos, qname, sizeof(qname));
	if (r < 0 || pos + (size_t)r + 4 > len)
		return -EBADMSG;
	pos += (size_t)r + 4;
	rrs = calloc(an < DNS_RR_MAX ? an : DNS_RR_MAX, sizeof(*rrs));
	if (!rrs && an > 0)
		return -ENOMEM;
	for (; n < an && n < DNS_RR_MAX; n++) {
		r = read_rr(msg, len, &pos, &rrs[n]);
		if (r < 0)
			return r;
	}
	return collect(rrs, n, qname, ret, ret_ttl);
}

int net_hosts_lookup(const char *text, const char *name, struct net_addrs *ret)
{
	struct net_addrs s = {0};

	for (const char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
		size_t len;
		char copy[1024], *save = NULL, *tok;
		struct in_addr a;

		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (len >= sizeof(copy))
			continue; /* longer than any line coi would use */
		memcpy(copy, line, len);
		copy[len] = '\0';
		copy[strcspn(copy, "#")] = '\0';
		tok = strtok_r(copy, " \t\r", &save);
		if (!tok || inet_pton(AF_INET, tok, &a) != 1)
			continue;
		while ((tok = strtok_r(NULL, " \t\r", &save)))
			if (strcasecmp(tok, name) == 0) {
				if (s.n < NET_ADDRS_MAX)
					s.a[s.n++] = a;
				break;
			}
	}
	if (s.n == 0)
		return -ENOENT;
	*ret = s;
	return 0;
}

static int resolve_dns(void *userdata, const char *name, struct net_addrs *ret, uint32_t *ret_ttl,
                       struct coi_error *err)
{
	struct __res_state rs;
	_cleanup_free_ uint8_t *answer = malloc(DNS_ANSWER_MAX);
	_cleanup_buf_ struct buf hosts = BUF_INIT(1u << 20);
	int n;

	if (!answer)
		return coi_error_oom(err);
	if (read_file("/etc/hosts", &hosts, NULL) >= 0 &&
	    net_hosts_lookup(buf_str(&hosts), name, ret) == 0) {
		*ret_ttl = 0;
		return 0;
	}
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) == 0) {
		n = res_nsearch(&rs, name, ns_c_in, ns_t_a, answer, DNS_ANSWER_MAX);
		res_nclose(&rs);
		if (n > 0 && net_dns_parse_answer(answer, (size_t)n, ret, ret_ttl) == 0)
			return 0;
	}
	return net_resolver_system.resolve(userdata, name, ret, ret_ttl, err);
}

const struct net_resolver net_resolver_dns = {.resolve = resolve_dns};
