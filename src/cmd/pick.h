/* SPDX-License-Identifier: MIT */
/* pick.h: which session a verb acts on when the user names none, the same way for every verb that
 * takes one (attach, logs, monitor, snapshot, audit...). */
#pragma once

#include <stdbool.h>

struct coi_error;
struct incus_client;

struct cmd_pick {
	const char *name;      /* given on the command line, or NULL */
	const char *workspace; /* -w DIR, NULL: the current directory */
	int slot;              /* --slot N of that workspace, 0: any */
	bool running;          /* only running sessions count (attach) */
};

/* The name given (a project's alias names its workspace's session); else $COI_CONTAINER; else, in
 * the workspace, the session at the slot asked for, or the only session (running one, when
 * running); a warm container is no session (session/warm.h). Several: they are listed on stderr and
 * the user is asked to name one (-EEXIST); none: -ENOENT. *ret is the caller's to free. */
int cmd_pick_session(struct incus_client *c, const struct cmd_pick *p, char **ret,
                     struct coi_error *err);
