/* SPDX-License-Identifier: MIT */
/* dnsserver.c: see dnsserver.h. A query lives in a slot of the pending table from the moment it
 * goes upstream until its answer is sent; the answers libunbound hands over in one batch are
 * sent together, after one firewall transaction for all the set entries they need. */
#include "egress/dnsserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unbound.h>
#include <unistd.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"

#define TICK_MS       250
#define TCP_OUT_MAX   (4 * (DNS_MSG_MAX + 2)) /* answers queued to one TCP client */
#define HOSTS_MAX     (1u << 20)
#define EVENTS        64
#define READS_PER_RUN 64 /* queries read per wakeup, so one listener cannot starve the rest */

enum tag { TAG_UDP, TAG_TCP_LISTEN, TAG_TCP, TAG_UNBOUND, TAG_TIMER, TAG_STOP };

struct conn {
	int fd; /* -1: free */
	uint32_t gen;
	uint8_t *in; /* 2 + DNS_MSG_MAX */
	size_t in_len;
	struct buf out;
	unsigned pending; /* its queries upstream */
	int64_t last_ms;
	bool reading, writing;
};

struct server;

struct pend {
	struct server *s;
	bool used, done;
	int async_id;
	int conn; /* -1: UDP */
	uint32_t conn_gen;
	struct sockaddr_in peer;
	int64_t start_ms;
	struct dns_query q;
	struct egress_decision d;
	struct dns_result res;
	struct buf reply;
	struct pend *next_done;
};

struct server {
	const struct egress_dns_opts *o;
	struct egress_filter f;
	struct egress_feed *feed;
	struct ub_ctx *ub;
	int ep, timer;
	bool udp_reading;
	size_t n_pending;
	struct pend pend[EGRESS_PENDING_MAX];
	struct pend *done; /* answered by libunbound, not sent yet */
	struct conn conn[EGRESS_TCP_MAX];
	struct buf scratch;
};

static uint64_t ev_data(enum tag t, uint32_t i)
{
	return (uint64_t)t << 32 | i;
}

static int ep_set(struct server *s, int op, int fd, uint32_t events, enum tag t, uint32_t i)
{
	struct epoll_event ev = {.events = events, .data.u64 = ev_data(t, i)};

	return epoll_ctl(s->ep, op, fd, &ev) < 0 ? -errno : 0;
}

/* ---- records and answers ------------------------------------------------------------------- */

static void record(struct server *s, const struct dns_query *q, const struct egress_decision *d,
                   const struct dns_result *res, uint32_t timeout, bool tcp, int64_t start_ms)
{
	size_t n = res->n_addrs < EGRESS_RECORD_ADDRS ? res->n_addrs : EGRESS_RECORD_ADDRS;
	struct egress_dns_record r = {.verdict = d->verdict,
	                              .rcode = res->rcode,
	                              .qtype = q->qtype,
	                              .tcp = tcp,
	                              .ttl = res->ttl,
	                              .timeout = timeout,
	                              .n_addrs = res->n_addrs,
	                              .ms = (double)(clock_mono_ms() - start_ms)};

	if (!s->o->record)
		return;
	memcpy(r.addrs, res->addrs, n * sizeof(r.addrs[0]));
	(void)snprintf(r.why, sizeof(r.why), "%s", d->why ? d->why : "");
	(void)snprintf(r.name, sizeof(r.name), "%s", q->name);
	s->o->record(&r, s->o->userdata);
}

static void conn_close(struct server *s, int i)
{
	struct conn *c = &s->conn[i];

	if (c->fd < 0)
		return;
	(void)close(c->fd); /* leaves the epoll set with it */
	free(c->in);
	buf_release(&c->out);
	*c = (struct conn){.fd = -1, .gen = c->gen + 1};
}

/* Reading while there is room upstream and the client takes its answers; writing while
 * answers wait. */
static void conn_events(struct server *s, int i)
{
	struct conn *c = &s->conn[i];
	bool want_read = s->n_pending < EGRESS_PENDING_MAX && c->out.len < TCP_OUT_MAX / 2;
	bool want_write = c->out.len > 0;

	if (c->fd < 0 || (want_read == c->reading && want_write == c->writing))
		return;
	c->reading = want_read;
	c->writing = want_write;
	if (ep_set(s, EPOLL_CTL_MOD, c->fd, (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0),
	           TAG_TCP, (uint32_t)i) < 0)
		conn_close(s, i);
}

static void conn_flush(struct server *s, int i)
{
	struct conn *c = &s->conn[i];

	while (c->fd >= 0 && c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(s, i);
			return;
		}
		memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
		c->out.len -= (size_t)n;
	}
	conn_events(s, i);
}

/* Sends an answer to where its query came from (a TCP client that left gets nothing). */
static void send_reply(struct server *s, const struct buf *reply, int conn, uint32_t conn_gen,
                       const struct sockaddr_in *peer)
{
	uint8_t len[2] = {(uint8_t)(reply->len >> 8), (uint8_t)reply->len};
	struct conn *c;

	if (conn < 0) {
		if (sendto(s->o->udp_fd, reply->data, reply->len, MSG_DONTWAIT, (const void *)peer,
		           sizeof(*peer)) < 0)
			log_debug("dns: cannot answer over UDP: %s", strerror(errno));
		return;
	}
	c = &s->conn[conn];
	if (c->fd < 0 || c->gen != conn_gen)
		return;
	c->last_ms = clock_mono_ms();
	if (buf_append(&c->out, len, 2) < 0 || buf_append(&c->out, reply->data, reply->len) < 0) {
		conn_close(s, conn); /* a client that reads nothing */
		return;
	}
	conn_flush(s, conn);
}

/* ---- the set entries ----------------------------------------------------------------------- */

/* Writes what an allowed answer needs into the sets; false when that failed (its addresses must
 * then not be given out). */
static bool feed(struct server *s, uint64_t sets, uint32_t timeout, const struct in_addr *a,
                 size_t n)
{
	struct net_set_elem e[DNS_ANSWER_ADDRS * 4];
	struct coi_error err = {0};
	size_t k = 0;

	for (uint32_t set = 0; set < 64; set++) {
		if (!(sets >> set & 1))
			continue;
		if (k + n > ELEMENTSOF(e)) { /* a chunk per transaction */
			if (netpolicy_set_elems(s->o->nft, s->o->table, s->o->container, e, k,
			                        &err) < 0)
				goto fail;
			k = 0;
		}
		k += egress_feed_plan(s->feed, (uint64_t)clock_mono_ms(), 1ull << set, timeout, a,
		                      n, e + k);
	}
	if (k == 0 || netpolicy_set_elems(s->o->nft, s->o->table, s->o->container, e, k, &err) >= 0)
		return true;
fail:
	log_warn("dns: %s", coi_error_message(&err));
	egress_feed_forget(s->feed, e, k);
	return false;
}

/* ---- answering ----------------------------------------------------------------------------- */

/* An answer with no upstream part: an rcode, or [[network.hosts]]'s address. */
static void answer_now(struct server *s, const struct dns_query *q, const struct egress_decision *d,
                       int conn, uint32_t conn_gen, const struct sockaddr_in *peer,
                       int64_t start_ms)
{
	struct dns_result res = {.rcode = d->verdict == EGRESS_REFUSE ? d->rcode : DNS_NOERROR};
	int r;

	if (d->verdict == EGRESS_LOCAL) {
		res.n_addrs = d->addrs.n;
		memcpy(res.addrs, d->addrs.a, d->addrs.n * sizeof(res.addrs[0]));
		res.ttl = s->f.ttl_min;
		r = dns_reply_addrs(q, res.addrs, res.n_addrs, res.ttl, conn >= 0, &s->scratch);
	} else {
		r = dns_reply_rcode(q, res.rcode, conn >= 0, &s->scratch);
	}
	if (r < 0)
		return;
	send_reply(s, &s->scratch, conn, conn_gen, peer);
	record(s, q, d, &res, 0, conn >= 0, start_ms);
}

/* An allowed name the host's /etc/hosts has: its admitted addresses, fed for ttl_min. */
static void answer_hosts_file(struct server *s, const struct dns_query *q,
                              const struct egress_decision *d, int conn, uint32_t conn_gen,
                              const struct sockaddr_in *peer, int64_t start_ms)
{
	struct dns_result res = {.rcode = DNS_NOERROR, .ttl = s->f.ttl_min};
	uint32_t timeout = egress_filter_timeout(&s->f, res.ttl);
	int r;

	for (size_t i = 0; i < d->addrs.n; i++)
		if (egress_filter_addr_ok(d->addrs.a[i], &s->f))
			res.addrs[res.n_addrs++] = d->addrs.a[i];
	if (!feed(s, d->sets, timeout, res.addrs, res.n_addrs))
		res = (struct dns_result){.rcode = DNS_SERVFAIL};
	if (res.rcode == DNS_NOERROR)
		r = dns_reply_addrs(q, res.addrs, res.n_addrs, res.ttl, conn >= 0, &s->scratch);
	else
		r = dns_reply_rcode(q, res.rcode, conn >= 0, &s->scratch);
	if (r < 0)
		return;
	send_reply(s, &s->scratch, conn, conn_gen, peer);
	record(s, q, d, &res, res.rcode ? 0 : timeout, conn >= 0, start_ms);
}

static void pend_put(struct server *s, struct pend *p)
{
	struct conn *c = p->conn >= 0 ? &s->conn[p->conn] : NULL;

	dns_query_release(&p->q);
	buf_release(&p->reply);
	if (c && c->gen == p->conn_gen && c->pending)
		c->pending--;
	*p = (struct pend){0};
	s->n_pending--;
}

/* A query back from upstream (or given up): its set entries, then its answer. */
static void finish(struct server *s, struct pend *p)
{
	uint32_t timeout = 0;
	bool tcp = p->conn >= 0;

	if (p->res.rcode == DNS_NOERROR && p->d.verdict == EGRESS_ALLOW && p->res.n_addrs) {
		timeout = egress_filter_timeout(&s->f, p->res.ttl);
		if (!feed(s, p->d.sets, timeout, p->res.addrs, p->res.n_addrs)) {
			p->res = (struct dns_result){.rcode = DNS_SERVFAIL};
			timeout = 0;
			buf_reset(&p->reply);
		}
	}
	if (p->reply.len == 0 && dns_reply_rcode(&p->q, p->res.rcode ? p->res.rcode : DNS_SERVFAIL,
	                                         tcp, &p->reply) < 0) {
		pend_put(s, p);
		return;
	}
	send_reply(s, &p->reply, p->conn, p->conn_gen, &p->peer);
	record(s, &p->q, &p->d, &p->res, timeout, tcp, p->start_ms);
	pend_put(s, p);
}

static void on_result(void *userdata, int err, struct ub_result *result)
{
	struct pend *p = userdata;
	struct server *s = p->s;
	bool allow = p->d.verdict == EGRESS_ALLOW;
	int r = -EIO;

	if (err == 0 && result && result->answer_packet && result->answer_len > 0)
		r = dns_reply_from_upstream(&p->q, result->answer_packet,
		                            (size_t)result->answer_len, s->f.ttl_max,
		                            allow ? egress_filter_addr_ok : NULL, &s->f,
		                            p->conn >= 0, &p->res, &p->reply);
	if (r < 0) {
		p->res = (struct dns_result){.rcode = DNS_SERVFAIL};
		buf_reset(&p->reply);
	}
	ub_resolve_free(result);
	p->done = true;
	p->async_id = -1;
	p->next_done = s->done;
	s->done = p;
}

static void finish_done(struct server *s)
{
	while (s->done) {
		struct pend *p = s->done;

		s->done = p->next_done;
		finish(s, p);
	}
}

/* Hands the query (taken from *q) upstream; SERVFAIL when that cannot be done. */
static void ask_upstream(struct server *s, struct dns_query *q, const struct egress_decision *d,
                         int conn, uint32_t conn_gen, const struct sockaddr_in *peer,
                         int64_t start_ms)
{
	struct pend *p = NULL;

	for (size_t i = 0; i < EGRESS_PENDING_MAX && !p; i++)
		if (!s->pend[i].used)
			p = &s->pend[i];
	if (!p) { /* not reached: nothing is read while the table is full */
		struct egress_decision busy = {
		        .verdict = EGRESS_REFUSE, .rcode = DNS_SERVFAIL, .why = "busy"};

		answer_now(s, q, &busy, conn, conn_gen, peer, start_ms);
		return;
	}
	*p = (struct pend){.s = s,
	                   .used = true,
	                   .async_id = -1,
	                   .conn = conn,
	                   .conn_gen = conn_gen,
	                   .start_ms = start_ms,
	                   .q = *q,
	                   .d = *d,
	                   .reply = BUF_INIT(DNS_MSG_MAX + 1)};
	if (peer)
		p->peer = *peer;
	q->question = NULL; /* p->q owns it now */
	s->n_pending++;
	if (conn >= 0)
		s->conn[conn].pending++;
	if (ub_resolve_async(s->ub, p->q.name, p->q.qtype, p->q.qclass, p, on_result,
	                     &p->async_id) != 0) {
		p->res = (struct dns_result){.rcode = DNS_SERVFAIL};
		finish(s, p);
	}
}

static void handle(struct server *s, const uint8_t *msg, size_t len, int conn,
                   const struct sockaddr_in *peer)
{
	uint32_t gen = conn >= 0 ? s->conn[conn].gen : 0;
	int64_t now = clock_mono_ms();
	struct egress_decision d;
	struct dns_query q;
	int rcode, r;

	r = dns_query_parse(msg, len, &q, &rcode);
	if (r == -EPROTO) {
		d = (struct egress_decision){
		        .verdict = EGRESS_REFUSE, .rcode = rcode, .why = "malformed"};
		answer_now(s, &q, &d, conn, gen, peer, now);
	} else if (r >= 0) {
		egress_filter_decide(&s->f, &q, &d);
		if (d.verdict == EGRESS_ALLOW && d.local)
			answer_hosts_file(s, &q, &d, conn, gen, peer, now);
		else if (d.verdict == EGRESS_ALLOW || d.verdict == EGRESS_FORWARD)
			ask_upstream(s, &q, &d, conn, gen, peer, now);
		else
			answer_now(s, &q, &d, conn, gen, peer, now);
	}
	dns_query_release(&q);
}

/* ---- sockets ------------------------------------------------------------------------------- */

static bool from_client(const struct server *s, const struct sockaddr_in *peer)
{
	return peer->sin_family == AF_INET &&
	       (s->o->client.s_addr == INADDR_ANY || peer->sin_addr.s_addr == s->o->client.s_addr);
}

static void on_udp(struct server *s)
{
	uint8_t msg[DNS_MSG_MAX];

	for (int i = 0; i < READS_PER_RUN && s->n_pending < EGRESS_PENDING_MAX; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(s->o->udp_fd, msg, sizeof(msg), MSG_DONTWAIT, (void *)&peer,
		                     &plen);

		if (n < 0)
			break;
		if (plen == sizeof(peer) && from_client(s, &peer))
			handle(s, msg, (size_t)n, -1, &peer);
	}
}

static void on_accept(struct server *s)
{
	for (int k = 0; k < READS_PER_RUN; k++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(s->o->tcp_fd, (void *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int i = 0;

		if (fd < 0)
			return;
		while (i < EGRESS_TCP_MAX && s->conn[i].fd >= 0)
			i++;
		if (i == EGRESS_TCP_MAX || plen != sizeof(peer) || !from_client(s, &peer)) {
			(void)close(fd);
			continue;
		}
		s->conn[i] = (struct conn){.fd = fd,
		                           .gen = s->conn[i].gen,
		                           .in = malloc(2 + DNS_MSG_MAX),
		                           .out = BUF_INIT(TCP_OUT_MAX),
		                           .last_ms = clock_mono_ms(),
		                           .reading = true};
		if (!s->conn[i].in ||
		    ep_set(s, EPOLL_CTL_ADD, fd, EPOLLIN, TAG_TCP, (uint32_t)i) < 0)
			conn_close(s, i);
	}
}

/* The whole messages read from a TCP client so far, while there is room upstream. */
static void conn_drain(struct server *s, int i)
{
	struct conn *c = &s->conn[i];
	size_t off = 0;

	while (c->fd >= 0 && s->n_pending < EGRESS_PENDING_MAX && c->in_len - off >= 2) {
		size_t len = (size_t)c->in[off] << 8 | c->in[off + 1];

		if (c->in_len - off < 2 + len)
			break;
		c->last_ms = clock_mono_ms();
		handle(s, c->in + off + 2, len, i, NULL);
		off += 2 + len;
	}
	if (c->fd >= 0 && off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	conn_events(s, i);
}

static void on_tcp(struct server *s, int i, uint32_t events)
{
	struct conn *c = &s->conn[i];

	if (c->fd < 0)
		return;
	if (events & EPOLLOUT)
		conn_flush(s, i);
	if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n =
		        recv(c->fd, c->in + c->in_len, 2 + DNS_MSG_MAX - c->in_len, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(s, i);
			return;
		}
		if (n > 0)
			c->in_len += (size_t)n;
		conn_drain(s, i);
	}
}

/* After answers went out: read again what waited for room. */
static void resume(struct server *s)
{
	bool want = s->n_pending < EGRESS_PENDING_MAX;

	if (want != s->udp_reading &&
	    ep_set(s, EPOLL_CTL_MOD, s->o->udp_fd, want ? EPOLLIN : 0, TAG_UDP, 0) >= 0)
		s->udp_reading = want;
	for (int i = 0; i < EGRESS_TCP_MAX; i++)
		if (s->conn[i].fd >= 0)
			conn_drain(s, i);
}

/* Queries upstream too long are given up (SERVFAIL); idle TCP clients are closed. */
static void on_tick(struct server *s)
{
	int64_t now = clock_mono_ms();
	uint64_t expirations;

	(void)!read(s->timer, &expirations, sizeof(expirations));
	for (size_t i = 0; i < EGRESS_PENDING_MAX; i++) {
		struct pend *p = &s->pend[i];

		if (!p->used || p->done || now - p->start_ms < EGRESS_QUERY_TIMEOUT_MS)
			continue;
		if (p->async_id >= 0)
			(void)ub_cancel(s->ub, p->async_id);
		p->res = (struct dns_result){.rcode = DNS_SERVFAIL};
		buf_reset(&p->reply);
		finish(s, p);
	}
	for (int i = 0; i < EGRESS_TCP_MAX; i++)
		if (s->conn[i].fd >= 0 && !s->conn[i].pending &&
		    now - s->conn[i].last_ms > EGRESS_TCP_IDLE_MS)
			conn_close(s, i);
}

/* ---- setup --------------------------------------------------------------------------------- */

static int ub_setup(struct server *s, struct coi_error *err)
{
	/* forwarding only (no validator: the upstream resolver is trusted as the host trusts it);
	 * caches and concurrency bounded; never fewer slots upstream than queries let through */
	static const char *const opts[][2] = {
	        {"module-config:", "iterator"},
	        {"msg-cache-size:", "1m"},
	        {"rrset-cache-size:", "2m"},
	        {"outgoing-range:", "512"},
	        {"num-queries-per-thread:", "512"},
	        {"edns-buffer-size:", "1232"},
	        /* the host's resolver may well be on the host itself (127.0.0.53, dnsmasq) */
	        {"do-not-query-localhost:", "no"},
	        /* names unbound answers itself by default: the reverse zones of private
	         * addresses, test. and home.arpa. go to the host's resolver like any other */
	        {"unblock-lan-zones:", "yes"},
	        {"insecure-lan-zones:", "yes"},
	};
	int r;

	s->ub = ub_ctx_create();
	if (!s->ub)
		return coi_error_set(err, -ENOMEM, "cannot create the DNS resolver");
	r = ub_ctx_async(s->ub, 1);
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(opts); i++)
		r = ub_ctx_set_option(s->ub, opts[i][0], opts[i][1]);
	if (r != 0)
		return coi_error_set(err, -EINVAL, "cannot set up the DNS resolver: %s",
		                     ub_strerror(r));
	if (!s->o->upstream || !s->o->upstream[0])
		return coi_error_set(err, -EINVAL, "the DNS filter has no upstream resolver");
	for (char *const *u = s->o->upstream; *u; u++)
		if ((r = ub_ctx_set_fwd(s->ub, *u)) != 0)
			return coi_error_set(err, -EINVAL, "upstream DNS server '%s': %s", *u,
			                     ub_strerror(r));
	/* (this finalises the context: no option can be set after it) */
	if ((r = ub_ctx_zone_remove(s->ub, "test")) != 0 ||
	    (r = ub_ctx_zone_remove(s->ub, "home.arpa")) != 0)
		return coi_error_set(err, -EINVAL, "cannot set up the DNS resolver: %s",
		                     ub_strerror(r));
	return 0;
}

static int read_hosts(const char *path, struct buf *b)
{
	int r = read_file(path ? path : "/etc/hosts", b, NULL);

	if (r == -ENOENT) {
		buf_reset(b);
		return 0;
	}
	return r;
}

/* More descriptors: libunbound keeps a socket per query upstream. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int server_setup(struct server *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf hosts = BUF_INIT(HOSTS_MAX);
	struct itimerspec its = {{0, TICK_MS * 1000000L}, {0, TICK_MS * 1000000L}};
	int r;

	for (int i = 0; i < EGRESS_TCP_MAX; i++)
		s->conn[i].fd = -1;
	raise_nofile();
	r = read_hosts(s->o->hosts_path, &hosts);
	if (r < 0)
		return coi_error_errno(err, r, "cannot read the host's hosts file");
	r = egress_filter_init(&s->f, s->o->policy, buf_str(&hosts), s->o->ttl_min, err);
	if (r < 0)
		return r;
	if (egress_feed_new(&s->feed) < 0)
		return coi_error_oom(err);
	r = ub_setup(s, err);
	if (r < 0)
		return r;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->ep < 0 || s->timer < 0 || timerfd_settime(s->timer, 0, &its, NULL) < 0)
		return coi_error_errno(err, errno, "cannot set up the DNS filter's loop");
	r = ep_set(s, EPOLL_CTL_ADD, s->o->udp_fd, EPOLLIN, TAG_UDP, 0);
	if (r >= 0)
		r = ep_set(s, EPOLL_CTL_ADD, s->o->tcp_fd, EPOLLIN, TAG_TCP_LISTEN, 0);
	if (r >= 0)
		r = ep_set(s, EPOLL_CTL_ADD, ub_fd(s->ub), EPOLLIN, TAG_UNBOUND, 0);
	if (r >= 0)
		r = ep_set(s, EPOLL_CTL_ADD, s->timer, EPOLLIN, TAG_TIMER, 0);
	if (r >= 0 && s->o->stop_fd >= 0)
		r = ep_set(s, EPOLL_CTL_ADD, s->o->stop_fd, EPOLLIN, TAG_STOP, 0);
	if (r < 0)
		return coi_error_errno(err, r, "cannot set up the DNS filter's loop");
	s->udp_reading = true;
	return 0;
}

static void server_release(struct server *s)
{
	for (int i = 0; i < EGRESS_TCP_MAX; i++)
		conn_close(s, i);
	for (size_t i = 0; i < EGRESS_PENDING_MAX; i++)
		if (s->pend[i].used) {
			dns_query_release(&s->pend[i].q);
			buf_release(&s->pend[i].reply);
		}
	if (s->ub)
		ub_ctx_delete(s->ub);
	if (s->ep >= 0)
		(void)close(s->ep);
	if (s->timer >= 0)
		(void)close(s->timer);
	egress_feed_free(s->feed);
	egress_filter_release(&s->f);
	buf_release(&s->scratch);
}

static int dispatch(struct server *s, const struct epoll_event *ev)
{
	uint32_t i = (uint32_t)ev->data.u64;

	switch ((enum tag)(ev->data.u64 >> 32)) {
	case TAG_UDP:
		on_udp(s);
		break;
	case TAG_TCP_LISTEN:
		on_accept(s);
		break;
	case TAG_TCP:
		on_tcp(s, (int)i, ev->events);
		break;
	case TAG_UNBOUND:
		if (ub_process(s->ub) != 0)
			return -EIO;
		break;
	case TAG_TIMER:
		on_tick(s);
		break;
	case TAG_STOP:
		return 1;
	}
	return 0;
}

int egress_dns_run(const struct egress_dns_opts *o, struct coi_error *err)
{
	struct server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return coi_error_oom(err);
	*s = (struct server){.o = o, .ep = -1, .timer = -1, .scratch = BUF_INIT(DNS_MSG_MAX + 1)};
	r = server_setup(s, err);
	if (r >= 0 && o->ready)
		o->ready(o->userdata);
	while (r >= 0) {
		struct epoll_event ev[EVENTS];
		int n = epoll_wait(s->ep, ev, EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = coi_error_errno(err, errno, "the DNS filter's loop failed");
			break;
		}
		for (int k = 0; k < n && r == 0; k++)
			r = dispatch(s, &ev[k]);
		finish_done(s);
		resume(s);
		if (r == -EIO)
			r = coi_error_set(err, -EIO, "the DNS resolver failed");
	}
	server_release(s);
	free(s);
	return r < 0 ? r : 0;
}

/* ---- listening ----------------------------------------------------------------------------- */

static int bind_one(int type, struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = addr, .sin_port = htons(port)};
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, size = 1 << 20;

	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (void *)&sa, sizeof(sa)) < 0 || (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		int e = -errno;

		(void)close(fd);
		return e;
	}
	return fd;
}

int egress_dns_listen(struct in_addr addr, uint16_t port, int *ret_udp, int *ret_tcp,
                      uint16_t *ret_port, struct coi_error *err)
{
	char a[INET_ADDRSTRLEN];
	int r = -EADDRINUSE;

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	/* a free UDP port may be taken for TCP: try a few */
	for (int attempt = 0; attempt < 16 && r == -EADDRINUSE; attempt++) {
		_cleanup_close_ int udp = bind_one(SOCK_DGRAM, addr, port);
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int tcp;

		if (udp < 0)
			return coi_error_errno(err, udp, "cannot listen for DNS on %s:%u", a, port);
		if (getsockname(udp, (void *)&sa, &len) < 0)
			return coi_error_errno(err, errno, "cannot listen for DNS on %s", a);
		tcp = bind_one(SOCK_STREAM, addr, ntohs(sa.sin_port));
		if (tcp >= 0) {
			*ret_udp = TAKE_FD(udp);
			*ret_tcp = tcp;
			*ret_port = ntohs(sa.sin_port);
			return 0;
		}
		r = tcp;
		if (port)
			break; /* the port was given: no other to try */
	}
	return coi_error_errno(err, r, "cannot listen for DNS over TCP on %s", a);
}

char **egress_dns_resolvconf(const char *text)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
	char ns[INET6_ADDRSTRLEN + 1];

	if (!l)
		return NULL;
	for (const char *line = text; line && *line;) {
		const char *nl = strchrnul(line, '\n');
		unsigned char a[sizeof(struct in6_addr)];

		if (sscanf(line, " nameserver %46s", ns) == 1 && (size_t)(nl - line) < 256 &&
		    (inet_pton(AF_INET, ns, a) == 1 || inet_pton(AF_INET6, ns, a) == 1) &&
		    !strv_contains(l, ns) && strv_push(&l, ns) < 0)
			return NULL;
		line = *nl ? nl + 1 : nl;
	}
	if (!l[0] && strv_push(&l, "127.0.0.1") < 0)
		return NULL;
	return TAKE_PTR(l);
}
