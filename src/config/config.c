/* SPDX-License-Identifier: MIT */
/* config.c: the layers. Defaults come from the key table's TOML text; each file is parsed whole,
 * then walked key by key: a known key is set (a wrong type is an error), an unknown one is a
 * warning with a suggestion. In an untrusted file (a project's, not approved with 'coi trust')
 * keys that would weaken isolation are dropped with a warning first. A validation pass runs last.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/keys.h"
#include "config/toml.h"
#include "config/trust.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hostname.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/suggest.h"

#define CONFIG_FILE_MAX   (1 << 20)
#define PROFILE_DEPTH_MAX 10

/* The built-in profiles besides "default" (which adds nothing). hardened: the restricted network
 * with no SSH agent and no Docker; the smaller kernel surface; secrets hidden (keys, dotenv files,
 * package registry and git credentials); the monitor with nftables logging of every new
 * connection; sessions ended after 4 hours. tests/e2e/85-hardened.t attacks a session under it. */
static const char hardened_profile[] =
        "[network]\n"
        "mode = \"restricted\"\n"
        "[ssh]\n"
        "forward_agent = false\n"
        "[container]\n"
        "docker = false\n"
        "[security]\n"
        "reduce_kernel_surface = true\n"
        "secret_paths = [\".env\", \".env.*\", \"*.pem\", \"*.key\", \"*.p12\", \"*.pfx\", "
        "\"id_rsa\", \"id_ecdsa\", \"id_ed25519\", \".npmrc\", \".pypirc\", \".netrc\", "
        "\".git-credentials\", \".aws/\", \".docker/config.json\"]\n"
        "[monitoring]\n"
        "enabled = true\n"
        "[monitoring.nft]\n"
        "enabled = true\n"
        "[limits.runtime]\n"
        "max_duration = \"4h\"\n";

/* Keys (and sections) of the original that coi reads and does not act on: the loader names each
 * with its place and why, and no table shows them as in effect. */
static const struct config_unsupported unsupported[] = {
        {"defaults.model", NULL},
        {"monitoring.nft.lima_host", "coi runs nft where Incus runs, not in a Lima VM"},
        {"container.alias", "containers are named by workspace and slot (coi list shows them)"},
        {"container.build.cloud_init", "coi's image has no cloud-init to keep"},
        {"incus.disable_shift", "coi never shifts: it maps your user with raw.idmap, or, for root, "
                                "an idmapped mount"},
        {"paths.sessions_dir", "coi keeps its files under ~/.coi ($COI_HOME moves it)"},
        {"paths.storage_dir", "coi keeps its files under ~/.coi ($COI_HOME moves it)"},
        {"paths.logs_dir", "coi keeps its files under ~/.coi ($COI_HOME moves it)"},
        {"network.logging", "network events go to the monitor's audit log ([monitoring])"},
        {"network.refresh_interval_minutes",
         "coi resolves allowed names when the container asks for them: there is nothing to "
         "refresh"},
};

struct layer {
	const char *file;      /* as shown to the user */
	const char *workspace; /* absolute */
	const char *dir;       /* absolute directory of the file (NULL: built-in text) */
	bool project;          /* a project file, approved or not */
	bool untrusted;        /* a project file that is not approved */
	bool profile;      /* profile files also take inherits, forward_env, [environment], ... */
	bool tighten_only; /* the built-in hardened profile: a limit only where it is tighter */
	char ***warnings;
	char **inherits; /* set from a profile's 'inherits' */
};

#define warn(l, ...) strv_pushf((l)->warnings, __VA_ARGS__)

/* --- Enums --- */

#define ENUM_STRINGS(name, type, max, ...)                                   \
	const char *name##_to_string(type v)                                 \
	{                                                                    \
		static const char *const names[] = {__VA_ARGS__};            \
		return (int)v >= 0 && (int)v < (max) ? names[v] : "invalid"; \
	}                                                                    \
	type name##_from_string(const char *s)                               \
	{                                                                    \
		static const char *const names[] = {__VA_ARGS__};            \
		for (int i = 0; s && i < (max); i++)                         \
			if (strcmp(names[i], s) == 0)                        \
				return (type)i;                              \
		return (type)-EINVAL;                                        \
	}

ENUM_STRINGS(permission_mode, enum permission_mode, _PERMISSION_MODE_MAX, "bypass", "interactive")
ENUM_STRINGS(tz_mode, enum tz_mode, _TZ_MODE_MAX, "host", "fixed", "utc")
ENUM_STRINGS(one_liner_action, enum one_liner_action, _ONE_LINER_MAX, "critical", "warn", "off")

/* --- Lifetime and defaults --- */

struct coi_config *config_free(struct coi_config *c)
{
	size_t n;

	if (!c)
		return NULL;
	config_keys(&n);
	for (size_t i = 0; i < n; i++) {
		key_free(c, i);
		if (c->origins)
			free(c->origins[i]);
	}
	free(c->origins);
	free(c->profile);
	free(c);
	return NULL;
}
DEFINE_CLEANUP(struct coi_config *, config_free)

static struct toml_value *toml_freep_helper(struct toml_value *v)
{
	return toml_free(v);
}
DEFINE_CLEANUP(struct toml_value *, toml_freep_helper)
#define _cleanup_toml_ _cleanup_(toml_freep_helperp)

int config_new_default(struct coi_config **ret, struct coi_error *err)
{
	_cleanup_(config_freep) struct coi_config *c = calloc(1, sizeof(*c));
	const struct config_key *keys;
	struct key_ctx x = {.file = "<defaults>"};
	size_t n;

	keys = config_keys(&n);
	if (!c || !(c->origins = calloc(n, sizeof(char *))))
		return coi_error_oom(err);
	for (size_t i = 0; i < n; i++) {
		_cleanup_toml_ struct toml_value *doc = NULL;
		_cleanup_free_ char *text = NULL;
		int r;

		if (!keys[i].def && keys[i].type == CONFIG_INT)
			*(int *)((char *)c + keys[i].offset) = -1; /* unset */
		if (!keys[i].def)
			continue;
		if (asprintf(&text, "v = %s", keys[i].def) < 0)
			return coi_error_oom(err);
		r = toml_parse(text, strlen(text), "<defaults>", NULL, &doc, err);
		if (r >= 0)
			r = key_set(c, i, toml_table_get(doc, "v"), &x, err);
		if (r < 0)
			return coi_error_prefix(err, "default of '%s'", keys[i].name);
	}
	*ret = TAKE_PTR(c);
	return 0;
}

/* --- Walking a document --- */

static bool has_prefix_key(const char *prefix)
{
	const struct config_key *keys;
	size_t n, len = strlen(prefix);

	keys = config_keys(&n);
	for (size_t i = 0; i < n; i++)
		if (strncmp(keys[i].name, prefix, len) == 0 && keys[i].name[len] == '.')
			return true;
	return false;
}

static ssize_t key_index(const char *name)
{
	const struct config_key *keys;
	size_t n;

	keys = config_keys(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static int apply_key(struct coi_config *c, size_t i, const struct toml_value *v, struct layer *l,
                     struct coi_error *err)
{
	const struct config_key *k = &config_keys(&(size_t){0})[i];
	struct key_ctx x = {
	        .file = l->file, .workspace = l->workspace, .dir = l->dir, .project = l->project};
	char *origin;
	int r;

	if (l->tighten_only && k->weak && strcmp(k->weak, "limit") == 0) {
		/* "hardened" means at least this strict: a tighter limit the user set stays */
		r = key_weakens(c, i, v, &x, err);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	if (l->untrusted) {
		r = key_weakens(c, i, v, &x, err);
		if (r < 0)
			return r;
		/* the project's own file is what a bare 'coi trust' approves; a profile is named */
		bool plain = strcmp(path_basename(l->file), "config.toml") == 0 &&
		             strstr(l->file, "/.coi/profiles/") == NULL;

		if (r > 0)
			return warn(l,
			            "%s:%u: ignoring '%s': %s and this project file is not "
			            "approved (review it, then run 'coi trust%s%s')",
			            l->file, v->line, k->name,
			            k->why ? k->why : "it would weaken isolation", plain ? "" : " ",
			            plain ? "" : l->file);
	}
	r = key_set(c, i, v, &x, err);
	if (r < 0)
		return r;
	if (asprintf(&origin, "%s:%u", l->file, v->line) < 0)
		return coi_error_oom(err);
	free(c->origins[i]);
	c->origins[i] = origin;
	return 0;
}

/* Profile files name some keys at the top level. */
static const char *profile_alias(const char *key)
{
	static const char *const aliases[][2] = {
	        {"forward_env", "defaults.forward_env"},
	        {"environment", "defaults.environment"},
	        {"env_commands", "defaults.env_commands"},
	        {"env_command_timeout", "defaults.env_command_timeout"},
	};

	for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
		if (strcmp(key, aliases[i][0]) == 0)
			return aliases[i][1];
	return NULL;
}

static int profile_key(const char *key, const struct toml_value *v, struct layer *l,
                       struct coi_error *err)
{
	char **slot = l->inherits;

	/* the original appends a profile's context to the sandbox context; coi does not yet */
	if (strcmp(key, "context") == 0)
		return warn(l,
		            "%s:%u: 'context' is not supported by coi yet (a profile's context is "
		            "not added to ~/SANDBOX_CONTEXT.md; [tool] context_file replaces that "
		            "file), ignoring",
		            l->file, v->line);
	if (v->type != TOML_STRING || strlen(v->u.str.s) != v->u.str.len)
		return coi_error_set(err, -EINVAL, "%s:%u:%u: '%s' must be a string", l->file,
		                     v->line, v->col, key);
	if (!slot)
		return 0;
	free(*slot);
	*slot = strdup(v->u.str.s);
	return *slot ? 0 : coi_error_oom(err);
}

const struct config_unsupported *config_unsupported_keys(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(unsupported);
	return unsupported;
}

/* The entry of unsupported[] name falls under, or -1. */
static int unsupported_index(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(unsupported); i++) {
		size_t n = strlen(unsupported[i].name);

		if (strncmp(name, unsupported[i].name, n) == 0 &&
		    (name[n] == '\0' || name[n] == '.'))
			return (int)i;
	}
	return -1;
}

/* Depth: at most one level per dot of the longest key name. */
static int apply_table(struct coi_config *c, const struct toml_value *t, const char *prefix,
                       struct layer *l, struct coi_error *err)
{
	for (size_t i = 0; i < t->u.table.n; i++) {
		const struct toml_kv *kv = &t->u.table.items[i];
		const struct toml_value *v = kv->value;
		_cleanup_free_ char *name = NULL;
		const char *alias = NULL, *hint;
		ssize_t idx;
		int r = 0, u;

		if (!prefix && l->profile &&
		    (strcmp(kv->key, "inherits") == 0 || strcmp(kv->key, "context") == 0)) {
			r = profile_key(kv->key, v, l, err);
			if (r < 0)
				return r;
			continue;
		}
		if (!prefix && l->profile)
			alias = profile_alias(kv->key);
		if (!prefix && strcmp(kv->key, "mounts") == 0 && v->type == TOML_ARRAY)
			alias = "mounts.default"; /* the flat [[mounts]] form */
		if (alias)
			name = strdup(alias);
		else if (asprintf(&name, "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
		                  kv->key) < 0)
			name = NULL;
		if (!name)
			return coi_error_oom(err);

		idx = key_index(name);
		if (idx >= 0)
			r = apply_key(c, (size_t)idx, v, l, err);
		else if (v->type == TOML_TABLE && has_prefix_key(name))
			r = apply_table(c, v, name, l, err);
		else if ((u = unsupported_index(name)) >= 0 && !unsupported[u].why)
			r = warn(l, "%s:%u: '%s' is not supported by coi yet, ignoring", l->file,
			         v->line, name);
		else if (u >= 0)
			r = warn(l, "%s:%u: '%s' is not supported by coi (%s), ignoring", l->file,
			         v->line, name, unsupported[u].why);
		else if ((hint = key_suggest(name)))
			r = warn(l, "%s:%u: unknown key '%s', ignoring (did you mean '%s'?)",
			         l->file, v->line, name, hint);
		else
			r = warn(l, "%s:%u: unknown key '%s', ignoring", l->file, v->line, name);
		if (r < 0)
			return r == -ENOMEM ? coi_error_oom(err) : r;
	}
	return 0;
}

/* --- Files --- */

/* "~/..." for paths under the home directory, for messages and origins. */
static char *display_path(const char *path)
{
	const char *home = home_dir();
	size_t n = strlen(home);
	char *s;

	if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/')
		return asprintf(&s, "~%s", path + n) < 0 ? NULL : s;
	return strdup(path);
}

/* Parse and apply one file (or built-in text when data is given). */
static int apply_file(struct coi_config *c, const char *path, const char *data, struct layer *l,
                      struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(CONFIG_FILE_MAX);
	_cleanup_toml_ struct toml_value *doc = NULL;
	_cleanup_free_ char *shown = NULL, *dir = NULL;
	char *slash;
	int r;

	if (!data) {
		r = read_file(path, &b, err);
		if (r < 0)
			return r;
		r = path_absolute(path, &dir, err);
		if (r < 0)
			return r;
		/* "/a/config.toml" -> "/a", "/config.toml" -> "/" */
		slash = strrchr(dir, '/');
		slash[slash == dir] = '\0';
		if (l->untrusted) {
			_cleanup_free_ char *abs = realpath(path, NULL);

			if (abs && trust_check(abs, b.data, b.len) > 0)
				l->untrusted = false;
		}
	}
	shown = display_path(path);
	if (!shown)
		return coi_error_oom(err);
	l->file = shown;
	l->dir = dir;
	r = toml_parse(data ? data : b.data, data ? strlen(data) : b.len, shown, NULL, &doc, err);
	if (r >= 0)
		r = apply_table(c, doc, NULL, l, err);
	l->file = NULL;
	l->dir = NULL;
	return r;
}

static bool file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static bool profile_name_ok(const char *s)
{
	return *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	               strlen(s);
}

/* Where profile NAME lives: *ret_path (NULL for a built-in), *ret_untrusted. */
static int profile_find(const char *name, const char *workspace, char **ret_path,
                        bool *ret_untrusted, struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir(), *user = NULL, *proj = NULL;
	bool u, p;

	if (!profile_name_ok(name))
		return coi_error_set(err, -EINVAL, "invalid profile name '%s'", name);
	if (!dir || asprintf(&user, "%s/profiles/%s/config.toml", dir, name) < 0 ||
	    asprintf(&proj, "%s/.coi/profiles/%s/config.toml", workspace, name) < 0)
		return coi_error_oom(err);
	u = file_exists(user);
	p = file_exists(proj);
	if (u && p)
		return coi_error_set(
		        err, -EEXIST,
		        "profile '%s' is defined twice, in '%s' and in '%s'; remove one", name,
		        user, proj);
	if (!u && !p && strcmp(name, "default") != 0 && strcmp(name, "hardened") != 0)
		return coi_error_set(err, -ENOENT, "no profile '%s' (looked in '%s' and '%s')",
		                     name, user, proj);
	*ret_untrusted = p;
	*ret_path = u ? TAKE_PTR(user) : p ? TAKE_PTR(proj) : NULL;
	return 0;
}

int config_profile_find(const char *name, const char *workspace, char **ret_path, bool *ret_project,
                        struct coi_error *err)
{
	return profile_find(name, workspace, ret_path, ret_project, err);
}

int config_profile_path(const char *name, const char *workspace, bool project, char **ret,
                        struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir();
	int r;

	if (!profile_name_ok(name))
		return coi_error_set(err, -EINVAL,
		                     "invalid profile name '%s' (letters, digits, '_', '.', '-')",
		                     name);
	if (project)
		r = asprintf(ret, "%s/.coi/profiles/%s/config.toml", workspace, name);
	else
		r = dir ? asprintf(ret, "%s/profiles/%s/config.toml", dir, name) : -1;
	return r < 0 ? coi_error_oom(err) : 0;
}

const char *const config_builtin_profiles[] = {"default", "hardened", NULL};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the profiles in dir (a directory per profile, with its config.toml), sorted. */
static int profile_dir_names(const char *dir, char ***names)
{
	_cleanup_strv_free_ char **found = NULL;
	DIR *d = opendir(dir);

	for (struct dirent *e; d && (e = readdir(d));) {
		_cleanup_free_ char *p = NULL;

		if (!profile_name_ok(e->d_name) ||
		    asprintf(&p, "%s/%s/config.toml", dir, e->d_name) < 0 || !file_exists(p))
			continue;
		if (strv_push(&found, e->d_name) < 0) {
			closedir(d);
			return -ENOMEM;
		}
	}
	if (d)
		closedir(d);
	if (found)
		qsort(found, strv_length(found), sizeof(*found), cmp_names);
	strv_foreach(n, found)
		if (!strv_contains(*names, *n) && strv_push(names, *n) < 0)
			return -ENOMEM;
	return 0;
}

int config_profile_names(const char *workspace, char ***ret)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *dir = coi_dir(), *user = NULL, *proj = NULL;

	for (size_t i = 0; config_builtin_profiles[i]; i++)
		if (strv_push(&names, config_builtin_profiles[i]) < 0)
			return -ENOMEM;
	if (!dir || asprintf(&user, "%s/profiles", dir) < 0 ||
	    asprintf(&proj, "%s/.coi/profiles", workspace) < 0 ||
	    profile_dir_names(user, &names) < 0 || profile_dir_names(proj, &names) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(names);
	return 0;
}

const char *config_builtin_profile(const char *name)
{
	if (strcmp(name, "default") == 0)
		return "";
	return strcmp(name, "hardened") == 0 ? hardened_profile : NULL;
}

/* The profile and its ancestors (inherits), nearest first, at most PROFILE_DEPTH_MAX. */
static int profile_chain(const char *name, const char *workspace, char ***ret,
                         struct coi_error *err)
{
	_cleanup_strv_free_ char **chain = NULL;
	_cleanup_free_ char *cur = strdup(name);

	if (!cur)
		return coi_error_oom(err);
	while (cur) {
		_cleanup_(config_freep) struct coi_config *probe = NULL;
		_cleanup_strv_free_ char **w = NULL;
		_cleanup_free_ char *path = NULL;
		char *parent = NULL;
		struct layer l = {.workspace = workspace,
		                  .profile = true,
		                  .warnings = &w,
		                  .inherits = &parent};
		bool untrusted;
		int r;

		if (strv_contains(chain, cur))
			return coi_error_set(err, -ELOOP, "profile '%s' inherits from itself", cur);
		if (strv_length(chain) >= PROFILE_DEPTH_MAX)
			return coi_error_set(err, -ELOOP,
			                     "profile '%s': more than %d levels of inherits", name,
			                     PROFILE_DEPTH_MAX);
		r = profile_find(cur, workspace, &path, &untrusted, err);
		if (r < 0)
			return r;
		if (strv_consume(&chain, TAKE_PTR(cur)) < 0)
			return coi_error_oom(err);
		if (!path)
			break;
		r = config_new_default(&probe, err);
		if (r >= 0)
			r = apply_file(probe, path, NULL, &l, err);
		if (r < 0) {
			free(parent);
			return r;
		}
		cur = parent;
	}
	*ret = TAKE_PTR(chain);
	return 0;
}

/* Apply profile NAME after its ancestors. */
static int apply_profile(struct coi_config *c, const char *name, const struct layer *base,
                         bool trust_all, struct coi_error *err)
{
	_cleanup_strv_free_ char **chain = NULL;
	int r = profile_chain(name, base->workspace, &chain, err);

	if (r < 0)
		return r;
	for (size_t i = strv_length(chain); i-- > 0;) {
		_cleanup_free_ char *path = NULL, *parent = NULL;
		struct layer l = {.workspace = base->workspace,
		                  .profile = true,
		                  .warnings = base->warnings,
		                  .inherits = &parent};
		bool untrusted;

		r = profile_find(chain[i], base->workspace, &path, &untrusted, err);
		if (r < 0)
			return r;
		l.project = untrusted;
		l.untrusted = untrusted && !trust_all;
		if (path)
			r = apply_file(c, path, NULL, &l, err);
		else if (strcmp(chain[i], "hardened") == 0) {
			l.tighten_only = true;
			r = apply_file(c, "<built-in profile hardened>", hardened_profile, &l, err);
		}
		if (r < 0)
			return r;
	}
	free(c->profile);
	c->profile = strdup(name);
	return c->profile ? 0 : coi_error_oom(err);
}

/* --- Validation and loading --- */

/* Keys that hold host paths: "~/.coi/..." follows coi_dir() ($COI_HOME in tests), "~/..." $HOME. */
static const char *const path_keys[] = {
        "incus.client_cert",   "incus.client_key",       "incus.server_cert",
        "tool.context_file",   "tool.context_json_file", "detection.gtfobins_dir",
        "detection.sigma_dir", "monitoring.metrics_dir",
};

static int finalize(struct coi_config *c, struct coi_error *err)
{
	for (size_t i = 0; i < ELEMENTSOF(path_keys); i++) {
		const struct config_key *k = config_key_find(path_keys[i]);

		if (key_expand_home((char **)((char *)c + k->offset)) < 0)
			return coi_error_oom(err);
	}
	if (c->timezone.mode == TZ_MODE_FIXED && !c->timezone.name)
		return coi_error_set(
		        err, -EINVAL,
		        "'timezone.name' is required when 'timezone.mode' is \"fixed\"");
	return 0;
}

static int user_layer(struct coi_config *c, const struct config_load_opts *o, struct layer *l,
                      struct coi_error *err)
{
	_cleanup_free_ char *path = NULL, *dir = NULL, *old = NULL;
	const char *env = secure_getenv("COI_CONFIG");

	if (o->user_file || (env && *env)) {
		path = strdup(o->user_file ? o->user_file : env);
		if (!path)
			return coi_error_oom(err);
		return apply_file(c, path, NULL, l, err);
	}
	dir = coi_dir();
	path = dir ? path_join(dir, "config.toml") : NULL;
	old = path_join(home_dir(), ".config/coi/config.toml");
	if (!path || !old)
		return coi_error_oom(err);
	if (file_exists(path))
		return apply_file(c, path, NULL, l, err);
	if (file_exists(old) && warn(l, "'%s' is no longer read; move it to '%s'", old, path) < 0)
		return coi_error_oom(err);
	return 0;
}

static int project_layer(struct coi_config *c, bool trust_all, struct layer *l,
                         struct coi_error *err)
{
	_cleanup_free_ char *legacy = path_join(l->workspace, ".coi.toml");
	_cleanup_free_ char *path = path_join(l->workspace, ".coi/config.toml");

	if (!legacy || !path)
		return coi_error_oom(err);
	if (file_exists(legacy))
		return coi_error_set(
		        err, -EINVAL,
		        "'%s' is a legacy config file, which coi no longer reads; migrate "
		        "it with: mkdir -p .coi && mv .coi.toml .coi/config.toml",
		        legacy);
	if (!file_exists(path))
		return 0;
	l->project = true;
	l->untrusted = !trust_all;
	return apply_file(c, path, NULL, l, err);
}

int config_load(const struct config_load_opts *o, struct coi_config **ret, char ***ret_warnings,
                struct coi_error *err)
{
	_cleanup_(config_freep) struct coi_config *c = NULL;
	_cleanup_strv_free_ char **w = NULL;
	_cleanup_free_ char *ws = NULL, *profile = NULL;
	const char *env = secure_getenv("COI_TRUST_ALL");
	bool trust_all = o->trust_all || (env && strcmp(env, "1") == 0);
	struct layer l = {.warnings = &w};
	int r;

	r = path_absolute(o->workspace ? o->workspace : ".", &ws, err);
	if (r < 0)
		return r;
	l.workspace = ws;
	r = config_new_default(&c, err);
	if (r >= 0 && !o->no_user)
		r = user_layer(c, o, &l, err);
	if (r >= 0)
		r = project_layer(c, trust_all, &l, err);
	if (r < 0)
		return r;
	l.project = l.untrusted = false;
	if (o->profile || c->defaults.profile) {
		profile = strdup(o->profile ? o->profile : c->defaults.profile);
		if (!profile)
			return coi_error_oom(err);
		r = apply_profile(c, profile, &l, trust_all, err);
		if (r < 0)
			return r;
	}
	r = finalize(c, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	if (ret_warnings)
		*ret_warnings = TAKE_PTR(w);
	return 0;
}

int config_validate_file(const char *path, char ***ret_warnings, struct coi_error *err)
{
	_cleanup_(config_freep) struct coi_config *c = NULL;
	_cleanup_strv_free_ char **w = NULL;
	_cleanup_free_ char *ws = NULL, *parent = NULL;
	struct layer l = {.warnings = &w, .profile = true, .inherits = &parent};
	int r;

	r = path_absolute(".", &ws, err);
	if (r < 0)
		return r;
	l.workspace = ws;
	r = config_new_default(&c, err);
	if (r >= 0)
		r = apply_file(c, path, NULL, &l, err);
	if (r >= 0)
		r = finalize(c, err);
	if (r < 0)
		return r;
	if (ret_warnings)
		*ret_warnings = TAKE_PTR(w);
	return 0;
}

const char *config_origin(const struct coi_config *c, size_t i)
{
	size_t n;

	config_keys(&n);
	return i < n && c->origins ? c->origins[i] : NULL;
}

/* --- Derived values --- */

int config_protected_paths(const struct coi_config *c, char ***ret)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

	if (!l)
		return -ENOMEM;
	if (!c->security.disable_protection) {
		char **lists[] = {c->security.protected_paths,
		                  c->security.additional_protected_paths};

		for (size_t i = 0; i < ELEMENTSOF(lists); i++)
			strv_foreach(p, lists[i]) {
				if (strv_contains(l, *p) ||
				    strv_contains(c->security.writable_paths, *p))
					continue;
				if (c->git.writable_hooks && strcmp(*p, ".git/hooks") == 0)
					continue;
				if (strv_push(&l, *p) < 0)
					return -ENOMEM;
			}
	}
	*ret = TAKE_PTR(l);
	return 0;
}
