/* SPDX-License-Identifier: MIT */
/* ruleset.c: loaded rules: the container, reading files and directories, and matching a process
 * (ruleset.h). The parsers that fill it are gtfobins.c and sigma.c. */
#include "monitor/ruleset.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/cmdline.h"
#include "monitor/rulefile.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/yaml.h"

#define DIR_DEPTH_MAX 8

struct ruleset {
	struct rs_rule **rules;
	size_t n;
};

const char *ruleset_format_to_string(enum ruleset_format f)
{
	return f == RULESET_SIGMA ? "sigma" : "gtfobins";
}

/* ---- rules --------------------------------------------------------------------------------- */

struct rs_rule *rs_rule_new(enum ruleset_format f, const char *source, const char *id,
                            const char *title, enum threat_level level, const char *category)
{
	struct rs_rule *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->id = strdup(id);
	r->title = strdup(title);
	r->source = strdup(source);
	if (!r->id || !r->title || !r->source)
		return rs_rule_free(r);
	r->rule = (struct rule){.id = r->id,
	                        .level = level,
	                        .category = category,
	                        .title = r->title,
	                        .kind = RULE_PROCESS};
	r->info = (struct ruleset_info){.rule = &r->rule, .format = f, .source = r->source};
	return r;
}

static void check_release(struct rs_check *c)
{
	for (size_t i = 0; c->re && i < c->n; i++)
		regfree(&c->re[i]);
	free(c->re);
	strv_free(c->values);
}

void rs_expr_free(struct rs_expr *e)
{
	if (!e)
		return;
	rs_expr_free(e->a);
	rs_expr_free(e->b);
	free(e->sels);
	free(e);
}

struct rs_rule *rs_rule_free(struct rs_rule *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_sels; i++) {
		for (size_t j = 0; j < r->sels[i].n; j++) {
			for (size_t k = 0; k < r->sels[i].alts[j].n; k++)
				check_release(&r->sels[i].alts[j].checks[k]);
			free(r->sels[i].alts[j].checks);
		}
		free(r->sels[i].alts);
		free(r->sels[i].name);
	}
	free(r->sels);
	rs_expr_free(r->cond);
	free(r->program);
	strv_free(r->tokens);
	free(r->id);
	free(r->title);
	free(r->source);
	free(r->skipped);
	free(r->summary);
	free(r);
	return NULL;
}

static int set_text(char **field, const char **shown, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	free(*field);
	*field = s;
	*shown = s;
	return 0;
}

int rs_rule_skip(struct rs_rule *r, const char *fmt, ...)
{
	va_list ap;
	int q;

	va_start(ap, fmt);
	q = set_text(&r->skipped, &r->info.skipped, fmt, ap);
	va_end(ap);
	return q;
}

int rs_rule_summary(struct rs_rule *r, const char *fmt, ...)
{
	va_list ap;
	int q;

	va_start(ap, fmt);
	q = set_text(&r->summary, &r->info.summary, fmt, ap);
	va_end(ap);
	return q;
}

int ruleset_new(struct ruleset **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

struct ruleset *ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return NULL;
	for (size_t i = 0; i < rs->n; i++)
		rs_rule_free(rs->rules[i]);
	free(rs->rules);
	free(rs);
	return NULL;
}

int ruleset_push(struct ruleset *rs, struct rs_rule *r)
{
	struct rs_rule **v;

	/* an id seen before: the later one is kept for the listing, but never matched */
	for (size_t i = 0; i < rs->n && !r->skipped; i++)
		if (strcmp(rs->rules[i]->id, r->id) == 0 && !rs->rules[i]->skipped &&
		    rs_rule_skip(r, "the same id as %s", rs->rules[i]->source) < 0)
			goto oom;
	v = reallocarray(rs->rules, rs->n + 1, sizeof(*v));
	if (!v)
		goto oom;
	rs->rules = v;
	v[rs->n++] = r;
	return 0;
oom:
	rs_rule_free(r);
	return -ENOMEM;
}

size_t ruleset_count(const struct ruleset *rs)
{
	return rs ? rs->n : 0;
}

const struct ruleset_info *ruleset_get(const struct ruleset *rs, size_t i)
{
	return rs && i < rs->n ? &rs->rules[i]->info : NULL;
}

/* ---- reading ------------------------------------------------------------------------------- */

int ruleset_sniff(const char *text, size_t len)
{
	_cleanup_(ynode_freep) struct ynode *doc = NULL;

	if (yaml_load(text, len, &doc, NULL) < 0 || !doc)
		return -EINVAL;
	if (ynode_get(doc, "functions"))
		return RULESET_GTFOBINS;
	if (ynode_get(doc, "detection"))
		return RULESET_SIGMA;
	return -EINVAL;
}

int ruleset_add_builtin(struct ruleset *rs, struct coi_error *err)
{
	for (const struct ruleset_builtin *b = ruleset_builtin; b->name; b++) {
		_cleanup_free_ char *source = NULL;
		int r;

		if (asprintf(&source, "builtin:%s", b->name) < 0)
			return coi_error_oom(err);
		r = ruleset_add_text(rs, b->format, source, b->text, b->len, err);
		if (r < 0)
			return r; /* a rule of coi's own that does not load is a bug: tests catch it
			           */
	}
	return 0;
}

int ruleset_add_text(struct ruleset *rs, enum ruleset_format f, const char *source,
                     const char *text, size_t len, struct coi_error *err)
{
	_cleanup_(ynode_freep) struct ynode *doc = NULL;
	int r;

	if (len > RULESET_FILE_MAX)
		return coi_error_set(err, -E2BIG, "%s: larger than %u bytes", source,
		                     RULESET_FILE_MAX);
	r = yaml_load(text, len, &doc, err);
	if (r < 0)
		return coi_error_prefix(err, "%s", source);
	if (!doc || doc->type != YNODE_MAP)
		return coi_error_set(err, -EINVAL, "%s:%u:%u: not a %s rule (a YAML map)", source,
		                     doc ? doc->line : 1, doc ? doc->col : 1,
		                     ruleset_format_to_string(f));
	return f == RULESET_SIGMA ? sigma_parse(rs, source, doc, err)
	                          : gtfobins_parse(rs, source, doc, err);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

static bool rule_file_name(const char *name, enum ruleset_format f)
{
	if (name[0] == '.')
		return false;
	if (f == RULESET_SIGMA)
		return ends_with(name, ".yml") || ends_with(name, ".yaml");
	/* GTFOBins: a file per program, "name" or "name.md"; not the repository's other files */
	if (strncasecmp(name, "readme", 6) == 0 || strncasecmp(name, "license", 7) == 0)
		return false;
	return ends_with(name, ".md") || !strchr(name, '.');
}

struct walk {
	struct ruleset *rs;
	enum ruleset_format f;
	void (*warn)(const char *msg, void *userdata);
	void *userdata;
	int files;
};

static void add_file(struct walk *w, const char *path)
{
	_cleanup_buf_ struct buf b = BUF_INIT(RULESET_FILE_MAX);
	struct coi_error e = {0};

	w->files++;
	if (read_file(path, &b, &e) < 0 ||
	    ruleset_add_text(w->rs, w->f, path, buf_str(&b), b.len, &e) < 0) {
		if (w->warn)
			w->warn(coi_error_message(&e), w->userdata);
	}
}

static void walk_dir(struct walk *w, const char *dir, unsigned depth)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		_cleanup_free_ char *p = NULL;
		struct stat st;

		if (name[0] != '.' && w->files < RULESET_FILES_MAX && (p = path_join(dir, name)) &&
		    lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < DIR_DEPTH_MAX)
				walk_dir(w, p, depth + 1);
			else if (S_ISREG(st.st_mode) && rule_file_name(name, w->f))
				add_file(w, p);
		}
		free(list[i]);
	}
	free(list);
}

int ruleset_add_dir(struct ruleset *rs, enum ruleset_format f, const char *dir,
                    void (*warn)(const char *msg, void *userdata), void *userdata,
                    struct coi_error *err)
{
	struct walk w = {rs, f, warn, userdata, 0};
	_cleanup_free_ char *sub = NULL;
	struct stat st;

	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : coi_error_errno(err, errno, "cannot read '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return coi_error_set(err, -ENOTDIR, "'%s' is not a directory", dir);
	/* a clone of the GTFOBins site keeps its entries in _gtfobins/ */
	sub = path_join(dir, f == RULESET_GTFOBINS ? "_gtfobins" : "rules/linux/process_creation");
	if (!sub)
		return coi_error_oom(err);
	walk_dir(&w, stat(sub, &st) == 0 && S_ISDIR(st.st_mode) ? sub : dir, 0);
	return w.files;
}

/* ---- matching ------------------------------------------------------------------------------ */

bool ruleset_glob(const char *p, const char *s)
{
	const char *star = NULL, *mark = NULL;

	/* the two-pointer match: linear in practice, never exponential */
	while (*s) {
		if (*p == '*') {
			star = ++p;
			mark = s;
			continue;
		}
		if (*p == '\\' && (p[1] == '*' || p[1] == '?' || p[1] == '\\')) {
			if (p[1] == *s) {
				p += 2;
				s++;
				continue;
			}
		} else if (*p && (*p == '?' || *p == *s)) {
			p++;
			s++;
			continue;
		}
		if (!star)
			return false;
		p = star;
		s = ++mark;
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

const char *rs_field_to_string(enum rs_field f)
{
	static const char *const names[_RS_FIELD_MAX] = {
	        [RS_IMAGE] = "Image",
	        [RS_COMMANDLINE] = "CommandLine",
	        [RS_PARENT_IMAGE] = "ParentImage",
	        [RS_USER] = "User",
	        [RS_CURRENT_DIRECTORY] = "CurrentDirectory",
	};

	return names[f];
}

/* A process's fields, each as seen and lowered. */
struct fields {
	char *v[_RS_FIELD_MAX];
	char *lower[_RS_FIELD_MAX];
};

static char *lowered(const char *s)
{
	char *l = strdup(s ? s : "");

	for (char *p = l; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static int fields_of(const struct proc_obs *p, struct fields *f)
{
	char user[24], parent[80] = "";
	const char *a0 = p->argv && p->argv[0] ? p->argv[0] : "";

	*f = (struct fields){0};
	if (p->exe && *p->exe)
		f->v[RS_IMAGE] = strdup(p->exe);
	else if (asprintf(&f->v[RS_IMAGE], "%s%s", strchr(a0, '/') ? "" : "/", a0) < 0)
		f->v[RS_IMAGE] = NULL;
	f->v[RS_COMMANDLINE] = p->argv ? strv_join(p->argv, " ") : strdup("");
	/* the parent's name only (its comm): "sh<node<tmux" -> "/sh" */
	if (p->parent && *p->parent)
		(void)snprintf(parent, sizeof(parent), "/%.*s", (int)strcspn(p->parent, "<"),
		               p->parent);
	f->v[RS_PARENT_IMAGE] = strdup(parent);
	(void)snprintf(user, sizeof(user), "%s",
	               p->uid == 0      ? "root"
	               : p->uid == 1000 ? "code"
	                                : "");
	if (!user[0])
		(void)snprintf(user, sizeof(user), "%u", (unsigned)p->uid);
	f->v[RS_USER] = strdup(user);
	f->v[RS_CURRENT_DIRECTORY] = strdup(p->cwd ? p->cwd : "");
	for (int i = 0; i < _RS_FIELD_MAX; i++)
		if (!f->v[i] || !(f->lower[i] = lowered(f->v[i])))
			return -ENOMEM;
	return 0;
}

static void fields_release(struct fields *f)
{
	for (int i = 0; i < _RS_FIELD_MAX; i++) {
		free(f->v[i]);
		free(f->lower[i]);
	}
}

static bool check_one(const struct rs_check *c, size_t i, const struct fields *f)
{
	const char *s = c->cased ? f->v[c->field] : f->lower[c->field];

	if (c->re)
		return regexec(&c->re[i], f->v[c->field], 0, NULL, 0) == 0;
	return ruleset_glob(c->values[i], s);
}

/* What matched first: the hit's pattern, the same whichever process of an attack it is seen in
 * (the shell's `sh -c ...` and the program it starts), so the responder takes them for one. */
struct first_match {
	const struct rs_check *check;
	size_t value;
};

static bool check_matches(const struct rs_check *c, const struct fields *f, struct first_match *fm)
{
	if (c->null)
		return f->v[c->field][0] == 0;
	for (size_t i = 0; i < c->n; i++) {
		bool m = check_one(c, i, f);

		if (m && !fm->check)
			*fm = (struct first_match){c, i};
		if (c->all && !m)
			return false;
		if (!c->all && m)
			return true;
	}
	return c->all && c->n > 0;
}

static bool sel_matches(const struct rs_sel *s, const struct fields *f, struct first_match *fm)
{
	for (size_t i = 0; i < s->n; i++) {
		struct first_match here = {0};
		bool all = true;

		for (size_t j = 0; j < s->alts[i].n && all; j++)
			all = check_matches(&s->alts[i].checks[j], f, &here);
		if (all) {
			if (!fm->check)
				*fm = here;
			return true;
		}
	}
	return false;
}

static bool expr_matches(const struct rs_rule *r, const struct rs_expr *e, const struct fields *f,
                         struct first_match *fm)
{
	struct first_match ignored = {0};

	switch (e->op) {
	case RS_SEL:
		return sel_matches(&r->sels[e->sels[0]], f, fm);
	case RS_AND:
		return expr_matches(r, e->a, f, fm) && expr_matches(r, e->b, f, fm);
	case RS_OR:
		return expr_matches(r, e->a, f, fm) || expr_matches(r, e->b, f, fm);
	case RS_NOT:
		return !expr_matches(r, e->a, f, &ignored); /* what must not match names nothing */
	case RS_ANY_OF:
		for (size_t i = 0; i < e->n; i++)
			if (sel_matches(&r->sels[e->sels[i]], f, fm))
				return true;
		return false;
	case RS_ALL_OF:
		for (size_t i = 0; i < e->n; i++)
			if (!sel_matches(&r->sels[e->sels[i]], f, fm))
				return false;
		return e->n > 0;
	}
	return false;
}

/* GTFOBins: a command of the line runs the program with every token among its arguments. */
static const struct simple_cmd *gtfo_matches(const struct rs_rule *r, const struct cmdline *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		_cleanup_free_ char *args = NULL;
		bool all = true;

		if (strcasecmp(cmd_prog(c), r->program) != 0 || !c->argv[1])
			continue;
		args = strv_join(c->argv + 1, " ");
		for (char *p = args; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (size_t k = 0; args && r->tokens[k] && all; k++)
			all = strstr(args, r->tokens[k]) != NULL;
		if (args && all)
			return c;
	}
	return NULL;
}

static void hit_of(const struct rs_rule *r, const char *pattern, const char *reason,
                   struct rule_hit *h)
{
	*h = (struct rule_hit){.rule = &r->rule, .level = r->rule.level};
	(void)snprintf(h->pattern, sizeof(h->pattern), "%s", pattern);
	(void)snprintf(h->reason, sizeof(h->reason), "%s", reason);
}

size_t ruleset_match_process(const void *set, const struct proc_obs *p, const struct cmdline *cl,
                             struct rule_hit *hits, size_t max)
{
	const struct ruleset *rs = set;
	struct fields f;
	size_t n = 0;
	bool have_fields = false;

	if (!rs || max == 0)
		return 0;
	for (size_t i = 0; i < rs->n && n < max; i++) {
		const struct rs_rule *r = rs->rules[i];
		const struct simple_cmd *c;
		char reason[RULE_TEXT_MAX];

		if (r->skipped)
			continue;
		if (r->program) {
			if (!(c = gtfo_matches(r, cl)))
				continue;
			(void)snprintf(reason, sizeof(reason), "GTFOBins example %s", r->id);
			_cleanup_free_ char *line = strv_join(c->argv, " ");
			hit_of(r, line ? line : r->program, reason, &hits[n++]);
			continue;
		}
		if (!have_fields && fields_of(p, &f) < 0) {
			fields_release(&f);
			return n;
		}
		have_fields = true;
		struct first_match fm = {0};

		if (r->cond && expr_matches(r, r->cond, &f, &fm)) {
			char pattern[RULE_TEXT_MAX];

			(void)snprintf(reason, sizeof(reason), "Sigma rule %s", r->id);
			if (fm.check)
				(void)snprintf(pattern, sizeof(pattern), "%s %s",
				               rs_field_to_string(fm.check->field),
				               fm.check->values[fm.value]);
			else
				(void)snprintf(pattern, sizeof(pattern), "%s", r->id);
			hit_of(r, pattern, reason, &hits[n++]);
		}
	}
	if (have_fields)
		fields_release(&f);
	return n;
}
