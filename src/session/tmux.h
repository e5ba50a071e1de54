/* SPDX-License-Identifier: MIT */
/* tmux.h: the agent's tmux session inside the container (coi shell, coi attach, coi logs). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct buf;
struct coi_error;
struct incus_client;

#define COI_TMUX_SESSION "coi"

/* The shell command tmux runs: source the environment file, then run argv (quoted). Only the
 * agent gets the forwarded values, never the tmux server. When the agent ends, its exit status and
 * the pane's last screen are kept in the code user's ~/.config/coi/ (tmux_agent_result()), since
 * the pane, and with it what the agent said, is gone the moment it exits. NULL on OOM. */
char *tmux_launch_command(char *const *argv);

/* The tmux commands a client runs after attaching (arguments after a ";"): the prefix key, and
 * the detach key on the status line. Inside the user's own tmux (nested) the prefix is Ctrl-a, so
 * Ctrl-b stays the user's; else Ctrl-b. Appended to *argv; 0 or -ENOMEM. */
int tmux_key_args(char ***argv, bool nested);
/* "Ctrl-a d" or "Ctrl-b d", for messages. */
const char *tmux_detach_key(bool nested);

/* 1 when the tmux session exists in container (as uid), 0 when not, negative on error. */
int tmux_alive(struct incus_client *c, const char *container, int64_t uid, struct coi_error *err);

/* What the agent left when it ended (tmux_launch_command()): its exit status (-1 when none was
 * recorded: the pane was killed) and its last screen, from the code user's home. 0 or a negative
 * errno. */
int tmux_agent_result(struct incus_client *c, const char *container, const char *home,
                      int *ret_status, struct buf *screen, struct coi_error *err);

/* Where the host keeps a session's last agent screen once it ended (coi_dir()/logs/NAME.screen),
 * so 'coi logs NAME' shows it after the container is gone. NULL on OOM. */
char *tmux_screen_file(const char *container);
