/* SPDX-License-Identifier: MIT */
/* test-egress-ca.c: the proxy's per-session CA (egress/ca.h). Its leaves verify for their hosts
 * with OpenSSL's own chain verification; a leaf the same key makes for any other name, or for an
 * IP address, is refused by the name constraints; the CA signs leaves only (path length 0). */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "egress/ca.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

static struct egress_ca *ca;

/* Verifies leaf against the CA, for host (or IPv4 ip); the X509_V_ result. */
static int verify(X509 *leaf, const char *host, const char *ip)
{
	_cleanup_buf_ struct buf pem = BUF_INIT(1 << 16);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *root = NULL;
	BIO *b;
	int res = -1;

	if (egress_ca_pem(ca, &pem) < 0 || !(b = BIO_new_mem_buf(pem.data, (int)pem.len)))
		goto out;
	root = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!root || !X509_STORE_add_cert(store, root) ||
	    !X509_STORE_CTX_init(ctx, store, leaf, NULL))
		goto out;
	X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx), X509_PURPOSE_SSL_SERVER);
	if (host)
		X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), ip);
	res = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
out:
	X509_free(root);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return res;
}

static void test_leaf_verifies(void)
{
	X509 *leaf = egress_ca_leaf(ca, "api.test");

	CHECK(leaf != NULL);
	CHECK(egress_ca_leaf(ca, "api.test") == leaf); /* kept */
	CHECK(verify(leaf, "api.test", NULL) == X509_V_OK);
	CHECK(verify(leaf, "other.test", NULL) == X509_V_ERR_HOSTNAME_MISMATCH);
	CHECK(verify(egress_ca_leaf(ca, "git.test"), "git.test", NULL) == X509_V_OK);
	CHECK(egress_ca_leaf(ca, "evil.test") == NULL);
	CHECK(X509_check_private_key(leaf, egress_ca_leaf_key(ca)) == 1);
}

/* What a stolen key could sign: nothing the container would accept but the session's hosts. */
static void test_constraints(void)
{
	X509 *evil = egress_ca_issue(ca, "evil.test", 0);
	X509 *sub = egress_ca_issue(ca, "www.api.test", 0);
	X509 *ip = egress_ca_issue(ca, "10.0.0.1", 1);

	CHECK(evil && sub && ip);
	CHECK(verify(evil, "evil.test", NULL) == X509_V_ERR_PERMITTED_VIOLATION);
	CHECK(verify(ip, NULL, "10.0.0.1") == X509_V_ERR_EXCLUDED_VIOLATION);
	/* RFC 5280: a permitted name covers its subdomains */
	CHECK(verify(sub, "www.api.test", NULL) == X509_V_OK);
	X509_free(evil);
	X509_free(sub);
	X509_free(ip);
}

static void test_ca_shape(void)
{
	_cleanup_buf_ struct buf pem = BUF_INIT(1 << 16);
	BIO *b;
	X509 *root;
	BASIC_CONSTRAINTS *bc;

	CHECK(egress_ca_pem(ca, &pem) == 0);
	CHECK(strstr(buf_str(&pem), "BEGIN CERTIFICATE") != NULL);
	CHECK(strstr(buf_str(&pem), "PRIVATE") == NULL);
	b = BIO_new_mem_buf(pem.data, (int)pem.len);
	root = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	CHECK(root != NULL);
	bc = X509_get_ext_d2i(root, NID_basic_constraints, NULL, NULL);
	CHECK(bc && bc->ca && bc->pathlen && ASN1_INTEGER_get(bc->pathlen) == 0);
	BASIC_CONSTRAINTS_free(bc);
	CHECK(X509_get_ext_by_NID(root, NID_name_constraints, -1) >= 0);
	X509_free(root);
	CHECK(egress_ca_new(NULL, "x", &(struct egress_ca *){NULL}, NULL) == -EINVAL);
}

int main(void)
{
	_cleanup_strv_free_ char **hosts = NULL;
	struct coi_error err = {0};

	(void)strv_push(&hosts, "api.test");
	(void)strv_push(&hosts, "git.test");
	if (egress_ca_new(hosts, "test", &ca, &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	RUN(test_leaf_verifies);
	RUN(test_constraints);
	RUN(test_ca_shape);
	egress_ca_free(ca);
	return tap_done();
}
