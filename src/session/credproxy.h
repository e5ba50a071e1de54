/* SPDX-License-Identifier: MIT */
/* credproxy.h: the session's side of the credential proxy (ARCHITECTURE.md decision 11; the proxy
 * is egress/). The real values stay on the host: the supervisor's proxy holds them, and the
 * container gets what leads its clients there instead:
 *
 * - the socket the proxy listens on, on the bridge's address (credproxy_prepare), which the
 *   network rules make the destination of the container's port-443 connections to that address
 *   (netpolicy: dstnat), and the secrets for the supervisor in a sealed memfd;
 * - /etc/hosts lines sending each secret's host to the bridge's address, ahead of every other
 *   line; the proxy's CA in the system bundle and at CREDPROXY_CA_INSIDE (NODE_EXTRA_CA_CERTS);
 *   each agent login file with placeholders; git's credential helper for hosts of secrets with
 *   git = true (credproxy_inside, once the supervisor runs the proxy).
 *
 * An agent that routes around all this (its own resolver, a hard-coded address) reaches the real
 * host with a placeholder, which opens nothing. */
#pragma once

#include <netinet/in.h>
#include <stdint.h>

struct coi_error;
struct egress_set;
struct incus_client;

#define CREDPROXY_CA_INSIDE     "/usr/local/share/ca-certificates/coi-proxy.crt"
#define CREDPROXY_BUNDLE_INSIDE "/etc/ssl/certs/ca-certificates.crt"
#define CREDPROXY_HOSTS_BEGIN   "# coi:begin secrets"
#define CREDPROXY_HOSTS_END     "# coi:end secrets"

/* What the session hands the supervisor: the secrets' sealed memfd and the proxy's listening
 * socket on the bridge's address (and its port, for the network rules). */
struct credproxy_handoff {
	int memfd;     /* -EBADF when there are no secrets */
	int listen_fd; /* -EBADF when there are no secrets */
	uint16_t port;
};

/* Before the network rules and the supervisor: the socket on gateway and the memfd. */
int credproxy_prepare(const struct egress_set *set, const int64_t *expires, struct in_addr gateway,
                      struct credproxy_handoff *ret, struct coi_error *err);
void credproxy_handoff_close(struct credproxy_handoff *h);

/* The arguments that hand both to the supervisor as its fds 3 and 4; credproxy_child_fds() puts
 * them there, in the child after fork. Nothing without secrets. */
int credproxy_supervisor_args(const struct credproxy_handoff *h, char ***argv);
int credproxy_child_fds(const struct credproxy_handoff *h);

/* Where the session's container is, for credproxy_inside(). */
struct credproxy_target {
	struct incus_client *client;
	const char *container;
	const char *code_user;
	int64_t code_uid;
	struct in_addr gateway;
};

/* Once the supervisor's proxy published its CA: everything inside the container. */
int credproxy_inside(const struct credproxy_target *t, const struct egress_set *set,
                     struct coi_error *err);
