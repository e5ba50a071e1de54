/* SPDX-License-Identifier: MIT */
/* incus-opts.c: see incus-opts.h. */
#include "session/incus-opts.h"

#include "config/config.h"
#include "incus/incus.h"

void session_incus_client_opts(const struct coi_config *c, struct incus_client_opts *ret)
{
	*ret = (struct incus_client_opts){
	        .socket_path = c->incus.socket,
	        .remote_url = c->incus.remote_url,
	        .client_cert = c->incus.client_cert,
	        .client_key = c->incus.client_key,
	        .server_cert = c->incus.server_cert,
	        .project = c->incus.project,
	};
	incus_client_opts_apply_env(ret);
}
