/* SPDX-License-Identifier: MIT */
/* keys.c: the key table (section.key -> type -> field -> default -> trust class) and the code that
 * moves a value between a TOML value, its field in struct coi_config and JSON. The table is the
 * single source for defaults, 'coi config show' and the documentation's configuration reference. */
#include "config/keys.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/settings.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hostname.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/units.h"

#define F(field) offsetof(struct coi_config, field)
#define AW       CONFIG_TRUST_ALWAYS
#define TO       CONFIG_TRUST_TRUSTED_ONLY
#define IW       CONFIG_TRUST_IF_WEAKENING
/* the test that shows a key's effect (config.h) */
#define PROOF(file)      .proof = "tests/e2e/" file
#define PROOF_UNIT(file) .proof = "tests/unit/" file
#define K(n, t, field, d, tr, desc, ...)                                         \
	{                                                                        \
		.name = n, .type = t, .offset = F(field), .def = d, .trust = tr, \
		.description = desc, __VA_ARGS__                                 \
	}

#define DEFAULT_PROTECTED                                                                        \
	"[\".git/hooks\", \".git/config\", \".git/config.worktree\", \".git/info/attributes\", " \
	"\".husky\", \".vscode\", \".coi\", \".claude/settings.json\", "                         \
	"\".claude/settings.local.json\", \".codex/config.toml\"]"
/* Names only, no resolver: the container's DNS goes to coi's DNS filter (a resolver's address
 * would let DNS over TLS or HTTPS past it). */
#define DEFAULT_DOMAINS                                                            \
	"[\"registry.npmjs.org\", \"npm.pkg.github.com\", \"api.anthropic.com\", " \
	"\"platform.claude.com\"]"

/* clang-format off */
static const struct config_key keys[] = {
	K("sockets", CONFIG_SOCKETS, sockets, NULL, TO, "[[sockets]]: host unix sockets forwarded into the container, owned by the code user; env names a variable set to the container path", .offset_n = F(n_sockets), PROOF("46-forward.t")),
	K("credentials", CONFIG_CREDENTIALS, credentials, NULL, TO, "[[credentials]]: host files copied (not mounted) into the container, owned by the code user, mode 0600 unless given; or a built-in bundle: claude, codex, ollama", .offset_n = F(n_credentials), PROOF("46-forward.t")),
	K("secrets", CONFIG_SECRETS, secrets, NULL, TO, "[[secrets]]: credentials that stay on the host: the container gets a placeholder, the session's proxy puts the value into requests to 'hosts' only; { builtin = \"anthropic|claude|openai|codex|gemini|github\" } or { name, env|file+field|command, hosts, header, format, basic_user, container_env|container_file|git, refresh_* } (docs/security.md)", .offset_n = F(n_secrets), .why = "a repository's secrets would decide which hosts your credentials are sent to", PROOF("70-secrets.t")),
	K("prompts", CONFIG_PROMPTS, prompts, NULL, TO, "[prompts]: named prompts for 'coi run --prompt-name NAME': NAME = \"text\" or NAME = { file = \"path\" }, a path relative to the file that sets it (from a project file, it must lead to a file inside the project)", .offset_n = F(n_prompts), .why = "a repository's prompts would run unattended as if they were yours", PROOF("43-prompt.t")),

	K("container.image", CONFIG_STRING, container.image, "\"coi-default\"", AW, "Incus image alias to launch", PROOF("65-health-checks.t")),
	K("container.persistent", CONFIG_BOOL, container.persistent, "false", AW, "keep the container after the session and reuse it next time", PROOF("64-session-keys.t")),
	K("container.storage_pool", CONFIG_STRING, container.storage_pool, NULL, AW, "storage pool for containers and builds (unset: Incus' default)", PROOF("62-progress.t")),
	K("container.session_name", CONFIG_STRING, container.session_name, NULL, TO, "another identity for this workspace: its containers (coi-<hash of the path and the name>-<slot>), slots and persistent container are its own", PROOF("64-session-keys.t")),
	K("container.shutdown_timeout", CONFIG_INT, container.shutdown_timeout, "60", AW, "seconds of grace before a shutdown is forced", PROOF("56-detach-limits.t")),
	K("container.ready_timeout", CONFIG_INT, container.ready_timeout, "30", AW, "seconds to wait for the container to run commands and for its network to be up (its address, route and resolver); then the start fails", PROOF("64-session-keys.t")),
	K("container.warm", CONFIG_INT, container.warm, "0", TO, "containers kept booted for this workspace, so that the next ephemeral session (coi run; coi shell when not persistent) claims one instead of starting cold (0-4): each is made exactly as a cold start's for this workspace (same image, devices, protected paths, limits), its network blocked until claimed, the files of the code user's home that follow from the config written; a changed config, git directory, image or text of those files, or a workspace or git directory made again at the same path, means none matches and it is removed; coi clean removes them, and coi build those of the image it rebuilt; coi persist refuses them (no session has one yet; a claimed one starts ephemeral)", .max = 4, .why = "a repository's config would keep containers running on your machine after its sessions", PROOF("94-warm.t")),
	K("container.docker", CONFIG_BOOL, container.docker, "false", IW, "allow Docker inside the container (nesting, and Incus' default seccomp policy so it can mount): off by default, a weaker stance: container root can then get past the read-only protected paths", .weak = "true", PROOF("57-kernel-surface.t")),
	K("container.stale_base_check", CONFIG_STRING, container.stale_base_check, "\"warn\"", AW, "when the session's image was built by coi from an older recipe than this coi's (coi build --force makes it anew): warn, error (refuse to start) or off", .allowed = "warn|error|off", PROOF("64-session-keys.t")),
	K("container.build.base", CONFIG_STRING, container.build.base, "\"coi-default\"", AW, "base of custom images (an image alias); for coi-default itself where the OS comes from: auto, debootstrap or REMOTE:NAME", PROOF_UNIT("build-plan.t")),
	K("container.build.script", CONFIG_STRING, container.build.script, NULL, TO, "build script, relative to the config file: a custom image named container.image, run as root on top of base", PROOF_UNIT("build-plan.t")),
	K("container.build.commands", CONFIG_STRV, container.build.commands, NULL, TO, "inline build commands (the script wins)", PROOF_UNIT("build-plan.t")),
	K("container.build.compression", CONFIG_STRING, container.build.compression, NULL, AW, "image compression: none, gzip, xz, ...", PROOF_UNIT("build-plan.t")),
	K("container.build.agents", CONFIG_STRV, container.build.agents, "[\"claude\", \"opencode\", \"codex\", \"gemini\"]", AW, "agents installed into the image", PROOF_UNIT("build-plan.t")),

	K("tool.name", CONFIG_STRING, tool.name, "\"claude\"", AW, "the agent: claude, opencode, pi, codex, omp, ..., or any other command", PROOF("44-shell.t")),
	K("tool.binary", CONFIG_STRING, tool.binary, NULL, AW, "executable that replaces the tool's binary", PROOF("63-tool-keys.t")),
	K("tool.permission_mode", CONFIG_ENUM, tool.permission_mode, "\"bypass\"", IW, "bypass the tool's permission prompts, or keep them", .allowed = "bypass|interactive", .weak = "\"bypass\"", PROOF("43-prompt.t")),
	K("tool.pre_launch", CONFIG_STRV, tool.pre_launch, NULL, TO, "shell commands run in the container before the agent (or coi run's command), in order, as code in the workspace with the session's environment; output on stderr, 5 minutes each; a failure is reported and the session goes on", PROOF("63-tool-keys.t")),
	K("tool.auto_context", CONFIG_BOOL, tool.auto_context, "true", AW, "tell the tool about its sandbox in its context file", PROOF("63-tool-keys.t")),
	K("tool.copy_credentials", CONFIG_BOOL, tool.copy_credentials, "false", TO, "copy the tool's own credential file from your home into the container (coi addition)", PROOF("44-shell.t")),
	K("tool.context_file", CONFIG_STRING, tool.context_file, NULL, TO, "a host file (up to 64 KiB) whose text replaces the generated ~/SANDBOX_CONTEXT.md (and what auto_context puts in the tool's own file)", PROOF("63-tool-keys.t")),
	K("tool.context_json", CONFIG_BOOL, tool.context_json, "false", AW, "also write ~/SANDBOX_CONTEXT.json, the same facts for programs (schema_version 1)", PROOF("63-tool-keys.t")),
	K("tool.context_json_file", CONFIG_STRING, tool.context_json_file, NULL, TO, "a host file of JSON (up to 1 MiB) written as ~/SANDBOX_CONTEXT.json instead of the generated one (implies context_json; not JSON: the start fails, naming the place)", PROOF("63-tool-keys.t")),
	K("tool.claude.model", CONFIG_STRING, tool.claude.model, NULL, AW, "the model Claude Code uses (it reads ANTHROPIC_MODEL, which coi sets in the session): an alias such as \"opus\" or a full name", PROOF("63-tool-keys.t")),
	K("tool.claude.effort_level", CONFIG_STRING, tool.claude.effort_level, NULL, AW, "Claude Code's effort level (it reads CLAUDE_CODE_EFFORT_LEVEL, which coi sets in the session; it wins over the settings files)", .allowed = "low|medium|high|xhigh|max|auto", PROOF("63-tool-keys.t")),
	K("tool.codex.model", CONFIG_STRING, tool.codex.model, NULL, AW, "the model Codex uses (codex -m MODEL)", PROOF("63-tool-keys.t")),
	K("tool.codex.reasoning_effort", CONFIG_STRING, tool.codex.reasoning_effort, NULL, AW, "Codex's reasoning effort (codex -c model_reasoning_effort=...): minimal, low, medium, high, xhigh, or what the model takes", .format = CONFIG_FORMAT_WORD, PROOF("63-tool-keys.t")),

	K("shell.use_tmux", CONFIG_BOOL, shell.use_tmux, "true", AW, "coi shell runs the agent inside tmux, so you can detach (Ctrl-b d) and coi attach; false: directly on your terminal, ending with it", PROOF("63-tool-keys.t")),

	K("paths.preserve_workspace_path", CONFIG_BOOL, paths.preserve_workspace_path, "false", AW, "mount the workspace at its host path instead of /workspace", PROOF("48-session-more.t")),

	K("incus.project", CONFIG_STRING, incus.project, "\"default\"", TO, "Incus project of every request ($COI_INCUS_PROJECT overrides)", PROOF("26-incus-config.t")),
	K("incus.group", CONFIG_STRING, incus.group, "\"incus-admin\"", TO, "the group whose members may use the Incus socket: coi health tells a user who may not to join it", PROOF_UNIT("health-cli.t")),
	K("incus.code_uid", CONFIG_INT, incus.code_uid, "1000", TO, "uid the session's commands run as and that owns the workspace inside (the host user is mapped to it); the image's user must have it: coi does not renumber it", PROOF("64-session-keys.t")),
	K("incus.code_user", CONFIG_STRING, incus.code_user, "\"code\"", TO, "name of the container user: HOME=/home/NAME, USER and LOGNAME", PROOF("64-session-keys.t")),
	K("incus.socket", CONFIG_STRING, incus.socket, NULL, TO, "the daemon's unix socket (unset: /var/lib/incus/unix.socket); $INCUS_SOCKET or $INCUS_DIR override it", PROOF("26-incus-config.t")),
	K("incus.remote_url", CONFIG_STRING, incus.remote_url, NULL, TO, "a remote Incus server or cluster, https://host:8443; $COI_INCUS_REMOTE overrides it, $INCUS_SOCKET or $INCUS_DIR choose the local socket instead", PROOF("25-incus-remote.t")),
	K("incus.client_cert", CONFIG_STRING, incus.client_cert, NULL, TO, "client certificate (PEM) for remote_url ($COI_INCUS_CLIENT_CERT overrides)", PROOF("25-incus-remote.t")),
	K("incus.client_key", CONFIG_STRING, incus.client_key, NULL, TO, "client key (PEM) for remote_url ($COI_INCUS_CLIENT_KEY overrides)", PROOF("25-incus-remote.t")),
	K("incus.server_cert", CONFIG_STRING, incus.server_cert, NULL, TO, "server certificate (PEM) to pin for remote_url ($COI_INCUS_SERVER_CERT overrides)", PROOF("25-incus-remote.t")),

	K("ssh.forward_agent", CONFIG_BOOL, ssh.forward_agent, "false", IW, "forward the host's SSH agent into the container", .weak = "true", PROOF("44-shell.t")),

	K("network.mode", CONFIG_ENUM, network.mode, "\"restricted\"", IW, "restricted, allowlist or open", .allowed = "restricted|allowlist|open", .weak = "\"open\"", PROOF("45-network.t")),
	K("network.block_private_networks", CONFIG_BOOL, network.block_private_networks, "true", IW, "restricted mode: refuse private (RFC 1918) addresses", .weak = "false", PROOF("45-network.t")),
	K("network.block_metadata_endpoint", CONFIG_BOOL, network.block_metadata_endpoint, "true", IW, "reject 169.254.0.0/16", .weak = "false", PROOF("45-network.t")),
	K("network.allow_local_network_access", CONFIG_BOOL, network.allow_local_network_access, "false", IW, "accept every private address", .weak = "true", PROOF("45-network.t")),
	K("network.allowed_domains", CONFIG_DOMAINS, network.allowed_domains, DEFAULT_DOMAINS, IW, "allowlist: host name, *.name (every name below it), IPv4 or CIDR, with optional :port, :p1,p2 or :lo-hi; a name's addresses are reachable once the container resolved it", .weak = "+", .max = 512, PROOF("45-network.t")),
	K("network.dns_min_ttl", CONFIG_INT, network.dns_min_ttl, "60", IW, "allowlist: seconds an allowed name's addresses stay reachable after an answer at least (a shorter TTL is raised to this, a longer one kept up to an hour; 10 s of grace are added): clients that keep an answer longer than its TTL still connect (0..86400; 0: the answer's own TTL)", .weak = ">", .max = 86400, PROOF("84-dns-filter.t")),
	K("network.use_sudo", CONFIG_BOOL, network.use_sudo, "true", AW, "without CAP_NET_ADMIN (not root), apply the network policy with 'sudo -n nft'; false: such a session with a policy to apply refuses to start", PROOF("64-session-keys.t")),
	K("network.allowed_networks", CONFIG_CIDR_LIST, network.allowed_networks, NULL, IW, "IPv4 networks (\"100.64.0.0/10\", or an address) the container may reach in restricted and allowlist mode despite the default refusals: the host's own addresses, the special-purpose ranges (100.64.0.0/10, 198.18.0.0/15, ...), private and metadata ranges (within allowed_ports, if set; the bridge subnet stays allow_local_network_access's)", .weak = "+", .max = 64, PROOF("45-network.t")),
	K("network.dns_servers", CONFIG_IPV4_LIST, network.dns_servers, NULL, TO, "the resolvers coi's DNS filter asks (the container's DNS reaches no other; unset: the host's resolvers in allowlist mode, the bridge's DNS otherwise)", .max = 64, PROOF("84-dns-filter.t")),
	K("network.allowed_ports", CONFIG_PORTS, network.allowed_ports, NULL, TO, "global cap on egress ports", .offset_n = F(network.n_allowed_ports), .max = 64, PROOF("45-network.t")),
	K("network.hosts", CONFIG_HOSTS, network.hosts, NULL, TO, "static /etc/hosts entries, answered by coi's DNS filter and reachable (on ports, else allowed_ports) in every mode", .offset_n = F(network.n_hosts), .max = 64, PROOF("45-network.t")),

	K("mounts.default", CONFIG_MOUNTS, mounts, NULL, IW, "extra bind mounts: {host, container, readonly, shift}", .offset_n = F(n_mounts), .weak = "outside", PROOF("47-mounts.t")),

	K("ports.pool", CONFIG_INT, ports.pool, "0", IW, "publish this many ports (0-10) on the host's 127.0.0.1, each the same number inside; COI_PORTS lists them", .weak = ">", .max = 10, PROOF("46-forward.t")),
	K("ports.map", CONFIG_PORT_MAP, ports.map, NULL, TO, "[[ports.map]]: publish container port 'container' on listen:host (host unset: allocated like the pool; listen \"127.0.0.1\" unless given); COI_PORT_<NAME> holds the host port", .offset_n = F(ports.n_map), PROOF("46-forward.t")),

	K("limits.cpu.count", CONFIG_STRING, limits.cpu.count, NULL, IW, "CPUs the container may use (Incus' limits.cpu): a count, or a list such as \"0-1,3\"", .weak = "changed", .format = CONFIG_FORMAT_CPUS, PROOF("49-limits.t")),
	K("limits.cpu.allowance", CONFIG_STRING, limits.cpu.allowance, "\"50%\"", IW, "the container's CPU weight when the host is busy (\"50%\": half of a default group's, so the host's own work comes first), or a hard cap such as \"25ms/100ms\"; \"\" for Incus' default", .weak = "limit", .format = CONFIG_FORMAT_CPU_ALLOWANCE, PROOF("59-limits-default.t")),
	K("limits.cpu.priority", CONFIG_INT, limits.cpu.priority, NULL, AW, "CPU priority against other containers, 0-10 (Incus' limits.cpu.priority, 10 when unset; it moves the weight little, allowance sets it)", .max = 10, PROOF("59-limits-default.t")),
	K("limits.memory.limit", CONFIG_STRING, limits.memory.limit, "\"50%\"", IW, "memory the container may use: a share of the host's (\"50%\") or a size (\"4GiB\"); past it the kernel reclaims, then ends the largest process inside; \"\" for none", .weak = "limit", .format = CONFIG_FORMAT_SIZE_PERCENT, PROOF("49-limits.t")),
	K("limits.memory.enforce", CONFIG_STRING, limits.memory.enforce, "\"hard\"", IW, "hard: the memory limit always holds; soft: only while the host is short of memory (so a runaway takes the host's memory first)", .allowed = "hard|soft", .weak = "\"soft\"", PROOF("59-limits-default.t")),
	K("limits.memory.swap", CONFIG_STRING, limits.memory.swap, "\"true\"", AW, "whether the container's memory may be swapped out (Incus' limits.memory.swap)", .allowed = "true|false", PROOF("59-limits-default.t")),
	K("limits.disk.read", CONFIG_STRING, limits.disk.read, NULL, IW, "read limit of the root disk (its limits.read), where the storage pool has a block device to throttle", .weak = "limit", .format = CONFIG_FORMAT_RATE, PROOF("59-limits-default.t")),
	K("limits.disk.write", CONFIG_STRING, limits.disk.write, NULL, IW, "write limit of the root disk (its limits.write), where the storage pool has a block device to throttle", .weak = "limit", .format = CONFIG_FORMAT_RATE, PROOF("59-limits-default.t")),
	K("limits.disk.max", CONFIG_STRING, limits.disk.max, NULL, IW, "read and write limit of the root disk together (its limits.max)", .weak = "limit", .format = CONFIG_FORMAT_RATE, PROOF("59-limits-default.t")),
	K("limits.disk.priority", CONFIG_INT, limits.disk.priority, NULL, AW, "disk I/O priority against other containers, 0-10 (Incus' limits.disk.priority, 5 when unset); the host needs an I/O scheduler with weights (blkio.weight or io.weight), else Incus refuses to start the container", .max = 10, PROOF("59-limits-default.t")),
	K("limits.disk.size", CONFIG_STRING, limits.disk.size, "\"10GiB\"", IW, "size of the container's root disk, image included: a runaway fills it, not the storage pool every container and image shares (a pool driver with quotas: btrfs, zfs, lvm; a dir pool without project quotas ignores it); \"\" for none", .weak = "limit", .format = CONFIG_FORMAT_SIZE, PROOF("59-limits-default.t")),
	K("limits.disk.tmpfs_size", CONFIG_STRING, limits.disk.tmpfs_size, NULL, AW, "mount a RAM-backed /tmp of this size (it counts against the memory limit)", .format = CONFIG_FORMAT_SIZE, PROOF("59-limits-default.t")),
	K("limits.runtime.max_duration", CONFIG_DURATION, limits.runtime.max_duration, NULL, IW, "wall-clock cap of a session, e.g. \"2h\"; a detached coi shell session is ended by its supervisor, which acts only on the container it was started for", .offset_n = F(limits.runtime.max_duration_sec), .weak = "limit", PROOF("49-limits.t")),
	K("limits.runtime.max_processes", CONFIG_INT, limits.runtime.max_processes, "4096", IW, "processes and threads the container may hold at once (Incus' limits.processes): a fork bomb stops there; 0 for none", .weak = "limit", PROOF("49-limits.t")),
	K("limits.runtime.auto_stop", CONFIG_BOOL, limits.runtime.auto_stop, "true", IW, "end the session at max_duration (false: only warn; for a detached session, in its audit log)", .weak = "false", PROOF("49-limits.t")),
	K("limits.runtime.stop_graceful", CONFIG_BOOL, limits.runtime.stop_graceful, "true", AW, "stop gracefully at max_duration: shutdown_timeout seconds of grace, then forced", PROOF("64-session-keys.t")),

	K("git.writable_hooks", CONFIG_BOOL, git.writable_hooks, "false", TO, "let the container write .git/hooks", PROOF("42-protect.t")),
	K("git.name", CONFIG_STRING, git.name, NULL, TO, "git user.name in the container", PROOF("88-git-keys.t")),
	K("git.email", CONFIG_STRING, git.email, NULL, TO, "git user.email in the container", PROOF("88-git-keys.t")),
	K("git.seed_host_identity", CONFIG_BOOL, git.seed_host_identity, "true", TO, "what name and email leave unset is your own (user.name, user.email of ~/.gitconfig)", PROOF("88-git-keys.t")),
	K("git.readonly", CONFIG_BOOL, git.readonly, "false", IW, "the workspace's git directories read-only as a whole (no commit inside)", .weak = "false", PROOF("88-git-keys.t")),
	K("git.strip_attribution", CONFIG_BOOL, git.strip_attribution, "true", AW, "a commit-msg hook inside takes AI co-author trailers and \"Generated with\" lines out of commit messages (git's system core.hooksPath inside; the project's own hooks still run)", PROOF("88-git-keys.t")),
	K("git.strip_attribution_patterns", CONFIG_STRV, git.strip_attribution_patterns, NULL, TO, "extended regular expressions (any case) of the lines to take out, instead of the built-in ones", PROOF("88-git-keys.t")),
	K("git.protected_branches", CONFIG_STRV, git.protected_branches, "[\"main\", \"master\"]", IW, "branches of the workspace's repository the agent cannot move, delete or rename (their ref files read-only; pushing to a remote is not limited)", .weak = "-", PROOF("88-git-keys.t")),

	K("security.protected_paths", CONFIG_STRV, security.protected_paths, DEFAULT_PROTECTED, IW, "workspace paths mounted read-only", .weak = "-", PROOF("42-protect.t")),
	K("security.additional_protected_paths", CONFIG_STRV, security.additional_protected_paths, NULL, AW, "more read-only paths, added to protected_paths", PROOF("42-protect.t")),
	K("security.writable_paths", CONFIG_STRV, security.writable_paths, NULL, TO, "paths of protected_paths or additional_protected_paths to leave writable", PROOF("42-protect.t")),
	K("security.disable_protection", CONFIG_BOOL, security.disable_protection, "false", IW, "protect no paths", .weak = "true", PROOF("42-protect.t")),
	K("security.secrets_on_host", CONFIG_BOOL, security.secrets_on_host, "true", IW, "API keys named in forward_env (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY, GH_TOKEN, GITHUB_TOKEN) and a copied agent login stay on the host: the container gets placeholders and the session's proxy puts the values in (false: the values are copied in, as before)", .weak = "false", PROOF("70-secrets.t")),
	K("security.host_immutable", CONFIG_BOOL, security.host_immutable, "true", IW, "make protected paths immutable on the host during the session", .weak = "false", PROOF("42-protect.t")),
	K("security.secret_paths", CONFIG_STRV, security.secret_paths, NULL, IW, "workspace files and directories hidden for the whole session behind empty read-only mounts (the host's copy untouched): \".env\" or \"*.pem\" matches a name at any depth, \"dir/file\" a path from the workspace's root, \"dir/**\" a whole directory", .weak = "-", PROOF("58-secret-paths.t")),
	K("security.reduce_kernel_surface", CONFIG_BOOL, security.reduce_kernel_surface, "false", IW, "io_uring, bpf, userfaultfd and the keyring calls fail with EPERM, for container root too; [container] docker is then off", .weak = "false", PROOF("57-kernel-surface.t")),
	K("security.reduce_kernel_surface_strict", CONFIG_BOOL, security.reduce_kernel_surface_strict, "false", IW, "reduce_kernel_surface, and perf_event_open fails too (profilers such as perf stop working)", .weak = "false", PROOF("57-kernel-surface.t")),

	K("timezone.mode", CONFIG_ENUM, timezone.mode, "\"host\"", AW, "the session's TZ: the host's zone (from /etc/timezone or /etc/localtime), a fixed one (name), or UTC", .allowed = "host|fixed|utc", PROOF("64-session-keys.t")),
	K("timezone.name", CONFIG_STRING, timezone.name, NULL, AW, "IANA zone for mode fixed, e.g. \"Europe/Warsaw\"", PROOF("64-session-keys.t")),

	K("monitoring.enabled", CONFIG_BOOL, monitoring.enabled, "true", IW, "watch processes, files and network from the host; a HIGH finding freezes the session (coi unfreeze resumes it), a CRITICAL one stops and deletes it (false: only the session timers and the DNS filter run)", .weak = "false", PROOF("54-monitor-session.t")),
	K("monitoring.auto_pause_on_high", CONFIG_BOOL, monitoring.auto_pause_on_high, "true", IW, "freeze the container on a HIGH finding (false: only alert)", .weak = "false", PROOF("54-monitor-session.t")),
	K("monitoring.auto_kill_on_critical", CONFIG_BOOL, monitoring.auto_kill_on_critical, "true", IW, "stop and delete the container on a CRITICAL finding (false: only alert)", .weak = "false", PROOF("54-monitor-session.t")),
	K("monitoring.forensics_on_kill", CONFIG_BOOL, monitoring.forensics_on_kill, "false", IW, "before a CRITICAL kill deletes the container, copy it (stopped) to coi-forensics-NAME-TIME for examination", .weak = "false", PROOF("54-monitor-session.t")),
	K("monitoring.reverse_shell_one_liners", CONFIG_ENUM, monitoring.reverse_shell_one_liners, "\"critical\"", IW, "severity of interpreter one-liners with a network indicator", .allowed = "critical|warn|off", .weak = ">", PROOF("54-monitor-session.t")),
	K("monitoring.poll_interval_sec", CONFIG_INT, monitoring.poll_interval_sec, "2", IW, "seconds between samples of I/O, sockets, process count and /tmp (1..3600; process starts and refused packets are events, seen at once)", .weak = ">", PROOF("54-monitor-session.t")),
	K("monitoring.file_read_threshold_mb", CONFIG_FLOAT, monitoring.file_read_threshold_mb, "50.0", IW, "MB leaving the container (counted by the kernel) beyond which it is a HIGH finding at the rate below, and one connection's total that is a WARNING; block I/O of that much within 5 samples is a record", .weak = ">", PROOF("80-monitor-corpus.t")),
	K("monitoring.file_read_rate_mb_per_sec", CONFIG_FLOAT, monitoring.file_read_rate_mb_per_sec, "10.0", IW, "the rate in MB/s at which leaving data (and block I/O) is held to the threshold", .weak = ">", PROOF("80-monitor-corpus.t")),
	K("monitoring.process_count_threshold", CONFIG_INT, monitoring.process_count_threshold, "1000", IW, "live processes in the container above which it is a WARNING (a runaway build); a fork bomb, over both thresholds with processes copying themselves generation after generation, is HIGH (0: off)", .weak = ">0", .max = 4194304, PROOF("80-monitor-corpus.t")),
	K("monitoring.process_spawn_rate_threshold", CONFIG_INT, monitoring.process_spawn_rate_threshold, "200", IW, "processes started and still running within one poll interval above which it is a WARNING, HIGH for a fork bomb (0: off)", .weak = ">0", .max = 4194304, PROOF("80-monitor-corpus.t")),
	K("monitoring.audit_log_retention_days", CONFIG_INT, monitoring.audit_log_retention_days, "30", IW, "days audit logs are kept (0: keep all)", .weak = "changed", PROOF("54-monitor-session.t")),
	K("monitoring.export_level", CONFIG_ENUM, monitoring.export_level, "\"warning\"", IW, "the lowest level of finding sent to on_finding, on_finding_url and syslog (repeats never are)", .allowed = "info|warning|high|critical", .weak = ">", PROOF("78-monitor-export.t")),
	K("monitoring.on_finding", CONFIG_STRING, monitoring.on_finding, NULL, TO, "a command run on the host (sh -c) for each finding as it happens, the finding as JSON on stdin; at most 4 at a time, each killed after 10 s", .why = "a repository's command would run on your host", PROOF("78-monitor-export.t")),
	K("monitoring.on_finding_url", CONFIG_STRING, monitoring.on_finding_url, NULL, TO, "an http(s) URL each finding is POSTed to as JSON as it happens (10 s at most each)", .why = "a repository could send your findings anywhere", PROOF("78-monitor-export.t")),
	K("monitoring.syslog", CONFIG_BOOL, monitoring.syslog, "false", IW, "send each finding to syslog as JSON (/dev/log, which journald serves too), never waiting", .weak = "false", PROOF("78-monitor-export.t")),
	K("monitoring.metrics_dir", CONFIG_STRING, monitoring.metrics_dir, NULL, TO, "a directory for a Prometheus text-format file per session, NAME.prom (for node_exporter's textfile collector), rewritten at most once a second and removed when the session ends", .why = "a repository could make coi write files where it chose", PROOF("78-monitor-export.t")),
	K("monitoring.nft.enabled", CONFIG_BOOL, monitoring.nft.enabled, "false", IW, "with [monitoring] enabled: nftables logs every new outbound connection (and DNS query) of the container to the monitor over NFLOG, so connections too short for the socket samples are recorded too", .weak = "false", PROOF("55-monitor-nft.t")),
	K("monitoring.nft.rate_limit_per_second", CONFIG_INT, monitoring.nft.rate_limit_per_second, "100", IW, "packets logged per second at most, for connections and for DNS queries each (1..10000)", .weak = "changed", .max = 10000, PROOF("55-monitor-nft.t")),
	K("monitoring.nft.dns_query_threshold", CONFIG_INT, monitoring.nft.dns_query_threshold, "100", IW, "DNS queries within a minute that are a HIGH finding (DNS tunnelling or exfiltration; 1..1000000): counted by the kernel whenever [monitoring] is enabled, and by the monitor from the queries [monitoring.nft] logs", .weak = ">", .max = 1000000, PROOF("55-monitor-nft.t")),
	K("monitoring.nft.log_dns_queries", CONFIG_BOOL, monitoring.nft.log_dns_queries, "true", IW, "log each DNS query (UDP port 53) as well, with the name asked for", .weak = "false", PROOF("55-monitor-nft.t")),

	K("detection.gtfobins_source", CONFIG_STRING, detection.gtfobins_source, "\"https://github.com/GTFOBins/GTFOBins.github.io.git\"", TO, "git URL 'coi rules update' clones the GTFOBins database from into gtfobins_dir", PROOF("79-monitor-rules.t")),
	K("detection.gtfobins_dir", CONFIG_STRING, detection.gtfobins_dir, "\"~/.coi/gtfobins\"", TO, "GTFOBins entries (a clone of the database, or files of your own) the monitor loads besides coi's own; reverse and bind shells become rules", .why = "a repository's rules could kill or freeze your sessions", PROOF("79-monitor-rules.t")),
	K("detection.sigma_source", CONFIG_STRING, detection.sigma_source, "\"https://github.com/SigmaHQ/sigma.git\"", TO, "git URL 'coi rules update' clones the Sigma rules from into sigma_dir", PROOF("79-monitor-rules.t")),
	K("detection.sigma_dir", CONFIG_STRING, detection.sigma_dir, "\"~/.coi/sigma\"", TO, "Sigma rules (linux process_creation) the monitor loads besides coi's own", .why = "a repository's rules could kill or freeze your sessions", PROOF("79-monitor-rules.t")),

	K("defaults.profile", CONFIG_STRING, defaults.profile, NULL, TO, "profile used when none is given", PROOF("85-hardened.t")),
	K("defaults.forward_env", CONFIG_STRV, defaults.forward_env, NULL, TO, "names of host environment variables passed to the container", PROOF("44-shell.t")),
	K("defaults.environment", CONFIG_ENV, defaults.environment, NULL, TO, "environment variables set in the container", .offset_n = F(defaults.n_environment), PROOF("48-session-more.t")),
	K("defaults.env_commands", CONFIG_ENV, defaults.env_commands, NULL, TO, "NAME = \"host command\": run on the host at each start (sh -c), its output without the final newline becomes NAME in the session; a failure stops the start", .offset_n = F(defaults.n_env_commands), PROOF("64-session-keys.t")),
	K("defaults.env_command_timeout", CONFIG_DURATION, defaults.env_command_timeout, "\"30s\"", AW, "time limit of each env_command (at most 1h); past it the start stops", .offset_n = F(defaults.env_command_timeout_sec), PROOF("64-session-keys.t")),
};
/* clang-format on */

const struct config_key *config_keys(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(keys);
	return keys;
}

const struct config_key *config_key_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

const char *config_type_to_string(enum config_type t)
{
	static const char *const names[_CONFIG_TYPE_MAX] = {
	        [CONFIG_STRING] = "string",
	        [CONFIG_BOOL] = "bool",
	        [CONFIG_INT] = "integer",
	        [CONFIG_FLOAT] = "number",
	        [CONFIG_STRV] = "array of strings",
	        [CONFIG_ENUM] = "string",
	        [CONFIG_ENV] = "table of strings",
	        [CONFIG_MOUNTS] = "array of tables {host, container, readonly, shift}",
	        [CONFIG_HOSTS] = "array of tables {ip, hostnames, ports}",
	        [CONFIG_PORTS] = "array of ports",
	        [CONFIG_DOMAINS] = "array of allowlist entries",
	        [CONFIG_IPV4_LIST] = "array of IPv4 addresses",
	        [CONFIG_CIDR_LIST] = "array of IPv4 networks",
	        [CONFIG_DURATION] = "duration",
	        [CONFIG_SOCKETS] = "array of tables {host, container, env}",
	        [CONFIG_PORT_MAP] = "array of tables {name, container, host, listen}",
	        [CONFIG_CREDENTIALS] = "array of tables {host, container, mode} or {bundle}",
	        [CONFIG_SECRETS] =
	                "array of tables {name, env|file|command, hosts, header, ...} or {builtin, ...}",
	        [CONFIG_PROMPTS] = "table of strings or {file}",
	};

	return t < _CONFIG_TYPE_MAX ? names[t] : "unknown";
}

const char *config_format_to_string(enum config_format f)
{
	static const char *const names[_CONFIG_FORMAT_MAX] = {
	        [CONFIG_FORMAT_SIZE] = "a size such as \"10GiB\" or \"512MB\"",
	        [CONFIG_FORMAT_SIZE_PERCENT] = "a size such as \"4GiB\", or a share of the host's "
	                                       "such as \"50%\"",
	        [CONFIG_FORMAT_RATE] = "bytes per second as a size such as \"10MiB\", or "
	                               "operations such as \"1000iops\"",
	        [CONFIG_FORMAT_CPUS] = "a number of CPUs such as \"2\", or CPUs such as \"0-1,3\"",
	        [CONFIG_FORMAT_CPU_ALLOWANCE] = "a weight such as \"50%\", or a cap such as "
	                                        "\"25ms/100ms\"",
	        [CONFIG_FORMAT_WORD] = "a word of lowercase letters such as \"high\"",
	};

	return f > CONFIG_FORMAT_ANY && f < _CONFIG_FORMAT_MAX ? names[f] : NULL;
}

/* --- Validation of single values --- */

/* --- Fields --- */

static void env_free(struct config_env *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].name);
		free(e[i].value);
	}
	free(e);
}

static void mounts_free(struct config_mount *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].host);
		free(m[i].container);
	}
	free(m);
}

static void hosts_free(struct config_host *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].ip);
		strv_free(h[i].hostnames);
		free(h[i].ports);
	}
	free(h);
}

void key_free(struct coi_config *c, size_t i)
{
	const struct config_key *k = &keys[i];

	switch (k->type) {
	case CONFIG_DURATION:
		*SECONDS(c, k) = 0;
		/* fall through */
	case CONFIG_STRING:
		free(*FIELD(c, k, char *));
		*FIELD(c, k, char *) = NULL;
		break;
	case CONFIG_STRV:
	case CONFIG_DOMAINS:
	case CONFIG_IPV4_LIST:
	case CONFIG_CIDR_LIST:
		*FIELD(c, k, char **) = strv_free(*FIELD(c, k, char **));
		break;
	case CONFIG_ENV:
		env_free(*FIELD(c, k, struct config_env *), *COUNT(c, k));
		*FIELD(c, k, struct config_env *) = NULL;
		*COUNT(c, k) = 0;
		break;
	case CONFIG_MOUNTS:
		mounts_free(*FIELD(c, k, struct config_mount *), *COUNT(c, k));
		*FIELD(c, k, struct config_mount *) = NULL;
		*COUNT(c, k) = 0;
		break;
	case CONFIG_HOSTS:
		hosts_free(*FIELD(c, k, struct config_host *), *COUNT(c, k));
		*FIELD(c, k, struct config_host *) = NULL;
		*COUNT(c, k) = 0;
		break;
	case CONFIG_PORTS:
		free(*FIELD(c, k, uint16_t *));
		*FIELD(c, k, uint16_t *) = NULL;
		*COUNT(c, k) = 0;
		break;
	case CONFIG_SOCKETS:
	case CONFIG_PORT_MAP:
	case CONFIG_CREDENTIALS:
	case CONFIG_SECRETS:
		forward_free(c, k);
		break;
	case CONFIG_PROMPTS:
		prompts_free(c);
		break;
	case CONFIG_BOOL:
	case CONFIG_INT:
	case CONFIG_FLOAT:
	case CONFIG_ENUM:
	case _CONFIG_TYPE_MAX:
		break;
	}
}

/* [defaults.environment]: later layers replace variables of the same name, keep the others. */
static int set_env(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                   const struct key_ctx *x, struct coi_error *err)
{
	struct config_env **env = FIELD(c, k, struct config_env *);
	size_t *n = COUNT(c, k);
	int r = key_want_type(x, k, v, TOML_TABLE, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.table.n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < v->u.table.n; i++) {
		const struct toml_kv *kv = &v->u.table.items[i];
		struct config_env *e = NULL;
		char *value;

		if (!key_plain_string(kv->value))
			return key_bad(x, k, kv->value, err,
			               "must map names to strings ('%s' is a %s)", kv->key,
			               toml_type_to_string(kv->value->type));
		if (!*kv->value->u.str.s && strcmp(k->name, "defaults.env_commands") == 0)
			return key_bad(x, k, kv->value, err, "has an empty command for '%s'",
			               kv->key);
		/* the names end up in a file the launcher's shell sources */
		if (!key_env_name_ok(kv->key))
			return key_bad(x, k, kv->value, err,
			               "has \"%s\", which is not a variable name (letters, "
			               "digits, '_')",
			               kv->key);
		for (size_t j = 0; j < *n && !e; j++)
			if (strcmp((*env)[j].name, kv->key) == 0)
				e = &(*env)[j];
		value = strdup(kv->value->u.str.s);
		if (!value)
			return coi_error_oom(err);
		if (!e) {
			struct config_env *ne = reallocarray(*env, *n + 1, sizeof(*ne));

			if (!ne || !(ne[*n].name = strdup(kv->key))) {
				if (ne)
					*env = ne;
				free(value);
				return coi_error_oom(err);
			}
			*env = ne;
			e = &ne[(*n)++];
			e->value = NULL;
		}
		free(e->value);
		e->value = value;
	}
	return key_check_entries(x, k, v, *n, err);
}

static int read_mount(const struct key_ctx *x, const struct config_key *k,
                      const struct toml_value *t, struct config_mount *m, struct coi_error *err)
{
	const struct toml_value *host = toml_table_get(t, "host");
	const struct toml_value *ctr = toml_table_get(t, "container");
	const struct toml_value *ro = toml_table_get(t, "readonly");
	const struct toml_value *shift = toml_table_get(t, "shift");

	if (t->type != TOML_TABLE)
		return key_bad(x, k, t, err, "must hold tables {host, container, readonly, shift}");
	for (size_t i = 0; i < t->u.table.n; i++)
		if (allowed_index("host|container|readonly|shift", t->u.table.items[i].key) < 0)
			return key_bad(
			        x, k, t->u.table.items[i].value, err,
			        "has an unknown field '%s' (known: host, container, readonly, shift)",
			        t->u.table.items[i].key);
	if (!host || !key_plain_string(host) || !*host->u.str.s)
		return key_bad(x, k, t, err, "needs a 'host' path in every mount");
	if (!ctr || !key_plain_string(ctr) || ctr->u.str.s[0] != '/')
		return key_bad(x, k, t, err, "needs an absolute 'container' path in every mount");
	if ((ro && ro->type != TOML_BOOL) || (shift && shift->type != TOML_BOOL))
		return key_bad(x, k, ro && ro->type != TOML_BOOL ? ro : shift, err,
		               "fields 'readonly' and 'shift' must be true or false");
	m->host = key_expand_path(host->u.str.s, x->workspace);
	m->container = path_clean(ctr->u.str.s);
	m->readonly = ro && ro->u.b;
	m->shift = shift ? shift->u.b : -1;
	return m->host && m->container ? 0 : coi_error_oom(err);
}

static int set_mounts(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                      const struct key_ctx *x, struct coi_error *err)
{
	struct config_mount *m;
	int r = key_want_type(x, k, v, TOML_ARRAY, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.array.n, err);
	if (r < 0)
		return r;
	m = calloc(v->u.array.n + 1, sizeof(*m));
	if (!m)
		return coi_error_oom(err);
	for (size_t i = 0; i < v->u.array.n; i++) {
		r = read_mount(x, k, v->u.array.items[i], &m[i], err);
		if (r < 0) {
			mounts_free(m, i + 1);
			return r;
		}
	}
	key_free(c, (size_t)(k - keys));
	*FIELD(c, k, struct config_mount *) = m;
	*COUNT(c, k) = v->u.array.n;
	return 0;
}

static int read_host(const struct key_ctx *x, const struct config_key *k,
                     const struct toml_value *t, struct config_host *h, struct coi_error *err)
{
	const struct toml_value *ip = toml_table_get(t, "ip");
	const struct toml_value *names = toml_table_get(t, "hostnames");
	const struct toml_value *ports = toml_table_get(t, "ports");
	int r;

	if (t->type != TOML_TABLE)
		return key_bad(x, k, t, err, "must hold tables {ip, hostnames, ports}");
	if (!ip || !key_plain_string(ip) || !key_ipv4_ok(ip->u.str.s))
		return key_bad(x, k, t, err, "needs an IPv4 address 'ip' in every entry");
	if (!names)
		return key_bad(x, k, t, err, "needs 'hostnames' in every entry");
	h->ip = strdup(ip->u.str.s);
	if (!h->ip)
		return coi_error_oom(err);
	r = key_read_strv(x, k, names, hostname_valid, "a host name", &h->hostnames, err);
	if (r >= 0 && ports)
		r = key_read_ports(x, k, ports, &h->ports, &h->n_ports, err);
	return r;
}

static int set_hosts(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                     const struct key_ctx *x, struct coi_error *err)
{
	struct config_host *h;
	int r = key_want_type(x, k, v, TOML_ARRAY, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.array.n, err);
	if (r < 0)
		return r;
	h = calloc(v->u.array.n + 1, sizeof(*h));
	if (!h)
		return coi_error_oom(err);
	for (size_t i = 0; i < v->u.array.n; i++) {
		r = read_host(x, k, v->u.array.items[i], &h[i], err);
		if (r < 0) {
			hosts_free(h, i + 1);
			return r;
		}
	}
	key_free(c, (size_t)(k - keys));
	*FIELD(c, k, struct config_host *) = h;
	*COUNT(c, k) = v->u.array.n;
	return 0;
}

static int set_scalar(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                      const struct key_ctx *x, struct coi_error *err)
{
	int r, idx;

	switch (k->type) {
	case CONFIG_BOOL:
		r = key_want_type(x, k, v, TOML_BOOL, err);
		if (r >= 0)
			*FIELD(c, k, bool) = v->u.b;
		return r;
	case CONFIG_INT:
		if (v->type != TOML_INTEGER || v->u.i < 0 || v->u.i > (k->max ? k->max : INT_MAX))
			return key_bad(x, k, v, err, "must be a whole number from 0 to %d",
			               k->max ? k->max : INT_MAX);
		*FIELD(c, k, int) = (int)v->u.i;
		return 0;
	case CONFIG_FLOAT:
		if (v->type == TOML_INTEGER && v->u.i >= 0)
			*FIELD(c, k, double) = (double)v->u.i;
		else if (v->type == TOML_FLOAT && v->u.f >= 0 && isfinite(v->u.f))
			*FIELD(c, k, double) = v->u.f;
		else
			return key_bad(x, k, v, err, "must be a number of 0 or more");
		return 0;
	case CONFIG_ENUM:
		r = key_want_type(x, k, v, TOML_STRING, err);
		if (r < 0)
			return r;
		idx = allowed_index(k->allowed, v->u.str.s);
		if (idx < 0)
			return key_bad(x, k, v, err, "must be one of: %s (not \"%s\")", k->allowed,
			               v->u.str.s);
		*FIELD(c, k, int) = idx;
		return 0;
	case CONFIG_STRING:
	case CONFIG_DURATION: {
		int64_t secs = 0;
		char *s;

		r = key_want_type(x, k, v, TOML_STRING, err);
		/* "" is "unset" for a key without a default, and "none" for a limit (a key with a
		 * format, whose description says so); any other key with a default needs a value */
		if (r >= 0 && v->u.str.len == 0 && k->def && k->format == CONFIG_FORMAT_ANY)
			r = key_bad(x, k, v, err,
			            "must not be empty (leave the key out for the default, %s)",
			            k->def);
		if (r >= 0)
			r = k->type == CONFIG_STRING ? key_check_string(x, k, v, err) : 0;
		if (r >= 0 && k->type == CONFIG_DURATION &&
		    config_duration_seconds(v->u.str.s, &secs) < 0)
			r = key_bad(x, k, v, err,
			            "must be a duration like \"30s\", \"5m\" or \"1h30m\"");
		if (r < 0)
			return r;
		if (k->type == CONFIG_DURATION)
			*SECONDS(c, k) = secs;
		s = v->u.str.len ? strdup(v->u.str.s) : NULL;
		if (v->u.str.len && !s)
			return coi_error_oom(err);
		free(*FIELD(c, k, char *));
		*FIELD(c, k, char *) = s;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

int key_set(struct coi_config *c, size_t i, const struct toml_value *v, const struct key_ctx *x,
            struct coi_error *err)
{
	const struct config_key *k = &keys[i];
	char **l = NULL;
	uint16_t *ports = NULL;
	size_t n = 0;
	int r;

	switch (k->type) {
	case CONFIG_STRV:
	case CONFIG_DOMAINS:
	case CONFIG_IPV4_LIST:
	case CONFIG_CIDR_LIST:
		r = key_read_strv(x, k, v, key_list_check(k), key_list_what(k), &l, err);
		if (r < 0)
			return r;
		key_free(c, i);
		*FIELD(c, k, char **) = l;
		return 0;
	case CONFIG_PORTS:
		r = key_read_ports(x, k, v, &ports, &n, err);
		if (r < 0)
			return r;
		key_free(c, i);
		*FIELD(c, k, uint16_t *) = ports;
		*COUNT(c, k) = n;
		return 0;
	case CONFIG_ENV:
		return set_env(c, k, v, x, err);
	case CONFIG_MOUNTS:
		return set_mounts(c, k, v, x, err);
	case CONFIG_HOSTS:
		return set_hosts(c, k, v, x, err);
	case CONFIG_SOCKETS:
	case CONFIG_PORT_MAP:
	case CONFIG_CREDENTIALS:
	case CONFIG_SECRETS:
		return forward_set(c, k, v, x, err);
	case CONFIG_PROMPTS:
		return prompts_set(c, k, v, x, err);
	case CONFIG_STRING:
	case CONFIG_BOOL:
	case CONFIG_INT:
	case CONFIG_FLOAT:
	case CONFIG_ENUM:
	case CONFIG_DURATION:
	case _CONFIG_TYPE_MAX:
		break;
	}
	return set_scalar(c, k, v, x, err);
}

/* --- The trust filter's comparison --- */

/* Whether a mount source stays in the workspace once symbolic links are followed: a project can
 * carry a link ("escape -> /") that turns a path inside into any host path. A source that does
 * not exist yet is judged by its text (the session resolves it again, and refuses the escape). */
static bool mount_inside(const char *host, const char *ws)
{
	_cleanup_free_ char *real = realpath(host, NULL), *real_ws = realpath(ws, NULL);

	if (!path_is_inside(host, ws))
		return false;
	return !real || !real_ws || path_is_inside(real, real_ws);
}

/* A limit's amount, to compare two: bytes (a share of the host's memory as bytes), operations, a
 * CPU weight or cap. kind tells them apart; 0: not comparable. */
static double limit_amount(const char *v, int *kind)
{
	uint64_t n;
	double a, b;
	char *end;

	*kind = 0;
	if (units_parse_size(v, &n) == 0)
		return *kind = 1, (double)n;
	a = strtod(v, &end);
	if (end != v && strcmp(end, "%") == 0)
		return *kind = 2, a;
	if (end != v && strcmp(end, "iops") == 0)
		return *kind = 3, a;
	if (end != v && sscanf(end, "ms/%lfms", &b) == 1 && b > 0)
		return *kind = 4, a / b;
	return 0;
}

/* weak = "limit": lifting a limit or raising it weakens; lowering it, or setting one where there
 * was none, does not. Amounts of different kinds ("4GiB" against "50%") count as a change. */
static bool limit_weakens(const struct coi_config *c, const struct coi_config *s,
                          const struct config_key *k)
{
	const char *old, *new;
	int ko, kn;
	double a, b;

	if (k->type == CONFIG_INT) {
		int o = *FIELD(c, k, int), n = *FIELD(s, k, int);

		return o > 0 && (n == 0 || n > o);
	}
	if (k->type == CONFIG_DURATION) {
		int64_t o = *SECONDS(c, k), n = *SECONDS(s, k);

		return o > 0 && (n == 0 || n > o);
	}
	old = *FIELD(c, k, char *);
	new = *FIELD(s, k, char *);
	if (!old)
		return false;
	if (!new)
		return true;
	a = limit_amount(old, &ko);
	b = limit_amount(new, &kn);
	if (ko == 2 && kn == 1 && k->format == CONFIG_FORMAT_SIZE_PERCENT) /* of the host's */
		a = a / 100 * (double)units_host_memory(), ko = 1;
	if (kn == 2 && ko == 1 && k->format == CONFIG_FORMAT_SIZE_PERCENT)
		b = b / 100 * (double)units_host_memory(), kn = 1;
	if (ko == 0 || ko != kn)
		return strcmp(old, new) != 0;
	return b > a;
}

static bool weakens_field(const struct coi_config *c, const struct coi_config *s,
                          const struct config_key *k, const struct key_ctx *x)
{
	if (strcmp(k->weak, ">0") == 0) /* a larger threshold, or 0 (off), where one was on */
		return *FIELD(c, k, int) != 0 &&
		       (*FIELD(s, k, int) == 0 || *FIELD(s, k, int) > *FIELD(c, k, int));
	if (strcmp(k->weak, ">") == 0) {
		if (k->type == CONFIG_FLOAT)
			return *FIELD(s, k, double) > *FIELD(c, k, double);
		return *FIELD(s, k, int) > *FIELD(c, k, int);
	}
	if (strcmp(k->weak, "-") == 0) {
		strv_foreach(e, *FIELD(c, k, char **))
			if (!strv_contains(*FIELD(s, k, char **), *e))
				return true;
		return false;
	}
	if (strcmp(k->weak, "+") == 0) {
		strv_foreach(e, *FIELD(s, k, char **))
			if (!strv_contains(*FIELD(c, k, char **), *e))
				return true;
		return false;
	}
	if (strcmp(k->weak, "limit") == 0)
		return limit_weakens(c, s, k);
	if (strcmp(k->weak, "changed") == 0) {
		/* a limit may be set where there was none; changing or lifting one needs approval
		 */
		if (k->type == CONFIG_INT)
			return *FIELD(c, k, int) != 0 && *FIELD(s, k, int) != *FIELD(c, k, int);
		return *FIELD(c, k, char *) && (!*FIELD(s, k, char *) ||
		                                strcmp(*FIELD(s, k, char *), *FIELD(c, k, char *)));
	}
	if (strcmp(k->weak, "outside") == 0) {
		for (size_t i = 0; i < *COUNT(s, k); i++)
			if (!x->workspace ||
			    !mount_inside((*FIELD(s, k, struct config_mount *))[i].host,
			                  x->workspace))
				return true;
		return false;
	}
	if (k->type == CONFIG_BOOL) {
		bool w = strcmp(k->weak, "true") == 0;

		return *FIELD(s, k, bool) == w && *FIELD(c, k, bool) != w;
	}
	if (k->type == CONFIG_ENUM) {
		char name[64];
		int w;

		snprintf(name, sizeof(name), "%.*s", (int)strlen(k->weak) - 2, k->weak + 1);
		w = allowed_index(k->allowed, name);
		return *FIELD(s, k, int) == w && *FIELD(c, k, int) != w;
	}
	return true;
}

int key_weakens(const struct coi_config *c, size_t i, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err)
{
	const struct config_key *k = &keys[i];
	struct coi_config scratch = {0};
	int r;

	if (k->trust == CONFIG_TRUST_ALWAYS)
		return 0;
	if (k->trust == CONFIG_TRUST_TRUSTED_ONLY)
		return 1;
	r = key_set(&scratch, i, v, x, err);
	if (r >= 0)
		r = weakens_field(c, &scratch, k, x);
	key_free(&scratch, i);
	return r;
}
