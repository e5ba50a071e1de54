/* SPDX-License-Identifier: MIT */
/* cmdline.c: argv and shell scripts into simple commands for the detection rules. The shell
 * lexer is deliberately small: words, the three quoting forms, backslash, comments, control
 * operators and redirections. Command substitution and subshells just start a new command, which
 * is what the rules need (`x=$(cat </dev/tcp/h/p)` still shows `cat` with its redirection). */
#include "monitor/cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strv.h"

struct lexer {
	const char *s;
	size_t i;
	char *word; /* current word, capacity strlen(s) + 1 */
	size_t wlen;
	bool have_word;   /* a word started, perhaps empty ("") */
	bool word_quoted; /* any part of it was quoted */
	char redir[4];    /* pending redirection operator, "" when none */
	struct simple_cmd cur;
	struct cmdline *out;
	unsigned pipeline;
	unsigned depth;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

const char *cmd_prog(const struct simple_cmd *c)
{
	const char *p = c->argv[0], *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

static const char *basename_of(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

/* ---- wrappers ------------------------------------------------------------------------------ */

struct wrapper {
	const char *name;
	const char *optargs; /* short options that take an argument */
	unsigned skip;       /* non-option words before the command (timeout's duration) */
	bool assignments;    /* skips VAR=value words (env) */
};

/* clang-format off */
static const struct wrapper wrappers[] = {
	{ "sudo",     "uUgCDhprtT", 0, true  },
	{ "doas",     "uC",         0, false },
	{ "env",      "uCS",        0, true  },
	{ "nohup",    "",           0, false },
	{ "setsid",   "",           0, false },
	{ "command",  "",           0, false },
	{ "builtin",  "",           0, false },
	{ "exec",     "a",          0, false },
	{ "time",     "fo",         0, false },
	{ "nice",     "n",          0, false },
	{ "ionice",   "cnp",        0, false },
	{ "chrt",     "",           1, false },
	{ "taskset",  "",           1, false },
	{ "timeout",  "ks",         1, false },
	{ "stdbuf",   "ioe",        0, false },
	{ "xargs",    "IadELnPs",   0, false },
	{ "unbuffer", "",           0, false },
	{ "busybox",  "",           0, false },
	{ "runuser",  "ugl",        0, false },
	{ "strace",   "oepsuEIabX", 0, false },
	{ "ltrace",   "oepsuEn",    0, false },
};
/* clang-format on */

static const char *const long_with_arg[] = {
        "--user",    "--group",    "--chdir",      "--signal",   "--kill-after",
        "--unset",   "--prompt",   "--delimiter",  "--max-args", "--max-procs",
        "--replace", "--arg-file", "--adjustment", NULL,
};

static const struct wrapper *wrapper_find(const char *prog)
{
	for (size_t i = 0; i < ELEMENTSOF(wrappers); i++)
		if (strcmp(wrappers[i].name, prog) == 0)
			return &wrappers[i];
	return NULL;
}

static bool is_assignment(const char *w)
{
	const char *eq = strchr(w, '=');

	if (!eq || eq == w || !(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'z' && w[0] != '^')))
		return false;
	for (const char *p = w; p < eq; p++)
		if (!(*p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z')))
			return false;
	return true;
}

/* Index of the first word after the options of argv[i..n) that take arguments per optargs. */
static size_t skip_options(char *const *argv, size_t i, size_t n, const char *optargs)
{
	while (i < n && argv[i][0] == '-' && argv[i][1]) {
		const char *w = argv[i++];

		if (strcmp(w, "--") == 0)
			break;
		if (w[1] == '-') {
			if (!strchr(w, '=') && strv_contains((char *const *)long_with_arg, w))
				i++;
			continue;
		}
		for (const char *p = w + 1; *p; p++)
			if (strchr(optargs, *p)) {
				if (!p[1])
					i++;
				break;
			}
	}
	return i < n ? i : n;
}

size_t cmd_unwrap(char *const *argv, size_t n)
{
	size_t i = 0;

	for (unsigned guard = 0; i < n && guard < 8; guard++) {
		const struct wrapper *w = wrapper_find(basename_of(argv[i]));

		if (!w)
			break;
		i = skip_options(argv, i + 1, n, w->optargs);
		while (w->assignments && i < n && is_assignment(argv[i]))
			i++;
		i += w->skip;
	}
	return i < n ? i : n;
}

/* ---- building commands --------------------------------------------------------------------- */

static int parse_into(const char *script, unsigned depth, struct cmdline *out);

static bool is_shell(const char *prog)
{
	static const char *const shells[] = {"sh",   "bash", "dash", "ash",  "zsh", "ksh",
	                                     "mksh", "fish", "csh",  "tcsh", NULL};
	return strv_contains((char *const *)shells, prog);
}

/* The script of `sh -c SCRIPT` / `su -c SCRIPT`, or NULL. */
static const char *shell_script(char *const *argv)
{
	const char *prog = basename_of(argv[0]);
	bool c = false;

	if (!is_shell(prog) && strcmp(prog, "su") != 0)
		return NULL;
	for (size_t i = 1; argv[i]; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--command") == 0 || (w[0] == '-' && w[1] != '-' && strchr(w, 'c'))) {
			c = true;
			continue;
		}
		if (w[0] == '-' || (w[0] == '+' && w[1]))
			continue;
		/* The first operand: the script text after -c, else a script file whose own
		 * arguments follow (and are not the shell's). */
		return c ? w : NULL;
	}
	return NULL;
}

static int cmdline_add(struct cmdline *out, struct simple_cmd *c);

/* A script run through its #! line shows as `sh /usr/bin/tool ARGS`: the command is also
 * `tool ARGS`. */
static int add_shebang(struct cmdline *out, const struct simple_cmd *c)
{
	static const char *const interps[] = {"sh", "bash", "dash", "ash", "zsh", "ksh", NULL};
	struct simple_cmd sc = {.depth = c->depth + 1, .pipeline = c->pipeline};

	if (!strv_contains((char *const *)interps, basename_of(c->argv[0])) || !c->argv[1] ||
	    c->argv[1][0] == '-' || !strchr(c->argv[1], '/') || c->depth >= CMDLINE_MAX_DEPTH)
		return 0;
	sc.argv = strv_copy(c->argv + 1);
	return sc.argv ? cmdline_add(out, &sc) : -ENOMEM;
}

/* Appends a finished command (taking its vectors), unwrapping and expanding sh -c. */
static int cmdline_add(struct cmdline *out, struct simple_cmd *c)
{
	_cleanup_strv_free_ char **argv = TAKE_PTR(c->argv);
	_cleanup_strv_free_ char **redirs = TAKE_PTR(c->redirs);
	size_t n = strv_length(argv), skip = 0, k;
	struct simple_cmd *grown;
	const char *script;

	while (skip < n && c->depth > 0 && is_assignment(argv[skip]))
		skip++;
	/* A wrapper that runs nothing (a bare `env`) is itself the program. */
	if (skip < n && skip + cmd_unwrap(argv + skip, n - skip) < n)
		skip += cmd_unwrap(argv + skip, n - skip);
	if (skip >= n)
		skip = n ? n - 1 : 0;
	if (!argv && strv_push(&argv, "") < 0)
		return -ENOMEM;
	if (out->n >= CMDLINE_MAX_CMDS)
		return 0;
	grown = realloc(out->cmds, sizeof(*grown) * (out->n + 1));
	if (!grown)
		return -ENOMEM;
	out->cmds = grown;
	for (k = 0; k < skip; k++)
		free(argv[k]);
	memmove(argv, argv + skip, sizeof(char *) * (n - skip + 1));
	grown[out->n] = *c;
	grown[out->n].argv = TAKE_PTR(argv);
	grown[out->n].redirs = TAKE_PTR(redirs);
	out->n++;
	script = shell_script(grown[out->n - 1].argv);
	if (script && c->depth < CMDLINE_MAX_DEPTH)
		return parse_into(script, c->depth + 1, out);
	return script ? 0 : add_shebang(out, &grown[out->n - 1]);
}

static int lex_end_word(struct lexer *lx)
{
	int r;

	if (!lx->have_word)
		return 0;
	lx->word[lx->wlen] = 0;
	if (lx->redir[0]) {
		_cleanup_free_ char *t = NULL;

		if (asprintf(&t, "%s%s", lx->redir, lx->word) < 0)
			return -ENOMEM;
		lx->redir[0] = 0;
		r = strv_consume(&lx->cur.redirs, TAKE_PTR(t));
	} else {
		r = strv_push(&lx->cur.argv, lx->word);
	}
	lx->wlen = 0;
	lx->have_word = lx->word_quoted = false;
	return r;
}

/* Ends the simple command; pipe says whether '|' ended it. */
static int lex_end_cmd(struct lexer *lx, bool pipe)
{
	int r = lex_end_word(lx);

	if (r < 0)
		return r;
	lx->redir[0] = 0;
	if (lx->cur.argv || lx->cur.redirs) {
		lx->cur.piped_out = pipe;
		lx->cur.pipeline = lx->pipeline;
		lx->cur.depth = lx->depth;
		r = cmdline_add(lx->out, &lx->cur);
		if (r < 0)
			return r;
	}
	lx->cur = (struct simple_cmd){.piped_in = pipe};
	if (!pipe)
		lx->pipeline++;
	return 0;
}

/* A redirection operator at s[i]; returns its length (0: not one). A word of digits before it is
 * the fd number and is dropped. */
static size_t lex_redir(struct lexer *lx)
{
	const char *p = lx->s + lx->i;
	size_t len = 0;
	char op[4] = "";

	if (p[0] == '&' && p[1] == '>')
		len = p[2] == '>' ? 3 : 2, strcpy(op, ">");
	else if (p[0] == '<' && p[1] == '<')
		len = p[2] == '<' ? 3 : 2, strcpy(op, "<<"); /* here-doc/string: data, not a file */
	else if (p[0] == '<' && p[1] == '>')
		len = 2, strcpy(op, "<>");
	else if (p[0] == '<')
		len = p[1] == '&' ? 2 : 1, strcpy(op, "<");
	else if (p[0] == '>')
		len = (p[1] == '>' || p[1] == '&' || p[1] == '|') ? 2 : 1, strcpy(op, ">");
	if (!len)
		return 0;
	if (lx->have_word && !lx->word_quoted && strspn(lx->word, "0123456789") == lx->wlen) {
		lx->wlen = 0;
		lx->have_word = false;
	}
	memcpy(lx->redir, op, sizeof(op));
	return len;
}

/* Copies a quoted section starting at s[i] (the quote) into the word; returns the new index. */
static size_t lex_quoted(struct lexer *lx, size_t i)
{
	const char *s = lx->s;
	char q = s[i++];

	lx->have_word = lx->word_quoted = true;
	for (; s[i] && s[i] != q; i++) {
		if (q == '"' && s[i] == '\\' && s[i + 1] && strchr("\"\\$`", s[i + 1]))
			i++;
		lx->word[lx->wlen++] = s[i];
	}
	return s[i] ? i + 1 : i;
}

static int lex_step(struct lexer *lx)
{
	const char *s = lx->s;
	char c = s[lx->i];
	size_t len;
	int r;

	if (c == '\'' || c == '"') {
		lx->i = lex_quoted(lx, lx->i);
		return 0;
	}
	if (c == '$' && s[lx->i + 1] == '\'') {
		lx->i = lex_quoted(lx, lx->i + 1);
		return 0;
	}
	if (c == '\\' && s[lx->i + 1]) {
		if (s[lx->i + 1] != '\n')
			lx->word[lx->wlen++] = s[lx->i + 1], lx->have_word = true;
		lx->i += 2;
		return 0;
	}
	if (c == '#' && !lx->have_word) {
		while (s[lx->i] && s[lx->i] != '\n')
			lx->i++;
		return 0;
	}
	if (is_blank(c)) {
		lx->i++;
		return lex_end_word(lx);
	}
	if ((len = lex_redir(lx)) > 0) {
		r = lex_end_word(lx);
		lx->i += len;
		return r;
	}
	if (c == '|' || c == ';' || c == '&' || c == '\n' || c == '(' || c == ')' || c == '`' ||
	    c == '{' || c == '}' || (c == '$' && s[lx->i + 1] == '(')) {
		bool pipe = c == '|' && s[lx->i + 1] != '|';

		lx->i += (c == '$' || (c == '|' && !pipe) || (c == '&' && s[lx->i + 1] == '&')) ? 2
		                                                                                : 1;
		if ((c == '{' || c == '}') && lx->have_word) {
			lx->word[lx->wlen++] = c; /* ${var} and a{b,c} stay words */
			return 0;
		}
		return lex_end_cmd(lx, pipe);
	}
	lx->word[lx->wlen++] = c;
	lx->have_word = true;
	lx->i++;
	return 0;
}

static int parse_into(const char *script, unsigned depth, struct cmdline *out)
{
	_cleanup_free_ char *word = malloc(strlen(script) + 1);
	struct lexer lx = {.s = script, .word = word, .out = out, .depth = depth};
	int r = 0;

	if (!word)
		return -ENOMEM;
	/* Continue numbering pipelines after the commands already there. */
	lx.pipeline = out->n ? out->cmds[out->n - 1].pipeline + 1 : 0;
	while (r >= 0 && script[lx.i])
		r = lex_step(&lx);
	if (r >= 0)
		r = lex_end_cmd(&lx, false);
	strv_free(lx.cur.argv);
	strv_free(lx.cur.redirs);
	return r;
}

void cmdline_release(struct cmdline *c)
{
	for (size_t i = 0; c && i < c->n; i++) {
		strv_free(c->cmds[i].argv);
		strv_free(c->cmds[i].redirs);
	}
	if (c) {
		free(c->cmds);
		*c = (struct cmdline){0};
	}
}

int cmdline_from_script(const char *script, struct cmdline *ret)
{
	struct cmdline c = {0};
	int r = parse_into(script, 1, &c);

	if (r < 0) {
		cmdline_release(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int cmdline_from_argv(char *const *argv, struct cmdline *ret)
{
	struct cmdline c = {0};
	struct simple_cmd sc = {0};
	int r;

	if (!argv || !argv[0] || !argv[0][0])
		return cmdline_from_script("", ret);
	if (strpbrk(argv[0], " \t")) {
		_cleanup_free_ char *joined = strv_join(argv, " ");

		return joined ? cmdline_from_script(joined, ret) : -ENOMEM;
	}
	sc.argv = strv_copy(argv);
	if (!sc.argv)
		return -ENOMEM;
	r = cmdline_add(&c, &sc);
	if (r < 0) {
		cmdline_release(&c);
		return r;
	}
	*ret = c;
	return 0;
}
