/* SPDX-License-Identifier: MIT */
/* source.h: the host side of a secret (secret.h): reading its real value from where it lives
 * (an environment variable, a field of a JSON file, a command's output), renewing an agent's
 * login through its OAuth refresh endpoint (the new tokens go back into the host's file; the
 * container never sees them), and the copy of the login file the container gets, with every
 * token replaced by its placeholder. Runs on the host only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct buf;
struct coi_error;
struct egress_connect_to;
struct egress_secret;

#define EGRESS_FILE_MAX     (1u << 20) /* a credential file */
#define EGRESS_COMMAND_SECS 15

/* Reads the value now into s->value (replacing it). For a FILE source with an expiry, the
 * expiry in seconds since the epoch goes to *ret_expires (0: unknown; ret_expires may be NULL).
 * A value that is empty or could add a header line (egress_value_valid) is an error. */
int egress_source_load(struct egress_secret *s, int64_t *ret_expires, struct coi_error *err);

/* The expiry of a value, in seconds since the epoch: from the file's expires_field (a number
 * of milliseconds when over 1e11, else seconds), or "jwt": the value's own exp claim. 0 when
 * unknown. */
int64_t egress_expiry(const struct egress_secret *s, const char *file_text, const char *value);

/* Renews the value of s (a FILE source with refresh.url) with the refresh token of its file:
 * POST {grant_type, refresh_token, client_id} as JSON; the answer's access_token becomes the
 * value, and it, a rotated refresh_token and the new expiry are written back into the file
 * (atomically, same mode and owner). cafile and connect_to route the request for tests. */
int egress_refresh(struct egress_secret *s, const char *cafile, const struct egress_connect_to *ct,
                   size_t n_ct, int64_t *ret_expires, struct coi_error *err);

/* The container's copy of s's source file: the same JSON with the value's field set to the
 * placeholder, the refresh token's to its placeholder, the expiry a year ahead (so the agent
 * never tries to renew it itself), a top-level "last_refresh" set to now, and every other JWT
 * in it without its signature (the agent reads its claims; no server accepts it). */
int egress_container_file(const struct egress_secret *s, struct buf *out, struct coi_error *err);
