/* SPDX-License-Identifier: MIT */
/* client.h: the Incus client every daemon-facing verb opens the same way: [incus] of the
 * configuration (user file, project file, profile), the environment over it
 * (session_incus_client_opts()). */
#pragma once

struct coi_config;
struct coi_error;
struct incus_client;

/* Connect as configured, loading the configuration of the current directory; on failure the
 * error is printed and EXIT_FAIL returned, else 0. Both mend dead sessions on the way. */
int cmd_open_client(struct incus_client **ret);
/* The same with a configuration the verb has loaded already. */
int cmd_open_client_with(const struct coi_config *cfg, struct incus_client **ret);
/* What a dead session left (fleet_restore_dead()), mended, with a warning for each. */
void cmd_mend_dead_sessions(struct incus_client *c);
/* cmd_open_client() without printing: 0 or a negative errno with err set. */
int cmd_client_new(struct incus_client **ret, struct coi_error *err);
