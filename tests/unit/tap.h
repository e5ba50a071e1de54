/* SPDX-License-Identifier: MIT */
/* tap.h: the unit-test harness. A test program calls its test functions through RUN(); each
 * CHECK that fails prints file:line and marks the test failed; tap_done() prints the plan and
 * returns the exit code. Output is TAP, for prove. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed, tap_cur_failed;

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			tap_cur_failed = 1;                                               \
		}                                                                         \
	} while (0)

#define CHECK_STREQ(a, b)                                                                         \
	do {                                                                                      \
		const char *_a = (a), *_b = (b);                                                  \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                          \
			printf("# %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, _a ? _a : "(null)", \
			       _b ? _b : "(null)");                                               \
			tap_cur_failed = 1;                                                       \
		}                                                                                 \
	} while (0)

#define RUN(fn)                                                                           \
	do {                                                                              \
		tap_cur_failed = 0;                                                       \
		fn();                                                                     \
		tap_count++;                                                              \
		if (tap_cur_failed)                                                       \
			tap_failed++;                                                     \
		printf("%s %d - %s\n", tap_cur_failed ? "not ok" : "ok", tap_count, #fn); \
		fflush(stdout);                                                           \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/* Run a shell command in which every "%s" stands for arg (a test directory, usually); 0 when it
 * succeeded, else it is printed as a diagnostic and -1 returned. */
static inline int tap_sh(const char *tmpl, const char *arg)
{
	char cmd[4096];
	size_t o = 0;

	for (const char *t = tmpl; *t && o < sizeof(cmd) - 128; t++) {
		if (t[0] == '%' && t[1] == 's') {
			o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%s", arg);
			t++;
		} else {
			cmd[o++] = *t;
		}
	}
	cmd[o] = '\0';
	if (system(cmd) != 0) {
		printf("# command failed: %s\n", cmd);
		return -1;
	}
	return 0;
}
