/* SPDX-License-Identifier: MIT */
/* toml-scalar.c: the TOML reader's strings (basic, literal, multi-line, escapes), numbers (decimal,
 * hex, octal, binary, floats, inf and nan) and date-times (kept as normalised RFC 3339 text).
 * See toml-internal.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml-internal.h"
#include "config/toml.h"
#include "util/buf.h"

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
		return toml_fail_at(p, line, col, "invalid escape sequence in a string");
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
			return toml_fail_at(p, line, col, "expected %d hex digits after '\\%c'",
			                    digits, digits == 4 ? 'u' : 'U');
		adv(p);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return toml_fail_at(p, line, col, "escape names no Unicode scalar value");
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

int toml_parse_string(struct parser *p, bool multi_ok, char **ret, size_t *ret_len)
{
	_cleanup_buf_ struct buf b = BUF_INIT(p->lim->max_size);
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
			return toml_fail_at(p, line, col, "unterminated string");
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
			return r == -E2BIG ? fail(p, "string too long") : toml_oom(p);
	}
	*ret_len = b.len;
	*ret = buf_steal(&b);
	return *ret ? 0 : toml_oom(p);
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

int toml_parse_scalar(struct parser *p, unsigned depth, struct toml_value **ret)
{
	unsigned line = p->line, col = p->col;
	int c = peek(p), r;
	size_t start = p->pos, n;
	struct toml_value *v;
	char tmp[32];

	if (c == '"' || c == '\'') {
		char *s;
		size_t len;

		r = toml_parse_string(p, true, &s, &len);
		if (r < 0)
			return r;
		v = toml_value_new(p, TOML_STRING, line, col, depth);
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
	v = toml_value_new(p, TOML_BOOL, line, col, depth);
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
			return toml_oom(p);
		if (r == -ERANGE)
			return toml_fail_at(p, line, col, "integer '%.*s' out of range", (int)n,
			                    tok);
		return toml_fail_at(p, line, col, "expected a value, found '%.*s'",
		                    (int)(n > 40 ? 40 : n), tok);
	}
	*ret = v;
	return 0;
}
