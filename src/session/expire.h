/* SPDX-License-Identifier: MIT */
/* expire.h: ending a session whose limits.runtime.max_duration ran out while no coi process of
 * its own was there (a detached coi shell); the supervisor's deadline (monitor/deadline.h) calls
 * it. */
#pragma once

struct coi_error;
struct incus_client;

/* Ends the session in container name, if it is still the instance with volatile.uuid uuid (and,
 * while running, with the init behind pidfd), re-checked before every step: a graceful stop of
 * stop_timeout seconds (0: none), then a forced one; the agent's state saved and the container
 * deleted (a persistent one is kept, stopped); its host state removed (*ret_report, when not
 * NULL: what fleet_cleanup_host() has to say). Returns 1 when it ended it, 0 when the container is
 * another instance by now (nothing done). */
int session_expire(struct incus_client *c, const char *name, const char *uuid, int pidfd,
                   int stop_timeout, char ***ret_report, struct coi_error *err);
