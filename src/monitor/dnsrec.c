/* SPDX-License-Identifier: MIT */
/* dnsrec.c: see dnsrec.h. */
#include "monitor/dnsrec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "monitor/audit.h"
#include "monitor/loop.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"

#define RECORDS_PER_WAKEUP 256

struct dnsrec {
	struct dnsrec_opts o;
	struct audit *audit; /* borrowed */
	int64_t second;
	unsigned written, skipped, lost;
};

static void write_line(struct dnsrec *d, struct threat *t)
{
	struct coi_error err = {0};

	threat_init(t);
	if (d->audit && audit_write(d->audit, t, &err) < 0)
		log_debug("dns: cannot write the audit log: %s, ignoring", coi_error_message(&err));
}

/* Queries not written (over the rate) or not handed over (the filter was ahead): one line. */
static void write_gap(struct dnsrec *d)
{
	char desc[200];
	struct threat t = {.level = THREAT_INFO,
	                   .category = "network",
	                   .title = "DNS queries not recorded",
	                   .rule = "dns-query",
	                   .action = ACTION_LOGGED,
	                   .description = desc,
	                   .kind = EVIDENCE_NETWORK};

	if (!d->skipped && !d->lost)
		return;
	(void)snprintf(desc, sizeof(desc),
	               "%u DNS queries not recorded (more than %d a second), %u lost on the way "
	               "from the DNS filter",
	               d->skipped, DNSREC_RATE, d->lost);
	t.ev.network.reason = "coi's DNS filter";
	write_line(d, &t);
	d->skipped = d->lost = 0;
}

static void on_record(struct dnsrec *d, const struct monitor_dns *q)
{
	int64_t now = clock_mono_ms() / 1000;
	char desc[1400];
	struct threat t = {.level = THREAT_INFO,
	                   .category = "network",
	                   .title = q->refused ? "DNS query refused" : "DNS query",
	                   .rule = q->refused ? "dns-refused" : "dns-query",
	                   .action = ACTION_LOGGED,
	                   .description = desc,
	                   .kind = EVIDENCE_NETWORK};
	int n;

	d->lost += q->lost;
	if (d->o.count && (q->refused || d->o.count_all))
		d->o.count(d->o.count_userdata, q->name);
	if (now != d->second) {
		write_gap(d);
		d->second = now;
		d->written = 0;
	}
	if (d->written >= DNSREC_RATE) {
		d->skipped++;
		return;
	}
	d->written++;
	n = snprintf(desc, sizeof(desc), "DNS query for '%s' (%s): %s%s%s", q->name, q->type,
	             q->verdict, q->detail && *q->detail ? ", " : "", q->detail ? q->detail : "");
	if (n < 0 || (size_t)n >= sizeof(desc))
		desc[sizeof(desc) - 1] = '\0';
	t.ev.network.protocol = q->tcp ? "tcp" : "udp";
	t.ev.network.state = "DNS";
	t.ev.network.reason = "coi's DNS filter";
	t.ev.network.remote_host = q->name;
	write_line(d, &t);
}

static int on_records(struct loop *l, int fd, uint32_t events, void *u)
{
	struct dnsrec *d = u;

	for (int i = 0; i < RECORDS_PER_WAKEUP; i++) {
		struct monitor_dns q = {0};
		int r = d->o.read(fd, &q, d->o.userdata);

		if (r < 0) { /* the filter is gone: its pidfd says how */
			(void)loop_remove_fd(l, fd);
			break;
		}
		if (r == 0)
			break;
		on_record(d, &q);
	}
	return 0;
}

static int on_filter_end(struct loop *l, int fd, uint32_t events, void *u)
{
	struct dnsrec *d = u;
	const struct dnsrec_opts *o = &d->o;
	char how[160] = "ended", desc[600];
	struct threat t = {.level = THREAT_WARNING,
	                   .category = "network",
	                   .title = "DNS filter stopped",
	                   .rule = "dns-filter",
	                   .action = ACTION_ALERTED,
	                   .description = desc,
	                   .kind = EVIDENCE_NETWORK};

	(void)loop_remove_fd(l, fd);
	if (o->ended)
		o->ended(how, sizeof(how), o->userdata);
	(void)snprintf(desc, sizeof(desc),
	               "the DNS filter of '%s' %s: the container resolves no new names, and the "
	               "addresses it resolved become unreachable as their time runs out; end the "
	               "session and start a new one",
	               o->container, how);
	t.ev.network.reason = "coi's DNS filter";
	write_line(d, &t);
	if (o->alert)
		o->alert(&t, o->userdata);
	return 0;
}

int dnsrec_new(const struct dnsrec_opts *o, struct audit *audit, struct loop *l,
               struct dnsrec **ret)
{
	struct dnsrec *d;
	int r = 0;

	*ret = NULL;
	if (o->fd < 0 && o->pidfd < 0)
		return 0;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct dnsrec){.o = *o, .audit = audit};
	if (o->fd >= 0 && o->read)
		r = loop_add_fd(l, o->fd, true, on_records, d);
	if (r >= 0 && o->pidfd >= 0)
		r = loop_add_fd(l, o->pidfd, true, on_filter_end, d);
	if (r < 0) {
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

struct dnsrec *dnsrec_free(struct dnsrec *d)
{
	free(d);
	return NULL;
}
