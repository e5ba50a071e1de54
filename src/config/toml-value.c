/* SPDX-License-Identifier: MIT */
/* toml-value.c: the value tree of the TOML reader: values, tables (in the order written, with a
 * hash index once they grow) and arrays, and their release. See toml-internal.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml-internal.h"
#include "config/toml.h"

struct toml_value *toml_value_new(struct parser *p, int type, unsigned line, unsigned col,
                                  unsigned depth)
{
	struct toml_value *v;

	if (depth > p->lim->max_depth) {
		toml_fail_at(p, line, col, "nesting deeper than %u levels", p->lim->max_depth);
		return NULL;
	}
	if (++p->n_values > p->lim->max_values) {
		toml_fail_at(p, line, col, "more than %zu values", p->lim->max_values);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		toml_oom(p);
		return NULL;
	}
	v->type = (enum toml_type)type;
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

struct toml_value *toml_table_find(const struct toml_value *t, const char *k, size_t len)
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

int toml_table_put(struct parser *p, struct toml_value *t, const struct key_seg *k,
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
			return toml_oom(p); /* v is in the table now, freed with it */
	} else if (t->u.table.index) {
		index_insert(t, t->u.table.n - 1);
	}
	return 0;
oom:
	toml_free(v);
	return toml_oom(p);
}

int toml_array_push(struct parser *p, struct toml_value *a, struct toml_value *v)
{
	if (a->u.array.n == a->u.array.cap) {
		size_t cap = a->u.array.cap ? a->u.array.cap * 2 : 4;
		struct toml_value **items = reallocarray(a->u.array.items, cap, sizeof(*items));

		if (!items) {
			toml_free(v);
			return toml_oom(p);
		}
		a->u.array.items = items;
		a->u.array.cap = cap;
	}
	a->u.array.items[a->u.array.n++] = v;
	return 0;
}

struct toml_value *toml_table_new_child(struct parser *p, struct toml_value *t,
                                        const struct key_seg *k, uint8_t flags)
{
	struct toml_value *nt = toml_value_new(p, TOML_TABLE, k->line, k->col, t->depth + 1u);

	if (!nt || toml_table_put(p, t, k, nt) < 0)
		return NULL;
	nt->flags = flags;
	return nt;
}

const struct toml_value *toml_table_get(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE)
		return NULL;
	return toml_table_find(t, key, strlen(key));
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
