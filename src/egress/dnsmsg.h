/* SPDX-License-Identifier: MIT */
/* dnsmsg.h: the DNS messages of coi's DNS filter, read and written with ldns (no hand-written
 * parser): a query from the container (untrusted), the answers coi gives it, and the answer of
 * the upstream resolver (untrusted too), cut down to what the question asked and what the policy
 * lets through. Pure: no I/O, no clock; tests/fuzz/fuzz-dns-filter.c feeds it garbage.
 *
 * Every answer coi writes carries the query's id, its question (byte for byte, so a client's
 * 0x20 case randomisation is kept), RD as asked and RA set. Answers that do not fit the client's
 * limit (512 bytes, or its EDNS size up to DNS_UDP_MAX; 65535 over TCP) are sent truncated
 * (TC, no records), so the client asks again over TCP. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpolicy/netpolicy.h"

struct buf;
struct ldns_struct_rr;

#define DNS_NAME_TEXT_MAX 1024  /* a name in presentation format: 255 bytes, 4 per escape */
#define DNS_UDP_MAX       1232  /* the largest UDP answer coi sends (EDNS, DNS flag day 2020) */
#define DNS_MSG_MAX       65535 /* over TCP */
#define DNS_ANSWER_ADDRS  NET_ADDRS_MAX /* A records kept from one answer */

/* rcodes and types coi names */
enum {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_NOTIMP = 4,
	DNS_REFUSED = 5,
};
enum { DNS_TYPE_A = 1, DNS_TYPE_CNAME = 5, DNS_TYPE_AAAA = 28, DNS_CLASS_IN = 1 };

/* A query as the filter needs it. */
struct dns_query {
	uint16_t id;
	uint16_t qtype, qclass;
	bool rd;
	uint16_t limit; /* the largest answer the client takes over UDP */
	/* as asked, in presentation format without the final dot ("." for the root), printable
	 * ASCII only (ldns escapes the rest as \DDD) */
	char name[DNS_NAME_TEXT_MAX];
	/* lower case, when name is a host name an allowlist entry could match; "" if not */
	char lname[NET_NAME_MAX + 1];
	struct ldns_struct_rr *question; /* owned */
};

/* Reads a query. 0; -EBADMSG when it is not a DNS message at all (drop it); -EPROTO when it is
 * one coi answers with an error instead (not a query, several questions, no question, an opcode
 * other than QUERY): *ret_rcode is FORMERR or NOTIMP, and q holds the id (and the question, when
 * there was one) for dns_reply_rcode(). */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q, int *ret_rcode);
void dns_query_release(struct dns_query *q);

/* The answer rcode with no records (NXDOMAIN, REFUSED, SERVFAIL, NOERROR for "no data"). */
int dns_reply_rcode(const struct dns_query *q, int rcode, bool tcp, struct buf *out);
/* NOERROR with A records for the question's name, each with ttl. */
int dns_reply_addrs(const struct dns_query *q, const struct in_addr *a, size_t n, uint32_t ttl,
                    bool tcp, struct buf *out);

/* What the upstream answer held, for the filter. */
struct dns_result {
	int rcode;
	uint32_t ttl; /* the smallest TTL of the records answered (0 when none) */
	size_t n_records;
	size_t n_addrs; /* the A records answered */
	struct in_addr addrs[DNS_ANSWER_ADDRS];
};

/* Which A records of an answer may be given to the container (the others are left out). */
typedef bool (*dns_addr_ok_fn)(struct in_addr a, void *userdata);

/* The answer to q from the upstream resolver's answer msg: the records of the question's name
 * and of the CNAME chain it starts (at most 16 links), of the question's type or CNAME; every
 * other record, section and owner is dropped, so an upstream server cannot slip in records for
 * names nobody asked about. A records addr_ok refuses are dropped, and at most
 * DNS_ANSWER_ADDRS are kept. Each TTL is capped at ttl_cap. -EBADMSG when msg is not a DNS
 * answer to this question. */
int dns_reply_from_upstream(const struct dns_query *q, const uint8_t *msg, size_t len,
                            uint32_t ttl_cap, dns_addr_ok_fn addr_ok, void *userdata, bool tcp,
                            struct dns_result *ret, struct buf *out);

/* "A", "AAAA", "TXT", ... or "TYPE65" (into buf). */
const char *dns_type_to_string(uint16_t type, char buf[static 16]);
