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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "egress/dnsserver.h"
#include "incus/incus.h"
#include "monitor/monitor.h"
#include "netpolicy/netpolicy.h"
#include "session/devices.h"
#include "session/state.h"
#include "session/undo.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
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

int session_profile(struct session *s, const struct incus_profile **ret, struct coi_error *err)
{
	int r = s->profile ? 0
	                   : incus_profile_get(s->client,
	                                       s->opts->profile ? s->opts->profile : "default",
	                                       &s->profile, err);

	*ret = s->profile;
	return r;
}

/* The bridge the profile's NIC is on: its address and prefix (the gateway). */
static int bridge_of(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_network_freep) struct incus_network *net = NULL;
	const struct incus_profile *prof;
	const char *profile = s->opts->profile ? s->opts->profile : "default", *name = NULL, *addr;
	char ip[INET_ADDRSTRLEN];
	unsigned nics = 0;
	int r;

	r = session_profile(s, &prof, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < prof->devices.n; i++) {
		const struct incus_device *d = &prof->devices.items[i];
		const char *type = incus_map_get(&d->props, "type"),
		           *in = incus_map_get(&d->props, "name");

		if (!type || strcmp(type, "nic") != 0)
			continue;
		/* the address can be set before start on the guest's one NIC, eth0, only (raw.lxc
		 * names it lxc.net.0, the networkd file eth0) */
		s->one_eth0 = !nics++ && strcmp(in ? in : d->name, "eth0") == 0;
		if (!name)
			name = incus_map_get(&d->props, "network");
	}
	s->one_eth0 = s->one_eth0 && nics == 1;
	if (!name)
		return coi_error_set(err, -ENOENT,
		                     "the profile '%s' has no NIC on an Incus network; coi needs a "
		                     "managed bridge to apply its network policy",
		                     profile);
	r = incus_network_get(s->client, name, &net, err);
	if (r < 0)
		return r;
	/* a managed bridge hands out (and reserves) the addresses; another kind does not */
	s->managed_bridge = net->managed && net->type && strcmp(net->type, "bridge") == 0;
	free(s->bridge);
	s->bridge = strdup(name);
	if (!s->bridge)
		return coi_error_oom(err);
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

/* A failure of nft (r) says what would make it work, when coi lacks the right to use it. */
static int nft_hint(int r, struct coi_error *err)
{
	char old[COI_ERROR_MAX];

	if (r >= 0 || net_have_cap_net_admin())
		return r;
	memcpy(old, err->msg, sizeof(old));
	return coi_error_set(err, r,
	                     "%s (coi enforces its network policy with nftables: run it as root, "
	                     "give it CAP_NET_ADMIN, or allow it 'sudo -n nft'; or set [network] "
	                     "mode = \"open\")",
	                     old);
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
	/* decided: the real rules go in before the create; a warm container's wait for its claim
	 * (warm.h) behind the block */
	if (r < 0 || (s->ipv4.s_addr && !s->opts->warm_fill))
		return r;
	target_init(s, &t);
	return nft_hint(netpolicy_boot_block(&nft, &t, err), err);
}

int session_net_remove_claimed(struct session *s, struct coi_error *err)
{
	_cleanup_free_ char *file = proc_run_path(s->name, "network");

	if (file)
		(void)unlink(file);
	/* the block is the container's too: gone with its rules when they went (one read of the
	 * tables and one batch fewer) */
	return s->rules_removed ? 0 : netpolicy_remove(&nft, NULL, s->name, err);
}

int session_net_remove(struct session *s, struct coi_error *err)
{
	int r;

	if (!has_rules(s) && !s->dns)
		return 0;
	r = netpolicy_remove(&nft, NULL, s->name, err);
	s->rules_removed = r >= 0;
	return r;
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
	free(s->bridge);
	s->bridge = NULL;
	free(s->net_file);
	s->net_file = NULL;
	s->profile = incus_profile_free(s->profile);
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

	int r = netpolicy_apply(&nft, t, s->opts->net, &e);

	if (r >= 0)
		return 0;
	if (r == -EADDRINUSE) { /* the address is another session's: take another */
		if (err)
			*err = e;
		return r;
	}
	if (asprintf(&w, "no DNS records or connection logs in open mode: %s",
	             coi_error_message(&e)) >= 0)
		(void)strv_consume(&s->warnings, TAKE_PTR(w));
	dns_drop(s, t);
	return 0;
}

/* The DNS filter and the rules for the container's address: once DHCP has given it, or before
 * the start for the address decided then (session_net_pin). */
static int apply(struct session *s, struct coi_error *err)
{
	struct net_target t;
	bool bridge = true;
	int r;

	if (!filtered(s)) {
		/* open mode had no boot block to find the bridge; a profile with no NIC on one has
		 * nothing to filter (or log, which then fails) */
		r = session_net_bridge(s, err);
		if (r < 0 && has_rules(s))
			return r;
		bridge = r >= 0;
		coi_error_clear(err);
	}
	target_init(s, &t);
	t.ipv4 = s->ipv4;
	/* a persistent container's address is its own, a claimed warm one's too (warm.h) */
	t.pinned = s->ipv4.s_addr && !s->reused && !s->claimed;
	r = s->ipv4.s_addr ? 0 : wait_ipv4(s, has_rules(s), &t.ipv4, err);
	if (r >= 0 && bridge && t.ipv4.s_addr != INADDR_ANY)
		r = dns_want(s, &t, err);
	if (r >= 0 && filtered(s))
		r = nft_hint(netpolicy_apply(&nft, &t, s->opts->net, err), err);
	else if (r >= 0 && (has_rules(s) || t.dns_port))
		r = apply_open(s, &t, err);
	return r;
}

static int move(struct session *s, unsigned attempt, struct coi_error *err);

/* The rules before the start, for the address decided then; another session's rules on it (a
 * session of another user that picked it at the same moment) move this one elsewhere. */
int session_net_apply_early(struct session *s, struct coi_error *err)
{
	int r;

	if (!s->opts->net || !s->ipv4.s_addr)
		return 0;
	r = apply(s, err);
	for (unsigned attempt = 1; r == -EADDRINUSE && attempt <= SESSION_PIN_ATTEMPTS; attempt++) {
		coi_error_clear(err);
		r = move(s, attempt, err);
		if (r >= 0)
			r = apply(s, err);
	}
	return r < 0 ? coi_error_prefix(err, "network policy") : 0;
}

int session_net_apply(struct session *s, struct coi_error *err)
{
	int r;

	if (!s->opts->net)
		return 0;
	r = s->ipv4.s_addr ? 0 : apply(s, err);
	if (r >= 0)
		r = write_hosts(s, err);
	return r < 0 ? coi_error_prefix(err, "network policy") : 0;
}

/* ---- the address decided before start -------------------------------------------------------
 *
 * A free address on the bridge (neither in its leases, which list the addresses pinned on every
 * instance's NIC, running or stopped, nor claimed by another session of this user starting at
 * the same moment: the networkd files under coi_dir()/run, written under a lock) goes on the
 * NIC (the bridge's DHCP server reserves it), into raw.lxc (LXC sets it up before the guest's
 * init) and into a networkd file the guest sees read-only (so networkd keeps it instead of
 * asking DHCP), all in the one create request; the rules keyed on it go in before that. Incus
 * itself does not refuse an address another NIC has. */

#define NET_FILE_MAX 4096

static int undo_net_file(struct session *s, struct coi_error *err)
{
	(void)err;
	if (s->net_file)
		(void)unlink(s->net_file);
	return 0;
}

/* A persistent container must not keep the device of the file (the file goes with the session:
 * the container would not start without it); its next session puts it back. */
static int undo_net_device(struct session *s, struct coi_error *err)
{
	int r = incus_instance_remove_device(s->client, s->name, SESSION_NET_DEVICE, err);

	return r == -ENOENT ? 0 : r;
}

/* A persistent container started again: the device of the file its last session took away. */
static int put_net_device(struct session *s, struct coi_error *err)
{
	struct incus_devices d = {0};
	int r = session_build_net_device(s->net_file, &d);

	r = r < 0 ? coi_error_oom(err) : incus_instance_patch(s->client, s->name, NULL, &d, err);
	incus_devices_clear(&d);
	return r;
}

/* The address a networkd file of ours asks for ("Address=A/P"), or 0. */
static struct in_addr file_address(const char *path)
{
	_cleanup_buf_ struct buf b = BUF_INIT(NET_FILE_MAX);
	struct in_addr a = {0};
	char ip[INET_ADDRSTRLEN];
	const char *p;

	if (read_file(path, &b, NULL) < 0 || !(p = strstr(buf_str(&b), "\nAddress=")) ||
	    sscanf(p, "\nAddress=%15[0-9.]/", ip) != 1 || inet_pton(AF_INET, ip, &a) != 1)
		a.s_addr = 0;
	return a;
}

/* One more address into *a (n used of *cap). */
static int push_addr(struct in_addr **a, size_t *n, size_t *cap, struct in_addr x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct in_addr *g = reallocarray(*a, c, sizeof(**a));

		if (!g)
			return -ENOMEM;
		*a = g;
		*cap = c;
	}
	(*a)[(*n)++] = x;
	return 0;
}

/* Every address in use: the bridge's leases (but this container's own) and the files of this
 * user's other sessions. */
static int addresses_in_use(struct session *s, struct in_addr **ret, size_t *ret_n,
                            struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir(), *run = dir ? path_join(dir, "run") : NULL;
	_cleanup_free_ struct in_addr *a = NULL;
	struct incus_lease *l = NULL;
	size_t n = 0, k = 0, cap = 0;
	DIR *dh;
	int r;

	if (!run)
		return coi_error_oom(err);
	r = incus_network_leases(s->client, s->bridge, &l, &n, err);
	if (r < 0)
		return coi_error_prefix(err, "the addresses in use on '%s'", s->bridge);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct in_addr x;

		if (strcmp(l[i].hostname, s->name) != 0 &&
		    inet_pton(AF_INET, l[i].address, &x) == 1)
			r = push_addr(&a, &k, &cap, x);
	}
	incus_leases_free(l, n);
	dh = r >= 0 ? opendir(run) : NULL;
	for (struct dirent *de; r >= 0 && dh && (de = readdir(dh));) {
		const char *dot = strrchr(de->d_name, '.');
		_cleanup_free_ char *path = NULL;
		struct in_addr claimed;

		if (!dot || strcmp(dot, ".network") != 0 || de->d_name[0] == '.' ||
		    !(path = path_join(run, de->d_name)) || strcmp(path, s->net_file) == 0 ||
		    !(claimed = file_address(path)).s_addr)
			continue;
		r = push_addr(&a, &k, &cap, claimed);
	}
	if (dh)
		closedir(dh);
	if (r < 0)
		return coi_error_oom(err);
	*ret = TAKE_PTR(a);
	*ret_n = k;
	return 0;
}

static int write_net_file(struct session *s, struct coi_error *err)
{
	char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	_cleanup_free_ char *text = NULL;
	int n;

	inet_ntop(AF_INET, &s->ipv4, ip, sizeof(ip));
	inet_ntop(AF_INET, &s->gateway, gw, sizeof(gw));
	/* the bridge as gateway and DNS server, as its DHCP would say; no IPv6 (as the image's own
	 * file); KeepConfiguration: what LXC set before init stays while networkd starts */
	n = asprintf(&text,
	             "# coi: the address of %s, decided before its start (no DHCP exchange)\n"
	             "[Match]\nName=eth0\n\n[Network]\nAddress=%s/%u\nGateway=%s\nDNS=%s\n"
	             "KeepConfiguration=static\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
	             s->name, ip, s->prefix, gw, gw);
	if (n < 0)
		return coi_error_oom(err);
	return write_file_atomic(s->net_file, text, (size_t)n, 0644, err);
}

/* A persistent container started again keeps the address on its NIC (its raw.lxc has it too). */
static int reused_address(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	const char *a = NULL;
	int r = incus_instance_get(s->client, s->name, &in, err);

	if (r < 0)
		return r;
	for (size_t i = 0; !a && i < in->devices.n; i++) {
		const char *type = incus_map_get(&in->devices.items[i].props, "type");

		if (type && strcmp(type, "nic") == 0)
			a = incus_map_get(&in->devices.items[i].props, "ipv4.address");
	}
	if (!a || !incus_map_get(&in->config, "raw.lxc") || inet_pton(AF_INET, a, &s->ipv4) != 1)
		s->ipv4.s_addr = 0; /* made by an earlier coi: DHCP, as then */
	return 0;
}

/* A free address: the attempt-th free one from where the name says (0: the first), never
 * refused (an address another instance's NIC has too, unknown to the leases when asked). */
static int pick(struct session *s, struct in_addr refused, unsigned attempt, struct coi_error *err)
{
	_cleanup_free_ struct in_addr *used = NULL;
	size_t n_used = 0, cap;
	int r = addresses_in_use(s, &used, &n_used, err);

	if (r < 0)
		return r;
	cap = n_used;
	if (refused.s_addr && push_addr(&used, &n_used, &cap, refused) < 0)
		return coi_error_oom(err);
	r = net_pick_address(s->gateway, s->prefix, s->name, used, n_used, attempt, &s->ipv4);
	if (r == -ENOSPC && attempt) /* fewer free ones than the step: the first */
		r = net_pick_address(s->gateway, s->prefix, s->name, used, n_used, 0, &s->ipv4);
	if (r < 0)
		return coi_error_set(err, r, "no free IPv4 address on '%s'", s->bridge);
	return 0;
}

/* The pick and the claim (the file) together, apart from this user's other sessions: a lock on
 * the directory of the claims itself (a lock file would stay there for ever). */
static int lock_addresses(struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir(), *run = dir ? path_join(dir, "run") : NULL;
	_cleanup_close_ int fd = -EBADF;

	if (!run)
		return coi_error_oom(err);
	(void)proc_run_dir_make();
	fd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return coi_error_errno(err, errno, "cannot lock '%s'", run);
	return TAKE_FD(fd);
}

int session_net_pin(struct session *s, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	char ip[INET_ADDRSTRLEN];
	int r;

	if (!s->opts->net || session_net_bridge(s, NULL) < 0 || !s->managed_bridge || !s->one_eth0)
		return 0; /* the old way: the rules once DHCP has given the address */
	s->net_file = proc_run_path(s->name, "network");
	if (!s->net_file)
		return coi_error_oom(err);
	fd = lock_addresses(err);
	if (fd < 0)
		return fd;
	/* a claimed warm container's is the one the claim saw under the ETag it took the mark with
	 * (warm.c): reading the instance again here was the same GET a few ms later */
	r = s->claimed  ? 0
	    : s->reused ? reused_address(s, err)
	                : pick(s, (struct in_addr){0}, 0, err);
	if (r < 0 || !s->ipv4.s_addr)
		return r < 0 ? coi_error_prefix(err, "network policy") : 0;
	if (session_undo_push(s, "remove the network file", undo_net_file) < 0 ||
	    (s->opts->persistent &&
	     session_undo_push(s, "remove the network file's device", undo_net_device) < 0))
		return coi_error_oom(err);
	r = write_net_file(s, err);
	if (r >= 0 && s->reused)
		r = put_net_device(s, err);
	if (r < 0)
		return coi_error_prefix(err, "network policy");
	log_debug("'%s': %s on '%s', set before start", s->name,
	          inet_ntop(AF_INET, &s->ipv4, ip, sizeof(ip)), s->bridge);
	return 0;
}

/* Another user's session, starting at the same moment, can pick the same address: its claim is
 * under its own ~/.coi, and the leases list neither until its container exists. Incus refuses
 * the second start (the address pinned on another NIC), so the refused session moves: another
 * free address, a random number of free ones further on, so that sessions refused alike do
 * not all pick the same one again (the wider, the more attempts it took); then the networkd
 * file and the rules (and the DNS filter, which knows the address) follow it. */
static int repick(struct session *s, struct in_addr refused, unsigned step, struct coi_error *err)
{
	_cleanup_close_ int fd = lock_addresses(err);
	int r;

	if (fd < 0)
		return fd;
	r = pick(s, refused, step, err);
	return r < 0 ? r : write_net_file(s, err);
}

/* To another address, the networkd file with it; the rules and the DNS filter (which knows the
 * address) are the caller's to redo. */
static int move(struct session *s, unsigned attempt, struct coi_error *err)
{
	struct in_addr refused = s->ipv4;
	char was[INET_ADDRSTRLEN], ip[INET_ADDRSTRLEN];
	unsigned step = 0;

	inet_ntop(AF_INET, &refused, was, sizeof(was));
	if (!refused.s_addr || s->reused) /* a persistent container keeps its address */
		return coi_error_set(err, -EADDRINUSE, "its address %s is another instance's too",
		                     was);
	if (getrandom(&step, sizeof(step), 0) != sizeof(step))
		step = (unsigned)getpid();
	step = 1 + step % (4u << (attempt < 6 ? attempt : 6));
	if (repick(s, refused, step, err) < 0)
		return coi_error_prefix(err, "network policy");
	log_debug("'%s': %s is taken, %s instead", s->name, was,
	          inet_ntop(AF_INET, &s->ipv4, ip, sizeof(ip)));
	dns_free(s->dns);
	s->dns = NULL;
	return 0;
}

int session_net_repin(struct session *s, unsigned attempt, struct coi_error *err)
{
	int r = move(s, attempt, err);

	return r < 0 ? r : session_net_apply_early(s, err);
}

void session_net_layout(const struct session *s, char *ip, char *gw, struct session_layout *l)
{
	if (!s->ipv4.s_addr)
		return;
	l->ipv4 = inet_ntop(AF_INET, &s->ipv4, ip, INET_ADDRSTRLEN);
	l->gateway = inet_ntop(AF_INET, &s->gateway, gw, INET_ADDRSTRLEN);
	l->prefix = s->prefix;
	l->net_file = s->net_file;
}

/* Until the guest's network is up: its default route (LXC sets it before init when the address
 * was decided before start) and a resolver. systemd-resolved's stub knows a server only once
 * systemd has booted up to resolved and networkd (about 0.5 s after the route, the whole of the
 * wait), so an /etc/resolv.conf that is resolved's (a link into /run/systemd/resolve) is replaced
 * for that time by a file naming the bridge ($2), the server resolved is then told (the DNS
 * filter's redirect catches a query to any server; without a filter the bridge's dnsmasq answers),
 * and a child in the guest puts resolved's link back as soon as resolved knows a server (bounded:
 * $1 checks), so that the session then has resolved's cache as before (the monitor counts the
 * queries that leave). The file starts with a mark: found at a persistent container's next start
 * (stopped before the link was back), it is taken for resolved's. Any other resolv.conf is the
 * image's own and is left alone; if the file cannot be written, the wait is for resolved.
 * LXC's default route has the protocol "boot": networkd, starting after the command may have,
 * drops it as foreign and adds its own (gone for a moment, measured at 0.53 s uptime with the
 * command running since 0.39 s); replaced in place by the same route as "static", it is one that
 * KeepConfiguration=static keeps. A DHCP client in the guest (an image without networkd, such as
 * the tests' busybox one) can be given another address: the bridge's dnsmasq does not give the
 * pinned one while an old lease of another MAC holds it (a lease Incus does not list: a deleted
 * container's, a foreign client's), and the NIC's filtering, and coi's rules, let only the pinned
 * one out (the command's traffic vanished); the guest's eth0 must have the pinned address alone,
 * else it is put back. The command also waits for systemd-tmpfiles-setup (when systemd
 * runs it): its boot-time clean of /tmp ("D /tmp") ran at 0.55 s uptime with the command running
 * since 0.45 s, and took what the command had put there, tmux's socket included (coi shell lost
 * its agent). Whether systemd is the init is told by PID 1's binary (where it cannot be read,
 * by what /sbin/init is): its /run/systemd/system
 * (sd_booted's sign) is not there yet for the first 0.2-0.3 s of the boot (measured), when an
 * exec already runs, the route already set and the resolver file written: a wait keyed on it
 * alone passed at once (likely why, once under load, a claimed warm container's tmux found its
 * socket's directory gone: its filler had marked it before the clean). The guest waits itself, in
 * one exec ($1 checks, 50 ms apart): an exec each time costs the booting guest and the daemon far
 * more. */
const char *session_net_ready_script(const struct session *s)
{
	static const char script[] =
	        "g=$2; a=$3; c=/etc/resolv.conf; s=/run/systemd/resolve; m='# coi: the bridge, until "
	        "systemd-resolved knows it'; t=$(readlink $c 2>/dev/null); "
	        "ours() { case $t in */run/systemd/resolve/*) return 0;; esac; "
	        "t=../run/systemd/resolve/stub-resolv.conf; "
	        "[ -f $c ] && [ ! -L $c ] && read -r l <$c && [ \"$l\" = \"$m\" ]; }; "
	        "served() { [ -e $s/resolv.conf ] && [ -e $s/${t##*/} ] || return 1; "
	        "while read -r k v; do [ \"$k\" = nameserver ] && return 0; done <$s/resolv.conf; "
	        "return 1; }; "
	        "if ours; then { printf '%s\\nnameserver %s\\n' \"$m\" \"$2\" >$c.coi && "
	        "mv -f $c.coi $c; } 2>/dev/null || rm -f $c.coi; "
	        "if [ ! -L $c ]; then ( j=0; while [ $j -lt \"$1\" ]; do if served; then "
	        "ln -sfn \"$t\" $c.coi && mv -f $c.coi $c; exit; fi; "
	        "sleep 0.05 || sleep 1; j=$((j + 1)); done ) </dev/null >/dev/null 2>&1 & fi; fi; "
	        "ip -4 route replace default via \"$2\" dev eth0 proto static 2>/dev/null; "
	        "tmpd() { case $(readlink /proc/1/exe 2>/dev/null || readlink -f /sbin/init) in "
	        "*/systemd) ;; *) return 0;; esac; command -v systemctl >/dev/null || return 0; "
	        "[ -d /run/systemd/system ] || return 1; "
	        "o=$(systemctl show -p LoadState -p ActiveState -p ConditionTimestampMonotonic "
	        "systemd-tmpfiles-setup.service 2>/dev/null) || return 1; "
	        "case $o in *LoadState=loaded*) ;; *) return 0;; esac; "
	        "case $o in *ActiveState=active*|*ActiveState=failed*) return 0;; "
	        "*ActiveState=inactive*) case $o in *ConditionTimestampMonotonic=0*) return 1;; esac; "
	        "return 0;; esac; return 1; }; "
	        "own() { o=$(ip -4 addr show dev eth0 2>/dev/null) || return 0; case $o in "
	        "*\"inet $a \"*) [ \"$(printf '%s\\n' \"$o\" | grep -c 'inet ')\" = 1 ] && return 0;; "
	        "esac; ip -4 addr flush dev eth0; ip -4 addr add \"$a\" dev eth0 && "
	        "ip -4 route replace default via \"$g\" dev eth0 proto static; return 1; }; "
	        "up() { own 2>/dev/null || return 1; [ -n \"$td\" ] || { tmpd || return 1; td=1; }; "
	        "[ -e $c ] || return 1; case $(readlink $c) in */run/systemd/resolve/*) "
	        "t=$(readlink $c); served || return 1;; esac; "
	        "while read -r i d x; do [ \"$d\" = 00000000 ] && return 0; done </proc/net/route; "
	        "return 1; }; "
	        "i=0; while [ $i -lt \"$1\" ]; do up && exit 0; "
	        "sleep 0.05 2>/dev/null || sleep 1; i=$((i + 1)); done; exit 1";

	return s->ipv4.s_addr ? script : NULL;
}
