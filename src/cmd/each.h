/* SPDX-License-Identifier: MIT */
/* each.h: verbs that act on "each named session, or every session" (kill, shutdown, persist). */
#pragma once

#include <stdbool.h>

struct incus_client;
struct verb;

/* One session; returns EXIT_OK or EXIT_FAIL (having said why on stderr). */
typedef int (*cmd_each_fn)(struct incus_client *c, const char *name, void *userdata);

struct cmd_each {
	bool all;            /* every coi session on the daemon instead of names */
	const char *confirm; /* with all, on a terminal: "Kill" asks "Kill these N sessions?" */
	bool force;          /* do not ask */
};

/* Opens the client and calls fn for each of the n names, or, when e->all, for every coi session
 * on the daemon (listed, and confirmed first when e->confirm says so). A name that is no instance
 * on the daemon is an error, never a success. Names and all together are the caller's to refuse;
 * neither is a usage error of v. Returns EXIT_OK when every call did, else EXIT_FAIL (or
 * EXIT_USAGE). */
int cmd_each_session(const struct verb *v, const struct cmd_each *e, char **names, int n,
                     cmd_each_fn fn, void *userdata);
