/* SPDX-License-Identifier: MIT */
/* state.h: a running session as plain data (struct session): what the start phases found and
 * made, read and filled by the phase files (container.c, home.c, network.c, devices.c, ...),
 * none of which calls back into the orchestrator (session.c). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "session/credproxy.h"
#include "session/naming.h"
#include "session/options.h"

struct incus_client;
struct incus_profile;
struct protect_plan;
struct secret_plan;
struct undo;

struct session_dns;

struct session {
	struct session_opts *opts;   /* borrowed */
	struct incus_client *client; /* borrowed */
	char hash[WORKSPACE_HASH_LEN + 1];
	char home[17]; /* fleet_home_id: the coi home whose run directory has its records */
	int slot;
	char *name;             /* container name */
	char veth[16];          /* host-side NIC name coi chose */
	uint16_t nflog_group;   /* of its log rules and monitor; 0 until picked */
	char id[37];            /* the session id (saved sessions are stored under it) */
	struct in_addr gateway; /* the bridge's address and prefix */
	/* the guest's address, decided before it starts (network.c; 0: DHCP decides, after), and
	 * the host file that tells the guest's networkd (coi_dir()/run/<name>.network) */
	struct in_addr ipv4;
	char *net_file;
	char *bridge;        /* the Incus network of the profile's NIC */
	bool managed_bridge; /* it is a bridge Incus manages (its DHCP server, its leases) */
	bool one_eth0;       /* the profile's only NIC, eth0 in the guest */
	bool rules_removed;  /* every nft rule of the container's is gone (session_net_remove) */
	/* the session's Incus profile, read once (session_profile): the bridge, a warm
	 * container's fingerprint and the create each read it */
	struct incus_profile *profile;
	/* the credential proxy (credproxy.h): its memfd and socket until the supervisor has them,
	 * and the port the network rules send the container's connections to */
	struct credproxy_handoff egress;
	unsigned prefix;
	char *container_workspace; /* where the workspace is inside */
	bool reused;               /* an existing persistent container was started again */
	bool claimed;              /* a warm container of the workspace was claimed (warm.h) */
	/* its init as its filler read it from Incus (the prescan, monitor/prescan.h): the pid and
	 * start time the end kills, once seen to be still that process (0: not known, ask) */
	pid_t init_pid;
	unsigned long long init_start;
	bool home_made; /* the code user's home is there: later mkdirs start below it */
	struct protect_plan *plan;
	struct secret_plan *hidden; /* what [security] secret_paths hides */
	char *mask_file, *mask_dir; /* the empty file and directory it hides them with */
	char **protect_before;      /* snapshot at start, compared at the end */
	char *immutable_state;      /* coi_dir()/run/<name>.immutable */
	char *protect_state;        /* coi_dir()/run/<name>.protect (sweep.h) */
	char *idmount;              /* the idmapped workspace mount (sessions of host root) */
	char **warnings;            /* for the command to print */
	struct session_dns *dns;    /* the DNS filter's sockets and options (network.c) */
	struct ws_lock lock;        /* the workspace's, from picking the name to creating */
	/* a client without streaming exec: the last command's output, captured, for the command
	 * to print (session_captured()) */
	struct incus_exec_result captured;
	struct undo *undo; /* registered undo steps, run by session_stop() */
	size_t n_undo;
};
