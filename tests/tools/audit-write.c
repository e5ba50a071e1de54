/* SPDX-License-Identifier: MIT */
/* audit-write NAME N [OLD]: appends N records to NAME's audit log (under $COI_HOME) the way the
 * monitor does, the first OLD of them dated 40 days back; then opens it with a retention of 30
 * days when OLD is given, so they are pruned. For tests of the chain through the command line. */
#include <stdio.h>
#include <stdlib.h>

#include "monitor/audit.h"
#include "util/error.h"

int main(int argc, char **argv)
{
	struct threat t = {.level = THREAT_WARNING,
	                   .category = "environment",
	                   .title = "Environment variable scanning detected",
	                   .rule = "test"};
	struct coi_error err = {0};
	struct audit *a = NULL;
	int n, old;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: audit-write NAME N [OLD]\n");
		return 2;
	}
	n = atoi(argv[2]);
	old = argc == 4 ? atoi(argv[3]) : 0;
	if (audit_open(argv[1], 0, &a, &err) < 0)
		goto fail;
	for (int i = 0; i < n; i++) {
		char desc[32];

		snprintf(desc, sizeof(desc), "record %d", i + 1);
		threat_init(&t);
		if (i < old)
			t.time.tv_sec -= 40 * 86400;
		t.description = desc;
		if (audit_write(a, &t, &err) < 0)
			goto fail;
	}
	a = audit_close(a);
	if (old > 0 && audit_open(argv[1], 30, &a, &err) < 0)
		goto fail;
	audit_close(a);
	return 0;
fail:
	fprintf(stderr, "audit-write: %s\n", coi_error_message(&err));
	audit_close(a);
	return 1;
}
