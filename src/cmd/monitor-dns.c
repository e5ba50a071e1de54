/* SPDX-License-Identifier: MIT */
/* monitor-dns.c: see monitor-dns.h. */
#include "cmd/monitor-dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/dnsproc.h"
#include "monitor/monitor.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

void monitor_dns_args_init(struct monitor_dns_args *a)
{
	*a = (struct monitor_dns_args){.udp_fd = -1, .tcp_fd = -1};
	net_policy_init(&a->policy);
}

void monitor_dns_args_release(struct monitor_dns_args *a)
{
	net_policy_release(&a->policy);
	strv_free(a->upstream);
	a->upstream = NULL;
}

static int fds_parse(struct monitor_dns_args *a, const char *v, struct coi_error *err)
{
	char *end;
	long u = strtol(v, &end, 10), t = *end == ',' ? strtol(end + 1, &end, 10) : -1;

	if (*end || u < 3 || t < 3 || u == t || u > 1024 || t > 1024)
		return coi_error_set(err, -EINVAL, "--dns-fds takes two descriptors, as in 3,4");
	a->udp_fd = (int)u;
	a->tcp_fd = (int)t;
	a->on = true;
	return 0;
}

static int number(const char *name, const char *v, long min, long max, long *ret,
                  struct coi_error *err)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < min || n > max)
		return coi_error_set(err, -EINVAL, "--%s takes %ld..%ld", name, min, max);
	*ret = n;
	return 0;
}

int monitor_dns_args_set(struct monitor_dns_args *a, const char *name, const char *value,
                         struct coi_error *err)
{
	struct net_policy *p = &a->policy;
	long n;
	int r = 0;

	if (strcmp(name, "dns-fds") == 0)
		r = fds_parse(a, value, err);
	else if (strcmp(name, "dns-client") == 0 && inet_pton(AF_INET, value, &a->client) != 1)
		r = coi_error_set(err, -EINVAL, "--dns-client takes an IPv4 address");
	else if (strcmp(name, "dns-mode") == 0 && (int)(p->mode = net_mode_from_string(value)) < 0)
		r = coi_error_set(err, -EINVAL, "--dns-mode takes restricted, allowlist or open");
	else if (strcmp(name, "dns-min-ttl") == 0 &&
	         (r = number(name, value, 0, 86400, &n, err)) >= 0)
		p->dns_min_ttl = (unsigned)n;
	else if (strcmp(name, "dns-admit-private") == 0)
		p->block_private_networks = false;
	else if (strcmp(name, "dns-admit-metadata") == 0)
		p->block_metadata_endpoint = false;
	else if (strcmp(name, "dns-allow") == 0)
		r = net_policy_add_dest(p, value, err);
	else if (strcmp(name, "dns-port") == 0 && (r = number(name, value, 1, 65535, &n, err)) >= 0)
		r = net_policy_add_allowed_port(p, n, err);
	else if (strcmp(name, "dns-network") == 0)
		r = net_policy_add_allowed_network(p, value, err);
	else if (strcmp(name, "dns-host") == 0)
		r = net_policy_add_host_text(p, value, err);
	else if (strcmp(name, "dns-upstream") == 0 && strv_push(&a->upstream, value) < 0)
		r = coi_error_oom(err);
	return r < 0 ? coi_error_prefix(err, "--%s", name) : 0;
}

bool monitor_dns_admits(const void *policy, const struct conn_obs *c)
{
	const struct net_policy *p = policy;

	if (p->mode == NET_MODE_OPEN)
		return true;
	/* IPv6 leaves the container in open mode only */
	return c->family == AF_INET && net_policy_name_addr_ok(p, c->daddr.v4);
}

int monitor_dns_args_check(const struct monitor_dns_args *a, struct coi_error *err)
{
	if (!a->on)
		return 0;
	if (a->client.s_addr == INADDR_ANY || !a->upstream)
		return coi_error_set(err, -EINVAL,
		                     "--dns-fds needs --dns-client and --dns-upstream");
	return 0;
}

/* ---- the records ---------------------------------------------------------------------------- */

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
	                                    "NXDOMAIN", "NOTIMP",  "REFUSED"};

	return rcode >= 0 && (size_t)rcode < ELEMENTSOF(names) ? names[rcode] : "error";
}

/* "NXDOMAIN (not allowed)", "NOERROR: 198.18.0.1, 198.18.0.2 (+3 more), in the firewall for
 * 70 s (allowed)". */
static void detail(const struct egress_dns_record *r, char *out, size_t size)
{
	struct buf b = BUF_INIT(size - 1);
	size_t n = r->n_addrs < EGRESS_RECORD_ADDRS ? r->n_addrs : EGRESS_RECORD_ADDRS;
	char a[INET_ADDRSTRLEN];

	(void)buf_puts(&b, rcode_name(r->rcode));
	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&b, "%s%s", i ? ", " : ": ",
		                 inet_ntop(AF_INET, &r->addrs[i], a, sizeof(a)));
	if (r->n_addrs > n)
		(void)buf_printf(&b, " (+%zu more)", r->n_addrs - n);
	if (r->timeout)
		(void)buf_printf(&b, ", in the firewall for %u s", r->timeout);
	if (r->why[0])
		(void)buf_printf(&b, " (%s)", r->why);
	(void)snprintf(out, size, "%s", buf_str(&b));
	buf_release(&b);
}

static int read_record(struct monitor_dns_args *a, int fd, struct monitor_dns *ret)
{
	unsigned lost = 0;
	int r = egress_dns_read_record(fd, &a->rec, &lost);

	if (r <= 0)
		return r;
	detail(&a->rec, a->detail, sizeof(a->detail));
	*ret = (struct monitor_dns){
	        .name = a->rec.name,
	        .type = a->rec.qtype ? dns_type_to_string(a->rec.qtype, a->type) : "-",
	        .verdict = egress_verdict_to_string(a->rec.verdict),
	        .detail = a->detail,
	        .refused = a->rec.verdict == EGRESS_REFUSE,
	        .tcp = a->rec.tcp,
	        .lost = lost,
	};
	return 1;
}

static struct monitor_dns_args *dns_of(void *userdata)
{
	/* the supervisor's userdata starts with its monitor_dns_args (cmd/monitor.c) */
	return userdata;
}

static int on_read(int fd, struct monitor_dns *ret, void *userdata)
{
	return read_record(dns_of(userdata), fd, ret);
}

static void on_ended(char *text, size_t size, void *userdata)
{
	egress_dns_exit_text(dns_of(userdata)->pid, text, size);
}

int monitor_dns_start(struct monitor_dns_args *a, const char *container, struct monitor_opts *mo,
                      struct coi_error *err)
{
	static const struct net_nft nft = {.backend = NET_BACKEND_AUTO};
	struct egress_dns_opts o = {.container = container,
	                            .nft = &nft,
	                            .policy = &a->policy,
	                            .client = a->client,
	                            .udp_fd = a->udp_fd,
	                            .tcp_fd = a->tcp_fd,
	                            .upstream = a->upstream,
	                            .ttl_min = a->policy.dns_min_ttl,
	                            .stop_fd = -1};
	int r;

	if (!a->on)
		return 0;
	r = egress_dns_spawn(&o, &a->pid, &mo->dns_pidfd, &mo->dns_fd, err);
	/* the filter has the sockets: when it is gone, queries meet a closed port */
	(void)close(a->udp_fd);
	(void)close(a->tcp_fd);
	a->udp_fd = a->tcp_fd = -1;
	if (r < 0)
		return r;
	mo->dns_read = on_read;
	mo->dns_ended = on_ended;
	return 0;
}
