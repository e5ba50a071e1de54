/* SPDX-License-Identifier: MIT */
/* netmode.h: the three network modes of a session, a word shared by the configuration (which
 * reads network.mode), the network policy (which enforces it) and the session (which records it),
 * so none of them has to include another's header for it. Self-contained: libc only. */
#pragma once

#include <errno.h>

enum net_mode {
	NET_MODE_RESTRICTED,
	NET_MODE_ALLOWLIST,
	NET_MODE_OPEN,
	_NET_MODE_MAX,
	_NET_MODE_INVALID = -EINVAL,
};

/* "restricted", "allowlist", "open"; "invalid" for anything else. */
const char *net_mode_to_string(enum net_mode m);
/* The mode named s, or _NET_MODE_INVALID (s NULL or unknown). */
enum net_mode net_mode_from_string(const char *s);
