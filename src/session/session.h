/* SPDX-License-Identifier: MIT */
/* session.h: a coi session, from the user's project to an agent in a container and back.
 *
 * A session is a pipeline of phases; each phase that changes the world registers an undo step,
 * and the steps run in reverse on every exit path (normal end, error, SIGINT/SIGTERM/SIGHUP).
 * What a SIGKILL leaves behind is found by name and comment (`coi clean --orphans`).
 *
 * The pipeline reads only struct session_opts, which the command fills from the configuration,
 * so the session does not depend on how settings are stored. */
#pragma once

#include <stdbool.h>

#include "session/options.h"
#include "session/state.h"
#include "session/undo.h"
#include "util/cleanup.h"

struct coi_error;
struct incus_client;

/* Runs the start phases: name and slot, create (or reuse) and start the container with its
 * devices, hardening and uid mapping, host protection, readiness. On failure everything done so
 * far is undone and *ret is untouched. */
int session_start(struct session_opts *opts, struct incus_client *c, struct session **ret,
                  struct coi_error *err);

/* Runs argv in the session as the code user, in the workspace, with the session's environment;
 * stdin/stdout/stderr streamed (or a pty when interactive). Returns the command's exit status
 * (>= 0), or a negative errno if it could not run. */
int session_exec(struct session *s, char *const *argv, bool interactive, struct coi_error *err);
/* As session_exec, streamed, with no input and its output on stderr: for what runs beside the
 * session's own command ([tool] pre_launch). */
int session_exec_aside(struct session *s, char *const *argv, struct coi_error *err);
/* The same without sourcing the environment file (argv sources it itself where needed). */
int session_exec_plain(struct session *s, char *const *argv, bool interactive,
                       struct coi_error *err);

/* Leave the container running without this process (the user detached): the undo steps are
 * dropped, and the owner record says the session is detached, so it is not an orphan. */
int session_detach(struct session *s, struct coi_error *err);

/* Runs the undo steps in reverse (delete or stop the container, restore flags, ...) and reports
 * what changed under protection into the warnings. Returns 0 or the first failure. */
int session_stop(struct session *s, struct coi_error *err);

/* What the last session_exec*() captured instead of streaming it (a client without streaming
 * exec), for the caller to print: out where the command's stdout goes (stderr for
 * session_exec_aside()), err on stderr; empty (lengths 0) when it streamed. */
const struct incus_exec_result *session_captured(const struct session *s);

/* Warnings gathered so far (for the command to print); the caller owns the vector. */
char **session_take_warnings(struct session *s);
struct session *session_free(struct session *s);
DEFINE_CLEANUP(struct session *, session_free)
