/* SPDX-License-Identifier: MIT */
/* fuzz-nflog: the NFLOG datagram parser and what it hands on. The first byte picks the path: a
 * whole datagram (netlink messages of NFULNL_MSG_PACKET, prefix and payload attributes, the IP
 * packet inside, the DNS question of a query to port 53), or the DNS question parser alone on
 * the bytes as a UDP payload, into a buffer of a size the second byte chooses. Kernel input, but
 * the payload's content is the container's own: a name the agent made up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/rules.h"
#include "monitor/sources.h"

static void on_pkt(const struct nflog_packet *p, void *u)
{
	char local[80], remote[80];
	struct rule_hit hits[RULES_MAX_HITS];
	struct rules_config cfg;
	struct dns_obs o = {.queries = 101, .seconds = 1, .last_name = p->qname};

	(void)u;
	/* what the monitor does with it: strings must be terminated, fields in range */
	if (strnlen(p->prefix, sizeof(p->prefix)) == sizeof(p->prefix) ||
	    strnlen(p->container, sizeof(p->container)) == sizeof(p->container) ||
	    strnlen(p->qname, sizeof(p->qname)) == sizeof(p->qname) || !p->conn.state)
		abort();
	if ((p->kind == NFLOG_OTHER) != (p->container[0] == 0))
		abort();
	conn_obs_format(&p->conn, false, local, sizeof(local));
	conn_obs_format(&p->conn, true, remote, sizeof(remote));
	rules_config_default(&cfg);
	(void)rules_match_connection(&p->conn, &cfg, hits, RULES_MAX_HITS);
	(void)rules_match_dns(&o, &cfg, hits, RULES_MAX_HITS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 2 || size > 65536)
		return 0;
	if (data[0] & 1) {
		size_t n = 1 + data[1] % 300;
		char *out = malloc(n);
		uint16_t type;

		if (!out)
			return 0;
		if (nflog_dns_question(data + 2, size - 2, out, n, &type) == 0 &&
		    strnlen(out, n) == n)
			abort();
		free(out);
		return 0;
	}
	/* netlink parsers read aligned headers: give them an aligned copy */
	copy = aligned_alloc(8, (size + 7) & ~(size_t)7);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	(void)nflog_parse(copy, size - 1, on_pkt, NULL);
	free(copy);
	return 0;
}
