/* SPDX-License-Identifier: MIT */
/* undo.c: see undo.h. */
#include "session/undo.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "incus/incus.h"
#include "session/state.h"
#include "util/error.h"
#include "util/log.h"

/* The first terminating signal that came (0: none), for the exit status: 128 + it. */
static volatile sig_atomic_t interrupted;
/* Whether a signal may abort the Incus call in flight. Not while the container is being created:
 * the daemon would go on creating it after we stopped listening, and it could appear after our
 * cleanup looked for it (creation takes well under a second; the start phases check the flag
 * after it). Never during the teardown: a second Ctrl-C must not leave half of it undone. */
static volatile sig_atomic_t abortable;

static void on_signal(int sig)
{
	if (!interrupted)
		interrupted = sig;
	if (abortable)
		incus_interrupt();
}

void session_set_abortable(bool on)
{
	abortable = on;
	if (on && interrupted)
		incus_interrupt();
}

void session_install_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

bool session_interrupted(void)
{
	return interrupted != 0;
}

int session_interrupt_signal(void)
{
	return interrupted;
}

int session_undo_push(struct session *s, const char *what, undo_fn fn)
{
	struct undo *u = realloc(s->undo, sizeof(*u) * (s->n_undo + 1));

	if (!u)
		return -ENOMEM;
	s->undo = u;
	s->undo[s->n_undo++] = (struct undo){.what = what, .fn = fn};
	return 0;
}

int session_undo_all(struct session *s, struct coi_error *err)
{
	int first = 0;

	session_set_abortable(false);
	incus_interrupt_reset();
	while (s->n_undo > 0) {
		struct undo *u = &s->undo[--s->n_undo];
		struct coi_error e = {0};
		int r = u->fn(s, &e);

		log_timing(u->what);
		if (r < 0) {
			log_debug("undo '%s' failed: %s", u->what, coi_error_message(&e));
			if (!first) {
				first = r;
				if (err)
					*err = e;
			}
		}
	}
	return first;
}

int session_check_interrupted(struct coi_error *err)
{
	return interrupted ? coi_error_set(err, -ECANCELED, "interrupted") : 0;
}

int session_undo_some(struct session *s, bool (*pick)(undo_fn fn), struct coi_error *err)
{
	size_t kept = 0;
	int first = 0;

	for (size_t i = s->n_undo; i-- > 0;) {
		struct coi_error e = {0};
		int r;

		if (!pick(s->undo[i].fn))
			continue;
		r = s->undo[i].fn(s, &e);
		log_timing(s->undo[i].what);
		if (r < 0 && !first) {
			first = r;
			if (err)
				*err = e;
		}
		s->undo[i].fn = NULL;
	}
	for (size_t i = 0; i < s->n_undo; i++)
		if (s->undo[i].fn)
			s->undo[kept++] = s->undo[i];
	s->n_undo = kept;
	return first;
}

void session_note_interrupt(int sig)
{
	if (!interrupted)
		interrupted = sig;
}
