/* SPDX-License-Identifier: MIT */
/* ca.c: the per-session certificate authority of the credential proxy (ca.h), with OpenSSL. */
#include "egress/ca.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

#define LEAVES_MAX 64

struct leaf {
	char *host;
	X509 *cert;
};

struct egress_ca {
	EVP_PKEY *key, *leaf_key;
	X509 *cert;
	char **hosts;
	struct leaf leaves[LEAVES_MAX];
	size_t n_leaves;
};

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/* A certificate with a random serial, valid from an hour ago for EGRESS_CA_DAYS, subject CN=cn. */
static X509 *cert_new(const char *cn, EVP_PKEY *key)
{
	unsigned char serial[16];
	X509 *c = X509_new();
	X509_NAME *n;
	BIGNUM *bn = NULL;

	if (!c || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	n = X509_get_subject_name(c);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) || !X509_set_version(c, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), 86400L * EGRESS_CA_DAYS) ||
	    !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"coi", -1, -1,
	                                0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                                0) ||
	    !X509_set_pubkey(c, key))
		goto fail;
	BN_free(bn);
	return c;
fail:
	BN_free(bn);
	X509_free(c);
	return NULL;
}

/* "critical,permitted;DNS:a,permitted;DNS:b,excluded;IP:..." */
static int constraints(char **hosts, struct buf *out)
{
	int r = buf_puts(out, "critical");

	strv_foreach(h, hosts)
		if (r >= 0)
			r = buf_printf(out, ",permitted;DNS:%s", *h);
	if (r >= 0)
		r = buf_puts(out, ",excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:0:0:0:0:0:0:0:0/"
		                  "0:0:0:0:0:0:0:0");
	return r;
}

static int make_ca(struct egress_ca *ca, const char *label)
{
	_cleanup_buf_ struct buf nc = BUF_INIT(64u << 10);
	_cleanup_free_ char *cn = NULL;

	if (asprintf(&cn, "coi %s", label) < 0 || constraints(ca->hosts, &nc) < 0)
		return -ENOMEM;
	ca->cert = cert_new(cn, ca->key);
	if (!ca->cert || !X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert)))
		return -ENOMEM;
	if (add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(ca->cert, ca->cert, NID_name_constraints, buf_str(&nc)) < 0)
		return -EINVAL;
	return X509_sign(ca->cert, ca->key, EVP_sha256()) > 0 ? 0 : -EINVAL;
}

int egress_ca_new(char *const *hosts, const char *label, struct egress_ca **ret,
                  struct coi_error *err)
{
	struct egress_ca *ca;
	int r;

	if (strv_length(hosts) == 0)
		return coi_error_set(err, -EINVAL, "a proxy CA needs at least one host");
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return coi_error_oom(err);
	ca->hosts = strv_copy(hosts);
	ca->key = EVP_EC_gen("P-256");
	ca->leaf_key = EVP_EC_gen("P-256");
	r = ca->hosts && ca->key && ca->leaf_key ? make_ca(ca, label ? label : "proxy") : -ENOMEM;
	if (r < 0) {
		egress_ca_free(ca);
		return coi_error_set(err, r, "cannot make the proxy's certificate authority");
	}
	*ret = ca;
	return 0;
}

struct egress_ca *egress_ca_free(struct egress_ca *ca)
{
	if (!ca)
		return NULL;
	for (size_t i = 0; i < ca->n_leaves; i++) {
		free(ca->leaves[i].host);
		X509_free(ca->leaves[i].cert);
	}
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->leaf_key);
	strv_free(ca->hosts);
	free(ca);
	return NULL;
}

int egress_ca_pem(const struct egress_ca *ca, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int r = -ENOMEM;

	if (b && PEM_write_bio_X509(b, ca->cert) == 1) {
		n = BIO_get_mem_data(b, &data);
		r = n > 0 ? buf_append(out, data, (size_t)n) : -EIO;
	}
	BIO_free(b);
	return r;
}

X509 *egress_ca_issue(const struct egress_ca *ca, const char *name, int ip)
{
	_cleanup_free_ char *san = NULL;
	X509 *c;

	if (asprintf(&san, "%s:%s", ip ? "IP" : "DNS", name) < 0)
		return NULL;
	c = cert_new(name, ca->leaf_key);
	if (!c || !X509_set_issuer_name(c, X509_get_subject_name(ca->cert)) ||
	    add_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(c, ca->cert, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(c, ca->cert, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(c, ca->cert, NID_authority_key_identifier, "keyid:always") < 0 ||
	    add_ext(c, ca->cert, NID_subject_alt_name, san) < 0 ||
	    X509_sign(c, ca->key, EVP_sha256()) <= 0) {
		X509_free(c);
		return NULL;
	}
	return c;
}

X509 *egress_ca_leaf(struct egress_ca *ca, const char *host)
{
	X509 *c;

	for (size_t i = 0; i < ca->n_leaves; i++)
		if (strcmp(ca->leaves[i].host, host) == 0)
			return ca->leaves[i].cert;
	if (!strv_contains(ca->hosts, host) || ca->n_leaves == LEAVES_MAX)
		return NULL;
	c = egress_ca_issue(ca, host, 0);
	if (!c)
		return NULL;
	ca->leaves[ca->n_leaves].host = strdup(host);
	if (!ca->leaves[ca->n_leaves].host) {
		X509_free(c);
		return NULL;
	}
	ca->leaves[ca->n_leaves++].cert = c;
	return c;
}

EVP_PKEY *egress_ca_leaf_key(const struct egress_ca *ca)
{
	return ca->leaf_key;
}
