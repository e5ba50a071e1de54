/* SPDX-License-Identifier: MIT */
/* monitor-egress.h: the supervisor's credential proxy (see monitor-egress.c). */
#pragma once

struct coi_error;
struct monitor_opts;

/* Starts the proxy of container's session in a child, with the memfd and socket the session
 * handed over (both closed here), and waits until it is ready; fills mo->egress_fd,
 * egress_pidfd and egress_read. */
int monitor_egress_start(const char *container, int secrets_fd, int listen_fd,
                         struct monitor_opts *mo, struct coi_error *err);
/* The supervisor is done: the proxy's CA certificate goes (the proxy removes it too when it
 * stops; this is for a proxy that was killed). */
void monitor_egress_stopped(const char *container);
