/* SPDX-License-Identifier: MIT */
/* hostname.c: see hostname.h. */
#include "util/hostname.h"

#include <ctype.h>
#include <string.h>

bool hostname_valid(const char *s)
{
	size_t len = strlen(s), label = 0;
	const char *last = s;

	if (len == 0 || len > 253)
		return false;
	for (const char *c = s;; c++) {
		if (*c == '.' || *c == '\0') {
			if (label == 0 || label > 63 || c[-1] == '-' || *last == '-')
				return false;
			if (*c == '\0')
				break;
			label = 0;
			last = c + 1;
			continue;
		}
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
		label++;
	}
	return strspn(last, "0123456789") != strlen(last);
}
