/* SPDX-License-Identifier: MIT */
/* yaml.c: libyaml's events into a tree (yaml.h). One recursive function per node, bounded by
 * YAML_MAX_DEPTH; every node counted against YAML_MAX_NODES. */
#include "util/yaml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/error.h"

struct loader {
	yaml_parser_t p;
	size_t nodes;
	struct coi_error *err;
};

struct ynode *ynode_free(struct ynode *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
	return NULL;
}

static int fail_at(struct loader *l, const yaml_mark_t *m, const char *what)
{
	return coi_error_set(l->err, -EBADMSG, "%zu:%zu: %s", m->line + 1, m->column + 1, what);
}

static int next(struct loader *l, yaml_event_t *ev)
{
	if (yaml_parser_parse(&l->p, ev))
		return 0;
	if (l->p.error == YAML_MEMORY_ERROR)
		return coi_error_oom(l->err);
	return coi_error_set(l->err, -EBADMSG, "%zu:%zu: %s%s%s", l->p.problem_mark.line + 1,
	                     l->p.problem_mark.column + 1, l->p.problem ? l->p.problem : "bad YAML",
	                     l->p.context ? " " : "", l->p.context ? l->p.context : "");
}

static int node_new(struct loader *l, const yaml_event_t *ev, enum ynode_type t, struct ynode **ret)
{
	struct ynode *n;

	if (++l->nodes > YAML_MAX_NODES)
		return fail_at(l, &ev->start_mark, "too many nodes");
	n = calloc(1, sizeof(*n));
	if (!n)
		return coi_error_oom(l->err);
	n->type = t;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	*ret = n;
	return 0;
}

static int append(struct loader *l, struct ynode *parent, struct ynode *child)
{
	struct ynode **v = reallocarray(parent->items, parent->n + 1, sizeof(*v));

	if (!v) {
		ynode_free(child);
		return coi_error_oom(l->err);
	}
	parent->items = v;
	v[parent->n++] = child;
	return 0;
}

static int scalar(struct loader *l, const yaml_event_t *ev, struct ynode **ret)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct ynode *n;
	int r = node_new(l, ev, YNODE_SCALAR, &n);

	if (r < 0)
		return r;
	n->str = strndup(v, len);
	if (!n->str) {
		ynode_free(n);
		return coi_error_oom(l->err);
	}
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	n->null = !n->quoted &&
	          (len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	           strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
	*ret = n;
	return 0;
}

static int load_node(struct loader *l, yaml_event_t *ev, unsigned depth, struct ynode **ret);

/* The children of a sequence or mapping, up to its end event. */
static int collection(struct loader *l, struct ynode *n, yaml_event_type_t end, unsigned depth)
{
	for (;;) {
		yaml_event_t ev;
		struct ynode *child = NULL;
		int r = next(l, &ev);

		if (r < 0)
			return r;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return n->type == YNODE_MAP && n->n % 2 ? -EBADMSG : 0;
		}
		r = load_node(l, &ev, depth + 1, &child);
		yaml_event_delete(&ev);
		if (r < 0)
			return r;
		r = append(l, n, child);
		if (r < 0)
			return r;
	}
}

/* ev is the node's first event; the caller deletes it. */
static int load_node(struct loader *l, yaml_event_t *ev, unsigned depth, struct ynode **ret)
{
	struct ynode *n = NULL;
	int r;

	if (depth > YAML_MAX_DEPTH)
		return fail_at(l, &ev->start_mark, "nested too deep");
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return fail_at(l, &ev->start_mark, "anchors are not supported");
		return scalar(l, ev, ret);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;

		if (seq ? ev->data.sequence_start.anchor != NULL
		        : ev->data.mapping_start.anchor != NULL)
			return fail_at(l, &ev->start_mark, "anchors are not supported");
		r = node_new(l, ev, seq ? YNODE_SEQ : YNODE_MAP, &n);
		if (r >= 0)
			r = collection(l, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT,
			               depth);
		if (r < 0) {
			ynode_free(n);
			return r == -EBADMSG && !l->err->msg[0]
			               ? fail_at(l, &ev->start_mark, "a key without a value")
			               : r;
		}
		*ret = n;
		return 0;
	}
	case YAML_ALIAS_EVENT:
		return fail_at(l, &ev->start_mark, "aliases are not supported");
	default:
		return fail_at(l, &ev->start_mark, "unexpected YAML event");
	}
}

int yaml_load(const char *text, size_t len, struct ynode **ret, struct coi_error *err)
{
	struct coi_error scratch = {0};
	struct loader l = {.err = err ? err : &scratch};
	struct ynode *root = NULL;
	yaml_event_t ev;
	int r;

	*ret = NULL;
	if (!yaml_parser_initialize(&l.p))
		return coi_error_oom(err);
	yaml_parser_set_input_string(&l.p, (const unsigned char *)text, len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END */
	for (r = 0; r >= 0;) {
		r = next(&l, &ev);
		if (r < 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		r = load_node(&l, &ev, 0, &root);
		yaml_event_delete(&ev);
		break; /* the first document's root: the rest is not read */
	}
	yaml_parser_delete(&l.p);
	if (r < 0)
		return r;
	*ret = root;
	return 0;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->items[i]->type == YNODE_SCALAR && strcmp(map->items[i]->str, key) == 0)
			return map->items[i + 1];
	return NULL;
}

const char *ynode_str(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR && !n->null ? n->str : NULL;
}
