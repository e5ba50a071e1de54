/* SPDX-License-Identifier: MIT */
/* secrets.c: [[secrets]] and the built-in secrets (ARCHITECTURE.md decision 11). An entry says
 * where a credential comes from on the host (env, file and field, or command), which hosts it
 * may go to and how it is sent (header, format, basic_user); where its placeholder goes inside
 * (container_env, container_file, git); and, for an agent's login, how the host renews it
 * (refresh_*). An entry with builtin = NAME starts from the built-in of that name. Values are
 * checked here, each error naming file, line and column; whether a file may set the key at all is
 * the trust filter's (a project file's secrets wait for 'coi trust': they decide where your
 * credentials are sent). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "config/settings.h"
#include "util/error.h"
#include "util/strv.h"

#define SECRET_NAME_MAX 64
#define HOSTS_MAX       16
#define TEXT_MAX        256

static const char *const gh_token[] = {"gh", "auth", "token", NULL};

/* clang-format off */
static const struct config_secret_builtin builtins[] = {
	{ .name = "anthropic", .env = "ANTHROPIC_API_KEY", .hosts = {"api.anthropic.com"},
	  .header = "x-api-key", .container_env = "ANTHROPIC_API_KEY", .prefix = "sk-ant-api03-",
	  .forward_env = {"ANTHROPIC_API_KEY"},
	  .description = "Anthropic API key (Claude Code, opencode): x-api-key to api.anthropic.com" },
	{ .name = "claude", .file = "~/.claude/.credentials.json", .field = "claudeAiOauth.accessToken",
	  .hosts = {"api.anthropic.com"}, .header = "Authorization", .format = "Bearer {}",
	  .container_file = ".claude/.credentials.json", .prefix = "sk-ant-oat01-",
	  .refresh_url = "https://console.anthropic.com/v1/oauth/token",
	  .refresh_client_id = "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
	  .refresh_token_field = "claudeAiOauth.refreshToken", .expires_field = "claudeAiOauth.expiresAt",
	  .tool = "claude",
	  .description = "Claude subscription login (~/.claude/.credentials.json), renewed on the host" },
	{ .name = "openai", .env = "OPENAI_API_KEY", .hosts = {"api.openai.com"},
	  .header = "Authorization", .format = "Bearer {}", .container_env = "OPENAI_API_KEY",
	  .prefix = "sk-proj-", .forward_env = {"OPENAI_API_KEY"},
	  .description = "OpenAI API key (Codex, opencode): Bearer to api.openai.com" },
	{ .name = "codex", .file = "~/.codex/auth.json", .field = "tokens.access_token",
	  .hosts = {"chatgpt.com", "api.openai.com"}, .header = "Authorization", .format = "Bearer {}",
	  .container_file = ".codex/auth.json", .refresh_url = "https://auth.openai.com/oauth/token",
	  .refresh_client_id = "app_EMoamEEZ73f0CkXaXp7hrann", .refresh_token_field = "tokens.refresh_token",
	  .expires_field = "jwt", .tool = "codex",
	  .description = "Codex ChatGPT login (~/.codex/auth.json), renewed on the host" },
	{ .name = "gemini", .env = "GEMINI_API_KEY", .hosts = {"generativelanguage.googleapis.com"},
	  .header = "x-goog-api-key", .container_env = "GEMINI_API_KEY", .prefix = "AIza",
	  .forward_env = {"GEMINI_API_KEY"},
	  .description = "Gemini API key (Gemini CLI): x-goog-api-key" },
	{ .name = "github", .command = gh_token, .hosts = {"github.com", "api.github.com"},
	  .container_env = "GH_TOKEN", .prefix = "gho_", .git = true,
	  .forward_env = {"GH_TOKEN", "GITHUB_TOKEN"},
	  .description = "GitHub token (gh auth token): gh, and git over HTTPS, replaced where it stands" },
	{ .name = NULL },
};
/* clang-format on */

const struct config_secret_builtin *config_secret_builtins(void)
{
	return builtins;
}

const struct config_secret_builtin *config_secret_builtin_find(const char *name)
{
	for (const struct config_secret_builtin *b = builtins; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

void secret_release(void *p)
{
	struct config_secret *s = p;

	free(s->name);
	free(s->builtin);
	free(s->env);
	free(s->file);
	free(s->field);
	strv_free(s->command);
	strv_free(s->hosts);
	free(s->header);
	free(s->format);
	free(s->basic_user);
	free(s->container_env);
	free(s->container_file);
	free(s->placeholder_prefix);
	free(s->refresh_url);
	free(s->refresh_client_id);
	free(s->refresh_token_field);
	free(s->expires_field);
	free(s->origin);
	*s = (struct config_secret){0};
}

void config_secrets_free(struct config_secret *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		secret_release(&s[i]);
	free(s);
}

const char *secret_id(const void *p)
{
	return ((const struct config_secret *)p)->name;
}

/* --- reading an entry --- */

static bool word_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/* A string field of at most TEXT_MAX bytes that passes ok (NULL: any), into *ret (replacing a
 * built-in's value); absent: *ret unchanged. */
static int text(const struct key_entry *e, const char *field, bool (*ok)(const char *),
                const char *what, char **ret, struct coi_error *err)
{
	char *s = NULL;
	int r = key_entry_string(e, field, false, &s, err);

	if (r < 0 || !s)
		return r;
	if (strlen(s) > TEXT_MAX || (ok && !ok(s))) {
		r = key_bad(e->x, e->k, toml_table_get(e->t, field), err,
		            "needs '%s' to be %s, not \"%s\"", field, what, s);
		free(s);
		return r;
	}
	free(*ret);
	*ret = s;
	return 0;
}

static bool name_ok(const char *s)
{
	return word_ok(s, SECRET_NAME_MAX);
}

static bool header_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	return *s && strlen(s) <= 64;
}

static bool format_ok(const char *s)
{
	const char *at = strstr(s, "{}");

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x7f)
			return false;
	return at && !strstr(at + 2, "{}");
}

static bool visible_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ':')
			return false;
	return true;
}

static bool env_ok(const char *s)
{
	return key_env_name_ok(s);
}

static bool dotted_ok(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
			return false;
	return *s != '.' && s[strlen(s) - 1] != '.' && !strstr(s, "..");
}

static bool prefix_ok(const char *s)
{
	return word_ok(s, 32);
}

/* A path under the code user's home: relative, clean, no "..". */
static bool home_rel_ok(const char *s)
{
	if (s[0] == '/' || strstr(s, "//"))
		return false;
	for (const char *p = s; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return false;
	return *s && s[strlen(s) - 1] != '/';
}

static bool https_ok(const char *s)
{
	return strncmp(s, "https://", 8) == 0 && s[8] && visible_ok(s + 8);
}

static int read_hosts(const struct key_entry *e, struct config_secret *s, struct coi_error *err)
{
	const struct toml_value *v = toml_table_get(e->t, "hosts");
	_cleanup_strv_free_ char **hosts = NULL;

	if (!v)
		return 0;
	if (v->type != TOML_ARRAY || v->u.array.n == 0 || v->u.array.n > HOSTS_MAX)
		return key_bad(e->x, e->k, v, err,
		               "needs 'hosts' to be a list of 1 to %d host names", HOSTS_MAX);
	for (size_t i = 0; i < v->u.array.n; i++) {
		const struct toml_value *h = v->u.array.items[i];
		struct config_domain d;
		_cleanup_free_ char *low = NULL;
		bool is_ip;

		if (!key_plain_string(h) || strchr(h->u.str.s, ':') ||
		    config_domain_parse(h->u.str.s, &d, NULL) < 0)
			return key_bad(e->x, e->k, h, err, "has \"%s\" in 'hosts', not a host name",
			               key_plain_string(h) ? h->u.str.s : "");
		is_ip = d.is_ip;
		config_domain_release(&d);
		if (is_ip)
			return key_bad(e->x, e->k, h, err,
			               "has an address in 'hosts' (\"%s\"): the proxy "
			               "answers TLS for names only",
			               h->u.str.s);
		low = strdup(h->u.str.s);
		if (!low)
			return coi_error_oom(err);
		for (char *p = low; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strv_push(&hosts, low) < 0)
			return coi_error_oom(err);
	}
	strv_free(s->hosts);
	s->hosts = TAKE_PTR(hosts);
	return 0;
}

static int read_command(const struct key_entry *e, char ***ret, struct coi_error *err)
{
	const struct toml_value *v = toml_table_get(e->t, "command");
	_cleanup_strv_free_ char **argv = NULL;

	if (v->type != TOML_ARRAY || v->u.array.n == 0 || v->u.array.n > 64)
		return key_bad(e->x, e->k, v, err,
		               "needs 'command' to be a list of strings, the program first "
		               "(run without a shell)");
	for (size_t i = 0; i < v->u.array.n; i++) {
		const struct toml_value *a = v->u.array.items[i];

		if (!key_plain_string(a) || (i == 0 && !*a->u.str.s))
			return key_bad(e->x, e->k, a, err, "needs 'command' to hold strings");
		if (strv_push(&argv, a->u.str.s) < 0)
			return coi_error_oom(err);
	}
	*ret = TAKE_PTR(argv);
	return 0;
}

/* The source the entry gives (at most one), replacing a built-in's. */
static int read_source(const struct key_entry *e, struct config_secret *s, struct coi_error *err)
{
	const char *given[3] = {"env", "file", "command"};
	unsigned n = 0;
	int r = 0;

	for (size_t i = 0; i < 3; i++)
		n += toml_table_get(e->t, given[i]) != NULL;
	if (n > 1)
		return key_bad(e->x, e->k, e->t, err,
		               "takes one source: 'env', 'file' or 'command'");
	if (toml_table_get(e->t, "field") && !toml_table_get(e->t, "file") && !s->file)
		return key_bad(e->x, e->k, toml_table_get(e->t, "field"), err,
		               "has 'field' without 'file'");
	if (n == 1) {
		free(s->env);
		free(s->file);
		strv_free(s->command);
		s->env = s->file = NULL;
		s->command = NULL;
		if (toml_table_get(e->t, "env") || toml_table_get(e->t, "command")) {
			free(s->field);
			s->field = NULL;
		}
	}
	if (toml_table_get(e->t, "env"))
		r = text(e, "env", env_ok, "a variable name", &s->env, err);
	else if (toml_table_get(e->t, "file"))
		r = key_entry_host_path(e, "file", 4095, &s->file, err);
	else if (toml_table_get(e->t, "command"))
		r = read_command(e, &s->command, err);
	if (r >= 0)
		r = text(e, "field", dotted_ok, "a dotted path of JSON keys", &s->field, err);
	return r;
}

/* A built-in's fields, as the start of an entry. */
static int from_builtin(const struct config_secret_builtin *b, struct config_secret *s)
{
	const char *const *src[] = {&b->env,
	                            &b->file,
	                            &b->field,
	                            &b->header,
	                            &b->format,
	                            &b->basic_user,
	                            &b->container_env,
	                            &b->container_file,
	                            &b->prefix,
	                            &b->refresh_url,
	                            &b->refresh_client_id,
	                            &b->refresh_token_field,
	                            &b->expires_field};
	char **dst[] = {&s->env,
	                &s->file,
	                &s->field,
	                &s->header,
	                &s->format,
	                &s->basic_user,
	                &s->container_env,
	                &s->container_file,
	                &s->placeholder_prefix,
	                &s->refresh_url,
	                &s->refresh_client_id,
	                &s->refresh_token_field,
	                &s->expires_field};

	for (size_t i = 0; i < ELEMENTSOF(src); i++)
		if (*src[i] && !(*dst[i] = strdup(*src[i])))
			return -ENOMEM;
	if (s->file && key_expand_home(&s->file) < 0)
		return -ENOMEM;
	for (size_t i = 0; b->command && b->command[i]; i++)
		if (strv_push(&s->command, b->command[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(b->hosts) && b->hosts[i]; i++)
		if (strv_push(&s->hosts, b->hosts[i]) < 0)
			return -ENOMEM;
	s->builtin = strdup(b->name);
	s->name = strdup(b->name);
	s->git = b->git;
	return s->builtin && s->name ? 0 : -ENOMEM;
}

static int read_forms(const struct key_entry *e, struct config_secret *s, struct coi_error *err)
{
	const struct toml_value *g = toml_table_get(e->t, "git");
	int r = read_hosts(e, s, err);

	if (r >= 0)
		r = text(e, "header", header_ok, "a header name", &s->header, err);
	if (r >= 0)
		r = text(e, "format", format_ok, "a text with one {} where the value goes",
		         &s->format, err);
	if (r >= 0)
		r = text(e, "basic_user", visible_ok, "a user name without ':' or spaces",
		         &s->basic_user, err);
	if (r >= 0)
		r = text(e, "container_env", env_ok, "a variable name", &s->container_env, err);
	if (r >= 0)
		r = text(e, "container_file", home_rel_ok,
		         "a path relative to the code user's home, without \"..\"",
		         &s->container_file, err);
	if (r >= 0)
		r = text(e, "placeholder_prefix", prefix_ok,
		         "letters, digits, '-' and '_' (at most 32)", &s->placeholder_prefix, err);
	if (r >= 0)
		r = text(e, "refresh_url", https_ok, "an https:// URL", &s->refresh_url, err);
	if (r >= 0)
		r = text(e, "refresh_client_id", visible_ok, "printable, without spaces",
		         &s->refresh_client_id, err);
	if (r >= 0)
		r = text(e, "refresh_token_field", dotted_ok, "a dotted path of JSON keys",
		         &s->refresh_token_field, err);
	if (r >= 0)
		r = text(e, "expires_field", dotted_ok, "a dotted path of JSON keys, or \"jwt\"",
		         &s->expires_field, err);
	if (r >= 0 && g && g->type != TOML_BOOL)
		r = key_bad(e->x, e->k, g, err, "needs 'git' to be true or false");
	if (r >= 0 && g)
		s->git = g->u.b;
	return r;
}

/* What an entry must hold once read: a source, hosts, and the pieces each use needs. */
static int check_whole(const struct key_entry *e, const struct config_secret *s,
                       struct coi_error *err)
{
	const char *what = NULL;

	if (!s->env && !s->file && !s->command)
		what = "a source: 'env', 'file' (with 'field' for a JSON file) or 'command'";
	else if (!s->hosts)
		what = "'hosts', the hosts its value may be sent to";
	else if (s->basic_user && !s->header)
		what = "'header' with 'basic_user'";
	else if (s->container_file && !s->file)
		what = "a 'file' source with 'container_file'";
	else if (s->refresh_url && (!s->file || !s->refresh_token_field || !s->field))
		what = "'file', 'field' and 'refresh_token_field' with 'refresh_url'";
	else if (!s->container_env && !s->container_file && !s->git)
		what = "a place for the placeholder: 'container_env', 'container_file' or 'git'";
	return what ? key_bad(e->x, e->k, e->t, err, "needs %s (secret \"%s\")", what, s->name) : 0;
}

int secret_read(const struct key_entry *e, void *p, struct coi_error *err)
{
	struct config_secret *s = p;
	const struct toml_value *b = toml_table_get(e->t, "builtin");
	int r = key_entry_known(
	        e,
	        "name|builtin|env|file|field|command|hosts|header|format|basic_user|"
	        "container_env|container_file|placeholder_prefix|refresh_url|"
	        "refresh_client_id|refresh_token_field|expires_field|git",
	        err);

	if (r < 0)
		return r;
	if (b) {
		const struct config_secret_builtin *def =
		        key_plain_string(b) ? config_secret_builtin_find(b->u.str.s) : NULL;

		if (!def)
			return key_bad(
			        e->x, e->k, b, err,
			        "names an unknown built-in \"%s\" (coi has: anthropic, claude, "
			        "openai, codex, gemini, github)",
			        key_plain_string(b) ? b->u.str.s : "");
		if (from_builtin(def, s) < 0)
			return coi_error_oom(err);
	}
	r = text(e, "name", name_ok, "letters, digits, '-' and '_' (at most 64)", &s->name, err);
	if (r >= 0 && !s->name)
		r = key_bad(e->x, e->k, e->t, err, "needs 'name' (or 'builtin')");
	if (r >= 0)
		r = read_source(e, s, err);
	if (r >= 0)
		r = read_forms(e, s, err);
	if (r >= 0)
		r = check_whole(e, s, err);
	if (r >= 0 && asprintf(&s->origin, "%s:%u", e->x->file, e->t->line) < 0)
		r = coi_error_oom(err);
	return r;
}

json_t *secret_to_json(const void *p)
{
	const struct config_secret *s = p;
	const char *keys[] = {"name",
	                      "builtin",
	                      "env",
	                      "file",
	                      "field",
	                      "header",
	                      "format",
	                      "basic_user",
	                      "container_env",
	                      "container_file",
	                      "placeholder_prefix",
	                      "refresh_url",
	                      "refresh_client_id",
	                      "refresh_token_field",
	                      "expires_field"};
	const char *vals[] = {s->name,
	                      s->builtin,
	                      s->env,
	                      s->file,
	                      s->field,
	                      s->header,
	                      s->format,
	                      s->basic_user,
	                      s->container_env,
	                      s->container_file,
	                      s->placeholder_prefix,
	                      s->refresh_url,
	                      s->refresh_client_id,
	                      s->refresh_token_field,
	                      s->expires_field};
	json_t *j = json_object(), *a;

	for (size_t i = 0; j && i < ELEMENTSOF(keys); i++)
		if (vals[i] && json_object_set_new(j, keys[i], json_string(vals[i])) < 0)
			return json_decref(j), NULL;
	for (size_t k = 0; j && k < 2; k++) {
		char **l = k ? s->command : s->hosts;

		if (!l)
			continue;
		a = json_array();
		strv_foreach(h, l)
			if (!a || json_array_append_new(a, json_string(*h)) < 0)
				return json_decref(a), json_decref(j), NULL;
		if (json_object_set_new(j, k ? "command" : "hosts", a) < 0)
			return json_decref(j), NULL;
	}
	if (j && s->git && json_object_set_new(j, "git", json_true()) < 0)
		return json_decref(j), NULL;
	return j;
}

/* --- the secrets in effect --- */

static int copy_secret(const struct config_secret *in, struct config_secret *out)
{
	char *const *src[] = {&in->name,
	                      &in->builtin,
	                      &in->env,
	                      &in->file,
	                      &in->field,
	                      &in->header,
	                      &in->format,
	                      &in->basic_user,
	                      &in->container_env,
	                      &in->container_file,
	                      &in->placeholder_prefix,
	                      &in->refresh_url,
	                      &in->refresh_client_id,
	                      &in->refresh_token_field,
	                      &in->expires_field,
	                      &in->origin};
	char **dst[] = {&out->name,
	                &out->builtin,
	                &out->env,
	                &out->file,
	                &out->field,
	                &out->header,
	                &out->format,
	                &out->basic_user,
	                &out->container_env,
	                &out->container_file,
	                &out->placeholder_prefix,
	                &out->refresh_url,
	                &out->refresh_client_id,
	                &out->refresh_token_field,
	                &out->expires_field,
	                &out->origin};

	*out = (struct config_secret){.git = in->git};
	for (size_t i = 0; i < ELEMENTSOF(src); i++)
		if (*src[i] && !(*dst[i] = strdup(*src[i])))
			return -ENOMEM;
	if ((in->command && !(out->command = strv_copy(in->command))) ||
	    (in->hosts && !(out->hosts = strv_copy(in->hosts))))
		return -ENOMEM;
	return 0;
}

static bool named(const struct config_secret *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return true;
	return false;
}

/* Does the configuration bring the login of tool in (copy_credentials, a bundle)? */
static bool login_copied(const struct coi_config *c, const char *tool)
{
	if (c->tool.copy_credentials && c->tool.name && strcmp(c->tool.name, tool) == 0)
		return true;
	for (size_t i = 0; i < c->n_credentials; i++)
		if (c->credentials[i].bundle && strcmp(c->credentials[i].bundle, tool) == 0)
			return true;
	return false;
}

/* A built-in the configuration implies: which forward_env name (or the login) brings it. */
static const char *implied_by(const struct coi_config *c, const struct config_secret_builtin *b,
                              bool *login)
{
	for (size_t i = 0; i < ELEMENTSOF(b->forward_env) && b->forward_env[i]; i++)
		if (strv_contains(c->defaults.forward_env, b->forward_env[i]))
			return b->forward_env[i];
	if (b->tool && login_copied(c, b->tool)) {
		*login = true;
		return b->tool;
	}
	return NULL;
}

static int add_implied(const struct coi_config *c, const struct config_secret_builtin *b,
                       const char *by, struct config_secret *out)
{
	int r = from_builtin(b, out);

	if (r >= 0 && b->forward_env[0] && strv_contains(c->defaults.forward_env, by) &&
	    strcmp(by, b->env ? b->env : "") != 0) {
		/* forward_env = ["GITHUB_TOKEN"]: the value comes from that variable */
		strv_free(out->command);
		out->command = NULL;
		free(out->env);
		out->env = strdup(by);
		r = out->env ? 0 : -ENOMEM;
	}
	if (r >= 0 && asprintf(&out->origin, "implied by %s", by) < 0)
		r = -ENOMEM;
	return r;
}

int config_secrets_effective(const struct coi_config *c, struct config_secret **ret, size_t *ret_n,
                             char ***ret_env, bool *ret_login, struct coi_error *err)
{
	size_t max = c->n_secrets + ELEMENTSOF(builtins), n = 0;
	struct config_secret *a = calloc(max, sizeof(*a));
	_cleanup_strv_free_ char **env = NULL;
	bool login = false;
	int r = a ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < c->n_secrets; i++)
		r = copy_secret(&c->secrets[i], &a[n++]);
	for (const struct config_secret_builtin *b = builtins;
	     r >= 0 && c->security.secrets_on_host && b->name; b++) {
		bool is_login = false;
		const char *by = implied_by(c, b, &is_login);

		if (!by)
			continue;
		if (!is_login && strv_push(&env, by) < 0)
			r = -ENOMEM;
		login = login || is_login;
		if (r >= 0 && !named(a, n, b->name))
			r = add_implied(c, b, by, &a[n++]);
	}
	/* [[secrets]] naming a forward_env variable as its source takes it over too */
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (a[i].env && strv_contains(c->defaults.forward_env, a[i].env) &&
		    !strv_contains(env, a[i].env) && strv_push(&env, a[i].env) < 0)
			r = -ENOMEM;
	if (r < 0) {
		config_secrets_free(a, n);
		return coi_error_oom(err);
	}
	*ret = a;
	*ret_n = n;
	*ret_env = TAKE_PTR(env);
	*ret_login = login;
	return 0;
}
