/* SPDX-License-Identifier: MIT */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/term.h"

/* A message longer than the struct holds is cut and marked, not failed. */
static void mark_if_truncated(struct coi_error *err, int n)
{
	if (n >= 0 && (size_t)n < sizeof(err->msg))
		return;
	memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
}

static int normalise(int code)
{
	if (code > 0)
		code = -code;
	return code == 0 ? -EIO : code;
}

/* Messages end on a terminal: what a terminal would act on in a name the message quotes (a path,
 * a config key, a daemon's text) becomes visible text (util/term.h). */
static void printable(struct coi_error *err)
{
	char tmp[COI_ERROR_MAX];

	if (!term_needs_escape(err->msg, true))
		return;
	term_escape(err->msg, true, tmp, sizeof(tmp));
	memcpy(err->msg, tmp, sizeof(tmp));
}

int coi_error_set(struct coi_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	code = normalise(code);
	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	printable(err);
	return code;
}

int coi_error_errno(struct coi_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	int code = normalise(errnum);

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	mark_if_truncated(err, (int)n + snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
	                                         strerror(-code)));
	printable(err);
	return code;
}

int coi_error_oom(struct coi_error *err)
{
	return coi_error_set(err, -ENOMEM, "out of memory");
}

int coi_error_prefix(struct coi_error *err, const char *fmt, ...)
{
	char prefix[COI_ERROR_MAX], old[COI_ERROR_MAX];
	va_list ap;
	int n;

	if (!err)
		return -EIO;
	if (err->code == 0)
		err->code = -EIO;
	va_start(ap, fmt);
	(void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	n = snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix,
	             old[0] ? old : strerror(-err->code));
	mark_if_truncated(err, n);
	printable(err);
	return err->code;
}

void coi_error_clear(struct coi_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *coi_error_message(const struct coi_error *err)
{
	if (!err)
		return "unknown error";
	if (err->msg[0])
		return err->msg;
	return strerror(err->code < 0 ? -err->code : EIO);
}
