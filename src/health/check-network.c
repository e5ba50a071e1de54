/* SPDX-License-Identifier: MIT */
/* check-network.c: what the network policy needs on the host: nftables usable (directly or
 * through `sudo -n nft`, as the session will use it), IP forwarding, and coi's own tables
 * (`ip coi`, `bridge coi`) consistent, with no rules left for containers that no longer exist.
 * The tables are read with the network-policy module (net_nft_read_state()), which knows their
 * layout: rules in the base chains carry the comment "coi:<container>", per-container chains are
 * ct-<container> (ip) and br-<container> (bridge). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "health/health.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "netpolicy/netpolicy.h"
#include "session/tool.h"
#include "util/buf.h"
#include "util/path.h"
#include "util/strv.h"

static const struct net_nft health_nft_backend = {.backend = NET_BACKEND_AUTO};

/* Whether nft can be used as the session would (cached); 1 yes, else negative with nft_err. */
static int nft_usable(struct health_ctx *ctx)
{
	if (ctx->nft_probe_r != 0)
		return ctx->nft_probe_r;
	if (!net_have_cap_net_admin() && !ctx->cfg->network.use_sudo)
		ctx->nft_probe_r = coi_error_set(&ctx->nft_probe_err, -EPERM,
		                                 "not root, and [network] use_sudo is off");
	else
		ctx->nft_probe_r = net_nft_probe(&health_nft_backend, &ctx->nft_probe_err) ?: 1;
	return ctx->nft_probe_r;
}

/* coi's tables, or NULL with res set (a warning when nft cannot be used at all: the nft check
 * reports that). */
static const struct net_state *health_nft_state(struct health_ctx *ctx, struct health_result *res)
{
	const char *table = ctx->opts->nft_table ?: NET_TABLE_DEFAULT;

	if (nft_usable(ctx) < 0) {
		health_set(res, HEALTH_WARNING,
		           "not checked: nft is not usable (see the 'nft' check)");
		return NULL;
	}
	if (ctx->nft_r == 0) {
		ctx->nft = calloc(1, sizeof(*ctx->nft));
		ctx->nft_r = !ctx->nft ? coi_error_oom(&ctx->nft_err)
		                       : net_nft_read_state(&health_nft_backend, table, ctx->nft,
		                                            &ctx->nft_err) ?: 1;
	}
	if (ctx->nft_r > 0)
		return ctx->nft;
	health_set(res, HEALTH_FAILED, "cannot read coi's nft tables: %s",
	           coi_error_message(&ctx->nft_err));
	health_fix(res, "check that nftables works: nft list ruleset");
	return NULL;
}

void health_nft_free(struct net_state *st)
{
	if (st)
		net_state_release(st);
	free(st);
}

/* ---- evaluators ---- */

void health_eval_nft_tables(const struct net_state *st, struct health_result *res)
{
	_cleanup_strv_free_ char **owners = net_state_owners(st), **dangling = NULL;
	_cleanup_free_ char *names = NULL;
	size_t unowned = 0;

	if (!st->have_ip && !st->have_bridge) {
		health_set(res, HEALTH_OK, "no coi tables yet (the first session creates them)");
		return;
	}
	for (size_t i = 0; i < st->n_rules; i++)
		unowned += !st->rules[i].owner[0];
	for (size_t i = 0; i < st->n_chains; i++) {
		bool jumped = false;

		for (size_t j = 0; j < st->n_rules && !jumped; j++)
			jumped = strcmp(st->rules[j].owner, st->chains[i].owner) == 0;
		if (!jumped && !strv_contains(dangling, st->chains[i].name))
			(void)strv_push(&dangling, st->chains[i].name);
	}
	health_set(res, HEALTH_OK, "%zu rules for %zu container%s", st->n_rules,
	           strv_length(owners), strv_length(owners) == 1 ? "" : "s");
	strv_foreach(o, owners)
		health_detail(res, "rules of '%s'", *o);
	if (unowned) {
		health_set(res, HEALTH_WARNING, "%zu rule%s in coi's tables carry no owner comment",
		           unowned, unowned == 1 ? "" : "s");
		health_fix(res, "when no session runs: nft delete table ip coi; nft delete table "
		                "bridge coi");
	} else if (dangling) {
		names = strv_join(dangling, ", ");
		health_set(res, HEALTH_WARNING, "chains no rule jumps to: %s", names ?: "?");
		health_fix(res, "coi clean --orphans");
	}
}

void health_eval_orphan_rules(const struct net_state *st, char *const *existing,
                              struct health_result *res)
{
	_cleanup_strv_free_ char **owners = net_state_owners(st), **orphans = NULL;
	_cleanup_free_ char *names = NULL;

	strv_foreach(o, owners)
		if (!strv_contains(existing, *o))
			(void)strv_push(&orphans, *o);
	if (!orphans) {
		health_set(res, HEALTH_OK, "none");
		return;
	}
	names = strv_join(orphans, ", ");
	health_set(res, HEALTH_WARNING, "rules for %zu container%s that no longer exist: %s",
	           strv_length(orphans), strv_length(orphans) == 1 ? "" : "s", names ?: "?");
	health_fix(res, "coi clean --orphans");
}

/* ---- checks ---- */

HEALTH_CHECK_FN(nft)
{
	if (nft_usable(ctx) > 0) {
		health_set(res, HEALTH_OK, "%s",
		           net_have_cap_net_admin() ? "usable (libnftables, CAP_NET_ADMIN)"
		                                    : "usable through 'sudo -n nft'");
		return;
	}
	health_set(res, ctx->cfg->network.mode == NET_MODE_OPEN ? HEALTH_WARNING : HEALTH_FAILED,
	           "coi cannot change nftables rules: %s", coi_error_message(&ctx->nft_probe_err));
	if (net_have_cap_net_admin())
		health_fix(res, "check the kernel's nf_tables support: nft list ruleset");
	else
		health_fix(res, "allow it without a password: echo \"$USER ALL=(root) NOPASSWD: "
		                "/usr/sbin/nft\" > /etc/sudoers.d/coi-nft (as root, mode 0440), "
		                "and keep [network] use_sudo on");
}

HEALTH_CHECK_FN(ip_forwarding)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64);

	if (read_file("/proc/sys/net/ipv4/ip_forward", &b, NULL) < 0) {
		health_set(res, HEALTH_WARNING, "cannot read /proc/sys/net/ipv4/ip_forward");
		return;
	}
	if (buf_str(&b)[0] != '1') {
		health_set(res, HEALTH_FAILED,
		           "IPv4 forwarding is off: containers cannot reach "
		           "the network");
		health_fix(res, "sysctl -w net.ipv4.ip_forward=1 (and persist it in "
		                "/etc/sysctl.d/)");
		return;
	}
	health_set(res, HEALTH_OK, "enabled");
}

HEALTH_CHECK_FN(nft_tables)
{
	const struct net_state *st = health_nft_state(ctx, res);

	if (st)
		health_eval_nft_tables(st, res);
}

HEALTH_CHECK_FN(orphan_rules)
{
	const struct net_state *st;
	_cleanup_strv_free_ char **names = NULL;
	struct incus_instance **list;

	if (ctx->incus_r >= 0 && !health_local(ctx)) {
		health_set(res, HEALTH_OK, "not applicable: the Incus server is remote");
		return;
	}
	if (!(st = health_nft_state(ctx, res)) || !(list = health_instances(ctx, res)))
		return;
	for (size_t i = 0; list[i]; i++)
		if (strv_push(&names, list[i]->name) < 0) {
			health_set(res, HEALTH_FAILED, "out of memory");
			return;
		}
	health_eval_orphan_rules(st, names, res);
}

/* Does allowlist entry host let name through: the same name, or "*.suffix" of it. */
static bool domain_covers(const char *host, const char *name)
{
	size_t hl = strlen(host), nl = strlen(name);

	if (strcasecmp(host, name) == 0)
		return true;
	return hl > 2 && host[0] == '*' && host[1] == '.' && nl > hl - 1 &&
	       strcasecmp(name + nl - (hl - 1), host + 1) == 0;
}

static bool allowlisted(const struct coi_config *cfg, const char *name)
{
	strv_foreach(e, cfg->network.allowed_domains) {
		struct config_domain d = {0};
		bool yes = config_domain_parse(*e, &d, NULL) >= 0 && domain_covers(d.host, name);

		config_domain_release(&d);
		if (yes)
			return true;
	}
	return false;
}

/* The agent's service: allowed by the network mode, and known to this host's resolver (a host
 * without DNS, or without the internet, has agents that start and then cannot work). */
HEALTH_CHECK_FN(agent_service)
{
	const struct tool *t = tool_find(ctx->cfg->tool.name);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	const char *host = t ? t->service_host : NULL;
	int r;

	if (!host) {
		health_set(res, HEALTH_OK, "%s needs no service coi knows of",
		           ctx->cfg->tool.name ?: "the agent");
		return;
	}
	if (ctx->cfg->network.mode == NET_MODE_ALLOWLIST && !allowlisted(ctx->cfg, host)) {
		health_set(res, HEALTH_WARNING,
		           "allowlist mode does not let %s reach its service, %s", t->name, host);
		health_fix(res, "add \"%s\" to [network] allowed_domains", host);
		return;
	}
	/* the test suites set it: their traffic stays on this machine */
	if (secure_getenv("COI_HEALTH_OFFLINE")) {
		health_set(res, HEALTH_OK, "%s allowed; not looked up (COI_HEALTH_OFFLINE)", host);
		return;
	}
	r = getaddrinfo(host, "443", &hints, &ai);
	if (ai)
		freeaddrinfo(ai);
	if (r != 0) {
		health_set(res, HEALTH_WARNING,
		           "%s's service, %s, does not resolve on this host (%s): the agent will "
		           "start but cannot work",
		           t->name, host, gai_strerror(r));
		health_fix(res, "check this host's DNS and internet access (getent hosts %s)",
		           host);
		return;
	}
	health_set(res, HEALTH_OK, "%s resolves (%s's service)", host, t->name);
}
