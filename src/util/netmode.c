/* SPDX-License-Identifier: MIT */
/* netmode.c: see netmode.h. */
#include "util/netmode.h"

#include <string.h>

static const char *const names[_NET_MODE_MAX] = {
        [NET_MODE_RESTRICTED] = "restricted",
        [NET_MODE_ALLOWLIST] = "allowlist",
        [NET_MODE_OPEN] = "open",
};

const char *net_mode_to_string(enum net_mode m)
{
	return (int)m >= 0 && m < _NET_MODE_MAX ? names[m] : "invalid";
}

enum net_mode net_mode_from_string(const char *s)
{
	for (int i = 0; s && i < _NET_MODE_MAX; i++)
		if (strcmp(names[i], s) == 0)
			return (enum net_mode)i;
	return _NET_MODE_INVALID;
}
