/* SPDX-License-Identifier: MIT */
/* incus-opts.h: the Incus client's options as coi opens it, from [incus] under the environment.
 * Here and not in config/ because it fills incus's struct, and config sits on the floor beside
 * incus (docs/development.md); session, health and the commands sit above both. */
#pragma once

struct coi_config;
struct incus_client_opts;

/* The Incus client's options from [incus] (socket, remote_url, client_cert, client_key,
 * server_cert, project), the environment over them (incus_client_opts_apply_env()). The strings
 * point into c and the environment. */
void session_incus_client_opts(const struct coi_config *c, struct incus_client_opts *ret);
