/* SPDX-License-Identifier: MIT */
/* units.c: see units.h. */
#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int units_parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		double factor;
	} units[] = {
	        {"", 1},
	        {"B", 1},
	        {"kB", 1e3},
	        {"KB", 1e3},
	        {"MB", 1e6},
	        {"GB", 1e9},
	        {"TB", 1e12},
	        {"K", 1024.0},
	        {"KiB", 1024.0},
	        {"M", 1024.0 * 1024},
	        {"MiB", 1024.0 * 1024},
	        {"G", 1024.0 * 1024 * 1024},
	        {"GiB", 1024.0 * 1024 * 1024},
	        {"T", 1024.0 * 1024 * 1024 * 1024},
	        {"TiB", 1024.0 * 1024 * 1024 * 1024},
	};
	char *end;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		v *= units[i].factor;
		if (v >= 4611686018427387904.0) /* 2^62 */
			return -ERANGE;
		*ret = (uint64_t)ceil(v);
		return 0;
	}
	return -EINVAL;
}

uint64_t units_host_memory(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib * 1024;
}
