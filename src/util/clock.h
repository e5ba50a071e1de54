/* SPDX-License-Identifier: MIT */
/* clock.h: the monotonic clock, for deadlines and rates (never for dates). */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_mono_ms(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t clock_mono_ns(void);
