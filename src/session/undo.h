/* SPDX-License-Identifier: MIT */
/* undo.h: the session's undo stack and its signal flags. Each phase that changes the world
 * pushes an undo step; the steps run in reverse on every way out (normal end, error,
 * SIGINT/SIGTERM/SIGHUP). A signal sets a flag the phases check, and interrupts the Incus call in
 * flight only while that is safe (session_set_abortable()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct coi_error;
struct session;

typedef int (*undo_fn)(struct session *s, struct coi_error *err);

struct undo {
	const char *what; /* for COI_TIMING_DEBUG and debug messages */
	undo_fn fn;
};

/* Push an undo step onto s's stack: 0 or -ENOMEM. */
int session_undo_push(struct session *s, const char *what, undo_fn fn);
/* Run every undo step in reverse; keep going after a failure, report the first. */
int session_undo_all(struct session *s, struct coi_error *err);
/* Run (and drop) the pending undo steps for which pick() is true, newest first. */
int session_undo_some(struct session *s, bool (*pick)(undo_fn fn), struct coi_error *err);

/* SIGINT/SIGTERM/SIGHUP: interrupt the call in flight; session_start and session_exec then
 * return -ECANCELED and the caller runs session_stop(). */
void session_install_signal_handlers(void);
bool session_interrupted(void);
/* The first of those signals that came, 0 if none: a session cut short by it exits 128 + it. */
int session_interrupt_signal(void);
/* Whether a signal may abort the Incus call in flight (see undo.c). */
void session_set_abortable(bool on);
/* -ECANCELED (with err set) once a terminating signal came, else 0. */
int session_check_interrupted(struct coi_error *err);
/* A signal the command itself got and never acted on cut the session short: record it as if it
 * had come to coi (when none had). */
void session_note_interrupt(int sig);
