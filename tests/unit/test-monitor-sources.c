/* SPDX-License-Identifier: MIT */
/* The monitor's decoders and plumbing without a container: proc connector, NFLOG and sock_diag
 * datagrams built by hand, cgroup I/O text, the NFLOG prefix and group, the event loop, and the
 * supervisor's pid file with a real child process. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/sock_diag.h>
#include <netinet/ip.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/loop.h"
#include "monitor/monitor.h"
#include "monitor/sources.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"

static struct proccn_event got[8];
static int n_got;

static void on_event(const struct proccn_event *ev, void *u)
{
	if (n_got < 8)
		got[n_got++] = *ev;
}

static size_t put_proc_event(char *buf, const struct proc_event *pe)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct cn_msg *cn = NLMSG_DATA(nlh);

	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(*pe));
	nlh->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(*pe);
	memcpy(cn->data, pe, sizeof(*pe));
	return NLMSG_ALIGN(nlh->nlmsg_len);
}

static void test_proccn_parse(void)
{
	char buf[1024] __attribute__((aligned(8))) = {0};
	struct proc_event pe = {0};
	size_t len = 0;

	pe.what = PROC_EVENT_FORK;
	pe.timestamp_ns = 42;
	pe.event_data.fork.parent_tgid = 10;
	pe.event_data.fork.child_pid = 11;
	pe.event_data.fork.child_tgid = 11;
	len += put_proc_event(buf + len, &pe);
	pe = (struct proc_event){.what = PROC_EVENT_EXEC};
	pe.event_data.exec.process_tgid = 11;
	pe.event_data.exec.process_pid = 11;
	len += put_proc_event(buf + len, &pe);
	pe = (struct proc_event){.what = PROC_EVENT_EXIT};
	pe.event_data.exit.process_pid = 12;
	pe.event_data.exit.process_tgid = 11;
	len += put_proc_event(buf + len, &pe);
	n_got = 0;
	CHECK(proccn_parse(buf, len, on_event, NULL) == 3);
	CHECK(got[0].what == PROCCN_FORK && got[0].pid == 11 && got[0].ppid == 10 &&
	      !got[0].thread && got[0].time_ns == 42);
	CHECK(got[1].what == PROCCN_EXEC && got[1].pid == 11);
	CHECK(got[2].what == PROCCN_EXIT && got[2].thread); /* a thread of 11 ended */
	/* truncated: nothing, no crash */
	n_got = 0;
	CHECK(proccn_parse(buf, 20, on_event, NULL) <= 0 && n_got == 0);
}

/* The socket filter on real sockets: a datagram socket runs it on the bytes the proc connector
 * would send (the filter sees a netlink message from its header on). */
static void test_proccn_filter(void)
{
	struct {
		uint32_t what;
		pid_t pid, tgid;
		bool pass;
	} cases[] = {
	        {PROC_EVENT_FORK, 11, 11, true},    {PROC_EVENT_FORK, 12, 11, false}, /* thread */
	        {PROC_EVENT_EXEC, 11, 11, true},    {PROC_EVENT_EXIT, 11, 11, true},
	        {PROC_EVENT_EXIT, 12, 11, false},   {PROC_EVENT_COMM, 11, 11, false},
	        {PROC_EVENT_UID, 11, 11, false},    {PROC_EVENT_SID, 11, 11, false},
	        {PROC_EVENT_PTRACE, 11, 11, false}, {PROC_EVENT_COREDUMP, 11, 11, false},
	        {PROC_EVENT_NONE, 0, 0, false}, /* the ack of our listen request */
	};
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0);
	CHECK(proccn_filter_attach(sv[1]) == 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[256] __attribute__((aligned(8))) = {0};
		struct proc_event pe = {.what = cases[i].what};
		size_t len;
		ssize_t n;

		if (cases[i].what == PROC_EVENT_FORK) {
			pe.event_data.fork.parent_pid = pe.event_data.fork.parent_tgid = 10;
			pe.event_data.fork.child_pid = cases[i].pid;
			pe.event_data.fork.child_tgid = cases[i].tgid;
		} else { /* exec and exit (and the others) begin with the pid and the tgid */
			pe.event_data.exit.process_pid = cases[i].pid;
			pe.event_data.exit.process_tgid = cases[i].tgid;
		}
		len = put_proc_event(buf, &pe);
		CHECK(send(sv[0], buf, len, 0) == (ssize_t)len);
		n_got = 0;
		n = recv(sv[1], buf, sizeof(buf), 0);
		CHECK((n > 0) == cases[i].pass);
		if ((n > 0) != cases[i].pass)
			printf("# case %zu: what %#x pid %d tgid %d: %s\n", i, cases[i].what,
			       (int)cases[i].pid, (int)cases[i].tgid, n > 0 ? "passed" : "dropped");
		/* what passes is whole and parses as before */
		if (n > 0)
			CHECK(n == (ssize_t)len &&
			      proccn_parse(buf, (size_t)n, on_event, NULL) == 1 &&
			      got[0].pid == cases[i].tgid && !got[0].thread);
	}
	close(sv[0]);
	close(sv[1]);
}

/* One event through a socketpair whose receiving end has the filter: whether it passed. */
static bool through(int sv[2], uint32_t what, pid_t a, pid_t b, pid_t c, pid_t d)
{
	char buf[256] __attribute__((aligned(8))) = {0};
	struct proc_event pe = {.what = what};
	uint32_t *w = (uint32_t *)&pe.event_data;
	size_t len;

	w[0] = (uint32_t)a, w[1] = (uint32_t)b, w[2] = (uint32_t)c, w[3] = (uint32_t)d;
	len = put_proc_event(buf, &pe);
	if (send(sv[0], buf, len, 0) != (ssize_t)len)
		return false;
	return recv(sv[1], buf, sizeof(buf), 0) == (ssize_t)len;
}

static bool bit(const uint64_t *words, pid_t p)
{
	return (__atomic_load_n(&words[p / 64], __ATOMIC_RELAXED) >> (p % 64)) & 1;
}

/* The eBPF filter: the foreign set in the kernel, shared with us (root only: skipped else). */
static void test_proccn_filter_foreign(void)
{
	uint64_t *words = NULL;
	size_t bytes = 0;
	int sv[2], r;

	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0);
	r = proccn_filter_foreign(sv[1], 1000, &words, &bytes);
	if (r == -EPERM || r == -EACCES) {
		printf("# no eBPF here (%s): skipped\n", strerror(-r));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	CHECK(r == 0 && words && bytes >= (1000 / 64 + 1) * 8);
	if (r < 0)
		return;
	/* unknown processes: all passes, as the classic filter lets it */
	CHECK(through(sv, PROC_EVENT_FORK, 1, 1, 200, 200));
	CHECK(!through(sv, PROC_EVENT_FORK, 1, 1, 201, 200)); /* a thread */
	CHECK(through(sv, PROC_EVENT_EXEC, 200, 200, 0, 0));
	CHECK(!through(sv, PROC_EVENT_COMM, 200, 200, 0, 0));
	CHECK(!through(sv, PROC_EVENT_EXIT, 201, 200, 0, 0)); /* a thread */
	/* 200 found foreign: its exec, its children and theirs drop, and are marked */
	__atomic_fetch_or(&words[200 / 64], 1ull << (200 % 64), __ATOMIC_RELAXED);
	CHECK(!through(sv, PROC_EVENT_EXEC, 200, 200, 0, 0));
	CHECK(!through(sv, PROC_EVENT_FORK, 200, 200, 300, 300) && bit(words, 300));
	CHECK(!through(sv, PROC_EVENT_FORK, 300, 300, 999, 999) && bit(words, 999));
	CHECK(!through(sv, PROC_EVENT_EXEC, 999, 999, 0, 0));
	/* a foreign process ends: forgotten; its pid's next process is unknown */
	CHECK(!through(sv, PROC_EVENT_EXIT, 300, 300, 0, 0) && !bit(words, 300));
	CHECK(through(sv, PROC_EVENT_EXEC, 300, 300, 0, 0));
	/* a stale mark is cleared by the fork of an unknown parent */
	__atomic_fetch_or(&words[400 / 64], 1ull << (400 % 64), __ATOMIC_RELAXED);
	CHECK(through(sv, PROC_EVENT_FORK, 1, 1, 400, 400) && !bit(words, 400));
	/* past pid_max: unknown */
	CHECK(through(sv, PROC_EVENT_EXEC, 1 << 20, 1 << 20, 0, 0));
	CHECK(through(sv, PROC_EVENT_FORK, 1 << 20, 1 << 20, 5, 5));
	/* the others still drop, the short ack too */
	CHECK(!through(sv, PROC_EVENT_UID, 200, 200, 0, 0));
	CHECK(!through(sv, PROC_EVENT_NONE, 0, 0, 0, 0));
	munmap(words, bytes);
	close(sv[0]);
	close(sv[1]);
}

static struct nflog_packet pkt;
static int n_pkt;

static void on_pkt(const struct nflog_packet *p, void *u)
{
	pkt = *p;
	n_pkt++;
}

static void test_nflog_parse(void)
{
	char buf[512] __attribute__((aligned(8))) = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint8_t ip[40] = {0x45, 0, 0, 40, 0, 0, 0, 0, 64, IPPROTO_TCP};
	char name[64];

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "coi-deny:coi-abc-1 ");
	inet_pton(AF_INET, "10.0.0.5", ip + 12);
	inet_pton(AF_INET, "192.168.1.9", ip + 16);
	ip[20] = 0x9c, ip[21] = 0x40; /* sport 40000 */
	ip[22] = 0x1f, ip[23] = 0x90; /* dport 8080 */
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	n_pkt = 0;
	CHECK(nflog_parse(buf, nlh->nlmsg_len, on_pkt, NULL) == 1 && n_pkt == 1);
	CHECK(pkt.conn.family == AF_INET && pkt.conn.proto == IPPROTO_TCP);
	CHECK(pkt.conn.dport == 8080 && pkt.conn.sport == 40000 && pkt.conn.refused);
	CHECK(nflog_prefix_container(pkt.prefix, name, sizeof(name)));
	CHECK_STREQ(name, "coi-abc-1");
	CHECK(!nflog_prefix_container("other: ", name, sizeof(name)));
	CHECK(!nflog_prefix_container("coi-deny: ", name, sizeof(name)));
	/* a payload too short for an IP header: skipped */
	n_pkt = 0;
	CHECK(nflog_parse(buf, 24, on_pkt, NULL) <= 0 && n_pkt == 0);
}

/* An NFULNL_MSG_PACKET as the kernel sends it: prefix, then the packet. */
static size_t put_nflog(char *buf, const char *prefix, const uint8_t *ip, size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	mnl_attr_put(nlh, NFULA_PAYLOAD, len, ip);
	return nlh->nlmsg_len;
}

/* An IPv4/UDP DNS query for name (type 16, TXT) from 10.0.0.5:5353 to 10.0.0.1:53; its length. */
static size_t dns_packet(uint8_t *p, const char *name)
{
	size_t n = 28 + 12, l;

	memset(p, 0, 400);
	p[0] = 0x45, p[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "10.0.0.5", p + 12);
	inet_pton(AF_INET, "10.0.0.1", p + 16);
	p[20] = 0x14, p[21] = 0xe9, p[23] = 53;
	p[28] = 0x12, p[29] = 0x34, p[30] = 0x01, p[33] = 1; /* id, RD, one question */
	for (const char *s = name; *s; s += l + (s[l] == '.')) {
		l = strcspn(s, ".");
		p[n++] = (uint8_t)l;
		memcpy(p + n, s, l);
		n += l;
	}
	p[n++] = 0;
	p[n++] = 0, p[n++] = 16, p[n++] = 0, p[n++] = 1;
	return n;
}

/* [monitoring.nft]'s packets: the kind and the container from the prefix, a DNS query's name. */
static void test_nflog_kinds(void)
{
	char buf[1024] __attribute__((aligned(8))) = {0};
	uint8_t ip[400];
	uint8_t tcp[40] = {0x45, 0, 0, 40, 0, 0, 0, 0, 64, IPPROTO_TCP};
	size_t len;
	char name[64];
	uint16_t type = 0;

	inet_pton(AF_INET, "10.0.0.5", tcp + 12);
	inet_pton(AF_INET, "192.0.2.7", tcp + 16);
	tcp[22] = 0x01, tcp[23] = 0xbb; /* 443 */
	len = put_nflog(buf, "coi-new:coi-abc-1 ", tcp, sizeof(tcp));
	n_pkt = 0;
	CHECK(nflog_parse(buf, len, on_pkt, NULL) == 1);
	CHECK(pkt.kind == NFLOG_NEW && strcmp(pkt.container, "coi-abc-1") == 0);
	CHECK(!pkt.conn.refused && strcmp(pkt.conn.state, "NEW") == 0 && pkt.conn.dport == 443);
	CHECK(pkt.qname[0] == 0);

	len = put_nflog(buf, "coi-dns:coi-abc-1 ", ip, dns_packet(ip, "aGVsbG8.x.example.com"));
	CHECK(nflog_parse(buf, len, on_pkt, NULL) == 1);
	CHECK(pkt.kind == NFLOG_DNS && strcmp(pkt.conn.state, "DNS") == 0);
	CHECK_STREQ(pkt.qname, "aGVsbG8.x.example.com");
	CHECK(pkt.qtype == 16 && pkt.conn.dport == 53 && pkt.conn.proto == IPPROTO_UDP);
	/* cut by the copy range: what there is, marked */
	len = put_nflog(buf, "coi-dns:coi-abc-1 ", ip, dns_packet(ip, "abcdef.example") - 8);
	CHECK(nflog_parse(buf, len, on_pkt, NULL) == 1);
	CHECK_STREQ(pkt.qname, "abcdef.exam...");
	/* a deny, and a prefix that is not coi's */
	len = put_nflog(buf, "coi-deny:coi-abc-2 ", tcp, sizeof(tcp));
	CHECK(nflog_parse(buf, len, on_pkt, NULL) == 1);
	CHECK(pkt.kind == NFLOG_DENY && pkt.conn.refused &&
	      strcmp(pkt.container, "coi-abc-2") == 0);
	len = put_nflog(buf, "coi-new: ", tcp, sizeof(tcp));
	CHECK(nflog_parse(buf, len, on_pkt, NULL) == 1);
	CHECK(pkt.kind == NFLOG_OTHER && pkt.container[0] == 0 && pkt.conn.refused);

	CHECK(nflog_prefix_parse("coi-dns:c1 ", name, sizeof(name)) == NFLOG_DNS);
	CHECK_STREQ(name, "c1");
	CHECK(nflog_prefix_parse("coi-dns:c1 ", name, 2) == NFLOG_OTHER); /* does not fit */
	CHECK(nflog_prefix_parse("", name, sizeof(name)) == NFLOG_OTHER);
	/* [monitoring]'s counting rules */
	CHECK(nflog_prefix_parse("coi-bytes:c2 ", name, sizeof(name)) == NFLOG_BYTES);
	CHECK_STREQ(name, "c2");
	CHECK(nflog_prefix_parse("coi-dnsx:c3 ", name, sizeof(name)) == NFLOG_DNSX);
	CHECK_STREQ(name, "c3");
	len = put_nflog(buf, "coi-bytes:coi-abc-2 ", tcp, sizeof(tcp));
	CHECK(nflog_parse(buf, len, on_pkt, NULL) == 1);
	CHECK(pkt.kind == NFLOG_BYTES && !pkt.conn.refused &&
	      strcmp(pkt.conn.state, "EGRESS") == 0);

	/* the question parser alone */
	len = dns_packet(ip, "a.b") - 28;
	CHECK(nflog_dns_question(ip + 28, len, name, sizeof(name), &type) == 0);
	CHECK_STREQ(name, "a.b");
	ip[30] |= 0x80; /* a response */
	CHECK(nflog_dns_question(ip + 28, len, name, sizeof(name), &type) == -EBADMSG);
	ip[30] &= 0x7f;
	ip[40] = 0xc0; /* a compression pointer */
	CHECK(nflog_dns_question(ip + 28, len, name, sizeof(name), &type) == -EBADMSG);
	CHECK(nflog_dns_question(ip + 28, 5, name, sizeof(name), &type) == -EBADMSG);
	len = dns_packet(ip, "x\x01y.example") - 28; /* a control byte in a label */
	ip[41] = 1;
	CHECK(nflog_dns_question(ip + 28, len, name, sizeof(name), &type) == 0);
	CHECK(strchr(name, '?') != NULL);
	/* a long name into a short buffer: cut and marked, never overrun */
	len = dns_packet(ip, "abcdefghijklmnopqrstuvwxyz.abcdefghijklmnopqrstuvwxyz.example") - 28;
	CHECK(nflog_dns_question(ip + 28, len, name, 16, &type) == 0);
	CHECK(strlen(name) == 15 && strcmp(name + 12, "...") == 0);
}

static struct conn_obs conn;
static int n_conn;

static void on_conn(const struct conn_obs *c, void *u)
{
	conn = *c;
	n_conn++;
}

static void test_sockdiag_parse(void)
{
	char buf[512] __attribute__((aligned(8))) = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_msg *m;
	struct in6_addr mapped;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
	m->idiag_family = AF_INET6;
	m->idiag_state = 2; /* SYN_SENT */
	m->id.idiag_dport = htons(4444);
	inet_pton(AF_INET6, "::ffff:198.51.100.7", &mapped);
	memcpy(m->id.idiag_dst, &mapped, 16);
	n_conn = 0;
	CHECK(sockdiag_parse(buf, nlh->nlmsg_len, IPPROTO_TCP, on_conn, NULL) == 0 && n_conn == 1);
	CHECK(conn.family == AF_INET && conn.dport == 4444); /* v4-mapped judged as IPv4 */
	CHECK_STREQ(conn.state, "SYN_SENT");
	m->idiag_state = 10; /* LISTEN: not a connection */
	n_conn = 0;
	CHECK(sockdiag_parse(buf, nlh->nlmsg_len, IPPROTO_TCP, on_conn, NULL) == 0 && n_conn == 0);
	nlh->nlmsg_type = NLMSG_DONE;
	CHECK(sockdiag_parse(buf, nlh->nlmsg_len, IPPROTO_TCP, on_conn, NULL) == 1);
}

static void test_cgroup_io_parse(void)
{
	uint64_t r, w;

	cgroup_io_parse("8:0 Read 100\n8:0 Write 50\n8:0 Sync 1\n7:0 Read 20\nTotal 170\n", true,
	                &r, &w);
	CHECK(r == 120 && w == 50);
	cgroup_io_parse("8:0 rbytes=1000 wbytes=200 rios=1 wios=2\n259:0 rbytes=5 wbytes=6\n",
	                false, &r, &w);
	CHECK(r == 1005 && w == 206);
	cgroup_io_parse("", true, &r, &w);
	CHECK(r == 0 && w == 0);
}

static void test_nflog_group(void)
{
	uint16_t g = coi_nflog_group("coi-12345678-1");

	CHECK(g >= COI_NFLOG_GROUP_BASE && g < COI_NFLOG_GROUP_BASE + COI_NFLOG_GROUP_COUNT);
	CHECK(g == coi_nflog_group("coi-12345678-1"));
	CHECK(coi_nflog_group("coi-t-monitor-026ab3") == 7887); /* the e2e test computes it too */
	/* past the groups with a listener (/proc/net/netfilter/nfnetlink_log lines), wrapping */
	CHECK(monitor_nflog_group_free("", 7800) == 7800);
	CHECK(monitor_nflog_group_free(" 7800   4720     0 2   256    100  1\n", 7800) == 7801);
	CHECK(monitor_nflog_group_free(" 7800 1 0 2 256 100 1\n 7801 2 0 2 256 100 1\n"
	                               "    5 3 0 2 256 100 1\n 7955 4 0 2 256 100 1\n",
	                               7800) == 7802);
	CHECK(monitor_nflog_group_free(" 7955 4 0 2 256 100 1\n", 7955) == 7700);
	CHECK(monitor_nflog_group_free(" 78000 4 0 2 256 100 1\n", 7800) == 7800);
	CHECK(monitor_nflog_group_free("", 5) == 5); /* not one of coi's: as it is */
}

static int ticks;

static int on_tick(struct loop *l, int fd, uint32_t events, void *u)
{
	if (++ticks == 3)
		loop_exit(l, 7);
	return 0;
}

static void test_loop(void)
{
	struct loop *l = NULL;

	CHECK(loop_new(&l) == 0);
	CHECK(loop_add_timer(l, 5, on_tick, NULL) == 0);
	CHECK(loop_run(l) == 7 && ticks == 3);
	loop_free(l);
}

static void test_supervisor_pidfile(void)
{
	struct coi_error err = {0};
	int p[2], fd = -1;
	pid_t child, found = -1;
	char c;

	CHECK(monitor_supervisor_find("coi-t-sup", &found, &err) == 0 && found == 0);
	CHECK(pipe(p) == 0);
	child = fork();
	if (child == 0) {
		if (monitor_supervisor_claim("coi-t-sup", &fd, NULL) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	CHECK(read(p[0], &c, 1) == 1);
	CHECK(monitor_supervisor_find("coi-t-sup", &found, &err) == 0 && found == child);
	CHECK(monitor_supervisor_claim("coi-t-sup", &fd, &err) == -EEXIST);
	CHECK(monitor_supervisor_stop("coi-t-sup", &err) == 1);
	CHECK(waitpid(child, NULL, 0) == child);
	CHECK(monitor_supervisor_find("coi-t-sup", &found, &err) == 0 && found == 0);
	CHECK(monitor_supervisor_stop("coi-t-sup", &err) == 0);
	/* A stale pid file (nobody holds the lock) is not taken for a live supervisor. */
	CHECK(monitor_supervisor_claim("coi-t-sup", &fd, &err) == 0);
	close(fd);
	CHECK(monitor_supervisor_find("coi-t-sup", &found, &err) == 0 && found == 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	char home[] = "/tmp/coi-test-monsrc-XXXXXX";

	if (!mkdtemp(home))
		return 1;
	setenv("COI_HOME", home, 1);
	RUN(test_proccn_parse);
	RUN(test_proccn_filter);
	RUN(test_proccn_filter_foreign);
	RUN(test_nflog_parse);
	RUN(test_nflog_kinds);
	RUN(test_sockdiag_parse);
	RUN(test_cgroup_io_parse);
	RUN(test_nflog_group);
	RUN(test_loop);
	RUN(test_supervisor_pidfile);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
	}
	return tap_done();
}
