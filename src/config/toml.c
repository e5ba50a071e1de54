/* SPDX-License-Identifier: MIT */
/* toml.c: the TOML 1.0 reader. One pass over the input with a cursor that tracks line and column.
 * Values nest through an explicit stack of frames (parse_value), never through recursion, and
 * every table and array carries its depth so the limit holds however it was reached (headers,
 * dotted keys, arrays, inline tables). Table definitions follow the 1.0 rules through flags on
 * each table: how it was created decides whether a header or a dotted key may extend it later.
 * The value tree is in toml-value.c, strings and scalars in toml-scalar.c. */
#include "config/toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml-internal.h"
#include "util/error.h"

struct keypath {
	struct key_seg *segs;
	size_t n, cap;
};

static void keypath_clear(struct keypath *kp)
{
	for (size_t i = 0; i < kp->n; i++)
		free(kp->segs[i].s);
	kp->n = 0;
}

static void keypath_release(struct keypath *kp)
{
	keypath_clear(kp);
	free(kp->segs);
	kp->segs = NULL;
	kp->cap = 0;
}

int toml_fail_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[COI_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->rc = -EINVAL;
	return coi_error_set(p->err, -EINVAL, "%s:%u:%u: %s", p->file, line, col, msg);
}

int toml_oom(struct parser *p)
{
	p->rc = -ENOMEM;
	return coi_error_oom(p->err);
}

/* --- Input-wide checks --- */

static int utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	int len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07;
	else
		return -1;
	if ((size_t)len > n)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	return len;
}

static int check_utf8(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	unsigned line = 1, col = 1;

	for (size_t i = 0; i < p->len;) {
		int n = utf8_len(s + i, p->len - i);

		if (n < 0)
			return toml_fail_at(p, line, col, "invalid UTF-8 (byte 0x%02X)", s[i]);
		if (s[i] == '\n')
			line++, col = 1;
		else
			col++;
		i += (size_t)n;
	}
	return 0;
}

/* --- Whitespace, comments, newlines --- */

static int skip_comment(struct parser *p)
{
	char tmp[32];

	if (peek(p) != '#')
		return 0;
	adv(p);
	for (int c; (c = peek(p)) >= 0 && !at_newline(p); adv(p))
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return fail(p, "%s is not allowed in a comment", char_name(c, tmp));
	return 0;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static int skip_ws_nl(struct parser *p)
{
	for (;;) {
		int r;

		skip_ws(p);
		r = skip_comment(p);
		if (r < 0)
			return r;
		if (!at_newline(p))
			return 0;
		skip_newline(p);
	}
}

/* After a key/value pair or a header: only a comment may follow on the line. */
static int expect_eol(struct parser *p)
{
	char tmp[32];
	int r;

	skip_ws(p);
	r = skip_comment(p);
	if (r < 0)
		return r;
	if (peek(p) < 0)
		return 0;
	if (!at_newline(p))
		return fail(p, "expected end of line, found %s", char_name(peek(p), tmp));
	skip_newline(p);
	return 0;
}

/* --- Keys --- */

static int parse_key(struct parser *p, struct keypath *kp)
{
	char tmp[32];

	keypath_clear(kp);
	for (;;) {
		struct key_seg seg = {.line = p->line, .col = p->col};
		int c = peek(p), r;

		if (c == '"' || c == '\'') {
			r = toml_parse_string(p, false, &seg.s, &seg.len);
			if (r < 0)
				return r;
		} else if (is_bare(c)) {
			size_t start = p->pos;

			while (is_bare(peek(p)))
				adv(p);
			seg.len = p->pos - start;
			seg.s = strndup(p->s + start, seg.len);
			if (!seg.s)
				return toml_oom(p);
		} else {
			return fail(p, "expected a key, found %s", char_name(c, tmp));
		}
		if (kp->n == kp->cap) {
			size_t cap = kp->cap ? kp->cap * 2 : 4;
			struct key_seg *segs = reallocarray(kp->segs, cap, sizeof(*segs));

			if (!segs) {
				free(seg.s);
				return toml_oom(p);
			}
			kp->segs = segs;
			kp->cap = cap;
		}
		kp->segs[kp->n++] = seg;
		if (kp->n > p->lim->max_depth)
			return toml_fail_at(p, seg.line, seg.col, "key with more than %u parts",
			                    p->lim->max_depth);
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		adv(p);
		skip_ws(p);
	}
}

static char *keypath_text(const struct keypath *kp, size_t upto, char *out, size_t size)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i <= upto && i < kp->n && off < size; i++) {
		int n = snprintf(out + off, size - off, "%s%s", i ? "." : "", kp->segs[i].s);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	return out;
}

/* Set kp = v in table base (the current [table], or an inline table being filled). Intermediate
 * keys create tables that only dotted keys may extend. Takes v. */
static int insert_keyval(struct parser *p, struct toml_value *base, const struct keypath *kp,
                         struct toml_value *v)
{
	struct toml_value *t = base;
	char name[256];

	for (size_t i = 0; i + 1 < kp->n; i++) {
		const struct key_seg *k = &kp->segs[i];
		struct toml_value *next = toml_table_find(t, k->s, k->len);

		if (!next) {
			next = toml_table_new_child(p, t, k, TF_DOTTED);
			if (!next)
				goto fail;
		} else if (next->type != TOML_TABLE || !(next->flags & TF_DOTTED)) {
			toml_fail_at(p, k->line, k->col,
			             "cannot add keys to '%s': it is already defined",
			             keypath_text(kp, i, name, sizeof(name)));
			goto fail;
		}
		t = next;
	}
	const struct key_seg *last = &kp->segs[kp->n - 1];
	if (toml_table_find(t, last->s, last->len)) {
		toml_fail_at(p, last->line, last->col, "duplicate key '%s'",
		             keypath_text(kp, kp->n, name, sizeof(name)));
		goto fail;
	}
	return toml_table_put(p, t, last, v);
fail:
	toml_free(v);
	return p->rc;
}
/* --- Arrays and inline tables: an explicit stack instead of recursion --- */

struct frame {
	struct toml_value *c; /* the array or inline table being filled */
	struct keypath kp;    /* inline table: the key of the value being parsed */
};

struct frames {
	struct frame *f;
	size_t n, cap;
};

static void frames_release(struct frames *fs)
{
	/* Frames are not yet attached to each other: each owns its container. */
	for (size_t i = 0; i < fs->cap; i++) {
		if (i < fs->n)
			toml_free(fs->f[i].c);
		keypath_release(&fs->f[i].kp);
	}
	free(fs->f);
}

static int frames_push(struct parser *p, struct frames *fs, struct toml_value *c)
{
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 8;
		struct frame *f = reallocarray(fs->f, cap, sizeof(*f));

		if (!f) {
			toml_free(c);
			return toml_oom(p);
		}
		memset(f + fs->cap, 0, (cap - fs->cap) * sizeof(*f));
		fs->f = f;
		fs->cap = cap;
	}
	fs->f[fs->n].c = c;
	keypath_clear(&fs->f[fs->n].kp);
	fs->n++;
	return 0;
}

/* In an inline table: key, '=', and leave the cursor at the value. */
static int inline_key(struct parser *p, struct frame *f)
{
	char tmp[32];
	int r;

	skip_ws(p);
	r = parse_key(p, &f->kp);
	if (r < 0)
		return r;
	if (peek(p) != '=')
		return fail(p, "expected '=' after a key, found %s", char_name(peek(p), tmp));
	adv(p);
	skip_ws(p);
	return 0;
}

static unsigned next_depth(const struct frames *fs, unsigned depth0)
{
	const struct frame *top;

	if (fs->n == 0)
		return depth0;
	top = &fs->f[fs->n - 1];
	return top->c->depth + (top->c->type == TOML_ARRAY ? 1u : (unsigned)top->kp.n);
}

/* The value has been completed: add it to the container on top, and see what follows. Returns 1
 * when another value is expected, 0 when the outermost value is done (in *ret). */
static int complete(struct parser *p, struct frames *fs, struct toml_value *v,
                    struct toml_value **ret)
{
	char tmp[32];
	int r;

	for (;;) {
		struct frame *f;

		if (fs->n == 0) {
			*ret = v;
			return 0;
		}
		f = &fs->f[fs->n - 1];
		if (f->c->type == TOML_ARRAY) {
			r = toml_array_push(p, f->c, v);
			if (r < 0)
				return r;
			r = skip_ws_nl(p);
			if (r < 0)
				return r;
			if (peek(p) == ',') {
				adv(p);
				r = skip_ws_nl(p);
				if (r < 0)
					return r;
				if (peek(p) != ']')
					return 1;
			} else if (peek(p) != ']') {
				return fail(p, "expected ',' or ']' in an array, found %s",
				            char_name(peek(p), tmp));
			}
		} else {
			r = insert_keyval(p, f->c, &f->kp, v);
			if (r < 0)
				return r;
			skip_ws(p);
			if (peek(p) == ',') {
				adv(p);
				r = inline_key(p, f);
				return r < 0 ? r : 1;
			}
			if (peek(p) != '}')
				return fail(p, "expected ',' or '}' in an inline table, found %s",
				            char_name(peek(p), tmp));
		}
		adv(p); /* the closing bracket */
		v = f->c;
		f->c = NULL;
		fs->n--;
	}
}

static int parse_value(struct parser *p, unsigned depth0, struct toml_value **ret)
{
	struct frames fs = {0};
	struct toml_value *v = NULL;
	int r;

	for (;;) {
		unsigned line = p->line, col = p->col, depth = next_depth(&fs, depth0);
		int c = peek(p);

		if (c == '[' || c == '{') {
			v = toml_value_new(p, c == '[' ? TOML_ARRAY : TOML_TABLE, line, col, depth);
			if (!v) {
				r = p->rc;
				break;
			}
			v->flags = c == '[' ? 0 : TF_INLINE;
			r = frames_push(p, &fs, v);
			if (r < 0)
				break;
			adv(p);
			r = c == '[' ? skip_ws_nl(p) : (skip_ws(p), 0);
			if (r < 0)
				break;
			if (peek(p) != (c == '[' ? ']' : '}')) {
				if (c == '{') {
					r = inline_key(p, &fs.f[fs.n - 1]);
					if (r < 0)
						break;
				}
				continue;
			}
			adv(p);
			fs.n--; /* an empty container is complete at once */
		} else {
			r = toml_parse_scalar(p, depth, &v);
			if (r < 0)
				break;
		}
		r = complete(p, &fs, v, ret);
		if (r <= 0)
			break;
	}
	frames_release(&fs);
	return r;
}

/* --- Documents --- */

static int parse_keyval(struct parser *p)
{
	struct keypath kp = {0};
	struct toml_value *v = NULL;
	char tmp[32];
	int r;

	r = parse_key(p, &kp);
	if (r < 0)
		goto out;
	if (peek(p) != '=') {
		r = fail(p, "expected '=' after a key, found %s", char_name(peek(p), tmp));
		goto out;
	}
	adv(p);
	skip_ws(p);
	r = parse_value(p, p->cur->depth + (unsigned)kp.n, &v);
	if (r < 0)
		goto out;
	r = insert_keyval(p, p->cur, &kp, v);
out:
	keypath_release(&kp);
	return r;
}

/* Walk or create the tables of a [header] or [[header]] and make the last one current. */
static int define_table(struct parser *p, const struct keypath *kp, bool aot)
{
	struct toml_value *t = p->root;
	char name[256];

	for (size_t i = 0; i < kp->n; i++) {
		const struct key_seg *k = &kp->segs[i];
		struct toml_value *v = toml_table_find(t, k->s, k->len);
		bool last = i + 1 == kp->n;

		if (!v) {
			if (last && aot) {
				struct toml_value *a = toml_value_new(p, TOML_ARRAY, k->line,
				                                      k->col, t->depth + 1u);

				if (!a || toml_table_put(p, t, k, a) < 0)
					return p->rc;
				a->flags = TF_AOT;
				t = a;
				break;
			}
			t = toml_table_new_child(p, t, k, last ? TF_DEFINED : TF_IMPLICIT);
			if (!t)
				return p->rc;
			continue;
		}
		if (!last || aot) {
			if (v->type == TOML_ARRAY && (v->flags & TF_AOT)) {
				if (last) {
					t = v;
					break;
				}
				t = v->u.array.items[v->u.array.n - 1];
				continue;
			}
			if (!last && v->type == TOML_TABLE && !(v->flags & TF_INLINE)) {
				t = v;
				continue;
			}
		} else if (v->type == TOML_TABLE && (v->flags & TF_IMPLICIT)) {
			v->flags = TF_DEFINED;
			t = v;
			continue;
		}
		return toml_fail_at(p, k->line, k->col, "cannot define table '%s': already defined",
		                    keypath_text(kp, i, name, sizeof(name)));
	}
	if (aot) { /* t is the array of tables: add the new element */
		const struct key_seg *k = &kp->segs[kp->n - 1];
		struct toml_value *nt =
		        toml_value_new(p, TOML_TABLE, k->line, k->col, t->depth + 1u);

		if (!nt || toml_array_push(p, t, nt) < 0)
			return p->rc;
		nt->flags = TF_DEFINED;
		t = nt;
	}
	p->cur = t;
	return 0;
}

static int parse_header(struct parser *p)
{
	bool aot = peek_at(p, 1) == '[';
	struct keypath kp = {0};
	char tmp[32];
	int r;

	adv_n(p, aot ? 2 : 1);
	skip_ws(p);
	r = parse_key(p, &kp);
	if (r < 0)
		goto out;
	if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
		r = fail(p, "expected '%s' to close the table header, found %s", aot ? "]]" : "]",
		         char_name(peek(p), tmp));
		goto out;
	}
	adv_n(p, aot ? 2 : 1);
	r = define_table(p, &kp, aot);
out:
	keypath_release(&kp);
	return r;
}

int toml_parse(const char *data, size_t len, const char *filename, const struct toml_limits *lim,
               struct toml_value **ret, struct coi_error *err)
{
	struct toml_limits limits = lim ? *lim : TOML_LIMITS_DEFAULT;
	struct parser p = {
	        .s = data,
	        .len = len,
	        .line = 1,
	        .col = 1,
	        .file = filename ? filename : "<input>",
	        .lim = &limits,
	        .err = err,
	};
	int r;

	if (len > p.lim->max_size)
		return coi_error_set(err, -E2BIG, "%s: larger than %zu bytes", p.file,
		                     p.lim->max_size);
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) { /* a byte order mark */
		p.s += 3;
		p.len -= 3;
	}
	r = check_utf8(&p);
	if (r < 0)
		return r;
	p.root = toml_value_new(&p, TOML_TABLE, 1, 1, 0);
	if (!p.root)
		return coi_error_oom(err);
	p.root->flags = TF_DEFINED;
	p.cur = p.root;
	while (peek(&p) >= 0) {
		r = 0;
		skip_ws(&p);
		if (peek(&p) == '[')
			r = parse_header(&p);
		else if (peek(&p) != '#' && !at_newline(&p) && peek(&p) >= 0)
			r = parse_keyval(&p);
		if (r >= 0)
			r = expect_eol(&p);
		if (r < 0) {
			toml_free(p.root);
			return r;
		}
	}
	*ret = p.root;
	return 0;
}
