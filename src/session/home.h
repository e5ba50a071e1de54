/* SPDX-License-Identifier: MIT */
/* home.h: the code user's home in the container: SANDBOX_CONTEXT.md and the tool's own context
 * file, the environment file, a restored saved session, forwarded sockets and ports, the tool's
 * settings (opencode's permissions) and copied credentials. */
#pragma once

struct coi_error;
struct session;

#include <stdbool.h>

struct buf;

/* Everything above, once the container runs commands; pushes the undo of forwarded devices
 * where a persistent container must not keep them. In a claimed container only what is the
 * session's own (the environment file, a restored session, forwards, copied credentials): the
 * rest its filler wrote (home_prepare_warm). */
int home_prepare_user(struct session *s, struct coi_error *err);

/* A warm container's filler, before the mark: what follows from the config, the workspace and
 * the container alone (the directories, SANDBOX_CONTEXT.md and .json, ~/.gitconfig, the tool's
 * context file, opencode's permissions), exactly as a cold start writes it; nothing when the
 * claimer must write it (forwarded sockets or ports, a secret's login file of the same name). */
int home_prepare_warm(struct session *s, struct coi_error *err);

/* Whether a warm container's filler writes them for s (else its claimer does, as a cold start). */
bool home_by_filler(struct session *s);

/* Appends a line to out (the warm mark's text, container_fingerprint) that differs whenever
 * home_prepare_warm would write anything else for s. */
int home_fingerprint(struct session *s, struct buf *out);
