/* SPDX-License-Identifier: MIT */
/* network.h: the session's network phases (see network.c). */
#pragma once

#include <stdbool.h>

struct coi_error;
struct session;

/* The bridge's address and prefix into s->gateway and s->prefix (once). */
int session_net_bridge(struct session *s, struct coi_error *err);
/* Before start: drop the container's traffic until the real rules are in. */
int session_net_boot(struct session *s, struct coi_error *err);
/* After start: wait for the IPv4, bind the DNS filter's sockets, install the rules (the
 * redirect to the filter with them), write [[network.hosts]] into /etc/hosts. */
int session_net_apply(struct session *s, struct coi_error *err);
/* Remove every rule of the session. */
int session_net_remove(struct session *s, struct coi_error *err);

/* The supervisor runs the DNS filter: whether there is one to run, the supervisor's options for
 * it (appended to argv; with monitoring off, --timer-only too), in the supervisor's child before
 * its exec the sockets as fds first and first + 1 and every descriptor above closed, and in the
 * session once the supervisor has them, their close. */
bool session_net_has_filter(const struct session *s);
int session_net_supervisor_args(const struct session *s, int first, char ***argv);
void session_net_supervisor_fds(const struct session *s, int first);
void session_net_supervisor_started(struct session *s);
/* Frees what the phases kept (session_free). */
void session_net_release(struct session *s);
