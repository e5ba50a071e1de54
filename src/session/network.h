/* SPDX-License-Identifier: MIT */
/* network.h: the session's network phases (see network.c). */
#pragma once

struct coi_error;
struct session;

/* The bridge's address and prefix into s->gateway and s->prefix (once). */
int session_net_bridge(struct session *s, struct coi_error *err);
/* Before start: drop the container's traffic until the real rules are in. */
int session_net_boot(struct session *s, struct coi_error *err);
/* After start: wait for the IPv4, resolve the allowlist, install the rules, write /etc/hosts. */
int session_net_apply(struct session *s, struct coi_error *err);
/* Stop the allowlist refresh process of container, if one runs (1), else 0. */
int session_net_stop_refresh(const char *container);
/* Remove every rule of the session. */
int session_net_remove(struct session *s, struct coi_error *err);
