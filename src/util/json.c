/* SPDX-License-Identifier: MIT */
#include "util/json.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"

int json_parse(const char *s, size_t len, json_t **ret, struct coi_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);

	if (!j)
		return coi_error_set(err, -EBADMSG, "invalid JSON at line %d column %d: %s",
		                     je.line, je.column, je.text);
	*ret = j;
	return 0;
}

const char *json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int64_t json_get_int(const json_t *obj, const char *key, int64_t fallback)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

bool json_get_bool(const json_t *obj, const char *key, bool fallback)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

json_t *json_get_obj(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_object(v) ? v : NULL;
}

json_t *json_get_arr(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_array(v) ? v : NULL;
}

json_t *json_get_path(const json_t *obj, const char *path)
{
	const json_t *cur = obj;
	char key[256];

	while (cur && *path) {
		size_t len = strcspn(path, ".");

		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		cur = json_object_get(cur, key);
		path += len;
		if (*path == '.')
			path++;
	}
	return (json_t *)cur;
}

char *json_encode(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}
