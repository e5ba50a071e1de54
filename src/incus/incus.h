/* SPDX-License-Identifier: MIT */
/* incus.h: the native Incus client, the only code in coi that speaks to the daemon.
 *
 * Transport: HTTP/1.1 over the daemon's unix socket, or HTTPS with a TLS client certificate and a
 * pinned server certificate for a remote server, through libcurl. Every call carries the project
 * (?project=). Every response body is read into a capped buffer.
 *
 * Results: calls return 0 (or a count, or 1/0 for yes/no questions) on success and a negative errno
 * on failure, with the daemon's own text in err->msg. Incus error codes map as 404 -> -ENOENT,
 * 409 -> -EEXIST, 403 -> -EACCES, anything else -> -EPROTO; a daemon that cannot be reached gives
 * -ECONNREFUSED (or -EHOSTDOWN when the socket does not exist; never -ENOENT, so "not found" always
 * means the daemon said so), a response past the ceiling -E2BIG,
 * an operation that outlives its timeout -ETIMEDOUT, an interrupted call -ECANCELED.
 *
 * Exec, events and (remote) everything else work the same over the unix socket and over HTTPS;
 * websockets (exec streams, events) each use a connection of their own.
 *
 * Async operations are waited for inside the client: callers never see operation URLs. Progress of
 * a long operation (image unpack, publish) is handed to an optional callback as text + percent.
 * incus_interrupt() (async-signal-safe, for a SIGINT handler) aborts the transfer in flight and
 * cancels the operation being waited for.
 *
 * JSON is decoded into the typed structs below here and nowhere else (STYLE.md 2.5). The one
 * exception is incus_request(), the escape hatch for calls without a typed wrapper; it hands back
 * the response metadata as a jansson value.
 *
 * Ownership: every struct returned through ret_* is freed with its _free() function, which accepts
 * NULL. Strings inside are owned by the struct. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/cleanup.h"

struct buf;
struct coi_error;
struct incus_client;
typedef struct json_t json_t;

/* ---- client ---------------------------------------------------------------------------------- */

#define INCUS_RESPONSE_MAX_DEFAULT (64u << 20) /* 64 MiB: big enough for a recursion=2 list */
#define INCUS_OP_TIMEOUT_DEFAULT   600         /* seconds an operation may run before -ETIMEDOUT */

struct incus_client_opts {
	/* Unix socket of a local daemon. NULL: $INCUS_SOCKET, else $INCUS_DIR/unix.socket, else
	 * /var/lib/incus/unix.socket (see incus_default_socket()). */
	const char *socket_path;
	/* "https://host:8443" selects HTTPS instead of the socket; then the three PEM files below
	 * are required. The server certificate is pinned: its public key must match exactly. */
	const char *remote_url;
	const char *client_cert;
	const char *client_key;
	const char *server_cert;
	const char *project; /* NULL or "": "default" */
	size_t response_max; /* ceiling for one response body; 0: INCUS_RESPONSE_MAX_DEFAULT */
	int op_timeout;      /* seconds; 0: INCUS_OP_TIMEOUT_DEFAULT; < 0: no limit */
};

/* The socket path a client with socket_path == NULL uses; newly allocated, NULL on OOM. */
char *incus_default_socket(void);

/* The environment over o (the strings point into it), each variable that is set and not empty
 * replacing its option: $COI_INCUS_CLIENT_CERT, $COI_INCUS_CLIENT_KEY, $COI_INCUS_SERVER_CERT,
 * $COI_INCUS_PROJECT. The transport goes whole: $COI_INCUS_REMOTE sets remote_url; else
 * $INCUS_SOCKET or $INCUS_DIR choose the local socket (socket_path NULL, remote_url NULL: see
 * incus_default_socket()), over a configured remote too. The config fills o first
 * (session_incus_client_opts()), so the environment overrides [incus]. */
void incus_client_opts_apply_env(struct incus_client_opts *o);
/* incus_client_opts_apply_env() over empty options. */
void incus_client_opts_from_env(struct incus_client_opts *o);

/* Creates a client; no connection is made until the first call. */
int incus_client_new(const struct incus_client_opts *opts, struct incus_client **ret,
                     struct coi_error *err);
/* A new client (a connection of its own) to the same daemon and project as like, e.g. in a
 * forked child that must not share the parent's connection. */
int incus_client_new_like(const struct incus_client *like, struct incus_client **ret,
                          struct coi_error *err);
/* incus_client_new() with incus_client_opts_from_env(). */
int incus_client_new_from_env(struct incus_client **ret, struct coi_error *err);
struct incus_client *incus_client_free(struct incus_client *c);
DEFINE_CLEANUP(struct incus_client *, incus_client_free)
#define _cleanup_incus_client_ _cleanup_(incus_client_freep)

/* Put the client's project and local socket into the environment ($COI_INCUS_PROJECT,
 * $INCUS_SOCKET), so that a coi started from here (exec) reaches the same daemon and project.
 * 0 or a negative errno. */
int incus_client_export_env(const struct incus_client *c);

/* True when the client talks to a remote server over HTTPS (host-only features do not apply). */
bool incus_client_is_remote(const struct incus_client *c);
const char *incus_client_project(const struct incus_client *c);

/* Asks the call in flight (and any later one until incus_interrupt_reset()) to stop: transfers
 * abort and a waited-for operation is cancelled on the daemon. Async-signal-safe. */
void incus_interrupt(void);
void incus_interrupt_reset(void);
/* Installs SIGINT and SIGTERM handlers that call incus_interrupt() (for commands). */
void incus_interrupt_on_signals(void);
bool incus_interrupted(void);

/* Progress of an operation, as the daemon words it ("Unpacking image: 45%"). percent is -1 when
 * the daemon gives none. */
struct incus_progress {
	const char *text;
	int percent;
};
typedef void (*incus_progress_fn)(const struct incus_progress *p, void *userdata);

/* How to wait for an async operation; NULL everywhere means: the client's op_timeout, no
 * progress callback. */
struct incus_wait {
	incus_progress_fn progress;
	void *userdata;
	int timeout; /* seconds; 0: the client's op_timeout; < 0: no limit */
};

/* The generic call. path starts with "/1.0" and may carry a query; the project is added. body is
 * sent as JSON when not NULL. An async response is waited for; then *ret_metadata (if ret_metadata
 * is not NULL) is the operation's metadata, else the sync response's metadata (a new reference;
 * json_decref() it). Returns the HTTP status (200, 201, 202) on success. */
int incus_request(struct incus_client *c, const char *method, const char *path, const json_t *body,
                  const struct incus_wait *wait, json_t **ret_metadata, struct coi_error *err);

/* The daemon's /1.0: server version and whether we are trusted. */
struct incus_server {
	char *server_version; /* "6.0.4" */
	char *api_version;    /* "1.0" */
	bool trusted;         /* auth == "trusted" */
	char *server_name;
	char *driver_version;
};
int incus_server_get(struct incus_client *c, struct incus_server **ret, struct coi_error *err);
struct incus_server *incus_server_free(struct incus_server *s);
DEFINE_CLEANUP(struct incus_server *, incus_server_free)

/* ---- key/value maps: instance config, device properties ------------------------------------- */

struct incus_kv {
	char *key;
	char *value;
};

/* An ordered string map (Incus config maps are string -> string). Zero-initialise to start. */
struct incus_map {
	struct incus_kv *items;
	size_t n;
};

/* Sets (replacing) key; 0 or -ENOMEM. */
int incus_map_set(struct incus_map *m, const char *key, const char *value);
/* The value, or NULL when absent. */
const char *incus_map_get(const struct incus_map *m, const char *key);
void incus_map_clear(struct incus_map *m);

/* One device: its name and properties ("type" is one of them). */
struct incus_device {
	char *name;
	struct incus_map props;
};

struct incus_devices {
	struct incus_device *items;
	size_t n;
};

/* Adds (replacing) a device with the given key/value pairs, NULL-terminated:
 *	incus_devices_add(&d, "workspace", "type", "disk", "source", ws, "path", "/workspace",
 *NULL); */
int incus_devices_add(struct incus_devices *d, const char *name, ...) __attribute__((sentinel));
const struct incus_device *incus_devices_get(const struct incus_devices *d, const char *name);
/* A property of a device, or NULL. */
const char *incus_devices_prop(const struct incus_devices *d, const char *name, const char *key);
void incus_devices_clear(struct incus_devices *d);

/* ---- instances ------------------------------------------------------------------------------ */

enum incus_status {
	INCUS_STATUS_UNKNOWN,
	INCUS_STATUS_RUNNING,
	INCUS_STATUS_STOPPED,
	INCUS_STATUS_FROZEN,
	INCUS_STATUS_STARTING,
	INCUS_STATUS_STOPPING,
	INCUS_STATUS_ERROR,
	_INCUS_STATUS_MAX,
};
const char *incus_status_to_string(enum incus_status s);
enum incus_status incus_status_from_string(const char *s);

/* One network interface from the instance state. */
struct incus_nic {
	char *name;      /* "eth0" inside */
	char *host_name; /* the host-side veth, e.g. "veth1a2b3c4d"; NULL if none */
	char *ipv4;      /* first global IPv4 address, or NULL */
	char *ipv6;      /* first global IPv6 address, or NULL */
	char *hwaddr;
};

struct incus_instance_state {
	enum incus_status status;
	int64_t pid; /* host pid of init, 0 when not running */
	int64_t processes;
	int64_t memory_usage; /* bytes */
	struct incus_nic *nics;
	size_t n_nics;
};

/* The NIC named name ("eth0"), or NULL. */
const struct incus_nic *incus_state_nic(const struct incus_instance_state *s, const char *name);

struct incus_instance {
	char *name;
	char *type; /* "container" */
	char *description;
	char *created_at;
	char *location;
	enum incus_status status;
	bool ephemeral;
	bool stateful;
	char **profiles;
	struct incus_map config;          /* the instance's own config */
	struct incus_map expanded_config; /* with profiles applied */
	struct incus_devices devices;
	struct incus_devices expanded_devices;
	struct incus_instance_state *state; /* only from lists with INCUS_LIST_STATE, else NULL */
};

struct incus_instance *incus_instance_free(struct incus_instance *i);
DEFINE_CLEANUP(struct incus_instance *, incus_instance_free)
struct incus_instance_state *incus_instance_state_free(struct incus_instance_state *s);
DEFINE_CLEANUP(struct incus_instance_state *, incus_instance_state_free)

struct incus_instance_spec {
	const char *name;
	const char *image_alias;       /* source image (local alias or fingerprint) */
	const char *image_fingerprint; /* alternative to image_alias */
	const char *description;
	bool ephemeral;
	bool start;       /* start right after creation (one call, like 'incus launch') */
	char **profiles;  /* NULL: the daemon's default ("default") */
	bool no_profiles; /* send "profiles": [] */
	const struct incus_map *config;
	const struct incus_devices *devices;
	const char *storage_pool; /* root disk on this pool (adds a "root" device) */
	const char *type;         /* NULL: "container" */
};

/* Creates (and with spec->start, starts) an instance. A start refused because a NIC's pinned
 * ipv4.address is already on another instance's NIC fails with -EADDRINUSE (the instance is then
 * created, stopped); so do incus_instance_set_state's start and incus_instance_patch. */
int incus_instance_create(struct incus_client *c, const struct incus_instance_spec *spec,
                          const struct incus_wait *wait, struct coi_error *err);
/* Copies src (or src/snapshot) to a new instance dst (instance_only: no snapshots). */
int incus_instance_copy(struct incus_client *c, const char *src, const char *dst, bool ephemeral,
                        const struct incus_wait *wait, struct coi_error *err);
int incus_instance_get(struct incus_client *c, const char *name, struct incus_instance **ret,
                       struct coi_error *err);
/* 1 if the instance exists, 0 if not. */
int incus_instance_exists(struct incus_client *c, const char *name, struct coi_error *err);
int incus_instance_state(struct incus_client *c, const char *name,
                         struct incus_instance_state **ret, struct coi_error *err);

enum incus_list_flags {
	INCUS_LIST_STATE = 1 << 0, /* fill ->state (recursion=2, slower) */
};
/* Instances whose names start with prefix (NULL: all), sorted by name. *ret is a NULL-terminated
 * array; free with incus_instance_list_free(). Returns the count. */
int incus_instance_list(struct incus_client *c, const char *prefix, unsigned flags,
                        struct incus_instance ***ret, struct coi_error *err);
struct incus_instance **incus_instance_list_free(struct incus_instance **l);
DEFINE_CLEANUP(struct incus_instance **, incus_instance_list_free)

enum incus_action {
	INCUS_ACTION_START,
	INCUS_ACTION_STOP,
	INCUS_ACTION_RESTART,
	INCUS_ACTION_FREEZE,
	INCUS_ACTION_UNFREEZE,
	_INCUS_ACTION_MAX,
};
const char *incus_action_to_string(enum incus_action a);

/* Changes the state. For stop and restart, force kills at once; otherwise timeout is the grace
 * period in seconds (-1: the daemon's default, none). */
int incus_instance_set_state(struct incus_client *c, const char *name, enum incus_action action,
                             bool force, int timeout, struct coi_error *err);
/* Freezes a running instance: returns once its state says Frozen (not when the daemon's freeze
 * operation ends, up to a second later on a cgroup v1 host), or -ETIMEDOUT after timeout_ms. */
int incus_instance_freeze(struct incus_client *c, const char *name, int timeout_ms,
                          struct coi_error *err);
/* Deletes an instance; with force, stops it first (forced) when it is running. */
int incus_instance_delete(struct incus_client *c, const char *name, bool force,
                          struct coi_error *err);

/* PATCH: sets the given config keys and adds/replaces the given devices (whole devices). Either
 * may be NULL. PATCH cannot remove anything: see the calls below. */
int incus_instance_patch(struct incus_client *c, const char *name, const struct incus_map *config,
                         const struct incus_devices *devices, struct coi_error *err);
/* GET with the instance's ETag (etag of size bytes; "" when the daemon sent none), for
 * incus_instance_patch_if(). */
int incus_instance_get_etag(struct incus_client *c, const char *name, struct incus_instance **ret,
                            char *etag, size_t size, struct coi_error *err);
/* PATCH of config keys only while the instance is as etag says (If-Match): -ESTALE when another
 * client changed it since (HTTP 412), so of two that race, one wins. */
int incus_instance_patch_if(struct incus_client *c, const char *name,
                            const struct incus_map *config, const char *etag,
                            struct coi_error *err);
/* Removes one device (GET + PUT of the instance with the device gone). -ENOENT if absent. */
int incus_instance_remove_device(struct incus_client *c, const char *name, const char *device,
                                 struct coi_error *err);
/* Removes each device named (one GET + PUT); names the instance does not have are ignored. */
int incus_instance_remove_devices(struct incus_client *c, const char *name, char *const *devices,
                                  struct coi_error *err);
/* Removes config keys (GET + PUT). Keys that are absent are ignored. */
int incus_instance_unset_config(struct incus_client *c, const char *name, char *const *keys,
                                struct coi_error *err);

/* ---- profiles ------------------------------------------------------------------------------- */

struct incus_profile {
	char *name;
	struct incus_map config;
	struct incus_devices devices;
};
struct incus_profile *incus_profile_free(struct incus_profile *p);
DEFINE_CLEANUP(struct incus_profile *, incus_profile_free)
int incus_profile_get(struct incus_client *c, const char *name, struct incus_profile **ret,
                      struct coi_error *err);

/* ---- storage pools -------------------------------------------------------------------------- */

/* 1 when the pool exists, 0 when the daemon has none of that name, else a negative errno. */
int incus_storage_pool_exists(struct incus_client *c, const char *name, struct coi_error *err);

/* ---- networks ------------------------------------------------------------------------------- */

struct incus_network {
	char *name;
	char *type; /* "bridge" */
	bool managed;
	struct incus_map config; /* "ipv4.address": "10.171.92.1/24", ... */
};
struct incus_network *incus_network_free(struct incus_network *n);
DEFINE_CLEANUP(struct incus_network *, incus_network_free)
int incus_network_get(struct incus_client *c, const char *name, struct incus_network **ret,
                      struct coi_error *err);

/* The DHCP leases of a managed network (IPv4 only): one call for every instance's address. */
struct incus_lease {
	char *hostname; /* the instance name */
	char *address;
};
int incus_network_leases(struct incus_client *c, const char *network, struct incus_lease **ret,
                         size_t *ret_n, struct coi_error *err);
void incus_leases_free(struct incus_lease *l, size_t n);

/* ---- snapshots ------------------------------------------------------------------------------ */

struct incus_snapshot {
	char *name; /* the snapshot's own name, without "instance/" */
	char *created_at;
	char *expires_at;
	bool stateful;
	int64_t size; /* bytes, -1 when unknown */
};
struct incus_snapshot **incus_snapshot_list_free(struct incus_snapshot **l);
DEFINE_CLEANUP(struct incus_snapshot **, incus_snapshot_list_free)

int incus_snapshot_create(struct incus_client *c, const char *instance, const char *snap,
                          bool stateful, struct coi_error *err);
/* Sorted by creation time; NULL-terminated; returns the count. */
int incus_snapshot_list(struct incus_client *c, const char *instance, struct incus_snapshot ***ret,
                        struct coi_error *err);
int incus_snapshot_restore(struct incus_client *c, const char *instance, const char *snap,
                           bool stateful, struct coi_error *err);
int incus_snapshot_delete(struct incus_client *c, const char *instance, const char *snap,
                          struct coi_error *err);

/* ---- exec ----------------------------------------------------------------------------------- */

enum incus_exec_mode {
	INCUS_EXEC_CAPTURE,     /* stdin empty; stdout/stderr captured into the result */
	INCUS_EXEC_STREAM,      /* stdin/stdout/stderr streamed from/to the given fds */
	INCUS_EXEC_INTERACTIVE, /* a pty: the local terminal (stdin_fd) in raw mode, resize
	                           forwarded */
};

struct incus_exec_opts {
	char *const *argv; /* the command; argv[0] is looked up in the container's PATH */
	char *const *env;  /* "KEY=VALUE" entries, or NULL */
	int64_t uid;       /* -1: root (the daemon's default) */
	int64_t gid;       /* -1: root */
	const char *cwd;   /* NULL: the daemon's default ("/root" or "/") */
	enum incus_exec_mode mode;
	int stdin_fd;       /* STREAM/INTERACTIVE: -1 for no input */
	int stdout_fd;      /* STREAM/INTERACTIVE */
	int stderr_fd;      /* STREAM */
	size_t capture_max; /* CAPTURE: ceiling per stream; 0: 16 MiB */
	/* STREAM/INTERACTIVE, out: the first terminating signal forwarded to the command (SIGPIPE
	 * when a local output's reader went away), 0 if none; NULL: not wanted */
	int *forwarded_signal;
};

/* Fills the defaults: uid/gid -1, fds 0/1/2, capture. */
void incus_exec_opts_init(struct incus_exec_opts *o);

struct incus_exec_result {
	int exit_status; /* the command's status; 128+N when killed by signal N */
	char *out;       /* CAPTURE: stdout, NUL-terminated (may contain NULs: see out_len) */
	size_t out_len;
	char *err;
	size_t err_len;
};
void incus_exec_result_release(struct incus_exec_result *r);

/* Runs a command in a running instance and waits for it, over Incus's exec websockets. Returns 0
 * when the command ran (whatever its exit status; a command that is not found is 127), a negative
 * errno when it could not be run (-E2BIG: captured output past capture_max). While a STREAM or
 * INTERACTIVE command runs, SIGINT/SIGTERM/SIGHUP/SIGQUIT are blocked and forwarded to it (so
 * incus_interrupt() handlers do not fire; one it never acts on is given up after a grace period,
 * -ECANCELED), a local output that fails with EPIPE (SIGPIPE ignored) sends it SIGPIPE, and
 * SIGWINCH resizes the pty; the signal mask and, for INTERACTIVE, the terminal
 * are restored before it returns. A CAPTURE command (coi's own helpers) leaves signals to the
 * caller's handlers and ends with -ECANCELED once incus_interrupt() was called. The result's
 * out/err are "" outside CAPTURE. */
int incus_exec(struct incus_client *c, const char *name, const struct incus_exec_opts *opts,
               struct incus_exec_result *ret, struct coi_error *err);

/* ---- files ---------------------------------------------------------------------------------- */

struct incus_file_attrs {
	int64_t uid; /* -1: 0 */
	int64_t gid; /* -1: 0 */
	int mode;    /* -1: 0644 for files, 0755 for directories */
};

/* Writes data to path (absolute) in the instance, replacing it. */
int incus_file_write(struct incus_client *c, const char *name, const char *path, const void *data,
                     size_t len, const struct incus_file_attrs *attrs, struct coi_error *err);
/* Reads a regular file into out (capped by out's ceiling: -E2BIG). */
int incus_file_read(struct incus_client *c, const char *name, const char *path, struct buf *out,
                    struct coi_error *err);
/* What the daemon says of path: its type ("file", "directory", "symlink"), owner and mode as
 * seen inside the instance. */
struct incus_file_stat {
	char type[16];
	int64_t uid, gid;
	int mode;
};
int incus_file_stat(struct incus_client *c, const char *name, const char *path,
                    struct incus_file_stat *ret, struct coi_error *err);
int incus_file_mkdir(struct incus_client *c, const char *name, const char *path,
                     const struct incus_file_attrs *attrs, struct coi_error *err);
/* mkdir -p of an absolute path: what it creates gets attrs, what exists is left alone. */
int incus_file_mkdir_p(struct incus_client *c, const char *name, const char *path,
                       const struct incus_file_attrs *attrs, struct coi_error *err);
/* The same for what follows path's first there bytes (a directory known to exist, without its
 * last '/'): one request fewer per component of it. */
int incus_file_mkdir_below(struct incus_client *c, const char *name, const char *path, size_t there,
                           const struct incus_file_attrs *attrs, struct coi_error *err);
int incus_file_delete(struct incus_client *c, const char *name, const char *path,
                      struct coi_error *err);

/* Copies a local file or (with recursive) directory tree to remote path. Local symlinks are not
 * followed. Files keep their mode; uid/gid from attrs (NULL: root). */
int incus_file_push(struct incus_client *c, const char *name, const char *local, const char *remote,
                    bool recursive, const struct incus_file_attrs *attrs, struct coi_error *err);
/* Copies a remote file or (with recursive) directory to local. Remote symlinks and special files
 * are dropped (never created, never followed), and nothing is written outside local: every local
 * file is created with openat(O_NOFOLLOW) below a directory fd. Returns the number of entries
 * dropped. */
int incus_file_pull(struct incus_client *c, const char *name, const char *remote, const char *local,
                    bool recursive, struct coi_error *err);
/* incus_file_pull() of directory remote, recursive, except that a directory holding nothing but
 * an entry named only is pulled empty (only's GET saved: a file its caller would not keep). */
int incus_file_pull_unless(struct incus_client *c, const char *name, const char *remote,
                           const char *local, const char *only, struct coi_error *err);

/* ---- images --------------------------------------------------------------------------------- */

struct incus_image {
	char *fingerprint;
	char **aliases;
	char *description;
	char *architecture;
	char *created_at;
	char *os;      /* properties.os */
	char *release; /* properties.release */
	int64_t size;  /* bytes */
	bool public;
};
struct incus_image *incus_image_free(struct incus_image *i);
DEFINE_CLEANUP(struct incus_image *, incus_image_free)
struct incus_image **incus_image_list_free(struct incus_image **l);
DEFINE_CLEANUP(struct incus_image **, incus_image_list_free)

/* All images, NULL-terminated, sorted by first alias then fingerprint; returns the count. */
int incus_image_list(struct incus_client *c, struct incus_image ***ret, struct coi_error *err);
/* By alias or fingerprint (or a unique fingerprint prefix). -ENOENT when none. */
int incus_image_get(struct incus_client *c, const char *alias_or_fp, struct incus_image **ret,
                    struct coi_error *err);
/* 1 if an image with this alias exists, 0 if not. */
int incus_image_alias_exists(struct incus_client *c, const char *alias, struct coi_error *err);
/* The fingerprint alias points to (*ret, caller frees); -ENOENT when there is no such alias. */
int incus_image_alias_target(struct incus_client *c, const char *alias, char **ret,
                             struct coi_error *err);
int incus_image_alias_create(struct incus_client *c, const char *alias, const char *fingerprint,
                             const char *description, struct coi_error *err);
/* Points an existing alias at another image. */
int incus_image_alias_update(struct incus_client *c, const char *alias, const char *fingerprint,
                             struct coi_error *err);
int incus_image_alias_delete(struct incus_client *c, const char *alias, struct coi_error *err);
/* Deletes the image an alias or fingerprint names. */
int incus_image_delete(struct incus_client *c, const char *alias_or_fp, struct coi_error *err);

/* Imports a split image (metadata tarball + rootfs, e.g. squashfs) and gives it alias (may be
 * NULL). *ret_fingerprint (may be NULL) receives the new image's fingerprint. */
int incus_image_import(struct incus_client *c, const char *meta_path, const char *rootfs_path,
                       const char *alias, const struct incus_wait *wait, char **ret_fingerprint,
                       struct coi_error *err);

struct incus_publish_opts {
	const char *instance; /* a stopped instance (or "instance/snapshot") */
	const char *alias;    /* may be NULL */
	const char *description;
	const char *compression; /* NULL: the daemon's default; "none", "gzip", "zstd", ... */
	bool public;
	struct incus_map properties;
};
int incus_image_publish(struct incus_client *c, const struct incus_publish_opts *opts,
                        const struct incus_wait *wait, char **ret_fingerprint,
                        struct coi_error *err);

/* ---- events --------------------------------------------------------------------------------- */

/* One event from /1.0/events. */
struct incus_event {
	char *type;   /* "lifecycle", "operation", "logging" */
	char *action; /* lifecycle: "instance-started", "instance-stopped", "instance-deleted", ...
	               */
	char *source; /* "/1.0/instances/c1" */
	char *instance; /* the instance the source names, or NULL */
	char *project;
	char *timestamp;
};
void incus_event_release(struct incus_event *e);
/* Decodes one event message (exposed for tests). */
int incus_event_parse(const char *text, size_t len, struct incus_event *ret);

struct incus_events;

/* Subscribes to types ("lifecycle", "lifecycle,operation"; NULL: "lifecycle") of the client's
 * project, on a websocket of its own. */
int incus_events_open(struct incus_client *c, const char *types, struct incus_events **ret,
                      struct coi_error *err);
struct incus_events *incus_events_free(struct incus_events *ev);
DEFINE_CLEANUP(struct incus_events *, incus_events_free)
/* The fd to poll. When it is readable, call incus_events_next(ev, 0, ...) until -EAGAIN: one
 * read may carry several events. */
int incus_events_fd(const struct incus_events *ev);
/* The next event. timeout_ms: -1 no limit, 0 do not wait. 0 on success, -EAGAIN (timeout 0) or
 * -ETIMEDOUT when none came, -ECONNRESET when the daemon ended the stream. */
int incus_events_next(struct incus_events *ev, int timeout_ms, struct incus_event *ret,
                      struct coi_error *err);
/* Waits for a lifecycle action on an instance (e.g. "instance-stopped"); -ETIMEDOUT after
 * timeout_ms (-1: no limit). Subscribe before causing the change, or it may be missed. */
int incus_events_wait(struct incus_events *ev, const char *instance, const char *action,
                      int timeout_ms, struct coi_error *err);
