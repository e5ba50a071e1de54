/* SPDX-License-Identifier: MIT */
/* network.c: the session's network policy phases (the policy itself is netpolicy's).
 *
 * Fail closed: the boot block (every packet from the container's veth dropped but ARP and DHCP
 * to the bridge) is installed before the container starts, under the veth name coi chose; the
 * real rules replace it in one transaction once the container's IPv4 is known. Any failure in
 * restricted or allowlist mode stops the session. Open mode installs nothing, unless
 * [monitoring.nft] asks for its log rules (then an accepting chain that carries them). */
#include "session/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

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
	(void)session_net_stop_refresh(s->name);
	if (!has_rules(s))
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

/* Allowlist names and [[network.hosts]] become /etc/hosts lines (the container's only way to
 * resolve them in allowlist mode). */
static int write_hosts(struct session *s, const struct net_resolution *res, struct coi_error *err)
{
	_cleanup_buf_ struct buf block = BUF_INIT(1u << 20), old = BUF_INIT(1u << 20),
	                         merged = BUF_INIT(2u << 20);
	struct incus_file_attrs a = {.uid = 0, .gid = 0, .mode = 0644};
	int r;

	if (net_hosts_render(s->opts->net, res, &block) < 0)
		return coi_error_oom(err);
	if (block.len == 0)
		return 0;
	r = incus_file_read(s->client, s->name, "/etc/hosts", &old, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (net_hosts_merge(buf_str(&old), buf_str(&block), &merged) < 0)
		return coi_error_oom(err);
	return incus_file_write(s->client, s->name, "/etc/hosts", merged.data, merged.len, &a, err);
}

/* The allowlist's addresses change (CDNs rotate them): a small process of the session's own
 * re-resolves the names as their TTL runs out (never more often than NET_REFRESH_FLOOR, never
 * less than refresh_interval_minutes), and when the answer changed swaps the rules in one
 * transaction and rewrites /etc/hosts. It outlives a detach and ends with the container. */
static void refresh_loop(struct session *s, struct net_target *t, struct net_resolution *res)
{
	(void)setsid();
	(void)prctl(PR_SET_NAME, "coi-refresh");
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (incus_client_new_like(s->client, &s->client, NULL) < 0)
		_exit(1);
	for (;;) {
		unsigned secs = net_refresh_seconds(s->opts->net, res);
		struct net_resolution next = {0};
		struct timespec ts = {.tv_sec = secs};

		if (secs == 0)
			_exit(0);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		if (incus_instance_exists(s->client, s->name, NULL) != 1)
			_exit(0); /* the session is over */
		if (net_resolve(s->opts->net, &net_resolver_dns, res, &next, NULL) < 0)
			continue;
		if (!net_resolution_equal(res, &next) &&
		    netpolicy_apply(&nft, t, s->opts->net, &next, NULL) >= 0)
			(void)write_hosts(s, &next, NULL);
		net_resolution_release(res);
		*res = next;
	}
}

static int start_refresh(struct session *s, struct net_target *t, struct net_resolution *res,
                         struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	char text[32];
	pid_t pid;

	if (s->opts->net->mode != NET_MODE_ALLOWLIST || net_refresh_seconds(s->opts->net, res) == 0)
		return 0;
	path = proc_run_path(s->name, "refresh");
	if (!path)
		return coi_error_oom(err);
	pid = fork();
	if (pid < 0)
		return coi_error_errno(err, errno, "cannot start the allowlist refresh");
	if (pid == 0) {
		proc_detach_streams();
		refresh_loop(s, t, res);
	}
	(void)snprintf(text, sizeof(text), "%d\n", (int)pid);
	return write_file_atomic(path, text, strlen(text), 0600, err);
}

int session_net_stop_refresh(const char *container)
{
	_cleanup_free_ char *path = proc_run_path(container, "refresh");
	_cleanup_buf_ struct buf b = BUF_INIT(64);
	int pid;

	if (!path)
		return -ENOMEM;
	if (read_file(path, &b, NULL) < 0)
		return 0;
	if (sscanf(buf_str(&b), "%d", &pid) == 1 && pid > 1)
		(void)kill(pid, SIGTERM);
	(void)unlink(path);
	return 1;
}

int session_net_apply(struct session *s, struct coi_error *err)
{
	struct net_target t;
	struct net_resolution res = {0};
	int r;

	if (!s->opts->net)
		return 0;
	if (has_rules(s) && !filtered(s)) {
		r = session_net_bridge(s, err); /* open mode had no boot block to find it */
		if (r < 0)
			return coi_error_prefix(err, "network policy");
	}
	target_init(s, &t);
	r = wait_ipv4(s, has_rules(s), &t.ipv4, err);
	if (r < 0)
		return r;
	r = net_resolve(s->opts->net, &net_resolver_dns, NULL, &res, err);
	if (r > 0 && s->opts->net->mode == NET_MODE_ALLOWLIST)
		(void)strv_push(&s->warnings, "some allowlist names did not resolve; they are "
		                              "unreachable until they do");
	if (r >= 0 && has_rules(s))
		r = netpolicy_apply(&nft, &t, s->opts->net, &res, err);
	if (r >= 0)
		r = write_hosts(s, &res, err);
	if (r >= 0)
		r = start_refresh(s, &t, &res, err);
	net_resolution_release(&res);
	return r < 0 ? coi_error_prefix(err, "network policy") : 0;
}
