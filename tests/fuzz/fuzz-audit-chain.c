/* SPDX-License-Identifier: MIT */
/* fuzz-audit-chain: the audit chain's reader, on a log someone else may have written or changed
 * (coi audit verify, and the writer reading the last line of a log it reopens). The input is a
 * log, one line per newline; the first byte chooses a head and an anchor for the check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/audit-chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_link head = {.seq = 3, .hash = AUDIT_GENESIS}, anchor = head;
	struct audit_verify v;
	const char *p, *end;
	uint8_t pick;

	if (size < 1)
		return 0;
	pick = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	anchor.seq = pick >> 2;
	audit_verify_init(&v, pick & 1 ? &head : NULL, pick & 2 ? &anchor : NULL);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		struct audit_line l;

		if (audit_line_parse(p, n, &l) < 0 || audit_verify_line(&v, p, n) < 0)
			abort();
		if (l.kind == AUDIT_LINE_RECORD && (l.seq == 0 || strlen(l.prev) != 64))
			abort();
		p += n + (nl ? 1 : 0);
	}
	audit_verify_end(&v);
	if (strnlen(v.what, sizeof(v.what)) == sizeof(v.what) ||
	    (v.problem == AUDIT_INTACT) != (v.what[0] == 0))
		abort();
	return 0;
}
