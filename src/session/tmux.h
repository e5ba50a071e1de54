/* SPDX-License-Identifier: MIT */
/* tmux.h: the agent's tmux session inside the container (coi shell, coi attach). */
#pragma once

#include <stdint.h>

struct coi_error;
struct incus_client;

#define COI_TMUX_SESSION "coi"

/* The shell command tmux runs: source the environment file, then exec argv (quoted). Only the
 * agent gets the forwarded values, never the tmux server. NULL on OOM. */
char *tmux_launch_command(char *const *argv);

/* 1 when the tmux session exists in container (as uid), 0 when not, negative on error. */
int tmux_alive(struct incus_client *c, const char *container, int64_t uid, struct coi_error *err);
