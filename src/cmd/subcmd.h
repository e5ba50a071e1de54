/* SPDX-License-Identifier: MIT */
/* subcmd.h: verbs made of sub-commands over the Incus client (coi image, snapshot, container).
 * One dispatcher finds the sub-command in a table, parses the options they share, connects and
 * runs it; help and unknown sub-commands are answered the same way for all of them. */
#pragma once

#include <stddef.h>

struct incus_client;
struct verb;

struct subcmd {
	const char *name;
	/* With a parse function: argv holds the arguments left after the options; without: argv[0]
	 * is the sub-command's name and the options are the sub-command's to parse. */
	int (*run)(struct incus_client *c, const void *args, int argc, char **argv);
	/* Instead of run: a verb of its own, run without a client ('coi image cleanup'). */
	const struct verb *verb;
};

struct subcmd_table {
	const struct verb *verb;
	const struct subcmd *subs;
	size_t n;
	/* Parses the options of argv (argv[0] is the sub-command) into args, leaving optind at the
	 * first other argument; returns 0 to go on, else the exit code. NULL: no shared options. */
	int (*parse)(int argc, char **argv, void *args);
	void *args;
};

/* 'coi VERB SUB ...': help (-h, --help, help), then the sub-command; a missing or unknown
 * sub-command is a usage error. Returns the exit code. */
int subcmd_dispatch(const struct subcmd_table *t, int argc, char **argv);
