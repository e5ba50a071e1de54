/* SPDX-License-Identifier: MIT */
/* fuzz-dns-filter.c: what the DNS filter reads from outside: a query from the container, and an
 * answer from the upstream resolver (the first byte picks which). A query is read or refused,
 * decided on under an allowlist with an exact name, a wildcard and [[network.hosts]], and
 * answered; an upstream answer is cut down to a fixed question's chain. Nothing crashes, every
 * answer written reads back as DNS, and what comes out is bounded. */
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>

#include "egress/dnsfilter.h"
#include "egress/dnsmsg.h"
#include "netpolicy/netpolicy.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct net_policy policy;
static struct egress_filter filter;
static struct dns_query fixed; /* "q.example.com A", for upstream answers */

static void setup(void)
{
	static const uint8_t q[] = {0x12, 0x34, 1,   0,   0,   1,   0,   0,   0,   0,   0,
	                            0,    1,    'q', 7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
	                            3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
	char *names[] = {"nas.lan", NULL};
	int rcode;

	net_policy_init(&policy);
	policy.mode = NET_MODE_ALLOWLIST;
	if (net_policy_add_dest(&policy, "api.example.com:443", NULL) < 0 ||
	    net_policy_add_dest(&policy, "*.example.com", NULL) < 0 ||
	    net_policy_add_host(&policy, "192.168.1.5", names, NULL, 0, NULL) < 0 ||
	    egress_filter_init(&filter, &policy, "198.18.0.9 pinned.example.com\n", 60, NULL) < 0 ||
	    dns_query_parse(q, sizeof(q), &fixed, &rcode) < 0)
		abort();
}

static void reads_back(const struct buf *b)
{
	ldns_pkt *p = NULL;

	if (b->len > DNS_MSG_MAX || ldns_wire2pkt(&p, (const uint8_t *)b->data, b->len) != 0)
		abort();
	ldns_pkt_free(p);
}

static void one_query(const uint8_t *data, size_t size, bool tcp)
{
	_cleanup_buf_ struct buf b = BUF_INIT(DNS_MSG_MAX + 1);
	struct egress_decision d;
	struct dns_query q;
	int rcode, r = dns_query_parse(data, size, &q, &rcode);

	if (r == -EPROTO && dns_reply_rcode(&q, rcode, tcp, &b) == 0)
		reads_back(&b);
	if (r == 0) {
		egress_filter_decide(&filter, &q, &d);
		if (d.verdict >= _EGRESS_VERDICT_MAX || d.addrs.n > NET_ADDRS_MAX ||
		    (d.verdict == EGRESS_ALLOW && !*q.lname))
			abort();
		if (dns_reply_addrs(&q, d.addrs.a, d.addrs.n, 60, tcp, &b) == 0)
			reads_back(&b);
		if (dns_reply_rcode(&q, DNS_NXDOMAIN, tcp, &b) == 0)
			reads_back(&b);
	}
	dns_query_release(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_buf_ struct buf b = BUF_INIT(DNS_MSG_MAX + 1);
	struct dns_result res;

	if (!policy.n_allowlist)
		setup();
	if (size < 1)
		return 0;
	if (data[0] < 0x80) {
		one_query(data + 1, size - 1, data[0] & 1);
		return 0;
	}
	if (dns_reply_from_upstream(&fixed, data + 1, size - 1, 3600, egress_filter_addr_ok,
	                            &filter, data[0] & 1, &res, &b) == 0) {
		if (res.n_addrs > DNS_ANSWER_ADDRS || res.ttl > 3600 || res.n_records < res.n_addrs)
			abort();
		reads_back(&b);
	}
	return 0;
}
