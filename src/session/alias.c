/* SPDX-License-Identifier: MIT */
/* alias.c: see alias.h. The registry is small JSON read whole (capped) and replaced atomically. */
#include "session/alias.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

#define REGISTRY_MAX (1u << 20)

bool alias_valid(const char *alias)
{
	size_t n = strlen(alias);

	if (n == 0 || n > 64 || !isalpha((unsigned char)alias[0]))
		return false;
	for (const char *p = alias; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

static char *registry_path(void)
{
	_cleanup_free_ char *dir = coi_dir();

	return dir ? path_join(dir, "aliases.json") : NULL;
}

/* The registry as an object ({} when there is none yet). */
static int load(const char *path, json_t **ret, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(REGISTRY_MAX);
	int r = read_file(path, &b, err);

	if (r == -ENOENT) {
		coi_error_clear(err);
		*ret = json_object();
		return *ret ? 0 : coi_error_oom(err);
	}
	if (r < 0)
		return r;
	r = json_parse(buf_str(&b), b.len, ret, err);
	if (r >= 0 && !json_is_object(*ret)) {
		json_decref(*ret);
		return coi_error_set(err, -EINVAL, "'%s' is not a JSON object", path);
	}
	return r < 0 ? coi_error_prefix(err, "'%s'", path) : 0;
}

int alias_register(const char *alias, const char *workspace, const char *profile,
                   struct coi_error *err)
{
	_cleanup_free_ char *path = registry_path(), *text = NULL;
	_cleanup_json_ json_t *reg = NULL;
	const char *old;
	json_t *entry;
	int r;

	if (!alias_valid(alias))
		return coi_error_set(
		        err, -EINVAL,
		        "[container] alias '%s': letters, digits, '-' and '_', starting "
		        "with a letter, at most 64",
		        alias);
	if (!path)
		return coi_error_oom(err);
	r = load(path, &reg, err);
	if (r < 0)
		return r;
	old = json_get_str(json_object_get(reg, alias), "workspace");
	if (old && strcmp(old, workspace) != 0)
		return coi_error_set(err, -EEXIST,
		                     "[container] alias '%s' is registered to '%s' already; not to "
		                     "'%s' too (edit %s to move it)",
		                     alias, old, workspace, path);
	entry = json_pack("{s:s}", "workspace", workspace);
	if (!entry ||
	    (profile && json_object_set_new(entry, "profile", json_string(profile)) < 0) ||
	    json_object_set_new(reg, alias, entry) < 0)
		return coi_error_oom(err);
	text = json_dumps(reg, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return coi_error_oom(err);
	return write_file_atomic(path, text, strlen(text), 0600, err);
}

int alias_lookup(const char *alias, char **ret_workspace, char **ret_profile, struct coi_error *err)
{
	_cleanup_free_ char *path = registry_path();
	_cleanup_json_ json_t *reg = NULL;
	const char *ws, *profile;
	json_t *entry;
	int r;

	if (!path)
		return coi_error_oom(err);
	r = load(path, &reg, err);
	if (r < 0)
		return r;
	entry = json_object_get(reg, alias);
	ws = json_get_str(entry, "workspace");
	if (!ws)
		return coi_error_set(err, -ENOENT, "no alias '%s' in ~/.coi/aliases.json", alias);
	profile = json_get_str(entry, "profile");
	*ret_workspace = strdup(ws);
	*ret_profile = profile ? strdup(profile) : NULL;
	if (!*ret_workspace || (profile && !*ret_profile)) {
		free(*ret_workspace);
		return coi_error_oom(err);
	}
	return 0;
}
