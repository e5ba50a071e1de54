/* SPDX-License-Identifier: MIT */
/* client.h: the Incus client every daemon-facing verb opens the same way. */
#pragma once

struct incus_client;

/* Connect as configured (environment for now); on failure the error is printed and EXIT_FAIL
 * returned, else 0. */
int cmd_open_client(struct incus_client **ret);
