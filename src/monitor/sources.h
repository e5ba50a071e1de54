/* SPDX-License-Identifier: MIT */
/* sources.h: what the monitor observes, read on the host where the agent cannot reach.
 *
 *  - proccn: the netlink proc connector (exec/fork/exit of every host process; we keep those in
 *    the container's cgroup). Needs CAP_NET_ADMIN.
 *  - nflog: packets logged by coi's nftables rules (`log prefix "coi-deny:<name> " group N`).
 *  - sockdiag: the container's sockets, dumped with inet_diag over a NETLINK_SOCK_DIAG socket
 *    that was created inside the container's network namespace.
 *  - procfs/cgroup: /proc/<pid> facts, the container's cgroup (I/O bytes, pids), its /tmp.
 *
 * The parse functions take raw bytes and never touch the system, so they can be fuzzed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor/rules.h"

/* ---- proc connector ------------------------------------------------------------------------ */

enum proccn_what { PROCCN_FORK, PROCCN_EXEC, PROCCN_EXIT };

struct proccn_event {
	enum proccn_what what;
	pid_t pid;        /* the process (tgid): the child for a fork */
	pid_t ppid;       /* fork: the parent's tgid */
	bool thread;      /* fork of a thread, exit of a non-leader thread */
	uint64_t time_ns; /* when the kernel saw it (CLOCK_MONOTONIC) */
};

int proccn_open(int *ret_fd);
/* Calls cb for each event in one datagram; returns the number of events, -EBADMSG if garbled. */
int proccn_parse(const void *buf, size_t len,
                 void (*cb)(const struct proccn_event *ev, void *userdata), void *userdata);

/* ---- NFLOG --------------------------------------------------------------------------------- */

/* The prefixes of coi's log rules (netpolicy/nftgen.c), each followed by "<container> ": a packet
 * the policy refused, and with [monitoring.nft] every new connection and every DNS query. */
#define NFLOG_PREFIX     "coi-deny:"
#define NFLOG_PREFIX_NEW "coi-new:"
#define NFLOG_PREFIX_DNS "coi-dns:"

enum nflog_kind { NFLOG_OTHER, NFLOG_DENY, NFLOG_NEW, NFLOG_DNS };

struct nflog_packet {
	char prefix[128];
	enum nflog_kind kind; /* from the prefix */
	char container[64];   /* the name in the prefix; "" for NFLOG_OTHER */
	char qname[256];      /* a DNS query (UDP to port 53): the name asked for, printable
	                         ASCII ('?' for other bytes, "..." when cut); "" if unreadable */
	uint16_t qtype;       /* and its type (1: A, 28: AAAA, 16: TXT, ...) */
	struct conn_obs conn; /* state "REFUSED" (refused = true), "NEW" or "DNS" */
};

int nflog_open(uint16_t group, int *ret_fd);
/* Calls cb for each packet (with an IPv4 or IPv6 payload) of one datagram; returns how many,
 * -EBADMSG if garbled. */
int nflog_parse(const void *buf, size_t len,
                void (*cb)(const struct nflog_packet *p, void *userdata), void *userdata);
/* The container a refusal's prefix names ("coi-deny:NAME " -> NAME), or false. */
bool nflog_prefix_container(const char *prefix, char *out, size_t size);
/* The kind of a prefix and the container it names (NFLOG_OTHER and "" when not coi's). */
enum nflog_kind nflog_prefix_parse(const char *prefix, char *out, size_t size);
/* The question of a DNS message (the UDP payload): name into out (as nflog_packet.qname) and
 * type; -EBADMSG when there is none. */
int nflog_dns_question(const uint8_t *p, size_t len, char *out, size_t size, uint16_t *ret_type);

/* ---- sock_diag ----------------------------------------------------------------------------- */

/* A NETLINK_SOCK_DIAG socket living in the network namespace of pid, for dumps; with
 * ret_events_fd, a second one that receives every socket of the namespace as it is destroyed
 * (-EBADF there when the kernel refuses). */
int sockdiag_open(pid_t pid, int *ret_fd, int *ret_events_fd);
/* Dumps TCP and UDP sockets (IPv4 and IPv6) with a remote address; calls cb for each. */
int sockdiag_dump(int fd, void (*cb)(const struct conn_obs *c, void *userdata), void *userdata);
/* Parses one dump reply datagram (proto 0: a destroy broadcast, which names its protocol);
 * returns 1 when it held NLMSG_DONE. */
int sockdiag_parse(const void *buf, size_t len, int proto,
                   void (*cb)(const struct conn_obs *c, void *userdata), void *userdata);

/* ---- /proc and cgroups --------------------------------------------------------------------- */

/* The container's cgroup as the host sees it: "/lxc.payload.NAME" (perhaps with a -N suffix). */
struct cgroup_ref {
	char root[256];
	bool v1; /* cgroup v1 (per-controller hierarchies) */
};

/* The cgroup root of the container whose init is pid. */
int cgroup_of_init(pid_t pid, struct cgroup_ref *ret);
/* 1 if pid lives in (or below) the container's cgroup, 0 if not, negative if gone. */
int cgroup_has_pid(const struct cgroup_ref *cg, pid_t pid);
/* Bytes read and written by the cgroup so far (blkio on v1, io.stat on v2). */
int cgroup_io(const struct cgroup_ref *cg, uint64_t *ret_read, uint64_t *ret_write);
/* Parses blkio.throttle.io_service_bytes(_recursive) or io.stat text. */
void cgroup_io_parse(const char *text, bool v1, uint64_t *ret_read, uint64_t *ret_write);
/* Freezes every process of the container now (freezer.state on v1, cgroup.freeze on v2): the
 * kernel stops them within milliseconds, before the Incus API call that records the freeze
 * returns (on v1, LXC's freeze loop sleeps a whole second when the state still reads
 * FREEZING). */
int cgroup_freeze(const struct cgroup_ref *cg);
/* Every pid in the cgroup tree; cb returns < 0 to stop. Returns the count. */
int cgroup_pids(const struct cgroup_ref *cg, int (*cb)(pid_t pid, void *userdata), void *userdata);

/* What /proc says about a process, read right after its exec. */
struct proc_facts {
	char **argv; /* NULL when the process was gone before it could be read */
	pid_t ppid;
	uid_t uid;
	char comm[17];
	char parent[64]; /* "sh<node<tmux" */
	bool stdio_inet;
};
int proc_facts_read(pid_t pid, struct proc_facts *ret);
void proc_facts_release(struct proc_facts *f);
/* The command line of pid as argv; -ENOENT when gone or empty. */
int proc_argv(pid_t pid, char ***ret);
/* Usage of the container's /tmp, resolved inside its root (openat2 RESOLVE_IN_ROOT). */
int container_disk(pid_t init_pid, const char *path, struct disk_obs *ret);
