/* SPDX-License-Identifier: MIT */
/* top.c: a running session's counters, read on the host (top.h). */
#include "monitor/top.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/sources.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/clock.h"

/* The first number in a small file, or -1. */
static int64_t read_number(const char *path)
{
	char text[64];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	char *end;
	long long v;

	if (n <= 0)
		return -1;
	text[n] = 0;
	v = strtoll(text, &end, 10);
	return end == text || v < 0 ? -1 : v;
}

/* "key value" lines (cgroup v2's cpu.stat): the value of key, or -1. */
static int64_t read_keyed(const char *path, const char *key)
{
	char text[4096], *p;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
	size_t k = strlen(key);

	if (n <= 0)
		return -1;
	text[n] = 0;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == ' ')
			return strtoll(p + k + 1, NULL, 10);
	return -1;
}

static void read_cgroup(const struct cgroup_ref *cg, struct top_counters *t)
{
	char path[512];
	int64_t us;

	if (cg->v1) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuacct%s/cpuacct.usage", cg->root);
		t->cpu_ns = read_number(path);
		snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/memory.usage_in_bytes",
		         cg->root);
		t->mem_bytes = read_number(path);
	} else {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.stat", cg->root);
		us = read_keyed(path, "usage_usec");
		t->cpu_ns = us < 0 ? -1 : us * 1000;
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current", cg->root);
		t->mem_bytes = read_number(path);
	}
}

static int count_one(pid_t pid, void *u)
{
	(void)pid;
	(*(int *)u)++;
	return 0;
}

int top_count_established(const char *text)
{
	int n = 0;

	/* "  sl  local_address rem_address   st ...": the 4th field, 01 is ESTABLISHED */
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		char line[256], st[8];

		/* one line at a time: sscanf would read on across newlines */
		(void)snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (sscanf(line, "%*s %*s %*s %7s", st) == 1 && strcmp(st, "01") == 0)
			n++;
		p += len + (p[len] == '\n');
	}
	return n;
}

static int read_conns(pid_t init_pid)
{
	static const char *const files[] = {"tcp", "tcp6"};
	int total = 0;

	for (size_t i = 0; i < 2; i++) {
		_cleanup_buf_ struct buf b = BUF_INIT(16u << 20);
		_cleanup_close_ int fd = -EBADF;
		char path[64], chunk[8192];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)init_pid, files[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && i == 1)
				break; /* no IPv6 */
			return -1;
		}
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			if (buf_append(&b, chunk, (size_t)n) < 0)
				return -1;
		if (n < 0)
			return -1;
		total += top_count_established(buf_str(&b));
	}
	return total;
}

int top_read(pid_t init_pid, const char *veth, struct top_counters *ret)
{
	struct top_counters t = {.at_ns = clock_mono_ns(), .net_rx = -1, .net_tx = -1};
	struct cgroup_ref cg;
	uint64_t rd, wr;
	char path[256];
	int r;

	r = cgroup_of_init(init_pid, &cg);
	if (r < 0)
		return -ESRCH;
	read_cgroup(&cg, &t);
	if (cgroup_io(&cg, &rd, &wr) >= 0) {
		t.io_read = (int64_t)rd;
		t.io_write = (int64_t)wr;
	} else {
		t.io_read = t.io_write = -1;
	}
	if (veth && strlen(veth) < 64 && !strchr(veth, '/')) {
		/* the host side: what it transmits, the container receives */
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_bytes", veth);
		t.net_rx = read_number(path);
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_bytes", veth);
		t.net_tx = read_number(path);
	}
	r = cgroup_pids(&cg, count_one, &t.procs);
	if (r < 0)
		t.procs = -1;
	t.conns = read_conns(init_pid);
	*ret = t;
	return 0;
}

static double rate(int64_t a, int64_t b, double seconds)
{
	if (a < 0 || b < 0 || seconds <= 0)
		return -1;
	return b >= a ? (double)(b - a) / seconds : 0; /* a counter reset reads as 0 */
}

void top_rates_of(const struct top_counters *a, const struct top_counters *b, struct top_rates *ret)
{
	double s = b->at_ns > a->at_ns ? (double)(b->at_ns - a->at_ns) / 1e9 : 0;
	double cpu = rate(a->cpu_ns, b->cpu_ns, s);

	ret->cpu_percent = cpu < 0 ? -1 : cpu / 1e9 * 100;
	ret->io_read_bps = rate(a->io_read, b->io_read, s);
	ret->io_write_bps = rate(a->io_write, b->io_write, s);
	ret->net_rx_bps = rate(a->net_rx, b->net_rx, s);
	ret->net_tx_bps = rate(a->net_tx, b->net_tx, s);
}
