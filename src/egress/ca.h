/* SPDX-License-Identifier: MIT */
/* ca.h: the credential proxy's certificate authority, one per session. The container trusts its
 * certificate so that the proxy can answer TLS for the secrets' hosts; its private key lives in
 * the proxy's memory only (never on disk, never in the container). It is name-constrained to
 * exactly those hosts (permitted DNS subtrees; every IP address excluded), so even a leaked key
 * could not vouch for any other site, and its path length is 0: it signs leaves only.
 *
 * Leaves are made on demand for each host (one key shared by all leaves of the session) and
 * kept for the life of the CA. */
#pragma once

#include <stddef.h>

struct buf;
struct coi_error;
struct evp_pkey_st;
struct x509_st;

struct egress_ca;

#define EGRESS_CA_DAYS 30 /* validity of the CA and its leaves */

/* A new CA for hosts (strv of validated, lower-case names; at least one). label names it in its
 * subject ("coi <label>"). */
int egress_ca_new(char *const *hosts, const char *label, struct egress_ca **ret,
                  struct coi_error *err);
struct egress_ca *egress_ca_free(struct egress_ca *ca);

/* The CA certificate, PEM, appended to out. */
int egress_ca_pem(const struct egress_ca *ca, struct buf *out);

/* The leaf for host, made on first use; NULL when host is not one of the CA's (or on failure). */
struct x509_st *egress_ca_leaf(struct egress_ca *ca, const char *host);
struct evp_pkey_st *egress_ca_leaf_key(const struct egress_ca *ca);

/* A leaf for any DNS name (or, with ip, an IPv4 address), not kept: what a stolen key could make.
 * For tests of the name constraints only. */
struct x509_st *egress_ca_issue(const struct egress_ca *ca, const char *name, int ip);
