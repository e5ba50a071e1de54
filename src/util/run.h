/* SPDX-License-Identifier: MIT */
/* run.h: running a host program and collecting what it prints, bounded in time (the program is
 * killed at the deadline) and in size (each output into a capped buffer). No shell: argv[0] is
 * looked up in PATH. The caller's signal mask is cleared for the program. */
#pragma once

struct buf;
struct coi_error;

struct run_opts {
	char *const *argv;
	const char *stdin_text; /* NULL: an empty stdin */
	struct buf *out;        /* its stdout; NULL: discarded */
	struct buf *errb;       /* its stderr; NULL: discarded */
	unsigned timeout_sec;   /* 0: 30 */
};

/* The program's wait status (>= 0); or a negative errno when it could not be run or talked to,
 * -ETIMEDOUT when it was killed at the deadline, -E2BIG when an output passed its buffer's
 * ceiling (err says which). */
int run_capture(const struct run_opts *o, struct coi_error *err);
