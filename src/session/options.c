/* SPDX-License-Identifier: MIT */
/* options.c: the configuration, as the session needs it (session_opts_from_config), and the
 * check of what a session cannot start without (session_opts_check). Library code: what a
 * user should hear (a forwarded variable that is not set, a credential file that is missing)
 * becomes a warning for the command to print. */
#include "session/options.h"

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "egress/secret.h"
#include "netpolicy/netpolicy.h"
#include "session/tool.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/units.h"

/* [tool.claude]: Claude Code takes its model and effort from the environment, where they win
 * over its settings files; only when the agent is Claude Code. */
static int claude_env(struct session_opts *o, const struct coi_config *cfg)
{
	if (!cfg->tool.name || strcmp(cfg->tool.name, "claude") != 0)
		return 0;
	if (cfg->tool.claude.model &&
	    session_opts_add_env(o, "ANTHROPIC_MODEL", cfg->tool.claude.model) < 0)
		return -ENOMEM;
	if (cfg->tool.claude.effort_level &&
	    session_opts_add_env(o, "CLAUDE_CODE_EFFORT_LEVEL", cfg->tool.claude.effort_level) < 0)
		return -ENOMEM;
	return 0;
}

/* [tool.codex]: Codex takes them on its command line, -m MODEL and a config override. */
static int codex_options(struct session_opts *o, const struct coi_config *cfg)
{
	_cleanup_free_ char *effort = NULL;

	if (!cfg->tool.name || strcmp(cfg->tool.name, "codex") != 0)
		return 0;
	if (cfg->tool.codex.model && (strv_push(&o->tool_options, "-m") < 0 ||
	                              strv_push(&o->tool_options, cfg->tool.codex.model) < 0))
		return -ENOMEM;
	if (cfg->tool.codex.reasoning_effort &&
	    (asprintf(&effort, "model_reasoning_effort=\"%s\"", cfg->tool.codex.reasoning_effort) <
	             0 ||
	     strv_push(&o->tool_options, "-c") < 0 || strv_push(&o->tool_options, effort) < 0))
		return -ENOMEM;
	return 0;
}

/* The host's zone name: /etc/timezone, else what /etc/localtime links to under zoneinfo/. */
static char *host_timezone(void)
{
	char buf[256], *p;
	ssize_t n;
	FILE *f = fopen("/etc/timezone", "re");

	if (f) {
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p && (buf[strcspn(buf, "\n")] = '\0', *buf))
			return strdup(buf);
	}
	n = readlink("/etc/localtime", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	p = strstr(buf, "zoneinfo/");
	return p && p[9] ? strdup(p + 9) : NULL;
}

/* [timezone]: TZ in the session's environment, which the agent and its tools read: the host's
 * zone, a fixed one, or UTC. A host without a zone name leaves it unset (UTC inside). */
static int timezone_env(struct session_opts *o, const struct coi_config *cfg)
{
	_cleanup_free_ char *host = NULL;
	const char *tz = NULL;

	switch (cfg->timezone.mode) {
	case TZ_MODE_HOST:
		tz = host = host_timezone();
		break;
	case TZ_MODE_FIXED:
		tz = cfg->timezone.name;
		break;
	case TZ_MODE_UTC:
		tz = "UTC";
		break;
	case _TZ_MODE_MAX:
	case _TZ_MODE_INVALID:
		break;
	}
	return tz ? session_opts_add_env(o, "TZ", tz) : 0;
}

int session_opts_add_env(struct session_opts *o, const char *name, const char *value)
{
	struct session_env *e = o->env;

	if (o->n_env + 1 >= o->n_env_alloc) {
		e = reallocarray(o->env, o->n_env_alloc * 2 + 4, sizeof(*e));
		if (!e)
			return -ENOMEM;
		o->env = e;
		o->n_env_alloc = o->n_env_alloc * 2 + 4;
	}
	e[o->n_env] = (struct session_env){strdup(name), strdup(value)};
	e[o->n_env + 1] = (struct session_env){0};
	if (!e[o->n_env].name || !e[o->n_env].value) {
		free(e[o->n_env].name);
		free(e[o->n_env].value);
		e[o->n_env] = (struct session_env){0};
		return -ENOMEM;
	}
	o->n_env++;
	return 0;
}

/* Forwarded variables (values read now, never stored) and fixed ones. */
static int add_env(struct session_opts *o, const struct coi_config *cfg, char ***warnings)
{
	size_t n = strv_length(cfg->defaults.forward_env) + cfg->defaults.n_environment;

	o->env = calloc(n + 1, sizeof(*o->env));
	if (!o->env)
		return -ENOMEM;
	o->n_env_alloc = n + 1;
	strv_foreach(name, cfg->defaults.forward_env) {
		const char *v = getenv(*name);

		if (!v) {
			if (strv_pushf(warnings,
			               "forward_env: '%s' is not set on the host, not forwarded",
			               *name) < 0)
				return -ENOMEM;
			continue;
		}
		if (session_opts_add_env(o, *name, v) < 0)
			return -ENOMEM;
	}
	if (timezone_env(o, cfg) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->defaults.n_environment; i++)
		if (session_opts_add_env(o, cfg->defaults.environment[i].name,
		                         cfg->defaults.environment[i].value) < 0)
			return -ENOMEM;
	return claude_env(o, cfg);
}

static int add_mounts(struct session_opts *o, const struct coi_config *cfg)
{
	o->mounts = calloc(cfg->n_mounts + 1, sizeof(*o->mounts));
	if (!o->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		o->mounts[i].host = strdup(cfg->mounts[i].host);
		o->mounts[i].container = strdup(cfg->mounts[i].container);
		o->mounts[i].readonly = cfg->mounts[i].readonly;
		o->n_mounts++;
		if (!o->mounts[i].host || !o->mounts[i].container)
			return -ENOMEM;
	}
	return 0;
}

/* MB (a float) as whole KiB for nft, within 1..NET_COUNT_MAX. */
static unsigned kbytes(double mb)
{
	double k = mb * 1024.0;

	return k < 1 ? 1 : k > NET_COUNT_MAX ? NET_COUNT_MAX : (unsigned)k;
}

/* The network policy from [network]; a bad entry is an error naming it. */
static int net_from_config(struct session_opts *o, const struct coi_config *cfg,
                           struct coi_error *err)
{
	struct net_policy *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return coi_error_oom(err);
	o->net = p;
	net_policy_init(p);
	p->mode = cfg->network.mode;
	p->block_private_networks = cfg->network.block_private_networks;
	p->block_metadata_endpoint = cfg->network.block_metadata_endpoint;
	p->allow_local_network_access = cfg->network.allow_local_network_access;
	p->dns_min_ttl = (unsigned)cfg->network.dns_min_ttl;
	/* [monitoring.nft]: log rules for the monitor, so only with it */
	p->watch.enabled = cfg->monitoring.enabled && cfg->monitoring.nft.enabled;
	p->watch.rate = (unsigned)cfg->monitoring.nft.rate_limit_per_second;
	p->watch.dns = cfg->monitoring.nft.log_dns_queries;
	/* [monitoring]: the kernel counts bytes leaving (the read thresholds: what is too much
	 * of the workspace at once) and DNS queries, and tells the monitor */
	p->watch.count = cfg->monitoring.enabled;
	p->watch.egress_kbytes_s = kbytes(cfg->monitoring.file_read_rate_mb_per_sec);
	p->watch.egress_burst_kbytes = kbytes(cfg->monitoring.file_read_threshold_mb);
	p->watch.dns_per_minute = (unsigned)cfg->monitoring.nft.dns_query_threshold;
	strv_foreach(d, cfg->network.allowed_domains)
		if (r >= 0)
			r = net_policy_add_dest(p, *d, err);
	strv_foreach(d, cfg->network.dns_servers)
		if (r >= 0)
			r = net_policy_add_dns_server(p, *d, err);
	strv_foreach(d, cfg->network.allowed_networks)
		if (r >= 0)
			r = net_policy_add_allowed_network(p, *d, err);
	for (size_t i = 0; r >= 0 && i < cfg->network.n_allowed_ports; i++)
		r = net_policy_add_allowed_port(p, cfg->network.allowed_ports[i], err);
	for (size_t i = 0; r >= 0 && i < cfg->network.n_hosts; i++) {
		const struct config_host *h = &cfg->network.hosts[i];
		long ports[64];
		size_t n = h->n_ports < 64 ? h->n_ports : 64;

		for (size_t j = 0; j < n; j++)
			ports[j] = h->ports[j];
		r = net_policy_add_host(p, h->ip, h->hostnames, ports, n, err);
	}
	return r < 0 ? coi_error_prefix(err, "[network]") : 0;
}

/* The invoking user's home (under sudo, the user's, not root's). */
static const char *host_home(const struct session_opts *o)
{
	struct passwd *pw = getpwuid((uid_t)o->host_uid);

	return pw ? pw->pw_dir : home_dir();
}

/* [tool] copy_credentials: the invoking user's own credential file for the tool, if any. */
static int credentials_from_home(struct session_opts *o, char ***warnings)
{
	const struct tool *t = tool_find(o->tool);
	struct stat st;

	if (!t || !t->credential_file)
		return 0;
	o->credentials = path_join(host_home(o), t->credential_file);
	if (!o->credentials)
		return -ENOMEM;
	if (stat(o->credentials, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (strv_pushf(warnings, "[tool] copy_credentials: no '%s' on the host",
		               o->credentials) < 0)
			return -ENOMEM;
		o->credentials = (free(o->credentials), NULL);
	}
	return 0;
}

static int add_socket(struct session_opts *o, const char *device, const char *host,
                      const char *container, const char *env)
{
	struct session_socket *k = reallocarray(o->sockets, o->n_sockets + 1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	o->sockets = k;
	k += o->n_sockets++;
	*k = (struct session_socket){
	        .device = device ? strdup(device) : NULL,
	        .host = strdup(host),
	        .container = strdup(container),
	        .env = env ? strdup(env) : NULL,
	};
	return k->host && k->container && (!device || k->device) && (!env || k->env) ? 0 : -ENOMEM;
}

/* The SSH agent is a socket like those of [[sockets]]. */
static int sockets_from_config(struct session_opts *o, const struct coi_config *cfg,
                               char ***warnings)
{
	_cleanup_free_ char *agent = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	struct stat st;
	int r = 0;

	if (cfg->ssh.forward_agent && sock && stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (asprintf(&agent, "/home/%s/.ssh/agent.sock", o->code_user) < 0)
			return -ENOMEM;
		r = add_socket(o, "ssh-agent", sock, agent, "SSH_AUTH_SOCK");
	} else if (cfg->ssh.forward_agent) {
		r = strv_pushf(warnings,
		               "[ssh] forward_agent is on but SSH_AUTH_SOCK is not a socket on "
		               "the host; not forwarding");
	}
	for (size_t i = 0; r >= 0 && i < cfg->n_sockets; i++)
		r = add_socket(o, NULL, cfg->sockets[i].host, cfg->sockets[i].container,
		               cfg->sockets[i].env);
	return r;
}

static int ports_from_config(struct session_opts *o, const struct coi_config *cfg, char ***warnings)
{
	o->port_pool = cfg->ports.pool;
	o->ports = calloc(cfg->ports.n_map + 1, sizeof(*o->ports));
	if (!o->ports)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->ports.n_map; i++) {
		const struct config_port_map *m = &cfg->ports.map[i];
		struct session_port *p = &o->ports[o->n_ports++];

		p->name = strdup(m->name);
		p->env = strdup(m->env);
		p->listen = strdup(m->listen);
		p->container = m->container;
		p->host = m->host;
		if (!p->name || !p->env || !p->listen)
			return -ENOMEM;
		if (strncmp(p->listen, "127.", 4) != 0 &&
		    strv_pushf(
		            warnings,
		            "[[ports.map]] \"%s\" listens on %s, not loopback: other machines may "
		            "reach it",
		            p->name, p->listen) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int add_credential(struct session_opts *o, char *host, char *container, unsigned mode)
{
	struct session_credential *c = reallocarray(o->creds, o->n_creds + 1, sizeof(*c));

	if (!c || !host || !container) {
		free(host);
		free(container);
		if (c)
			o->creds = c;
		return -ENOMEM;
	}
	o->creds = c;
	c[o->n_creds++] = (struct session_credential){host, container, (int)mode};
	return 0;
}

/* One built-in bundle: its files that exist in the invoking user's home, to the code user's. */
static int credential_bundle(struct session_opts *o, const char *bundle, const char *code_home,
                             char ***warnings)
{
	int r = 0;

	for (const struct config_bundle_file *b = config_bundle_files(); r >= 0 && b->bundle; b++) {
		_cleanup_free_ char *host = NULL;
		struct stat st;

		if (strcmp(b->bundle, bundle) != 0)
			continue;
		host = path_join(host_home(o), b->rel);
		if (!host)
			return -ENOMEM;
		if (stat(host, &st) < 0 || !S_ISREG(st.st_mode)) {
			r = strv_pushf(warnings,
			               "[[credentials]] bundle '%s': no '%s' on the host, skipped",
			               bundle, host);
			continue;
		}
		r = add_credential(o, TAKE_PTR(host), path_join(code_home, b->rel), b->mode);
	}
	return r;
}

/* [[credentials]]: bundles, and ad-hoc entries as written (a missing one fails the start). */
static int credentials_from_config(struct session_opts *o, const struct coi_config *cfg,
                                   char ***warnings)
{
	_cleanup_free_ char *code_home = NULL;
	int r = 0;

	if (asprintf(&code_home, "/home/%s", o->code_user) < 0)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < cfg->n_credentials; i++) {
		const struct config_credential *c = &cfg->credentials[i];

		if (c->bundle)
			r = credential_bundle(o, c->bundle, code_home, warnings);
		else
			r = add_credential(o, strdup(c->host), strdup(c->container), c->mode);
	}
	return r;
}

static int replace(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* A size key as bytes, for Incus (the loader checked its form; "" was made NULL). */
static int replace_size(char **dst, const char *src)
{
	uint64_t n;

	free(*dst);
	*dst = NULL;
	if (!src)
		return 0;
	if (units_parse_size(src, &n) < 0)
		return replace(dst, src); /* "50%", "1000iops": Incus' own forms */
	return asprintf(dst, "%llu", (unsigned long long)n) < 0 ? -ENOMEM : 0;
}

/* [limits]: what Incus puts on the container (sizes in bytes). */
static int limits_from_config(struct session_limits *l, const struct coi_config *cfg)
{
	uint64_t tmpfs = 0;

	l->cpu_priority = cfg->limits.cpu.priority;
	l->disk_priority = cfg->limits.disk.priority;
	l->processes = cfg->limits.runtime.max_processes;
	if (cfg->limits.disk.tmpfs_size)
		(void)units_parse_size(cfg->limits.disk.tmpfs_size, &tmpfs); /* checked at load */
	l->tmpfs_size = tmpfs;
	if (replace(&l->cpu, cfg->limits.cpu.count) < 0 ||
	    replace(&l->cpu_allowance, cfg->limits.cpu.allowance) < 0 ||
	    replace_size(&l->memory, cfg->limits.memory.limit) < 0 ||
	    replace(&l->memory_enforce, cfg->limits.memory.enforce) < 0 ||
	    replace(&l->memory_swap, cfg->limits.memory.swap) < 0 ||
	    replace_size(&l->disk_size, cfg->limits.disk.size) < 0 ||
	    replace_size(&l->disk_read, cfg->limits.disk.read) < 0 ||
	    replace_size(&l->disk_write, cfg->limits.disk.write) < 0 ||
	    replace_size(&l->disk_max, cfg->limits.disk.max) < 0)
		return -ENOMEM;
	return 0;
}

static int git_from_config(struct session_git *g, const struct coi_config *cfg)
{
	g->seed_host = cfg->git.seed_host_identity;
	g->readonly = cfg->git.readonly;
	g->strip_attribution = cfg->git.strip_attribution;
	strv_free(g->strip_patterns);
	g->strip_patterns = NULL; /* unset: the built-in patterns (not an empty list: none) */
	if (cfg->git.strip_attribution_patterns &&
	    !(g->strip_patterns = strv_copy(cfg->git.strip_attribution_patterns)))
		return -ENOMEM;
	strv_free(g->protected_branches);
	g->protected_branches = NULL;
	/* [security] disable_protection: no path of the workspace is protected, refs neither */
	if (!cfg->security.disable_protection && cfg->git.protected_branches &&
	    !(g->protected_branches = strv_copy(cfg->git.protected_branches)))
		return -ENOMEM;
	return replace(&g->name, cfg->git.name) < 0 || replace(&g->email, cfg->git.email) < 0
	               ? -ENOMEM
	               : 0;
}

static int scalars_from_config(struct session_opts *o, const struct coi_config *cfg,
                               char ***warnings)
{
	o->persistent = cfg->container.persistent;
	o->ready_timeout = cfg->container.ready_timeout > 0 ? cfg->container.ready_timeout : 30;
	o->warm = cfg->container.warm > 0 ? cfg->container.warm : 0;
	/* as in the original: a reduced kernel surface wins over Docker, whose daemon needs bpf and
	 * nesting */
	o->kernel_surface = cfg->security.reduce_kernel_surface_strict ? KERNEL_SURFACE_STRICT
	                    : cfg->security.reduce_kernel_surface      ? KERNEL_SURFACE_REDUCED
	                                                               : KERNEL_SURFACE_FULL;
	o->docker = cfg->container.docker && o->kernel_surface == KERNEL_SURFACE_FULL;
	if (cfg->container.docker && !o->docker &&
	    strv_pushf(warnings,
	               "[container] docker is off: [security] reduce_kernel_surface wins over "
	               "it (Docker needs bpf and nesting)") < 0)
		return -ENOMEM;
	o->preserve_workspace_path = cfg->paths.preserve_workspace_path;
	o->code_uid = cfg->incus.code_uid;
	o->host_immutable = cfg->security.host_immutable;
	o->bypass = cfg->tool.permission_mode == PERMISSION_MODE_BYPASS;
	o->auto_context = cfg->tool.auto_context;
	o->context_json = cfg->tool.context_json;
	o->nft_sudo = cfg->network.use_sudo;
	o->protected_paths = strv_free(o->protected_paths);
	strv_free(o->secret_paths);
	o->secret_paths = strv_copy(cfg->security.secret_paths);
	if ((cfg->security.secret_paths && !o->secret_paths) ||
	    config_protected_paths(cfg, &o->protected_paths) < 0 ||
	    replace(&o->image, cfg->container.image) < 0 ||
	    replace(&o->storage_pool, cfg->container.storage_pool) < 0 ||
	    replace(&o->code_user, cfg->incus.code_user) < 0 ||
	    replace(&o->tool, cfg->tool.name) < 0 ||
	    replace(&o->tool_binary, cfg->tool.binary) < 0 ||
	    replace(&o->context_file, cfg->tool.context_file) < 0 ||
	    replace(&o->context_json_file, cfg->tool.context_json_file) < 0 ||
	    replace(&o->session_name, cfg->container.session_name) < 0 ||
	    limits_from_config(&o->limits, cfg) < 0 || codex_options(o, cfg) < 0 ||
	    git_from_config(&o->git, cfg) < 0)
		return -ENOMEM;
	return 0;
}

int session_opts_from_config(const struct coi_config *cfg, struct session_opts *o, char ***warnings,
                             struct coi_error *err)
{
	int r;

	if (scalars_from_config(o, cfg, warnings) < 0 || add_mounts(o, cfg) < 0 ||
	    add_env(o, cfg, warnings) < 0 || sockets_from_config(o, cfg, warnings) < 0 ||
	    ports_from_config(o, cfg, warnings) < 0 ||
	    credentials_from_config(o, cfg, warnings) < 0)
		return coi_error_oom(err);
	r = net_from_config(o, cfg, err);
	if (r < 0)
		return r;
	if (cfg->tool.copy_credentials && credentials_from_home(o, warnings) < 0)
		return coi_error_oom(err);
	return session_opts_check(o, err);
}

/* A value a session starts with: set and not empty. */
static int need(const char *value, const char *what, struct coi_error *err)
{
	if (!value || !*value)
		return coi_error_set(err, -EINVAL, "%s is not set", what);
	return 0;
}

int session_opts_check(const struct session_opts *o, struct coi_error *err)
{
	int r = need(o->workspace, "the workspace", err);

	if (r >= 0)
		r = need(o->image, "the image ([container] image, --image)", err);
	if (r >= 0)
		r = need(o->code_user, "the container user ([incus] code_user)", err);
	if (r >= 0)
		r = need(o->tool, "the tool ([tool] name)", err);
	if (r >= 0 && o->workspace[0] != '/')
		r = coi_error_set(err, -EINVAL, "the workspace '%s' is not an absolute path",
		                  o->workspace);
	return r;
}

void session_opts_release(struct session_opts *o)
{
	free(o->workspace);
	free(o->image);
	free(o->image_target);
	free(o->storage_pool);
	free(o->profile);
	free(o->session_name);
	free(o->code_user);
	strv_free(o->protected_paths);
	strv_free(o->secret_paths);
	free(o->git.name);
	free(o->git.email);
	strv_free(o->git.protected_branches);
	strv_free(o->git.strip_patterns);
	for (size_t i = 0; i < o->n_mounts; i++) {
		free(o->mounts[i].host);
		free(o->mounts[i].container);
	}
	free(o->mounts);
	for (size_t i = 0; i < o->n_env; i++) {
		free(o->env[i].name);
		free(o->env[i].value);
	}
	free(o->env);
	free(o->limits.cpu);
	free(o->limits.cpu_allowance);
	free(o->limits.memory);
	free(o->limits.memory_enforce);
	free(o->limits.memory_swap);
	free(o->limits.disk_size);
	free(o->limits.disk_read);
	free(o->limits.disk_write);
	free(o->limits.disk_max);
	free(o->tool);
	free(o->tool_binary);
	strv_free(o->tool_options);
	free(o->context_file);
	free(o->context_json_file);
	free(o->resume_dir);
	for (size_t i = 0; i < o->n_sockets; i++) {
		free(o->sockets[i].device);
		free(o->sockets[i].host);
		free(o->sockets[i].container);
		free(o->sockets[i].env);
	}
	free(o->sockets);
	for (size_t i = 0; i < o->n_ports; i++) {
		free(o->ports[i].name);
		free(o->ports[i].env);
		free(o->ports[i].listen);
	}
	free(o->ports);
	for (size_t i = 0; i < o->n_creds; i++) {
		free(o->creds[i].host);
		free(o->creds[i].container);
	}
	free(o->creds);
	egress_set_release(o->secrets);
	free(o->secrets);
	free(o->secret_expires);
	strv_free(o->monitor_argv);
	strv_free(o->monitor_env);
	free(o->credentials);
	if (o->net) {
		net_policy_release(o->net);
		free(o->net);
	}
	*o = (struct session_opts){0};
}

/* The invoking user: under sudo, the user who ran sudo, so 'sudo coi' in your project still
 * leaves your files yours. */
static void invoking_user(int64_t *uid, int64_t *gid)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");

	*uid = getuid();
	*gid = getgid();
	if (*uid == 0 && su && sg && *su && *sg) {
		*uid = strtoll(su, NULL, 10);
		*gid = strtoll(sg, NULL, 10);
	}
}

enum net_mode session_net_mode(const struct session_opts *o)
{
	return o->net ? o->net->mode : NET_MODE_RESTRICTED;
}

int session_opts_default(const char *workspace, struct session_opts *ret, struct coi_error *err)
{
	struct session_opts o = {
	        .code_uid = 1000,
	        .ready_timeout = 30,
	        .host_immutable = true,
	        .nft_sudo = true,
	        /* [limits] come from the configuration's defaults (session-cmd.c) */
	        .limits = {.cpu_priority = -1, .disk_priority = -1},
	};

	invoking_user(&o.host_uid, &o.host_gid);
	o.workspace = strdup(workspace);
	o.image = strdup("coi-default");
	o.code_user = strdup("code");
	o.tool = strdup("claude");
	o.protected_paths =
	        strv_split(".git/hooks .git/config .git/config.worktree "
	                   ".git/info/attributes .husky .vscode .coi .claude/settings.json "
	                   ".claude/settings.local.json .codex/config.toml",
	                   " ");
	if (!o.workspace || !o.image || !o.code_user || !o.tool || !o.protected_paths) {
		session_opts_release(&o);
		return coi_error_oom(err);
	}
	*ret = o;
	return 0;
}
