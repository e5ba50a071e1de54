/* SPDX-License-Identifier: MIT */
/* buf.h: a growable byte buffer with a ceiling (curl's dynbuf). Everything read from outside the
 * process (daemon responses, config files, container output) goes through one, so no input can make
 * coi allocate without bound: an append past the ceiling fails with -E2BIG and leaves the buffer
 * as it was. The data is always NUL-terminated, so text can be used as a C string. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util/cleanup.h"

struct buf {
	char *data; /* NULL until the first append */
	size_t len; /* bytes used, not counting the terminating NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the ceiling for len */
};

#define BUF_INIT(m) ((struct buf){.data = NULL, .len = 0, .cap = 0, .max = (m)})

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);

int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) COI_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) COI_PRINTF(2, 0);

/* The text so far ("" when empty); valid until the next append. */
const char *buf_str(const struct buf *b);

/* Hand the data to the caller (never NULL unless out of memory) and empty the buffer. */
char *buf_steal(struct buf *b);

static inline void buf_releasep(struct buf *b)
{
	buf_release(b);
}
#define _cleanup_buf_ _cleanup_(buf_releasep)
