/* SPDX-License-Identifier: MIT */
/* json.h: small helpers over jansson for the decoding boundary (the Incus client, audit log).
 * Lookups never fail loudly: a missing key or a value of the wrong type reads as absent. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/cleanup.h"

struct coi_error;

/* jansson 2.14 provides json_decrefp() for this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Parse len bytes (the caller has capped them); the error names what and where. */
int json_parse(const char *s, size_t len, json_t **ret, struct coi_error *err);

/* Values at key, or the fallback when missing or of another type. */
const char *json_get_str(const json_t *obj, const char *key);
int64_t json_get_int(const json_t *obj, const char *key, int64_t fallback);
bool json_get_bool(const json_t *obj, const char *key, bool fallback);
json_t *json_get_obj(const json_t *obj, const char *key);
json_t *json_get_arr(const json_t *obj, const char *key);
/* A dotted path through objects: json_get_path(o, "state.network") */
json_t *json_get_path(const json_t *obj, const char *path);

/* Compact encoding; free() the result. NULL on OOM. */
char *json_encode(const json_t *j);
