/* SPDX-License-Identifier: MIT */
/* wire.h: a secret set as JSON, from the session to its supervisor's proxy. It holds the real
 * values, so it travels only through memory: a sealed memfd the supervisor inherits, never a
 * file on disk, never the container. */
#pragma once

#include <stdint.h>

struct coi_error;
struct egress_set;

#define EGRESS_WIRE_MAX (4u << 20)

/* The set (with values and expiries: expires[i] for secret i, may be NULL) as a sealed memfd
 * (close-on-exec; the caller clears that flag where it hands the fd on). */
int egress_wire_memfd(const struct egress_set *set, const int64_t *expires, int *ret_fd,
                      struct coi_error *err);
/* Reads a set back from fd (from its start); *ret_expires gets an array of set->n expiries
 * (free() it). Every secret is checked (egress_secret_check). */
int egress_wire_read(int fd, struct egress_set *ret, int64_t **ret_expires, struct coi_error *err);
