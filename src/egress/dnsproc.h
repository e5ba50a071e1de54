/* SPDX-License-Identifier: MIT */
/* dnsproc.h: the DNS filter as a child process of the session's supervisor. The filter parses
 * what the container sends; in a process of its own, a crash there takes neither the monitor
 * nor the supervisor with it, and the supervisor, which holds the child's pidfd, tells the user.
 * The child ends when the supervisor does (the records socket hangs up): a filter nobody
 * watches does not live on. Its records come back over that socket, one datagram each. */
#pragma once

#include <sys/types.h>

#include "egress/dnsserver.h"

struct coi_error;

/* Forks the filter with o (its record, ready, userdata and stop_fd are the child's own) and
 * waits, bounded, until it answers queries. *ret_pidfd: the child's pidfd (readable once it
 * ended); *ret_records: the parent's end of the records socket (egress_dns_read_record). */
int egress_dns_spawn(const struct egress_dns_opts *o, pid_t *ret_pid, int *ret_pidfd,
                     int *ret_records, struct coi_error *err);

/* The next record from the child: 1 with *ret filled, 0 when none is waiting, -EPIPE when the
 * child is gone. A malformed datagram is skipped. *ret_lost: records the child could not send
 * (the socket was full) since the last one read. */
int egress_dns_read_record(int fd, struct egress_dns_record *ret, unsigned *ret_lost);

/* How the child ended, for the user ("killed by signal 9", "exited with status 1"). Reaps it. */
void egress_dns_exit_text(pid_t pid, char *out, size_t size);
