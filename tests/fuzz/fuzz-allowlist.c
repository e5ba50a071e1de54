/* SPDX-License-Identifier: MIT */
/* fuzz-allowlist.c: the allowlist entry parser, and what it feeds. For every input: the parser
 * accepts or refuses without crashing; an accepted entry prints back to text that parses to the
 * same entry; and the nft batch generated with it has one command per line, each starting with
 * a known verb, and no character the validators exclude (no injected syntax), with and without
 * the DNS filter (whose sets and redirect name the container and its port). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: struct padding is not part of the value. */
static int dest_equal(const struct net_dest *a, const struct net_dest *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0 && a->wildcard == b->wildcard &&
	       a->addr.s_addr == b->addr.s_addr && a->prefix == b->prefix &&
	       a->ports.n == b->ports.n &&
	       memcmp(a->ports.r, b->ports.r, a->ports.n * sizeof(a->ports.r[0])) == 0;
}

static void check_batch(const char *s)
{
	for (const char *line = s; *line;) {
		const char *end = strchr(line, '\n');

		if (!end || (strncmp(line, "add ", 4) != 0 && strncmp(line, "flush ", 6) != 0 &&
		             strncmp(line, "delete ", 7) != 0))
			abort();
		for (const char *c = line; c < end; c++)
			if (*c == ';' && !strstr(line, "type filter hook") &&
			    !strstr(line, "type nat hook") && !strstr(line, "type ipv4_addr"))
				abort();
		line = end + 1;
	}
}

static void generate(const struct net_dest *d, uint16_t dns_port)
{
	struct net_policy p;
	struct net_target t = {.container = "c1",
	                       .veth = "veth0",
	                       .prefix = 24,
	                       .log_group = 1,
	                       .dns_port = dns_port};
	struct buf out = BUF_INIT(1 << 20);

	(void)inet_pton(AF_INET, "10.0.0.2", &t.ipv4);
	(void)inet_pton(AF_INET, "10.0.0.1", &t.gateway);
	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	p.allowlist = (struct net_dest *)d;
	p.n_allowlist = 1;
	if (net_nft_apply(&t, &p, NULL, &out, NULL) != 0)
		abort();
	check_batch(buf_str(&out));
	buf_release(&out);
	out = BUF_INIT(1 << 16);
	if (net_hosts_render(&p, &out) < 0)
		abort();
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_dest d, d2;
	struct coi_error err = {0};
	struct buf text = BUF_INIT(4096);
	char *s;

	if (size > 1024)
		return 0;
	s = strndup((const char *)data, size);
	if (!s)
		return 0;
	if (net_dest_parse(s, &d, &err) == 0) {
		if (net_dest_format(&d, &text) < 0 ||
		    net_dest_parse(buf_str(&text), &d2, NULL) != 0 || !dest_equal(&d, &d2))
			abort();
		for (const char *c = d.name; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789.-_", *c))
				abort();
		generate(&d, 0);
		generate(&d, 5353);
	} else if (err.code >= 0 || !err.msg[0]) {
		abort(); /* a refusal always says why */
	}
	buf_release(&text);
	free(s);
	return 0;
}
