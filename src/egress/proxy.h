/* SPDX-License-Identifier: MIT */
/* proxy.h: the credential proxy of one session (ARCHITECTURE.md decision 11), on the host.
 *
 * The container reaches it for the secrets' hosts only (their names lead to the proxy inside
 * the container; the host's nft rules send those connections to its port). For each connection
 * it answers TLS as the host the client names (SNI), with a leaf from the session's CA (ca.h);
 * a name that is not a secret's host is refused in the handshake. It opens TLS to the real host,
 * verified against the host's CA store and the name, and relays: requests go through httpreq.h
 * (placeholders replaced for this host, refused for another), responses stream back as they
 * arrive, unbuffered and unparsed, so server-sent events pass in the pieces they were sent and
 * keep-alive works as the two ends agree. One upstream connection per client connection.
 *
 * libevent (with its OpenSSL bufferevents) runs the connections in one loop, in the process
 * that calls egress_proxy_run(): the session's supervisor runs it in a child of its own. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coi_error;
struct egress_ca;
struct egress_finding;
struct egress_set;

#define EGRESS_CONNECT_TO_MAX 16

/* Where to connect for a host instead of resolving it: for tests, whose fake upstreams have
 * test addresses and ports ($COI_EGRESS_CONNECT_TO="name=addr:port,..."). */
struct egress_connect_to {
	char host[256];
	struct sockaddr_in addr;
};

/* "1.2.3.4:443" (or a bare port: 127.0.0.1) into ret. */
int egress_addr_parse(const char *spec, struct sockaddr_in *ret, struct coi_error *err);
/* A listening TCP socket (non-blocking, close-on-exec) on addr; its port in *ret_port (addr's
 * port 0: one the kernel picks). */
int egress_listen(const struct sockaddr_in *addr, uint16_t *ret_port, struct coi_error *err);

/* Parses "name=1.2.3.4:443[,name=...]" into ret (at most EGRESS_CONNECT_TO_MAX); the count. */
int egress_connect_to_parse(const char *s, struct egress_connect_to *ret, size_t max,
                            struct coi_error *err);

struct egress_stats {
	unsigned long connections, refused_handshakes, requests, injected, refused;
};

struct egress_proxy_opts {
	int listen_fd;                /* a listening TCP socket; the proxy owns it from here on */
	const struct egress_set *set; /* placeholders, hosts, forms */
	struct egress_ca *ca;         /* the session's CA (leaves are made as needed) */
	const char *cafile;           /* more trust anchors for upstreams (tests); NULL: none */
	const struct egress_connect_to *connect_to;
	size_t n_connect_to;
	uint16_t port; /* of the real hosts; 0: 443 */
	int stop_fd;   /* readable (or closed by the peer): stop; -1: none (SIGTERM and SIGINT stop
	                  it either way) */

	/* The real value of secret i, renewed if needed; NULL when it cannot be had. NULL hook:
	 * set->v[i].value. */
	const char *(*value)(void *userdata, size_t i);
	/* Every refused request (the monitor records a placeholder for the wrong host as HIGH). */
	void (*finding)(void *userdata, const char *host, const struct egress_finding *f);
	/* Called once the proxy is ready to accept (tests and the supervisor wait for it). */
	void (*ready)(void *userdata);
	void *userdata;
};

/* Runs until stopped; 0, or a negative errno when it could not start (err says why). Stats of
 * the run in *ret_stats when not NULL. */
int egress_proxy_run(const struct egress_proxy_opts *o, struct egress_stats *ret_stats,
                     struct coi_error *err);
