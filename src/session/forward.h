/* SPDX-License-Identifier: MIT */
/* forward.h: what crosses the container boundary on purpose (see forward.c): host unix sockets
 * proxied in ([[sockets]], the SSH agent), container ports published on the host ([ports]) and
 * credential files copied in ([[credentials]]). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct coi_error;
struct session;
struct session_opts;

#define FORWARD_PORT_BASE  20000
#define FORWARD_PORT_BLOCK 10 /* ports per slot */

/* The first port of the 10-port block of (workspace hash, slot); slot 1..10. The same numbers as
 * the original: 20000 + (first 4 hex digits of the hash % 400) * 100 + (slot - 1) * 10. */
uint16_t forward_port_block(const char *hash, int slot);

/* Can listen:port be bound now? 1 yes, 0 no (in use, or the address is not this host's). */
int forward_port_free(const char *listen, uint16_t port);

/* Before anything is created: every socket exists on the host, every credential is a readable
 * regular file, no container path lies in the workspace, and each port has a free host port
 * (pinned ones must be free; automatic ones take the next free port of the slot's block). Fills
 * in the host ports, adds the pool ports, and adds COI_PORTS, COI_PORT_<NAME> and the sockets'
 * variables to the session's environment. */
int forward_prepare(struct session *s, struct coi_error *err);

/* Adds the proxy devices of the sockets and ports (one request), once the container runs. */
int forward_devices_add(struct session *s, struct coi_error *err);
/* Removes every device forward_devices_add makes (a persistent container's, before it starts
 * again or at the end of its session). Absent ones are fine. */
int forward_devices_remove(struct session *s, struct coi_error *err);
/* Copies the credential files in, as the code user's. */
int forward_copy_credentials(struct session *s, struct coi_error *err);

/* mkdir -p of an absolute directory in the container; what it creates is the code user's (0700),
 * what exists is left alone. */
int forward_mkdirs(struct session *s, const char *dir, struct coi_error *err);
