/* SPDX-License-Identifier: MIT */
/* rules-internal.h: the predicates' helpers rules.c shares with rules-files.c. It includes no
 * header of src/monitor/ (rules.h is what both implement), so the files form no circle. */
#pragma once

#include <stdbool.h>

#include "util/cleanup.h"

struct cmdline;
struct rule_hit;
struct simple_cmd;

enum interp {
	INTERP_NONE,
	INTERP_PYTHON,
	INTERP_PERL,
	INTERP_RUBY,
	INTERP_PHP,
	INTERP_NODE,
	INTERP_LUA,
	INTERP_AWK
};

/* how strongly a path is a credential */
/* A file named on a command line: a project's .env (an agent reads its own project's all day: a
 * record), a token file (.npmrc...), a key or cloud credential. */
enum cred { CRED_NONE, CRED_ENV, CRED_WEAK, CRED_STRONG };

/* The interpreter a program name is (python3.11: python), and the code it was given inline (-c,
 * -e, the program of awk), or NULL. */
enum interp rules_interp_of(const char *prog);
const char *rules_interp_code(const struct simple_cmd *c, enum interp k);

/* The predicates of rules-env.c the table names. */
bool rules_env_dump_grep(const struct cmdline *cl, struct rule_hit *h);
bool rules_env_secret_read(const struct cmdline *cl, struct rule_hit *h);
bool rules_proc_environ(const struct cmdline *cl, struct rule_hit *h);
bool rules_cred(const struct cmdline *cl, enum cred want, struct rule_hit *h);
bool rules_cred_search(const struct cmdline *cl, struct rule_hit *h);

/* The shells (NULL-terminated). */
extern const char *const rules_shells[];
/* Fill h with pattern and reason; true. */
bool rules_hit(struct rule_hit *h, const char *pattern, const char *reason);
/* Fill h: the pattern from fmt, the reason as given; true. */
bool rules_hitf(struct rule_hit *h, const char *reason, const char *fmt, ...) COI_PRINTF(3, 4);
/* prog is one of list (NULL-terminated). */
bool rules_in_list(const char *prog, const char *const *list);
/* The first of needles in s (ignoring case when icase), in *ret_found when wanted. */
bool rules_contains(const char *s, const char *const *needles, bool icase, const char **ret_found);
