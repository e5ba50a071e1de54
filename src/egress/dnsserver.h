/* SPDX-License-Identifier: MIT */
/* dnsserver.h: coi's DNS filter for one container (ARCHITECTURE.md decision 10). It listens on
 * UDP and TCP on the bridge address, where the container's nft rules redirect every DNS query it
 * sends (to any server, port 53); it answers only the container's own address. What it does
 * with each query is dnsfilter.h's; the names it lets out are resolved upstream through
 * libunbound (forwarding only: to [network] dns_servers, or the host's resolvers: random ids and
 * ports, retries, TCP on truncation, a bounded cache), and an allowed name's addresses enter the
 * container's nft sets (netpolicy_set_elems) before the container gets the answer. A query that
 * cannot be answered within EGRESS_QUERY_TIMEOUT_MS gets SERVFAIL.
 *
 * One process, one epoll loop; libunbound works in a thread of its own and hands results over a
 * pipe. Bounded: at most EGRESS_PENDING_MAX queries upstream at a time (the listeners are not
 * read meanwhile, so queries wait in the socket instead of being dropped), EGRESS_TCP_MAX TCP
 * clients of at most one message each way buffered, libunbound's cache of a few MB, and the set
 * entries tracked (dnsfilter.h).
 *
 * Fails closed: the container's DNS reaches nothing else, so when this process is gone no name
 * resolves; the set entries it wrote end with their timeouts. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "egress/dnsfilter.h"
#include "egress/dnsmsg.h"

struct coi_error;
struct net_nft;
struct net_policy;

#define EGRESS_PENDING_MAX      256
#define EGRESS_TCP_MAX          32
#define EGRESS_QUERY_TIMEOUT_MS 5000
#define EGRESS_TCP_IDLE_MS      10000
#define EGRESS_RECORD_ADDRS     8

/* What happened to one query (for the audit log and the monitor). */
struct egress_dns_record {
	enum egress_verdict verdict;
	int rcode;      /* of the answer given */
	uint16_t qtype; /* 0 for a message that had no question */
	bool tcp;
	char why[48];     /* a short reason */
	uint32_t ttl;     /* of the answer: the smallest of its records */
	uint32_t timeout; /* EGRESS_ALLOW: seconds its addresses stay in the sets */
	size_t n_addrs;   /* addresses answered (the first EGRESS_RECORD_ADDRS kept) */
	struct in_addr addrs[EGRESS_RECORD_ADDRS];
	double ms; /* from the query to its answer */
	char name[DNS_NAME_TEXT_MAX];
};

struct egress_dns_opts {
	const char *container;           /* whose sets (d<k>-<container>) */
	const char *table;               /* NULL: NET_TABLE_DEFAULT */
	const struct net_nft *nft;       /* how to write the sets */
	const struct net_policy *policy; /* borrowed */
	struct in_addr client;           /* only queries from here are answered; INADDR_ANY: any */
	int udp_fd, tcp_fd;              /* bound (egress_dns_listen); borrowed */
	char *const *upstream;           /* "ADDR" or "ADDR@PORT" (IPv4 or IPv6), at least one */
	const char *hosts_path;          /* the host's /etc/hosts (NULL: that) */
	uint32_t ttl_min;                /* [network] dns_min_ttl */
	int stop_fd; /* readable or hung up: stop (the container's init pidfd); -1: none */
	/* Each query once answered (may be NULL). */
	void (*record)(const struct egress_dns_record *r, void *userdata);
	/* Once listening and resolving, before the first query is read (may be NULL). */
	void (*ready)(void *userdata);
	void *userdata;
};

/* Runs until stop_fd fires (0) or a fatal error (negative, err set). */
int egress_dns_run(const struct egress_dns_opts *o, struct coi_error *err);

/* A UDP socket and a listening TCP socket on addr:port, the same port for both (port 0: a free
 * one, returned in *ret_port). Close-on-exec and non-blocking. */
int egress_dns_listen(struct in_addr addr, uint16_t port, int *ret_udp, int *ret_tcp,
                      uint16_t *ret_port, struct coi_error *err);

/* The nameservers of a resolv.conf text, as upstream entries (strv; 127.0.0.1 when it names
 * none, as glibc does). NULL on OOM. */
char **egress_dns_resolvconf(const char *text);
