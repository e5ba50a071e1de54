/* SPDX-License-Identifier: MIT */
/* table.h: aligned text tables for listings (the JSON form of a listing is built by each verb). */
#pragma once

#include <stdio.h>

struct table;

/* A table with the given column headers (NULL-terminated). NULL on OOM. */
struct table *table_new(const char *const *headers);
/* Add a row of as many cells as headers; NULL cells print as "-". 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);
/* Print with columns padded to their widest cell, two spaces apart. */
void table_print(const struct table *t, FILE *f);
struct table *table_free(struct table *t);

/* A listing as --json asks: the table t (printed and freed) when not NULL, else the JSON array
 * arr (not freed), indented. Returns the exit status. */
typedef struct json_t json_t;
int table_or_json_print(struct table *t, json_t *arr);
