/* SPDX-License-Identifier: MIT */
/* sigma.c: Sigma rules as rules (ruleset.h): the subset that fits what the monitor sees of a
 * process. A rule outside it is kept as skipped, with the reason, never half-used. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/rulefile.h"
#include "util/ere.h"
#include "util/error.h"
#include "util/strv.h"
#include "util/yaml.h"

#define COND_DEPTH_MAX 32
#define VALUE_MAX      1024

/* Why a rule cannot be used: the message (static or in buf). */
struct why {
	char buf[200];
};

COI_PRINTF(2, 3) static int nope(struct why *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(w->buf, sizeof(w->buf), fmt, ap);
	va_end(ap);
	return -EOPNOTSUPP;
}

static enum threat_level level_of(const char *s)
{
	if (!s)
		return THREAT_WARNING; /* Sigma's middle, medium */
	if (strcasecmp(s, "informational") == 0 || strcasecmp(s, "low") == 0)
		return THREAT_INFO;
	if (strcasecmp(s, "high") == 0)
		return THREAT_HIGH;
	if (strcasecmp(s, "critical") == 0)
		return THREAT_CRITICAL;
	return THREAT_WARNING;
}

/* ---- values -------------------------------------------------------------------------------- */

static char *lower_dup(const char *s, bool cased)
{
	char *t = strdup(s);

	for (char *p = t; p && *p && !cased; p++)
		*p = (char)tolower((unsigned char)*p);
	return t;
}

enum wrap { WRAP_NONE, WRAP_CONTAINS, WRAP_START, WRAP_END };

static int add_value(struct rs_check *c, const char *v, enum wrap wrap, bool re, struct why *w)
{
	_cleanup_free_ char *t = NULL;
	char *g = NULL;

	if (strlen(v) > VALUE_MAX)
		return nope(w, "a value longer than %d characters", VALUE_MAX);
	if (re) {
		regex_t *x = reallocarray(c->re, c->n + 1, sizeof(*x));
		bool icase = strncmp(v, "(?i)", 4) == 0;
		const char *why;

		if (!x)
			return -ENOMEM;
		c->re = x;
		if (ere_cost_check(v + (icase ? 4 : 0), ERE_COST_MAX, &why) < 0)
			return nope(w, "the expression '%.60s' has %s", v, why);
		if (regcomp(&x[c->n], v + (icase ? 4 : 0),
		            REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0)
			return nope(w, "the expression '%.60s' is not POSIX extended syntax", v);
		if (strv_push(&c->values, v) < 0) {
			regfree(&x[c->n]);
			return -ENOMEM;
		}
		c->n++;
		return 0;
	}
	t = lower_dup(v, c->cased);
	if (!t || asprintf(&g, "%s%s%s", wrap == WRAP_CONTAINS || wrap == WRAP_END ? "*" : "", t,
	                   wrap == WRAP_CONTAINS || wrap == WRAP_START ? "*" : "") < 0)
		return -ENOMEM;
	if (strv_consume(&c->values, g) < 0)
		return -ENOMEM;
	c->n++;
	return 0;
}

/* "Field|mod|mod": the field and its modifiers into c. */
static int parse_key(const char *key, struct rs_check *c, enum wrap *wrap, bool *re, struct why *w)
{
	_cleanup_strv_free_ char **parts = strv_split(key, "|");
	int field = -1;

	if (!parts || !parts[0])
		return -ENOMEM;
	for (int i = 0; i < _RS_FIELD_MAX; i++)
		if (strcasecmp(parts[0], rs_field_to_string((enum rs_field)i)) == 0)
			field = i;
	if (field < 0)
		return nope(w, "coi does not see the field %s", parts[0]);
	c->field = (enum rs_field)field;
	for (size_t i = 1; parts[i]; i++) {
		const char *m = parts[i];

		if (strcmp(m, "contains") == 0)
			*wrap = WRAP_CONTAINS;
		else if (strcmp(m, "startswith") == 0)
			*wrap = WRAP_START;
		else if (strcmp(m, "endswith") == 0)
			*wrap = WRAP_END;
		else if (strcmp(m, "all") == 0)
			c->all = true;
		else if (strcmp(m, "re") == 0)
			*re = true;
		else if (strcmp(m, "cased") == 0)
			c->cased = true;
		else
			return nope(w, "coi does not support the modifier |%s", m);
	}
	return 0;
}

/* One "Field|mods: value(s)". */
static int parse_check(const char *key, const struct ynode *val, struct rs_check *c, struct why *w)
{
	enum wrap wrap = WRAP_NONE;
	bool re = false;
	int r = parse_key(key, c, &wrap, &re, w);

	if (r < 0)
		return r;
	if (val->type == YNODE_SCALAR && val->null) {
		c->null = true;
		return 0;
	}
	if (val->type == YNODE_MAP)
		return nope(w, "the value of %s is a map", key);
	for (size_t i = 0; i < (val->type == YNODE_SEQ ? val->n : 1); i++) {
		const struct ynode *v = val->type == YNODE_SEQ ? val->items[i] : val;

		if (v->type != YNODE_SCALAR || v->null)
			return nope(w, "a value of %s is not text", key);
		r = add_value(c, v->str, wrap, re, w);
		if (r < 0)
			return r;
	}
	if (c->n == 0)
		return nope(w, "%s has no value", key);
	return 0;
}

static int add_check(struct rs_alt *a, struct rs_check *c)
{
	struct rs_check *v = reallocarray(a->checks, a->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	a->checks = v;
	v[a->n++] = *c;
	return 0;
}

/* A map of checks (AND) into an alternative. */
static int parse_alt(const struct ynode *map, struct rs_alt *a, struct why *w)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const char *key = ynode_str(map->items[i]);
		struct rs_check c = {0};
		int r;

		if (!key)
			return nope(w, "a selection key is not text");
		r = parse_check(key, map->items[i + 1], &c, w);
		if (r >= 0)
			r = add_check(a, &c);
		if (r < 0) {
			for (size_t k = 0; c.re && k < c.n; k++)
				regfree(&c.re[k]);
			free(c.re);
			strv_free(c.values);
			return r;
		}
	}
	return 0;
}

static int new_alt(struct rs_sel *s, struct rs_alt **ret)
{
	struct rs_alt *v = reallocarray(s->alts, s->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->alts = v;
	v[s->n] = (struct rs_alt){0};
	*ret = &v[s->n++];
	return 0;
}

/* Keywords (a list of text): any of them in the command line. */
static int parse_keywords(const struct ynode *list, struct rs_sel *s, struct why *w)
{
	struct rs_alt *a;
	struct rs_check c = {.field = RS_COMMANDLINE};
	int r = new_alt(s, &a);

	for (size_t i = 0; r >= 0 && i < list->n; i++)
		r = list->items[i]->type == YNODE_SCALAR && !list->items[i]->null
		            ? add_value(&c, list->items[i]->str, WRAP_CONTAINS, false, w)
		            : nope(w, "a list mixes keywords and maps");
	if (r >= 0)
		r = add_check(a, &c);
	if (r < 0)
		strv_free(c.values);
	return r;
}

static int parse_selection(const char *name, const struct ynode *v, struct rs_sel *s, struct why *w)
{
	struct rs_alt *a;
	int r;

	s->name = strdup(name);
	if (!s->name)
		return -ENOMEM;
	if (v->type == YNODE_MAP)
		return (r = new_alt(s, &a)) < 0 ? r : parse_alt(v, a, w);
	if (v->type != YNODE_SEQ || v->n == 0)
		return nope(w, "the selection '%s' is neither a map nor a list", name);
	if (v->items[0]->type == YNODE_SCALAR)
		return parse_keywords(v, s, w);
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i]->type != YNODE_MAP)
			return nope(w, "a list in '%s' mixes maps and keywords", name);
		r = new_alt(s, &a);
		if (r >= 0)
			r = parse_alt(v->items[i], a, w);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the condition ------------------------------------------------------------------------- */

struct cond {
	const char *p;
	const struct rs_rule *rule;
	struct why *w;
	unsigned depth;
};

static void skip_blanks(struct cond *c)
{
	c->p += strspn(c->p, " \t\r\n");
}

/* The next word (letters, digits, _, *, -, .) into out; 0 when there is none. */
static size_t word(struct cond *c, char *out, size_t size)
{
	size_t n;

	skip_blanks(c);
	n = strspn(c->p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_*-.");
	if (n == 0 || n >= size)
		return 0;
	memcpy(out, c->p, n);
	out[n] = 0;
	return n;
}

static bool take(struct cond *c, const char *kw)
{
	char w[64];
	size_t n = word(c, w, sizeof(w));

	if (n && strcasecmp(w, kw) == 0) {
		c->p += n;
		return true;
	}
	return false;
}

static struct rs_expr *expr_new(enum rs_op op)
{
	struct rs_expr *e = calloc(1, sizeof(*e));

	if (e)
		e->op = op;
	return e;
}

/* "1 of pattern", "all of them": the selections the pattern names. */
static struct rs_expr *quantified(struct cond *c, enum rs_op op)
{
	struct rs_expr *e;
	char pat[128];
	size_t n;

	if (!take(c, "of") || !(n = word(c, pat, sizeof(pat)))) {
		nope(c->w, "'of' must be followed by a selection name or pattern");
		return NULL;
	}
	c->p += n;
	e = expr_new(op);
	if (!e)
		return NULL;
	e->sels = calloc(c->rule->n_sels ? c->rule->n_sels : 1, sizeof(size_t));
	for (size_t i = 0; e->sels && i < c->rule->n_sels; i++)
		if (strcmp(pat, "them") == 0 ? c->rule->sels[i].name[0] != '_'
		                             : fnmatch(pat, c->rule->sels[i].name, 0) == 0)
			e->sels[e->n++] = i;
	if (!e->sels || e->n == 0) {
		nope(c->w, "no selection is named like '%s'", pat);
		rs_expr_free(e);
		return NULL;
	}
	return e;
}

static struct rs_expr *parse_or(struct cond *c);

static struct rs_expr *parse_primary(struct cond *c)
{
	char name[128];
	struct rs_expr *e;
	size_t n;

	skip_blanks(c);
	if (*c->p == '(') {
		c->p++;
		e = parse_or(c);
		skip_blanks(c);
		if (e && *c->p != ')') {
			nope(c->w, "a '(' is not closed");
			rs_expr_free(e);
			return NULL;
		}
		c->p += e ? 1 : 0;
		return e;
	}
	if (take(c, "not")) {
		e = expr_new(RS_NOT);
		if (e && !(e->a = parse_primary(c)))
			rs_expr_free(TAKE_PTR(e));
		return e;
	}
	if (take(c, "1") || take(c, "any"))
		return quantified(c, RS_ANY_OF);
	if (take(c, "all"))
		return quantified(c, RS_ALL_OF);
	n = word(c, name, sizeof(name));
	for (size_t i = 0; n && i < c->rule->n_sels; i++)
		if (strcmp(c->rule->sels[i].name, name) == 0 && (e = expr_new(RS_SEL))) {
			c->p += n;
			e->sels = malloc(sizeof(size_t));
			if (!e->sels)
				rs_expr_free(TAKE_PTR(e));
			else
				e->sels[e->n++] = i;
			return e;
		}
	nope(c->w,
	     n ? "the condition names '%s', which is no selection"
	       : "the condition has '%.20s' where a selection belongs",
	     n ? name : c->p);
	return NULL;
}

static struct rs_expr *binary(struct cond *c, enum rs_op op, const char *kw,
                              struct rs_expr *(*operand)(struct cond *c))
{
	struct rs_expr *e;

	if (++c->depth > COND_DEPTH_MAX) {
		nope(c->w, "the condition is nested too deep");
		return NULL;
	}
	e = operand(c);
	while (e && take(c, kw)) {
		struct rs_expr *both = expr_new(op);

		if (!both || !(both->b = operand(c))) {
			rs_expr_free(both);
			rs_expr_free(e);
			return NULL;
		}
		both->a = e;
		e = both;
	}
	c->depth--;
	return e;
}

static struct rs_expr *parse_and(struct cond *c)
{
	return binary(c, RS_AND, "and", parse_primary);
}

static struct rs_expr *parse_or(struct cond *c)
{
	return binary(c, RS_OR, "or", parse_and);
}

static struct rs_expr *parse_condition(const char *text, const struct rs_rule *r, struct why *w)
{
	struct cond c = {.p = text, .rule = r, .w = w};
	struct rs_expr *e;

	if (strchr(text, '|')) {
		nope(w, "aggregations ('|') are not supported");
		return NULL;
	}
	e = parse_or(&c);
	skip_blanks(&c);
	if (e && *c.p) {
		nope(w, "the condition goes on with '%.20s'", c.p);
		rs_expr_free(TAKE_PTR(e));
	}
	return e;
}

/* ---- a rule -------------------------------------------------------------------------------- */

static int parse_detection(struct rs_rule *r, const struct ynode *det, struct why *w)
{
	const struct ynode *cond = ynode_get(det, "condition");
	struct rs_expr *e = NULL;
	int q;

	if (!det || det->type != YNODE_MAP)
		return nope(w, "no detection map");
	r->sels = calloc(det->n / 2 + 1, sizeof(*r->sels));
	if (!r->sels)
		return -ENOMEM;
	for (size_t i = 0; i + 1 < det->n; i += 2) {
		const char *name = ynode_str(det->items[i]);

		if (!name || strcmp(name, "condition") == 0 || strcmp(name, "timeframe") == 0)
			continue;
		q = parse_selection(name, det->items[i + 1], &r->sels[r->n_sels++], w);
		if (q < 0)
			return q;
	}
	if (!cond)
		return nope(w, "no condition");
	/* a list of conditions: any of them */
	for (size_t i = 0; i < (cond->type == YNODE_SEQ ? cond->n : 1); i++) {
		const char *text = ynode_str(cond->type == YNODE_SEQ ? cond->items[i] : cond);
		struct rs_expr *one, *either;

		if (!text)
			return nope(w, "the condition is not text");
		one = parse_condition(text, r, w);
		if (!one)
			return w->buf[0] ? -EOPNOTSUPP : -ENOMEM;
		if (!e) {
			e = one;
			continue;
		}
		either = expr_new(RS_OR);
		if (!either) {
			rs_expr_free(one);
			return -ENOMEM;
		}
		either->a = e;
		either->b = one;
		e = either;
	}
	r->cond = e;
	return 0;
}

static int check_logsource(const struct ynode *doc, struct why *w)
{
	const struct ynode *ls = ynode_get(doc, "logsource");
	const char *product = ynode_str(ynode_get(ls, "product"));
	const char *category = ynode_str(ynode_get(ls, "category"));

	if (!product || strcasecmp(product, "linux") != 0 || !category ||
	    strcasecmp(category, "process_creation") != 0)
		return nope(w, "its logsource is %s/%s: coi sees process creation on linux",
		            product ? product : "-", category ? category : "-");
	return 0;
}

/* The rule's id: "sigma:" and its name (Sigma 2's unique readable one), else its id, else its
 * file's name. */
static char *id_of(const char *source, const char *own)
{
	const char *base = strrchr(source, '/') ? strrchr(source, '/') + 1 : source;
	char *id = NULL;

	if (own && *own)
		return asprintf(&id, "sigma:%s", own) < 0 ? NULL : id;
	return asprintf(&id, "sigma:%.*s", (int)strcspn(base, "."), base) < 0 ? NULL : id;
}

int sigma_parse(struct ruleset *rs, const char *source, const struct ynode *doc,
                struct coi_error *err)
{
	_cleanup_(rs_rule_freep) struct rs_rule *r = NULL;
	const char *title = ynode_str(ynode_get(doc, "title"));
	const char *own = ynode_str(ynode_get(doc, "name")) ?: ynode_str(ynode_get(doc, "id"));
	_cleanup_free_ char *id = id_of(source, own);
	struct why w = {{0}};
	int q;

	if (!id)
		return coi_error_oom(err);
	if (!ynode_get(doc, "detection"))
		return coi_error_set(err, -EINVAL, "%s:%u:%u: a Sigma rule needs 'detection'",
		                     source, doc->line, doc->col);
	r = rs_rule_new(RULESET_SIGMA, source, id, title ? title : "Sigma rule matched",
	                level_of(ynode_str(ynode_get(doc, "level"))), "process");
	if (!r)
		return coi_error_oom(err);
	q = check_logsource(doc, &w);
	if (q >= 0)
		q = parse_detection(r, ynode_get(doc, "detection"), &w);
	if (q == -ENOMEM)
		return coi_error_oom(err);
	if (q < 0 && rs_rule_skip(r, "%s", w.buf) < 0)
		return coi_error_oom(err);
	if (q >= 0 && rs_rule_summary(r, "%zu selection%s, condition %s", r->n_sels,
	                              r->n_sels == 1 ? "" : "s",
	                              ynode_str(ynode_get(ynode_get(doc, "detection"), "condition"))
	                                      ?: "(a list)") < 0)
		return coi_error_oom(err);
	return ruleset_push(rs, TAKE_PTR(r)) < 0 ? coi_error_oom(err) : 0;
}
