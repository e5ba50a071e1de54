/* SPDX-License-Identifier: MIT */
/* client.c: the client: options from the environment, connecting (the unix socket, or HTTPS with a
 * pinned server key), the interrupt flag, paths; the decoding helpers and the server's info. Raw
 * HTTP is in http.c, the envelope and the wait for async operations in call.c. Every other file
 * of src/incus/ goes through incus_call()/incus_http(); nothing here knows about instances. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

static volatile sig_atomic_t interrupted;

void incus_interrupt(void)
{
	interrupted = 1;
}

void incus_interrupt_reset(void)
{
	interrupted = 0;
}

bool incus_interrupted(void)
{
	return interrupted != 0;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

void incus_interrupt_on_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

char *incus_default_socket(void)
{
	const char *s = secure_getenv("INCUS_SOCKET");
	char *p = NULL;

	if (s && *s)
		return strdup(s);
	s = secure_getenv("INCUS_DIR");
	if (s && *s)
		return asprintf(&p, "%s/unix.socket", s) < 0 ? NULL : p;
	return strdup("/var/lib/incus/unix.socket");
}

static const char *env_or_null(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

static void override(const char **opt, const char *var)
{
	const char *v = env_or_null(var);

	if (v)
		*opt = v;
}

void incus_client_opts_apply_env(struct incus_client_opts *o)
{
	/* the transport goes whole: a remote, or a local socket (NULL: incus_default_socket()) */
	if (env_or_null("COI_INCUS_REMOTE")) {
		o->remote_url = env_or_null("COI_INCUS_REMOTE");
	} else if (env_or_null("INCUS_SOCKET") || env_or_null("INCUS_DIR")) {
		o->remote_url = NULL;
		o->socket_path = NULL;
	}
	override(&o->client_cert, "COI_INCUS_CLIENT_CERT");
	override(&o->client_key, "COI_INCUS_CLIENT_KEY");
	override(&o->server_cert, "COI_INCUS_SERVER_CERT");
	override(&o->project, "COI_INCUS_PROJECT");
}

void incus_client_opts_from_env(struct incus_client_opts *o)
{
	*o = (struct incus_client_opts){0};
	incus_client_opts_apply_env(o);
}

/* "sha256//BASE64" of the certificate's SubjectPublicKeyInfo, for CURLOPT_PINNEDPUBLICKEY. */
static int pin_from_cert(const char *path, char **ret, struct coi_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned char *der = NULL, md[32], b64[64];
	X509 *x;
	int n, r = 0;

	if (!f)
		return coi_error_errno(err, errno, "cannot open server certificate '%s'", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	if (!x)
		return coi_error_set(err, -EINVAL, "'%s' is not a PEM certificate", path);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (n <= 0 || !EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL))
		r = coi_error_set(err, -EINVAL, "cannot read the public key of '%s'", path);
	else if (EVP_EncodeBlock(b64, md, sizeof(md)) <= 0 ||
	         asprintf(ret, "sha256//%s", (const char *)b64) < 0)
		r = coi_error_oom(err);
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

static int client_init_remote(struct incus_client *c, const struct incus_client_opts *o,
                              struct coi_error *err)
{
	size_t len = strlen(o->remote_url);

	if (strncmp(o->remote_url, "https://", 8) != 0)
		return coi_error_set(err, -EINVAL, "remote url '%s' must start with https://",
		                     o->remote_url);
	if (!o->client_cert || !o->client_key || !o->server_cert)
		return coi_error_set(
		        err, -EINVAL,
		        "remote '%s' needs a client certificate, key and server certificate",
		        o->remote_url);
	while (len > 8 && o->remote_url[len - 1] == '/')
		len--;
	c->base_url = strndup(o->remote_url, len);
	c->client_cert = strdup(o->client_cert);
	c->client_key = strdup(o->client_key);
	if (!c->base_url || !c->client_cert || !c->client_key)
		return coi_error_oom(err);
	return pin_from_cert(o->server_cert, &c->pinned_key, err);
}

/* An empty client with its curl handle. */
static int client_alloc(struct incus_client **ret, struct coi_error *err)
{
	struct incus_client *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return coi_error_set(err, -EIO, "cannot initialise libcurl");
	c = calloc(1, sizeof(*c));
	if (!c)
		return coi_error_oom(err);
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return coi_error_oom(err);
	}
	*ret = c;
	return 0;
}

int incus_client_new(const struct incus_client_opts *o, struct incus_client **ret,
                     struct coi_error *err)
{
	static const struct incus_client_opts none = {0};
	struct incus_client *c;
	int r;

	if (!o)
		o = &none;
	r = client_alloc(&c, err);
	if (r < 0)
		return r;
	c->project = strdup(o->project && *o->project ? o->project : "default");
	c->response_max = o->response_max ? o->response_max : INCUS_RESPONSE_MAX_DEFAULT;
	c->op_timeout = o->op_timeout ? o->op_timeout : INCUS_OP_TIMEOUT_DEFAULT;
	if (!c->project) {
		incus_client_free(c);
		return coi_error_oom(err);
	}
	if (o->remote_url && *o->remote_url) {
		r = client_init_remote(c, o, err);
	} else {
		c->socket_path = o->socket_path ? strdup(o->socket_path) : incus_default_socket();
		c->base_url = strdup("http://incus");
		r = c->socket_path && c->base_url ? 0 : coi_error_oom(err);
	}
	if (r < 0) {
		incus_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

int incus_client_new_like(const struct incus_client *like, struct incus_client **ret,
                          struct coi_error *err)
{
	struct incus_client *c;
	int r = client_alloc(&c, err);

	if (r < 0)
		return r;
	c->response_max = like->response_max;
	c->op_timeout = like->op_timeout;
	if (dup_or_null(&c->socket_path, like->socket_path) < 0 ||
	    dup_or_null(&c->base_url, like->base_url) < 0 ||
	    dup_or_null(&c->project, like->project) < 0 ||
	    dup_or_null(&c->client_cert, like->client_cert) < 0 ||
	    dup_or_null(&c->client_key, like->client_key) < 0 ||
	    dup_or_null(&c->pinned_key, like->pinned_key) < 0) {
		incus_client_free(c);
		return coi_error_oom(err);
	}
	*ret = c;
	return 0;
}

int incus_client_new_from_env(struct incus_client **ret, struct coi_error *err)
{
	struct incus_client_opts o;

	incus_client_opts_from_env(&o);
	return incus_client_new(&o, ret, err);
}

struct incus_client *incus_client_free(struct incus_client *c)
{
	if (!c)
		return NULL;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->socket_path);
	free(c->base_url);
	free(c->project);
	free(c->client_cert);
	free(c->client_key);
	free(c->pinned_key);
	free(c);
	return NULL;
}

int incus_client_export_env(const struct incus_client *c)
{
	if (setenv("COI_INCUS_PROJECT", c->project, 1) < 0)
		return -errno;
	if (!c->socket_path)
		return 0; /* a remote: its settings are the config's or already in the environment
		           */
	if (setenv("INCUS_SOCKET", c->socket_path, 1) < 0)
		return -errno;
	(void)unsetenv("COI_INCUS_REMOTE");
	return 0;
}

bool incus_client_is_remote(const struct incus_client *c)
{
	return !c->socket_path;
}

const char *incus_client_project(const struct incus_client *c)
{
	return c->project;
}

char *incus_escape(struct incus_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *dup;

	if (!e)
		return NULL;
	dup = strdup(e);
	curl_free(e);
	return dup;
}

char *incus_pathf(struct incus_client *c, const char *fmt, ...)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 16);
	va_list ap;
	int r = 0;

	va_start(ap, fmt);
	for (const char *p = fmt; *p && r >= 0; p++) {
		if (p[0] == '%' && p[1] == 's') {
			_cleanup_free_ char *e = incus_escape(c, va_arg(ap, const char *));

			r = e ? buf_puts(&b, e) : -ENOMEM;
			p++;
		} else {
			r = buf_putc(&b, *p);
		}
	}
	va_end(ap);
	return r < 0 ? NULL : buf_steal(&b);
}

/* ---- decoding helpers ---- */

char *incus_json_strdup(const json_t *obj, const char *key, bool *ok)
{
	const char *s = json_get_str(obj, key);
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

int incus_strv_from_json(const json_t *arr, char ***ret)
{
	char **l = calloc(1, sizeof(char *));
	size_t i;
	json_t *v;

	if (!l)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strv_push(&l, json_string_value(v)) < 0) {
			strv_free(l);
			return -ENOMEM;
		}
	}
	*ret = l;
	return 0;
}

json_t *incus_strv_to_json(char *const *l)
{
	json_t *a = json_array();

	for (char *const *s = l; a && s && *s; s++)
		if (json_array_append_new(a, json_string(*s)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---- server ---- */

struct incus_server *incus_server_free(struct incus_server *s)
{
	if (!s)
		return NULL;
	free(s->server_version);
	free(s->api_version);
	free(s->server_name);
	free(s->driver_version);
	free(s);
	return NULL;
}

int incus_server_get(struct incus_client *c, struct incus_server **ret, struct coi_error *err)
{
	_cleanup_(incus_server_freep) struct incus_server *s = NULL;
	_cleanup_json_ json_t *md = NULL;
	const json_t *env;
	bool ok = true;
	int r;

	r = incus_request(c, "GET", "/1.0", NULL, NULL, &md, err);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return coi_error_oom(err);
	env = json_get_obj(md, "environment");
	s->api_version = incus_json_strdup(md, "api_version", &ok);
	s->server_version = incus_json_strdup(env, "server_version", &ok);
	s->server_name = incus_json_strdup(env, "server_name", &ok);
	s->driver_version = incus_json_strdup(env, "driver_version", &ok);
	s->trusted = json_get_str(md, "auth") && strcmp(json_get_str(md, "auth"), "trusted") == 0;
	if (!ok)
		return coi_error_oom(err);
	*ret = TAKE_PTR(s);
	return 0;
}
