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
};

/* A process that just exec'd, as read from the host's /proc. */
struct proc_obs {
	pid_t pid;
	pid_t ppid;
	uid_t uid;          /* as seen inside the container */
	char *const *argv;  /* NULL-terminated */
	const char *exe;    /* may be NULL */
	const char *cwd;    /* may be NULL */
	const char *parent; /* parent chain summary, e.g. "sh<node<tmux"; may be NULL */
	bool stdio_inet;    /* fd 0 or 1 is a TCP/UDP socket */
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
};

/* Bytes moved by the container's cgroup in an interval. */
struct io_obs {
	uint64_t read_bytes;
	uint64_t write_bytes;
	double seconds;
};

/* Live processes, and those created and ended within the last window. */
struct proc_count_obs {
	unsigned live;
	unsigned forks;
	unsigned exits;
	double seconds;
};

/* DNS queries the container sent within a window (logged by [monitoring.nft]'s rules). */
struct dns_obs {
	unsigned queries;
	double seconds;
	const char *last_name; /* the last name asked for; may be NULL */
};

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
	unsigned max_processes;    /* live processes */
	unsigned spawn_threshold;  /* net new processes (forks - exits) within the window */
	unsigned tmp_warn_percent; /* /tmp used */
	enum oneliner_mode oneliners;
	unsigned dns_per_minute; /* DNS queries a minute; more is a finding (0: no limit) */
	struct in_addr gateway4; /* the bridge address: DNS and the gateway are expected */
	struct in_addr self4;    /* the container's own address */
	/* Rules loaded from files (ruleset.h), asked after the table's own process rules; NULL:
	 * none. A function, so this module does not depend on the loader. */
	size_t (*extra)(const void *set, const struct proc_obs *p, const struct cmdline *cl,
	                struct rule_hit *hits, size_t max);
	const void *extra_set;
};
void rules_config_default(struct rules_config *c);

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

/* The whole table, for `coi monitor --rules` and tests. */
const struct rule *rules_table(size_t *ret_n);
const struct rule *rules_find(const char *id);

/* "10.0.0.1" / "[fd00::1]" formatting of an observation's addresses, for evidence. */
void conn_obs_format(const struct conn_obs *c, bool remote, char *out, size_t size);
