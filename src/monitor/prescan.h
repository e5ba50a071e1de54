/* SPDX-License-Identifier: MIT */
/* prescan.h: what a supervisor reads first about its container, read ahead by the warm pool's
 * filler (session/warm.h). On a claimed container most of the supervisor's start was that first
 * read (measured, release build, load 2.6-3.4: 135-230 ms of a 220-310 ms start in progid's scan
 * of files nobody had read yet, 15-40 ms in the state GET for the init's pid). The filler, which
 * booted the container and waits for nobody, does both before it marks it, into
 * coi_dir()/run/<container>.prescan (this user's, 0600); the claimer's supervisor (--prescan)
 * takes that instead, only while the same init runs (its pid and start time: another instance of
 * the name, or one restarted, has another), and reads the container itself as before when the
 * file is missing, stale or not whole. The guest has no part in it: the scan is the same one the
 * supervisor would make (progid.h, in the guest's root, never out of it), made earlier, and the
 * file lies on the host where the guest cannot write. */
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

struct coi_error;
struct progid;

struct monitor_prescan {
	pid_t init_pid;
	struct in_addr self4; /* the address its NIC is pinned to (0: none) */
	struct progid *progid;
};

/* Scans the container whose init is init_pid and writes what the supervisor needs. */
int monitor_prescan_write(const char *container, pid_t init_pid, struct in_addr self4,
                          struct coi_error *err);
/* Reads and removes the file (it serves one supervisor): 0 with ret filled, -ENOENT when there
 * is none, -ESTALE when its init no longer runs, -EBADMSG when it is not whole, not this
 * build's or another container's. */
int monitor_prescan_take(const char *container, struct monitor_prescan *ret);
/* The init the file was written for (its pid and start time, proc_starttime), the file left for
 * the supervisor: 0, -ENOENT when there is none, -EBADMSG when it is not whole, not this build's
 * or another container's. Whether that init still runs is the caller's to tell. */
int monitor_prescan_init(const char *container, pid_t *ret_pid, unsigned long long *ret_start);
/* The file gone (the container is). */
void monitor_prescan_remove(const char *container);
