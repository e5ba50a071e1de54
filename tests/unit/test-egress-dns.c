/* SPDX-License-Identifier: MIT */
/* test-egress-dns.c: the DNS filter's pure parts: reading queries (and refusing what is not
 * one), the answers coi writes, cutting an upstream answer down to the question's chain, the
 * decision for each mode, the set timeouts and the set-entry tracker. Messages are built and
 * read back with ldns, independently of the code under test. tests/unit/dns-filter.t runs the
 * server itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "egress/dnsfilter.h"
#include "egress/dnsmsg.h"
#include "egress/dnsserver.h"
#include "netpolicy/netpolicy.h"
#include "tap.h"
#include "util/buf.h"
#include "util/strv.h"

static struct in_addr A(const char *s) {
	struct in_addr a = {0};

	(void)inet_pton(AF_INET, s, &a);
	return a;
}

/* A query as wire bytes (the caller frees). */
static uint8_t *
query_wire(const char *name, ldns_rr_type type, uint16_t id, uint16_t edns, size_t *len)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;

	if (ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		return NULL;
	ldns_pkt_set_id(p, id);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, edns);
	if (ldns_pkt2wire(&w, p, len) != LDNS_STATUS_OK)
		w = NULL;
	ldns_pkt_free(p);
	return w;
}

static int parse(const char *name, ldns_rr_type type, struct dns_query *q)
{
	size_t len;
	_cleanup_free_ uint8_t *w = query_wire(name, type, 0x1234, 0, &len);
	int rcode;

	return w ? dns_query_parse(w, len, q, &rcode) : -ENOMEM;
}

static ldns_pkt *read_back(const struct buf *b)
{
	ldns_pkt *p = NULL;

	return ldns_wire2pkt(&p, (const uint8_t *)b->data, b->len) == LDNS_STATUS_OK ? p : NULL;
}

static void test_query_parse(void)
{
	struct dns_query q;
	size_t len;
	uint8_t *w;
	int rcode;

	CHECK(parse("Api.Example.COM.", LDNS_RR_TYPE_A, &q) == 0);
	CHECK(q.id == 0x1234 && q.qtype == DNS_TYPE_A && q.qclass == DNS_CLASS_IN && q.rd);
	CHECK_STREQ(q.name, "Api.Example.COM"); /* as asked: its case is kept */
	CHECK_STREQ(q.lname, "api.example.com");
	CHECK(q.limit == 512);
	dns_query_release(&q);
	/* a name no allowlist entry could match: kept for the record, not for matching */
	CHECK(parse("we\\032ird.example.com.", LDNS_RR_TYPE_A, &q) == 0);
	CHECK(strstr(q.name, "\\032") != NULL && q.lname[0] == '\0');
	dns_query_release(&q);
	CHECK(parse(".", LDNS_RR_TYPE_NS, &q) == 0);
	CHECK_STREQ(q.name, ".");
	CHECK(q.lname[0] == '\0');
	dns_query_release(&q);
	/* EDNS: the client's size, capped */
	w = query_wire("a.example.", LDNS_RR_TYPE_A, 7, 4096, &len);
	CHECK(w && dns_query_parse(w, len, &q, &rcode) == 0 && q.limit == DNS_UDP_MAX);
	dns_query_release(&q);
	/* a response is never answered; a short message is not one */
	w[2] |= 0x80;
	CHECK(dns_query_parse(w, len, &q, &rcode) == -EBADMSG);
	dns_query_release(&q);
	w[2] &= 0x7f;
	CHECK(dns_query_parse(w, 11, &q, &rcode) == -EBADMSG);
	/* a header and garbage: FORMERR, with the id */
	CHECK(dns_query_parse(w, 14, &q, &rcode) == -EPROTO && rcode == DNS_FORMERR && q.id == 7);
	dns_query_release(&q);
	/* another opcode: NOTIMP */
	w[2] = (uint8_t)((w[2] & 0x87) | (LDNS_PACKET_STATUS << 3));
	CHECK(dns_query_parse(w, len, &q, &rcode) == -EPROTO && rcode == DNS_NOTIMP);
	dns_query_release(&q);
	/* two questions: FORMERR */
	w[2] = (uint8_t)(w[2] & 0x87);
	w[5] = 2;
	CHECK(dns_query_parse(w, len, &q, &rcode) == -EPROTO && rcode == DNS_FORMERR);
	dns_query_release(&q);
	free(w);
}

static void test_replies(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT(DNS_MSG_MAX + 1);
	struct in_addr a[2] = {A("198.18.0.1"), A("198.18.0.2")};
	struct dns_query q;
	ldns_pkt *p;

	CHECK(parse("Api.Example.com", LDNS_RR_TYPE_A, &q) == 0);
	CHECK(dns_reply_rcode(&q, DNS_NXDOMAIN, false, &b) == 0);
	p = read_back(&b);
	CHECK(p && ldns_pkt_id(p) == 0x1234 && ldns_pkt_qr(p) && ldns_pkt_rd(p) && ldns_pkt_ra(p));
	CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN && ldns_pkt_ancount(p) == 0);
	CHECK(p && ldns_pkt_qdcount(p) == 1 && memcmp(b.data + 12, "\3Api\7Example\3com", 17) == 0);
	ldns_pkt_free(p);
	CHECK(dns_reply_addrs(&q, a, 2, 60, false, &b) == 0);
	p = read_back(&b);
	CHECK(p && ldns_pkt_get_rcode(p) == 0 && ldns_pkt_ancount(p) == 2);
	CHECK(p && ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 1)) == 60);
	ldns_pkt_free(p);
	dns_query_release(&q);
}

/* An upstream answer to "q.example.com A" built from zone-file lines. */
static uint8_t *upstream(const char *const *lines, size_t n, int rcode, size_t *len)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;

	if (ldns_pkt_query_new_frm_str(&p, "q.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
	                               LDNS_RD) != LDNS_STATUS_OK)
		return NULL;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = NULL;
		ldns_pkt_section sec = LDNS_SECTION_ANSWER;
		const char *l = lines[i];

		if (strncmp(l, "ADD ", 4) == 0) {
			sec = LDNS_SECTION_ADDITIONAL;
			l += 4;
		}
		if (ldns_rr_new_frm_str(&rr, l, 0, NULL, NULL) == LDNS_STATUS_OK)
			ldns_pkt_push_rr(p, sec, rr);
	}
	if (ldns_pkt2wire(&w, p, len) != LDNS_STATUS_OK)
		w = NULL;
	ldns_pkt_free(p);
	return w;
}

static bool not_ten(struct in_addr a, void *u)
{
	(void)u;
	return (ntohl(a.s_addr) >> 24) != 10;
}

static void test_from_upstream(void)
{
	static const char *const chain[] = {
	        "q.example.com. 300 IN CNAME c1.cdn.net.",
	        "evil.example.com. 300 IN A 6.6.6.6", /* not asked: never passed on */
	        "c1.cdn.net. 120 IN CNAME c2.cdn.net.",
	        "c2.cdn.net. 90 IN A 198.18.1.1",
	        "c2.cdn.net. 7200 IN A 198.18.1.2",
	        "c2.cdn.net. 90 IN A 10.1.2.3", /* refused by the filter's predicate */
	        "c2.cdn.net. 90 IN AAAA ::1",   /* not the type asked */
	        "ADD c9.cdn.net. 90 IN A 6.6.6.7",
	};
	static const char *const loop[] = {
	        "q.example.com. 60 IN CNAME q.example.com.",
	};
	_cleanup_buf_ struct buf b = BUF_INIT(DNS_MSG_MAX + 1);
	struct dns_result res;
	struct dns_query q, other;
	size_t len;
	uint8_t *w;
	ldns_pkt *p;

	CHECK(parse("Q.example.com", LDNS_RR_TYPE_A, &q) == 0);
	w = upstream(chain, ELEMENTSOF(chain), 0, &len);
	CHECK(w && dns_reply_from_upstream(&q, w, len, 3600, not_ten, NULL, false, &res, &b) == 0);
	CHECK(res.rcode == 0 && res.n_records == 4 && res.n_addrs == 2 && res.ttl == 90);
	CHECK(res.addrs[0].s_addr == A("198.18.1.1").s_addr);
	CHECK(res.addrs[1].s_addr == A("198.18.1.2").s_addr);
	p = read_back(&b);
	CHECK(p && ldns_pkt_ancount(p) == 4 && ldns_pkt_arcount(p) == 0);
	/* the TTL is capped; the question as the client asked it */
	CHECK(p && ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 3)) == 3600);
	CHECK(memcmp(b.data + 12, "\1Q\7example\3com", 15) == 0);
	ldns_pkt_free(p);
	/* an answer to another question is not one */
	CHECK(parse("r.example.com", LDNS_RR_TYPE_A, &other) == 0);
	CHECK(dns_reply_from_upstream(&other, w, len, 3600, NULL, NULL, false, &res, &b) ==
	      -EBADMSG);
	dns_query_release(&other);
	CHECK(dns_reply_from_upstream(&q, w, 11, 3600, NULL, NULL, false, &res, &b) == -EBADMSG);
	free(w);
	/* a CNAME loop ends */
	w = upstream(loop, 1, 0, &len);
	CHECK(w && dns_reply_from_upstream(&q, w, len, 3600, NULL, NULL, false, &res, &b) == 0);
	CHECK(res.n_addrs == 0 && res.n_records == 1);
	free(w);
	/* NXDOMAIN passes through */
	w = upstream(NULL, 0, 3, &len);
	CHECK(w && dns_reply_from_upstream(&q, w, len, 3600, NULL, NULL, false, &res, &b) == 0);
	CHECK(res.rcode == 3 && res.n_records == 0 && res.ttl == 0);
	free(w);
	dns_query_release(&q);
}

static void test_truncation(void)
{
	char **lines = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(DNS_MSG_MAX + 1);
	struct dns_result res;
	struct dns_query q;
	size_t len;
	uint8_t *w;
	ldns_pkt *p;

	for (int i = 0; i < 100; i++) {
		char l[80];

		(void)snprintf(l, sizeof(l), "q.example.com. 60 IN A 198.18.%d.%d", i / 200,
		               i % 200 + 1);
		CHECK(strv_push(&lines, l) == 0);
	}
	w = upstream((const char *const *)lines, 100, 0, &len);
	CHECK(parse("q.example.com", LDNS_RR_TYPE_A, &q) == 0);
	/* over UDP without EDNS: 64 records do not fit in 512 bytes: TC, no records */
	CHECK(w && dns_reply_from_upstream(&q, w, len, 3600, NULL, NULL, false, &res, &b) == 0);
	CHECK(res.n_addrs == DNS_ANSWER_ADDRS);
	p = read_back(&b);
	CHECK(p && ldns_pkt_tc(p) && ldns_pkt_ancount(p) == 0 && b.len <= 512);
	ldns_pkt_free(p);
	/* over TCP: all 64 kept (no more) */
	CHECK(dns_reply_from_upstream(&q, w, len, 3600, NULL, NULL, true, &res, &b) == 0);
	p = read_back(&b);
	CHECK(p && !ldns_pkt_tc(p) && ldns_pkt_ancount(p) == DNS_ANSWER_ADDRS);
	ldns_pkt_free(p);
	dns_query_release(&q);
	free(w);
	strv_free(lines);
}

static void decide(const struct egress_filter *f, const char *name, ldns_rr_type t,
                   struct egress_decision *d)
{
	struct dns_query q;

	*d = (struct egress_decision){.verdict = _EGRESS_VERDICT_MAX};
	if (parse(name, t, &q) == 0)
		egress_filter_decide(f, &q, d);
	dns_query_release(&q);
}

static void test_decide_allowlist(void)
{
	struct net_policy p;
	struct egress_filter f;
	struct egress_decision d;
	char *nas[] = {"nas.lan", NULL};

	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "api.example.com:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "*.example.com", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "10.0.0.0/8", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "pinned.example.org", NULL) == 0);
	CHECK(net_policy_add_host(&p, "192.168.1.5", nas, NULL, 0, NULL) == 0);
	CHECK(egress_filter_init(&f, &p, "198.18.9.9 pinned.example.org\n127.0.0.1 localhost\n", 30,
	                         NULL) == 0);
	CHECK(f.n_sets == 2);
	decide(&f, "API.example.com", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_ALLOW && d.sets == 3 && !d.local); /* both entries match */
	decide(&f, "x.y.example.com", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_ALLOW && d.sets == 2);
	decide(&f, "example.com", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_REFUSE && d.rcode == DNS_NXDOMAIN);
	decide(&f, "example.com.evil.org", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_REFUSE);
	decide(&f, "api.example.com", LDNS_RR_TYPE_AAAA, &d);
	CHECK(d.verdict == EGRESS_EMPTY);
	decide(&f, "api.example.com", LDNS_RR_TYPE_TXT, &d);
	CHECK(d.verdict == EGRESS_FORWARD);
	decide(&f, "unlisted.org", LDNS_RR_TYPE_TXT, &d);
	CHECK(d.verdict == EGRESS_REFUSE && d.rcode == DNS_NXDOMAIN);
	decide(&f, "5.0.0.10.in-addr.arpa", LDNS_RR_TYPE_PTR, &d);
	CHECK(d.verdict == EGRESS_REFUSE);
	/* the host's /etc/hosts, for an allowed name only */
	decide(&f, "pinned.example.org", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_ALLOW && d.local && d.addrs.n == 1 &&
	      d.addrs.a[0].s_addr == A("198.18.9.9").s_addr);
	decide(&f, "localhost", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_REFUSE);
	/* [[network.hosts]] first */
	decide(&f, "NAS.lan", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_LOCAL && d.addrs.n == 1);
	decide(&f, "nas.lan", LDNS_RR_TYPE_AAAA, &d);
	CHECK(d.verdict == EGRESS_EMPTY);
	/* which answered addresses are admitted */
	CHECK(egress_filter_addr_ok(A("93.184.216.34"), &f));
	CHECK(!egress_filter_addr_ok(A("198.18.0.1"), &f)); /* benchmarking: special-purpose */
	CHECK(!egress_filter_addr_ok(A("192.168.1.1"), &f));
	CHECK(!egress_filter_addr_ok(A("127.0.0.1"), &f));
	CHECK(!egress_filter_addr_ok(A("169.254.169.254"), &f));
	/* the set timeout: the TTL within [min, max], plus the grace */
	CHECK(egress_filter_timeout(&f, 0) == 30 + EGRESS_GRACE);
	CHECK(egress_filter_timeout(&f, 300) == 300 + EGRESS_GRACE);
	CHECK(egress_filter_timeout(&f, 86400) == EGRESS_TTL_MAX + EGRESS_GRACE);
	egress_filter_release(&f);
	net_policy_release(&p);
}

static void test_decide_modes(void)
{
	struct net_policy p;
	struct egress_filter f;
	struct egress_decision d;
	struct dns_query q;
	size_t len;
	_cleanup_free_ uint8_t *w = NULL;
	int rcode;

	net_policy_init(&p);
	CHECK(egress_filter_init(&f, &p, NULL, 0, NULL) == 0);
	CHECK(f.ttl_min == 0 && egress_filter_timeout(&f, 0) == EGRESS_GRACE);
	decide(&f, "anything.org", LDNS_RR_TYPE_A, &d);
	CHECK(d.verdict == EGRESS_FORWARD);
	decide(&f, "anything.org", LDNS_RR_TYPE_AAAA, &d);
	CHECK(d.verdict == EGRESS_EMPTY); /* restricted drops IPv6 */
	CHECK(egress_filter_addr_ok(A("192.168.1.1"), &f));
	p.mode = NET_MODE_OPEN;
	decide(&f, "anything.org", LDNS_RR_TYPE_AAAA, &d);
	CHECK(d.verdict == EGRESS_FORWARD);
	/* another class: REFUSED */
	w = query_wire("version.bind.", LDNS_RR_TYPE_TXT, 1, 0, &len);
	CHECK(w != NULL);
	w[len - 1] = LDNS_RR_CLASS_CH;
	CHECK(dns_query_parse(w, len, &q, &rcode) == 0);
	egress_filter_decide(&f, &q, &d);
	CHECK(d.verdict == EGRESS_REFUSE && d.rcode == DNS_REFUSED);
	dns_query_release(&q);
	egress_filter_release(&f);
	net_policy_release(&p);
}

static void test_feed(void)
{
	struct egress_feed *f = NULL;
	struct net_set_elem e[16];
	struct in_addr a[2] = {A("198.18.0.1"), A("198.18.0.2")};

	CHECK(egress_feed_new(&f) == 0);
	/* new: both added, in both sets */
	CHECK(egress_feed_plan(f, 1000, 0x5, 70, a, 2, e) == 4);
	CHECK(e[0].set == 0 && !e[0].renew && e[0].timeout == 70 && e[2].set == 2);
	CHECK(egress_feed_count(f) == 4);
	/* asked again soon: nothing to write */
	CHECK(egress_feed_plan(f, 3000, 0x5, 70, a, 2, e) == 0);
	/* later: renewed (delete and add) */
	CHECK(egress_feed_plan(f, 1000 + (EGRESS_FEED_SLACK + 1) * 1000, 0x1, 70, a, 1, e) == 1);
	CHECK(e[0].renew);
	/* after its end: added again, not renewed */
	CHECK(egress_feed_plan(f, 200000, 0x1, 70, a, 1, e) == 1);
	CHECK(!e[0].renew);
	/* a failed write is forgotten: written again next time */
	egress_feed_forget(f, e, 1);
	CHECK(egress_feed_plan(f, 200001, 0x1, 70, a, 1, e) == 1 && !e[0].renew);
	/* bounded: many more addresses than it tracks still get written */
	for (uint32_t i = 0; i < EGRESS_FEED_MAX * 2; i++) {
		struct in_addr x = {htonl(0xc6120000u + i)};

		if (egress_feed_plan(f, 300000, 0x1, 70, &x, 1, e) != 1) {
			CHECK(!"an address was not written");
			break;
		}
	}
	CHECK(egress_feed_count(f) <= EGRESS_FEED_MAX);
	egress_feed_free(f);
}

static void test_resolvconf(void)
{
	_cleanup_strv_free_ char **l =
	        egress_dns_resolvconf("# x\nsearch lan\nnameserver 10.0.0.1\n"
	                              "nameserver  ::1\nnameserver bogus\n"
	                              "nameserver 10.0.0.1\n");
	_cleanup_strv_free_ char **none = egress_dns_resolvconf("search lan\n");

	CHECK(l && strv_length(l) == 2);
	CHECK(l && strcmp(l[0], "10.0.0.1") == 0 && strcmp(l[1], "::1") == 0);
	CHECK(none && strv_length(none) == 1 && strcmp(none[0], "127.0.0.1") == 0);
}

int main(void)
{
	RUN(test_query_parse);
	RUN(test_replies);
	RUN(test_from_upstream);
	RUN(test_truncation);
	RUN(test_decide_allowlist);
	RUN(test_decide_modes);
	RUN(test_feed);
	RUN(test_resolvconf);
	return tap_done();
}
