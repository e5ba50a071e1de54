/* SPDX-License-Identifier: MIT */
/* agent.h: the end of an agent's tmux pane, as the user sees it (coi shell, coi attach). */
#pragma once

#include <stdint.h>

struct incus_client;

/* The agent in container has ended (its tmux session is gone): keep its last screen on the host
 * for 'coi logs', and when it failed or ended within seconds of its start (ran_ms; -1: unknown),
 * show that screen and say why in words. Returns the status coi passes on: the agent's own, 0 when
 * it recorded none. */
int cmd_agent_ended(struct incus_client *c, const char *container, const char *code_user,
                    int64_t ran_ms);
