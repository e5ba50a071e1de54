/* SPDX-License-Identifier: MIT */
/* error.h: the one error convention. Functions return 0 (or a count) on success and a negative
 * errno on failure; when the caller needs the reason in words, it passes a struct coi_error it
 * owns (on its stack) as the last argument. The setters return the code, so failing is one line:
 *
 *	return coi_error_set(err, -EINVAL, "'%s' is not a size", s);
 *
 * and callers add context on the way up with coi_error_prefix(). err may be NULL everywhere. */
#pragma once

#include "util/cleanup.h"

#define COI_ERROR_MAX 1024

struct coi_error {
	int code;                /* negative errno, 0 when unset */
	char msg[COI_ERROR_MAX]; /* human text: lower case, no final full stop */
};

/* Set code and message; returns code (which must be negative). */
int coi_error_set(struct coi_error *err, int code, const char *fmt, ...) COI_PRINTF(3, 4);

/* Set from an errno value (positive or negative), appending ": strerror"; returns -|errnum|. */
int coi_error_errno(struct coi_error *err, int errnum, const char *fmt, ...) COI_PRINTF(3, 4);

/* Out of memory; returns -ENOMEM. */
int coi_error_oom(struct coi_error *err);

/* Prepend "context: " to the message already set; returns err->code (or -EIO if unset). */
int coi_error_prefix(struct coi_error *err, const char *fmt, ...) COI_PRINTF(2, 3);

/* Clear an error for reuse. */
void coi_error_clear(struct coi_error *err);

/* The message, or strerror of the code when no message was set. */
const char *coi_error_message(const struct coi_error *err);
