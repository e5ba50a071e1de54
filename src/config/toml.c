/* SPDX-License-Identifier: MIT */
/* toml.c: the TOML 1.0 reader. One pass over the input with a cursor that tracks line and column.
 * Values nest through an explicit stack of frames (parse_value), never through recursion, and
 * every table and array carries its depth so the limit holds however it was reached (headers,
 * dotted keys, arrays, inline tables). Table definitions follow the 1.0 rules through flags on
 * each table: how it was created decides whether a header or a dotted key may extend it later. */
#include "config/toml.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

enum {
	TF_IMPLICIT = 1 << 0, /* created as an intermediate of a [header]; may be defined later */
	TF_DEFINED = 1 << 1,  /* defined by its own [header] */
	TF_DOTTED = 1 << 2,   /* created by a dotted key; other dotted keys may extend it */
	TF_INLINE = 1 << 3,   /* an inline table { ... }: sealed */
	TF_AOT = 1 << 4,      /* an array of tables made by [[header]]; else a sealed array */
};

struct key_seg {
	char *s;
	size_t len;
	unsigned line, col;
};

struct keypath {
	struct key_seg *segs;
	size_t n, cap;
};

struct parser {
	const char *s;
	size_t len, pos;
	unsigned line, col;
	const char *file;
	struct toml_limits lim;
	size_t n_values;
	struct toml_value *root, *cur;
	struct coi_error *err;
	int rc; /* the last error code, also when err is NULL */
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

static int fail_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
        COI_PRINTF(4, 5);
static int fail_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[COI_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->rc = -EINVAL;
	return coi_error_set(p->err, -EINVAL, "%s:%u:%u: %s", p->file, line, col, msg);
}

static int oom(struct parser *p)
{
	p->rc = -ENOMEM;
	return coi_error_oom(p->err);
}

#define fail(p, ...) fail_at((p), (p)->line, (p)->col, __VA_ARGS__)

static int peek_at(const struct parser *p, size_t k)
{
	return p->pos + k < p->len ? (unsigned char)p->s[p->pos + k] : -1;
}

static int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static void adv(struct parser *p)
{
	unsigned char c = (unsigned char)p->s[p->pos++];

	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		p->col++;
	}
}

static void adv_n(struct parser *p, size_t n)
{
	while (n-- > 0)
		adv(p);
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
	       c == '-';
}

static const char *char_name(int c, char tmp[32])
{
	if (c < 0)
		return "end of input";
	if (c == '\n' || c == '\r')
		return "end of line";
	if (c < 0x20 || c == 0x7F)
		snprintf(tmp, 32, "control character 0x%02X", (unsigned)c);
	else
		snprintf(tmp, 32, "'%c'", c);
	return tmp;
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
			return fail_at(p, line, col, "invalid UTF-8 (byte 0x%02X)", s[i]);
		if (s[i] == '\n')
			line++, col = 1;
		else
			col++;
		i += (size_t)n;
	}
	return 0;
}

/* --- Whitespace, comments, newlines --- */

static void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		adv(p);
}

static bool at_newline(const struct parser *p)
{
	return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static void skip_newline(struct parser *p)
{
	if (peek(p) == '\r')
		adv(p);
	adv(p);
}

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

/* --- Values and tables --- */

static struct toml_value *value_new(struct parser *p, enum toml_type t, unsigned line, unsigned col,
                                    unsigned depth)
{
	struct toml_value *v;

	if (depth > p->lim.max_depth) {
		fail_at(p, line, col, "nesting deeper than %u levels", p->lim.max_depth);
		return NULL;
	}
	if (++p->n_values > p->lim.max_values) {
		fail_at(p, line, col, "more than %zu values", p->lim.max_values);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		oom(p);
		return NULL;
	}
	v->type = t;
	v->line = line;
	v->col = col;
	v->depth = (uint16_t)depth;
	return v;
}

struct toml_value *toml_free(struct toml_value *v)
{
	if (!v)
		return NULL;
	/* Recursion here is bounded by toml_limits.max_depth, which every node was checked against.
	 */
	switch (v->type) {
	case TOML_TABLE:
		for (size_t i = 0; i < v->u.table.n; i++) {
			free(v->u.table.items[i].key);
			toml_free(v->u.table.items[i].value);
		}
		free(v->u.table.items);
		free(v->u.table.index);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.array.n; i++)
			toml_free(v->u.array.items[i]);
		free(v->u.array.items);
		break;
	case TOML_STRING:
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		free(v->u.str.s);
		break;
	case TOML_INTEGER:
	case TOML_FLOAT:
	case TOML_BOOL:
	case _TOML_TYPE_MAX:
		break;
	}
	free(v);
	return NULL;
}

static uint32_t key_hash(const char *k, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

static void index_insert(struct toml_value *t, size_t item)
{
	const struct toml_kv *kv = &t->u.table.items[item];
	size_t mask = t->u.table.index_cap - 1;
	size_t h = key_hash(kv->key, kv->key_len) & mask;

	while (t->u.table.index[h])
		h = (h + 1) & mask;
	t->u.table.index[h] = (uint32_t)item + 1;
}

static int index_grow(struct toml_value *t)
{
	size_t cap = t->u.table.index_cap ? t->u.table.index_cap * 2 : 64;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	free(t->u.table.index);
	t->u.table.index = idx;
	t->u.table.index_cap = cap;
	for (size_t i = 0; i < t->u.table.n; i++)
		index_insert(t, i);
	return 0;
}

static struct toml_value *table_find(const struct toml_value *t, const char *k, size_t len)
{
	const struct toml_kv *items = t->u.table.items;

	if (t->u.table.index) {
		size_t mask = t->u.table.index_cap - 1;

		for (size_t h = key_hash(k, len) & mask; t->u.table.index[h]; h = (h + 1) & mask) {
			const struct toml_kv *kv = &items[t->u.table.index[h] - 1];

			if (kv->key_len == len && memcmp(kv->key, k, len) == 0)
				return kv->value;
		}
		return NULL;
	}
	for (size_t i = 0; i < t->u.table.n; i++)
		if (items[i].key_len == len && memcmp(items[i].key, k, len) == 0)
			return items[i].value;
	return NULL;
}

/* Add key -> v to t, taking both (v is freed on failure; the key is copied). */
static int table_add(struct parser *p, struct toml_value *t, const struct key_seg *k,
                     struct toml_value *v)
{
	struct toml_kv *kv;
	char *key;

	if (t->u.table.n == t->u.table.cap) {
		size_t cap = t->u.table.cap ? t->u.table.cap * 2 : 4;
		struct toml_kv *items = reallocarray(t->u.table.items, cap, sizeof(*items));

		if (!items)
			goto oom;
		t->u.table.items = items;
		t->u.table.cap = cap;
	}
	key = malloc(k->len + 1);
	if (!key)
		goto oom;
	memcpy(key, k->s, k->len + 1);
	kv = &t->u.table.items[t->u.table.n++];
	*kv = (struct toml_kv){.key = key, .key_len = k->len, .value = v};
	if (t->u.table.n >= 16 && t->u.table.n * 2 > t->u.table.index_cap) {
		if (index_grow(t) < 0)
			return oom(p); /* v is in the table now, freed with it */
	} else if (t->u.table.index) {
		index_insert(t, t->u.table.n - 1);
	}
	return 0;
oom:
	toml_free(v);
	return oom(p);
}

static int array_add(struct parser *p, struct toml_value *a, struct toml_value *v)
{
	if (a->u.array.n == a->u.array.cap) {
		size_t cap = a->u.array.cap ? a->u.array.cap * 2 : 4;
		struct toml_value **items = reallocarray(a->u.array.items, cap, sizeof(*items));

		if (!items) {
			toml_free(v);
			return oom(p);
		}
		a->u.array.items = items;
		a->u.array.cap = cap;
	}
	a->u.array.items[a->u.array.n++] = v;
	return 0;
}

/* A new table under t at key k (with flags), or NULL with the error set. */
static struct toml_value *table_new_child(struct parser *p, struct toml_value *t,
                                          const struct key_seg *k, uint8_t flags)
{
	struct toml_value *nt = value_new(p, TOML_TABLE, k->line, k->col, t->depth + 1u);

	if (!nt || table_add(p, t, k, nt) < 0)
		return NULL;
	nt->flags = flags;
	return nt;
}

/* --- Strings --- */

static int put_utf8(struct buf *b, uint32_t cp)
{
	char out[4];
	size_t n;

	if (cp < 0x80) {
		out[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6)), n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12)), n = 3;
	} else {
		out[0] = (char)(0xF0 | (cp >> 18)), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		out[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
	return buf_append(b, out, n);
}

static int parse_escape(struct parser *p, struct buf *b)
{
	static const char simple[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	unsigned line = p->line, col = p->col;
	int c, digits;
	uint32_t cp = 0;

	adv(p); /* the backslash */
	c = peek(p);
	for (size_t i = 0; i + 1 < sizeof(simple); i += 2)
		if (c == simple[i]) {
			adv(p);
			return buf_putc(b, simple[i + 1]);
		}
	if (c != 'u' && c != 'U')
		return fail_at(p, line, col, "invalid escape sequence in a string");
	digits = c == 'u' ? 4 : 8;
	adv(p);
	for (int i = 0; i < digits; i++) {
		c = peek(p);
		if (is_digit(c))
			cp = cp * 16 + (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			cp = cp * 16 + (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			cp = cp * 16 + (uint32_t)(c - 'A' + 10);
		else
			return fail_at(p, line, col, "expected %d hex digits after '\\%c'", digits,
			               digits == 4 ? 'u' : 'U');
		adv(p);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return fail_at(p, line, col, "escape names no Unicode scalar value");
	return put_utf8(b, cp);
}

/* In a multi-line basic string, a backslash at the end of a line eats the line break and all
 * whitespace up to the next other character. Returns 1 when it applied. */
static int line_ending_backslash(struct parser *p)
{
	size_t k = 1;

	while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
		k++;
	if (!(peek_at(p, k) == '\n' || (peek_at(p, k) == '\r' && peek_at(p, k + 1) == '\n')))
		return 0;
	adv_n(p, k);
	for (;;) {
		if (peek(p) == ' ' || peek(p) == '\t' || at_newline(p))
			adv(p);
		else if (peek(p) == '\r' && peek_at(p, 1) == '\n')
			adv_n(p, 2);
		else
			return 1;
	}
}

/* Parse a string at the cursor: basic, literal, and (when multi) their multi-line forms. */
static int parse_string(struct parser *p, bool multi_ok, char **ret, size_t *ret_len)
{
	_cleanup_buf_ struct buf b = BUF_INIT(p->lim.max_size);
	unsigned line = p->line, col = p->col;
	char q = (char)peek(p), tmp[32];
	bool basic = q == '"', multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
	int r;

	if (multi && !multi_ok)
		return fail(p, "a key cannot be a multi-line string");
	adv_n(p, multi ? 3 : 1);
	if (multi && at_newline(p))
		skip_newline(p);
	for (;;) {
		int c = peek(p);

		if (c < 0)
			return fail_at(p, line, col, "unterminated string");
		if (c == q) {
			size_t n = 1;

			if (!multi) {
				adv(p);
				break;
			}
			while (peek_at(p, n) == q)
				n++;
			if (n >= 3) {
				if (n > 5)
					return fail(p, "too many quotes at the end of a string");
				r = buf_append(&b, q == '"' ? "\"\"" : "''", n - 3);
				if (r < 0)
					return fail(p, "string too long");
				adv_n(p, n);
				break;
			}
			r = buf_putc(&b, q);
			adv(p);
		} else if (basic && c == '\\') {
			if (multi && line_ending_backslash(p))
				continue;
			r = parse_escape(p, &b);
			if (r == -EINVAL)
				return r;
		} else if (multi && at_newline(p)) {
			skip_newline(p);
			r = buf_putc(&b, '\n');
		} else if ((c < 0x20 && c != '\t') || c == 0x7F) {
			return fail(p, "%s is not allowed in a string", char_name(c, tmp));
		} else {
			r = buf_putc(&b, (char)c);
			adv(p);
		}
		if (r < 0)
			return r == -E2BIG ? fail(p, "string too long") : oom(p);
	}
	*ret_len = b.len;
	*ret = buf_steal(&b);
	return *ret ? 0 : oom(p);
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
			r = parse_string(p, false, &seg.s, &seg.len);
			if (r < 0)
				return r;
		} else if (is_bare(c)) {
			size_t start = p->pos;

			while (is_bare(peek(p)))
				adv(p);
			seg.len = p->pos - start;
			seg.s = strndup(p->s + start, seg.len);
			if (!seg.s)
				return oom(p);
		} else {
			return fail(p, "expected a key, found %s", char_name(c, tmp));
		}
		if (kp->n == kp->cap) {
			size_t cap = kp->cap ? kp->cap * 2 : 4;
			struct key_seg *segs = reallocarray(kp->segs, cap, sizeof(*segs));

			if (!segs) {
				free(seg.s);
				return oom(p);
			}
			kp->segs = segs;
			kp->cap = cap;
		}
		kp->segs[kp->n++] = seg;
		if (kp->n > p->lim.max_depth)
			return fail_at(p, seg.line, seg.col, "key with more than %u parts",
			               p->lim.max_depth);
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
		struct toml_value *next = table_find(t, k->s, k->len);

		if (!next) {
			next = table_new_child(p, t, k, TF_DOTTED);
			if (!next)
				goto fail;
		} else if (next->type != TOML_TABLE || !(next->flags & TF_DOTTED)) {
			fail_at(p, k->line, k->col,
			        "cannot add keys to '%s': it is already defined",
			        keypath_text(kp, i, name, sizeof(name)));
			goto fail;
		}
		t = next;
	}
	const struct key_seg *last = &kp->segs[kp->n - 1];
	if (table_find(t, last->s, last->len)) {
		fail_at(p, last->line, last->col, "duplicate key '%s'",
		        keypath_text(kp, kp->n, name, sizeof(name)));
		goto fail;
	}
	return table_add(p, t, last, v);
fail:
	toml_free(v);
	return p->rc;
}

/* --- Scalars --- */

static bool digits_ok(const char *s, size_t n, int base)
{
	bool prev_digit = false;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool d = base == 16 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		                       (c >= 'A' && c <= 'F'))
		                    : (c >= '0' && c < '0' + base);

		if (c == '_') {
			if (!prev_digit || i + 1 == n)
				return false;
			prev_digit = false;
		} else if (d) {
			prev_digit = true;
		} else {
			return false;
		}
	}
	return true;
}

static int to_int(const char *s, size_t n, int base, bool neg, int64_t *ret)
{
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c == '_')
			continue;
		d = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
		if (v > (lim - d) / (uint64_t)base)
			return -ERANGE;
		v = v * (uint64_t)base + d;
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* A number token: integer (decimal, 0x, 0o, 0b) or float. */
static int parse_number(struct parser *p, const char *tok, size_t n, struct toml_value *v)
{
	size_t i = 0, int_end, frac_start = 0, frac_end = 0, exp_start = 0;
	bool neg = false, sign = false;
	char clean[128];
	size_t cn = 0;

	if (tok[0] == '+' || tok[0] == '-')
		neg = tok[0] == '-', sign = true, i = 1;
	if (n - i == 3 && (memcmp(tok + i, "inf", 3) == 0 || memcmp(tok + i, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->u.f = tok[i] == 'i' ? (neg ? -INFINITY : INFINITY) : (neg ? -NAN : NAN);
		return 0;
	}
	if (n - i > 2 && tok[i] == '0' &&
	    (tok[i + 1] == 'x' || tok[i + 1] == 'o' || tok[i + 1] == 'b')) {
		int base = tok[i + 1] == 'x' ? 16 : tok[i + 1] == 'o' ? 8 : 2;

		if (sign || !digits_ok(tok + i + 2, n - i - 2, base))
			return -EINVAL;
		v->type = TOML_INTEGER;
		return to_int(tok + i + 2, n - i - 2, base, false, &v->u.i);
	}
	int_end = i;
	while (int_end < n && (is_digit(tok[int_end]) || tok[int_end] == '_'))
		int_end++;
	if (!digits_ok(tok + i, int_end - i, 10))
		return -EINVAL;
	if (tok[i] == '0' && int_end - i > 1)
		return -EINVAL; /* leading zero */
	size_t j = int_end;
	if (j < n && tok[j] == '.') {
		frac_start = ++j;
		while (j < n && (is_digit(tok[j]) || tok[j] == '_'))
			j++;
		frac_end = j;
		if (!digits_ok(tok + frac_start, frac_end - frac_start, 10))
			return -EINVAL;
	}
	if (j < n && (tok[j] == 'e' || tok[j] == 'E')) {
		j++;
		if (j < n && (tok[j] == '+' || tok[j] == '-'))
			j++;
		exp_start = j;
		while (j < n && (is_digit(tok[j]) || tok[j] == '_'))
			j++;
		if (!digits_ok(tok + exp_start, j - exp_start, 10))
			return -EINVAL;
	}
	if (j != n)
		return -EINVAL;
	if (!frac_start && !exp_start) {
		v->type = TOML_INTEGER;
		return to_int(tok + i, int_end - i, 10, neg, &v->u.i);
	}
	if (n >= sizeof(clean))
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (tok[k] != '_')
			clean[cn++] = tok[k];
	clean[cn] = '\0';
	v->type = TOML_FLOAT;
	v->u.f = strtod(clean, NULL);
	(void)p;
	return 0;
}

static bool num2(const char *s, int *ret)
{
	if (!is_digit(s[0]) || !is_digit(s[1]))
		return false;
	*ret = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* HH:MM:SS[.frac] at s (n bytes available); returns the length used or -EINVAL. */
static int scan_time(const char *s, size_t n)
{
	int h, m, sec;
	size_t k = 8;

	if (n < 8 || !num2(s, &h) || s[2] != ':' || !num2(s + 3, &m) || s[5] != ':' ||
	    !num2(s + 6, &sec))
		return -EINVAL;
	if (h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	if (k < n && s[k] == '.') {
		k++;
		if (k >= n || !is_digit(s[k]))
			return -EINVAL;
		while (k < n && is_digit(s[k]))
			k++;
	}
	return (int)k;
}

/* A date-time token; the value keeps normalised text ('T' and 'Z' upper case). */
static int parse_datetime(const char *tok, size_t n, struct toml_value *v)
{
	char out[96];
	int y1, y2, mo, d, tl;
	size_t k;

	if (n >= sizeof(out))
		return -EINVAL;
	if (tok[2] == ':') {
		tl = scan_time(tok, n);
		if (tl < 0 || (size_t)tl != n)
			return -EINVAL;
		v->type = TOML_TIME_LOCAL;
		memcpy(out, tok, n);
		out[n] = '\0';
		goto done;
	}
	if (n < 10 || !num2(tok, &y1) || !num2(tok + 2, &y2) || tok[4] != '-' ||
	    !num2(tok + 5, &mo) || tok[7] != '-' || !num2(tok + 8, &d))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y1 * 100 + y2, mo))
		return -EINVAL;
	memcpy(out, tok, 10);
	if (n == 10) {
		v->type = TOML_DATE_LOCAL;
		out[10] = '\0';
		goto done;
	}
	if (tok[10] != 'T' && tok[10] != 't' && tok[10] != ' ')
		return -EINVAL;
	out[10] = 'T';
	tl = scan_time(tok + 11, n - 11);
	if (tl < 0)
		return -EINVAL;
	memcpy(out + 11, tok + 11, (size_t)tl);
	k = 11 + (size_t)tl;
	if (k == n) {
		v->type = TOML_DATETIME_LOCAL;
		out[k] = '\0';
		goto done;
	}
	v->type = TOML_DATETIME;
	if ((tok[k] == 'Z' || tok[k] == 'z') && k + 1 == n) {
		out[k] = 'Z';
		out[k + 1] = '\0';
	} else if ((tok[k] == '+' || tok[k] == '-') && n - k == 6) {
		int oh, om;

		if (!num2(tok + k + 1, &oh) || tok[k + 3] != ':' || !num2(tok + k + 4, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		memcpy(out + k, tok + k, 6);
		out[k + 6] = '\0';
	} else {
		return -EINVAL;
	}
done:
	v->u.str.len = strlen(out);
	v->u.str.s = strdup(out);
	return v->u.str.s ? 0 : -ENOMEM;
}

static bool is_token_char(int c)
{
	return is_bare(c) || c == '.' || c == '+' || c == ':';
}

/* A scalar at the cursor: string, boolean, number or date-time. */
static int parse_scalar(struct parser *p, unsigned depth, struct toml_value **ret)
{
	unsigned line = p->line, col = p->col;
	int c = peek(p), r;
	size_t start = p->pos, n;
	struct toml_value *v;
	char tmp[32];

	if (c == '"' || c == '\'') {
		char *s;
		size_t len;

		r = parse_string(p, true, &s, &len);
		if (r < 0)
			return r;
		v = value_new(p, TOML_STRING, line, col, depth);
		if (!v) {
			free(s);
			return p->rc;
		}
		v->u.str.s = s;
		v->u.str.len = len;
		*ret = v;
		return 0;
	}
	if (!is_token_char(c))
		return fail(p, "expected a value, found %s", char_name(c, tmp));
	while (is_token_char(peek(p)))
		adv(p);
	n = p->pos - start;
	/* "1979-05-27 07:32:00": a date, a space, then a time */
	if (n == 10 && p->s[start + 4] == '-' && peek(p) == ' ' && is_digit(peek_at(p, 1)) &&
	    is_digit(peek_at(p, 2)) && peek_at(p, 3) == ':') {
		adv(p);
		while (is_token_char(peek(p)))
			adv(p);
		n = p->pos - start;
	}
	v = value_new(p, TOML_BOOL, line, col, depth);
	if (!v)
		return p->rc;
	const char *tok = p->s + start;
	if ((n == 4 && memcmp(tok, "true", 4) == 0) || (n == 5 && memcmp(tok, "false", 5) == 0)) {
		v->u.b = n == 4;
		r = 0;
	} else if (n >= 5 && (tok[2] == ':' || tok[4] == '-') && is_digit(tok[0])) {
		r = parse_datetime(tok, n, v);
	} else if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n') {
		r = parse_number(p, tok, n, v);
	} else {
		r = -EINVAL;
	}
	if (r < 0) {
		toml_free(v);
		if (r == -ENOMEM)
			return oom(p);
		if (r == -ERANGE)
			return fail_at(p, line, col, "integer '%.*s' out of range", (int)n, tok);
		return fail_at(p, line, col, "expected a value, found '%.*s'",
		               (int)(n > 40 ? 40 : n), tok);
	}
	*ret = v;
	return 0;
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
			return oom(p);
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
			r = array_add(p, f->c, v);
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
			v = value_new(p, c == '[' ? TOML_ARRAY : TOML_TABLE, line, col, depth);
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
			r = parse_scalar(p, depth, &v);
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
		struct toml_value *v = table_find(t, k->s, k->len);
		bool last = i + 1 == kp->n;

		if (!v) {
			if (last && aot) {
				struct toml_value *a =
				        value_new(p, TOML_ARRAY, k->line, k->col, t->depth + 1u);

				if (!a || table_add(p, t, k, a) < 0)
					return p->rc;
				a->flags = TF_AOT;
				t = a;
				break;
			}
			t = table_new_child(p, t, k, last ? TF_DEFINED : TF_IMPLICIT);
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
		return fail_at(p, k->line, k->col, "cannot define table '%s': already defined",
		               keypath_text(kp, i, name, sizeof(name)));
	}
	if (aot) { /* t is the array of tables: add the new element */
		const struct key_seg *k = &kp->segs[kp->n - 1];
		struct toml_value *nt = value_new(p, TOML_TABLE, k->line, k->col, t->depth + 1u);

		if (!nt || array_add(p, t, nt) < 0)
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
	struct parser p = {
	        .s = data,
	        .len = len,
	        .line = 1,
	        .col = 1,
	        .file = filename ? filename : "<input>",
	        .lim = lim ? *lim : TOML_LIMITS_DEFAULT,
	        .err = err,
	};
	int r;

	if (len > p.lim.max_size)
		return coi_error_set(err, -E2BIG, "%s: larger than %zu bytes", p.file,
		                     p.lim.max_size);
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) { /* a byte order mark */
		p.s += 3;
		p.len -= 3;
	}
	r = check_utf8(&p);
	if (r < 0)
		return r;
	p.root = value_new(&p, TOML_TABLE, 1, 1, 0);
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

const struct toml_value *toml_table_get(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE)
		return NULL;
	return table_find(t, key, strlen(key));
}

const char *toml_type_to_string(enum toml_type t)
{
	static const char *const names[_TOML_TYPE_MAX] = {
	        [TOML_TABLE] = "table",           [TOML_ARRAY] = "array",
	        [TOML_STRING] = "string",         [TOML_INTEGER] = "integer",
	        [TOML_FLOAT] = "float",           [TOML_BOOL] = "bool",
	        [TOML_DATETIME] = "datetime",     [TOML_DATETIME_LOCAL] = "datetime-local",
	        [TOML_DATE_LOCAL] = "date-local", [TOML_TIME_LOCAL] = "time-local",
	};

	return t < _TOML_TYPE_MAX ? names[t] : "unknown";
}
