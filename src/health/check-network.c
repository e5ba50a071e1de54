/* SPDX-License-Identifier: MIT */
/* check-network.c: what the network policy needs on the host: nftables usable, IP forwarding,
 * and coi's own tables (`ip coi`, `bridge coi`) consistent, with no rules left for containers
 * that no longer exist. Every rule coi writes carries the comment "coi:<container>" and every
 * per-container chain is named ct-<container> (ip) or br-<container> (bridge), so ownership is
 * read from the tables themselves. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/path.h"
#include "util/strv.h"

#define NFT_OUTPUT_MAX (16u << 20)

/* ---- reading the tables ---- */

void health_nft_release(struct health_nft *n)
{
	strv_free(n->owners);
	strv_free(n->dangling);
	strv_free(n->base_owners);
	strv_free(n->chain_owners);
	*n = (struct health_nft){0};
}

static int push_unique(char ***l, const char *s)
{
	return strv_contains(*l, s) ? 0 : strv_push(l, s);
}

/* One {"chain": ...} or {"rule": ...} of the listing. */
static int nft_parse_item(const json_t *item, char ***base, struct health_nft *n)
{
	const json_t *chain = json_get_obj(item, "chain"), *rule = json_get_obj(item, "rule");
	const char *name, *comment, *family;
	char key[128];

	if (chain) {
		name = json_get_str(chain, "name");
		family = json_get_str(chain, "family");
		if (!name || !family)
			return 0;
		(void)snprintf(key, sizeof(key), "%s/%s", family, name);
		if (json_get_str(chain, "hook"))
			return push_unique(base, key);
		if (strncmp(name, "ct-", 3) == 0 || strncmp(name, "br-", 3) == 0)
			return push_unique(&n->chain_owners, name + 3);
		return 0;
	}
	if (!rule)
		return 0;
	n->rules++;
	comment = json_get_str(rule, "comment");
	if (!comment || strncmp(comment, "coi:", 4) != 0 || !comment[4]) {
		n->unowned++;
		return 0;
	}
	(void)snprintf(key, sizeof(key), "%s/%s", json_get_str(rule, "family") ?: "",
	               json_get_str(rule, "chain") ?: "");
	if (strv_contains(*base, key) && push_unique(&n->base_owners, comment + 4) < 0)
		return -ENOMEM;
	return push_unique(&n->owners, comment + 4);
}

int health_nft_parse(const char *json, const char *table, struct health_nft *n,
                     struct coi_error *err)
{
	_cleanup_strv_free_ char **base = NULL;
	_cleanup_json_ json_t *root = NULL;
	json_t *items, *item;
	size_t i;
	int r;

	r = json_parse(json, strlen(json), &root, err);
	if (r < 0)
		return r;
	items = json_get_arr(root, "nftables");
	if (!items)
		return coi_error_set(err, -EINVAL, "not an nft JSON listing");
	json_array_foreach(items, i, item) {
		const json_t *t = json_get_obj(item, "table");
		const json_t *o = t ? t : json_get_obj(item, "chain") ?: json_get_obj(item, "rule");
		const char *tn = o ? json_get_str(o, t ? "name" : "table") : NULL;

		if (!tn || strcmp(tn, table) != 0)
			continue;
		if (t) {
			n->have_table = true;
			continue;
		}
		if (nft_parse_item(item, &base, n) < 0)
			return coi_error_oom(err);
	}
	return 0;
}

int health_nft_finish(struct health_nft *n)
{
	strv_foreach(o, n->chain_owners) {
		if (!strv_contains(n->base_owners, *o) && strv_push(&n->dangling, *o) < 0)
			return -ENOMEM;
		if (push_unique(&n->owners, *o) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Runs one nft command through libnftables; output into out (JSON when json). */
static int nft_cmd(const char *cmd, bool json, struct buf *out, struct coi_error *err)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int r = 0;

	if (!nft)
		return coi_error_oom(err);
	if (json)
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0)
		r = coi_error_oom(err);
	else if (nft_run_cmd_from_buffer(nft, cmd) != 0)
		r = coi_error_set(err, -EIO, "nft %s: %s", cmd, nft_ctx_get_error_buffer(nft));
	else if (out && buf_puts(out, nft_ctx_get_output_buffer(nft)) < 0)
		r = coi_error_set(err, -E2BIG, "nft %s: output too large", cmd);
	nft_ctx_free(nft);
	if (r < 0)
		err->msg[strcspn(err->msg, "\n")] = '\0';
	return r;
}

/* Read both families of coi's table into ctx->nft (missing tables read as empty). */
static int nft_load(struct health_ctx *ctx)
{
	static const char *const families[] = {"ip", "bridge"};
	const char *table = ctx->opts->nft_table ?: "coi";

	ctx->nft = calloc(1, sizeof(*ctx->nft));
	if (!ctx->nft)
		return coi_error_oom(&ctx->nft_err);
	for (size_t i = 0; i < ELEMENTSOF(families); i++) {
		_cleanup_buf_ struct buf out = BUF_INIT(NFT_OUTPUT_MAX);
		char cmd[96];
		int r;

		(void)snprintf(cmd, sizeof(cmd), "list table %s %s", families[i], table);
		r = nft_cmd(cmd, true, &out, &ctx->nft_err);
		if (r < 0 && strstr(ctx->nft_err.msg, "No such file or directory"))
			continue;
		if (r < 0 || health_nft_parse(buf_str(&out), table, ctx->nft, &ctx->nft_err) < 0)
			return ctx->nft_err.code ?: -EIO;
	}
	return health_nft_finish(ctx->nft) < 0 ? coi_error_oom(&ctx->nft_err) : 1;
}

/* coi's tables, or NULL with res set (warning when only permission is missing). */
static const struct health_nft *health_nft(struct health_ctx *ctx, struct health_result *res)
{
	if (!health_have_cap(CAP_NET_ADMIN)) {
		health_set(res, HEALTH_WARNING,
		           "cannot read coi's nft tables without CAP_NET_ADMIN");
		health_fix(res, "run 'sudo coi health' to check them");
		return NULL;
	}
	if (ctx->nft_r == 0)
		ctx->nft_r = nft_load(ctx);
	if (ctx->nft_r > 0)
		return ctx->nft;
	health_set(res, HEALTH_FAILED, "cannot read coi's nft tables: %s",
	           coi_error_message(&ctx->nft_err));
	health_fix(res, "check that nftables works: nft list ruleset");
	return NULL;
}

void health_nft_free(struct health_nft *n)
{
	if (n)
		health_nft_release(n);
	free(n);
}

/* ---- checks ---- */

/* `sudo -n nft list tables` succeeds within 10 seconds. */
static bool sudo_nft_works(void)
{
	char *argv[] = {"sudo", "-n", "nft", "list", "tables", NULL};
	posix_spawn_file_actions_t fa;
	struct pollfd pfd = {.events = POLLIN};
	int status = -1;
	pid_t pid;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return false;
	(void)posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	(void)posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	(void)posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "sudo", &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (pid < 0)
		return false;
	pfd.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd.fd >= 0 && poll(&pfd, 1, 10000) == 0)
		(void)kill(pid, SIGKILL);
	if (pfd.fd >= 0)
		close(pfd.fd);
	(void)waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

HEALTH_CHECK_FN(nft)
{
	const struct coi_config *cfg = ctx->cfg;
	struct coi_error err = {0};

	if (health_have_cap(CAP_NET_ADMIN)) {
		if (nft_cmd("list tables", false, NULL, &err) < 0) {
			health_set(res, HEALTH_FAILED, "%s", err.msg);
			health_fix(res, "check the kernel's nf_tables support: nft list ruleset");
		} else {
			health_set(res, HEALTH_OK, "usable (libnftables, CAP_NET_ADMIN)");
		}
		return;
	}
	if (cfg->network.use_sudo && sudo_nft_works()) {
		health_set(res, HEALTH_OK, "usable through 'sudo -n nft'");
		return;
	}
	health_set(res, cfg->network.mode == NET_MODE_OPEN ? HEALTH_WARNING : HEALTH_FAILED,
	           "coi cannot change nftables rules (not root%s)",
	           cfg->network.use_sudo ? ", and 'sudo -n nft' is refused" : ", use_sudo off");
	health_fix(res, "allow it without a password: echo \"$USER ALL=(root) NOPASSWD: "
	                "/usr/sbin/nft\" > /etc/sudoers.d/coi-nft (as root, mode 0440)");
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
	const struct health_nft *n = health_nft(ctx, res);
	_cleanup_free_ char *dangling = NULL;

	if (!n)
		return;
	if (!n->have_table) {
		health_set(res, HEALTH_OK, "no coi tables yet (the first session creates them)");
		return;
	}
	health_set(res, HEALTH_OK, "%u rules for %zu container%s", n->rules, strv_length(n->owners),
	           strv_length(n->owners) == 1 ? "" : "s");
	strv_foreach(o, n->owners)
		health_detail(res, "rules of '%s'", *o);
	if (n->unowned) {
		health_set(res, HEALTH_WARNING, "%u rule%s in coi's tables carry no owner comment",
		           n->unowned, n->unowned == 1 ? "" : "s");
		health_fix(res, "when no session runs: nft delete table ip coi; nft delete table "
		                "bridge coi");
	} else if (n->dangling) {
		dangling = strv_join(n->dangling, ", ");
		health_set(res, HEALTH_WARNING, "chains without a jump to them: %s",
		           dangling ?: "?");
		health_fix(res, "coi clean --orphans");
	}
}

HEALTH_CHECK_FN(orphan_rules)
{
	const struct health_nft *n = health_nft(ctx, res);
	_cleanup_strv_free_ char **orphans = NULL;
	_cleanup_free_ char *names = NULL;
	struct incus_instance **list;

	if (ctx->incus_r >= 0 && !health_local(ctx)) {
		health_set(res, HEALTH_OK, "not applicable: the Incus server is remote");
		return;
	}
	if (!n || !(list = health_instances(ctx, res)))
		return;
	strv_foreach(o, n->owners) {
		bool exists = false;

		for (size_t i = 0; list[i] && !exists; i++)
			exists = strcmp(list[i]->name, *o) == 0;
		if (!exists && strv_push(&orphans, *o) < 0)
			break;
	}
	if (!orphans) {
		health_set(res, HEALTH_OK, "none");
		return;
	}
	names = strv_join(orphans, ", ");
	health_set(res, HEALTH_WARNING, "rules for %zu container%s that no longer exist: %s",
	           strv_length(orphans), strv_length(orphans) == 1 ? "" : "s", names ?: "?");
	health_fix(res, "coi clean --orphans");
}
