/* SPDX-License-Identifier: MIT */
/* keys.h: internal to src/config/. Reading one TOML value into the field of a key, comparing it
 * with the value in force (for the trust filter), writing a field out, and freeing it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct coi_config;
struct coi_error;
struct toml_value;

struct key_ctx {
	const char *file;      /* for messages: "~/.coi/config.toml" */
	const char *workspace; /* absolute; relative mount sources are taken from here */
};

/* Set key i from v (a wrong type or value is an error naming the key and what it must be). */
int key_set(struct coi_config *c, size_t i, const struct toml_value *v, const struct key_ctx *x,
            struct coi_error *err);
/* Would setting key i from v weaken isolation compared with c? 1 yes, 0 no, <0 invalid value. */
int key_weakens(const struct coi_config *c, size_t i, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err);
void key_free(struct coi_config *c, size_t i);
/* The value of key i as JSON (null when unset); NULL on OOM. */
json_t *key_to_json(const struct coi_config *c, size_t i);
/* A JSON value written as TOML (strings quoted, objects as inline tables); NULL on OOM. */
char *json_to_toml(const json_t *j);
/* Index in "a|b|c" of s, or -1. */
int allowed_index(const char *allowed, const char *s);
