/* SPDX-License-Identifier: MIT */
/* home.h: the code user's home in the container: SANDBOX_CONTEXT.md and the tool's own context
 * file, the environment file, a restored saved session, forwarded sockets and ports, the tool's
 * settings (opencode's permissions) and copied credentials. */
#pragma once

struct coi_error;
struct session;

/* Everything above, once the container runs commands; pushes the undo of forwarded devices
 * where a persistent container must not keep them. */
int home_prepare_user(struct session *s, struct coi_error *err);
