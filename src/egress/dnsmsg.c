/* SPDX-License-Identifier: MIT */
/* dnsmsg.c: see dnsmsg.h. ldns objects never leave this file but for the query's question. */
#include "egress/dnsmsg.h"

#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

#define CHAIN_MAX 16 /* CNAME links followed */

static void pkt_freep(ldns_pkt **p)
{
	ldns_pkt_free(*p);
}
#define _cleanup_pkt_ _cleanup_(pkt_freep)

void dns_query_release(struct dns_query *q)
{
	if (!q)
		return;
	ldns_rr_free(q->question);
	q->question = NULL;
}

/* The name as text: ldns's presentation format (non-printable bytes as \DDD), no final dot. */
static int name_text(const ldns_rdf *owner, char *out, size_t size)
{
	_cleanup_free_ char *s = ldns_rdf2str(owner);
	size_t n;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n >= size)
		return -EBADMSG;
	memcpy(out, s, n + 1);
	return 0;
}

/* The lower-case form an allowlist entry could match: a host name, nothing escaped. */
static void match_name(const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	if (n >= size || strchr(name, '\\') || !net_hostname_valid(name))
		return;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
}

static int read_question(const ldns_pkt *pkt, struct dns_query *q)
{
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	int r;

	if (!rr || !ldns_rr_owner(rr))
		return -EBADMSG;
	r = name_text(ldns_rr_owner(rr), q->name, sizeof(q->name));
	if (r < 0)
		return r;
	match_name(q->name, q->lname, sizeof(q->lname));
	q->qtype = (uint16_t)ldns_rr_get_type(rr);
	q->qclass = (uint16_t)ldns_rr_get_class(rr);
	q->question = ldns_rr_clone(rr);
	return q->question ? 0 : -ENOMEM;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q, int *ret_rcode)
{
	_cleanup_pkt_ ldns_pkt *pkt = NULL;
	uint16_t edns;
	int r;

	*q = (struct dns_query){.limit = 512};
	*ret_rcode = DNS_NOERROR;
	if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE(msg))
		return -EBADMSG; /* not a message, or an answer: never answered */
	q->id = LDNS_ID_WIRE(msg);
	q->rd = LDNS_RD_WIRE(msg);
	if (ldns_wire2pkt(&pkt, msg, len) != LDNS_STATUS_OK) {
		*ret_rcode = DNS_FORMERR;
		return -EPROTO;
	}
	edns = ldns_pkt_edns_udp_size(pkt);
	if (edns > 512)
		q->limit = edns < DNS_UDP_MAX ? edns : DNS_UDP_MAX;
	if (ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) {
		*ret_rcode = DNS_NOTIMP;
		return -EPROTO;
	}
	if (ldns_pkt_qdcount(pkt) != 1) {
		*ret_rcode = DNS_FORMERR;
		return -EPROTO;
	}
	r = read_question(pkt, q);
	if (r == -EBADMSG) {
		*ret_rcode = DNS_FORMERR;
		return -EPROTO;
	}
	return r;
}

/* ---- answers ------------------------------------------------------------------------------ */

static ldns_pkt *reply_new(const struct dns_query *q, int rcode)
{
	ldns_pkt *p = ldns_pkt_new();

	if (!p)
		return NULL;
	ldns_pkt_set_id(p, q->id);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(p, q->rd);
	ldns_pkt_set_ra(p, true);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	if (q->limit > 512)
		ldns_pkt_set_edns_udp_size(p, DNS_UDP_MAX);
	if (q->question) {
		ldns_rr *qr = ldns_rr_clone(q->question);

		if (!qr || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qr)) {
			ldns_rr_free(qr);
			ldns_pkt_free(p);
			return NULL;
		}
	}
	return p;
}

static int wire_out(const ldns_pkt *p, size_t limit, struct buf *out)
{
	_cleanup_free_ uint8_t *wire = NULL;
	size_t size = 0;

	if (ldns_pkt2wire(&wire, p, &size) != LDNS_STATUS_OK || !wire)
		return -ENOMEM;
	if (size > limit)
		return -E2BIG;
	buf_reset(out);
	return buf_append(out, wire, size);
}

/* p, or when it is too big for the client, the same answer truncated (TC, no records). */
static int reply_write(const ldns_pkt *p, const struct dns_query *q, bool tcp, struct buf *out)
{
	_cleanup_pkt_ ldns_pkt *tc = NULL;
	int r = wire_out(p, tcp ? DNS_MSG_MAX : q->limit, out);

	if (r != -E2BIG)
		return r;
	tc = reply_new(q, ldns_pkt_get_rcode(p));
	if (!tc)
		return -ENOMEM;
	ldns_pkt_set_tc(tc, true);
	return wire_out(tc, tcp ? DNS_MSG_MAX : q->limit, out);
}

int dns_reply_rcode(const struct dns_query *q, int rcode, bool tcp, struct buf *out)
{
	_cleanup_pkt_ ldns_pkt *p = reply_new(q, rcode);

	return p ? reply_write(p, q, tcp, out) : -ENOMEM;
}

static ldns_rr *a_record(const ldns_rdf *owner, struct in_addr a, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *owner2 = ldns_rdf_clone(owner);
	ldns_rdf *data = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof(a), &a);

	if (!rr || !owner2 || !data || !ldns_rr_push_rdf(rr, data)) {
		/* rr owns data only once the push succeeded */
		ldns_rr_free(rr);
		ldns_rdf_deep_free(owner2);
		ldns_rdf_deep_free(data);
		return NULL;
	}
	ldns_rr_set_owner(rr, owner2);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	return rr;
}

int dns_reply_addrs(const struct dns_query *q, const struct in_addr *a, size_t n, uint32_t ttl,
                    bool tcp, struct buf *out)
{
	_cleanup_pkt_ ldns_pkt *p = reply_new(q, DNS_NOERROR);

	if (!p || !q->question)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = a_record(ldns_rr_owner(q->question), a[i], ttl);

		if (!rr || !ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr)) {
			ldns_rr_free(rr);
			return -ENOMEM;
		}
	}
	return reply_write(p, q, tcp, out);
}

/* ---- the upstream answer ----------------------------------------------------------------- */

struct chain {
	const struct dns_query *q;
	uint32_t ttl_cap;
	dns_addr_ok_fn addr_ok;
	void *userdata;
	ldns_pkt *reply;
	struct dns_result *res;
};

static bool type_wanted(const struct chain *c, ldns_rr_type t)
{
	return t == (ldns_rr_type)c->q->qtype || c->q->qtype == LDNS_RR_TYPE_ANY;
}

/* Adds a copy of rr to the answer (its TTL capped); A records only when allowed and room. */
static int chain_add(struct chain *c, const ldns_rr *rr)
{
	struct dns_result *res = c->res;
	ldns_rr *copy;
	uint32_t ttl = ldns_rr_ttl(rr) & 0x7fffffff; /* RFC 2181: the top bit means 0 */

	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A) {
		const ldns_rdf *d = ldns_rr_rdf(rr, 0);
		struct in_addr a;

		if (!d || ldns_rdf_size(d) != sizeof(a))
			return 0;
		memcpy(&a, ldns_rdf_data(d), sizeof(a));
		if (res->n_addrs == DNS_ANSWER_ADDRS || (c->addr_ok && !c->addr_ok(a, c->userdata)))
			return 0;
		res->addrs[res->n_addrs++] = a;
	}
	copy = ldns_rr_clone(rr);
	if (!copy)
		return -ENOMEM;
	ldns_rr_set_ttl(copy, ttl < c->ttl_cap ? ttl : c->ttl_cap);
	if (!ldns_pkt_push_rr(c->reply, LDNS_SECTION_ANSWER, copy)) {
		ldns_rr_free(copy);
		return -ENOMEM;
	}
	if (res->n_records++ == 0 || ldns_rr_ttl(copy) < res->ttl)
		res->ttl = ldns_rr_ttl(copy);
	return 0;
}

/* The records of the question's type at owner, then its CNAME (whose target is the next
 * owner, returned). NULL at the end of the chain. */
static const ldns_rdf *chain_link(struct chain *c, const ldns_rr_list *answer,
                                  const ldns_rdf *owner, int *r)
{
	const ldns_rdf *next = NULL;

	for (size_t i = 0; i < ldns_rr_list_rr_count(answer) && *r >= 0; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);

		if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (type_wanted(c, ldns_rr_get_type(rr)))
			*r = chain_add(c, rr);
		else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && !next &&
		         ldns_rr_rdf(rr, 0) &&
		         ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) == LDNS_RDF_TYPE_DNAME) {
			*r = chain_add(c, rr);
			next = ldns_rr_rdf(rr, 0);
		}
	}
	return *r < 0 ? NULL : next;
}

/* From the question's name along its CNAMEs, each owner once. */
static void chain_follow(struct chain *c, const ldns_rr_list *answer, const ldns_rdf *owner, int *r)
{
	const ldns_rdf *seen[CHAIN_MAX + 1];
	size_t n = 0;

	while (owner && n < ELEMENTSOF(seen) && *r >= 0) {
		for (size_t i = 0; i < n; i++)
			if (ldns_dname_compare(seen[i], owner) == 0)
				return; /* a loop */
		seen[n++] = owner;
		owner = chain_link(c, answer, owner, r);
	}
}

/* Whether the upstream message is an answer to this question. */
static bool answers(const ldns_pkt *up, const struct dns_query *q)
{
	const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_question(up), 0);

	return ldns_pkt_qr(up) && ldns_pkt_qdcount(up) == 1 && rr && q->question &&
	       ldns_rr_get_type(rr) == (ldns_rr_type)q->qtype &&
	       ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(q->question)) == 0;
}

int dns_reply_from_upstream(const struct dns_query *q, const uint8_t *msg, size_t len,
                            uint32_t ttl_cap, dns_addr_ok_fn addr_ok, void *userdata, bool tcp,
                            struct dns_result *ret, struct buf *out)
{
	_cleanup_pkt_ ldns_pkt *up = NULL, *reply = NULL;
	struct dns_result res = {0};
	struct chain c = {q, ttl_cap, addr_ok, userdata, NULL, &res};
	const ldns_rdf *owner;
	int r = 0;

	if (ldns_wire2pkt(&up, msg, len) != LDNS_STATUS_OK || !answers(up, q))
		return -EBADMSG;
	res.rcode = ldns_pkt_get_rcode(up);
	reply = c.reply = reply_new(q, res.rcode);
	if (!reply)
		return -ENOMEM;
	owner = ldns_rr_owner(q->question);
	if (q->qtype == LDNS_RR_TYPE_CNAME) /* the CNAME itself is what was asked */
		(void)chain_link(&c, ldns_pkt_answer(up), owner, &r);
	else
		chain_follow(&c, ldns_pkt_answer(up), owner, &r);
	if (r >= 0)
		r = reply_write(reply, q, tcp, out);
	if (r >= 0)
		*ret = res;
	return r;
}

const char *dns_type_to_string(uint16_t type, char buf[static 16])
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	if (d && d->_name && strlen(d->_name) < 16)
		return strcpy(buf, d->_name);
	(void)snprintf(buf, 16, "TYPE%u", type);
	return buf;
}
