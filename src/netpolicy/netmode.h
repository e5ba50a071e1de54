/* SPDX-License-Identifier: MIT */
/* netmode.h: enum net_mode belongs to the config (config/config.h, on the `config` branch). Until
 * that is merged, this mirrors it with the same names and values, and netmode.c provides the
 * string functions; once config/config.h exists both step aside, so the merge needs no edit
 * (afterwards this file can become a plain #include "config/config.h"). */
#pragma once

#if __has_include("config/config.h")
#include "config/config.h"
#else
#include <errno.h>

enum net_mode {
	NET_MODE_RESTRICTED,
	NET_MODE_ALLOWLIST,
	NET_MODE_OPEN,
	_NET_MODE_MAX,
	_NET_MODE_INVALID = -EINVAL,
};

const char *net_mode_to_string(enum net_mode m);
enum net_mode net_mode_from_string(const char *s);
#endif
