/* SPDX-License-Identifier: MIT */
/* secret.c: the secret model of the credential proxy (secret.h). Pure: validation, host
 * matching, placeholders and the header value a secret is sent as. */
#include "egress/secret.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "netpolicy/netpolicy.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

void egress_secret_release(struct egress_secret *s)
{
	if (!s)
		return;
	free(s->name);
	strv_free(s->hosts);
	free(s->header);
	free(s->format);
	free(s->basic_user);
	free(s->placeholder);
	free(s->source.env);
	free(s->source.file);
	free(s->source.field);
	strv_free(s->source.command);
	free(s->refresh.url);
	free(s->refresh.client_id);
	free(s->refresh.token_field);
	free(s->refresh.expires_field);
	free(s->refresh.placeholder);
	free(s->container_env);
	free(s->container_file);
	if (s->value)
		explicit_bzero(s->value, strlen(s->value));
	free(s->value);
	*s = (struct egress_secret){0};
}

void egress_set_release(struct egress_set *set)
{
	for (size_t i = 0; set && i < set->n; i++)
		egress_secret_release(&set->v[i]);
	if (set) {
		free(set->v);
		*set = (struct egress_set){0};
	}
}

bool egress_secret_for_host(const struct egress_secret *s, const char *host)
{
	strv_foreach(h, s->hosts)
		if (strcmp(*h, host) == 0)
			return true;
	return false;
}

bool egress_set_has_host(const struct egress_set *set, const char *host)
{
	for (size_t i = 0; i < set->n; i++)
		if (egress_secret_for_host(&set->v[i], host))
			return true;
	return false;
}

char **egress_set_hosts(const struct egress_set *set)
{
	char **all = calloc(1, sizeof(char *));

	for (size_t i = 0; all && i < set->n; i++)
		strv_foreach(h, set->v[i].hosts)
			if (!strv_contains(all, *h) && strv_push(&all, *h) < 0)
				return strv_free(all);
	return all;
}

static bool name_chars(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

int egress_placeholder_new(const char *prefix, char **ret, struct coi_error *err)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[EGRESS_PLACEHOLDER_HEX / 2];
	char *p;
	size_t n;

	prefix = prefix ? prefix : "";
	if (!name_chars(prefix, EGRESS_PLACEHOLDER_MAX - EGRESS_PLACEHOLDER_HEX - 4))
		return coi_error_set(err, -EINVAL, "'%s' is not a placeholder prefix", prefix);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return coi_error_errno(err, errno, "cannot make a placeholder");
	n = strlen(prefix);
	p = malloc(n + 3 + EGRESS_PLACEHOLDER_HEX + 1);
	if (!p)
		return coi_error_oom(err);
	memcpy(p, prefix, n);
	memcpy(p + n, "coi", 3);
	n += 3;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		p[n++] = hex[rnd[i] >> 4];
		p[n++] = hex[rnd[i] & 15];
	}
	p[n] = '\0';
	*ret = p;
	return 0;
}

bool egress_value_valid(const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > EGRESS_VALUE_MAX)
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

bool egress_header_name_valid(const char *h)
{
	size_t n = h ? strlen(h) : 0;

	if (n == 0 || n > EGRESS_HEADER_MAX)
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	return true;
}

bool egress_format_valid(const char *f)
{
	const char *at = f ? strstr(f, "{}") : NULL;

	if (!at || strstr(at + 2, "{}") || strlen(f) > EGRESS_FORMAT_MAX)
		return false;
	for (const char *p = f; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static int put_basic(const char *user, const char *v, struct buf *out)
{
	_cleanup_free_ char *plain = NULL;
	_cleanup_free_ unsigned char *enc = NULL;
	size_t n;
	int r;

	if (asprintf(&plain, "%s:%s", user, v) < 0)
		return -ENOMEM;
	n = strlen(plain);
	enc = malloc(4 * ((n + 2) / 3) + 1);
	if (!enc)
		return -ENOMEM;
	(void)EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)n);
	r = buf_puts(out, (const char *)enc);
	explicit_bzero(plain, n);
	return r;
}

int egress_secret_render(const struct egress_secret *s, const char *v, struct buf *out)
{
	const char *f = s->format ? s->format : "{}";
	const char *at = strstr(f, "{}");
	int r;

	if (!at)
		return -EINVAL;
	r = buf_append(out, f, (size_t)(at - f));
	if (r >= 0)
		r = s->basic_user ? put_basic(s->basic_user, v, out) : buf_puts(out, v);
	if (r >= 0)
		r = buf_puts(out, at + 2);
	return r;
}

int egress_secret_check(const struct egress_secret *s, struct coi_error *err)
{
	const char *n = s->name ? s->name : "";

	if (!*n || !name_chars(n, 64))
		return coi_error_set(err, -EINVAL, "'%s' is not a secret name ([A-Za-z0-9_-])", n);
	if (strv_length(s->hosts) > EGRESS_HOSTS_MAX)
		return coi_error_set(err, -E2BIG, "secret '%s' names more than %d hosts", n,
		                     EGRESS_HOSTS_MAX);
	strv_foreach(h, s->hosts) {
		for (const char *p = *h; *p; p++)
			if (isupper((unsigned char)*p))
				return coi_error_set(err, -EINVAL,
				                     "secret '%s': host '%s' is not lower case", n,
				                     *h);
		if (!net_hostname_valid(*h))
			return coi_error_set(err, -EINVAL, "secret '%s': '%s' is not a host name",
			                     n, *h);
	}
	if (s->header && !egress_header_name_valid(s->header))
		return coi_error_set(err, -EINVAL, "secret '%s': '%s' is not a header name", n,
		                     s->header);
	if (s->format && !egress_format_valid(s->format))
		return coi_error_set(err, -EINVAL,
		                     "secret '%s': format '%s' needs exactly one {} and printable "
		                     "characters",
		                     n, s->format);
	if (s->basic_user && (!egress_value_valid(s->basic_user) || strchr(s->basic_user, ':')))
		return coi_error_set(err, -EINVAL, "secret '%s': '%s' is not a Basic user name", n,
		                     s->basic_user);
	if (!s->placeholder || strlen(s->placeholder) < EGRESS_PLACEHOLDER_HEX ||
	    strlen(s->placeholder) > EGRESS_PLACEHOLDER_MAX || !name_chars(s->placeholder, 256))
		return coi_error_set(err, -EINVAL, "secret '%s' has no usable placeholder", n);
	return 0;
}
