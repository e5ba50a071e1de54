/* SPDX-License-Identifier: MIT */
/* top.h: what `coi top` shows of a running session, read on the host as the monitor's samples
 * are (no call into the container, nothing the agent can change): the container cgroup's CPU
 * time, memory and block I/O, the host side of its veth for network bytes, its network
 * namespace's TCP table (through its init's /proc) for connections. Counters are cumulative;
 * top_rates() turns two samples into rates. A value that cannot be read is reported as unknown
 * (-1), never as 0. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct top_counters {
	uint64_t at_ns;    /* CLOCK_MONOTONIC */
	int64_t cpu_ns;    /* CPU time used, all cores */
	int64_t mem_bytes; /* memory in use */
	int64_t io_read;   /* bytes, block I/O */
	int64_t io_write;
	int64_t net_rx; /* bytes the container received (the veth's host side sent) */
	int64_t net_tx; /* and sent */
	int procs;      /* processes in its cgroup */
	int conns;      /* established TCP connections, IPv4 and IPv6 */
};

/* Reads the counters of the container whose init is init_pid; veth (its host-side interface,
 * may be NULL) for the network bytes. -ESRCH when the container is gone. */
int top_read(pid_t init_pid, const char *veth, struct top_counters *ret);

struct top_rates {
	double cpu_percent; /* of one core: 200 is two cores busy; -1: unknown */
	double io_read_bps, io_write_bps, net_rx_bps, net_tx_bps; /* bytes a second; -1: unknown */
};
void top_rates_of(const struct top_counters *a, const struct top_counters *b,
                  struct top_rates *ret);

/* The established connections in the text of /proc/PID/net/tcp or tcp6. */
int top_count_established(const char *text);
