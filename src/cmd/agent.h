/* SPDX-License-Identifier: MIT */
/* agent.h: the end of an agent's tmux pane, as the user sees it (coi shell, coi attach). */
#pragma once

#include <stdint.h>

struct incus_client;

/* The agent in container has ended (its tmux session is gone): keep its last screen on the host
 * for 'coi logs', and when it failed or ended within seconds of its start (ran_ms; -1: unknown),
 * show that screen and say why in words. tmux_status is the exit status of the tmux client coi
 * ran (new-session, attach-session). Returns the status coi passes on: the agent's own; when it
 * recorded none, tmux's (tmux could not start, so the agent never ran: not a success), said so;
 * 0 when tmux too ended well (the pane was killed). */
int cmd_agent_ended(struct incus_client *c, const char *container, const char *code_user,
                    int64_t ran_ms, int tmux_status);

/* tmux returned with tmux_status while the agent's tmux session lives on in container: 0 when the
 * user detached; tmux's own failure otherwise (it could not reach the terminal, say), which coi
 * passes on, said so, rather than the 0 of a detach. */
int cmd_agent_detached(const char *container, int tmux_status);
