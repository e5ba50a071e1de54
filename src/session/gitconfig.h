/* SPDX-License-Identifier: MIT */
/* gitconfig.h: git configuration files written by someone coi does not trust (the agent), read
 * the way git reads them, to find and remove the keys that make git run a program.
 *
 * The reader follows git's own parser (config.c: git_parse_source and what it calls) byte for
 * byte, so a key git would see is a key coi sees. Where the two could disagree, coi refuses the
 * file instead (-EINVAL): a NUL byte, a key before any section, anything git itself rejects. The
 * caller then treats the whole file as suspect. No include is followed and nothing is run. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct gitconfig_entry {
	char *name;        /* "section.key" or "section.sub.key": section and key in lower case,
	                      the subsection as written (as git names variables) */
	char *value;       /* decoded; NULL for a key without '=' (git reads it as true) */
	size_t start, end; /* the bytes to drop to remove the entry (gitconfig_without) */
	unsigned line;     /* 1-based */
};

struct gitconfig {
	struct gitconfig_entry *entries;
	size_t n;
};

/* Parse len bytes of text. On -EINVAL, *ret_line (when not NULL) says where. */
int gitconfig_parse(const char *text, size_t len, struct gitconfig *ret, unsigned *ret_line);
void gitconfig_release(struct gitconfig *c);

/* True when a variable of this name (as in gitconfig_entry) makes git run a program, read more
 * configuration, or check files out elsewhere: core.fsmonitor, alias.*, include.path, ... */
bool gitconfig_runs_program(const char *name);

/* The text without the entries whose drop[i] is set, appended to out. Removing an entry removes
 * its line (with its comment and continuation lines), or, when it shares its line with a section
 * header, what follows the header. */
int gitconfig_without(const char *text, size_t len, const struct gitconfig *c, const bool *drop,
                      struct buf *out);
