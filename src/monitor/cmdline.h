/* SPDX-License-Identifier: MIT */
/* cmdline.h: a process's command line as the detection rules see it. An argv is turned into a
 * list of simple commands: the argv itself, with wrappers (sudo, env, nohup, timeout, exec, ...)
 * peeled off, plus, for a shell run with -c, the commands of its script, split the way a shell
 * would (quotes, pipelines, redirections), recursively to a small depth. Quoted text stays one
 * word and an operator inside quotes is just text, so `grep '>/dev/tcp/' x` has no redirection.
 * Nothing here reads the system: the rules stay pure and unit-testable. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* One simple command: its words (the program first, wrappers removed) and where its input and
 * output go. */
struct simple_cmd {
	char **argv;   /* NULL-terminated, never empty */
	char **redirs; /* redirection targets, each prefixed by its operator: "<x", ">x", "<>x" */
	unsigned pipeline; /* commands joined by '|' share this number */
	bool piped_in;     /* reads the previous command's output */
	bool piped_out;    /* writes into the next command */
	unsigned depth;    /* 0: the process argv itself; 1+: from a shell script */
};

struct cmdline {
	struct simple_cmd *cmds;
	size_t n;
};

#define CMDLINE_MAX_CMDS  256
#define CMDLINE_MAX_DEPTH 3

/* Builds the command list for a process argv. A first word containing blanks (a rewritten
 * process title, or `exec -a "..."`) is read as a script. Returns 0 or -ENOMEM. */
int cmdline_from_argv(char *const *argv, struct cmdline *ret);
/* Builds the command list of a shell script text. */
int cmdline_from_script(const char *script, struct cmdline *ret);
void cmdline_release(struct cmdline *c);

/* The program's basename, e.g. "python3" for "/usr/bin/python3". */
const char *cmd_prog(const struct simple_cmd *c);
/* The index just past a leading wrapper chain (sudo, env VAR=x, nohup, timeout 5, ...): argv[i]
 * is the real program. i == n means the wrapper ran nothing (a bare `env` dumps the environment).
 */
size_t cmd_unwrap(char *const *argv, size_t n);
