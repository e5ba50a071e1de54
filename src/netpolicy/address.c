/* SPDX-License-Identifier: MIT */
/* address.c: the container's IPv4 address on the bridge, decided before it starts (so the real
 * rules go in before its first packet, and the guest needs no DHCP exchange to learn it).
 *
 * Deterministic: the container name's hash picks where in the subnet to start looking, so a
 * session's address is stable across restarts of the same slot and different containers start
 * from different places. The caller passes every address already in use (the bridge's leases,
 * which list every instance's pinned address, and the claims of sessions starting meanwhile):
 * Incus itself does not refuse an address another NIC has. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "netpolicy/netpolicy.h"

/* FNV-1a: stable across builds and machines (the address must not change between versions). */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool is_taken(uint32_t a, const struct in_addr *taken, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ntohl(taken[i].s_addr) == a)
			return true;
	return false;
}

int net_pick_address(struct in_addr gateway, unsigned prefix, const char *seed,
                     const struct in_addr *taken, size_t n_taken, unsigned attempt,
                     struct in_addr *ret)
{
	uint32_t gw = ntohl(gateway.s_addr), mask, net, hosts, start;

	if (prefix < 8 || prefix > 30 || !seed)
		return -EINVAL;
	mask = ~0u << (32 - prefix);
	net = gw & mask;
	hosts = ~mask - 1; /* .1 .. broadcast - 1 */
	start = name_hash(seed) % hosts;
	/* at most n_taken + 1 (the gateway) addresses are skipped before each free one */
	for (uint64_t i = 0, free_seen = 0; i < hosts && i <= n_taken + attempt + 1; i++) {
		uint32_t a = net + 1 + (uint32_t)((start + i) % hosts);

		if (a == gw || is_taken(a, taken, n_taken))
			continue;
		if (free_seen++ == attempt) {
			ret->s_addr = htonl(a);
			return 0;
		}
	}
	return -ENOSPC;
}
