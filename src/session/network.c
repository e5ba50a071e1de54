/* SPDX-License-Identifier: MIT */
/* network.c: the session's network policy phases (the policy itself is netpolicy's, the DNS
 * filter egress's).
 *
 * Fail closed: the boot block (every packet from the container's veth dropped but ARP and DHCP
 * to the bridge) is installed before the container starts, under the veth name coi chose; the
 * real rules replace it in one transaction once the container's IPv4 is known. Any failure in
 * restricted or allowlist mode stops the session.
 *
 * DNS (ARCHITECTURE.md decision 10): the rules redirect every query the container sends, to any
 * server, to the session's DNS filter, which the session's supervisor runs. The sockets are
 * bound here (their port goes into the rules) and handed to the supervisor when it starts
 * (session_net_supervisor_*), so a query sent in between waits in them. In allowlist mode the
 * filter is what lets an allowed name resolve and its addresses through: when it cannot be set
 * up, the session does not start. In restricted and open mode it answers and records every
 * query; when it cannot be set up, DNS goes where the container sends it, and a warning says
 * so. Open mode has rules only for the filter and [monitoring.nft]; where nftables cannot be
 * used, it goes on without them. */
#include "session/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress/dnsserver.h"
#include "incus/incus.h"
#include "monitor/monitor.h"
#include "netpolicy/netpolicy.h"
#include "session/state.h"
#include "session/undo.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/proc.h"
#include "util/strv.h"

#define RESOLV_CONF_MAX (64u << 10)
#define DNS_FD_MIN      64 /* where the filter's sockets wait for the supervisor */

/* The DNS filter's sockets until the supervisor has them, and its options. */
struct session_dns {
	int fd[2]; /* UDP, TCP; -1 once handed over */
	char **argv;
};

static const struct net_nft nft = {.backend = NET_BACKEND_AUTO};

static bool filtered(const struct session *s)
{
	return s->opts->net && s->opts->net->mode != NET_MODE_OPEN;
}

/* Rules are installed when filtered, and in open mode for the monitor's counting rules
 * ([monitoring]), its log rules ([monitoring.nft]) and the credential proxy's redirect. */
static bool has_rules(const struct session *s)
{
	return filtered(s) ||
	       (s->opts->net && (s->opts->net->watch.enabled || s->opts->net->watch.count)) ||
	       s->egress.port;
}

/* The bridge the profile's NIC is on: its address and prefix (the gateway). */
static int bridge_of(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_profile_freep) struct incus_profile *prof = NULL;
	_cleanup_(incus_network_freep) struct incus_network *net = NULL;
	const char *profile = s->opts->profile ? s->opts->profile : "default", *name = NULL, *addr;
	char ip[INET_ADDRSTRLEN];
	int r;

	r = incus_profile_get(s->client, profile, &prof, err);
	if (r < 0)
		return r;
	for (size_t i = 0; !name && i < prof->devices.n; i++) {
		const char *type = incus_map_get(&prof->devices.items[i].props, "type");

		if (type && strcmp(type, "nic") == 0)
			name = incus_map_get(&prof->devices.items[i].props, "network");
	}
	if (!name)
		return coi_error_set(err, -ENOENT,
		                     "the profile '%s' has no NIC on an Incus network; coi needs a "
		                     "managed bridge to apply its network policy",
		                     profile);
	r = incus_network_get(s->client, name, &net, err);
	if (r < 0)
		return r;
	addr = incus_map_get(&net->config, "ipv4.address");
	if (!addr || sscanf(addr, "%15[0-9.]/%u", ip, &s->prefix) != 2 ||
	    inet_pton(AF_INET, ip, &s->gateway) != 1)
		return coi_error_set(err, -EINVAL,
		                     "network '%s' has no IPv4 address (ipv4.address)", name);
	return 0;
}

int session_net_bridge(struct session *s, struct coi_error *err)
{
	return s->gateway.s_addr ? 0 : bridge_of(s, err);
}

static void target_init(struct session *s, struct net_target *t)
{
	if (!s->nflog_group) /* one no other supervisor listens on (monitor.h) */
		s->nflog_group = monitor_nflog_group_pick(s->name);
	*t = (struct net_target){
	        .container = s->name,
	        .veth = s->veth,
	        .gateway = s->gateway,
	        .prefix = s->prefix,
	        .log_group = s->nflog_group,
	        .proxy_port = s->egress.port,
	};
}

int session_net_boot(struct session *s, struct coi_error *err)
{
	struct net_target t;
	int r;

	if (!filtered(s))
		return 0;
	if (!s->opts->nft_sudo && !net_have_cap_net_admin())
		return coi_error_set(
		        err, -EPERM,
		        "coi cannot apply the network policy: it is not root (no "
		        "CAP_NET_ADMIN) and [network] use_sudo is off. Run it as root, "
		        "set use_sudo = true (with 'sudo -n nft' allowed), or set "
		        "[network] mode = \"open\"");
	r = session_net_bridge(s, err);
	if (r < 0)
		return r;
	target_init(s, &t);
	r = netpolicy_boot_block(&nft, &t, err);
	if (r < 0 && !net_have_cap_net_admin()) {
		char old[COI_ERROR_MAX];

		memcpy(old, err->msg, sizeof(old));
		return coi_error_set(
		        err, r,
		        "%s (coi enforces its network policy with nftables: run it as "
		        "root, give it CAP_NET_ADMIN, or allow it 'sudo -n nft'; or set "
		        "[network] mode = \"open\")",
		        old);
	}
	return r;
}

int session_net_remove(struct session *s, struct coi_error *err)
{
	if (!has_rules(s) && !s->dns)
		return 0;
	return netpolicy_remove(&nft, NULL, s->name, err);
}

/* DHCP gives the address a moment after start; poll the state, bounded by ready_timeout. Without
 * rules to install (open mode) the command must still start with its network up: a container with
 * no eth0 at all (a profile without a NIC) has nothing to wait for. */
static int wait_ipv4(struct session *s, bool rules, struct in_addr *ret, struct coi_error *err)
{
	struct timespec step = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000}, t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
		const struct incus_nic *nic;
		int r = incus_instance_state(s->client, s->name, &st, err);

		if (r < 0)
			return r;
		nic = incus_state_nic(st, "eth0");
		if (nic && nic->ipv4 && inet_pton(AF_INET, nic->ipv4, ret) == 1)
			return 0;
		if (!nic && !rules)
			return 0;
		if (session_interrupted())
			return coi_error_set(err, -ECANCELED, "interrupted");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= s->opts->ready_timeout)
			return coi_error_set(
			        err, -ETIMEDOUT,
			        "'%s' got no IPv4 address within %d s (DHCP on the bridge)",
			        s->name, s->opts->ready_timeout);
		(void)nanosleep(&step, NULL);
	}
}

/* [[network.hosts]] become /etc/hosts lines (they resolve in the container without DNS). */
static int write_hosts(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf block = BUF_INIT(1u << 20), old = BUF_INIT(1u << 20),
	                         merged = BUF_INIT(2u << 20);
	struct incus_file_attrs a = {.uid = 0, .gid = 0, .mode = 0644};
	int r;

	if (s->opts->net->n_hosts == 0)
		return 0;
	if (net_hosts_render(s->opts->net, &block) < 0)
		return coi_error_oom(err);
	r = incus_file_read(s->client, s->name, "/etc/hosts", &old, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (net_hosts_merge(buf_str(&old), buf_str(&block), &merged) < 0)
		return coi_error_oom(err);
	return incus_file_write(s->client, s->name, "/etc/hosts", merged.data, merged.len, &a, err);
}

/* ---- the DNS filter ------------------------------------------------------------------------- */

static void dns_free(struct session_dns *d)
{
	if (!d)
		return;
	for (int i = 0; i < 2; i++)
		if (d->fd[i] >= 0)
			(void)close(d->fd[i]);
	strv_free(d->argv);
	free(d);
}

static int push_opt(char ***argv, const char *name, const char *value)
{
	return strv_push(argv, name) < 0 || strv_push(argv, value) < 0 ? -ENOMEM : 0;
}

/* Where the filter asks: [network] dns_servers; else in allowlist mode the host's resolvers (as
 * every lookup on the host), in the other modes the bridge's DNS, which the container would have
 * asked (it also knows the other containers' names). */
static int dns_upstream(const struct session *s, char ***argv)
{
	const struct net_policy *p = s->opts->net;
	_cleanup_buf_ struct buf conf = BUF_INIT(RESOLV_CONF_MAX);
	_cleanup_strv_free_ char **ns = NULL;
	char a[INET_ADDRSTRLEN];

	for (size_t i = 0; i < p->n_dns_servers; i++)
		if (push_opt(argv, "--dns-upstream",
		             inet_ntop(AF_INET, &p->dns_servers[i], a, sizeof(a))) < 0)
			return -ENOMEM;
	if (p->n_dns_servers)
		return 0;
	if (p->mode != NET_MODE_ALLOWLIST)
		return push_opt(argv, "--dns-upstream",
		                inet_ntop(AF_INET, &s->gateway, a, sizeof(a)));
	(void)read_file("/etc/resolv.conf", &conf, NULL);
	ns = egress_dns_resolvconf(buf_str(&conf));
	if (!ns)
		return -ENOMEM;
	strv_foreach(n, ns)
		if (push_opt(argv, "--dns-upstream", *n) < 0)
			return -ENOMEM;
	return 0;
}

/* The policy as the supervisor's options (cmd/monitor-dns.c reads them back). */
static int dns_policy_args(const struct net_policy *p, struct in_addr client, char ***argv)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 16);
	char a[INET_ADDRSTRLEN], num[16];
	int r;

	(void)snprintf(num, sizeof(num), "%u", p->dns_min_ttl);
	r = push_opt(argv, "--dns-client", inet_ntop(AF_INET, &client, a, sizeof(a)));
	if (r >= 0)
		r = push_opt(argv, "--dns-mode", net_mode_to_string(p->mode));
	if (r >= 0)
		r = push_opt(argv, "--dns-min-ttl", num);
	/* which answered addresses may be installed (net_policy_name_addr_ok) */
	if (r >= 0 && (!p->block_private_networks || p->allow_local_network_access))
		r = strv_push(argv, "--dns-admit-private");
	if (r >= 0 && !p->block_metadata_endpoint)
		r = strv_push(argv, "--dns-admit-metadata");
	/* the allowlist and the port cap matter to it in allowlist mode only (its sets) */
	for (size_t i = 0; r >= 0 && p->mode == NET_MODE_ALLOWLIST && i < p->n_allowlist; i++) {
		buf_reset(&b);
		r = net_dest_format(&p->allowlist[i], &b);
		if (r >= 0)
			r = push_opt(argv, "--dns-allow", buf_str(&b));
	}
	for (size_t i = 0; r >= 0 && p->mode == NET_MODE_ALLOWLIST && i < p->allowed_ports.n; i++) {
		(void)snprintf(num, sizeof(num), "%u", p->allowed_ports.r[i].lo);
		r = push_opt(argv, "--dns-port", num);
	}
	/* answered addresses in these are admitted too (net_policy_name_addr_ok) */
	for (size_t i = 0; r >= 0 && p->mode == NET_MODE_ALLOWLIST && i < p->n_allowed_networks;
	     i++) {
		buf_reset(&b);
		r = buf_printf(&b, "%s/%u",
		               inet_ntop(AF_INET, &p->allowed_networks[i].addr, a, sizeof(a)),
		               p->allowed_networks[i].prefix);
		if (r >= 0)
			r = push_opt(argv, "--dns-network", buf_str(&b));
	}
	for (size_t i = 0; r >= 0 && i < p->n_hosts; i++) {
		_cleanup_free_ char *names = strv_join(p->hosts[i].hostnames, ",");

		buf_reset(&b);
		r = names ? buf_printf(&b, "%s=%s",
		                       inet_ntop(AF_INET, &p->hosts[i].addr, a, sizeof(a)), names)
		          : -ENOMEM;
		if (r >= 0)
			r = push_opt(argv, "--dns-host", buf_str(&b));
	}
	return r < 0 ? -ENOMEM : 0;
}

/* Binds the filter's sockets on the bridge address; t->dns_port is their port. */
static int dns_setup(struct session *s, struct net_target *t, struct coi_error *err)
{
	struct session_dns *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return coi_error_oom(err);
	d->fd[0] = d->fd[1] = -1;
	r = egress_dns_listen(s->gateway, 0, &d->fd[0], &d->fd[1], &t->dns_port, err);
	for (int i = 0; r >= 0 && i < 2; i++) { /* above every fd the supervisor's child places */
		int high = fcntl(d->fd[i], F_DUPFD_CLOEXEC, DNS_FD_MIN);

		if (high < 0)
			r = coi_error_errno(err, errno, "cannot keep the DNS filter's socket");
		(void)close(d->fd[i]);
		d->fd[i] = high;
	}
	if (r >= 0 &&
	    (dns_upstream(s, &d->argv) < 0 || dns_policy_args(s->opts->net, t->ipv4, &d->argv) < 0))
		r = coi_error_oom(err);
	if (r < 0) {
		dns_free(d);
		t->dns_port = 0;
		return r;
	}
	s->dns = d;
	return 0;
}

static void dns_drop(struct session *s, struct net_target *t)
{
	dns_free(s->dns);
	s->dns = NULL;
	t->dns_port = 0;
}

bool session_net_has_filter(const struct session *s)
{
	return s->dns != NULL;
}

int session_net_supervisor_args(const struct session *s, int first, char ***argv)
{
	char fds[32];

	if (!s->dns)
		return 0;
	/* monitoring off: the supervisor runs for the filter (and the deadline) only */
	if (!s->opts->monitor_argv && strv_push(argv, "--timer-only") < 0)
		return -ENOMEM;
	(void)snprintf(fds, sizeof(fds), "%d,%d", first, first + 1);
	if (push_opt(argv, "--dns-fds", fds) < 0)
		return -ENOMEM;
	strv_foreach(a, s->dns->argv)
		if (strv_push(argv, *a) < 0)
			return -ENOMEM;
	return 0;
}

void session_net_supervisor_fds(const struct session *s, int first)
{
	if (!s->dns || s->dns->fd[0] < 0) {
		(void)close_range((unsigned)first, ~0U, 0);
		return;
	}
	/* the sockets sit at DNS_FD_MIN or above (dns_setup), out of the way of the fds placed
	 * below first before; dup2 clears close-on-exec */
	if (dup2(s->dns->fd[0], first) < 0 || dup2(s->dns->fd[1], first + 1) < 0)
		_exit(127);
	(void)close_range((unsigned)first + 2, ~0U, 0);
}

void session_net_supervisor_started(struct session *s)
{
	if (!s->dns)
		return;
	for (int i = 0; i < 2; i++) {
		if (s->dns->fd[i] >= 0)
			(void)close(s->dns->fd[i]);
		s->dns->fd[i] = -1;
	}
}

void session_net_release(struct session *s)
{
	dns_free(s->dns);
	s->dns = NULL;
}

/* ---- applying ------------------------------------------------------------------------------ */

/* The filter, when it can be had: required in allowlist mode, else a warning. */
static int dns_want(struct session *s, struct net_target *t, struct coi_error *err)
{
	struct coi_error e = {0};
	_cleanup_free_ char *w = NULL;

	if (dns_setup(s, t, &e) >= 0)
		return 0;
	if (s->opts->net->mode == NET_MODE_ALLOWLIST) {
		*err = e;
		return coi_error_prefix(err, "the DNS filter (allowlist mode needs it)");
	}
	if (asprintf(&w, "DNS queries are not recorded: %s", coi_error_message(&e)) >= 0)
		(void)strv_consume(&s->warnings, TAKE_PTR(w));
	return 0;
}

/* Open mode: rules only for the filter and [monitoring.nft], and none where nftables cannot be
 * used (open mode never needed it). */
static int apply_open(struct session *s, struct net_target *t, struct coi_error *err)
{
	struct coi_error e = {0};
	_cleanup_free_ char *w = NULL;

	if (netpolicy_apply(&nft, t, s->opts->net, &e) >= 0)
		return 0;
	if (asprintf(&w, "no DNS records or connection logs in open mode: %s",
	             coi_error_message(&e)) >= 0)
		(void)strv_consume(&s->warnings, TAKE_PTR(w));
	dns_drop(s, t);
	return 0;
}

int session_net_apply(struct session *s, struct coi_error *err)
{
	struct net_target t;
	bool bridge = true;
	int r;

	if (!s->opts->net)
		return 0;
	if (!filtered(s)) {
		/* open mode had no boot block to find the bridge; a profile with no NIC on one has
		 * nothing to filter (or log, which then fails) */
		r = session_net_bridge(s, err);
		if (r < 0 && has_rules(s))
			return coi_error_prefix(err, "network policy");
		bridge = r >= 0;
		coi_error_clear(err);
	}
	target_init(s, &t);
	r = wait_ipv4(s, has_rules(s), &t.ipv4, err);
	if (r >= 0 && bridge && t.ipv4.s_addr != INADDR_ANY)
		r = dns_want(s, &t, err);
	if (r >= 0 && filtered(s))
		r = netpolicy_apply(&nft, &t, s->opts->net, err);
	else if (r >= 0 && (has_rules(s) || t.dns_port))
		r = apply_open(s, &t, err);
	if (r >= 0)
		r = write_hosts(s, err);
	return r < 0 ? coi_error_prefix(err, "network policy") : 0;
}
