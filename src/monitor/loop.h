/* SPDX-License-Identifier: MIT */
/* loop.h: one epoll loop, no threads: fd handlers, timerfds and signals (LXC's mainloop,
 * systemd's sd-event in miniature). Handlers return 0 to go on, or a negative errno to stop the
 * loop with that result; loop_exit() stops it with a chosen code. */
#pragma once

#include <stdint.h>

struct loop;
typedef int (*loop_fn)(struct loop *l, int fd, uint32_t events, void *userdata);

int loop_new(struct loop **ret);
struct loop *loop_free(struct loop *l); /* closes every fd it owns */

/* Watches fd for input (EPOLLIN). With own, the loop closes fd when freed. */
int loop_add_fd(struct loop *l, int fd, int own, loop_fn fn, void *userdata);
int loop_remove_fd(struct loop *l, int fd);
/* A periodic timer (CLOCK_MONOTONIC); the handler runs once per expiry batch. */
int loop_add_timer(struct loop *l, uint64_t interval_ms, loop_fn fn, void *userdata);
/* SIGINT and SIGTERM (blocked, read through a signalfd) stop the loop with -EINTR. */
int loop_add_exit_signals(struct loop *l);

/* Runs until a handler fails or loop_exit(); returns that code. */
int loop_run(struct loop *l);
void loop_exit(struct loop *l, int code);
