/* SPDX-License-Identifier: MIT */
/* httpreq.h: the request side of one connection through the credential proxy. It reads what the
 * container sends (untrusted; parsed by http-parser, never by hand), judges each request and
 * writes it out again for the real host:
 *
 * - A request whose target or headers hold the placeholder of a secret that is not for this
 *   host is refused (and its body, as it streams, is searched the same way): a credential aimed
 *   at the wrong host is exfiltration.
 * - A placeholder of a secret for this host is replaced: the header holding it (directly, or
 *   inside Basic credentials) gives way to the secret's own header and format; a secret without
 *   a header is replaced where it stands; in the target it is replaced percent-encoded.
 * - The Host header must name the host the TLS connection is for (no fronting to another site
 *   behind the same server); CONNECT is refused.
 *
 * Each request is written out from what was parsed (request line, headers, body with the same
 * framing), so the upstream sees exactly the request that was judged. Responses are not parsed
 * here: the proxy streams them back as they come. An Upgrade (websockets) hands the rest of the
 * connection over as a raw tunnel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct egress_set;

#define EGRESS_HEAD_MAX    (64u << 10) /* request line and headers */
#define EGRESS_HEADERS_MAX 128

enum egress_verdict {
	EGRESS_PASS,
	EGRESS_REFUSE_PLACEHOLDER, /* 403: a placeholder for another host */
	EGRESS_REFUSE_MISDIRECTED, /* 421: Host is not the name the connection is for */
	EGRESS_REFUSE_BAD,         /* 400: not HTTP/1.x as the parser accepts it */
	EGRESS_REFUSE_METHOD,      /* 405: CONNECT */
	EGRESS_REFUSE_TOO_LARGE,   /* 431: the head is over EGRESS_HEAD_MAX */
	EGRESS_REFUSE_NO_VALUE,    /* 502: the secret's value cannot be had on the host */
	_EGRESS_VERDICT_MAX,
};

/* The HTTP status and reason phrase of a refusal. */
unsigned egress_verdict_status(enum egress_verdict v);
const char *egress_verdict_reason(enum egress_verdict v);

struct egress_finding {
	enum egress_verdict verdict;
	const char *secret; /* REFUSE_PLACEHOLDER: the secret's name (borrowed from the set) */
	char where[80];     /* "header 'x-api-key'", "request target", "body" */
	char method[16];
	char target[128]; /* the request target, cut */
};

/* Writes bytes towards the upstream; 0 or a negative errno (which stops the connection). */
typedef int (*egress_emit_fn)(void *userdata, const void *data, size_t len);
/* The real value of secret i of the set now (the proxy may renew it first), or NULL when it
 * cannot be had. Called only for a request to one of the secret's hosts that holds its
 * placeholder. */
typedef const char *(*egress_value_fn)(void *userdata, size_t i);

struct egress_req_opts {
	const struct egress_set *set; /* borrowed, with placeholders (values come from value) */
	const char *host;             /* the TLS name of the connection, lower case */
	egress_emit_fn emit;
	egress_value_fn value;
	void *userdata;
};

struct egress_req;

int egress_req_new(const struct egress_req_opts *o, struct egress_req **ret);
struct egress_req *egress_req_free(struct egress_req *r);

/* Feeds bytes from the client. Returns 0 when all were taken; 1 when the connection was upgraded
 * (*ret_used bytes were HTTP, the rest of data and everything after is a raw tunnel); -EACCES
 * when a request was refused (egress_req_finding says why; nothing of it was written out, but
 * for a placeholder found in a body, the part before it); -ENOMEM, or the emitter's error. After
 * a refusal or an error the connection must end. */
int egress_req_feed(struct egress_req *r, const void *data, size_t len, size_t *ret_used);

const struct egress_finding *egress_req_finding(const struct egress_req *r);
/* Requests written out so far, and how many of them had a secret put in. */
unsigned egress_req_passed(const struct egress_req *r);
unsigned egress_req_injected(const struct egress_req *r);
