/* SPDX-License-Identifier: MIT */
/* veth.h: the host ends of session NICs, which coi names "vcoi<8 hex of the workspace hash><slot>"
 * (session.c), and finding those a failed start left behind. Incus creates the pair on the host and
 * moves the peer into the container; a pair whose peer is still in the host's namespace belongs to
 * no container, whichever Incus daemon or project made it. Speaks rtnetlink through libmnl. */
#pragma once

#include <stddef.h>

#include "session/naming.h"

struct coi_error;

#define VETH_PREFIX "vcoi"

/* coi's name for the host end of the NIC of slot in the workspace of hash, into buf (IFNAMSIZ
 * is enough). */
void veth_name(char *buf, size_t size, const char *hash, int slot);

/* If ifname is coi's name for a session NIC, its slot (and the hash copied to ret_hash if not
 * NULL); else 0. */
int veth_parse_name(const char *ifname, char ret_hash[WORKSPACE_HASH_LEN + 1]);

/* The names of coi's veths (by name and kind) whose peer is in this network namespace: none of
 * them is a running container's NIC. *ret is a NULL-terminated list, possibly empty. */
int veth_list_leaked(char ***ret, struct coi_error *err);

/* Delete the interface name (its peer goes with it). -ENODEV when it is gone already. */
int veth_delete(const char *name, struct coi_error *err);
