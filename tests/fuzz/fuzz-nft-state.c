/* SPDX-License-Identifier: MIT */
/* fuzz-nft-state: the reader of `nft -j list table` output, which carries what containers
 * influence (their addresses, the names coi gave their chains and comments). Any input is read
 * or refused without crashing; what it returns is consistent (owners are sorted and unique). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netpolicy/netpolicy.h"
#include "util/error.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_state st = {0};
	struct coi_error err = {0};
	char **owners;

	if (net_state_parse((const char *)data, size, "coi", &st, &err) == 0) {
		owners = net_state_owners(&st);
		for (size_t i = 0; owners && owners[i] && owners[i + 1]; i++)
			if (strcmp(owners[i], owners[i + 1]) >= 0)
				abort();
		strv_free(owners);
	}
	net_state_release(&st);
	return 0;
}
