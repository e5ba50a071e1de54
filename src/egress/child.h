/* SPDX-License-Identifier: MIT */
/* child.h: the credential proxy as the session's supervisor runs it, in a child process of its
 * own: it reads the session's secrets (with their values) from the memfd the session made,
 * makes the session's CA (its key never leaves this process), publishes the CA's certificate
 * for the session to put inside the container, keeps file-backed values fresh (a login the host
 * renewed, or one it renews itself when it expires) and reports every refused request to the
 * supervisor, which records it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct coi_error;

/* One refused request, as the supervisor receives it (SOCK_SEQPACKET: one per message). */
struct egress_report {
	uint16_t status; /* 403: a placeholder for another host; 421: Host names another site */
	char secret[65]; /* the secret whose placeholder it was ("" when none) */
	char host[256];  /* the host the request was for */
	char where[80];
	char method[16];
	char target[128];
};

struct egress_child_opts {
	const char *container;  /* for the CA's name and messages */
	int secrets_fd;         /* the session's memfd (wire.h) */
	int listen_fd;          /* the socket the container's connections arrive on */
	int report_fd;          /* a SOCK_SEQPACKET socket for egress_report; -1: none */
	int stop_fd;            /* readable when the supervisor is gone: stop */
	const char *ca_out;     /* the CA certificate goes here (PEM, 0644) before ready */
	const char *cafile;     /* test routing: more trust anchors for upstreams */
	const char *connect_to; /* test routing: "name=addr:port,..." */
	void (*ready)(void *userdata);
	void *userdata;
};

/* Where the supervisor's proxy publishes the CA certificate of container's session:
 * coi_dir()/run/<container>.egress-ca.pem. NULL on OOM or a bad name. */
char *egress_child_ca_path(const char *container);

/* Runs the proxy until stop_fd says so; 0, or a negative errno when it could not start. */
int egress_child_run(const struct egress_child_opts *o, struct coi_error *err);
