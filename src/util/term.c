/* SPDX-License-Identifier: MIT */
/* term.c: see term.h. */
#include "util/term.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the UTF-8 sequence at s that a terminal shows as text (not a control): 1..4;
 * 0 when the byte at s must be escaped (a control, or not UTF-8). */
static size_t printable_len(const unsigned char *s, bool keep_lines)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		if (s[0] >= 0x20 && s[0] != 0x7f)
			return 1;
		return keep_lines && (s[0] == '\n' || s[0] == '\t') ? 1 : 0;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF, and the C1 controls (U+0080..U+009F) */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff || cp <= 0x9f)
		return 0;
	return n;
}

bool term_needs_escape(const char *s, bool keep_lines)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = printable_len(p, keep_lines);

		if (n == 0)
			return true;
		p += n;
	}
	return false;
}

char *term_escape(const char *s, bool keep_lines, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p) {
		size_t n = printable_len(p, keep_lines);

		if (n == 0) {
			if (o + 4 >= size)
				break;
			(void)snprintf(out + o, 5, "\\x%02X", *p);
			o += 4;
			p++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return out;
}

char *term_escape_dup(const char *s, bool keep_lines)
{
	size_t size = strlen(s) * 4 + 1;
	char *out = malloc(size);

	return out ? term_escape(s, keep_lines, out, size) : NULL;
}
