/* SPDX-License-Identifier: MIT */
/* coi top: a live view of the sessions on this daemon: CPU, memory, disk and network rates,
 * connections and processes (read on the host, monitor/top.h), whether each has its monitor, and
 * its last finding (the audit log). Redraws every interval on a terminal; --once (and any output
 * that is not a terminal) prints one sample, --json as JSON. */
#include "monitor/top.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "cmd/table.h"
#include "incus/incus.h"
#include "monitor/audit.h"
#include "monitor/monitor.h"
#include "session/fleet.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

const struct verb verb_top;

struct row {
	char *name;
	char *workspace;
	char *status;
	pid_t init_pid;
	char *veth;
	struct top_counters prev, cur;
	bool have_prev, have_cur;
	pid_t monitor_pid; /* 0: none */
	int has_last;
	struct audit_finding last;
};

struct rows {
	struct row *v;
	size_t n;
};

static void row_release(struct row *r)
{
	free(r->name);
	free(r->workspace);
	free(r->status);
	free(r->veth);
}

static void rows_release(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		row_release(&rs->v[i]);
	free(rs->v);
	*rs = (struct rows){0};
}

static struct row *rows_find(struct rows *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].name, name) == 0)
			return &rs->v[i];
	return NULL;
}

/* Where the session runs: its init and its veth, once per container (they do not change). */
static int row_attach(struct incus_client *c, struct row *r)
{
	struct incus_instance_state *st = NULL;
	const struct incus_nic *nic;
	int q = incus_instance_state(c, r->name, &st, NULL);

	if (q < 0)
		return q;
	r->init_pid = (pid_t)st->pid;
	nic = incus_state_nic(st, "eth0");
	r->veth = nic && nic->host_name ? strdup(nic->host_name) : NULL;
	incus_instance_state_free(st);
	return 0;
}

/* The sessions now, keeping the counters of those seen before (the rates need two samples). */
static int refresh(struct incus_client *c, struct rows *rs, struct coi_error *err)
{
	struct fleet f = {0};
	struct rows next = {0};
	int r;

	r = fleet_list(c, false, &f, err);
	if (r < 0)
		return r;
	next.v = calloc(f.n ? f.n : 1, sizeof(*next.v));
	if (!next.v) {
		fleet_release(&f);
		return coi_error_oom(err);
	}
	for (size_t i = 0; i < f.n; i++) {
		const struct fleet_entry *e = &f.items[i];
		struct row *old = rows_find(rs, e->name), *n = &next.v[next.n];

		if (strcmp(e->status, "Running") != 0 && strcmp(e->status, "Frozen") != 0)
			continue;
		if (old) {
			*n = *old;
			free(n->status);
			*old = (struct row){.name = strdup("")}; /* moved */
		} else {
			*n = (struct row){.name = strdup(e->name)};
			if (!n->name || row_attach(c, n) < 0) {
				row_release(n);
				continue;
			}
		}
		n->workspace =
		        n->workspace ? n->workspace : strdup(e->workspace ? e->workspace : "");
		n->status = strdup(e->status);
		next.n++;
	}
	fleet_release(&f);
	rows_release(rs);
	*rs = next;
	return 0;
}

static void sample(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct row *r = &rs->v[i];
		struct top_counters t;

		if (top_read(r->init_pid, r->veth, &t) < 0)
			continue;
		r->prev = r->cur;
		r->have_prev = r->have_cur;
		r->cur = t;
		r->have_cur = true;
		if (monitor_supervisor_find(r->name, &r->monitor_pid, NULL) < 0)
			r->monitor_pid = 0;
		r->has_last = audit_last_finding(r->name, THREAT_WARNING, &r->last);
	}
}

/* ---- output -------------------------------------------------------------------------------- */

static void human(double v, const char *unit, char *out, size_t size)
{
	static const char *const pre[] = {"", "K", "M", "G", "T"};
	size_t i = 0;

	if (v < 0) {
		snprintf(out, size, "-");
		return;
	}
	while (v >= 1024 && i + 1 < sizeof(pre) / sizeof(pre[0])) {
		v /= 1024;
		i++;
	}
	snprintf(out, size, i && v < 10 ? "%.1f%s%s" : "%.0f%s%s", v, pre[i], unit);
}

static void age(time_t t, char *out, size_t size)
{
	long s = (long)difftime(time(NULL), t);

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, size, "%lds", s);
	else if (s < 7200)
		snprintf(out, size, "%ldm", s / 60);
	else if (s < 172800)
		snprintf(out, size, "%ldh", s / 3600);
	else
		snprintf(out, size, "%ldd", s / 86400);
}

static json_t *rate_json(double v)
{
	return v < 0 ? json_null() : json_real(round(v * 10) / 10);
}

static json_t *row_json(const struct row *r)
{
	struct top_rates rt = {-1, -1, -1, -1, -1};
	json_t *o, *last = json_null();

	if (r->have_prev)
		top_rates_of(&r->prev, &r->cur, &rt);
	if (r->has_last > 0)
		last = json_pack("{s:s, s:s, s:s, s:s}", "level",
		                 threat_level_to_string(r->last.level), "title", r->last.title,
		                 "action", r->last.action, "timestamp", r->last.timestamp);
	o = json_pack("{s:s, s:s, s:s, s:i}", "name", r->name, "workspace", r->workspace, "status",
	              r->status, "init_pid", (int)r->init_pid);
	if (!o || json_object_set_new(o, "cpu_percent", rate_json(rt.cpu_percent)) < 0 ||
	    json_object_set_new(o, "memory_bytes",
	                        r->cur.mem_bytes < 0 ? json_null()
	                                             : json_integer(r->cur.mem_bytes)) < 0 ||
	    json_object_set_new(o, "disk_read_bytes_per_sec", rate_json(rt.io_read_bps)) < 0 ||
	    json_object_set_new(o, "disk_write_bytes_per_sec", rate_json(rt.io_write_bps)) < 0 ||
	    json_object_set_new(o, "net_rx_bytes_per_sec", rate_json(rt.net_rx_bps)) < 0 ||
	    json_object_set_new(o, "net_tx_bytes_per_sec", rate_json(rt.net_tx_bps)) < 0 ||
	    json_object_set_new(o, "connections",
	                        r->cur.conns < 0 ? json_null() : json_integer(r->cur.conns)) < 0 ||
	    json_object_set_new(o, "processes",
	                        r->cur.procs < 0 ? json_null() : json_integer(r->cur.procs)) < 0 ||
	    json_object_set_new(o, "monitor", json_boolean(r->monitor_pid > 0)) < 0 ||
	    json_object_set_new(o, "last_finding", last) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct rows *rs)
{
	_cleanup_json_ json_t *arr = json_array();
	_cleanup_free_ char *s = NULL;

	for (size_t i = 0; arr && i < rs->n; i++)
		if (json_array_append_new(arr, row_json(&rs->v[i])) < 0)
			return cmd_failf("out of memory");
	s = arr ? json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!s)
		return cmd_failf("out of memory");
	printf("%s\n", s);
	return EXIT_OK;
}

static void row_cells(const struct row *r, char cells[9][160])
{
	struct top_rates rt = {-1, -1, -1, -1, -1};
	char a[32], b[32], when[32];

	if (r->have_prev)
		top_rates_of(&r->prev, &r->cur, &rt);
	snprintf(cells[0], 160, "%s", r->name);
	if (strcmp(r->status, "Running") != 0)
		snprintf(cells[1], 160, "%s", r->status);
	else if (rt.cpu_percent < 0)
		snprintf(cells[1], 160, "-");
	else
		snprintf(cells[1], 160, "%.1f%%", rt.cpu_percent);
	human((double)r->cur.mem_bytes, "", cells[2], 160);
	human(rt.io_read_bps, "", a, sizeof(a));
	human(rt.io_write_bps, "", b, sizeof(b));
	snprintf(cells[3], 160, "%s/s %s/s", a, b);
	human(rt.net_rx_bps, "", a, sizeof(a));
	human(rt.net_tx_bps, "", b, sizeof(b));
	snprintf(cells[4], 160, "%s/s %s/s", a, b);
	if (r->cur.conns < 0)
		snprintf(cells[5], 160, "-");
	else
		snprintf(cells[5], 160, "%d", r->cur.conns);
	snprintf(cells[6], 160, "%d", r->cur.procs);
	snprintf(cells[7], 160, "%s", r->monitor_pid > 0 ? "on" : "off");
	if (r->has_last > 0) {
		age(r->last.time, when, sizeof(when));
		snprintf(cells[8], 160, "%s %s ago: %.80s", threat_level_to_string(r->last.level),
		         when, r->last.title);
	} else {
		snprintf(cells[8], 160, "-");
	}
}

static int print_table(const struct rows *rs, bool clear)
{
	static const char *const headers[] = {"CONTAINER",    "CPU",   "MEM",   "DISK R/W",
	                                      "NET RX/TX",    "CONNS", "PROCS", "MONITOR",
	                                      "LAST FINDING", NULL};
	struct table *t = table_new(headers);

	if (!t)
		return cmd_failf("out of memory");
	for (size_t i = 0; i < rs->n; i++) {
		char cells[9][160];
		const char *p[9];

		row_cells(&rs->v[i], cells);
		for (size_t k = 0; k < 9; k++)
			p[k] = cells[k];
		if (table_add(t, p) < 0) {
			table_free(t);
			return cmd_failf("out of memory");
		}
	}
	if (clear)
		printf("\033[H\033[2J");
	if (rs->n == 0)
		printf("no coi sessions are running\n");
	else
		table_print(t, stdout);
	fflush(stdout);
	table_free(t);
	return EXIT_OK;
}

/* ---- the command --------------------------------------------------------------------------- */

struct top_args {
	bool once, json;
	double interval; /* seconds */
};

static int wait_tick(int tfd)
{
	uint64_t exp;

	return read(tfd, &exp, sizeof(exp)) < 0 ? cmd_failf("timer: %s", strerror(errno)) : 0;
}

static int run_top(struct incus_client *c, const struct top_args *a)
{
	struct itimerspec its = {0};
	struct rows rs = {0};
	struct coi_error err = {0};
	_cleanup_close_ int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	bool live = !a->once && !a->json && output_is_tty(stdout);
	int rc = EXIT_OK;

	its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)a->interval;
	its.it_value.tv_nsec = its.it_interval.tv_nsec =
	        (long)((a->interval - floor(a->interval)) * 1e9);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		return cmd_failf("cannot create a timer: %s", strerror(errno));
	if (refresh(c, &rs, &err) < 0)
		return cmd_fail(&err);
	sample(&rs);
	for (;;) {
		rc = wait_tick(tfd);
		if (rc != EXIT_OK)
			break;
		if (refresh(c, &rs, &err) < 0) {
			rc = cmd_fail(&err);
			break;
		}
		sample(&rs);
		rc = a->json ? print_json(&rs) : print_table(&rs, live);
		if (!live || rc != EXIT_OK)
			break;
	}
	rows_release(&rs);
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"once", no_argument, NULL, '1'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"interval", required_argument, NULL, 'i'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct top_args a = {.interval = 2};
	_cleanup_incus_client_ struct incus_client *c = NULL;
	char *end;
	int ch, rc, json;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (ch) {
		case '1':
			a.once = true;
			break;
		case 'j':
			a.json = true;
			break;
		case 'F':
			if (cmd_parse_format(&verb_top, optarg, &json))
				return EXIT_USAGE;
			a.json = json;
			break;
		case 'i':
			a.interval = strtod(optarg, &end);
			if (*end || !(a.interval >= 0.2 && a.interval <= 3600))
				return cmd_usage_error(
				        &verb_top,
				        "--interval takes seconds from 0.2 to 3600, not '%s'",
				        optarg);
			break;
		case 'h':
			return cmd_help(&verb_top);
		default:
			return cmd_bad_option(&verb_top, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&verb_top, "unexpected argument '%s'", argv[optind]);
	rc = cmd_open_client(&c);
	if (rc != 0)
		return rc;
	return run_top(c, &a);
}

const struct verb verb_top = {
        .name = "top",
        .run = run,
        .summary = "show the running sessions' CPU, memory, I/O, connections and last finding",
        .usage = "Usage: coi top [--once] [--json | --format text|json] [--interval S]\n"
                 "\n"
                 "A live view of coi's running sessions, read on the host: CPU (100% is one\n"
                 "core), memory, disk and network bytes a second, established TCP connections,\n"
                 "processes, whether the session's monitor runs, and its last finding of level\n"
                 "warning or above (from ~/.coi/audit). Redraws every interval until Ctrl-C.\n"
                 "\n"
                 "  --once        print one sample (two reads an interval apart) and exit; what\n"
                 "                coi top does when its output is not a terminal\n"
                 "  --json        one sample as JSON (rates in bytes a second; null: unknown)\n"
                 "  -i, --interval S  seconds between samples (0.2..3600, default 2)",
};
