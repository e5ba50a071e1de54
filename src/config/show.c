/* SPDX-License-Identifier: MIT */
/* show.c: the configuration in force, written out for `coi config show`: as TOML (each key with
 * the file it came from) or as JSON. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/keys.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/strv.h"

static json_t *strv_to_json(char *const *l)
{
	json_t *a = json_array();

	strv_foreach(e, (char **)l)
		if (a && json_array_append_new(a, json_string(*e)) < 0)
			return json_decref(a), NULL;
	return a;
}

static json_t *ports_to_json(const uint16_t *p, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(p[i])) < 0)
			return json_decref(a), NULL;
	return a;
}

static json_t *compound_to_json(const struct coi_config *c, const struct config_key *k)
{
	json_t *j = k->type == CONFIG_ENV ? json_object() : json_array();

	for (size_t i = 0; j && i < *COUNT(c, k); i++) {
		json_t *e = NULL;

		if (k->type == CONFIG_ENV) {
			const struct config_env *v = &(*FIELD(c, k, struct config_env *))[i];

			if (json_object_set_new(j, v->name, json_string(v->value)) < 0)
				return json_decref(j), NULL;
			continue;
		}
		if (k->type == CONFIG_MOUNTS) {
			const struct config_mount *m = &(*FIELD(c, k, struct config_mount *))[i];

			e = json_pack("{s:s, s:s, s:b}", "host", m->host, "container", m->container,
			              "readonly", m->readonly);
			if (e && m->shift >= 0)
				json_object_set_new(e, "shift", json_boolean(m->shift));
		} else if (k->type == CONFIG_HOSTS) {
			const struct config_host *h = &(*FIELD(c, k, struct config_host *))[i];

			e = json_pack("{s:s, s:o, s:o}", "ip", h->ip, "hostnames",
			              strv_to_json(h->hostnames), "ports",
			              ports_to_json(h->ports, h->n_ports));
		}
		if (!e || json_array_append_new(j, e) < 0)
			return json_decref(j), NULL;
	}
	return j;
}

static json_t *key_to_json(const struct coi_config *c, size_t i)
{
	size_t n;
	const struct config_key *k = &config_keys(&n)[i];
	char name[64];

	switch (k->type) {
	case CONFIG_STRING:
	case CONFIG_DURATION:
		return *FIELD(c, k, char *) ? json_string(*FIELD(c, k, char *)) : json_null();
	case CONFIG_BOOL:
		return json_boolean(*FIELD(c, k, bool));
	case CONFIG_INT:
		return *FIELD(c, k, int) < 0 ? json_null() : json_integer(*FIELD(c, k, int));
	case CONFIG_FLOAT:
		return json_real(*FIELD(c, k, double));
	case CONFIG_ENUM:
		return json_string(allowed_name(k->allowed, *FIELD(c, k, int), name, sizeof(name)));
	case CONFIG_STRV:
	case CONFIG_DOMAINS:
	case CONFIG_IPV4_LIST:
	case CONFIG_CIDR_LIST:
		return strv_to_json(*FIELD(c, k, char **));
	case CONFIG_PORTS:
		return ports_to_json(*FIELD(c, k, uint16_t *), *COUNT(c, k));
	case CONFIG_ENV:
	case CONFIG_MOUNTS:
	case CONFIG_HOSTS:
		return compound_to_json(c, k);
	case CONFIG_SOCKETS:
	case CONFIG_PORT_MAP:
	case CONFIG_CREDENTIALS:
	case CONFIG_SECRETS:
		return forward_to_json(c, k);
	case CONFIG_PROMPTS:
		return prompts_to_json(c);
	case _CONFIG_TYPE_MAX:
		break;
	}
	return NULL;
}

static int toml_quote(struct buf *b, const char *s)
{
	int r = buf_putc(b, '"');

	for (; r >= 0 && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			r = buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7F)
			r = buf_printf(b, "\\u%04X", ch);
		else
			r = buf_putc(b, (char)ch);
	}
	return r < 0 ? r : buf_putc(b, '"');
}

static bool bare_key(const char *s)
{
	return *s &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
	               strlen(s);
}

/* Recursion is bounded by the shapes key_to_json makes (three levels at most). */
static int json_to_toml_buf(struct buf *b, const json_t *j)
{
	const char *key;
	json_t *e;
	size_t i;
	int r = 0;

	switch (json_typeof(j)) {
	case JSON_STRING:
		return toml_quote(b, json_string_value(j));
	case JSON_INTEGER:
		return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	case JSON_REAL: {
		double d = json_real_value(j);

		return d == floor(d) && fabs(d) < 1e15 ? buf_printf(b, "%.1f", d)
		                                       : buf_printf(b, "%.17g", d);
	}
	case JSON_TRUE:
	case JSON_FALSE:
		return buf_puts(b, json_is_true(j) ? "true" : "false");
	case JSON_ARRAY:
		r = buf_putc(b, '[');
		json_array_foreach(j, i, e) {
			if (r >= 0 && i)
				r = buf_puts(b, ", ");
			if (r >= 0)
				r = json_to_toml_buf(b, e);
		}
		return r < 0 ? r : buf_putc(b, ']');
	case JSON_OBJECT:
		r = buf_putc(b, '{');
		i = 0;
		json_object_foreach((json_t *)j, key, e) {
			r = r < 0 ? r : buf_puts(b, i++ ? ", " : " ");
			r = r < 0 ? r : bare_key(key) ? buf_puts(b, key) : toml_quote(b, key);
			r = r < 0 ? r : buf_puts(b, " = ");
			r = r < 0 ? r : json_to_toml_buf(b, e);
		}
		return r < 0 ? r : buf_puts(b, i ? " }" : "}");
	case JSON_NULL:
		return buf_puts(b, "\"\"");
	}
	return -EINVAL;
}

static char *json_to_toml(const json_t *j)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 20);

	if (json_to_toml_buf(&b, j) < 0)
		return NULL;
	return buf_steal(&b);
}

char *config_to_json(const struct coi_config *c)
{
	const struct config_key *keys;
	json_t *o = json_object();
	char *s = NULL;
	size_t n;

	keys = config_keys(&n);
	for (size_t i = 0; o && i < n; i++) {
		const char *origin = config_origin(c, i);
		json_t *e = json_pack("{s:o, s:s}", "value", key_to_json(c, i), "origin",
		                      origin ? origin : "default");

		if (!e || json_object_set_new(o, keys[i].name, e) < 0)
			goto out;
	}
	if (o && c->profile && json_object_set_new(o, "profile", json_string(c->profile)) < 0)
		goto out;
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
out:
	json_decref(o);
	return s;
}

static int show_key(struct buf *b, const struct coi_config *c, size_t i, const char *key)
{
	const char *origin = config_origin(c, i);
	_cleanup_free_ char *text = NULL;
	json_t *j = key_to_json(c, i);

	if (!j)
		return -ENOMEM;
	if (json_is_null(j)) {
		json_decref(j);
		return buf_printf(b, "# %s is unset  # %s\n", key, origin ? origin : "default");
	}
	text = json_to_toml(j);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	return buf_printf(b, "%s = %s  # %s\n", key, text, origin ? origin : "default");
}

char *config_to_toml(const struct coi_config *c)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4 << 20);
	const struct config_key *keys;
	_cleanup_free_ char *section = NULL;
	size_t n;
	int r = 0;

	keys = config_keys(&n);
	if (c->profile)
		r = buf_printf(&b, "# profile: %s\n", c->profile);
	/* top-level keys (sockets, credentials) come first in the table, before any [section] */
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const char *dot = strrchr(keys[i].name, '.');
		size_t len = dot ? (size_t)(dot - keys[i].name) : 0;

		if (dot && (!section || strlen(section) != len ||
		            strncmp(section, keys[i].name, len) != 0)) {
			free(section);
			section = strndup(keys[i].name, len);
			if (!section)
				return NULL;
			r = buf_printf(&b, "%s[%s]\n", i ? "\n" : "", section);
		}
		if (r >= 0)
			r = show_key(&b, c, i, dot ? dot + 1 : keys[i].name);
	}
	return r < 0 ? NULL : buf_steal(&b);
}
