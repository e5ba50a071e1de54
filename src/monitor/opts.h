/* SPDX-License-Identifier: MIT */
/* opts.h: what a monitor is told (struct monitor_opts), and the response's constants: the part of
 * monitor.h the loop's helpers (responder.c, deadline.c) need, so they do not include monitor.h,
 * whose loop (monitor.c) uses them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "monitor/dnsrec.h"
#include "monitor/rules.h"

struct coi_error;
struct incus_client;
struct monitor_dns;
struct threat;

#define MONITOR_DEDUP_SECONDS 30

/* forensics_on_kill: before a CRITICAL response deletes a container, it is stopped and copied
 * (never started) to coi-forensics-<container>-<YYYYMMDD-HHMMSS> (UTC). The prefix keeps the copy
 * out of `coi list` and `coi clean`, which removes it only with --forensics; older copies of the
 * same container beyond MONITOR_FORENSICS_KEEP are removed. */
#define MONITOR_FORENSICS_PREFIX "coi-forensics-"
#define MONITOR_FORENSICS_KEEP   3 /* per container, the newest */
/* The copy's name for container at when, cut to Incus' 63 characters; -EINVAL if size is short. */
int monitor_forensics_name(const char *container, time_t when, char *out, size_t size);

struct monitor_opts {
	const char *container;
	struct incus_client *client;   /* borrowed */
	bool auto_pause_on_high;       /* default true */
	bool auto_kill_on_critical;    /* default true */
	bool forensics_on_kill;        /* copy the container before a CRITICAL kill deletes it */
	unsigned audit_retention_days; /* 30; 0: keep all */
	struct rules_config rules;
	unsigned sample_ms;   /* I/O, sockets, process count, /tmp (every 10th); default 1000 */
	unsigned scan_ms;     /* the /proc scan when the proc connector is not available; 500 */
	uint16_t nflog_group; /* 0: no NFLOG listener; the session sets coi_nflog_group() */
	bool force_scan;      /* use the /proc scan even when the proc connector works */
	bool prescan;         /* a claimed warm container: its filler's first read (prescan.h) */

	/* export.h: where findings go as they happen. on_finding and on_finding_url may hold
	 * tokens, so the supervisor reads them from its environment (settings.h), not from its
	 * command line, which `ps` shows to every user. */
	enum threat_level export_level; /* warning */
	const char *on_finding;         /* a command, or NULL */
	const char *on_finding_url;     /* a URL, or NULL */
	const char *syslog_socket;      /* NULL: no syslog */
	const char *metrics_dir;        /* NULL: no metrics file */
	/* ruleset.h: rule files besides coi's own (NULL: none) */
	const char *gtfobins_dir;
	const char *sigma_dir;

	/* Hooks; all may be NULL. remove_network runs before a CRITICAL stop. alert sees every
	 * finding of WARNING or above that is not a repeat (after its action); it is how the user
	 * hears of it (INFO records go to the audit log only). periodic
	 * runs every periodic_s seconds (the allowlist refresh). */
	int (*remove_network)(const char *container, void *userdata);
	void (*alert)(const struct threat *t, void *userdata);
	void (*periodic)(void *userdata);
	unsigned periodic_s;
	/* Called once every source is live, just before the loop starts waiting. */
	void (*ready)(void *userdata);

	/* The credential proxy, a child of the supervisor (proxyrec.h): egress_fd is readable when
	 * it refused requests, which egress_read turns into findings one at a time (1; strings of
	 * t valid until the next call), or says none is left (0) or that the proxy is gone (< 0);
	 * egress_pidfd is readable once it ended. -1: none. */
	int egress_fd, egress_pidfd;
	int (*egress_read)(int fd, struct threat *t, char *key, size_t key_size, void *userdata);
	/* The session's DNS filter, a child of the supervisor: dns_fd is readable when it has
	 * records, which dns_read hands over (1 with one, 0 when none is left, < 0 when the filter
	 * is gone); dns_pidfd is readable once the filter ended, and dns_ended says how: the user
	 * is told (a warning and an alert: the container resolves no new names). -1: none. */
	int dns_fd, dns_pidfd;
	int (*dns_read)(int fd, struct monitor_dns *ret, void *userdata);
	void (*dns_ended)(char *text, size_t size, void *userdata);
	bool dns_count_all; /* every query counts towards dns-rate ([monitoring.nft]) */

	/* limits.runtime.max_duration of a session that may outlive its coi process (deadline.h):
	 * seconds from the start of the supervisor, 0: none. handed_over says whether the session
	 * still has a coi process that enforces it (0) or not (1; NULL: never has); expire ends the
	 * session, re-checking the instance (deadline_same_instance) before each step. */
	unsigned max_duration_s;
	bool duration_warn_only; /* auto_stop = false: only record it */
	int (*handed_over)(const char *container, void *userdata);
	int (*expire)(const char *container, const char *uuid, int pidfd, void *userdata,
	              struct coi_error *err);
	void *userdata;
};
void monitor_opts_default(struct monitor_opts *o);

/* The DNS filter's part of o, for dnsrec_new() (count: the dns-rate counter, or NULL). */
struct dnsrec_opts monitor_dnsrec_opts(const struct monitor_opts *o,
                                       void (*count)(void *u, const char *name), void *u);
