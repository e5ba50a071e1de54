/* SPDX-License-Identifier: MIT */
/* netmode.c: the net_mode strings, only while config/config.h (which owns them) is absent. */
#include "netpolicy/netmode.h"

#if !__has_include("config/config.h")
#include <string.h>

static const char *const mode_names[_NET_MODE_MAX] = {
        [NET_MODE_RESTRICTED] = "restricted",
        [NET_MODE_ALLOWLIST] = "allowlist",
        [NET_MODE_OPEN] = "open",
};

const char *net_mode_to_string(enum net_mode m)
{
	return (int)m >= 0 && m < _NET_MODE_MAX ? mode_names[m] : "invalid";
}

enum net_mode net_mode_from_string(const char *s)
{
	for (int m = 0; s && m < _NET_MODE_MAX; m++)
		if (strcmp(s, mode_names[m]) == 0)
			return (enum net_mode)m;
	return _NET_MODE_INVALID;
}
#endif
