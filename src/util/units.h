/* SPDX-License-Identifier: MIT */
/* units.h: sizes as people write them in configuration ("10GiB", "512MiB", "2GB", "64M"). */
#pragma once

#include <stdint.h>

/* A size in bytes: a number (decimals allowed), then optionally B, kB/KB/MB/GB/TB (powers of
 * 1000), KiB/MiB/GiB/TiB or K/M/G/T (powers of 1024). 0, -EINVAL when malformed, -ERANGE past
 * 2^62. */
int units_parse_size(const char *s, uint64_t *ret);

/* The host's memory in bytes (/proc/meminfo MemTotal), 0 when unknown. */
uint64_t units_host_memory(void);
