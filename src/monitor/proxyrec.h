/* SPDX-License-Identifier: MIT */
/* proxyrec.h: the credential proxy's refusals in the supervisor's loop. The proxy runs in a
 * child of the supervisor (egress/child.h); each request it refused arrives on
 * monitor_opts.egress_fd and becomes a finding: through the responder when the monitor runs (a
 * placeholder aimed at the wrong host is HIGH: the container is frozen unless auto_pause_on_high
 * is off), else as an audit line and an alert. The proxy's end (egress_pidfd) is told once: the
 * session's requests with placeholders fail from then on. */
#pragma once

#include <stddef.h>

struct audit;
struct loop;
struct threat;

/* monitor_opts' egress_* and alert, as proxyrec_from() takes them. */
struct proxyrec_opts {
	int fd, pidfd;
	int (*read)(int fd, struct threat *t, char *key, size_t key_size, void *userdata);
	void (*alert)(const struct threat *t, void *userdata);
	void *userdata;
};

struct proxyrec;

/* Adds the proxy's fds to l (nothing when po->fd < 0). respond (the monitor's responder) takes
 * each finding; NULL (monitoring off): an audit line and the alert. po must outlive the
 * proxyrec. */
int proxyrec_new(const struct proxyrec_opts *po, struct audit *audit,
                 void (*respond)(struct threat *t, const char *key, void *u), void *respond_u,
                 struct loop *l, struct proxyrec **ret);
struct proxyrec *proxyrec_free(struct proxyrec *p);
