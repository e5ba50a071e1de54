/* SPDX-License-Identifier: MIT */
/* proxy.c: the credential proxy's connections (proxy.h), on libevent's OpenSSL bufferevents.
 *
 * A connection has a down side (the container, TLS server) and an up side (the real host, TLS
 * client, opened once the down handshake names the host). Bytes from down go through the
 * request judge (httpreq.h) into up's output; bytes from up are moved to down's output as they
 * come (evbuffer_add_buffer: no copy, no waiting for more). Each direction stops reading while
 * the other side's output holds more than FLOW_HIGH bytes, and resumes below FLOW_LOW, so a
 * slow reader costs bounded memory. A refusal writes a short response with Connection: close
 * and ends the connection once it is written. */
#include "egress/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "egress/ca.h"
#include "egress/httpreq.h"
#include "egress/secret.h"
#include "util/error.h"
#include "util/log.h"

#define FLOW_HIGH      (1u << 20)
#define FLOW_LOW       (256u << 10)
#define HANDSHAKE_SECS 10
#define IDLE_SECS      900 /* an agent's stream may think for minutes between events */
#define READ_CHUNK     16384
#define SESSIONS_MAX   64 /* upstream TLS sessions kept for resumption, one per host */

struct session {
	char host[256];
	SSL_SESSION *s;
};

struct proxy {
	const struct egress_proxy_opts *o;
	struct event_base *base;
	struct evdns_base *dns;
	SSL_CTX *down_ctx, *up_ctx;
	struct egress_stats stats;
	struct conn *conns; /* every live connection, freed at the end if still there */
	struct session sessions[SESSIONS_MAX];
};

struct conn {
	struct proxy *px;
	struct conn *next, **pprev;
	struct bufferevent *down, *up;
	struct egress_req *req;
	char host[256];
	bool tunnel;   /* upgraded: raw both ways */
	bool closing;  /* write what down has left, then end */
	bool answered; /* up sent something: a failure of up can no longer be answered with 502 */
	bool dying;    /* conn_close() ran */
	bool up_error; /* the upstream connection could not be opened */
};

/* ---- ending ------------------------------------------------------------------------------- */

static void conn_destroy(struct conn *c)
{
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	if (c->down) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->down);

		if (ssl && SSL_is_init_finished(ssl))
			(void)SSL_shutdown(
			        ssl); /* close_notify: the end of a response read to EOF */
		bufferevent_free(c->down);
	}
	if (c->up)
		bufferevent_free(c->up);
	egress_req_free(c->req);
	free(c);
}

static void conn_free(evutil_socket_t fd, short what, void *u)
{
	(void)fd;
	(void)what;
	conn_destroy(u);
}

/* Ends the connection: no callback of it runs again; it is freed on the next turn of the loop,
 * so every caller up the stack may still look at it. */
static void conn_close(struct conn *c)
{
	if (c->dying)
		return;
	c->dying = c->closing = true;
	if (c->down)
		bufferevent_setcb(c->down, NULL, NULL, NULL, NULL);
	if (c->up)
		bufferevent_setcb(c->up, NULL, NULL, NULL, NULL);
	if (event_base_once(c->px->base, -1, EV_TIMEOUT, conn_free, c, &(struct timeval){0, 0}) < 0)
		log_warn("egress: cannot schedule the end of a connection, ignoring");
}

/* Ends the connection once down has written what it holds. */
static void conn_finish(struct conn *c)
{
	if (c->up) {
		bufferevent_setcb(c->up, NULL, NULL, NULL, NULL);
		bufferevent_disable(c->up, EV_READ | EV_WRITE);
	}
	if (!c->down || evbuffer_get_length(bufferevent_get_output(c->down)) == 0) {
		conn_close(c);
		return;
	}
	/* reading goes on (and is thrown away): a handshake in progress must still finish for the
	 * answer to go out */
	c->closing = true;
}

/* A response of the proxy's own (unless the host already answered on this connection and force
 * is off: a failure in the middle of its response just ends it), then the end. */
static void answer(struct conn *c, bool force, unsigned status, const char *reason,
                   const char *text)
{
	if (c->down && (force || !c->answered))
		evbuffer_add_printf(bufferevent_get_output(c->down),
		                    "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: "
		                    "%zu\r\nConnection: close\r\n\r\n%s\n",
		                    status, reason, strlen(text) + 1, text);
	conn_finish(c);
}

static void refuse(struct conn *c, const struct egress_finding *f)
{
	char text[512];

	c->px->stats.refused++;
	if (f->verdict == EGRESS_REFUSE_PLACEHOLDER)
		(void)snprintf(text, sizeof(text),
		               "coi: refused: the placeholder of secret '%s' is not for %s (%s)",
		               f->secret, c->host, f->where);
	else
		(void)snprintf(text, sizeof(text), "coi: refused: %s (%s)",
		               egress_verdict_reason(f->verdict), f->where);
	log_warn("egress: %s %s %s: %s", c->host, f->method, f->target, text);
	if (c->px->o->finding)
		c->px->o->finding(c->px->o->userdata, c->host, f);
	answer(c, true, egress_verdict_status(f->verdict), egress_verdict_reason(f->verdict), text);
}

/* ---- flow control ------------------------------------------------------------------------- */

/* Stops reading from `from` while `to` holds too much; to's write callback resumes it. */
static void throttle(struct bufferevent *from, struct bufferevent *to)
{
	if (evbuffer_get_length(bufferevent_get_output(to)) > FLOW_HIGH)
		bufferevent_disable(from, EV_READ);
}

static void resume(struct bufferevent *from, struct bufferevent *to)
{
	if (from && to && evbuffer_get_length(bufferevent_get_output(to)) <= FLOW_LOW)
		bufferevent_enable(from, EV_READ);
}

/* ---- up: the real host -------------------------------------------------------------------- */

static void up_read(struct bufferevent *bev, void *u)
{
	struct conn *c = u;

	if (!c->down)
		return;
	c->answered = true;
	evbuffer_add_buffer(bufferevent_get_output(c->down), bufferevent_get_input(bev));
	throttle(bev, c->down);
}

static void up_write(struct bufferevent *bev, void *u)
{
	struct conn *c = u;

	(void)bev;
	if (!c->closing)
		resume(c->down, c->up);
}

static void up_failed(struct conn *c, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->up);
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	char text[512];

	if (v != X509_V_OK)
		(void)snprintf(text, sizeof(text), "coi: %s: certificate not trusted: %s", c->host,
		               X509_verify_cert_error_string(v));
	else if (what & BEV_EVENT_TIMEOUT)
		(void)snprintf(text, sizeof(text), "coi: %s: timed out", c->host);
	else
		(void)snprintf(text, sizeof(text), "coi: %s: cannot connect: %s", c->host,
		               evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	log_warn("egress: %s", text);
	answer(c, false, 502, "Bad Gateway", text);
}

static void up_event(struct bufferevent *bev, short what, void *u)
{
	struct conn *c = u;

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(bev, &(struct timeval){IDLE_SECS, 0}, NULL);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* the host is done: what it sent goes out, then down ends too */
		if (c->down)
			evbuffer_add_buffer(bufferevent_get_output(c->down),
			                    bufferevent_get_input(bev));
		c->answered = true;
		conn_finish(c);
		return;
	}
	up_failed(c, what);
}

static int emit_up(void *u, const void *data, size_t len)
{
	struct conn *c = u;

	return bufferevent_write(c->up, data, len) == 0 ? 0 : -ENOMEM;
}

static const char *value_of(void *u, size_t i)
{
	struct conn *c = u;
	const struct egress_proxy_opts *o = c->px->o;

	return o->value ? o->value(o->userdata, i) : o->set->v[i].value;
}

static const struct egress_connect_to *connect_to_find(const struct egress_proxy_opts *o,
                                                       const char *host)
{
	for (size_t i = 0; i < o->n_connect_to; i++)
		if (strcmp(o->connect_to[i].host, host) == 0)
			return &o->connect_to[i];
	return NULL;
}

/* The resumption slot of host: its own, or (make) a free one, or the first. */
static struct session *session_slot(struct proxy *px, const char *host, bool make)
{
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		if (strcmp(px->sessions[i].host, host) == 0)
			return &px->sessions[i];
	if (!make)
		return NULL;
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		if (!px->sessions[i].host[0]) {
			(void)snprintf(px->sessions[i].host, sizeof(px->sessions[i].host), "%s",
			               host);
			return &px->sessions[i];
		}
	return &px->sessions[0];
}

/* A session ticket from a real host: the next connection to it resumes (no certificate chain
 * to send and verify again). */
static int on_new_session(SSL *ssl, SSL_SESSION *s)
{
	struct conn *c = SSL_get_app_data(ssl);
	struct session *slot = c ? session_slot(c->px, c->host, true) : NULL;

	if (!slot)
		return 0;
	SSL_SESSION_free(slot->s);
	(void)snprintf(slot->host, sizeof(slot->host), "%s", c->host);
	slot->s = s;
	return 1; /* ours now */
}

static int up_start(struct conn *c)
{
	const struct egress_proxy_opts *o = c->px->o;
	const struct egress_connect_to *ct = connect_to_find(o, c->host);
	struct egress_req_opts ro = {
	        .set = o->set, .host = c->host, .emit = emit_up, .value = value_of, .userdata = c};
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL *ssl = SSL_new(c->px->up_ctx);
	int r;

	struct session *sess = session_slot(c->px, c->host, false);

	if (!ssl || !SSL_set_tlsext_host_name(ssl, c->host) || !SSL_set1_host(ssl, c->host) ||
	    SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1) != 0) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	SSL_set_app_data(ssl, c);
	if (sess && sess->s)
		(void)SSL_set_session(ssl, sess->s);
	c->up = bufferevent_openssl_socket_new(c->px->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                       BEV_OPT_CLOSE_ON_FREE);
	if (!c->up)
		return -ENOMEM;
	bufferevent_openssl_set_allow_dirty_shutdown(c->up, 1);
	bufferevent_setcb(c->up, up_read, up_write, up_event, c);
	bufferevent_setwatermark(c->up, EV_WRITE, FLOW_LOW, 0);
	bufferevent_set_timeouts(c->up, &(struct timeval){HANDSHAKE_SECS, 0},
	                         &(struct timeval){HANDSHAKE_SECS, 0});
	r = egress_req_new(&ro, &c->req);
	if (r < 0)
		return r;
	if (ct)
		r = bufferevent_socket_connect(c->up, (const struct sockaddr *)&ct->addr,
		                               sizeof(ct->addr));
	else
		r = bufferevent_socket_connect_hostname(c->up, c->px->dns, AF_UNSPEC, c->host,
		                                        o->port ? o->port : 443);
	if (r < 0)
		return -EHOSTUNREACH;
	bufferevent_enable(c->up, EV_READ | EV_WRITE);
	return 0;
}

/* ---- down: the container ------------------------------------------------------------------ */

/* Hands the client's bytes to the judge; the rest of an upgraded connection goes raw. */
static void down_feed(struct conn *c, struct evbuffer *in)
{
	char chunk[READ_CHUNK];
	int n;

	while (!c->closing && c->up && (n = evbuffer_remove(in, chunk, sizeof(chunk))) > 0) {
		size_t used = (size_t)n;
		int r = c->tunnel ? 1 : egress_req_feed(c->req, chunk, (size_t)n, &used);

		if (r == -EACCES) {
			refuse(c, egress_req_finding(c->req));
			return;
		}
		if (r < 0) {
			answer(c, true, 500, "Internal Server Error", "coi: proxy failure");
			return;
		}
		if (r == 1) {
			if (!c->tunnel)
				used = used > (size_t)n ? (size_t)n : used;
			else
				used = 0;
			c->tunnel = true;
			if ((size_t)n > used &&
			    bufferevent_write(c->up, chunk + used, (size_t)n - used))
				return answer(c, true, 500, "Internal Server Error",
				              "coi: proxy failure");
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (c->up)
		throttle(c->down, c->up);
}

static void down_read(struct bufferevent *bev, void *u)
{
	struct conn *c = u;
	unsigned before = c->req ? egress_req_passed(c->req) : 0;
	unsigned injected = c->req ? egress_req_injected(c->req) : 0;

	if (c->closing || !c->up) {
		evbuffer_drain(bufferevent_get_input(bev),
		               evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	down_feed(c, bufferevent_get_input(bev));
	if (c->req) {
		c->px->stats.requests += egress_req_passed(c->req) - before;
		c->px->stats.injected += egress_req_injected(c->req) - injected;
	}
}

static void down_write(struct bufferevent *bev, void *u)
{
	struct conn *c = u;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_close(c);
		return;
	}
	resume(c->up, c->down);
}

static void down_event(struct bufferevent *bev, short what, void *u)
{
	struct conn *c = u;

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(bev, &(struct timeval){IDLE_SECS, 0}, NULL);
		if (c->up_error || !c->up) {
			log_warn("egress: cannot open a connection for %s", c->host);
			answer(c, true, 502, "Bad Gateway", "coi: cannot reach the host");
		}
		return;
	}
	if (!c->host[0])
		c->px->stats.refused_handshakes++;
	(void)bev;
	/* the client is gone (or never finished its handshake): nothing to answer */
	conn_close(c);
}

/* ---- TLS: the name decides ---------------------------------------------------------------- */

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	struct proxy *px = arg;
	struct conn *c = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char host[256];
	size_t n = name ? strlen(name) : 0;
	X509 *leaf;

	if (!c || n == 0 || n >= sizeof(host))
		goto refuse;
	for (size_t i = 0; i <= n; i++)
		host[i] = (char)tolower((unsigned char)name[i]);
	if (!egress_set_has_host(px->o->set, host))
		goto refuse;
	leaf = egress_ca_leaf(px->o->ca, host);
	if (!leaf || SSL_use_certificate(ssl, leaf) != 1 ||
	    SSL_use_PrivateKey(ssl, egress_ca_leaf_key(px->o->ca)) != 1)
		goto refuse;
	memcpy(c->host, host, n + 1);
	/* the real host's connection opens now, while the client finishes its handshake */
	if (!c->up && up_start(c) < 0)
		c->up_error = true;
	return SSL_TLSEXT_ERR_OK;
refuse:
	log_info("egress: TLS for '%s' refused: not a host of any secret", name ? name : "");
	*alert = SSL_AD_UNRECOGNIZED_NAME;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned inlen, void *arg)
{
	static const unsigned char h1[] = "\x08http/1.1";

	(void)ssl;
	(void)arg;
	/* only HTTP/1.1 is judged: a client offering h2 too falls back to it */
	if (SSL_select_next_proto((unsigned char **)out, outlen, h1, sizeof(h1) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

static int ctx_setup(struct proxy *px, struct coi_error *err)
{
	const struct egress_proxy_opts *o = px->o;

	px->down_ctx = SSL_CTX_new(TLS_server_method());
	px->up_ctx = SSL_CTX_new(TLS_client_method());
	if (!px->down_ctx || !px->up_ctx)
		return coi_error_oom(err);
	SSL_CTX_set_min_proto_version(px->down_ctx, TLS1_2_VERSION);
	SSL_CTX_set_min_proto_version(px->up_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(px->down_ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_mode(px->up_ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_tlsext_servername_callback(px->down_ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(px->down_ctx, px);
	SSL_CTX_set_alpn_select_cb(px->down_ctx, on_alpn, NULL);
	SSL_CTX_set_verify(px->up_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(px->up_ctx,
	                               SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(px->up_ctx, on_new_session);
	if (SSL_CTX_set_default_verify_paths(px->up_ctx) != 1)
		return coi_error_set(err, -EIO, "cannot load the host's CA store");
	if (o->cafile && SSL_CTX_load_verify_locations(px->up_ctx, o->cafile, NULL) != 1)
		return coi_error_set(err, -EIO, "cannot load CA file '%s'", o->cafile);
	return 0;
}

/* ---- accepting ---------------------------------------------------------------------------- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *u)
{
	struct proxy *px = u;
	struct conn *c = calloc(1, sizeof(*c));
	SSL *ssl = SSL_new(px->down_ctx);

	(void)l;
	(void)sa;
	(void)len;
	if (!c || !ssl) {
		free(c);
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	c->px = px;
	SSL_set_app_data(ssl, c);
	c->down = bufferevent_openssl_socket_new(px->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                         BEV_OPT_CLOSE_ON_FREE);
	if (!c->down) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	px->stats.connections++;
	c->next = px->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &px->conns;
	px->conns = c;
	bufferevent_openssl_set_allow_dirty_shutdown(c->down, 1);
	bufferevent_setcb(c->down, down_read, down_write, down_event, c);
	bufferevent_setwatermark(c->down, EV_WRITE, FLOW_LOW, 0);
	bufferevent_set_timeouts(c->down, &(struct timeval){HANDSHAKE_SECS, 0}, NULL);
	bufferevent_enable(c->down, EV_READ | EV_WRITE);
}

static void on_stop(evutil_socket_t fd, short what, void *u)
{
	(void)fd;
	(void)what;
	event_base_loopexit(u, NULL);
}

static void on_ready(evutil_socket_t fd, short what, void *u)
{
	struct proxy *px = u;

	(void)fd;
	(void)what;
	if (px->o->ready)
		px->o->ready(px->o->userdata);
}

static int run_loop(struct proxy *px, struct coi_error *err)
{
	const struct egress_proxy_opts *o = px->o;
	struct evconnlistener *l;
	struct event *stop[3] = {NULL, NULL, NULL};
	int r = 0;

	l = evconnlistener_new(px->base, on_accept, px, LEV_OPT_CLOSE_ON_FREE, -1, o->listen_fd);
	if (!l)
		return coi_error_set(err, -EIO, "cannot listen for the container's connections");
	stop[0] = evsignal_new(px->base, SIGTERM, on_stop, px->base);
	stop[1] = evsignal_new(px->base, SIGINT, on_stop, px->base);
	if (o->stop_fd >= 0)
		stop[2] = event_new(px->base, o->stop_fd, EV_READ, on_stop, px->base);
	if (!stop[0] || !stop[1] || (o->stop_fd >= 0 && !stop[2]) || event_add(stop[0], NULL) < 0 ||
	    event_add(stop[1], NULL) < 0 || (stop[2] && event_add(stop[2], NULL) < 0) ||
	    event_base_once(px->base, -1, EV_TIMEOUT, on_ready, px, NULL) < 0)
		r = coi_error_oom(err);
	else
		(void)event_base_dispatch(px->base);
	for (size_t i = 0; i < 3; i++)
		if (stop[i])
			event_free(stop[i]);
	evconnlistener_free(l);
	return r;
}

int egress_proxy_run(const struct egress_proxy_opts *o, struct egress_stats *ret_stats,
                     struct coi_error *err)
{
	struct proxy px = {.o = o};
	int r;

	if (!o->set || !o->ca || o->listen_fd < 0)
		return coi_error_set(err, -EINVAL, "the proxy needs secrets, a CA and a socket");
	(void)signal(SIGPIPE, SIG_IGN);
	px.base = event_base_new();
	if (!px.base)
		return coi_error_oom(err);
	px.dns = evdns_base_new(px.base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!px.dns)
		log_info("egress: no DNS servers found for the host's resolver, ignoring");
	r = ctx_setup(&px, err);
	if (r >= 0)
		r = run_loop(&px, err);
	while (px.conns)
		conn_destroy(px.conns);
	if (px.dns)
		evdns_base_free(px.dns, 0);
	for (size_t i = 0; i < SESSIONS_MAX; i++)
		SSL_SESSION_free(px.sessions[i].s);
	SSL_CTX_free(px.down_ctx);
	SSL_CTX_free(px.up_ctx);
	event_base_free(px.base);
	log_info("egress: %lu connections (%lu refused in the handshake), %lu requests, %lu with "
	         "a secret, %lu refused",
	         px.stats.connections, px.stats.refused_handshakes, px.stats.requests,
	         px.stats.injected, px.stats.refused);
	if (ret_stats)
		*ret_stats = px.stats;
	return r;
}

/* ---- test routing ------------------------------------------------------------------------- */

int egress_addr_parse(const char *spec, struct sockaddr_in *ret, struct coi_error *err)
{
	const char *colon = strrchr(spec, ':');
	char addr[INET_ADDRSTRLEN] = "127.0.0.1";
	size_t al = colon ? (size_t)(colon - spec) : 0;
	char *end;
	unsigned long port = strtoul(colon ? colon + 1 : spec, &end, 10);

	if (al >= sizeof(addr) || *end || port > 65535 || end == (colon ? colon + 1 : spec))
		return coi_error_set(err, -EINVAL, "'%s' is not address:port", spec);
	if (colon) {
		memcpy(addr, spec, al);
		addr[al] = '\0';
	}
	*ret = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &ret->sin_addr) != 1)
		return coi_error_set(err, -EINVAL, "'%s' is not an IPv4 address", addr);
	return 0;
}

int egress_listen(const struct sockaddr_in *addr, uint16_t *ret_port, struct coi_error *err)
{
	struct sockaddr_in sa = *addr;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return coi_error_errno(err, errno, "cannot make a socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		int e = errno;

		close(fd);
		return coi_error_errno(err, e, "cannot listen on %s:%u", inet_ntoa(addr->sin_addr),
		                       ntohs(addr->sin_port));
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

int egress_connect_to_parse(const char *s, struct egress_connect_to *ret, size_t max,
                            struct coi_error *err)
{
	size_t n = 0;

	for (const char *p = s; p && *p;) {
		const char *end = strchrnul(p, ','), *eq = memchr(p, '=', (size_t)(end - p));
		char spec[64];
		size_t hl = eq ? (size_t)(eq - p) : 0, sl = eq ? (size_t)(end - eq - 1) : 0;
		int r;

		if (hl == 0 || hl >= sizeof(ret->host) || sl == 0 || sl >= sizeof(spec) || n == max)
			return coi_error_set(err, -EINVAL, "'%.*s' is not name=address:port",
			                     (int)(end - p), p);
		memcpy(spec, eq + 1, sl);
		spec[sl] = '\0';
		ret[n] = (struct egress_connect_to){0};
		r = egress_addr_parse(spec, &ret[n].addr, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < hl; i++)
			ret[n].host[i] = (char)tolower((unsigned char)p[i]);
		n++;
		p = *end ? end + 1 : end;
	}
	return (int)n;
}
