/* SPDX-License-Identifier: MIT */
/* clock.c: see clock.h. */
#include "util/clock.h"

#include <time.h>

uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t clock_mono_ms(void)
{
	return (int64_t)(clock_mono_ns() / 1000000u);
}
