/* SPDX-License-Identifier: MIT */
/* nftapply.c: running nft batches. With CAP_NET_ADMIN coi talks to the kernel through
 * libnftables in-process; otherwise it runs `sudo -n nft` (never prompting) with the batch on
 * stdin. Either way a batch is one transaction: it applies whole or not at all, and a failure
 * carries nft's own error text. The operations at the bottom read the current state, generate
 * and apply, and retry with fresh state when the batch fails, because another coi process may
 * have changed the tables between the read and the apply (the batch then names a handle that
 * is gone, and the kernel refuses it whole).
 *
 * The operations' libnftables contexts are kept for the process's life (struct kept): the
 * kernel's nft_rcv_nl_event() makes the close of a netfilter netlink socket wait until the
 * kernel has released the last transaction's objects, which takes an RCU grace period (10-15
 * ms on a busy 2-core host), so a context made and freed per batch put that wait into every
 * operation. A kept one closes at the process's exit, long after. */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/run.h"
#include "util/strv.h"

#define NFT_OUTPUT_MAX (64u << 20) /* listing our tables; far above any real size */
#define NFT_ERROR_MAX  (64u << 10)
#define APPLY_ATTEMPTS 3

bool net_have_cap_net_admin(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			return eff & (1ULL << 12); /* CAP_NET_ADMIN */
	return false;
}

/* nft's message, trimmed of trailing newlines, into err. */
static int nft_error(struct coi_error *err, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	return coi_error_set(err, -EPROTO, "nft failed: %.*s", (int)n, n ? text : "no error text");
}

/* A libnftables context kept for the operations: one for the listings, one for the batches, so
 * that a batch never starts from the partial cache a filtered listing leaves (libnftables has
 * reused one in some versions). */
struct kept {
	struct nft_ctx *ctx;
	pid_t pid; /* the process that made it: a forked child makes its own */
	int fd;    /* its netlink socket, made close-on-exec; -1: not found, so not kept */
	ino_t ino;
};

static struct kept kept_list = {.fd = -1}, kept_batch = {.fd = -1};

static bool is_nft_socket(int fd, ino_t *ret_ino)
{
	struct stat st;
	int v[2];
	socklen_t len = sizeof(v[0]);

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v[0], &len) < 0 || v[0] != AF_NETLINK ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v[1], &len) < 0 || v[1] != NETLINK_NETFILTER)
		return false;
	*ret_ino = st.st_ino;
	return true;
}

/* A context inherited from the parent: freed where its socket is still the parent's (closing
 * this process's copy) or already closed; left where the number is another file's now. */
static void kept_drop_inherited(struct kept *k)
{
	ino_t ino;

	if (k->fd < 0 || (fcntl(k->fd, F_GETFD) < 0 && errno == EBADF) ||
	    (is_nft_socket(k->fd, &ino) && ino == k->ino))
		nft_ctx_free(k->ctx);
	*k = (struct kept){.fd = -1};
}

/* nft_ctx_new() opens its socket; with nothing else opened meanwhile (one thread), it takes the
 * lowest free number, found just before. libnftables does not make it close-on-exec: kept, it
 * would pass to every program this process starts. Not found there: the context is not kept. */
static struct nft_ctx *kept_get(struct kept *k, unsigned flags)
{
	int lowest;

	if (k->ctx && k->pid != getpid())
		kept_drop_inherited(k);
	if (!k->ctx) {
		lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (lowest >= 0)
			close(lowest);
		k->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!k->ctx)
			return NULL;
		if (nft_ctx_buffer_output(k->ctx) != 0 || nft_ctx_buffer_error(k->ctx) != 0) {
			nft_ctx_free(k->ctx);
			*k = (struct kept){.fd = -1};
			return NULL;
		}
		k->pid = getpid();
		k->fd = lowest >= 0 && is_nft_socket(lowest, &k->ino) &&
		                        fcntl(lowest, F_SETFD, FD_CLOEXEC) == 0
		                ? lowest
		                : -1;
	}
	nft_ctx_output_set_flags(k->ctx, flags);
	return k->ctx;
}

/* After each command: both buffers read, so the next starts empty; an unkept context freed. */
static void kept_put(struct kept *k)
{
	(void)nft_ctx_get_output_buffer(k->ctx);
	(void)nft_ctx_get_error_buffer(k->ctx);
	if (k->fd < 0) {
		nft_ctx_free(k->ctx);
		*k = (struct kept){.fd = -1};
	}
}

static int run_ctx(struct nft_ctx *ctx, const char *script, struct buf *out, struct coi_error *err)
{
	if (nft_run_cmd_from_buffer(ctx, script) != 0)
		return nft_error(err, nft_ctx_get_error_buffer(ctx));
	if (out && buf_puts(out, nft_ctx_get_output_buffer(ctx)) < 0)
		return coi_error_set(err, -E2BIG, "nft output is larger than %u bytes",
		                     NFT_OUTPUT_MAX);
	return 0;
}

static int run_kept(struct kept *k, const char *script, bool json, struct buf *out,
                    struct coi_error *err)
{
	struct nft_ctx *ctx = kept_get(k, json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0);
	int r;

	if (!ctx)
		return coi_error_oom(err);
	r = run_ctx(ctx, script, out, err);
	kept_put(k);
	return r;
}

/* A script of a caller's: a context of its own, as before. */
static int run_lib(const char *script, bool json, struct buf *out, struct coi_error *err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (!ctx)
		return coi_error_oom(err);
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return coi_error_oom(err);
	}
	if (json)
		nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	r = run_ctx(ctx, script, out, err);
	nft_ctx_free(ctx);
	return r;
}

static int run_exec(const struct net_nft *n, char *const *args, const char *stdin_text,
                    struct buf *out, struct coi_error *err)
{
	static char *const sudo_nft[] = {"sudo", "-n", "nft", NULL};
	_cleanup_strv_free_ char **argv = strv_copy(n->argv ? n->argv : sudo_nft);
	_cleanup_buf_ struct buf errb = BUF_INIT(NFT_ERROR_MAX);
	int status;

	for (size_t i = 0; argv && args[i]; i++)
		if (strv_push(&argv, args[i]) < 0)
			argv = strv_free(argv);
	if (!argv || !argv[0])
		return coi_error_oom(err);
	status =
	        run_capture(&(struct run_opts){.argv = argv,
	                                       .stdin_text = stdin_text,
	                                       .out = out,
	                                       .errb = &errb,
	                                       .timeout_sec = n->timeout_sec ? n->timeout_sec : 30},
	                    err);
	if (status < 0)
		return status;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return nft_error(err, buf_str(&errb));
	return 0;
}

static bool use_lib(const struct net_nft *n)
{
	if (n->backend == NET_BACKEND_AUTO)
		return net_have_cap_net_admin();
	return n->backend == NET_BACKEND_LIBNFTABLES;
}

int net_nft_run(const struct net_nft *n, const char *script, bool json, struct buf *out,
                struct coi_error *err)
{
	static char *const batch_args[] = {"-f", "-", NULL};

	if (use_lib(n))
		return run_lib(script, json, out, err);
	if (json) /* `nft -j -f -` reads JSON; listings go on the command line instead */
		return coi_error_set(err, -EINVAL, "JSON output needs a single list command");
	return run_exec(n, batch_args, script, out, err);
}

/* An operation's batch: through the kept context, or the exec'd nft. */
static int nft_batch(const struct net_nft *n, const char *script, struct coi_error *err)
{
	return use_lib(n) ? run_kept(&kept_batch, script, false, NULL, err)
	                  : net_nft_run(n, script, false, NULL, err);
}

/* `nft -j list ...`: through libnftables, or as arguments to the exec'd nft. */
static int nft_list(const struct net_nft *n, char *const *words, struct buf *out,
                    struct coi_error *err)
{
	_cleanup_free_ char *cmd = NULL;
	_cleanup_strv_free_ char **args = NULL;

	if (use_lib(n)) {
		cmd = strv_join(words, " ");
		return cmd ? run_kept(&kept_list, cmd, true, out, err) : coi_error_oom(err);
	}
	if (strv_push(&args, "-j") < 0 || strv_push(&args, "-a") < 0)
		return coi_error_oom(err);
	for (size_t i = 0; words[i]; i++)
		if (strv_push(&args, words[i]) < 0)
			return coi_error_oom(err);
	return run_exec(n, args, "", out, err);
}

int net_nft_probe(const struct net_nft *n, struct coi_error *err)
{
	char *words[] = {"list", "tables", NULL};
	_cleanup_buf_ struct buf out = BUF_INIT(NFT_OUTPUT_MAX);

	return nft_list(n, words, &out, err);
}

/* The ip and bridge tables named, as far as ip and bridge say, listed into st. */
static int list_tables_into(const struct net_nft *n, const char *table, bool ip, bool bridge,
                            struct net_state *st, struct coi_error *err)
{
	static const char *const fams[] = {"ip", "bridge"};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(fams); i++) {
		_cleanup_buf_ struct buf out = BUF_INIT(NFT_OUTPUT_MAX);
		char *words[] = {"list", "table", (char *)fams[i], (char *)table, NULL};

		if (!(i == 0 ? ip : bridge))
			continue;
		r = nft_list(n, words, &out, err);
		if (r >= 0)
			r = net_state_parse(buf_str(&out), out.len, table, st, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int net_nft_read_state(const struct net_nft *n, const char *table, struct net_state *ret,
                       struct coi_error *err)
{
	char *list_tables[] = {"list", "tables", NULL};
	_cleanup_buf_ struct buf out = BUF_INIT(NFT_OUTPUT_MAX);
	struct net_state st = {0};
	int r;

	if (!net_table_name_valid(table))
		return coi_error_set(err, -EINVAL, "'%s' is not a valid nft table name", table);
	/* Both tables straight away: they exist on any host where a session has run. Where a
	 * listing fails (a table is missing, or nft cannot be used), `list tables` says which
	 * exist; it is the slow way, as libnftables fetches every table's chains, sets and rules
	 * for it, Incus' too. */
	r = list_tables_into(n, table, true, true, &st, NULL);
	if (r < 0) {
		net_state_release(&st);
		r = nft_list(n, list_tables, &out, err);
		if (r >= 0)
			r = net_state_parse(buf_str(&out), out.len, table, &st, err);
		if (r >= 0)
			r = list_tables_into(n, table, st.have_ip, st.have_bridge, &st, err);
	}
	if (r < 0) {
		net_state_release(&st);
		return r;
	}
	net_state_release(ret);
	*ret = st;
	return 0;
}

/* One operation: a generator bound to its arguments. */
struct op {
	const char *table;
	int (*gen)(const struct op *op, const struct net_state *st, struct buf *out,
	           struct coi_error *err);
	const struct net_target *t;
	const struct net_policy *p;
	const char *container;
	char *const *live;
};

static int run_op(const struct net_nft *n, const struct op *op, struct coi_error *err)
{
	int r = 0;

	for (int attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
		struct net_state st = {0};
		_cleanup_buf_ struct buf script = BUF_INIT(NFT_OUTPUT_MAX);
		int count;

		if (err)
			coi_error_clear(err);
		r = net_nft_read_state(n, op->table, &st, err);
		count = r < 0 ? r : op->gen(op, &st, &script, err);
		net_state_release(&st);
		if (count < 0)
			return count; /* reading or generating: no point in retrying */
		if (script.len == 0)
			return count;
		log_debug("nft batch:\n%s", buf_str(&script));
		r = nft_batch(n, buf_str(&script), err);
		if (r >= 0)
			return count;
		log_debug("nft batch failed (attempt %d): %s", attempt + 1,
		          err ? coi_error_message(err) : "");
	}
	return r;
}

static int gen_boot(const struct op *op, const struct net_state *st, struct buf *out,
                    struct coi_error *err)
{
	return net_nft_boot(op->t, st, out, err);
}

static int gen_apply(const struct op *op, const struct net_state *st, struct buf *out,
                     struct coi_error *err)
{
	return net_nft_apply(op->t, op->p, st, out, err);
}

static int gen_remove(const struct op *op, const struct net_state *st, struct buf *out,
                      struct coi_error *err)
{
	return net_nft_remove(op->table, op->container, st, out, err);
}

static int gen_purge(const struct op *op, const struct net_state *st, struct buf *out,
                     struct coi_error *err)
{
	return net_nft_purge(op->table, op->live, st, out, err);
}

static const char *table_of(const char *table)
{
	return table ? table : NET_TABLE_DEFAULT;
}

int netpolicy_boot_block(const struct net_nft *n, const struct net_target *t, struct coi_error *err)
{
	struct op op = {.table = table_of(t->table), .gen = gen_boot, .t = t};
	int r = run_op(n, &op, err);

	return r < 0 ? coi_error_prefix(err, "cannot block the network of '%s'", t->container) : 0;
}

int netpolicy_apply(const struct net_nft *n, const struct net_target *t, const struct net_policy *p,
                    struct coi_error *err)
{
	struct op op = {.table = table_of(t->table), .gen = gen_apply, .t = t, .p = p};
	int r = run_op(n, &op, err);

	return r < 0 ? coi_error_prefix(err, "cannot apply the network policy of '%s'",
	                                t->container)
	             : 0;
}

int netpolicy_remove(const struct net_nft *n, const char *table, const char *container,
                     struct coi_error *err)
{
	struct op op = {.table = table_of(table), .gen = gen_remove, .container = container};
	int r = run_op(n, &op, err);

	return r < 0 ? coi_error_prefix(err, "cannot remove the network rules of '%s'", container)
	             : 0;
}

int netpolicy_purge_orphans(const struct net_nft *n, const char *table, char *const *live,
                            struct coi_error *err)
{
	struct op op = {.table = table_of(table), .gen = gen_purge, .live = live};
	int r = run_op(n, &op, err);

	return r < 0 ? coi_error_prefix(err, "cannot purge orphaned network rules") : r;
}

int netpolicy_set_elems(const struct net_nft *n, const char *table, const char *container,
                        const struct net_set_elem *e, size_t n_elems, struct coi_error *err)
{
	int r = -EINVAL;

	for (int adds_only = 0; adds_only < 2 && r < 0; adds_only++) {
		_cleanup_buf_ struct buf script = BUF_INIT(NFT_OUTPUT_MAX);

		if (err)
			coi_error_clear(err);
		r = net_nft_set_elems(table, container, e, n_elems, adds_only, &script, err);
		if (r < 0)
			return r;
		if (script.len == 0)
			return 0;
		r = nft_batch(n, buf_str(&script), err);
	}
	return r < 0 ? coi_error_prefix(err, "cannot add to the address sets of '%s'", container)
	             : 0;
}
