/* SPDX-License-Identifier: MIT */
/* fuzz-dns-answer.c: the DNS response reader, which sees bytes from the network. Any input is
 * read or refused without crashing, and what it returns is bounded. */
#include <stdint.h>
#include <stdlib.h>

#include "netpolicy/netpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_addrs s;
	uint32_t ttl;

	if (net_dns_parse_answer(data, size, &s, &ttl) == 0 &&
	    (s.n == 0 || s.n > NET_ADDRS_MAX || ttl > 0x7fffffff))
		abort();
	return 0;
}
