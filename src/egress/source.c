/* SPDX-License-Identifier: MIT */
/* source.c: reading, renewing and hiding the real values of secrets (source.h). */
#include "egress/source.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress/proxy.h"
#include "egress/secret.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"
#include "util/run.h"

#define ANSWER_MAX   (64u << 10)
#define REFRESH_SECS 15
#define MS_THRESHOLD 100000000000LL /* an expiry above this is in milliseconds */
#define YEAR_SECS    (365LL * 86400)

static char *trimmed(const char *s, size_t n)
{
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	while (n > 0 && strchr(" \t\r\n", *s)) {
		s++;
		n--;
	}
	return strndup(s, n);
}

static int set_value(struct egress_secret *s, char *v, struct coi_error *err)
{
	if (!v)
		return coi_error_oom(err);
	if (!egress_value_valid(v)) {
		explicit_bzero(v, strlen(v));
		free(v);
		return coi_error_set(
		        err, -EINVAL,
		        "secret '%s': the value is empty, longer than %d bytes, or holds "
		        "spaces or control characters",
		        s->name, EGRESS_VALUE_MAX);
	}
	if (s->value)
		explicit_bzero(s->value, strlen(s->value));
	free(s->value);
	s->value = v;
	return 0;
}

/* The string at a dotted path of a JSON text. */
static int field_of(const char *text, size_t len, const char *path, json_t **ret_root,
                    const char **ret, struct coi_error *err)
{
	json_t *root = NULL;
	int r = json_parse(text, len, &root, err);

	if (r < 0)
		return r;
	*ret = json_string_value(json_get_path(root, path));
	*ret_root = root;
	return 0;
}

static int load_file(struct egress_secret *s, int64_t *ret_expires, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(EGRESS_FILE_MAX);
	_cleanup_json_ json_t *root = NULL;
	const char *v;
	int r = read_file(s->source.file, &b, err);

	if (r < 0)
		return coi_error_prefix(err, "secret '%s'", s->name);
	if (!s->source.field) {
		r = set_value(s, trimmed(buf_str(&b), b.len), err);
	} else {
		r = field_of(b.data, b.len, s->source.field, &root, &v, err);
		if (r >= 0 && !v)
			r = coi_error_set(err, -ENOENT, "secret '%s': '%s' has no string at '%s'",
			                  s->name, s->source.file, s->source.field);
		if (r >= 0)
			r = set_value(s, strdup(v), err);
	}
	if (r >= 0 && ret_expires)
		*ret_expires = egress_expiry(s, buf_str(&b), s->value);
	explicit_bzero(b.data ? b.data : (char[1]){0}, b.len);
	return r;
}

static int load_command(struct egress_secret *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf out = BUF_INIT(64u << 10), errb = BUF_INIT(4096);
	const char *nl;
	int status = run_capture(&(struct run_opts){.argv = s->source.command,
	                                            .out = &out,
	                                            .errb = &errb,
	                                            .timeout_sec = EGRESS_COMMAND_SECS},
	                         err);

	if (status < 0)
		return coi_error_prefix(err, "secret '%s'", s->name);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return coi_error_set(err, -EIO, "secret '%s': '%s' failed: %.200s", s->name,
		                     s->source.command[0],
		                     errb.len ? buf_str(&errb) : "no error text");
	nl = strchr(buf_str(&out), '\n');
	return set_value(s, trimmed(buf_str(&out), nl ? (size_t)(nl - out.data) : out.len), err);
}

int egress_source_load(struct egress_secret *s, int64_t *ret_expires, struct coi_error *err)
{
	const char *v;

	if (ret_expires)
		*ret_expires = 0;
	switch (s->source.kind) {
	case EGRESS_SOURCE_ENV:
		v = getenv(s->source.env);
		if (!v)
			return coi_error_set(
			        err, -ENOENT,
			        "secret '%s': '%s' is not set in the host's environment", s->name,
			        s->source.env);
		return set_value(s, strdup(v), err);
	case EGRESS_SOURCE_FILE:
		return load_file(s, ret_expires, err);
	case EGRESS_SOURCE_COMMAND:
		return load_command(s, err);
	case EGRESS_SOURCE_NONE:
		break;
	}
	return coi_error_set(err, -EINVAL, "secret '%s' has no source", s->name);
}

/* ---- expiry ------------------------------------------------------------------------------- */

/* A number of seconds or milliseconds since the epoch; 0 (unknown) for nonsense. */
static int64_t epoch_seconds(json_int_t v)
{
	if (v <= 0)
		return 0;
	return v > MS_THRESHOLD ? (int64_t)(v / 1000) : (int64_t)v;
}

/* The exp claim of a JWT (its payload, base64url, is the second segment). */
static int64_t jwt_exp(const char *jwt)
{
	const char *a = jwt ? strchr(jwt, '.') : NULL, *b = a ? strchr(a + 1, '.') : NULL;
	_cleanup_free_ char *b64 = NULL;
	_cleanup_free_ unsigned char *raw = NULL;
	_cleanup_json_ json_t *j = NULL;
	size_t n;
	int len;

	if (!b || (n = (size_t)(b - a - 1)) == 0 || n > 16384)
		return 0;
	b64 = malloc(n + 4);
	raw = malloc(n + 4);
	if (!b64 || !raw)
		return 0;
	for (size_t i = 0; i < n; i++)
		b64[i] = a[1 + i] == '-' ? '+' : a[1 + i] == '_' ? '/' : a[1 + i];
	while (n % 4)
		b64[n++] = '=';
	len = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)n);
	while (len > 0 && raw[len - 1] == '\0') /* the padding decodes to NULs */
		len--;
	if (len <= 0 || json_parse((char *)raw, (size_t)len, &j, NULL) < 0)
		return 0;
	return epoch_seconds(json_get_int(j, "exp", 0));
}

int64_t egress_expiry(const struct egress_secret *s, const char *file_text, const char *value)
{
	_cleanup_json_ json_t *root = NULL;
	const char *f = s->refresh.expires_field;

	if (!f)
		return 0;
	if (strcmp(f, "jwt") == 0)
		return jwt_exp(value);
	if (json_parse(file_text, strlen(file_text), &root, NULL) < 0)
		return 0;
	return json_is_integer(json_get_path(root, f))
	               ? epoch_seconds(json_integer_value(json_get_path(root, f)))
	               : 0;
}

/* ---- editing JSON by dotted paths --------------------------------------------------------- */

/* Sets root's value at path (intermediate objects made), taking v. */
static int set_path(json_t *root, const char *path, json_t *v)
{
	_cleanup_free_ char *p = strdup(path);
	json_t *o = root;
	char *save = NULL, *key = p ? strtok_r(p, ".", &save) : NULL;

	if (!v || !key)
		return json_decref(v), -ENOMEM;
	for (char *next; (next = strtok_r(NULL, ".", &save)); key = next) {
		json_t *child = json_object_get(o, key);

		if (!json_is_object(child)) {
			child = json_object();
			if (!child || json_object_set_new(o, key, child) < 0)
				return json_decref(v), -ENOMEM;
		}
		o = child;
	}
	return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

/* An expiry written in the unit the file already uses (milliseconds for a new field). */
static int set_expiry(json_t *root, const char *path, int64_t when)
{
	json_t *old = json_get_path(root, path);
	bool ms = !json_is_integer(old) || json_integer_value(old) > MS_THRESHOLD;

	return set_path(root, path, json_integer(ms ? when * 1000 : when));
}

static int now_rfc3339(char out[static 32])
{
	time_t t = time(NULL);
	struct tm tm;

	return gmtime_r(&t, &tm) && strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -EINVAL;
}

/* A JWT: three base64url segments, the first a JSON header ("eyJ"). */
static bool is_jwt(const char *v)
{
	const char *a = strchr(v, '.'), *b = a ? strchr(a + 1, '.') : NULL;

	if (strncmp(v, "eyJ", 3) != 0 || !b || strchr(b + 1, '.') || strlen(v) < 40)
		return false;
	return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
	       strlen(v);
}

/* Every JWT in the tree loses its signature: an agent reads its claims (an id_token's account
 * and plan) but no server takes it (an id_token can be exchanged for an API key). */
static int unsign_jwts(json_t *j, int depth)
{
	const char *k;
	size_t i;
	json_t *v;

	if (depth > 32)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (json_is_string(v) && is_jwt(json_string_value(v))) {
				const char *t = json_string_value(v);
				size_t n = (size_t)(strrchr(t, '.') - t);
				_cleanup_free_ char *u = NULL;

				if (asprintf(&u, "%.*s.coi-unsigned", (int)n, t) < 0 ||
				    json_object_set_new(j, k, json_string(u)) < 0)
					return -ENOMEM;
			} else if (unsign_jwts(v, depth + 1) < 0) {
				return -ENOMEM;
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (unsign_jwts(v, depth + 1) < 0)
				return -ENOMEM;
	}
	return 0;
}

int egress_container_file(const struct egress_secret *s, struct buf *out, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(EGRESS_FILE_MAX);
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *text = NULL;
	const struct egress_refresh *rf = &s->refresh;
	char now[32];
	int r = read_file(s->source.file, &b, err);

	if (r >= 0)
		r = json_parse(b.data, b.len, &root, err);
	explicit_bzero(b.data ? b.data : (char[1]){0}, b.len);
	if (r < 0)
		return coi_error_prefix(err, "secret '%s'", s->name);
	r = unsign_jwts(root, 0);
	if (r >= 0)
		r = set_path(root, s->source.field, json_string(s->placeholder));
	if (r >= 0 && rf->token_field)
		r = set_path(root, rf->token_field,
		             json_string(rf->placeholder ? rf->placeholder : s->placeholder));
	if (r >= 0 && rf->expires_field && strcmp(rf->expires_field, "jwt") != 0)
		r = set_expiry(root, rf->expires_field, (int64_t)time(NULL) + YEAR_SECS);
	if (r >= 0 && json_object_get(root, "last_refresh") && now_rfc3339(now) == 0)
		r = json_object_set_new(root, "last_refresh", json_string(now)) < 0 ? -ENOMEM : 0;
	if (r >= 0)
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (r < 0 || !text || buf_puts(out, text) < 0 || buf_putc(out, '\n') < 0)
		return coi_error_oom(err);
	return 0;
}

/* ---- renewal ------------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *u)
{
	return buf_append(u, p, size * n) < 0 ? 0 : size * n;
}

/* POST body to url; the answer (2xx only) into out. */
static int post_json(const char *url, const char *body, const char *cafile,
                     const struct egress_connect_to *ct, size_t n_ct, struct buf *out,
                     struct coi_error *err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL, *conn = NULL;
	long code = 0;
	CURLcode c;

	if (!h)
		return coi_error_oom(err);
	for (size_t i = 0; i < n_ct; i++) {
		char line[512], a[INET_ADDRSTRLEN];

		(void)inet_ntop(AF_INET, &ct[i].addr.sin_addr, a, sizeof(a));
		(void)snprintf(line, sizeof(line), "%s:443:%s:%u", ct[i].host, a,
		               ntohs(ct[i].addr.sin_port));
		conn = curl_slist_append(conn, line);
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, conn);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)REFRESH_SECS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	curl_slist_free_all(conn);
	if (c != CURLE_OK)
		return coi_error_set(err, -EIO, "%s: %s", url, curl_easy_strerror(c));
	if (code < 200 || code > 299)
		return coi_error_set(err, -EACCES, "%s answered %ld", url, code);
	return 0;
}

/* Writes root back into path, atomically, with the mode and owner the file had. */
static int write_back(const char *path, json_t *root, struct coi_error *err)
{
	_cleanup_free_ char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct stat st;
	int r;

	if (!text)
		return coi_error_oom(err);
	if (stat(path, &st) < 0)
		return coi_error_errno(err, errno, "cannot stat '%s'", path);
	r = write_file_atomic(path, text, strlen(text), st.st_mode & 07777, err);
	explicit_bzero(text, strlen(text));
	if (r >= 0 && geteuid() == 0 && chown(path, st.st_uid, st.st_gid) < 0)
		r = coi_error_errno(err, errno, "cannot give '%s' back to its owner", path);
	return r;
}

/* The answer applied to the file's JSON (root); the new value into *ret_value. */
static int apply_answer(const struct egress_secret *s, json_t *root, const struct buf *answer,
                        char **ret_value, int64_t *ret_expires, struct coi_error *err)
{
	_cleanup_json_ json_t *a = NULL;
	const char *access, *rt;
	int64_t in;
	int r = json_parse(answer->data, answer->len, &a, err);

	if (r < 0)
		return r;
	access = json_get_str(a, "access_token");
	rt = json_get_str(a, "refresh_token");
	in = json_get_int(a, "expires_in", 0);
	if (!access || !egress_value_valid(access) || (rt && !egress_value_valid(rt)))
		return coi_error_set(err, -EBADMSG, "the answer holds no usable access_token");
	r = set_path(root, s->source.field, json_string(access));
	if (r >= 0 && rt)
		r = set_path(root, s->refresh.token_field, json_string(rt));
	*ret_expires = in > 0 ? (int64_t)time(NULL) + in : 0;
	if (r >= 0 && in > 0 && s->refresh.expires_field && strcmp(s->refresh.expires_field, "jwt"))
		r = set_expiry(root, s->refresh.expires_field, *ret_expires);
	if (r >= 0 && !*ret_expires)
		*ret_expires = egress_expiry(s, "{}", access);
	*ret_value = strdup(access);
	return r < 0 || !*ret_value ? coi_error_oom(err) : 0;
}

int egress_refresh(struct egress_secret *s, const char *cafile, const struct egress_connect_to *ct,
                   size_t n_ct, int64_t *ret_expires, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(EGRESS_FILE_MAX), answer = BUF_INIT(ANSWER_MAX);
	_cleanup_json_ json_t *root = NULL, *req = NULL;
	_cleanup_free_ char *body = NULL;
	char *value = NULL;
	const char *rt;
	int r;

	if (!s->refresh.url || s->source.kind != EGRESS_SOURCE_FILE || !s->source.field)
		return coi_error_set(err, -EINVAL, "secret '%s' cannot be renewed", s->name);
	r = read_file(s->source.file, &b, err);
	if (r >= 0)
		r = json_parse(b.data, b.len, &root, err);
	explicit_bzero(b.data ? b.data : (char[1]){0}, b.len);
	if (r < 0)
		return coi_error_prefix(err, "secret '%s'", s->name);
	rt = json_string_value(json_get_path(root, s->refresh.token_field));
	if (!rt)
		return coi_error_set(err, -ENOENT, "secret '%s': no refresh token at '%s'", s->name,
		                     s->refresh.token_field);
	req = json_pack("{s:s, s:s}", "grant_type", "refresh_token", "refresh_token", rt);
	if (req && s->refresh.client_id)
		json_object_set_new(req, "client_id", json_string(s->refresh.client_id));
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!body)
		return coi_error_oom(err);
	r = post_json(s->refresh.url, body, cafile, ct, n_ct, &answer, err);
	explicit_bzero(body, strlen(body));
	if (r >= 0)
		r = apply_answer(s, root, &answer, &value, ret_expires, err);
	if (r >= 0)
		r = write_back(s->source.file, root, err);
	if (answer.data)
		explicit_bzero(answer.data, answer.len);
	if (r < 0) {
		free(value);
		return coi_error_prefix(err, "renewing secret '%s'", s->name);
	}
	return set_value(s, value, err);
}
