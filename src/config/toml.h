/* SPDX-License-Identifier: MIT */
/* toml.h: a TOML 1.0 reader. toml_parse() turns a document into a tree of typed values, each with
 * the line and column where it was written. The input must be valid UTF-8; every TOML 1.0 value
 * type is supported (date-times are kept as normalised RFC 3339 text). The parser is iterative:
 * nesting (arrays, inline tables, dotted keys, table headers) is bounded by toml_limits.max_depth,
 * the number of values by max_values and the input by max_size, so no input can exhaust the stack
 * or the heap. Errors read "FILE:LINE:COL: expected ..." in err->msg, with -EINVAL (or -E2BIG). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coi_error;

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,     /* 1979-05-27 */
	TOML_TIME_LOCAL,     /* 07:32:00 */
	_TOML_TYPE_MAX,
};

struct toml_value;

struct toml_kv {
	char *key; /* decoded; may hold NUL bytes (key_len counts them) */
	size_t key_len;
	struct toml_value *value;
};

struct toml_value {
	enum toml_type type;
	unsigned line, col; /* where the value (or, for tables, its key) was written */
	union {
		struct {
			char *s; /* NUL-terminated; may hold NUL bytes (len counts them) */
			size_t len;
		} str; /* TOML_STRING and the four date-time types */
		int64_t i;
		double f;
		bool b;
		struct {
			struct toml_kv *items; /* in the order written */
			size_t n, cap;
			uint32_t *index; /* hash index for large tables, private */
			size_t index_cap;
		} table;
		struct {
			struct toml_value **items;
			size_t n, cap;
		} array;
	} u;
	uint16_t depth; /* private: nesting depth from the root */
	uint8_t flags;  /* private: how a table or array was created */
};

struct toml_limits {
	size_t max_size;    /* bytes of input */
	unsigned max_depth; /* nesting of tables and arrays from the root */
	size_t max_values;  /* values in the whole document */
};

#define TOML_LIMITS_DEFAULT \
	((struct toml_limits){.max_size = 1 << 20, .max_depth = 64, .max_values = 1 << 18})

/* Parse len bytes. filename is used in messages only (NULL: "<input>"); lim NULL: the defaults. */
int toml_parse(const char *data, size_t len, const char *filename, const struct toml_limits *lim,
               struct toml_value **ret, struct coi_error *err);
struct toml_value *toml_free(struct toml_value *v);

/* The value at key in table t, or NULL (also when t is not a table). */
const struct toml_value *toml_table_get(const struct toml_value *t, const char *key);

const char *toml_type_to_string(enum toml_type t);
