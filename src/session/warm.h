/* SPDX-License-Identifier: MIT */
/* warm.h: the warm pool ([container] warm = N; ARCHITECTURE.md decision 13).
 *
 * A warm container is one of a workspace's: container names are a contract with the original
 * tool and with 'coi clean --orphans' (coi-<workspace hash>-<slot>, naming.h), and Incus cannot
 * rename a running instance, so the pool is per workspace, never shared between users or
 * workspaces. A detached filler makes one by exactly the cold start's path for a free slot (same
 * image, identity mapping, devices with the workspace and its protected paths, limits, seccomp,
 * the address decided before start) with every packet of it dropped (the boot block) and
 * nothing of a session on the host (no immutable flags, no supervisor); only once it runs and
 * answers is it marked: the instance key user.coi.warm holds a fingerprint of the create
 * request and the image. A session claims one whose mark is the fingerprint it computes now for
 * that slot (a changed config, a new git directory or a rebuilt image matches none), taking the
 * mark away under the instance's ETag so two claimers cannot both win, and goes on from after
 * the start: host protection, its real rules replacing the block in one nft batch, the
 * supervisor, the user's environment, the command. Isolation is the cold start's because the
 * container is the cold start's. */
#pragma once

#include <stdbool.h>

struct coi_error;
struct incus_client;
struct session;

/* Under the workspace lock, for an ephemeral session with [container] warm on: a running warm
 * container of this workspace whose mark matches is this session's (s->name, s->slot,
 * s->claimed, its owner recorded); returns 1, or 0 when there is none. */
int warm_claim(struct session *s, struct coi_error *err);

/* Under the workspace lock, for the filler: removes the warm containers of this workspace whose
 * mark no longer matches; -EEXIST when N match already (the pool is full). */
int warm_fill_check(struct session *s, struct coi_error *err);

/* The filler, before the mark, with monitoring on: what the claimer's supervisor would read
 * first about the container, read ahead (monitor/prescan.h). Never fails the fill: without it
 * the supervisor reads the container itself. warm_unprescan() removes it (the fill failed). */
int warm_prescan(struct session *s, struct coi_error *err);
int warm_unprescan(struct session *s, struct coi_error *err);

/* The filler's end: the container booted and answers, so it is marked warm and its owner record
 * says warm (nobody's session, alive: a session of the workspace that ends hands it the
 * placeholders it mounts, fleet.h). */
int warm_mark(struct session *s, struct coi_error *err);

/* A claimed container's undo steps, as a cold start's creation pushes them. */
int warm_take(struct session *s, struct coi_error *err);

/* After a session's start, with [container] warm on: a detached, niced filler (setsid; nothing
 * of this process's) tops the workspace's pool up, one container at a time; this returns at
 * once. One filler per workspace at a time. */
void warm_spawn(struct session *s);

/* After 'coi build' pointed image alias at fingerprint: removes every warm container of alias made
 * from an older image (none can be claimed any more: warm-image.c), whoever's, each only once its
 * mark is taken away under its ETag (a claimed one stays), with what it left on this user's host.
 * *ret_removed (may be NULL) gets their names. Keeps going after a failure; returns the first. */
int warm_remove_old_image(struct incus_client *c, const char *alias, const char *fingerprint,
                          char ***ret_removed, struct coi_error *err);
