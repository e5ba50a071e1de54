/* SPDX-License-Identifier: MIT */
/* monitor-dns.h: the supervisor's part in the session's DNS filter (`coi monitor --daemon
 * --dns-*`, which the session passes: session/network.c). The options rebuild the policy with
 * netpolicy's own parsers; the filter runs as a child (egress/dnsproc.h); its records and its
 * end reach the monitor, or with monitoring off the deadline's loop, through monitor_opts. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "egress/dnsserver.h"
#include "netpolicy/netpolicy.h"

struct coi_error;
struct monitor_opts;

struct monitor_dns_args {
	bool on; /* --dns-fds given */
	int udp_fd, tcp_fd;
	struct in_addr client;
	struct net_policy policy;
	char **upstream;
	pid_t pid;
	/* the record handed to the monitor, and its text */
	struct egress_dns_record rec;
	char type[16], detail[600];
};

void monitor_dns_args_init(struct monitor_dns_args *a);
void monitor_dns_args_release(struct monitor_dns_args *a);
/* One --dns-* option (name without the dashes); -EINVAL with err set when its value is bad. */
int monitor_dns_args_set(struct monitor_dns_args *a, const char *name, const char *value,
                         struct coi_error *err);
/* Whether the options make a filter (the sockets, the client and an upstream). */
int monitor_dns_args_check(const struct monitor_dns_args *a, struct coi_error *err);

/* Whether the session's policy (the options rebuilt it) lets a connection to c's address
 * through: rules_config.admits, for the private-address rule. */
struct conn_obs;
bool monitor_dns_admits(const void *policy, const struct conn_obs *c);

/* Starts the filter of container and hands its records and end to mo. */
int monitor_dns_start(struct monitor_dns_args *a, const char *container, struct monitor_opts *mo,
                      struct coi_error *err);
