/* SPDX-License-Identifier: MIT */
/* fleet.h: all of coi's sessions on this daemon, and what each one leaves on the host.
 *
 * A running session records its owner (the coi process: pid and start time) in
 * coi_dir()/run/<container>.owner, next to the immutable-flag state and, for host root, the
 * idmapped workspace mount in /run/coi/mounts/<container>. A session whose owner is gone (coi
 * was killed with SIGKILL) is an orphan: `coi clean --orphans` removes its container (unless it
 * is persistent), its rules, flags and mounts, by these names. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/cleanup.h"

struct coi_error;
struct incus_client;
struct net_nft;

struct fleet_entry {
	char *name;
	char *workspace; /* user.coi.workspace */
	int slot;
	bool persistent;
	char *status;       /* "Running", "Stopped", "Frozen" */
	char *ipv4;         /* NULL when unknown */
	char *image;        /* user.coi.image */
	char *network_mode; /* user.coi.network_mode */
	char *tool;         /* user.coi.tool, "" when unknown */
	char *created_at;   /* RFC 3339, as the daemon says it, "" when unknown */
	bool orphan;        /* running without a live coi process (ephemeral sessions only) */
	bool warm;          /* a container of the warm pool, nobody's session yet (warm.h) */
	bool filling;       /* one the pool's filler is still making (not yet warm): no session
	                       either; its filler's owner record makes it an orphan if that dies */
	bool mine;          /* made by a coi of this coi home (FLEET_HOME_KEY), or by one before
	                       coi said whose: only such can be this home's orphans */
	char **ports;       /* published ports, "127.0.0.1:20100->8080"; NULL when none */
};

struct fleet {
	struct fleet_entry *items;
	size_t n;
};

/* The instance key that marks a container of the warm pool (session/warm.h), and whether a value
 * of it is a mark (a fingerprint: the container is ready to claim; "" once claimed). */
#define FLEET_WARM_KEY "user.coi.warm"
/* FLEET_WARM_KEY of a container its filler is still making: no mark, nobody's session */
#define FLEET_WARM_FILLING "filling"
bool fleet_is_warm_mark(const char *value);

/* The coi home whose ~/.coi/run keeps a container's owner record (~/.coi, or $COI_HOME): the
 * first FLEET_HOME_LEN hex digits of the SHA-256 of its path, in the container's FLEET_HOME_KEY
 * (not the path itself: the guest can read its user.* keys). A session of another home, another
 * user's or the same user's with another COI_HOME, has no owner record here: without this it
 * was this home's orphan, which 'coi clean --orphans' removed while it ran. */
#define FLEET_HOME_KEY "user.coi.home"
#define FLEET_HOME_LEN 16
int fleet_home_id(char out[FLEET_HOME_LEN + 1]);

/* coi's containers (prefix "coi-" or $COI_CONTAINER_PREFIX), with state when with_state. */
int fleet_list(struct incus_client *c, bool with_state, struct fleet *ret, struct coi_error *err);
void fleet_release(struct fleet *f);
void fleet_entry_release(struct fleet_entry *e);

/* Record that process pid (this one, or a child it hands the session to) owns container name;
 * fleet_owner_clear() at the end. */
int fleet_owner_record(const char *name, pid_t pid, struct coi_error *err);
void fleet_owner_clear(const char *name);
/* Record that name's session is detached (coi shell left it running for coi attach). */
int fleet_owner_detached(const char *name, struct coi_error *err);
/* Record that name is a warm container (session/warm.h): nobody's session, but alive, so that a
 * session of its workspace that ends hands it the placeholders it mounts. */
int fleet_owner_warm(const char *name, struct coi_error *err);
/* True when name's session is detached: no coi process of its own is left. */
bool fleet_owner_is_detached(const char *name);
/* True when name's owner record says warm: alive only while its container exists and is marked
 * (another user's coi clean or coi build may remove it: their records here are then stale). */
bool fleet_owner_is_warm(const char *name);
/* 1 when a live coi process owns name, 0 when none does (or its record is stale). */
int fleet_owner_alive(const char *name);
/* The live coi process that owns name (a session's, or the warm pool's filler making it); 0 when
 * none does, or the record says detached or warm. */
pid_t fleet_owner_pid(const char *name);

/* Sessions whose coi process died without ending them (SIGKILL, a crash), and detached sessions
 * whose container was deleted outside coi, leave the host's protected paths immutable. For each
 * one, its container is first made still (frozen when ephemeral, stopped when persistent), then the
 * flags are restored; a line for the user is added to notes. Called by the commands that talk to
 * the daemon, so the next coi run mends it. Returns how many sessions it found. */
int fleet_restore_dead(struct incus_client *c, char ***notes);

/* Force-delete container name; gone already counts as done. Retries a few times (about 3 s)
 * while the daemon trips over a container another process is stopping or deleting. */
int fleet_delete(struct incus_client *c, const char *name, struct coi_error *err);

/* The end of the protection of session name (sweep_finish of its state_file), under its
 * workspace's lock (unless the caller holds it: locked): while another session of the workspace
 * lives, its placeholders are handed over to that one (sweep_hand_over), not removed under its
 * read-only mounts. */
int fleet_finish_protection(const char *name, const char *state_file, bool locked,
                            char ***ret_report, struct coi_error *err);

/* Remove what a session left on the host: immutable flags, the idmapped mount, the owner record,
 * the placeholders of its protected paths, and (when n is not NULL) its network rules; and
 * quarantine what its agent planted in the workspace's git directories (sweep.h). *ret_report
 * (when not NULL) gets what the user should be told (NULL when nothing). Keeps going after a
 * failure; returns the first. */
int fleet_cleanup_host(const char *name, const struct net_nft *n, char ***ret_report,
                       struct coi_error *err);

/* Remove the network rules of every container not in existing, the names of all instances on the
 * server whatever their shape: a fleet narrowed by COI_CONTAINER_PREFIX would take every other
 * session's rules for orphans (coi clean --orphans). Returns how many containers' rules were
 * removed. */
int fleet_purge_rules(char *const *existing, struct coi_error *err);

/* `coi persist`: the session is kept (stopped) when it ends. -EBUSY for a container of the warm
 * pool: it is no session yet, and its claimer is an ephemeral session (the claim takes the key
 * away again, warm.c). */
int fleet_persist(struct incus_client *c, const char *name, struct coi_error *err);

/* Force-stop and delete a session container, then fleet_cleanup_host(). */
int fleet_kill(struct incus_client *c, const char *name, const struct net_nft *n,
               char ***ret_report, struct coi_error *err);
