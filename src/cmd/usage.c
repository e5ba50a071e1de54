/* SPDX-License-Identifier: MIT */
/* usage.c: see usage.h. The reader is forgiving: text it does not recognise is skipped, never an
 * error, so a verb with unusual help still completes its name and the options it does show. */
#include "cmd/usage.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strv.h"

#define TOKENS_MAX  64
#define ALIASES_MAX 8

enum line_type { LINE_PROSE, LINE_SYNOPSIS, LINE_SUB, LINE_SUB_MORE, LINE_OPTION };

struct line {
	enum line_type type;
	char *syn;  /* the synopsis part, up to two spaces in a row, without "coi VERB" */
	char *help; /* what follows the two spaces, or NULL */
	char *sub;  /* the subcommand the line is about, or NULL */
};

static void lines_free(struct line *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].syn);
		free(l[i].help);
		free(l[i].sub);
	}
	free(l);
}

static bool is_word(const char *s)
{
	if (!islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

static size_t tokenize(char *s, char **tok)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(s, " ", &save); t && n < TOKENS_MAX;
	     t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	return n;
}

/* The first word of s if it is a lower-case word (a subcommand), else NULL; *oom on failure. */
static char *sub_word(const char *s, bool *oom)
{
	char *w = strndup(s, strcspn(s, " "));

	if (!w) {
		*oom = true;
		return NULL;
	}
	if (!is_word(w)) {
		free(w);
		return NULL;
	}
	return w;
}

/* Classify one line (len bytes at p). cur_sub is the subcommand of the line above. */
static int classify(const char *p, size_t len, const char *verb, bool sub_style,
                    const char *cur_sub, struct line *l)
{
	_cleanup_free_ char *s = strndup(p, len);
	size_t indent, vl = strlen(verb);
	bool oom = false;
	char *c, *gap;

	if (!s)
		return -ENOMEM;
	indent = strspn(s, " ");
	c = s + indent;
	gap = strstr(c, "  ");
	if (gap) {
		*gap = '\0';
		gap += 2 + strspn(gap + 2, " ");
	}
	if (strncmp(c, "Usage: ", 7) == 0)
		c += 7;
	else if (indent == 0)
		return 0;
	if (strncmp(c, "coi ", 4) == 0 && strncmp(c + 4, verb, vl) == 0 &&
	    (c[4 + vl] == ' ' || c[4 + vl] == '\0')) {
		l->type = LINE_SYNOPSIS;
		c += 4 + vl + strspn(c + 4 + vl, " ");
		l->sub = sub_word(c, &oom);
	} else if (*c == '-') {
		l->type = LINE_OPTION;
	} else if (sub_style && indent == 2 && islower((unsigned char)*c)) {
		l->type = LINE_SUB;
		l->sub = sub_word(c, &oom);
		if (!l->sub && !oom)
			l->type = LINE_PROSE;
	} else if (sub_style && indent > 2 && cur_sub) {
		l->type = LINE_SUB_MORE;
		l->sub = strdup(cur_sub);
		oom = !l->sub;
	}
	if (l->type == LINE_PROSE)
		return oom ? -ENOMEM : 0;
	l->syn = strdup(c);
	l->help = gap && *gap ? strdup(gap) : NULL;
	return oom || !l->syn || (gap && *gap && !l->help) ? -ENOMEM : 0;
}

static int opt_add(struct usage *u, const char *name, const char *arg, const char *help)
{
	struct usage_opt *o;

	for (size_t i = 0; i < u->n_opts; i++) {
		o = &u->opts[i];
		if (strcmp(o->name, name) != 0)
			continue;
		if (!o->arg && arg && !(o->arg = strdup(arg)))
			return -ENOMEM;
		if (!o->help && help && !(o->help = strdup(help)))
			return -ENOMEM;
		return 0;
	}
	o = realloc(u->opts, sizeof(*o) * (u->n_opts + 1));
	if (!o)
		return -ENOMEM;
	u->opts = o;
	o = &u->opts[u->n_opts];
	*o = (struct usage_opt){strdup(name), arg ? strdup(arg) : NULL, help ? strdup(help) : NULL};
	u->n_opts++;
	if (!o->name || (arg && !o->arg) || (help && !o->help))
		return -ENOMEM;
	return 0;
}

/* A token without its brackets, commas and "..."; *ret_close counts the closing brackets. */
static char *token_core(const char *t, bool *ret_repeat, size_t *ret_close)
{
	size_t l;
	char *s;

	t += strspn(t, "[");
	s = strdup(t);
	if (!s)
		return NULL;
	l = strlen(s);
	*ret_repeat = l >= 3 && strcmp(s + l - 3, "...") == 0;
	if (*ret_repeat)
		s[l -= 3] = '\0';
	*ret_close = 0;
	while (l > 0 && (s[l - 1] == ']' || s[l - 1] == ',')) {
		*ret_close += s[l - 1] == ']';
		s[--l] = '\0';
	}
	return s;
}

static bool is_option(const char *core)
{
	return core[0] == '-' && core[1] && strcmp(core, "--") != 0;
}

/* Does token t (following an option) name that option's value? last: t ends the synopsis. */
static bool is_value(const char *t, const char *core, bool last)
{
	if (*t == '[' || *t == '-' || *t == '|' || !*core)
		return false;
	if (isupper((unsigned char)*core))
		return true;
	if (strchr(core, '|'))
		return true;
	return is_word(core) && (last || t[strlen(t) - 1] == ']');
}

struct syn_state {
	struct usage *u;
	char *pending[ALIASES_MAX]; /* "-w," waits for the value of "--workspace DIR" */
	size_t n_pending;
};

/* One option token (possibly "-a|--all" or "--shift[=BOOL]"), its value in arg (or NULL). */
static int add_option(struct syn_state *st, char *core, const char *arg, bool comma,
                      const char *help)
{
	int r = 0;

	for (char *save = NULL, *alt = strtok_r(core, "|", &save); alt;
	     alt = strtok_r(NULL, "|", &save)) {
		char *eq = strpbrk(alt, "[=");
		const char *a = arg;

		if (eq) {
			a = *eq == '=' ? eq + 1
			               : NULL; /* "--shift[=BOOL]": the value is optional */
			*eq = '\0';
		}
		if (!is_option(alt))
			continue;
		if (comma && st->n_pending < ALIASES_MAX)
			st->pending[st->n_pending++] = alt;
		else if ((r = opt_add(st->u, alt, a, help)) < 0)
			return r;
	}
	if (comma)
		return 0;
	/* "-w, --workspace DIR": the short spelling takes the value too; "--json, --format json"
	 * are two options, the first without a value. */
	for (size_t i = 0; i < st->n_pending; i++)
		if ((r = opt_add(st->u, st->pending[i], st->pending[i][1] == '-' ? NULL : arg,
		                 help)) < 0)
			return r;
	st->n_pending = 0;
	return 0;
}

static int add_positional(struct usage *u, const char *core, bool repeat)
{
	_cleanup_free_ char *p = strndup(core, strcspn(core, " "));
	char *bar;

	if (!p)
		return -ENOMEM;
	bar = strstr(p, "|-"); /* "NAME|--all" */
	if (bar)
		*bar = '\0';
	if (!(isupper((unsigned char)*p) || (islower((unsigned char)*p) && strchr(p, '|'))) ||
	    strcmp(p, "OPTIONS") == 0 || strcmp(p, "SUBCOMMAND") == 0)
		return 0;
	if (repeat) {
		char *q = NULL;

		if (asprintf(&q, "%s...", p) < 0)
			return -ENOMEM;
		return strv_consume(&u->positionals, q);
	}
	return strv_push(&u->positionals, p);
}

/* The options and, when pos, the positional placeholders of one synopsis (after skipping its
 * leading subcommand word skip). Option groups in [brackets] hide their values from positionals. */
static int parse_synopsis(struct usage *u, const char *syn, const char *skip, bool pos,
                          const char *help)
{
	_cleanup_free_ char *copy = strdup(syn);
	char *tok[TOKENS_MAX], *cores[TOKENS_MAX] = {0};
	struct syn_state st = {.u = u};
	size_t n, i = 0, depth = 0, flag_depth = 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	n = tokenize(copy, tok);
	if (skip && n > 0 && strcmp(tok[0], skip) == 0)
		i = 1;
	for (; i < n && r >= 0; i++) {
		size_t open = strspn(tok[i], "["), close;
		bool repeat;
		char *core = cores[i] = token_core(tok[i], &repeat, &close);

		if (!core)
			return -ENOMEM;
		depth += open;
		if (is_option(core)) {
			const char *arg = NULL;
			bool comma = tok[i][strlen(tok[i]) - 1] == ',';

			if (flag_depth == 0 && open > 0)
				flag_depth = depth;
			if (!comma && close == 0 && i + 1 < n) {
				size_t c2;
				bool rep2;

				cores[i + 1] = token_core(tok[i + 1], &rep2, &c2);
				if (!cores[i + 1])
					return -ENOMEM;
				if (is_value(tok[i + 1], cores[i + 1], i + 2 == n)) {
					arg = cores[++i];
					close = c2;
				} else {
					free(cores[i + 1]);
					cores[i + 1] = NULL;
				}
			}
			r = add_option(&st, core, arg, comma, help);
		} else if (pos && flag_depth == 0) {
			r = add_positional(u, core, repeat);
		}
		depth = close > depth ? 0 : depth - close;
		if (flag_depth > depth)
			flag_depth = 0;
	}
	for (i = 0; i < n; i++)
		free(cores[i]);
	return r;
}

static int read_lines(const char *verb, const char *text, struct line **ret, size_t *ret_n)
{
	bool sub_style =
	        strstr(text, "SUBCOMMAND") && strstr(text, "SUBCOMMAND") < strchrnul(text, '\n');
	struct line *lines = NULL;
	const char *cur_sub = NULL;
	size_t n = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		struct line *nl = realloc(lines, sizeof(*lines) * (n + 1));

		if (!nl) {
			lines_free(lines, n);
			return -ENOMEM;
		}
		lines = nl;
		lines[n] = (struct line){0};
		if (classify(p, len, verb, sub_style, cur_sub, &lines[n++]) < 0) {
			lines_free(lines, n);
			return -ENOMEM;
		}
		if (lines[n - 1].type == LINE_SUB)
			cur_sub = lines[n - 1].sub;
		else if (lines[n - 1].type != LINE_SUB_MORE)
			cur_sub = NULL;
		p += len + (p[len] == '\n');
	}
	*ret = lines;
	*ret_n = n;
	return 0;
}

static int parse_line(struct usage *u, const struct line *l, const char *sub, bool *first_syn)
{
	bool mine = sub && l->sub && strcmp(l->sub, sub) == 0;

	switch (l->type) {
	case LINE_OPTION:
		return parse_synopsis(u, l->syn, NULL, false, l->help);
	case LINE_SYNOPSIS:
		if (!sub) {
			bool pos = *first_syn && !l->sub;

			*first_syn = false;
			return parse_synopsis(u, l->syn, l->sub, pos, NULL);
		}
		if (!l->sub || mine)
			return parse_synopsis(u, l->syn, l->sub, mine, NULL);
		return 0;
	case LINE_SUB:
	case LINE_SUB_MORE:
		if (!sub || mine)
			return parse_synopsis(u, l->syn, l->type == LINE_SUB ? l->sub : NULL,
			                      mine && l->type == LINE_SUB, NULL);
		return 0;
	case LINE_PROSE:
		return 0;
	}
	return 0;
}

int usage_parse(const char *verb, const char *text, const char *sub, struct usage *ret)
{
	struct usage u = {0};
	struct line *lines = NULL;
	bool first_syn = true;
	size_t n = 0;
	int r;

	r = read_lines(verb, text ? text : "", &lines, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++)
		if (lines[i].sub && (lines[i].type == LINE_SYNOPSIS || lines[i].type == LINE_SUB) &&
		    !strv_contains(u.subcommands, lines[i].sub))
			r = strv_push(&u.subcommands, lines[i].sub);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = parse_line(&u, &lines[i], sub, &first_syn);
	if (r >= 0 && !sub && u.subcommands)
		u.positionals = strv_free(u.positionals);
	lines_free(lines, n);
	if (r < 0) {
		usage_release(&u);
		return r;
	}
	*ret = u;
	return 0;
}

void usage_release(struct usage *u)
{
	for (size_t i = 0; i < u->n_opts; i++) {
		free(u->opts[i].name);
		free(u->opts[i].arg);
		free(u->opts[i].help);
	}
	free(u->opts);
	strv_free(u->subcommands);
	strv_free(u->positionals);
	*u = (struct usage){0};
}

const struct usage_opt *usage_find_opt(const struct usage *u, const char *name)
{
	for (size_t i = 0; i < u->n_opts; i++)
		if (strcmp(u->opts[i].name, name) == 0)
			return &u->opts[i];
	return NULL;
}

static bool has_part(const char *p, const char *word)
{
	size_t l = strlen(word);

	for (const char *s = p; (s = strstr(s, word)); s += l)
		if ((s == p || s[-1] == '|') && (s[l] == '\0' || s[l] == '|' || s[l] == '.'))
			return true;
	return false;
}

enum usage_kind usage_kind(const char *opt, const char *placeholder, const char *text)
{
	const char *p = placeholder;

	if (opt && strcmp(opt, "--profile") == 0)
		return USAGE_PROFILE;
	if (opt && strcmp(opt, "--prompt-name") == 0)
		return USAGE_PROMPT;
	if (!p || !*p)
		return USAGE_NONE;
	if (islower((unsigned char)*p))
		return strchr(p, '|') ? USAGE_CHOICE : USAGE_NONE;
	if (has_part(p, "FILE") || has_part(p, "LOCAL") || has_part(p, "PATH") ||
	    has_part(p, "METADATA") || has_part(p, "ROOTFS"))
		return USAGE_FILE;
	if (has_part(p, "DIR") || has_part(p, "WORKSPACE"))
		return USAGE_DIR;
	if (has_part(p, "CONTAINER"))
		return USAGE_CONTAINER;
	if (has_part(p, "NAME"))
		return text && strstr(text, "CONTAINER") ? USAGE_NONE : USAGE_CONTAINER;
	if (has_part(p, "IMAGE") || has_part(p, "ALIAS"))
		return USAGE_IMAGE;
	return USAGE_NONE;
}
