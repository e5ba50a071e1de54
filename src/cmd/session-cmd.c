/* SPDX-License-Identifier: MIT */
/* session-cmd.c: see session-cmd.h. */
#include "cmd/session-cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/output.h"
#include "config/config.h"
#include "incus/incus.h"
#include "monitor/settings.h"
#include "netpolicy/netpolicy.h"
#include "session/protect.h"
#include "session/saved.h"
#include "session/secrets.h"
#include "session/tool.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/units.h"

int session_cmd_parse(const struct verb *v, int argc, char **argv, struct session_cmd *sc)
{
	static const struct option opts[] = {
	        {"workspace", required_argument, NULL, 'w'},
	        {"slot", required_argument, NULL, 'S'},
	        {"persistent", no_argument, NULL, 'P'},
	        {"image", required_argument, NULL, 'I'},
	        {"profile", required_argument, NULL, 'p'},
	        {"resume", optional_argument, NULL, 'R'},
	        {"continue", optional_argument, NULL, 'R'},
	        {"prompt", required_argument, NULL, 'T'},
	        {"prompt-file", required_argument, NULL, 'F'},
	        {"prompt-name", required_argument, NULL, 'N'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;

	sc->persistent = -1;
	sc->detachable = strcmp(v->name, "shell") == 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+w:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'w':
			sc->workspace_arg = optarg;
			break;
		case 'S':
			sc->slot = (int)strtol(optarg, &end, 10);
			if (*end || sc->slot < 1 || sc->slot > SESSION_SLOT_MAX) {
				cmd_usage_error(v, "--slot takes a number from 1 to %d",
				                SESSION_SLOT_MAX);
				return -EXIT_USAGE;
			}
			break;
		case 'P':
			sc->persistent = 1;
			break;
		case 'I':
			sc->image = optarg;
			break;
		case 'p':
			sc->profile = optarg;
			break;
		case 'R':
			sc->resume = true;
			sc->resume_id = optarg;
			break;
		case 'T':
		case 'F':
		case 'N':
			/* headless agent runs are coi run's; one prompt, from one place */
			if (strcmp(v->name, "run") != 0) {
				cmd_usage_error(v,
				                "--prompt, --prompt-file and --prompt-name are for "
				                "'coi run'");
				return -EXIT_USAGE;
			}
			if (session_cmd_has_prompt(sc)) {
				cmd_usage_error(v, "give one prompt: --prompt, --prompt-file or "
				                   "--prompt-name");
				return -EXIT_USAGE;
			}
			*(c == 'T'   ? &sc->prompt
			  : c == 'F' ? &sc->prompt_file
			             : &sc->prompt_name) = optarg;
			break;
		case 'h':
			cmd_help(v);
			return 0;
		default:
			cmd_usage_error(v, "invalid option");
			return -EXIT_USAGE;
		}
	}
	return 1;
}

/* Forwarded variables (values read now, never stored) and fixed ones. */
static int add_env(struct session_opts *o, const struct coi_config *cfg, char ***warnings)
{
	size_t n = strv_length(cfg->defaults.forward_env) + cfg->defaults.n_environment;

	o->env = calloc(n + 1, sizeof(*o->env));
	if (!o->env)
		return -ENOMEM;
	strv_foreach(name, cfg->defaults.forward_env) {
		const char *v = getenv(*name);
		_cleanup_free_ char *w = NULL;

		if (!v) {
			if (asprintf(&w, "forward_env: '%s' is not set on the host, not forwarded",
			             *name) < 0 ||
			    strv_consume(warnings, TAKE_PTR(w)) < 0)
				return -ENOMEM;
			continue;
		}
		o->env[o->n_env].name = strdup(*name);
		o->env[o->n_env].value = strdup(v);
		if (!o->env[o->n_env++].value)
			return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->defaults.n_environment; i++) {
		o->env[o->n_env].name = strdup(cfg->defaults.environment[i].name);
		o->env[o->n_env].value = strdup(cfg->defaults.environment[i].value);
		if (!o->env[o->n_env++].value)
			return -ENOMEM;
	}
	return 0;
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
	p->refresh_interval_minutes = (unsigned)cfg->network.refresh_interval_minutes;
	/* [monitoring.nft]: log rules for the monitor, so only with it */
	p->watch.enabled = cfg->monitoring.enabled && cfg->monitoring.nft.enabled;
	p->watch.rate = (unsigned)cfg->monitoring.nft.rate_limit_per_second;
	p->watch.dns = cfg->monitoring.nft.log_dns_queries;
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

static volatile sig_atomic_t time_up;

/* limits.runtime.auto_stop = false: max_duration only warns */
static const char warn_only[] = "coi: [limits] max_duration reached; auto_stop = false, so the "
                                "session goes on\n";

static void on_alarm(int sig)
{
	(void)sig;
	time_up = 1;
	raise(SIGTERM); /* the session's own handler interrupts the command */
}

static void on_alarm_warn(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, warn_only, sizeof(warn_only) - 1);
}

/* limits.runtime of a session that can outlive this process (coi shell, detached): the
 * supervisor ends it at max_duration once this process is gone (monitor/deadline.h); with
 * monitoring off, a supervisor runs for that alone. */
static int deadline_from_config(struct session_opts *o, const struct coi_config *cfg)
{
	const typeof(cfg->limits.runtime) *rt = &cfg->limits.runtime;
	int64_t secs =
	        rt->max_duration_sec > UINT32_MAX / 2 ? UINT32_MAX / 2 : rt->max_duration_sec;
	int grace = rt->stop_graceful && cfg->container.shutdown_timeout > 0
	                    ? cfg->container.shutdown_timeout
	                    : 0;
	char num[2][24];

	if (secs <= 0)
		return 0;
	snprintf(num[0], sizeof(num[0]), "%lld", (long long)secs);
	snprintf(num[1], sizeof(num[1]), "%d", grace);
	if ((!o->monitor_argv && strv_push(&o->monitor_argv, "--timer-only") < 0) ||
	    strv_push(&o->monitor_argv, "--max-duration") < 0 ||
	    strv_push(&o->monitor_argv, num[0]) < 0 ||
	    strv_push(&o->monitor_argv, "--stop-timeout") < 0 ||
	    strv_push(&o->monitor_argv, num[1]) < 0 ||
	    (!rt->auto_stop && strv_push(&o->monitor_argv, "--duration-warn-only") < 0))
		return -ENOMEM;
	return 0;
}

/* [monitoring]: the supervisor's arguments (monitor/settings.h). Alerts go to this terminal
 * (stderr's), outside the agent's tmux pane. */
static int monitor_from_config(struct session_opts *o, const struct coi_config *cfg,
                               bool detachable, struct coi_error *err)
{
	const char *tty = isatty(STDERR_FILENO) ? ttyname(STDERR_FILENO) : NULL;
	int r;

	r = monitor_config_argv(cfg, &o->monitor_argv, err);
	if (r >= 0)
		r = monitor_config_env(cfg, &o->monitor_env, err);
	if (r >= 0 && detachable && deadline_from_config(o, cfg) < 0)
		r = coi_error_oom(err);
	if (r < 0 || !o->monitor_argv || !tty)
		return r;
	if (strv_push(&o->monitor_argv, "--tty") < 0 || strv_push(&o->monitor_argv, tty) < 0)
		return coi_error_oom(err);
	return 0;
}

/* The invoking user's home (under sudo, the user's, not root's). */
static const char *host_home(const struct session_opts *o)
{
	struct passwd *pw = getpwuid((uid_t)o->host_uid);

	return pw ? pw->pw_dir : home_dir();
}

/* The invoking user's own credential file for the tool, when it exists. */
static int credentials_from_home(struct session_opts *o)
{
	const struct tool *t = tool_find(o->tool);
	struct stat st;

	if (!t || !t->credential_file)
		return 0;
	o->credentials = path_join(host_home(o), t->credential_file);
	if (!o->credentials)
		return -ENOMEM;
	if (stat(o->credentials, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "coi: warning: [tool] copy_credentials: no '%s' on the host\n",
		        o->credentials);
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
static int sockets_from_config(struct session_opts *o, const struct coi_config *cfg)
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
		fprintf(stderr, "coi: warning: [ssh] forward_agent is on but SSH_AUTH_SOCK is "
		                "not a socket on the host; not forwarding\n");
	}
	for (size_t i = 0; r >= 0 && i < cfg->n_sockets; i++)
		r = add_socket(o, NULL, cfg->sockets[i].host, cfg->sockets[i].container,
		               cfg->sockets[i].env);
	return r;
}

static int ports_from_config(struct session_opts *o, const struct coi_config *cfg)
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
		if (strncmp(p->listen, "127.", 4) != 0)
			fprintf(stderr,
			        "coi: warning: [[ports.map]] \"%s\" listens on %s, not loopback: "
			        "other machines may reach it\n",
			        p->name, p->listen);
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

/* [[credentials]]: a bundle's files that exist in the invoking user's home, to the code user's;
 * ad-hoc entries as written (a missing one fails the start). */
static int credentials_from_config(struct session_opts *o, const struct coi_config *cfg)
{
	_cleanup_free_ char *code_home = NULL;
	int r = 0;

	if (asprintf(&code_home, "/home/%s", o->code_user) < 0)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < cfg->n_credentials; i++) {
		const struct config_credential *c = &cfg->credentials[i];

		if (!c->bundle) {
			r = add_credential(o, strdup(c->host), strdup(c->container), c->mode);
			continue;
		}
		for (const struct config_bundle_file *b = config_bundle_files();
		     r >= 0 && b->bundle; b++) {
			_cleanup_free_ char *host = NULL;
			struct stat st;

			if (strcmp(b->bundle, c->bundle) != 0)
				continue;
			host = path_join(host_home(o), b->rel);
			if (!host)
				return -ENOMEM;
			if (stat(host, &st) < 0 || !S_ISREG(st.st_mode)) {
				fprintf(stderr,
				        "coi: warning: [[credentials]] bundle '%s': no '%s' on the "
				        "host, skipped\n",
				        c->bundle, host);
				continue;
			}
			r = add_credential(o, TAKE_PTR(host), path_join(code_home, b->rel),
			                   b->mode);
		}
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

/* The configuration, as the session needs it. */
static int opts_from_config(struct session_opts *o, const struct coi_config *cfg, char ***warnings)
{
	o->persistent = cfg->container.persistent;
	o->ready_timeout = cfg->container.ready_timeout > 0 ? cfg->container.ready_timeout : 30;
	/* as in the original: a reduced kernel surface wins over Docker, whose daemon needs bpf and
	 * nesting */
	o->kernel_surface = cfg->security.reduce_kernel_surface_strict ? KERNEL_SURFACE_STRICT
	                    : cfg->security.reduce_kernel_surface      ? KERNEL_SURFACE_REDUCED
	                                                               : KERNEL_SURFACE_FULL;
	o->docker = cfg->container.docker && o->kernel_surface == KERNEL_SURFACE_FULL;
	if (cfg->container.docker && !o->docker &&
	    strv_push(warnings, "[container] docker is off: [security] reduce_kernel_surface wins "
	                        "over it (Docker needs bpf and nesting)") < 0)
		return -ENOMEM;
	o->preserve_workspace_path = cfg->paths.preserve_workspace_path;
	o->code_uid = cfg->incus.code_uid;
	o->host_immutable = cfg->security.host_immutable;
	o->bypass = cfg->tool.permission_mode == PERMISSION_MODE_BYPASS;
	o->auto_context = cfg->tool.auto_context;
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
	    limits_from_config(&o->limits, cfg) < 0 || add_mounts(o, cfg) < 0 ||
	    add_env(o, cfg, warnings) < 0 || sockets_from_config(o, cfg) < 0 ||
	    ports_from_config(o, cfg) < 0 || credentials_from_config(o, cfg) < 0)
		return -ENOMEM;
	return 0;
}

static int resolve_opts(struct session_cmd *sc, struct coi_error *err)
{
	_cleanup_free_ char *ws = NULL;
	_cleanup_strv_free_ char **warnings = NULL;
	int r;

	r = path_absolute(sc->workspace_arg ? sc->workspace_arg : ".", &ws, err);
	if (r < 0)
		return r;
	r = config_load(&(struct config_load_opts){.workspace = ws, .profile = sc->profile},
	                &sc->config, &warnings, err);
	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	if (r < 0)
		return r;
	strv_free(warnings);
	warnings = NULL;
	r = session_opts_default(ws, &sc->opts, err);
	if (r < 0)
		return r;
	if (opts_from_config(&sc->opts, sc->config, &warnings) < 0)
		return coi_error_oom(err);
	r = net_from_config(&sc->opts, sc->config, err);
	if (r < 0)
		return r;
	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	if (sc->image && replace(&sc->opts.image, sc->image) < 0)
		return coi_error_oom(err);
	if (sc->resume) {
		r = saved_session_find(sc->opts.tool, ws, sc->resume_id, &sc->opts.resume_dir, err);
		if (r < 0)
			return r;
	}
	r = monitor_from_config(&sc->opts, sc->config, sc->detachable, err);
	if (r < 0)
		return r;
	if (sc->config->tool.copy_credentials && credentials_from_home(&sc->opts) < 0)
		return coi_error_oom(err);
	warnings = strv_free(warnings);
	r = session_secrets_from_config(&sc->opts, sc->config, &warnings, err);
	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	if (r < 0)
		return r;
	if (sc->slot)
		sc->opts.slot = sc->slot;
	if (sc->persistent == 1)
		sc->opts.persistent = true;
	return 0;
}

static void print_report(const struct session *s)
{
	_cleanup_free_ char *list = NULL;
	_cleanup_strv_free_ char **rels = NULL;

	for (size_t i = 0; s->plan && i < s->plan->n_entries; i++)
		(void)strv_push(&rels, s->plan->entries[i].rel);
	list = strv_join(rels, ", ");
	fprintf(stderr, "coi: session %s (slot %d%s)\n", s->name, s->slot,
	        s->reused ? ", resumed persistent container" : "");
	if (list && *list)
		fprintf(stderr, "Protected paths (mounted read-only): %s\n", list);
	rels = strv_free(rels);
	for (size_t i = 0; s->hidden && i < s->hidden->n_entries; i++)
		(void)strv_push(&rels, s->hidden->entries[i].rel);
	free(list);
	list = strv_join(rels, ", ");
	if (list && *list)
		fprintf(stderr, "Hidden ([security] secret_paths, empty and read-only): %s\n",
		        list);
	strv_foreach(n, s->hidden ? s->hidden->notes : NULL)
		fprintf(stderr, "coi: note: %s\n", *n);
	for (size_t i = 0; i < s->opts->n_ports; i++) {
		const struct session_port *p = &s->opts->ports[i];

		fprintf(stderr, "%s%s%s%s:%u -> %u",
		        i ? ", " : "Published ports: ", p->name ? p->name : "", p->name ? " " : "",
		        p->listen, p->host, p->container);
		if (i + 1 == s->opts->n_ports)
			fputc('\n', stderr);
	}
	strv_foreach(n, s->plan ? s->plan->notes : NULL)
		fprintf(stderr, "coi: note: %s\n", *n);
}

/* Kernels before 5.15 lack pieces the container isolation relies on (idmapped mounts on more
 * filesystems, seccomp and user-namespace fixes). */
static void warn_old_kernel(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 15)))
		fprintf(stderr,
		        "coi: warning: kernel %s is older than 5.15; container isolation may "
		        "lack security fixes ('coi health' says more)\n",
		        u.release);
}

/* The most a prompt file may hold: prompts are instructions, not data. */
#define PROMPT_MAX ((size_t)1 << 20)

/* The agent's command line answering one prompt (--prompt, --prompt-file, --prompt-name),
 * headless. Nobody is there to answer the agent's permission questions, so it needs the bypass
 * mode. */
static int headless_argv(struct session_cmd *sc, struct coi_error *err)
{
	const struct tool *t = tool_find(sc->opts.tool);
	_cleanup_free_ char *owned = NULL;
	const char *text = sc->prompt;
	int r = 0;

	if (!t)
		return coi_error_set(err, -EINVAL, "tool '%s' has no headless mode (one of: %s)",
		                     sc->opts.tool, tool_names());
	if (!sc->opts.bypass)
		return coi_error_set(
		        err, -EINVAL,
		        "a headless run needs tool.permission_mode = \"bypass\": nobody "
		        "is there to answer the agent's questions");
	if (sc->prompt_file) {
		r = config_prompt_read(&(struct config_prompt){.file = (char *)sc->prompt_file},
		                       PROMPT_MAX, &owned, err);
		if (r < 0)
			return coi_error_prefix(err, "--prompt-file");
	} else if (sc->prompt_name) {
		r = config_prompt_text(sc->config, sc->prompt_name, PROMPT_MAX, &owned, err);
		if (r < 0)
			return r;
	}
	if (owned)
		text = owned;
	if (!*text)
		return coi_error_set(err, -EINVAL, "the prompt is empty");
	/* as coi shell: a resumed session is restored, and the agent continues its newest */
	sc->agent_argv = tool_argv(t, sc->opts.tool_binary, true, NULL, sc->resume, text);
	return sc->agent_argv ? 0 : coi_error_oom(err);
}

int session_cmd_start(struct session_cmd *sc, struct coi_error *err)
{
	struct incus_client_opts o;
	struct output_progress bar;
	int r;

	warn_old_kernel();
	r = resolve_opts(sc, err);
	if (r < 0)
		return r;
	if (session_cmd_has_prompt(sc)) {
		r = headless_argv(sc, err);
		if (r < 0)
			return r;
	}
	config_incus_client_opts(sc->config, &o);
	r = incus_client_new(&o, &sc->client, err);
	if (r < 0)
		return r;
	cmd_mend_dead_sessions(sc->client);
	session_install_signal_handlers();
	output_progress_begin(&bar, "creating the container");
	sc->opts.create_wait.progress = output_progress_incus;
	sc->opts.create_wait.userdata = &bar;
	r = session_start(&sc->opts, sc->client, &sc->session, err);
	output_progress_end(&bar);
	sc->opts.create_wait = (struct incus_wait){0};
	if (r < 0)
		return r;
	print_report(sc->session);
	if (sc->config->limits.runtime.max_duration_sec > 0) {
		int64_t secs = sc->config->limits.runtime.max_duration_sec;

		/* enforced here while this coi runs; a detached shell's supervisor takes over */
		signal(SIGALRM, sc->config->limits.runtime.auto_stop ? on_alarm : on_alarm_warn);
		alarm(secs > UINT_MAX ? UINT_MAX : (unsigned)secs);
	}
	return 0;
}

int session_cmd_fail(const struct coi_error *err)
{
	int sig = session_interrupt_signal();

	if (!sig)
		return cmd_fail(err);
	fprintf(stderr, "coi: %s\n", coi_error_message(err));
	return 128 + sig;
}

int session_cmd_finish(struct session_cmd *sc, int status)
{
	_cleanup_strv_free_ char **warnings = NULL;
	struct coi_error err = {0};
	int r;

	if (!sc->session)
		return status;
	alarm(0);
	if (time_up) {
		fprintf(stderr, "coi: [limits] max_duration (%s) reached: ending the session\n",
		        sc->config->limits.runtime.max_duration);
		/* graceful: the agent and its processes get the shutdown signal first */
		if (sc->config->limits.runtime.stop_graceful) {
			incus_interrupt_reset();
			(void)incus_instance_set_state(
			        sc->client, sc->session->name, INCUS_ACTION_STOP, false,
			        sc->config->container.shutdown_timeout, NULL);
		}
	}
	r = session_stop(sc->session, &err);
	warnings = session_take_warnings(sc->session);
	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	if (r < 0) {
		fprintf(stderr, "coi: cleaning up failed: %s\n", coi_error_message(&err));
		return status == 0 ? EXIT_FAIL : status;
	}
	return status;
}

void session_cmd_release(struct session_cmd *sc)
{
	sc->session = session_free(sc->session);
	sc->client = incus_client_free(sc->client);
	sc->config = config_free(sc->config);
	sc->agent_argv = strv_free(sc->agent_argv);
	session_opts_release(&sc->opts);
}
