/* SPDX-License-Identifier: MIT */
/* secret.h: what the credential proxy knows of each secret (ARCHITECTURE.md decision 11). The
 * container holds only the placeholder; the proxy on the host puts the real value in requests
 * to the secret's hosts, in the header and form the secret names, and refuses a request that
 * carries a placeholder to any other host.
 *
 * A set is built by the session (from [[secrets]] and the built-in definitions) and handed to
 * the proxy; the real values are filled in on the host side only, by whoever runs the proxy
 * (source.h). Everything here is pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct coi_error;

#define EGRESS_HOSTS_MAX       16 /* hosts per secret */
#define EGRESS_SECRETS_MAX     32 /* secrets per session */
#define EGRESS_VALUE_MAX       8192
#define EGRESS_PLACEHOLDER_HEX 40  /* random hex digits after the prefix */
#define EGRESS_PLACEHOLDER_MAX 128 /* prefix + "coi" + hex */
#define EGRESS_HEADER_MAX      64  /* a header name */
#define EGRESS_FORMAT_MAX      128

/* Where the real value comes from, on the host (source.h reads it). */
enum egress_source_kind {
	EGRESS_SOURCE_NONE,    /* a companion that is never sent (a refresh token's placeholder) */
	EGRESS_SOURCE_ENV,     /* the host environment variable env */
	EGRESS_SOURCE_FILE,    /* the file file: its field (a dotted JSON path), or all of it */
	EGRESS_SOURCE_COMMAND, /* the first line of what command prints */
};

struct egress_source {
	enum egress_source_kind kind;
	char *env;
	char *file;     /* absolute */
	char *field;    /* "claudeAiOauth.accessToken"; NULL: the whole file, trimmed */
	char **command; /* argv, run without a shell */
};

/* An OAuth 2 refresh done on the host when the value (a FILE source) is about to expire: a
 * JSON POST {grant_type, refresh_token, client_id} to url; the answer's access_token (and a
 * rotated refresh_token, and expires_in) are written back into the source file. */
struct egress_refresh {
	char *url; /* NULL: no refresh */
	char *client_id;
	char *token_field;   /* dotted path of the refresh token in the file */
	char *expires_field; /* dotted path of the expiry (ms or s since the epoch); "jwt": the
	                        value's own exp claim; NULL: unknown (refresh on demand only) */
	char *placeholder;   /* what the container's file holds for the refresh token; the set
	                        has it as a secret of its own with no hosts (never sent) */
};

struct egress_secret {
	char *name;        /* [A-Za-z0-9_-], for messages and the audit log */
	char **hosts;      /* strv of lower-case DNS names; empty: the value is never sent */
	char *header;      /* the header that carries it; NULL: replaced where it stands */
	char *format;      /* the header's value, "{}" standing for the secret; NULL: "{}" */
	char *basic_user;  /* set: "{}" stands for base64(basic_user ":" value) (Basic auth) */
	char *placeholder; /* what the container holds instead of the value */
	char *value;       /* the real value: host side only, NULL until known */

	struct egress_source source;
	struct egress_refresh refresh;
	/* inside the container */
	char *container_env;  /* a variable set to the placeholder, or NULL */
	char *container_file; /* under the code user's home: the source file with its secrets
	                         replaced by placeholders (an agent's login), or NULL */
	bool git;             /* git asks for credentials of the hosts: it gets the placeholder */
};

struct egress_set {
	struct egress_secret *v;
	size_t n;
};

void egress_secret_release(struct egress_secret *s);
void egress_set_release(struct egress_set *set);

/* Is host (lower case, no port) one of the secret's hosts? */
bool egress_secret_for_host(const struct egress_secret *s, const char *host);
/* Is host one of the hosts of any secret of the set (the proxy intercepts exactly these)? */
bool egress_set_has_host(const struct egress_set *set, const char *host);
/* Every host of the set, each once (strv); NULL on OOM. */
char **egress_set_hosts(const struct egress_set *set);

/* prefix + "coi" + EGRESS_PLACEHOLDER_HEX random hex digits (getrandom). The prefix lets an agent
 * that checks the shape of a key ("sk-ant-...") accept it; it may hold [A-Za-z0-9_-] only. */
int egress_placeholder_new(const char *prefix, char **ret, struct coi_error *err);

/* A value that may go into a header: 1..EGRESS_VALUE_MAX bytes of visible ASCII (no spaces, no
 * control characters), so nothing from a token file can add a header line. */
bool egress_value_valid(const char *v);
/* A header name as RFC 9110 allows (a token), 1..EGRESS_HEADER_MAX. */
bool egress_header_name_valid(const char *h);
/* A format with exactly one "{}" and otherwise visible ASCII and spaces. */
bool egress_format_valid(const char *f);

/* The header's value for s with value v: its format with "{}" replaced by v, or by
 * base64(basic_user ":" v). Appended to out. */
int egress_secret_render(const struct egress_secret *s, const char *v, struct buf *out);

/* Checks every field of a secret (names, hosts, header, format, placeholder); the value is
 * checked where it is loaded. Messages name the secret. */
int egress_secret_check(const struct egress_secret *s, struct coi_error *err);
