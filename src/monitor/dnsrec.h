/* SPDX-License-Identifier: MIT */
/* dnsrec.h: the DNS filter's records and its end, as sources of the supervisor's loop (the
 * monitor's, or the deadline's when monitoring is off): each record is an audit line (at most
 * DNSREC_RATE a second; the rest are counted in one line), a refused one (or any, with
 * count_all) is passed to count; the filter's end is a warning in the audit log and an alert. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct audit;
struct loop;
struct threat;

/* A DNS query the session's DNS filter answered (egress/dnsproc.h), as the supervisor hands it
 * over: a line in the audit log ("dns-query", or "dns-refused" for a name that never left the
 * host), and a count towards the dns-rate finding when refused (or with dns_count_all). */
struct monitor_dns {
	const char *name;    /* as asked, printable */
	const char *type;    /* "A", "TXT", "TYPE65", ... */
	const char *verdict; /* "allowed", "refused", "forwarded", "local", "empty" */
	const char *detail;  /* the addresses answered and for how long, or why */
	bool refused;        /* answered by coi without asking anyone (an unlisted name) */
	bool tcp;
	unsigned lost; /* records the filter could not hand over before this one */
};

#define DNSREC_RATE 200 /* audit lines a second */

struct dnsrec_opts {
	const char *container;
	int fd, pidfd; /* monitor_opts' dns_fd and dns_pidfd; -1: none */
	int (*read)(int fd, struct monitor_dns *ret, void *userdata);
	void (*ended)(char *text, size_t size, void *userdata);
	void (*alert)(const struct threat *t, void *userdata);
	void *userdata;
	bool count_all;
	/* each record that counts towards the dns-rate finding (NULL: none) */
	void (*count)(void *u, const char *name);
	void *count_userdata;
};

struct dnsrec;

/* Adds o->fd and o->pidfd (when set) to l; the loop owns them then. */
int dnsrec_new(const struct dnsrec_opts *o, struct audit *audit, struct loop *l,
               struct dnsrec **ret);
struct dnsrec *dnsrec_free(struct dnsrec *d);
