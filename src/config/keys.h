/* SPDX-License-Identifier: MIT */
/* keys.h: internal to src/config/. Reading one TOML value into the field of a key, comparing it
 * with the value in force (for the trust filter), writing a field out, and freeing it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/toml.h"
#include "util/cleanup.h"

struct coi_config;
struct coi_error;
struct config_key;
struct toml_value;

/* The field of key k in c, its count (lists) or its seconds (durations), by the table's offsets. */
#define FIELD(c, k, type) ((type *)((char *)(c) + (k)->offset))
#define COUNT(c, k)       ((size_t *)((char *)(c) + (k)->offset_n))
#define SECONDS(c, k)     ((int64_t *)((char *)(c) + (k)->offset_n))

struct key_ctx {
	const char *file;      /* for messages: "~/.coi/config.toml" */
	const char *workspace; /* absolute; relative mount sources are taken from here */
	const char *dir;       /* absolute directory of the file (NULL: built-in text) */
	bool project;          /* the file came with the project (approved or not) */
};

/* Set key i from v (a wrong type or value is an error naming the key and what it must be). */
int key_set(struct coi_config *c, size_t i, const struct toml_value *v, const struct key_ctx *x,
            struct coi_error *err);
/* Would setting key i from v weaken isolation compared with c? 1 yes, 0 no, <0 invalid value. */
int key_weakens(const struct coi_config *c, size_t i, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err);
void key_free(struct coi_config *c, size_t i);
/* Index in "a|b|c" of s, or -1. */
int allowed_index(const char *allowed, const char *s);
/* The idx-th name of "a|b|c" into out (size bytes). */
const char *allowed_name(const char *allowed, int idx, char *out, size_t size);

/* Helpers shared with forward.c. */
/* An error "FILE:LINE:COL: 'key' WHAT" about value v; returns -EINVAL. */
int key_bad(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
            struct coi_error *err, const char *fmt, ...) COI_PRINTF(5, 6);
/* An error naming key k unless n entries (with those of earlier files) fit its cap
 * (config_key.max, else CONFIG_ENTRIES_MAX). */
int key_check_entries(const struct key_ctx *x, const struct config_key *k,
                      const struct toml_value *v, size_t n, struct coi_error *err);
/* A string without NUL bytes. */
bool key_plain_string(const struct toml_value *v);
/* A shell variable name: a letter or '_', then letters, digits and '_'. */
bool key_env_name_ok(const char *s);
/* v must be of type t (an error naming the key's type otherwise). */
int key_want_type(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
                  enum toml_type t, struct coi_error *err);
/* A string value passing k's allowed names and format (an error naming the key otherwise). */
int key_check_string(const struct key_ctx *x, const struct config_key *k,
                     const struct toml_value *v, struct coi_error *err);
/* An array of strings, each passing check (may be NULL; what says what they must be). */
int key_read_strv(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
                  bool (*check)(const char *), const char *what, char ***ret,
                  struct coi_error *err);
/* An array of ports (1-65535). */
int key_read_ports(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
                   uint16_t **ret, size_t *ret_n, struct coi_error *err);
/* What the entries of a list type must be (check NULL: any string), and the words for it. */
bool (*key_list_check(const struct config_key *k))(const char *);
const char *key_list_what(const struct config_key *k);
/* A dotted IPv4 address. */
bool key_ipv4_ok(const char *s);
/* The key nearest to an unknown name (edit distance <= 2), or NULL: "did you mean". */
const char *key_suggest(const char *name);
/* "~/x" and relative paths (against base) made absolute and clean. */
char *key_expand_path(const char *p, const char *base);
/* A leading "~/.coi" of *p replaced by coi_dir() ($COI_HOME in tests), another "~" by $HOME, as
 * for every key that holds a host path. 0 or -ENOMEM. */
int key_expand_home(char **p);

/* forward.c: the entries of an array of tables ([[sockets]], [[ports.map]], [[credentials]],
 * [[secrets]]), each read by its type's reader. */
struct key_entry {
	const struct key_ctx *x;
	const struct config_key *k;
	const struct toml_value *t; /* the table */
};
/* Every field of the entry is one of allowed ("a|b|c"). */
int key_entry_known(const struct key_entry *e, const char *allowed, struct coi_error *err);
/* A non-empty string field without control characters, or NULL (*ret stays NULL) when absent
 * and optional. */
int key_entry_string(const struct key_entry *e, const char *field, bool required, char **ret,
                     struct coi_error *err);
/* A host path: absolute or "~/...", made clean, at most max bytes. */
int key_entry_host_path(const struct key_entry *e, const char *field, size_t max, char **ret,
                        struct coi_error *err);
int forward_set(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err);
void forward_free(struct coi_config *c, const struct config_key *k);
json_t *forward_to_json(const struct coi_config *c, const struct config_key *k);

/* secrets.c: one [[secrets]] entry (a built-in's fields filled in). */
int secret_read(const struct key_entry *e, void *p, struct coi_error *err);
const char *secret_id(const void *p);
void secret_release(void *p);
json_t *secret_to_json(const void *p);

/* prompts.c: [prompts]. */
int prompts_set(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err);
void prompts_free(struct coi_config *c);
json_t *prompts_to_json(const struct coi_config *c);
