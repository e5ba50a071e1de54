/* SPDX-License-Identifier: MIT */
/* sweep.h: the end of a session, on the host. What coi put into the workspace to protect it (the
 * placeholders) is taken away again, and what the agent planted where the host's git would run it
 * is moved to a quarantine under ~/.coi/quarantine.
 *
 * Everything the end needs is written at the start into a state file (~/.coi/run/NAME.protect),
 * so that every way a session ends (coi itself, coi kill, coi shutdown, the end of a detached
 * session, coi clean --orphans after a crash) finishes it alike, from the host side, after the
 * container can no longer act (stopped, frozen or gone). */
#pragma once

#include <stdbool.h>

struct coi_error;
struct protect_plan;

/* Write what the end of the session of container name needs into state_file (mode 0600): the
 * placeholders, and a baseline of the workspace's git directories (their hooks, the keys of their
 * configuration that run programs) and of the files at protected names in every folder. */
int sweep_save(const struct protect_plan *p, const char *name, const char *state_file,
               struct coi_error *err);

struct sweep_save_opts {
	/* the baseline of the git directories and protected names: off for a warm container
	 * (warm.h), in which no agent ran, so that its removal quarantines nothing */
	bool baseline;
	/* a state file whose placeholders (a warm container's, claimed) this one takes over, or
	 * NULL */
	const char *inherit;
};
int sweep_save_with(const struct protect_plan *p, const char *name, const char *state_file,
                    const struct sweep_save_opts *o, struct coi_error *err);

/* Another session of the workspace still runs, its read-only mounts on the same placeholders:
 * move state_file's placeholder records into heir (that session's state file), whose end removes
 * them instead. Call under the workspace's lock (naming.h), before sweep_finish. */
int sweep_hand_over(const char *state_file, const char *heir, struct coi_error *err);

/* The end: remove the placeholders, quarantine what was planted, remove state_file. *ret_report
 * (when not NULL) gets lines for the user; it stays NULL when there is nothing to say. A missing
 * state file is nothing to do. */
int sweep_finish(const char *state_file, char ***ret_report, struct coi_error *err);
