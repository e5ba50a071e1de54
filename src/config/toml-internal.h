/* SPDX-License-Identifier: MIT */
/* toml-internal.h: what the three files of the TOML reader share, and nothing else includes:
 * toml.c (documents, keys, arrays and inline tables), toml-value.c (the value tree and its
 * tables) and toml-scalar.c (strings, numbers, date-times). The parser's cursor and its error
 * helpers; the cursor functions are inline, being the inner loop of every file. It includes no
 * header of coi's (toml.h includes nothing back), so the three files form no circle. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/cleanup.h"

struct coi_error;
struct toml_limits;
struct toml_value;

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

struct parser {
	const char *s;
	size_t len, pos;
	unsigned line, col;
	const char *file;
	const struct toml_limits *lim;
	size_t n_values;
	struct toml_value *root, *cur;
	struct coi_error *err;
	int rc; /* the last error code, also when err is NULL */
};

/* The error "FILE:LINE:COL: message" (-EINVAL, recorded in p->rc); returns -EINVAL. */
int toml_fail_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
        COI_PRINTF(4, 5);
/* Out of memory (-ENOMEM, recorded in p->rc); returns -ENOMEM. */
int toml_oom(struct parser *p);
#define fail(p, ...) toml_fail_at((p), (p)->line, (p)->col, __VA_ARGS__)

/* --- The cursor --- */

static inline int peek_at(const struct parser *p, size_t k)
{
	return p->pos + k < p->len ? (unsigned char)p->s[p->pos + k] : -1;
}

static inline int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static inline void adv(struct parser *p)
{
	unsigned char c = (unsigned char)p->s[p->pos++];

	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		p->col++;
	}
}

static inline void adv_n(struct parser *p, size_t n)
{
	while (n-- > 0)
		adv(p);
}

static inline bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
	       c == '-';
}

static inline const char *char_name(int c, char tmp[32])
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

static inline void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		adv(p);
}

static inline bool at_newline(const struct parser *p)
{
	return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static inline void skip_newline(struct parser *p)
{
	if (peek(p) == '\r')
		adv(p);
	adv(p);
}

/* --- The value tree (toml-value.c) --- */

/* A new value of type (an enum toml_type: this header cannot name it without including toml.h,
 * which would make a circle) written at line:col, depth levels below the root; NULL with the error
 * set when that breaks a limit or memory runs out. */
struct toml_value *toml_value_new(struct parser *p, int type, unsigned line, unsigned col,
                                  unsigned depth);
/* The value at key k (len bytes, NUL bytes allowed) in table t, or NULL. */
struct toml_value *toml_table_find(const struct toml_value *t, const char *k, size_t len);
/* Add key -> v to t, taking both (v is freed on failure; the key is copied). */
int toml_table_put(struct parser *p, struct toml_value *t, const struct key_seg *k,
                   struct toml_value *v);
/* Append v to array a, taking v (freed on failure). */
int toml_array_push(struct parser *p, struct toml_value *a, struct toml_value *v);
/* A new table under t at key k (with flags), or NULL with the error set. */
struct toml_value *toml_table_new_child(struct parser *p, struct toml_value *t,
                                        const struct key_seg *k, uint8_t flags);

/* --- Strings and scalars (toml-scalar.c) --- */

/* A string at the cursor: basic, literal, and (when multi_ok) their multi-line forms. */
int toml_parse_string(struct parser *p, bool multi_ok, char **ret, size_t *ret_len);
/* A scalar at the cursor: string, boolean, number or date-time. */
int toml_parse_scalar(struct parser *p, unsigned depth, struct toml_value **ret);
