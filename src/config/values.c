/* SPDX-License-Identifier: MIT */
/* values.c: single values of the configuration, below the key table: typed readers of TOML values
 * with the errors that name the key (FILE:LINE:COL), formats (sizes, rates, shares, durations),
 * lists of names, addresses and ports, domain entries ("host:port"), host paths, and the
 * did-you-mean for unknown keys. keys.c's setters and forward.c, prompts.c and secrets.c use them
 * (declared in keys.h); nothing here knows the table. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "config/settings.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hostname.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/suggest.h"
#include "util/units.h"

/* "N%" with N from 1 to max. */
static bool is_percent(const char *s, long max)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return false;
	v = strtol(s, &end, 10);
	return strcmp(end, "%") == 0 && v >= 1 && v <= max;
}

/* "25ms/100ms": a positive whole number of ms, each part. */
static bool is_time_budget(const char *s)
{
	char *end;

	for (int i = 0; i < 2; i++) {
		if (!isdigit((unsigned char)*s) || strtol(s, &end, 10) <= 0 ||
		    strncmp(end, "ms", 2) != 0)
			return false;
		s = end + 2;
		if (i == 0 && *s++ != '/')
			return false;
	}
	return *s == '\0';
}

static bool format_ok(enum config_format f, const char *s)
{
	uint64_t n;
	char *end;

	switch (f) {
	case CONFIG_FORMAT_SIZE:
		return units_parse_size(s, &n) == 0 && n > 0;
	case CONFIG_FORMAT_SIZE_PERCENT:
		return is_percent(s, 100) || (units_parse_size(s, &n) == 0 && n > 0);
	case CONFIG_FORMAT_RATE:
		if (isdigit((unsigned char)*s) && strtoul(s, &end, 10) > 0 &&
		    strcmp(end, "iops") == 0)
			return true;
		return units_parse_size(s, &n) == 0 && n > 0;
	case CONFIG_FORMAT_CPUS:
		return strspn(s, "0123456789-,") == strlen(s) && isdigit((unsigned char)*s) &&
		       isdigit((unsigned char)s[strlen(s) - 1]) && !strstr(s, "--") &&
		       !strstr(s, ",,") && !strstr(s, "-,") && !strstr(s, ",-");
	case CONFIG_FORMAT_CPU_ALLOWANCE:
		return is_percent(s, 100) || is_time_budget(s);
	case CONFIG_FORMAT_WORD:
		return strspn(s, "abcdefghijklmnopqrstuvwxyz") == strlen(s);
	case CONFIG_FORMAT_ANY:
	case _CONFIG_FORMAT_MAX:
		break;
	}
	return true;
}

int allowed_index(const char *allowed, const char *s)
{
	size_t len = strlen(s);
	int i = 0;

	for (const char *p = allowed; p && *p; i++) {
		size_t n = strcspn(p, "|");

		if (n == len && strncmp(p, s, n) == 0)
			return i;
		p += n + (p[n] == '|');
	}
	return -1;
}

/* The i-th name of "a|b|c" into out. */
const char *allowed_name(const char *allowed, int idx, char *out, size_t size)
{
	const char *p = allowed;

	for (int i = 0; i < idx && p; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p)
		return "";
	snprintf(out, size, "%.*s", (int)strcspn(p, "|"), p);
	return out;
}

int key_bad(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
            struct coi_error *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return coi_error_set(err, -EINVAL, "%s:%u:%u: '%s' %s", x->file, v->line, v->col, k->name,
	                     what);
}

int key_check_entries(const struct key_ctx *x, const struct config_key *k,
                      const struct toml_value *v, size_t n, struct coi_error *err)
{
	size_t max = k->max ? (size_t)k->max : CONFIG_ENTRIES_MAX;
	size_t own = v->type == TOML_ARRAY   ? v->u.array.n
	             : v->type == TOML_TABLE ? v->u.table.n
	                                     : 0;

	if (n <= max)
		return 0;
	return key_bad(x, k, v, err, "has more than %zu entries%s", max,
	               n > own ? " (with those of earlier files)" : "");
}

bool key_plain_string(const struct toml_value *v)
{
	return v->type == TOML_STRING && strlen(v->u.str.s) == v->u.str.len;
}

/* One "<number><unit>" of a Go duration at *s, in nanoseconds; advances *s. Digits by hand:
 * strtold() would follow the locale's decimal point. */
static int duration_term(const char **s, long double *ret_ns)
{
	/* clang-format off */
	static const struct { const char *unit; long double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xC2\xB5s", 1e3 }, { "ms", 1e6 },
		{ "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	/* clang-format on */
	const char *p = *s;
	long double value = 0, scale = 1;
	size_t best = 0, l;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		value = value * 10 + (*p++ - '0');
	if (*p == '.')
		while (isdigit((unsigned char)*++p))
			value += (*p - '0') * (scale /= 10);
	for (size_t u = 0; u < ELEMENTSOF(units); u++) {
		l = strlen(units[u].unit);
		if (strncmp(p, units[u].unit, l) == 0 && l > best) {
			best = l;
			*ret_ns = value * units[u].ns;
		}
	}
	if (!best)
		return -EINVAL;
	*s = p + best;
	return 0;
}

int config_duration_seconds(const char *s, int64_t *ret)
{
	long double total = 0, ns = 0;
	int r;

	if (!s || !*s || strcmp(s, "0") == 0) {
		*ret = 0;
		return 0;
	}
	while (*s) {
		r = duration_term(&s, &ns);
		if (r < 0)
			return r;
		total += ns;
	}
	if (total > (long double)INT64_MAX) /* Go's limit: about 292 years */
		return -ERANGE;
	*ret = (int64_t)ceill(total / 1e9L); /* a positive duration is never "none" */
	return 0;
}

bool key_ipv4_ok(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

int key_check_string(const struct key_ctx *x, const struct config_key *k,
                     const struct toml_value *v, struct coi_error *err)
{
	const char *s = v->u.str.s;

	if (k->allowed && *s && allowed_index(k->allowed, s) < 0)
		return key_bad(x, k, v, err, "must be one of: %s", k->allowed);
	if (*s && !format_ok(k->format, s))
		return key_bad(x, k, v, err, "must be %s, or \"\" for none",
		               config_format_to_string(k->format));
	if (strcmp(k->name, "tool.binary") == 0 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/@+-") !=
	            strlen(s))
		return key_bad(x, k, v, err,
		               "may only hold the characters A-Z a-z 0-9 . _ : / @ + -");
	return 0;
}

int key_want_type(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
                  enum toml_type t, struct coi_error *err)
{
	if (t == TOML_STRING ? key_plain_string(v) : v->type == t)
		return 0;
	return key_bad(x, k, v, err, "must be %s, not %s", config_type_to_string(k->type),
	               toml_type_to_string(v->type));
}

int key_read_strv(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
                  bool (*check)(const char *), const char *what, char ***ret, struct coi_error *err)
{
	_cleanup_strv_free_ char **l = NULL;
	int r = key_want_type(x, k, v, TOML_ARRAY, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.array.n, err);
	if (r < 0)
		return r;
	/* filled in place: pushing would walk the list for each entry */
	l = calloc(v->u.array.n + 1, sizeof(char *));
	if (!l)
		return coi_error_oom(err);
	for (size_t i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.items[i];

		if (!key_plain_string(e))
			return key_bad(x, k, e, err, "must be %s, not an array holding a %s",
			               config_type_to_string(k->type),
			               toml_type_to_string(e->type));
		/* no list has a use for "": a path, a name, a command or a pattern that is empty
		 * would mean the whole workspace, nothing or everything */
		if (!*e->u.str.s)
			return key_bad(x, k, e, err, "has an empty entry");
		if (check && !check(e->u.str.s))
			return key_bad(x, k, e, err, "has an invalid entry \"%s\": expected %s",
			               e->u.str.s, what);
		l[i] = strdup(e->u.str.s);
		if (!l[i])
			return coi_error_oom(err);
	}
	*ret = TAKE_PTR(l);
	return 0;
}

static int read_port(const struct key_ctx *x, const struct config_key *k,
                     const struct toml_value *e, uint16_t *ret, struct coi_error *err)
{
	if (e->type != TOML_INTEGER || e->u.i < 1 || e->u.i > 65535)
		return key_bad(x, k, e, err, "must hold ports, integers from 1 to 65535");
	*ret = (uint16_t)e->u.i;
	return 0;
}

int key_read_ports(const struct key_ctx *x, const struct config_key *k, const struct toml_value *v,
                   uint16_t **ret, size_t *ret_n, struct coi_error *err)
{
	_cleanup_free_ uint16_t *ports = NULL;
	int r = key_want_type(x, k, v, TOML_ARRAY, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.array.n, err);
	if (r < 0)
		return r;
	ports = calloc(v->u.array.n + 1, sizeof(*ports));
	if (!ports)
		return coi_error_oom(err);
	for (size_t i = 0; i < v->u.array.n; i++) {
		r = read_port(x, k, v->u.array.items[i], &ports[i], err);
		if (r < 0)
			return r;
	}
	*ret_n = v->u.array.n;
	*ret = TAKE_PTR(ports);
	return 0;
}

static bool domain_ok(const char *s)
{
	struct config_domain d;

	if (config_domain_parse(s, &d, NULL) < 0)
		return false;
	config_domain_release(&d);
	return true;
}

/* An IPv4 address or CIDR, without ports. */
static bool cidr_ok(const char *s)
{
	struct config_domain d;
	bool ok;

	if (config_domain_parse(s, &d, NULL) < 0)
		return false;
	ok = d.is_ip && d.n_ports == 0 && !strchr(s, ':');
	config_domain_release(&d);
	return ok;
}

bool (*key_list_check(const struct config_key *k))(const char *)
{
	enum config_type t = k->type;

	return t == CONFIG_DOMAINS     ? domain_ok
	       : t == CONFIG_IPV4_LIST ? key_ipv4_ok
	       : t == CONFIG_CIDR_LIST ? cidr_ok
	                               : NULL;
}

const char *key_list_what(const struct config_key *k)
{
	enum config_type t = k->type;

	return t == CONFIG_DOMAINS     ? "a host (or *.name), IPv4 address or CIDR with optional "
	                                 ":port, :port,port or :low-high"
	       : t == CONFIG_CIDR_LIST ? "an IPv4 network like \"100.64.0.0/10\""
	                               : "an IPv4 address";
}

/* "~/x" and relative paths (against base) made absolute and clean. */
char *key_expand_path(const char *p, const char *base)
{
	_cleanup_free_ char *joined = NULL;

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
		joined = path_join(home_dir(), p + 1);
	else if (p[0] != '/' && base)
		joined = path_join(base, p);
	else
		joined = strdup(p);
	return joined ? path_clean(joined) : NULL;
}

int key_expand_home(char **p)
{
	_cleanup_free_ char *dir = NULL;
	char *n;

	if (!*p || (*p)[0] != '~' || ((*p)[1] != '/' && (*p)[1] != '\0'))
		return 0;
	if (strncmp(*p, "~/.coi/", 7) == 0 || strcmp(*p, "~/.coi") == 0) {
		dir = coi_dir();
		n = dir ? path_join(dir, *p + 6) : NULL;
	} else {
		n = path_join(home_dir(), *p + 1);
	}
	if (!n)
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

const char *key_suggest(const char *name)
{
	const struct config_key *keys;
	const char *best = NULL;
	unsigned best_d = 3;
	size_t n;

	keys = config_keys(&n);
	for (size_t i = 0; i < n; i++) {
		unsigned d = suggest_distance(name, keys[i].name);

		if (d < best_d)
			best = keys[i].name, best_d = d;
	}
	return best;
}

static int parse_ports(const char *s, struct config_domain *d)
{
	_cleanup_strv_free_ char **parts = strv_split(s, ",");

	if (!parts)
		return -ENOMEM;
	/* at most as many as netpolicy takes in one entry (NET_PORTS_MAX) */
	if (!parts[0] || s[strlen(s) - 1] == ',' || strstr(s, ",,") || s[0] == ',' ||
	    strv_length(parts) > 64)
		return -EINVAL;
	d->ports = calloc(strv_length(parts), sizeof(*d->ports));
	if (!d->ports)
		return -ENOMEM;
	strv_foreach(p, parts) {
		char *end;
		unsigned long lo = strtoul(*p, &end, 10), hi = lo;

		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			hi = strtoul(end + 1, &end, 10);
		}
		if (*end || lo < 1 || hi > 65535 || lo > hi)
			return -EINVAL;
		d->ports[d->n_ports++] = (struct config_port_range){(uint16_t)lo, (uint16_t)hi};
	}
	return 0;
}

int config_domain_parse(const char *entry, struct config_domain *ret, struct coi_error *err)
{
	struct config_domain d = {0};
	const char *colon = strchr(entry, ':');
	char *slash;
	int r = 0;

	if (strlen(entry) > 512) /* netpolicy's limit of an entry */
		return coi_error_set(err, -EINVAL, "allowlist entry '%.40s...' is too long", entry);

	d.host = colon ? strndup(entry, (size_t)(colon - entry)) : strdup(entry);
	if (!d.host)
		return coi_error_oom(err);
	slash = strchr(d.host, '/');
	if (slash) {
		char *end;
		unsigned long bits = strtoul(slash + 1, &end, 10);
		struct in_addr a;

		*slash = '\0';
		d.is_ip = true;
		if (!isdigit((unsigned char)slash[1]) || *end || bits > 32 ||
		    inet_pton(AF_INET, d.host, &a) != 1)
			r = -EINVAL;
		*slash = '/';
	} else {
		struct in_addr a;

		d.is_ip = inet_pton(AF_INET, d.host, &a) == 1;
		/* "*.name": every name below name (the DNS filter matches it) */
		if (!d.is_ip &&
		    !hostname_valid(strncmp(d.host, "*.", 2) == 0 ? d.host + 2 : d.host))
			r = -EINVAL;
	}
	if (r == 0 && colon)
		r = parse_ports(colon + 1, &d);
	if (r < 0) {
		config_domain_release(&d);
		if (r == -ENOMEM)
			return coi_error_oom(err);
		return coi_error_set(
		        err, r,
		        "invalid allowlist entry '%s': expected a host name (or *.name for the "
		        "names below it), IPv4 address or CIDR with optional :port, :port,port "
		        "or :low-high",
		        entry);
	}
	*ret = d;
	return 0;
}

void config_domain_release(struct config_domain *d)
{
	free(d->host);
	free(d->ports);
	*d = (struct config_domain){0};
}
