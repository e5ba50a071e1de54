/* SPDX-License-Identifier: MIT */
/* context.c: what the agent is told about its sandbox (~/SANDBOX_CONTEXT.md, and a marked block
 * in the tool's own context file, replaced rather than appended at every start), and the
 * environment file its launcher sources. Pure text functions; the session writes the files. */
#include "session/context.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/secret.h"
#include "netpolicy/netpolicy.h"
#include "session/protect.h"
#include "session/secrets.h"
#include "session/state.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strv.h"

#define BLOCK_BEGIN "<!-- coi:begin sandbox context (rewritten at every start) -->"
#define BLOCK_END   "<!-- coi:end sandbox context -->"

static const char *net_text(enum net_mode m)
{
	switch (m) {
	case NET_MODE_OPEN:
		return "open: no filtering by coi.";
	case NET_MODE_ALLOWLIST:
		return "allowlist: only the destinations the user allowed are reachable; a name "
		       "the user allowed (or one below an allowed *.name) resolves, and its "
		       "addresses are reachable once resolved; other names do not resolve "
		       "(NXDOMAIN), and all other traffic is refused.";
	case NET_MODE_RESTRICTED:
	default:
		return "restricted: the internet is reachable; private networks (10.0.0.0/8, "
		       "172.16.0.0/12, 192.168.0.0/16), link-local and cloud metadata "
		       "(169.254.169.254), other containers and IPv6 are refused.";
	}
}

static int render_protected(struct buf *b, const struct session *s)
{
	int r = 0;

	if (!s->plan || s->plan->n_entries == 0)
		return buf_puts(b, "- Protected paths: none.\n");
	r = buf_puts(b, "- Protected paths, read-only (writes fail; do not try to work around "
	                "this, ask the user):");
	for (size_t i = 0; r >= 0 && i < s->plan->n_entries; i++)
		r = buf_printf(b, "%s %s", i ? "," : "", s->plan->entries[i].rel);
	return r < 0 ? r : buf_puts(b, ".\n");
}

/* A limit for people: "50% of the host's", "4.0 GiB", or unlimited. */
static int render_amount(struct buf *b, const char *what, const char *v)
{
	if (!v)
		return buf_printf(b, "%s unlimited", what);
	if (v[strlen(v) - 1] == '%')
		return buf_printf(b, "%s %s of the host's", what, v);
	return buf_printf(b, "%s %.1f GiB", what, strtod(v, NULL) / (1024.0 * 1024 * 1024));
}

/* [git] protected_branches: why a commit there fails, and what to do instead */
static int render_branches(struct buf *b, const struct session *s)
{
	const char *top = s->plan ? s->plan->gitdir_rel : NULL;
	size_t n = top ? strlen(top) : 0;
	int r = 0, k = 0;

	for (size_t i = 0; top && r >= 0 && i < s->plan->n_entries; i++) {
		const char *rel = s->plan->entries[i].rel;

		if (strncmp(rel, top, n) != 0 || strncmp(rel + n, "/refs/heads/", 12) != 0)
			continue;
		r = buf_printf(b, "%s %s",
		               k++ ? ","
		                   : "- Protected branches (read-only: commit, "
		                     "reset or delete there fails; work on a "
		                     "branch of your own):",
		               rel + n + 12);
	}
	return r < 0 || !k ? r : buf_puts(b, ".\n");
}

/* [limits]: what the agent will run into, so it can tell a limit from a bug. */
static int render_limits(struct buf *b, const struct session_limits *l)
{
	int r = buf_printf(b, "- Limits: cpu %s, ", l->cpu ? l->cpu : "all");

	if (r >= 0)
		r = render_amount(b, "memory", l->memory);
	if (r >= 0)
		r = l->processes ? buf_printf(b, ", processes %lld", (long long)l->processes)
		                 : buf_puts(b, ", processes unlimited");
	if (r >= 0)
		r = render_amount(b, ", root disk", l->disk_size);
	if (r >= 0 && l->tmpfs_size)
		r = buf_printf(b, ", /tmp in memory (%.1f GiB)",
		               (double)l->tmpfs_size / (1024.0 * 1024 * 1024));
	return r < 0 ? r : buf_puts(b, ".\n");
}

/* [security] secret_paths: the agent sees empty files; it should know they are not empty. */
static int render_hidden(struct buf *b, const struct session *s)
{
	int r = 0;

	if (!s->hidden || s->hidden->n_entries == 0)
		return 0;
	r = buf_puts(b, "- Hidden by the user (they look empty here; their content stays on the "
	                "host, ask the user if you need it):");
	for (size_t i = 0; r >= 0 && i < s->hidden->n_entries; i++)
		r = buf_printf(b, "%s %s", i ? "," : "", s->hidden->entries[i].rel);
	return r < 0 ? r : buf_puts(b, ".\n");
}

static int render_env(struct buf *b, const struct session_opts *o)
{
	int r = buf_puts(b, "- Environment variables set by the user: ");

	for (size_t i = 0; r >= 0 && i < o->n_env; i++)
		r = buf_printf(b, "%s%s", i ? ", " : "", o->env[i].name);
	return r < 0 ? r : buf_puts(b, o->n_env ? " (values not shown here).\n" : "none.\n");
}

/* Secrets kept on the host (session/credproxy.h): the agent sees placeholders; it should know they
 * work for their hosts only, and are not broken keys. */
static int render_secrets(struct buf *b, const struct session_opts *o)
{
	_cleanup_strv_free_ char **hosts = o->secrets ? egress_set_hosts(o->secrets) : NULL;
	_cleanup_free_ char *list = hosts ? strv_join(hosts, ", ") : NULL;

	if (!o->secrets)
		return 0;
	if (!list)
		return -ENOMEM;
	return buf_printf(b,
	                  "- Credentials (API keys, logins) here are placeholders: the host puts "
	                  "the real values into HTTPS requests to %s only. Use them as they are; a "
	                  "placeholder sent anywhere else is refused and reported.\n",
	                  list);
}

/* What the user forwarded: sockets in, ports out (session/forward.c). */
static int render_forwards(struct buf *b, const struct session_opts *o)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < o->n_sockets; i++)
		r = buf_printf(b, "%s %s%s%s%s",
		               i ? "," : "- Host sockets forwarded here:", o->sockets[i].container,
		               o->sockets[i].env ? " ($" : "",
		               o->sockets[i].env ? o->sockets[i].env : "",
		               o->sockets[i].env ? ")" : "");
	if (r >= 0 && o->n_sockets)
		r = buf_puts(b, ".\n");
	for (size_t i = 0; r >= 0 && i < o->n_ports; i++) {
		const struct session_port *p = &o->ports[i];

		if (!i)
			r = buf_puts(b,
			             "- Published ports: when you start a server the user should "
			             "open, bind it (0.0.0.0 or 127.0.0.1) to one of these ports "
			             "and give the user the host address:");
		if (r >= 0)
			r = buf_printf(b, "%s %s%s%u -> http://%s:%u", i ? "," : "",
			               p->name ? p->name : "", p->name ? " " : "", p->container,
			               p->listen, p->host);
	}
	return r < 0 || !o->n_ports ? r : buf_puts(b, ".\n");
}

int context_render(const struct session *s, struct buf *out)
{
	const struct session_opts *o = s->opts;
	int r;

	r = buf_printf(
	        out,
	        "# Sandbox context\n\n"
	        "You are working inside coi, an unprivileged Incus system container on the "
	        "user's machine. This file is rewritten at every start.\n\n"
	        "- Workspace: %s is the user's project (%s on the host). Your changes there "
	        "are real and stay after the session; everything else in this container is "
	        "%s.\n"
	        "- User: %s (uid %lld) with passwordless sudo inside the container. Root here "
	        "is not root on the host.\n"
	        "- Container: %s (slot %d).\n"
	        "- Network: %s\n",
	        s->container_workspace, o->workspace,
	        o->persistent ? "kept between sessions (persistent)"
	                      : "deleted when the session ends (ephemeral)",
	        o->code_user, (long long)o->code_uid, s->name, s->slot,
	        net_text(session_net_mode(o)));
	if (r < 0)
		return r;
	r = render_protected(out, s);
	if (r >= 0)
		r = render_hidden(out, s);
	if (r >= 0)
		r = render_env(out, o);
	if (r >= 0)
		r = render_secrets(out, o);
	if (r >= 0)
		r = render_forwards(out, o);
	if (r >= 0)
		r = render_limits(out, &o->limits);
	if (r >= 0)
		r = buf_puts(out,
		             "- Not here: the user's home directory, SSH keys, cloud "
		             "credentials and host environment, unless the user configured them.\n"
		             "- Git works as usual, but hooks and git config are read-only for "
		             "the user's safety.\n");
	if (r >= 0)
		r = render_branches(out, s);
	return r;
}

static json_t *strings_json(char *const *l, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && l && (n ? i < n : l[i] != NULL); i++)
		if (json_array_append_new(a, json_string(l[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *ports_json(const struct session_opts *o)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < o->n_ports; i++) {
		const struct session_port *p = &o->ports[i];
		json_t *e =
		        json_pack("{s:s, s:i, s:i, s:s, s:s, s:b}", "name", p->name ? p->name : "",
		                  "host_port", (int)p->host, "container_port",
		                  (int)(p->container ? p->container : p->host), "listen", p->listen,
		                  "env_var", p->env ? p->env : "", "pool", !p->name);

		if (!e || json_array_append_new(a, e) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *session_lists_json(const struct session *s, json_t *o)
{
	const struct session_opts *op = s->opts;
	char **names = calloc(op->n_env + 1, sizeof(char *)), **mounts = NULL, **hidden = NULL;
	char *const *prot = NULL;
	int r = names ? 0 : -1;

	for (size_t i = 0; names && i < op->n_env; i++)
		names[i] = op->env[i].name;
	for (size_t i = 0; r >= 0 && i < op->n_mounts; i++)
		r = strv_push(&mounts, op->mounts[i].container);
	for (size_t i = 0; r >= 0 && s->hidden && i < s->hidden->n_entries; i++)
		r = strv_push(&hidden, s->hidden->entries[i].rel);
	if (s->plan) {
		prot = calloc(s->plan->n_entries + 1, sizeof(char *));
		for (size_t i = 0; prot && i < s->plan->n_entries; i++)
			((char **)prot)[i] = s->plan->entries[i].rel;
	}
	if (r < 0 || (s->plan && !prot) ||
	    json_object_set_new(o, "forwarded_env_vars", strings_json(names, 0)) < 0 ||
	    json_object_set_new(o, "protected_paths", strings_json(prot, 0)) < 0 ||
	    json_object_set_new(o, "hidden_paths", strings_json(hidden, 0)) < 0 ||
	    json_object_set_new(o, "extra_mounts", strings_json(mounts, 0)) < 0 ||
	    json_object_set_new(o, "published_ports", ports_json(op)) < 0) {
		json_decref(o);
		o = NULL;
	}
	free(names);
	free((void *)prot);
	strv_free(mounts);
	strv_free(hidden);
	return o;
}

/* The allowlist's entries, in allowlist mode (elsewhere nothing is limited to them). */
static json_t *allowlist_json(const struct net_policy *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a && p && p->mode == NET_MODE_ALLOWLIST && i < p->n_allowlist; i++) {
		_cleanup_buf_ struct buf b = BUF_INIT(1024);

		if (net_dest_format(&p->allowlist[i], &b) < 0 ||
		    json_array_append_new(a, json_string(buf_str(&b))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int context_render_json(const struct session *s, struct buf *out)
{
	const struct session_opts *o = s->opts;
	const struct session_limits *l = &o->limits;
	_cleanup_free_ char *text = NULL;
	json_t *j, *net, *domains;
	int r;

	domains = allowlist_json(o->net);
	net = json_pack("{s:s, s:o*}", "mode", net_mode_to_string(session_net_mode(o)),
	                "allowed_domains", domains);
	/* unset limits are "" and 0, as in the original: consumers need no null case */
	j = json_pack("{s:i, s:s, s:s, s:s, s:o, s:b, s:o*, s:{s:s, s:s, s:I, s:s, s:I}}",
	              "schema_version", 1, "container_name", s->name, "tool_name",
	              o->tool ? o->tool : "", "workspace", s->container_workspace, "home_dir",
	              json_sprintf("/home/%s", o->code_user), "persistent", o->persistent,
	              "network", net, "limits", "cpu", l->cpu ? l->cpu : "", "memory",
	              l->memory ? l->memory : "", "processes", (json_int_t)l->processes,
	              "root_disk", l->disk_size ? l->disk_size : "", "tmpfs",
	              (json_int_t)l->tmpfs_size);
	j = j ? session_lists_json(s, j) : NULL;
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	r = buf_puts(out, text);
	return r < 0 ? r : buf_putc(out, '\n');
}

int context_merge_block(const char *existing, const char *block, struct buf *out)
{
	const char *b = existing ? strstr(existing, BLOCK_BEGIN) : NULL;
	const char *e = b ? strstr(b, BLOCK_END) : NULL;
	int r = 0;

	if (b && e) {
		r = buf_append(out, existing, (size_t)(b - existing));
		e += strlen(BLOCK_END);
		if (*e == '\n')
			e++;
	} else if (existing && *existing) {
		r = buf_puts(out, existing);
		if (r >= 0 && existing[strlen(existing) - 1] != '\n')
			r = buf_putc(out, '\n');
		if (r >= 0)
			r = buf_putc(out, '\n');
	}
	if (r >= 0)
		r = buf_printf(out, "%s\n%s%s\n", BLOCK_BEGIN, block, BLOCK_END);
	if (r >= 0 && b && e)
		r = buf_puts(out, e);
	return r;
}

/* Single-quote for sh: ' becomes '\'' */
static int sh_quote(struct buf *b, const char *s)
{
	int r = buf_putc(b, '\'');

	for (; r >= 0 && *s; s++)
		r = *s == '\'' ? buf_puts(b, "'\\''") : buf_putc(b, *s);
	return r < 0 ? r : buf_putc(b, '\'');
}

int context_env_file(const struct session_opts *o, struct buf *out)
{
	int r = buf_puts(out, "# written by coi at every start; sourced by the launcher\n");

	for (size_t i = 0; r >= 0 && i < o->n_env; i++) {
		r = buf_printf(out, "export %s=", o->env[i].name);
		if (r >= 0)
			r = sh_quote(out, o->env[i].value);
		if (r >= 0)
			r = buf_putc(out, '\n');
	}
	return r;
}
