/* SPDX-License-Identifier: MIT */
/* settings.h: the configuration as data: struct coi_config, the key table's types and entries
 * (keys.c), and what the files beside config.c define (values, secrets, prompts, bundles). It
 * includes nothing of src/config/, so the files that implement it need not include config.h,
 * whose loading (config.c) uses them: see config.h for the whole picture. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/netmode.h"

struct coi_error;

enum permission_mode {
	PERMISSION_MODE_BYPASS,
	PERMISSION_MODE_INTERACTIVE,
	_PERMISSION_MODE_MAX,
	_PERMISSION_MODE_INVALID = -EINVAL,
};

enum tz_mode {
	TZ_MODE_HOST,
	TZ_MODE_FIXED,
	TZ_MODE_UTC,
	_TZ_MODE_MAX,
	_TZ_MODE_INVALID = -EINVAL,
};

/* monitoring.reverse_shell_one_liners */
enum one_liner_action {
	ONE_LINER_CRITICAL,
	ONE_LINER_WARN,
	ONE_LINER_OFF,
	_ONE_LINER_MAX,
	_ONE_LINER_INVALID = -EINVAL,
};

const char *permission_mode_to_string(enum permission_mode m);
enum permission_mode permission_mode_from_string(const char *s);
const char *tz_mode_to_string(enum tz_mode m);
enum tz_mode tz_mode_from_string(const char *s);
const char *one_liner_action_to_string(enum one_liner_action a);
enum one_liner_action one_liner_action_from_string(const char *s);

/* [[mounts.default]] (or [[mounts]]): an extra bind mount. host is absolute after loading
 * (relative paths are taken relative to the workspace). */
struct config_mount {
	char *host;
	char *container;
	bool readonly;
	int shift; /* -1 inherit, 0 no, 1 yes */
};

/* A NAME=VALUE pair ([defaults.environment], [defaults.env_commands]). */
struct config_env {
	char *name;
	char *value;
};

/* [[network.hosts]]: a static /etc/hosts entry with its reachability. */
struct config_host {
	char *ip;
	char **hostnames;
	uint16_t *ports;
	size_t n_ports;
};

/* One entry of network.allowed_domains, parsed: "host", "host:443", "host:80,443",
 * "host:8000-8100", "10.0.0.0/8:22". Produced on demand by config_domain_parse(). */
struct config_port_range {
	uint16_t lo, hi;
};
struct config_domain {
	char *host;                      /* hostname, IPv4 address or IPv4 CIDR */
	bool is_ip;                      /* an address or CIDR, no resolution needed */
	struct config_port_range *ports; /* NULL when every port is allowed */
	size_t n_ports;
};

/* [[sockets]]: a host unix socket forwarded into the container (an Incus proxy device). host is
 * absolute after loading; env (may be NULL) names a variable set to the container path. */
struct config_socket {
	char *host;
	char *container;
	char *env;
};

/* [[ports.map]]: a container TCP port published on the host. host 0: allocated per workspace and
 * slot, like the pool. env is "COI_PORT_<NAME>" (derived from name). */
struct config_port_map {
	char *name;
	char *env;
	uint16_t container;
	uint16_t host;
	char *listen; /* IPv4 address, "127.0.0.1" unless written */
};

/* [[credentials]]: a host file copied (never mounted) into the container, owned by the code user.
 * Either bundle (a name from config_credential_bundles()) or host + container. */
struct config_credential {
	char *bundle;
	char *host; /* absolute after loading */
	char *container;
	unsigned mode; /* 0600 unless written */
};

/* [[secrets]]: a credential that stays on the host; the container gets a placeholder and the
 * session's proxy puts the value into requests to hosts (secrets.c). An entry either names a
 * built-in (its fields are filled in from it, the entry's own win) or is complete itself. Exactly
 * one source: env, file (and field) or command. Later layers replace an entry of the same name. */
struct config_secret {
	char *name;
	char *builtin; /* the built-in it started from, or NULL */
	char *env;
	char *file; /* absolute after loading */
	char *field;
	char **command;
	char **hosts; /* lower case */
	char *header;
	char *format;
	char *basic_user;
	char *container_env;
	char *container_file; /* relative to the code user's home */
	char *placeholder_prefix;
	char *refresh_url;
	char *refresh_client_id;
	char *refresh_token_field;
	char *expires_field;
	bool git;
	char *origin; /* "FILE:LINE" */
};

/* A built-in secret (config_secret_builtins()): what a [[secrets]] entry with builtin = NAME
 * starts from, and what coi uses on its own (security.secrets_on_host) when forward_env names one
 * of its variables or the tool's login is copied in. */
struct config_secret_builtin {
	const char *name;
	const char *env, *file, *field;
	const char *const *command;
	const char *hosts[4];
	const char *header, *format, *basic_user, *container_env, *container_file, *prefix;
	const char *refresh_url, *refresh_client_id, *refresh_token_field, *expires_field;
	bool git;
	const char *forward_env[3]; /* forward_env names that mean this secret */
	const char *tool; /* the tool whose copied login (copy_credentials, a bundle) it is */
	const char *description;
};

/* [prompts]: a named prompt for 'coi run --prompt-name NAME', NAME = "text" or
 * NAME = { file = "path" }. Later layers replace a prompt of the same name and keep the others. */
struct config_prompt {
	char *name;
	char *text;   /* the prompt as written, or NULL when it is in file */
	char *file;   /* absolute and clean (a relative path is the defining file's), or NULL */
	char *root;   /* file must resolve (symbolic links followed) inside this directory: the
	                 project's, for a prompt of a project file; NULL: anywhere */
	char *origin; /* "FILE:LINE" of the definition, for messages */
};

/* One file of a built-in credential bundle: paths relative to the host user's and the code
 * user's home. A missing file is skipped. */
struct config_bundle_file {
	const char *bundle;
	const char *rel;
	unsigned mode;
};

struct coi_config {
	struct {
		char *image;        /* "coi-default" */
		bool persistent;    /* false */
		char *storage_pool; /* NULL: Incus' default */
		char *session_name;
		int shutdown_timeout;   /* seconds, 60 */
		int ready_timeout;      /* seconds, 30 */
		int warm;               /* warm containers kept for the workspace, 0 */
		bool docker;            /* true */
		char *stale_base_check; /* "warn", "error" or "off" */
		struct {
			char *base; /* "coi-default" */
			char *script;
			char **commands;
			char *compression;
			char **agents; /* claude, opencode, pi */
		} build;
	} container;

	struct {
		char *name; /* "claude" */
		char *binary;
		enum permission_mode permission_mode; /* bypass */
		char **pre_launch;
		bool auto_context;     /* true */
		bool copy_credentials; /* false: the tool's credential file stays on the host */
		char *context_file;
		bool context_json;
		char *context_json_file;
		struct {
			char *model;
			char *effort_level;
		} claude;
		struct {
			char *model;
			char *reasoning_effort;
		} codex;
	} tool;

	struct {
		bool use_tmux; /* true */
	} shell;

	struct {
		bool preserve_workspace_path;
	} paths;

	struct {
		char *project;   /* "default" */
		char *group;     /* "incus-admin" */
		int code_uid;    /* 1000 */
		char *code_user; /* "code" */
		/* coi additions: how to reach the daemon */
		char *socket;      /* NULL: $INCUS_SOCKET or /var/lib/incus/unix.socket */
		char *remote_url;  /* "https://host:8443" for a remote server or cluster */
		char *client_cert; /* PEM files for remote_url */
		char *client_key;
		char *server_cert;
	} incus;

	struct {
		bool forward_agent;
	} ssh;

	struct {
		enum net_mode mode;           /* restricted */
		bool block_private_networks;  /* true */
		bool block_metadata_endpoint; /* true */
		bool allow_local_network_access;
		char **allowed_domains;  /* raw entries; see config_domain_parse() */
		int dns_min_ttl;         /* 60: seconds an answer's addresses stay at least */
		bool use_sudo;           /* true */
		char **dns_servers;      /* IPv4 addresses */
		char **allowed_networks; /* IPv4 CIDRs opened despite the refusals */
		uint16_t *allowed_ports; /* NULL: no global port cap */
		size_t n_allowed_ports;
		struct config_host *hosts;
		size_t n_hosts;
	} network;

	struct config_mount *mounts;
	size_t n_mounts;

	/* layers add entries (a socket or credential with the same container path, or a port map
	 * with the same name, replaces the earlier one) */
	struct config_socket *sockets;
	size_t n_sockets;
	struct config_credential *credentials;
	size_t n_credentials;
	struct config_prompt *prompts;
	size_t n_prompts;
	struct config_secret *secrets;
	size_t n_secrets;
	struct {
		int pool; /* 0-10 identity-mapped published ports */
		struct config_port_map *map;
		size_t n_map;
	} ports;

	struct {
		struct {
			char *count;
			char *allowance;
			int priority;
		} cpu;
		struct {
			char *limit;
			char *enforce; /* "soft" */
			char *swap;    /* "true" */
		} memory;
		struct {
			char *read;
			char *write;
			char *max;
			int priority;
			char *size;
			char *tmpfs_size;
		} disk;
		struct {
			char *max_duration;       /* Go-style duration, e.g. "2h30m"; NULL: none */
			int64_t max_duration_sec; /* the same in whole seconds, rounded up; 0: none
			                           */
			int max_processes;
			bool auto_stop;     /* true */
			bool stop_graceful; /* true */
		} runtime;
	} limits;

	struct {
		bool writable_hooks;
		char *name;
		char *email;
		bool seed_host_identity; /* true */
		bool readonly;
		bool strip_attribution; /* true */
		char **strip_attribution_patterns;
		char **protected_branches; /* main, master */
	} git;

	struct {
		char **protected_paths; /* the base list; see config_protected_paths() */
		char **additional_protected_paths;
		char **writable_paths;
		bool disable_protection;
		bool host_immutable;  /* true */
		bool secrets_on_host; /* true: known credentials become placeholders + the proxy */
		char **secret_paths;
		bool reduce_kernel_surface;
		bool reduce_kernel_surface_strict;
	} security;

	struct {
		enum tz_mode mode; /* host */
		char *name;        /* IANA name for TZ_MODE_FIXED */
	} timezone;

	struct {
		bool enabled;
		bool auto_pause_on_high;    /* true */
		bool auto_kill_on_critical; /* true */
		bool forensics_on_kill;
		enum one_liner_action reverse_shell_one_liners; /* critical */
		int poll_interval_sec;                          /* 2 */
		double file_read_threshold_mb;                  /* 50 */
		double file_read_rate_mb_per_sec;               /* 10 */
		int audit_log_retention_days;                   /* 30 */
		int export_level;                               /* index: warning */
		char *on_finding;
		char *on_finding_url;
		bool syslog;
		char *metrics_dir;
		int process_count_threshold;      /* 1000; 0: off */
		int process_spawn_rate_threshold; /* 200 a poll interval; 0: off */
		struct {
			bool enabled;
			int rate_limit_per_second; /* 100 */
			int dns_query_threshold;   /* 100 per minute */
			bool log_dns_queries;      /* true */
		} nft;
	} monitoring;

	struct {
		char *gtfobins_source;
		char *gtfobins_dir;
		char *sigma_source;
		char *sigma_dir;
	} detection;

	struct {
		char *profile; /* [defaults] profile: used when no --profile is given */
		char **forward_env;
		struct config_env *environment;
		size_t n_environment;
		struct config_env *env_commands;
		size_t n_env_commands;
		char *env_command_timeout; /* "30s" */
		int64_t env_command_timeout_sec;
	} defaults;

	/* The profile that was applied (NULL: none). */
	char *profile;

	/* Where each key's value came from, indexed like config_keys(): NULL for the built-in
	 * default, else "FILE:LINE". Use config_origin(). */
	char **origins;
};

/* The key table, for 'coi config show' and the generated documentation. */
enum config_type {
	CONFIG_STRING,
	CONFIG_BOOL,
	CONFIG_INT,
	CONFIG_FLOAT,
	CONFIG_STRV,
	CONFIG_ENUM,    /* a string from config_key.allowed */
	CONFIG_ENV,     /* a table of NAME = "value" */
	CONFIG_MOUNTS,  /* array of {host, container, readonly, shift} */
	CONFIG_HOSTS,   /* array of {ip, hostnames, ports} */
	CONFIG_PORTS,   /* array of integers 1-65535 */
	CONFIG_DOMAINS, /* array of allowlist entries */
	CONFIG_IPV4_LIST,
	CONFIG_CIDR_LIST,   /* array of IPv4 networks "a.b.c.d/n" (or addresses) */
	CONFIG_DURATION,    /* "30s", "2h30m" */
	CONFIG_SOCKETS,     /* array of {host, container, env} */
	CONFIG_PORT_MAP,    /* array of {name, container, host, listen} */
	CONFIG_CREDENTIALS, /* array of {bundle} or {host, container, mode} */
	CONFIG_PROMPTS,     /* table of NAME = "text" or NAME = { file = "path" } */
	CONFIG_SECRETS,     /* array of {builtin, ...} or {name, env|file|command, hosts, ...} */
	_CONFIG_TYPE_MAX,
};

/* What a CONFIG_STRING holds when Incus or the kernel takes it: checked at load, so a mistake is
 * named with its file:line:column instead of failing a start. */
enum config_format {
	CONFIG_FORMAT_ANY,
	CONFIG_FORMAT_SIZE,          /* "10GiB", "512MiB", "2GB" (util/units.h) */
	CONFIG_FORMAT_SIZE_PERCENT,  /* a size, or "50%" of the host's */
	CONFIG_FORMAT_RATE,          /* bytes per second as a size, or "1000iops" */
	CONFIG_FORMAT_CPUS,          /* "2" (a count) or "0-1,3" (those CPUs) */
	CONFIG_FORMAT_CPU_ALLOWANCE, /* "50%" (a weight) or "25ms/100ms" (a hard cap) */
	CONFIG_FORMAT_WORD,          /* lowercase letters: "high" */
	_CONFIG_FORMAT_MAX,
};
/* "a size such as \"10GiB\"", ..., for messages and the documentation; NULL for ANY. */
const char *config_format_to_string(enum config_format f);

enum config_trust {
	CONFIG_TRUST_ALWAYS,       /* may be set from any file */
	CONFIG_TRUST_TRUSTED_ONLY, /* weakens isolation: from a project file only once approved */
	CONFIG_TRUST_IF_WEAKENING, /* only values that weaken isolation need approval (e.g.
	                              mode=open) */
};

/* The most entries of a list or table key, unless the key says fewer: no session needs more,
 * and the loader stays fast on hostile files (issue 16). */
#define CONFIG_ENTRIES_MAX 1024

struct config_key {
	const char *name; /* "network.mode" */
	enum config_type type;
	size_t offset;   /* of the field in struct coi_config */
	size_t offset_n; /* of its count (size_t), for MOUNTS, HOSTS, ENV and PORTS; for DURATION,
	                    of its value in whole seconds (int64_t), rounded up */
	const char *def; /* default as TOML text, NULL when unset */
	const char *allowed; /* the allowed values, "a|b|c", for ENUM and some STRING keys */
	enum config_trust trust;
	/* CONFIG_TRUST_IF_WEAKENING: which values weaken isolation, compared with the value in
	 * force: a TOML value ("true", "\"open\""), ">" (a larger number or a later allowed value),
	 * "-" (a list that drops an entry), "outside" (a mount outside the workspace), "changed"
	 * (any other value where one was set) or "limit" (a larger amount, or none, where one was
	 * set) */
	const char *weak;
	const char *description; /* one line */
	/* CONFIG_TRUST_TRUSTED_ONLY: why an unapproved file may not set it, for the warning
	 * (NULL: "it would weaken isolation") */
	const char *why;
	/* CONFIG_INT: the largest value (0: INT_MAX); a list or table of entries: the most entries,
	 * with those of earlier files (0: CONFIG_ENTRIES_MAX), nested lists included */
	int max;
	enum config_format format; /* CONFIG_STRING */
	/* The test that shows the key's effect in a real session ("tests/e2e/NN-name.t"; a unit
	 * test, "tests/unit/...", where the effect is a pure translation), a file that names the
	 * key ("section.key"). tests/unit/config-proof.t fails when a key has none
	 * (NULL only while it is on that test's list of keys awaiting one) or the file does not
	 * name it. */
	const char *proof;
};

/* A Go duration ("45s", "90m", "1h30m", "1.5h", "250ms"; "" and "0" are 0) in whole seconds,
 * rounded up so that a positive duration never reads as none. -EINVAL when malformed, -ERANGE
 * beyond Go's limit (about 292 years). */
int config_duration_seconds(const char *s, int64_t *ret);

/* Keys and sections of the original that coi does not act on: the loader warns about them (with
 * why, or "yet" when why is NULL) and ignores them. For the documentation. */
struct config_unsupported {
	const char *name;
	const char *why;
};
const struct config_unsupported *config_unsupported_keys(size_t *ret_n);

/* The table, in documentation order; *ret_n gets the count. */
const struct config_key *config_keys(size_t *ret_n);
const struct config_key *config_key_find(const char *name);
const char *config_type_to_string(enum config_type t);

/* The built-in credential bundles ([[credentials]] bundle = "NAME"), NULL-terminated; the files
 * of bundle name, or NULL when there is no such bundle. */
const struct config_bundle_file *config_bundle_files(void);
bool config_bundle_exists(const char *name);

/* The built-in secrets, ended by an entry whose name is NULL; the one named name, or NULL. */
const struct config_secret_builtin *config_secret_builtins(void);
const struct config_secret_builtin *config_secret_builtin_find(const char *name);

/* The secrets a session keeps on the host: [[secrets]], and with security.secrets_on_host the
 * built-ins that forward_env (by variable), [tool] copy_credentials and [[credentials]] bundles
 * (by tool) imply and [[secrets]] does not already name. *ret_env gets the forward_env names the
 * secrets take over (their values must not be copied in); *ret_login whether the tool's copied
 * login is taken over. Entries are deep copies (config_secrets_free). */
int config_secrets_effective(const struct coi_config *c, struct config_secret **ret, size_t *ret_n,
                             char ***ret_env, bool *ret_login, struct coi_error *err);
void config_secrets_free(struct config_secret *s, size_t n);

/* The prompt named name, or NULL. */
const struct config_prompt *config_prompt_find(const struct coi_config *c, const char *name);
/* The text of prompt p: its string, or the content of its file, read now (a regular file when
 * p->root is set, which it must resolve inside; at most max bytes; no NUL byte; final newlines
 * dropped, as $(cat FILE) does). An empty prompt is an error. */
int config_prompt_read(const struct config_prompt *p, size_t max, char **ret,
                       struct coi_error *err);
/* config_prompt_read() of the prompt named name. An unknown name is -ENOENT, the message naming
 * the nearest known name and listing them all. */
int config_prompt_text(const struct coi_config *c, const char *name, size_t max, char **ret,
                       struct coi_error *err);

/* Parse one allowed_domains entry. */
int config_domain_parse(const char *entry, struct config_domain *ret, struct coi_error *err);
void config_domain_release(struct config_domain *d);
