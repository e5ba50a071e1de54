/* SPDX-License-Identifier: MIT */
/* forward.c: the keys that bring something of the host into a session: [[sockets]] (a host unix
 * socket, proxied in), [[ports.map]] (a container port published on the host), [[credentials]]
 * (a host file copied in) and [[secrets]] (secrets.c: a credential the host's proxy puts in). Each
 * layer adds entries; an entry with the identity of an earlier one (its container path, its port
 * name, its bundle) replaces it, as the original's profiles do. Values are checked here, each error
 * naming the file, line and column; whether a file may set these keys at all is the trust filter's
 * decision (config.c, keys.c). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "config/settings.h"
#include "util/error.h"
#include "util/path.h"

#define FIELD(c, k, type) ((type *)((char *)(c) + (k)->offset))
#define COUNT(c, k)       ((size_t *)((char *)(c) + (k)->offset_n))

#define PORT_NAME_MAX 32
#define SUN_PATH_MAX  107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define PATH_LEN_MAX  4095

/* A small catalog, as the original's credentials/catalog.toml: the login file of each agent, and
 * ollama's key. Paths are relative to the host user's and the code user's home. */
static const struct config_bundle_file bundles[] = {
        {"claude", ".claude/.credentials.json", 0600},
        {"codex", ".codex/auth.json", 0600},
        {"ollama", ".ollama/id_ed25519", 0600},
        {NULL, NULL, 0},
};

const struct config_bundle_file *config_bundle_files(void)
{
	return bundles;
}

bool config_bundle_exists(const char *name)
{
	for (const struct config_bundle_file *b = bundles; b->bundle; b++)
		if (strcmp(b->bundle, name) == 0)
			return true;
	return false;
}

/* --- One field of an entry --- */

int key_entry_known(const struct key_entry *e, const char *allowed, struct coi_error *err)
{
	for (size_t i = 0; i < e->t->u.table.n; i++)
		if (allowed_index(allowed, e->t->u.table.items[i].key) < 0)
			return key_bad(e->x, e->k, e->t->u.table.items[i].value, err,
			               "has an unknown field '%s' (known: %s)",
			               e->t->u.table.items[i].key, allowed);
	return 0;
}

int key_entry_string(const struct key_entry *e, const char *field, bool required, char **ret,
                     struct coi_error *err)
{
	const struct toml_value *v = toml_table_get(e->t, field);

	if (!v && !required)
		return 0;
	if (!v || !key_plain_string(v) || !*v->u.str.s)
		return key_bad(e->x, e->k, v ? v : e->t, err, "needs a string '%s' in every entry",
		               field);
	for (const char *p = v->u.str.s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return key_bad(e->x, e->k, v, err, "'%s' holds a control character", field);
	*ret = strdup(v->u.str.s);
	return *ret ? 0 : coi_error_oom(err);
}

int key_entry_host_path(const struct key_entry *e, const char *field, size_t max, char **ret,
                        struct coi_error *err)
{
	_cleanup_free_ char *s = NULL;
	int r = key_entry_string(e, field, true, &s, err);

	if (r < 0)
		return r;
	if (s[0] != '/' && !(s[0] == '~' && s[1] == '/'))
		return key_bad(e->x, e->k, toml_table_get(e->t, field), err,
		               "'%s' must be an absolute path or start with \"~/\" (not \"%s\")",
		               field, s);
	*ret = key_expand_path(s, NULL);
	if (!*ret)
		return coi_error_oom(err);
	if (strlen(*ret) > max)
		return key_bad(e->x, e->k, toml_table_get(e->t, field), err,
		               "'%s' is longer than %zu bytes", field, max);
	return 0;
}

/* A path in the container: absolute, made clean, not "/". */
static int container_field(const struct key_entry *e, size_t max, char **ret, struct coi_error *err)
{
	_cleanup_free_ char *s = NULL;
	const struct toml_value *v = toml_table_get(e->t, "container");
	int r = key_entry_string(e, "container", true, &s, err);

	if (r < 0)
		return r;
	if (s[0] != '/')
		return key_bad(e->x, e->k, v, err,
		               "needs an absolute 'container' path in every entry (not \"%s\")", s);
	*ret = path_clean(s);
	if (!*ret)
		return coi_error_oom(err);
	if (strcmp(*ret, "/") == 0 || strlen(*ret) > max)
		return key_bad(e->x, e->k, v, err,
		               "'container' must name a file below '/', at most %zu bytes", max);
	return 0;
}

static int port_field(const struct key_entry *e, const char *field, bool required, uint16_t *ret,
                      struct coi_error *err)
{
	const struct toml_value *v = toml_table_get(e->t, field);

	if (!v && !required)
		return 0;
	if (!v || v->type != TOML_INTEGER || v->u.i < 1 || v->u.i > 65535)
		return key_bad(e->x, e->k, v ? v : e->t, err,
		               "needs '%s' to be a port, an integer from 1 to 65535", field);
	*ret = (uint16_t)v->u.i;
	return 0;
}

/* "0600" or 0o600: permission bits only (no setuid, setgid or sticky bit). */
static int mode_field(const struct key_entry *e, unsigned *ret, struct coi_error *err)
{
	const struct toml_value *v = toml_table_get(e->t, "mode");
	long long m = -1;
	char *end;

	*ret = 0600;
	if (!v)
		return 0;
	if (v->type == TOML_INTEGER)
		m = v->u.i;
	else if (key_plain_string(v) && *v->u.str.s &&
	         strspn(v->u.str.s, "01234567") == strlen(v->u.str.s))
		m = strtoll(v->u.str.s, &end, 8);
	if (m < 0 || m > 0777)
		return key_bad(e->x, e->k, v, err,
		               "'mode' must be permission bits like \"0600\" (at most \"0777\")");
	*ret = (unsigned)m;
	return 0;
}

bool key_env_name_ok(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* --- Entries --- */

static void socket_release(void *p)
{
	struct config_socket *s = p;

	free(s->host);
	free(s->container);
	free(s->env);
}

static void port_release(void *p)
{
	struct config_port_map *m = p;

	free(m->name);
	free(m->env);
	free(m->listen);
}

static void credential_release(void *p)
{
	struct config_credential *c = p;

	free(c->bundle);
	free(c->host);
	free(c->container);
}

static const char *socket_id(const void *p)
{
	return ((const struct config_socket *)p)->container;
}

static const char *port_id(const void *p)
{
	return ((const struct config_port_map *)p)->name;
}

static const char *credential_id(const void *p)
{
	const struct config_credential *c = p;

	return c->bundle ? c->bundle : c->container;
}

static int read_socket(const struct key_entry *e, void *p, struct coi_error *err)
{
	struct config_socket *s = p;
	int r = key_entry_known(e, "host|container|env", err);

	if (r >= 0)
		r = key_entry_host_path(e, "host", SUN_PATH_MAX, &s->host, err);
	if (r >= 0)
		r = container_field(e, SUN_PATH_MAX, &s->container, err);
	if (r >= 0)
		r = key_entry_string(e, "env", false, &s->env, err);
	if (r >= 0 && s->env && !key_env_name_ok(s->env))
		r = key_bad(e->x, e->k, toml_table_get(e->t, "env"), err,
		            "'env' must be a variable name (letters, digits, '_'), not \"%s\"",
		            s->env);
	return r;
}

/* "web-1" -> "COI_PORT_WEB_1" */
static char *port_env(const char *name)
{
	char *env;

	if (asprintf(&env, "COI_PORT_%s", name) < 0)
		return NULL;
	for (char *q = env; *q; q++)
		*q = *q == '-' ? '_' : (char)toupper((unsigned char)*q);
	return env;
}

static int read_port_map(const struct key_entry *e, void *p, struct coi_error *err)
{
	struct config_port_map *m = p;
	struct in_addr a;
	int r = key_entry_known(e, "name|container|host|listen", err);

	if (r >= 0)
		r = key_entry_string(e, "name", true, &m->name, err);
	if (r >= 0 && (strlen(m->name) > PORT_NAME_MAX ||
	               strspn(m->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                               "0123456789_-") != strlen(m->name)))
		r = key_bad(e->x, e->k, toml_table_get(e->t, "name"), err,
		            "'name' may hold only letters, digits, '_' and '-' (at most %d), not "
		            "\"%s\"",
		            PORT_NAME_MAX, m->name);
	if (r >= 0)
		r = port_field(e, "container", true, &m->container, err);
	if (r >= 0)
		r = port_field(e, "host", false, &m->host, err);
	if (r >= 0)
		r = key_entry_string(e, "listen", false, &m->listen, err);
	if (r >= 0 && m->listen && inet_pton(AF_INET, m->listen, &a) != 1)
		r = key_bad(e->x, e->k, toml_table_get(e->t, "listen"), err,
		            "'listen' must be an IPv4 address such as \"127.0.0.1\", not \"%s\"",
		            m->listen);
	if (r < 0)
		return r;
	if (!m->listen)
		m->listen = strdup("127.0.0.1");
	m->env = port_env(m->name);
	return m->listen && m->env ? 0 : coi_error_oom(err);
}

static int read_credential(const struct key_entry *e, void *p, struct coi_error *err)
{
	struct config_credential *c = p;
	const struct toml_value *b = toml_table_get(e->t, "bundle");
	int r = key_entry_known(e, "bundle|host|container|mode", err);

	if (r < 0)
		return r;
	if (b) {
		if (e->t->u.table.n != 1)
			return key_bad(e->x, e->k, e->t, err,
			               "entries take either 'bundle' alone or 'host' and "
			               "'container' (and 'mode')");
		r = key_entry_string(e, "bundle", true, &c->bundle, err);
		if (r >= 0 && !config_bundle_exists(c->bundle))
			r = key_bad(
			        e->x, e->k, b, err,
			        "names an unknown bundle \"%s\" (coi has: claude, codex, ollama)",
			        c->bundle);
		return r;
	}
	r = key_entry_host_path(e, "host", PATH_LEN_MAX, &c->host, err);
	if (r >= 0)
		r = container_field(e, PATH_LEN_MAX, &c->container, err);
	if (r >= 0)
		r = mode_field(e, &c->mode, err);
	return r;
}

struct entry_type {
	size_t size;
	const char *shape;
	int (*read)(const struct key_entry *e, void *p, struct coi_error *err);
	const char *(*id)(const void *p);
	void (*release)(void *p);
};

static const struct entry_type *entry_type(const struct config_key *k)
{
	static const struct entry_type types[] = {
	        {sizeof(struct config_socket), "{host, container, env}", read_socket, socket_id,
	         socket_release},
	        {sizeof(struct config_port_map), "{name, container, host, listen}", read_port_map,
	         port_id, port_release},
	        {sizeof(struct config_credential), "{host, container, mode} or {bundle}",
	         read_credential, credential_id, credential_release},
	        {sizeof(struct config_secret), "{name, env|file|command, hosts, ...} or {builtin}",
	         secret_read, secret_id, secret_release},
	};

	return &types[k->type == CONFIG_SOCKETS    ? 0
	              : k->type == CONFIG_PORT_MAP ? 1
	              : k->type == CONFIG_SECRETS  ? 3
	                                           : 2];
}

static void entries_free(const struct entry_type *et, char *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		et->release(a + i * et->size);
	free(a);
}

void forward_free(struct coi_config *c, const struct config_key *k)
{
	entries_free(entry_type(k), *FIELD(c, k, char *), *COUNT(c, k));
	*FIELD(c, k, char *) = NULL;
	*COUNT(c, k) = 0;
}

/* The entries of one file, each identity at most once. */
static int read_entries(const struct key_ctx *x, const struct config_key *k,
                        const struct toml_value *v, char **ret, struct coi_error *err)
{
	const struct entry_type *et = entry_type(k);
	char *a;
	int r = key_want_type(x, k, v, TOML_ARRAY, err);

	if (r >= 0)
		r = key_check_entries(x, k, v, v->u.array.n, err);
	if (r < 0)
		return r;
	a = calloc(v->u.array.n + 1, et->size);
	if (!a)
		return coi_error_oom(err);
	for (size_t i = 0; i < v->u.array.n && r >= 0; i++) {
		struct key_entry e = {x, k, v->u.array.items[i]};

		if (e.t->type != TOML_TABLE) {
			r = key_bad(x, k, e.t, err, "must hold tables %s", et->shape);
			break;
		}
		r = et->read(&e, a + i * et->size, err);
		for (size_t j = 0; r >= 0 && j < i; j++)
			if (strcmp(et->id(a + j * et->size), et->id(a + i * et->size)) == 0)
				r = key_bad(x, k, e.t, err, "names \"%s\" twice",
				            et->id(a + i * et->size));
	}
	if (r < 0) {
		entries_free(et, a, v->u.array.n);
		return r;
	}
	*ret = a;
	return 0;
}

/* Published ports must not collide: the same variable from two names, or one host port twice. */
static int check_ports(const struct key_ctx *x, const struct config_key *k,
                       const struct toml_value *v, const struct coi_config *c,
                       struct coi_error *err)
{
	for (size_t i = 0; i < c->ports.n_map; i++)
		for (size_t j = 0; j < i; j++) {
			const struct config_port_map *a = &c->ports.map[j], *b = &c->ports.map[i];

			if (strcmp(a->env, b->env) == 0)
				return key_bad(x, k, v, err, "\"%s\" and \"%s\" would both be %s",
				               a->name, b->name, a->env);
			if (a->host && a->host == b->host)
				return key_bad(x, k, v, err,
				               "\"%s\" and \"%s\" both publish host port %u",
				               a->name, b->name, a->host);
		}
	return 0;
}

int forward_set(struct coi_config *c, const struct config_key *k, const struct toml_value *v,
                const struct key_ctx *x, struct coi_error *err)
{
	const struct entry_type *et = entry_type(k);
	char **field = FIELD(c, k, char *);
	size_t *n = COUNT(c, k), m;
	_cleanup_free_ char *items = NULL;
	char *a;
	int r = read_entries(x, k, v, &items, err);

	if (r < 0)
		return r;
	m = v->u.array.n;
	a = reallocarray(*field, *n + m + 1, et->size);
	if (!a) {
		entries_free(et, TAKE_PTR(items), m);
		return coi_error_oom(err);
	}
	*field = a;
	for (size_t i = 0; i < m; i++) {
		char *item = items + i * et->size, *slot = NULL;

		for (size_t j = 0; j < *n && !slot; j++)
			if (strcmp(et->id(a + j * et->size), et->id(item)) == 0)
				slot = a + j * et->size;
		if (slot)
			et->release(slot);
		else
			slot = a + (*n)++ * et->size;
		memcpy(slot, item, et->size);
	}
	memset(a + *n * et->size, 0, et->size);
	r = key_check_entries(x, k, v, *n, err);
	return r >= 0 && k->type == CONFIG_PORT_MAP ? check_ports(x, k, v, c, err) : r;
}

/* --- Output --- */

static json_t *entry_to_json(const struct config_key *k, const void *p)
{
	char mode[8];

	if (k->type == CONFIG_SOCKETS) {
		const struct config_socket *s = p;
		json_t *j = json_pack("{s:s, s:s}", "host", s->host, "container", s->container);

		if (j && s->env && json_object_set_new(j, "env", json_string(s->env)) < 0)
			return json_decref(j), NULL;
		return j;
	}
	if (k->type == CONFIG_PORT_MAP) {
		const struct config_port_map *m = p;
		json_t *j = json_pack("{s:s, s:i}", "name", m->name, "container", m->container);

		if (j && m->host && json_object_set_new(j, "host", json_integer(m->host)) < 0)
			return json_decref(j), NULL;
		if (j && json_object_set_new(j, "listen", json_string(m->listen)) < 0)
			return json_decref(j), NULL;
		return j;
	}
	if (k->type == CONFIG_SECRETS)
		return secret_to_json(p);
	const struct config_credential *cr = p;

	if (cr->bundle)
		return json_pack("{s:s}", "bundle", cr->bundle);
	(void)snprintf(mode, sizeof(mode), "%04o", cr->mode & 0777);
	return json_pack("{s:s, s:s, s:s}", "host", cr->host, "container", cr->container, "mode",
	                 mode);
}

json_t *forward_to_json(const struct coi_config *c, const struct config_key *k)
{
	const struct entry_type *et = entry_type(k);
	const char *a = *FIELD(c, k, char *);
	json_t *j = json_array();

	for (size_t i = 0; j && i < *COUNT(c, k); i++)
		if (json_array_append_new(j, entry_to_json(k, a + i * et->size)) < 0)
			return json_decref(j), NULL;
	return j;
}
