/* SPDX-License-Identifier: MIT */
/* rules.h: the detection rules, as data. Each rule has an id, a level, a category and a title
 * (the original's words, so audit logs read the same) and a pure predicate over one kind of
 * observation: a process exec, a network connection (seen by sock_diag or refused by the
 * policy and logged through NFLOG), an I/O sample, a process-count sample or a disk sample.
 * Nothing here touches the system; tests feed observations directly.
 *
 * The rules aim at what an attacker does, not at the words an attacker would use: `grep -r
 * '/dev/tcp' .`, `apt-get install socat`, `python3 -c 'print(2+3)'` or `npm install` are what an
 * agent does all day and must stay quiet. Command lines are read through cmdline.h, so quoted
 * text is data and only real redirections, pipelines and programs count. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum threat_level {
	THREAT_INFO,
	THREAT_WARNING,
	THREAT_HIGH,
	THREAT_CRITICAL,
	_THREAT_LEVEL_MAX,
};
const char *threat_level_to_string(enum threat_level l); /* "info", "warning", ... */
int threat_level_from_string(const char *s);             /* -EINVAL when unknown */

enum rule_kind {
	RULE_PROCESS,
	RULE_CONNECTION,
	RULE_IO,
	RULE_PROC_COUNT,
	RULE_DISK,
	RULE_DNS,
	RULE_FILE,
};

/* What a program is, judged by its binary (progid.h), not by the name it runs under: a renamed
 * copy of bash is a shell. PROG_UNKNOWN falls back to the name in its command line. */
enum prog_class { PROG_UNKNOWN, PROG_OTHER, PROG_SHELL, PROG_INTERP };

/* A TCP/UDP socket as the rules see it: none, on the container's own loopback (or not
 * connected: listening, or UDP without a peer), or connected to a peer elsewhere. */
enum peer_kind { PEER_NONE, PEER_LOCAL, PEER_REMOTE };

/* A process's sockets, read from /proc/<pid>/fd and its network namespace's tables. */
struct sock_facts {
	enum peer_kind stdio[3]; /* fds 0, 1, 2 */
	unsigned remote;         /* sockets connected to a remote peer, on any fd */
	char peer[64];           /* one remote peer ("a.b.c.d:p"), those on fds 0-2 first */
};

/* A process that just exec'd, as read from the host's /proc. */
struct proc_obs {
	pid_t pid;
	pid_t ppid;
	uid_t uid;           /* as seen inside the container */
	char *const *argv;   /* NULL-terminated */
	const char *exe;     /* may be NULL */
	const char *cwd;     /* may be NULL */
	const char *parent;  /* parent chain summary, e.g. "sh<node<tmux"; may be NULL */
	enum prog_class cls; /* by its binary; PROG_UNKNOWN: judge by name */
	bool own_userns;     /* it runs in a user namespace of its own, not the container's */
	const char
	        *identity; /* what the binary is, "bash" or "bash, copied to /tmp/x"; may be NULL */
	struct sock_facts socks;
	/* The process that started it (read at the exec, while it still runs). */
	struct {
		enum prog_class cls;
		const char *comm;
		/* what its binary is, as identity above (read when it holds a connection) */
		const char *identity;
		struct sock_facts socks;
		/* an interpreter running code the session wrote: a script under /tmp, /workspace
		 * or a home, or -c/-e code, or code from its input; not an installed program */
		bool own_code;
	} parent_obs;
};

/* A connection (or an attempt) from the container. */
struct conn_obs {
	int family; /* AF_INET or AF_INET6 */
	int proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} saddr, daddr;
	uint16_t sport, dport; /* host order */
	const char *state;     /* "ESTABLISHED", "SYN_SENT", ...; "REFUSED" for NFLOG */
	bool refused;          /* dropped by the network policy (NFLOG) */
	uint64_t bytes_acked;  /* TCP: bytes sent and acknowledged by the peer (sock_diag; 0:
	                          unknown) */
};

/* Bytes moved by the container's cgroup in an interval. */
struct io_obs {
	uint64_t read_bytes;
	uint64_t write_bytes;
	double seconds;       /* over which read_bytes were read */
	double write_seconds; /* over which write_bytes were written (0: seconds) */
};

/* Live processes, and those created and ended within the last window. */
struct proc_count_obs {
	unsigned live;
	unsigned forks;
	unsigned exits;
	double seconds;
	/* the longest chain of processes that forked without an exec in between (a process
	 * copying itself: 1 for a fork of a program, n for its copies' copies) */
	unsigned generations;
	bool pids_refused; /* the pids controller refused a fork within the window */
};

/* Bytes leaving the container: the kernel's count passed its limit ([monitoring]'s nft rule,
 * over read_rate_mb_s beyond a burst of read_threshold_mb), or one connection's total so far. */
struct egress_obs {
	bool rate_exceeded;
	uint64_t conn_bytes;
};

/* One process's CPU use over its life, and its connections. */
struct cpu_obs {
	pid_t pid;
	double share;    /* of one core, averaged over its life */
	double seconds;  /* its age */
	unsigned remote; /* connections to another machine it holds */
	const char *peer;
	const char *comm;
};

/* DNS queries the container sent within a window (logged by [monitoring.nft]'s rules). */
struct dns_obs {
	unsigned queries;
	double seconds;
	const char *last_name; /* the last name asked for; may be NULL */
};

/* A file opened in the container (fanotify), and what opened it. */
struct open_obs {
	pid_t pid;
	const char *path;    /* as the container sees it */
	const char *program; /* the binary, when it is one progid knows or one in a system path
	                        ("ssh", "git-credential-store"); NULL otherwise */
	const char *script;  /* an interpreter's installed program ("aws" for python3
	                        /usr/bin/aws, "azure.cli" for -m azure.cli); NULL otherwise */
	const char *comm;    /* for the evidence */
	bool installed;      /* script is an installed program's path (/usr/..., /opt/...), not a
	                        title the process gave itself */
	bool packaging;      /* it runs under the package manager (dpkg or apt above it) */
	bool private_key;    /* its first bytes say "PRIVATE KEY" (a key in ~/.ssh whatever its
	                        name; a temporary file of sed -i there is none) */
};

/* Files that run later (persistence), by what they do. */
enum persist_kind {
	PERSIST_NONE,
	PERSIST_STARTUP,  /* shell startup files: ~/.bashrc, /etc/profile.d/... */
	PERSIST_SCHEDULE, /* cron, systemd units, autostart, rc.local */
	PERSIST_ACCESS,   /* authorized_keys, sudoers */
	PERSIST_LOADER,   /* /etc/ld.so.preload, ld.so.conf.d */
};
enum persist_kind rules_persist_file(const char *path);

/* A persistence file written in the container: the lines it added. */
struct write_obs {
	pid_t pid; /* 0: a rescan found the change */
	const char *path;
	const char *added;   /* lines, '\n'-separated */
	const char *program; /* the writer's binary, as open_obs; NULL when unknown */
	bool packaging;      /* the writer runs under the package manager */
};

/* What kind of secret a path holds, for the file watch and its rules. */
enum cred_file { CRED_FILE_NONE, CRED_FILE_ENV, CRED_FILE_WEAK, CRED_FILE_STRONG };
enum cred_file rules_cred_file(const char *path);
/* Is name a program that owns some credential file (ssh for ~/.ssh/id_*, ...)? progid learns
 * these binaries so that a copy of cat named ssh is not taken for ssh. */
bool rules_cred_owner_name(const char *name);

struct disk_obs {
	const char *path; /* "/tmp" */
	uint64_t total_bytes;
	uint64_t used_bytes;
};

enum oneliner_mode { ONELINER_CRITICAL, ONELINER_WARN, ONELINER_OFF };

struct cmdline;
struct rule_hit;

/* Thresholds; rules_config_default() gives the original's defaults. */
struct rules_config {
	double read_threshold_mb;  /* per sample window */
	double read_rate_mb_s;     /* and at least this rate */
	double write_threshold_mb; /* same for writes */
	double write_rate_mb_s;
	unsigned max_processes;    /* live processes: WARNING above (0: off) */
	unsigned spawn_threshold;  /* net new processes (forks - exits) within the window:
	                              WARNING above (0: off); with max_processes too and
	                              FORKBOMB_GENERATIONS, HIGH */
	unsigned tmp_warn_percent; /* /tmp used */
	enum oneliner_mode oneliners;
	unsigned dns_per_minute; /* DNS queries a minute; more is a finding (0: no limit) */
	struct in_addr gateway4; /* the bridge address: DNS and the gateway are expected */
	struct in_addr self4;    /* the container's own address */
	/* The session's network policy, when the supervisor knows it: whether it lets a
	 * connection to this private address through (open mode, block_private_networks = false,
	 * an allowed network). NULL: no policy known (a monitor attached by hand), every private
	 * address is unexpected. A function, so this module does not depend on netpolicy. */
	bool (*admits)(const void *policy, const struct conn_obs *c);
	const void *admits_policy;
	/* Rules loaded from files (ruleset.h), asked after the table's own process rules; NULL:
	 * none. A function, so this module does not depend on the loader. */
	size_t (*extra)(const void *set, const struct proc_obs *p, const struct cmdline *cl,
	                struct rule_hit *hits, size_t max);
	const void *extra_set;
};
void rules_config_default(struct rules_config *c);

/* A crypto miner: a process that has kept half a core or more busy for a minute while it
 * holds a connection to another machine (its pool). A build's compilers hold none. */
#define MINER_SHARE   0.5
#define MINER_SECONDS 60

/* Generations of fork-without-exec that, with the spawn rate over its threshold, make a fork
 * bomb: builds fork and exec (make, sh, cc: 1 or 2 generations), a bomb copies itself. */
#define FORKBOMB_GENERATIONS 6

struct cmdline;
struct rule_hit;

struct rule {
	const char *id;
	enum threat_level level;
	const char *category; /* "process", "environment", "credential_access", "network", ... */
	const char *title;
	enum rule_kind kind;
	/* RULE_PROCESS: the predicate over the process and its parsed command line; NULL for the
	 * sample kinds, which rules_match_*() evaluate with their thresholds. */
	bool (*match)(const struct proc_obs *p, const struct cmdline *cl,
	              const struct rules_config *cfg, struct rule_hit *h);
};

#define RULE_TEXT_MAX 256

/* One rule that fired, with what it saw. */
struct rule_hit {
	const struct rule *rule;
	enum threat_level level;     /* the rule's, unless configuration lowered it */
	char pattern[RULE_TEXT_MAX]; /* what matched, e.g. "nc -e" or "/dev/tcp/10.0.0.1/4444" */
	char reason[RULE_TEXT_MAX];  /* a short explanation for the description */
};

#define RULES_MAX_HITS 8

/* Each returns the number of hits written (at most max, one per rule). */
size_t rules_match_process(const struct proc_obs *p, const struct rules_config *cfg,
                           struct rule_hit *hits, size_t max);
size_t rules_match_connection(const struct conn_obs *c, const struct rules_config *cfg,
                              struct rule_hit *hits, size_t max);
size_t rules_match_io(const struct io_obs *o, const struct rules_config *cfg, struct rule_hit *hits,
                      size_t max);
size_t rules_match_proc_count(const struct proc_count_obs *o, const struct rules_config *cfg,
                              struct rule_hit *hits, size_t max);
size_t rules_match_disk(const struct disk_obs *o, const struct rules_config *cfg,
                        struct rule_hit *hits, size_t max);
size_t rules_match_dns(const struct dns_obs *o, const struct rules_config *cfg,
                       struct rule_hit *hits, size_t max);
size_t rules_match_egress(const struct egress_obs *o, const struct rules_config *cfg,
                          struct rule_hit *hits, size_t max);
size_t rules_match_write(const struct write_obs *o, const struct rules_config *cfg,
                         struct rule_hit *hits, size_t max);
size_t rules_match_cpu(const struct cpu_obs *o, const struct rules_config *cfg,
                       struct rule_hit *hits, size_t max);
size_t rules_match_open(const struct open_obs *o, const struct rules_config *cfg,
                        struct rule_hit *hits, size_t max);

/* The class a program name stands for ("bash", "/bin/sh", "-bash", "python3.11"), for a binary
 * whose class is not known otherwise (progid.h). */
enum prog_class prog_class_of_name(const char *name);

/* A multi-call binary's own name ("busybox", "toybox"): one file that is every program, told
 * apart by the name it runs as. */
bool prog_multi_call_name(const char *name);

/* The name the program started with argv runs as: argv[0], or, for a multi-call binary called by
 * its own name (`busybox sh -i`), the program it is asked to be (argv[1]), as busybox and toybox
 * decide it themselves. NULL when argv is empty. */
const char *prog_run_name(char *const *argv);

/* Does an interpreter started with argv (in cwd) run code the session wrote: -c/-e code, code
 * from its input, or a script under /tmp, /var/tmp, /dev/shm, /workspace, /home or /root,
 * rather than an installed program (/usr/..., -m module)? */
bool rules_own_code(char *const *argv, const char *cwd);

/* The whole table, for `coi monitor --rules` and tests. */
const struct rule *rules_table(size_t *ret_n);
const struct rule *rules_find(const char *id);

/* "10.0.0.1" / "[fd00::1]" formatting of an observation's addresses, for evidence. */
void conn_obs_format(const struct conn_obs *c, bool remote, char *out, size_t size);
