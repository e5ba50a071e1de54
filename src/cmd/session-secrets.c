/* SPDX-License-Identifier: MIT */
/* session-secrets.c: [[secrets]] and security.secrets_on_host as session options. Each secret's
 * value is read now, on the host (a missing one stops the start, unless coi only implied the
 * secret: then it is left out with a warning, as forward_env leaves out a variable that is not
 * set); each gets a fresh placeholder, and a login that the host renews gets a second one for
 * its refresh token. The placeholders go where the agent reads them (container_env into the
 * session's environment; the files and git are written by the session), and the real values
 * they replace are kept out: a forwarded variable or a copied login they take over is dropped,
 * and an allowlist entry for a secret's host goes too (the container reaches it through the
 * proxy only). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/session-cmd.h"
#include "config/config.h"
#include "egress/secret.h"
#include "egress/source.h"
#include "netpolicy/netpolicy.h"
#include "session/credproxy.h"
#include "session/tool.h"
#include "util/error.h"
#include "util/strv.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The proxy's view of a configured secret (no value yet). */
static int from_config(const struct config_secret *cs, struct egress_secret *es)
{
	*es = (struct egress_secret){
	        .name = strdup(cs->name),
	        .hosts = strv_copy(cs->hosts),
	        .header = dup_or_null(cs->header),
	        .format = dup_or_null(cs->format),
	        .basic_user = dup_or_null(cs->basic_user),
	        .source.kind = cs->env    ? EGRESS_SOURCE_ENV
	                       : cs->file ? EGRESS_SOURCE_FILE
	                                  : EGRESS_SOURCE_COMMAND,
	        .source.env = dup_or_null(cs->env),
	        .source.file = dup_or_null(cs->file),
	        .source.field = dup_or_null(cs->field),
	        .source.command = cs->command ? strv_copy(cs->command) : NULL,
	        .refresh.url = dup_or_null(cs->refresh_url),
	        .refresh.client_id = dup_or_null(cs->refresh_client_id),
	        .refresh.token_field = dup_or_null(cs->refresh_token_field),
	        .refresh.expires_field = dup_or_null(cs->expires_field),
	        .container_env = dup_or_null(cs->container_env),
	        .container_file = dup_or_null(cs->container_file),
	        .git = cs->git,
	};
	return es->name && es->hosts && (!cs->command || es->source.command) ? 0 : -ENOMEM;
}

/* A refresh token's placeholder: a secret of its own that no host may receive. */
static int companion(struct egress_secret *s, struct egress_secret *c, struct coi_error *err)
{
	int r;

	if (asprintf(&c->name, "%s-refresh", s->name) < 0)
		return coi_error_oom(err);
	r = egress_placeholder_new("coi-rt-", &c->placeholder, err);
	if (r >= 0 && !(s->refresh.placeholder = strdup(c->placeholder)))
		r = coi_error_oom(err);
	return r;
}

static int add_env(struct session_opts *o, const char *name, const char *value)
{
	struct session_env *e = reallocarray(o->env, o->n_env + 2, sizeof(*e));

	if (!e)
		return -ENOMEM;
	o->env = e;
	e[o->n_env] = (struct session_env){strdup(name), strdup(value)};
	e[o->n_env + 1] = (struct session_env){0};
	if (!e[o->n_env].name || !e[o->n_env].value)
		return -ENOMEM;
	o->n_env++;
	return 0;
}

/* A forwarded value a secret takes over never enters the container. */
static void drop_env(struct session_opts *o, char *const *names)
{
	size_t k = 0;

	for (size_t i = 0; i < o->n_env; i++) {
		if (strv_contains(names, o->env[i].name)) {
			free(o->env[i].name);
			if (o->env[i].value)
				explicit_bzero(o->env[i].value, strlen(o->env[i].value));
			free(o->env[i].value);
			continue;
		}
		o->env[k++] = o->env[i];
	}
	o->n_env = k;
}

/* Nor does a copy of a login file that a secret's placeholder file replaces. */
static int drop_login(struct session_opts *o, const char *rel)
{
	const struct tool *t = tool_find(o->tool);
	_cleanup_free_ char *inside = NULL;
	size_t k = 0;

	if (t && t->credential_file && strcmp(t->credential_file, rel) == 0 && o->credentials)
		o->credentials = (free(o->credentials), NULL);
	if (asprintf(&inside, "/home/%s/%s", o->code_user, rel) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_creds; i++) {
		if (strcmp(o->creds[i].container, inside) == 0) {
			free(o->creds[i].host);
			free(o->creds[i].container);
			continue;
		}
		o->creds[k++] = o->creds[i];
	}
	o->n_creds = k;
	return 0;
}

/* The container reaches a secret's host through the proxy only. */
static void drop_allowlist(struct net_policy *p, char *const *hosts)
{
	size_t k = 0;

	for (size_t i = 0; p && i < p->n_allowlist; i++)
		if (p->allowlist[i].kind != NET_DEST_NAME ||
		    !strv_contains(hosts, p->allowlist[i].name))
			p->allowlist[k++] = p->allowlist[i];
	if (p)
		p->n_allowlist = k;
}

/* Reads one secret's value and makes its placeholders; 0 kept, 1 left out (implied and
 * unavailable: a warning), < 0 error. */
static int load_one(const struct config_secret *cs, struct egress_set *set, int64_t *expires,
                    char ***warnings, struct coi_error *err)
{
	struct egress_secret *s = &set->v[set->n];
	struct coi_error e = {0};
	_cleanup_free_ char *w = NULL;
	int r = from_config(cs, s);

	if (r < 0)
		return egress_secret_release(s), coi_error_oom(err);
	r = egress_source_load(s, &expires[set->n], &e);
	if (r < 0 && !cs->builtin) {
		egress_secret_release(s);
		*err = e;
		return coi_error_prefix(err, "[[secrets]] (%s)", cs->origin);
	}
	if (r < 0) {
		egress_secret_release(s);
		if (asprintf(&w, "%s: not kept on the host, and not copied in either", e.msg) < 0 ||
		    strv_consume(warnings, TAKE_PTR(w)) < 0)
			return coi_error_oom(err);
		return 1;
	}
	r = egress_placeholder_new(cs->placeholder_prefix, &s->placeholder, err);
	set->n++;
	if (r >= 0 && s->refresh.url)
		r = companion(s, &set->v[set->n++], err);
	if (r >= 0)
		r = egress_secret_check(s, err);
	return r;
}

static int place(struct session_opts *o, const struct egress_set *set, struct coi_error *err)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct egress_secret *s = &set->v[i];

		if (s->container_env && add_env(o, s->container_env, s->placeholder) < 0)
			return coi_error_oom(err);
		if (s->container_file && drop_login(o, s->container_file) < 0)
			return coi_error_oom(err);
	}
	/* Node keeps a CA list of its own; Python's requests too */
	if (add_env(o, "NODE_EXTRA_CA_CERTS", CREDPROXY_BUNDLE_INSIDE) < 0 ||
	    add_env(o, "REQUESTS_CA_BUNDLE", CREDPROXY_BUNDLE_INSIDE) < 0)
		return coi_error_oom(err);
	return 0;
}

int session_secrets_from_config(struct session_opts *o, const struct coi_config *cfg,
                                char ***warnings, struct coi_error *err)
{
	struct config_secret *cs = NULL;
	_cleanup_strv_free_ char **taken = NULL, **hosts = NULL;
	struct egress_set *set = NULL;
	size_t n = 0;
	bool login = false;
	int r = config_secrets_effective(cfg, &cs, &n, &taken, &login, err);

	if (r < 0)
		return r;
	drop_env(o, taken);
	if (n == 0) {
		config_secrets_free(cs, n);
		return 0;
	}
	set = calloc(1, sizeof(*set));
	o->secret_expires = calloc(2 * n + 1, sizeof(*o->secret_expires));
	if (set)
		set->v = calloc(2 * n + 1, sizeof(*set->v));
	if (!set || !set->v || !o->secret_expires)
		r = coi_error_oom(err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = load_one(&cs[i], set, o->secret_expires, warnings, err);
	config_secrets_free(cs, n);
	if (r >= 0 && set->n > 0 && (r = place(o, set, err)) >= 0) {
		hosts = egress_set_hosts(set);
		if (!hosts)
			r = coi_error_oom(err);
		drop_allowlist(o->net, hosts);
	}
	if (r < 0 || set->n == 0) {
		egress_set_release(set);
		free(set);
		return r < 0 ? r : 0;
	}
	o->secrets = set;
	/* the supervisor runs the proxy: with monitoring off, one starts for it alone */
	if (!o->monitor_argv && strv_push(&o->monitor_argv, "--timer-only") < 0)
		return coi_error_oom(err);
	return 0;
}
