/* SPDX-License-Identifier: MIT */
/* netlink.c: the three netlink sources. Sockets are opened here; datagrams are decoded by the
 * *_parse() functions, which trust nothing in the bytes (they are fuzzed). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/sources.h"
#include "util/cleanup.h"

/* Walks the netlink messages of a datagram with unsigned bounds (libmnl's and the kernel's
 * macros compare a u32 length as int: a huge nlmsg_len would step outside the buffer). */
#define for_each_nlmsg(nlh, buf, len)                                                      \
	for (size_t _off = 0;                                                              \
	     _off + sizeof(struct nlmsghdr) <= (len) &&                                    \
	     ((nlh) = (const struct nlmsghdr *)((const char *)(buf) + _off))->nlmsg_len >= \
	             sizeof(struct nlmsghdr) &&                                            \
	     (nlh)->nlmsg_len <= (len)-_off;                                               \
	     _off += NLMSG_ALIGN((nlh)->nlmsg_len))

/* ---- proc connector ------------------------------------------------------------------------ */

/* Where the proc connector's fields are in a datagram: one message, the event after the
 * connector's header. */
#define PE_OFF(field)                                             \
	(uint32_t)(NLMSG_HDRLEN + offsetof(struct cn_msg, data) + \
	           offsetof(struct proc_event, field))

int proccn_filter_attach(int fd)
{
	/* A classic BPF load reads big-endian, the connector writes host order: each constant is
	 * in the load's order (htonl), and a pid is compared only with a pid loaded the same way.
	 * Jumps count the instructions skipped. */
	struct sock_filter code[] = {
	        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PE_OFF(what)),
	        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXEC), 11, 0),
	        /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_FORK), 1, 0),
	        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXIT), 4, 8),
	        /* 4: a fork of a process, not of a thread */
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PE_OFF(event_data.fork.child_pid)),
	        /* 5 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
	        /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PE_OFF(event_data.fork.child_tgid)),
	        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 5, 4),
	        /* 8: the exit of a process, not of one of its threads */
	        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PE_OFF(event_data.exit.process_pid)),
	        /* 9 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
	        /* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PE_OFF(event_data.exit.process_tgid)),
	        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0),
	        /* 12: drop */ BPF_STMT(BPF_RET | BPF_K, 0),
	        /* 13: keep */ BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = {.len = ELEMENTSOF(code), .filter = code};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

int proccn_open(int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	char msg[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))] = {0};
	struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
	struct cn_msg *cn = NLMSG_DATA(nlh);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int size = 8 << 20;

	fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* A burst (a build, a fork bomb) must not overflow the queue before we read it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* Only what the monitor reads wakes it: a busy host forks threads and changes names all
	 * the time. Without the filter (never seen) it only works harder. */
	(void)proccn_filter_attach(fd);
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = (uint32_t)getpid();
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, msg, nlh->nlmsg_len, 0) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int proccn_parse(const void *buf, size_t len,
                 void (*cb)(const struct proccn_event *ev, void *userdata), void *userdata)
{
	const struct nlmsghdr *nlh;
	int count = 0;

	for_each_nlmsg(nlh, buf, len)
	{
		const struct cn_msg *cn = NLMSG_DATA(nlh);
		struct proc_event pe;
		struct proccn_event ev = {0};

		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)))
			return -EBADMSG;
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
			continue;
		if (cn->len <
		            offsetof(struct proc_event, event_data) + sizeof(pe.event_data.fork) ||
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + cn->len))
			continue; /* the ack of our listen request is short */
		memset(&pe, 0, sizeof(pe));
		memcpy(&pe, cn->data, cn->len < sizeof(pe) ? cn->len : sizeof(pe));
		switch (pe.what) {
		case PROC_EVENT_FORK:
			ev = (struct proccn_event){
			        PROCCN_FORK, pe.event_data.fork.child_tgid,
			        pe.event_data.fork.parent_tgid,
			        pe.event_data.fork.child_pid != pe.event_data.fork.child_tgid, 0};
			break;
		case PROC_EVENT_EXEC:
			ev = (struct proccn_event){PROCCN_EXEC, pe.event_data.exec.process_tgid, 0,
			                           false, 0};
			break;
		case PROC_EVENT_EXIT:
			ev = (struct proccn_event){PROCCN_EXIT, pe.event_data.exit.process_tgid,
			                           pe.event_data.exit.parent_tgid,
			                           pe.event_data.exit.process_pid !=
			                                   pe.event_data.exit.process_tgid,
			                           0};
			break;
		default:
			continue;
		}
		ev.time_ns = pe.timestamp_ns;
		count++;
		cb(&ev, userdata);
	}
	return count;
}

/* ---- NFLOG --------------------------------------------------------------------------------- */

static int nflog_config(int fd, uint16_t group, uint16_t type, const void *data, size_t len)
{
	char buf[8192];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	ssize_t n;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	mnl_attr_put(nlh, type, len, data);
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	nlh = (struct nlmsghdr *)buf;
	if (mnl_nlmsg_ok(nlh, (int)n) && nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		return e->error;
	}
	return 0;
}

int nflog_open(uint16_t group, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(256),
	                                      .copy_mode = NFULNL_COPY_PACKET};
	struct timeval tv = {.tv_sec = 2};
	uint32_t qthresh = htonl(1);
	int r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = nflog_config(fd, group, NFULA_CFG_CMD, &cmd, sizeof(cmd));
	if (r < 0)
		return r; /* -EBUSY: another process listens on this group */
	r = nflog_config(fd, group, NFULA_CFG_MODE, &mode, sizeof(mode));
	if (r < 0)
		return r;
	/* Deliver each packet at once (the default batches up to 100 packets or 1 s). */
	r = nflog_config(fd, group, NFULA_CFG_QTHRESH, &qthresh, sizeof(qthresh));
	if (r < 0)
		return r;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The transport header's offset in an IP packet (0: not TCP or UDP, or too short). */
static size_t parse_ip(const uint8_t *p, size_t len, struct conn_obs *c)
{
	size_t hl;
	uint8_t proto;

	if (len >= sizeof(struct iphdr) && (p[0] >> 4) == 4) {
		const struct iphdr *ip = (const struct iphdr *)p;

		c->family = AF_INET;
		memcpy(&c->saddr.v4, &ip->saddr, 4);
		memcpy(&c->daddr.v4, &ip->daddr, 4);
		hl = (size_t)ip->ihl * 4;
		proto = ip->protocol;
	} else if (len >= sizeof(struct ip6_hdr) && (p[0] >> 4) == 6) {
		const struct ip6_hdr *ip6 = (const struct ip6_hdr *)p;

		c->family = AF_INET6;
		memcpy(&c->saddr.v6, &ip6->ip6_src, 16);
		memcpy(&c->daddr.v6, &ip6->ip6_dst, 16);
		hl = sizeof(*ip6);
		proto = ip6->ip6_nxt;
	} else {
		return 0;
	}
	c->proto = proto;
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && hl >= 20 && len >= hl + 4) {
		c->sport = (uint16_t)(p[hl] << 8 | p[hl + 1]);
		c->dport = (uint16_t)(p[hl + 2] << 8 | p[hl + 3]);
		return hl;
	}
	return 0;
}

int nflog_dns_question(const uint8_t *p, size_t len, char *out, size_t size, uint16_t *ret_type)
{
	size_t off = 12, n = 0;

	if (size < 8 || len < off + 1 || (p[2] & 0x80) || (p[4] << 8 | p[5]) == 0)
		return -EBADMSG; /* not a query, or no question */
	while (off < len && p[off] != 0) {
		size_t l = p[off];

		if (l > 63)
			return -EBADMSG; /* no compression in a question's name */
		if (n && n < size - 4)
			out[n++] = '.';
		for (size_t i = 1; i <= l && off + i < len && n < size - 4; i++)
			out[n++] = p[off + i] > 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '?';
		off += l + 1;
	}
	if (off >= len || n >= size - 4) {
		/* cut by the copy range (or our buffer): say so */
		memcpy(out + n, "...", 4);
		*ret_type = 0;
		return 0;
	}
	out[n] = 0;
	*ret_type = off + 2 < len ? (uint16_t)(p[off + 1] << 8 | p[off + 2]) : 0;
	return 0;
}

static int nflog_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= NFULA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static const char *const kind_prefixes[] = {
        [NFLOG_DENY] = NFLOG_PREFIX,      [NFLOG_NEW] = NFLOG_PREFIX_NEW,
        [NFLOG_DNS] = NFLOG_PREFIX_DNS,   [NFLOG_BYTES] = NFLOG_PREFIX_BYTES,
        [NFLOG_DNSX] = NFLOG_PREFIX_DNSX,
};
static const char *const kind_states[] = {
        [NFLOG_OTHER] = "REFUSED", /* the prefix of a policy that predates the kinds */
        [NFLOG_DENY] = "REFUSED",  [NFLOG_NEW] = "NEW",  [NFLOG_DNS] = "DNS",
        [NFLOG_BYTES] = "EGRESS",  [NFLOG_DNSX] = "DNS",
};

enum nflog_kind nflog_prefix_parse(const char *prefix, char *out, size_t size)
{
	for (size_t k = NFLOG_DENY; k < ELEMENTSOF(kind_prefixes); k++) {
		size_t pl = strlen(kind_prefixes[k]), n;

		if (strncmp(prefix, kind_prefixes[k], pl) != 0)
			continue;
		n = strcspn(prefix + pl, " ");
		if (n == 0 || n >= size)
			break;
		memcpy(out, prefix + pl, n);
		out[n] = 0;
		return (enum nflog_kind)k;
	}
	if (size)
		out[0] = 0;
	return NFLOG_OTHER;
}

bool nflog_prefix_container(const char *prefix, char *out, size_t size)
{
	char name[128];

	if (nflog_prefix_parse(prefix, name, sizeof(name)) != NFLOG_DENY || strlen(name) >= size)
		return false;
	memcpy(out, name, strlen(name) + 1);
	return true;
}

/* One NFULNL_MSG_PACKET: its prefix and payload into pkt; false when it has no IP payload. */
static bool nflog_packet_read(const struct nlattr *const *tb, struct nflog_packet *pkt)
{
	const uint8_t *payload;
	size_t len, hl;

	if (tb[NFULA_PREFIX]) {
		size_t n = mnl_attr_get_payload_len(tb[NFULA_PREFIX]);

		n = n < sizeof(pkt->prefix) - 1 ? n : sizeof(pkt->prefix) - 1;
		memcpy(pkt->prefix, mnl_attr_get_payload(tb[NFULA_PREFIX]), n);
		pkt->prefix[strnlen(pkt->prefix, n)] = 0;
	}
	pkt->kind = nflog_prefix_parse(pkt->prefix, pkt->container, sizeof(pkt->container));
	pkt->conn.state = kind_states[pkt->kind];
	pkt->conn.refused = pkt->kind == NFLOG_DENY || pkt->kind == NFLOG_OTHER;
	if (!tb[NFULA_PAYLOAD])
		return false;
	payload = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
	len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	hl = parse_ip(payload, len, &pkt->conn);
	/* a counted query went through dstnat to the DNS filter's port: DNS by its prefix */
	if (hl && pkt->conn.proto == IPPROTO_UDP &&
	    (pkt->conn.dport == 53 || pkt->kind == NFLOG_DNSX) && len >= hl + 8 &&
	    nflog_dns_question(payload + hl + 8, len - hl - 8, pkt->qname, sizeof(pkt->qname),
	                       &pkt->qtype) < 0)
		pkt->qname[0] = 0;
	return pkt->conn.family != 0;
}

int nflog_parse(const void *buf, size_t len,
                void (*cb)(const struct nflog_packet *p, void *userdata), void *userdata)
{
	const struct nlmsghdr *nlh;
	int count = 0;

	for_each_nlmsg(nlh, buf, len)
	{
		const struct nlattr *tb[NFULA_MAX + 1] = {0};
		struct nflog_packet pkt = {.kind = NFLOG_OTHER};

		if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
			continue;
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
			return -EBADMSG;
		if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nflog_attr, tb) < 0)
			return -EBADMSG;
		if (!nflog_packet_read(tb, &pkt))
			continue;
		count++;
		cb(&pkt, userdata);
	}
	return count;
}

/* ---- sock_diag ----------------------------------------------------------------------------- */

/* Subscribes a sock_diag socket to the destroy broadcasts: every TCP/UDP socket of the
 * namespace is reported as it closes, so short connections between two dumps are seen too. */
static int sockdiag_subscribe(int fd)
{
	static const int groups[] = {SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET_UDP_DESTROY,
	                             SKNLGRP_INET6_TCP_DESTROY, SKNLGRP_INET6_UDP_DESTROY};

	for (size_t i = 0; i < ELEMENTSOF(groups); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
		               sizeof(groups[i])) < 0)
			return -errno;
	return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

int sockdiag_open(pid_t pid, int *ret_fd, int *ret_events_fd)
{
	_cleanup_close_ int self = -EBADF, target = -EBADF, fd = -EBADF, ev = -EBADF;
	char path[64];
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0)
		return -errno;
	if (setns(target, CLONE_NEWNET) < 0)
		return -errno;
	/* The socket stays bound to the namespace it was made in. */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		r = -errno;
	if (r >= 0 && ret_events_fd)
		ev = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* stranded in the container's namespace: never carry on */
	if (r < 0)
		return r;
	if (ret_events_fd)
		*ret_events_fd = ev >= 0 && sockdiag_subscribe(ev) >= 0 ? TAKE_FD(ev) : -EBADF;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static const char *tcp_state(uint8_t s)
{
	static const char *const names[] = {"",           "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
	                                    "FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
	                                    "CLOSE_WAIT", "LAST_ACK",    "LISTEN",    "CLOSING"};
	return s < ELEMENTSOF(names) ? names[s] : "UNKNOWN";
}

int sockdiag_parse(const void *buf, size_t len, int proto,
                   void (*cb)(const struct conn_obs *c, void *userdata), void *userdata)
{
	const struct nlmsghdr *nlh;

	for_each_nlmsg(nlh, buf, len)
	{
		const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
		struct conn_obs c = {.proto = proto};

		if (nlh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nlh->nlmsg_type == NLMSG_ERROR)
			return -EPROTO;
		if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
			continue;
		if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
			continue;
		c.family = m->idiag_family;
		c.state = proto == IPPROTO_UDP ? "UDP" : tcp_state(m->idiag_state);
		c.sport = ntohs(m->id.idiag_sport);
		c.dport = ntohs(m->id.idiag_dport);
		memcpy(&c.saddr, m->id.idiag_src, c.family == AF_INET ? 4 : 16);
		memcpy(&c.daddr, m->id.idiag_dst, c.family == AF_INET ? 4 : 16);
		if (c.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&c.daddr.v6)) {
			/* A dual-stack socket talking IPv4: judge it as IPv4. */
			struct in6_addr s6 = c.saddr.v6, d6 = c.daddr.v6;

			c.family = AF_INET;
			memcpy(&c.saddr.v4, &s6.s6_addr[12], 4);
			memcpy(&c.daddr.v4, &d6.s6_addr[12], 4);
		}
		if (proto == IPPROTO_TCP) {
			const struct nlattr *a;

			/* tcp_info grows with kernels: take bytes_acked only when it is there */
			mnl_attr_for_each(a, nlh,
			                  sizeof(*m)) if (mnl_attr_get_type(a) == INET_DIAG_INFO &&
			                                  mnl_attr_get_payload_len(a) >=
			                                          offsetof(struct tcp_info,
			                                                   tcpi_bytes_acked) +
			                                                  8)
			        memcpy(&c.bytes_acked,
			               (const char *)mnl_attr_get_payload(a) +
			                       offsetof(struct tcp_info, tcpi_bytes_acked),
			               8);
		}
		if (proto == 0) {
			const struct nlattr *a;

			c.proto = IPPROTO_TCP;
			mnl_attr_for_each(a, nlh, sizeof(*m)) if (mnl_attr_get_type(a) ==
			                                                  INET_DIAG_PROTOCOL &&
			                                          mnl_attr_get_payload_len(a) >= 1)
			        c.proto = *(const uint8_t *)mnl_attr_get_payload(a);
			c.state = c.proto == IPPROTO_UDP ? "UDP" : "CLOSED";
		}
		if (c.dport == 0 || m->idiag_state == 10 /* LISTEN */)
			continue;
		cb(&c, userdata);
	}
	return 0;
}

static int dump_one(int fd, int family, int proto,
                    void (*cb)(const struct conn_obs *c, void *userdata), void *userdata)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
	        .nlh = {.nlmsg_len = sizeof(msg),
	                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
	        .req = {.sdiag_family = (uint8_t)family,
	                .sdiag_protocol = (uint8_t)proto,
	                .idiag_ext = proto == IPPROTO_TCP ? 1u << (INET_DIAG_INFO - 1) : 0,
	                .idiag_states = ~(1u << 10)},
	};
	char buf[16384];
	int r = 0;

	if (send(fd, &msg, sizeof(msg), 0) < 0)
		return -errno;
	for (int guard = 0; r == 0 && guard < 1024; guard++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		r = sockdiag_parse(buf, (size_t)n, proto, cb, userdata);
	}
	return r < 0 ? r : 0;
}

int sockdiag_dump(int fd, void (*cb)(const struct conn_obs *c, void *userdata), void *userdata)
{
	static const int combos[][2] = {{AF_INET, IPPROTO_TCP},
	                                {AF_INET6, IPPROTO_TCP},
	                                {AF_INET, IPPROTO_UDP},
	                                {AF_INET6, IPPROTO_UDP}};

	for (size_t i = 0; i < ELEMENTSOF(combos); i++) {
		int r = dump_one(fd, combos[i][0], combos[i][1], cb, userdata);

		if (r < 0)
			return r;
	}
	return 0;
}
