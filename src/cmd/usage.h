/* SPDX-License-Identifier: MIT */
/* usage.h: a verb's usage text (struct verb.usage) read as data, so shell completion and the man
 * page follow the verb table without a second list of options to keep in step.
 *
 * The conventions every usage text follows, and this reader relies on:
 *  - synopsis lines start "Usage: coi VERB ..." or, indented, "coi VERB ...";
 *  - a verb whose first line says SUBCOMMAND lists each subcommand on a line indented by exactly
 *    two spaces ("  start NAME"); deeper-indented lines below it continue it;
 *  - option lines are indented and start with '-': "  -w, --workspace DIR  what it does";
 *  - in a synopsis, placeholders are upper case (NAME, DIR, FILE, IMAGE...), fixed choices are
 *    "a|b", optional parts are in [brackets];
 *  - two spaces in a row end the synopsis part of a line (what follows is prose). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum usage_kind {
	USAGE_NONE,      /* nothing to complete (a number, a command, free text) */
	USAGE_CONTAINER, /* a coi container name */
	USAGE_IMAGE,     /* an image alias */
	USAGE_PROFILE,   /* a coi profile name */
	USAGE_PROMPT,    /* a name of [prompts] */
	USAGE_DIR,       /* a directory */
	USAGE_FILE,      /* a file or directory */
	USAGE_CHOICE,    /* one of the words of "a|b|c" */
};

struct usage_opt {
	char *name; /* "--workspace" or "-w" */
	char *arg;  /* "DIR", "text|json"; NULL when the option takes no value */
	char *help; /* from its option line; NULL when it only appears in a synopsis */
};

struct usage {
	char **subcommands; /* NULL-terminated, NULL when the verb has none */
	struct usage_opt *opts;
	size_t n_opts;
	char **positionals; /* placeholders in order ("NAME..."); the last may repeat */
};

/* Read the usage text of verb: its subcommands, and the options and positional placeholders of
 * subcommand sub (NULL: of the verb as a whole; then positionals are left empty when the verb has
 * subcommands, the first positional being the subcommand). 0 or -ENOMEM. */
int usage_parse(const char *verb, const char *text, const char *sub, struct usage *ret);
void usage_release(struct usage *u);
const struct usage_opt *usage_find_opt(const struct usage *u, const char *name);

/* What a placeholder stands for. opt is the option it belongs to (NULL for a positional); text is
 * the whole usage text (NAME means a container unless the verb also speaks of a CONTAINER). */
enum usage_kind usage_kind(const char *opt, const char *placeholder, const char *text);
