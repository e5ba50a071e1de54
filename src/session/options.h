/* SPDX-License-Identifier: MIT */
/* options.h: what a session is asked to do, as plain data (struct session_opts): the command
 * fills it from the configuration (session_opts_from_config()) or leaves the defaults
 * (session_opts_default()), and the pipeline reads only this, so it does not depend on how
 * settings are stored. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "incus/incus.h"
#include "util/netmode.h"

struct coi_config;
struct coi_error;
struct egress_set;
struct net_policy;

struct session_mount {
	char *host;      /* absolute host path */
	char *container; /* absolute path in the container */
	bool readonly;
};

struct session_env {
	char *name;
	char *value;
};

/* A host unix socket proxied into the container, owned by the code user (mode 0600). */
struct session_socket {
	char *device;    /* Incus device name; NULL: "coi-socket-<index>" */
	char *host;      /* absolute host path of the socket */
	char *container; /* absolute path in the container */
	char *env;       /* variable set to the container path, or NULL */
};

/* A container TCP port published on the host ([ports]). */
struct session_port {
	char *name;         /* the [[ports.map]] name; NULL for a pool port */
	char *env;          /* "COI_PORT_<NAME>", NULL for a pool port */
	char *listen;       /* host address, "127.0.0.1" */
	uint16_t container; /* 0 for a pool port: the same as host */
	uint16_t host;      /* 0: allocated at start (session_start fills it in) */
};

/* A host file copied (never mounted) into the container, owned by the code user. */
struct session_credential {
	char *host;
	char *container;
	int mode;
};

/* [limits], as Incus takes them: a NULL string, 0 or -1 leaves Incus' default. Sizes are bytes. */
struct session_limits {
	char *cpu;            /* limits.cpu: "2", "0-1,3" */
	char *cpu_allowance;  /* limits.cpu.allowance: "50%" (a weight) or "25ms/100ms" */
	int cpu_priority;     /* limits.cpu.priority 0-10, -1 */
	char *memory;         /* limits.memory: "50%" or bytes */
	char *memory_enforce; /* "hard", "soft" */
	char *memory_swap;    /* "true", "false" */
	int64_t processes;    /* limits.processes, 0 */
	int disk_priority;    /* limits.disk.priority 0-10, -1 */
	/* the root disk device */
	char *disk_size;              /* bytes */
	char *disk_read, *disk_write; /* bytes per second, or "Niops" */
	char *disk_max;
	uint64_t tmpfs_size; /* a RAM-backed /tmp of this many bytes, 0: none */
};

struct session_opts {
	char *workspace;              /* absolute host path of the project */
	bool unsafe_workspace;        /* --unsafe-workspace: a system directory or home allowed
	                                 (workspace.h) */
	char *image;                  /* image alias, "coi-default" */
	char *image_target;           /* the image it named when the command read it (its
	                                 stale-recipe check); NULL: not read (container.h) */
	char *storage_pool;           /* NULL: the profile's */
	char *profile;                /* Incus profile, NULL: "default" */
	char *session_name;           /* [container] session_name: another identity, or NULL */
	int slot;                     /* 0: pick the lowest free one */
	bool persistent;              /* keep the container at the end, reuse it next time */
	bool preserve_workspace_path; /* mount at the host path instead of /workspace */
	char *code_user;              /* "code" */
	int64_t code_uid;             /* 1000 */
	int64_t host_uid;             /* the invoking user, whose files the workspace holds */
	int64_t host_gid;
	int ready_timeout; /* seconds to wait for the container to run commands */
	/* [container] warm: containers kept booted for this workspace, claimed by the next
	 * ephemeral session (warm.h); warm_fill: this start makes one of them (warm.c's filler) */
	int warm;
	bool warm_fill;
	/* how to wait for the container's creation: a progress callback shows the image unpack
	 * on a slow pool (the daemon reports it once the wait passes a second); zero: plain */
	struct incus_wait create_wait;

	/* host protection */
	char **protected_paths; /* effective list, relative to the workspace */
	char **secret_paths;    /* patterns of what to hide (secrets.h) */
	bool host_immutable;    /* chattr +i the protected paths while the session runs */
	bool docker;            /* nesting for Docker inside, with a weaker mount stance */
	/* [git]: the identity of commits made inside (name, email; what is unset is the host's
	 * own when seed_host), the workspace's git directories read-only as a whole, the top
	 * repository's branches the agent may not move, the commit-msg hook of githooks.h */
	struct session_git {
		char *name, *email;
		bool seed_host;
		bool readonly;
		char **protected_branches;
		bool strip_attribution;
		char **strip_patterns; /* extended regular expressions; NULL: the built-in ones */
	} git;
	/* [security] reduce_kernel_surface: the system calls behind most kernel escapes fail with
	 * EPERM, for container root too */
	enum kernel_surface {
		KERNEL_SURFACE_FULL,
		KERNEL_SURFACE_REDUCED, /* io_uring, bpf, userfaultfd, the keyring */
		KERNEL_SURFACE_STRICT,  /* and perf_event_open */
	} kernel_surface;

	struct session_mount *mounts;
	size_t n_mounts;
	struct session_env *env; /* forwarded and fixed variables, values resolved */
	size_t n_env;
	size_t n_env_alloc;

	struct net_policy *net; /* the network policy (owned); NULL: none applied */
	bool nft_sudo;          /* [network] use_sudo: without CAP_NET_ADMIN, nft through sudo */

	/* the agent */
	char *tool;              /* "claude", ... (tool.h) */
	char *tool_binary;       /* tool.binary: replaces the tool's own */
	char **tool_options;     /* more options on the tool's command line ([tool.codex]) */
	bool bypass;             /* skip the agent's permission prompts */
	bool auto_context;       /* also write the context into the tool's own context file */
	char *context_file;      /* a host file that replaces the rendered SANDBOX_CONTEXT.md */
	bool context_json;       /* also write ~/SANDBOX_CONTEXT.json */
	char *context_json_file; /* a host file (JSON) that replaces the rendered one */
	char *resume_dir;        /* a saved session to restore into the container, or NULL */
	char **monitor_argv; /* extra arguments of `coi monitor NAME --daemon`; NULL: no monitor */
	char **monitor_env;  /* and "NAME=value" for its environment (what ps must not show) */
	char *credentials;   /* host path of the tool\'s credential file to copy in, or NULL */

	/* forwarding: sockets in (the SSH agent is one), ports out, credential files copied in */
	struct session_socket *sockets;
	size_t n_sockets;
	int port_pool; /* identity-mapped ports to allocate, 0-10 */
	struct session_port *ports;
	size_t n_ports;
	struct session_credential *creds;
	size_t n_creds;

	/* secrets kept on the host (session/credproxy.c): the container holds their placeholders,
	 * the supervisor's proxy puts the values into requests to their hosts */
	struct egress_set *secrets; /* owned, values read; NULL: none */
	int64_t *secret_expires;    /* per secret, seconds since the epoch; 0: unknown */

	struct session_limits limits;
};

void session_opts_release(struct session_opts *o);

/* The network mode of o->net; without a policy, restricted (the stricter reading: IPv6 off and
 * the context tells the agent so, although no rules are applied). */
enum net_mode session_net_mode(const struct session_opts *o);

/* Defaults for everything, for workspace (absolute): the values a missing config gives. */
int session_opts_default(const char *workspace, struct session_opts *ret, struct coi_error *err);
/* The loaded configuration into o (filled by session_opts_default first): every key a session
 * acts on, the network policy built and validated, then session_opts_check(). Forwarded
 * variables and credential files are read now; what is skipped becomes a warning in
 * *warnings. No container is involved. */
int session_opts_from_config(const struct coi_config *cfg, struct session_opts *o, char ***warnings,
                             struct coi_error *err);
/* One more NAME=value in the session's environment (copies). */
int session_opts_add_env(struct session_opts *o, const char *name, const char *value);
/* What no session can start without: a workspace (absolute), an image, a container user and a
 * tool, each set and not empty. session_start() checks it too. */
int session_opts_check(const struct session_opts *o, struct coi_error *err);
