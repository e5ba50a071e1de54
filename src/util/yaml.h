/* SPDX-License-Identifier: MIT */
/* yaml.h: the first document of a YAML text as a small tree, through libyaml's event parser.
 * For rule files a user drops in a directory (GTFOBins, Sigma): anchors and aliases are refused
 * (a few lines of aliases can stand for billions of nodes), and depth and node count are capped.
 * A Markdown file whose front matter is YAML (GTFOBins' older layout) is read up to the end of
 * that first document; what follows is never parsed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/cleanup.h"

struct coi_error;

#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 20000

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_type type;
	unsigned line, col;   /* 1-based, where the node starts */
	char *str;            /* SCALAR: its text ("" for an empty one) */
	bool null;            /* SCALAR: a plain null (empty, ~, null) */
	bool quoted;          /* SCALAR: written in quotes (so "null" is text) */
	struct ynode **items; /* SEQ: the values; MAP: key, value, key, value, ... */
	size_t n;             /* items */
};

/* Parses text; the error names line:column (1-based) of what is wrong. An empty text, or one
 * with no document, gives a NULL tree and 0. */
int yaml_load(const char *text, size_t len, struct ynode **ret, struct coi_error *err);
struct ynode *ynode_free(struct ynode *n);
DEFINE_CLEANUP(struct ynode *, ynode_free)

/* In a map: the value of the scalar key (case-sensitive), or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* The text of a scalar that is not null, else NULL. */
const char *ynode_str(const struct ynode *n);
