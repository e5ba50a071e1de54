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
/* A socket filter that passes only the events proccn_parse() reports and the monitor uses:
 * exec, and fork and exit of processes (not threads). proccn_open() attaches it. */
int proccn_filter_attach(int fd);
/* The filter above with the foreign set in the kernel (proccn-bpf.c): an eBPF program that also
 * drops every event of a foreign process and marks the children of foreign processes in a
 * bitmap of pid_max bits shared with the caller, mapped at *ret_words (*ret_bytes long, to
 * munmap). Replaces the classic filter; needs CAP_BPF, else an error and the classic one stays. */
int proccn_filter_foreign(int fd, size_t pid_max, uint64_t **ret_words, size_t *ret_bytes);
/* Calls cb for each event in one datagram; returns the number of events, -EBADMSG if garbled. */
int proccn_parse(const void *buf, size_t len,
                 void (*cb)(const struct proccn_event *ev, void *userdata), void *userdata);

/* ---- NFLOG --------------------------------------------------------------------------------- */

/* The prefixes of coi's log rules (netpolicy/nftgen.c), each followed by "<container> ": a packet
 * the policy refused, and with [monitoring.nft] every new connection and every DNS query. */
#define NFLOG_PREFIX     "coi-deny:"
#define NFLOG_PREFIX_NEW "coi-new:"
#define NFLOG_PREFIX_DNS "coi-dns:"
/* [monitoring]'s counting rules: a packet while the container's egress byte rate, or its DNS
 * query rate, is over its limit (at most one a second each) */
#define NFLOG_PREFIX_BYTES "coi-bytes:"
#define NFLOG_PREFIX_DNSX  "coi-dnsx:"

enum nflog_kind { NFLOG_OTHER, NFLOG_DENY, NFLOG_NEW, NFLOG_DNS, NFLOG_BYTES, NFLOG_DNSX };

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

/* ---- fanotify: credential and persistence files -------------------------------------------- */

/* Watches the container whose root is root ("/proc/<init>/root"): opens of the homes' keys,
 * tokens and cloud credentials, of /etc/shadow and of the .env files and private keys of the
 * project at workspace (inside the container; NULL: none); and writes of shell startup files,
 * cron, systemd units, authorized_keys, sudoers and ld.so.preload. With perm, keys and tokens
 * are watched with permission events: each open waits for the callback's verdict. Needs
 * CAP_SYS_ADMIN (-EPERM otherwise: a non-root monitor has no file watch). */
struct file_watch;

struct file_event {
	pid_t pid;          /* the opener or writer; 0 when a rescan found the change */
	const char *path;   /* in the container; for a hard link, the file it was marked as */
	const char *opened; /* the path it was opened by */
	bool perm;          /* the open waits for the verdict */
	bool private_key;   /* its first bytes say PRIVATE KEY */
	bool written;       /* a write: added holds the lines it added */
	const char *added;
};

int filewatch_open(const char *root, const char *workspace, bool perm, struct file_watch **ret);
struct file_watch *filewatch_free(struct file_watch *w);
int filewatch_fd(const struct file_watch *w);
/* The inotify fd on the directories watched files may appear in (-EBADF when there is none),
 * and, when it is readable, filewatch_changed() drains it: > 0 means call filewatch_rescan(). */
int filewatch_inotify_fd(const struct file_watch *w);
int filewatch_changed(struct file_watch *w);
unsigned filewatch_marks(const struct file_watch *w);
/* Marks credential files and directories that appeared since, and compares the persistence
 * files with what they held (a file replaced by a rename has no write event of its own): cb
 * gets those changes. Returns how many marks it added. */
int filewatch_rescan(struct file_watch *w, bool (*cb)(const struct file_event *ev, void *userdata),
                     void *userdata);
/* Reads the pending events; cb returns whether to allow a permission event. Returns how many.
 * The process that reads the watch must not open watched files itself: it would wait for its
 * own verdict. */
int filewatch_read(struct file_watch *w, bool (*cb)(const struct file_event *ev, void *userdata),
                   void *userdata);

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
/* Where a cgroup path is, seen from the container's: its own (or below), another instance's
 * (foreign: nothing in it can ever join ours, see procfs.c), or elsewhere (the host's, which
 * may). */
enum cgroup_place { CGROUP_ELSEWHERE, CGROUP_OURS, CGROUP_FOREIGN };
enum cgroup_place cgroup_place(const struct cgroup_ref *cg, const char *path);
/* The place of pid's cgroup, negative if it is gone. */
int cgroup_place_of_pid(const struct cgroup_ref *cg, pid_t pid);
/* Bytes read and written by the cgroup so far (blkio on v1, io.stat on v2). */
int cgroup_io(const struct cgroup_ref *cg, uint64_t *ret_read, uint64_t *ret_write);
/* Parses blkio.throttle.io_service_bytes(_recursive) or io.stat text. */
void cgroup_io_parse(const char *text, bool v1, uint64_t *ret_read, uint64_t *ret_write);
/* How many forks the pids controller has refused the container (pids.events "max"): its
 * limits.processes was reached. */
int cgroup_pids_refused(const struct cgroup_ref *cg, uint64_t *ret);
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
	struct sock_facts socks;
};
int proc_facts_read(pid_t pid, struct proc_facts *ret);
void proc_facts_release(struct proc_facts *f);
/* A socket in /proc/<pid>/net/{tcp,tcp6,udp,udp6}. */
struct net_sock {
	unsigned long inode;
	bool v6;
	uint8_t laddr[16], raddr[16]; /* 4 bytes for IPv4 */
	uint16_t lport, rport;
	unsigned state; /* TCP_ESTABLISHED (1), TCP_LISTEN (10), ...; 7 (CLOSE) for unconnected UDP
	                 */
};
/* Calls cb for each socket line of such a table (cb returns true to stop); returns how many. */
int proc_net_parse(const char *text, bool v6, bool (*cb)(const struct net_sock *s, void *userdata),
                   void *userdata);
/* Its peer is on the loopback (127/8, ::1, ::ffff:127.x). */
bool net_sock_loopback(const struct net_sock *s);
/* Its peer as "a.b.c.d:p" or "[v6]:p". */
void net_sock_peer(const struct net_sock *s, char *out, size_t size);
/* The TCP/UDP sockets among pid's descriptors: which of fds 0-2 are sockets, and how many are
 * connected to another machine. -ENOENT when pid is gone. */
int proc_socks_read(pid_t pid, struct sock_facts *ret);
/* pid's CPU use over its life, as a share of one core, and its age in seconds. */
int proc_cpu(pid_t pid, double *ret_share, double *ret_seconds);
/* The inode of pid's user namespace (0 when it is gone). */
uint64_t proc_userns(pid_t pid);
/* What an exec of pid changes: its name and where its code and stack lie (/proc/<pid>/stat
 * fields 2 and 26-28; the addresses are randomised per exec, and read as 0 without ptrace access
 * to pid: the name then alone, as a name is no proof of an exec when the addresses are known). The
 * same mark before and after reading facts of pid means they are one program's: a shell that execs
 * nc in between is not a shell holding nc's connection. A process that ended meanwhile (its state
 * Z or X, or its memory already released: the addresses read as 0) did not exec: the same. */
struct exec_mark {
	char comm[17];
	char state;
	unsigned long long code, code_end, stack;
};
int proc_exec_mark(pid_t pid, struct exec_mark *ret);
bool exec_mark_same(const struct exec_mark *a, const struct exec_mark *b);
/* The name of pid and its parent's pid. */
int proc_parent(pid_t pid, pid_t *ret_ppid, char comm[17]);
/* The name of pid (its comm, as in /proc/<pid>/status). */
int proc_comm(pid_t pid, char comm[17]);
/* The command line of pid as argv; -ENOENT when gone or empty. */
int proc_argv(pid_t pid, char ***ret);
/* Usage of the container's /tmp, resolved inside its root (openat2 RESOLVE_IN_ROOT). */
int container_disk(pid_t init_pid, const char *path, struct disk_obs *ret);
