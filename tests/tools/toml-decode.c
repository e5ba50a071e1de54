/* SPDX-License-Identifier: MIT */
/* toml-decode: the toml-test decoder. TOML on stdin, tagged JSON on stdout (exit 0), or a message
 * on stderr and exit 1 for invalid input. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"

static json_t *tagged(const char *type, const char *value, size_t len)
{
	return json_pack("{s:s, s:s%}", "type", type, "value", value, len);
}

/* Recursion is bounded by the reader's depth limit. */
static json_t *to_json(const struct toml_value *v)
{
	char tmp[64];
	json_t *j;

	switch (v->type) {
	case TOML_TABLE:
		j = json_object();
		for (size_t i = 0; j && i < v->u.table.n; i++) {
			const struct toml_kv *kv = &v->u.table.items[i];

			if (json_object_setn_new(j, kv->key, kv->key_len, to_json(kv->value)) < 0)
				return json_decref(j), NULL;
		}
		return j;
	case TOML_ARRAY:
		j = json_array();
		for (size_t i = 0; j && i < v->u.array.n; i++)
			if (json_array_append_new(j, to_json(v->u.array.items[i])) < 0)
				return json_decref(j), NULL;
		return j;
	case TOML_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
		return tagged("integer", tmp, strlen(tmp));
	case TOML_FLOAT:
		if (isnan(v->u.f))
			snprintf(tmp, sizeof(tmp), "nan");
		else if (isinf(v->u.f))
			snprintf(tmp, sizeof(tmp), "%sinf", v->u.f < 0 ? "-" : "");
		else
			snprintf(tmp, sizeof(tmp), "%.17g", v->u.f);
		return tagged("float", tmp, strlen(tmp));
	case TOML_BOOL:
		return tagged("bool", v->u.b ? "true" : "false", v->u.b ? 4 : 5);
	case TOML_STRING:
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
	case _TOML_TYPE_MAX:
		break;
	}
	return tagged(toml_type_to_string(v->type), v->u.str.s, v->u.str.len);
}

int main(void)
{
	_cleanup_buf_ struct buf in = BUF_INIT(TOML_LIMITS_DEFAULT.max_size + 1);
	struct coi_error err = {0};
	struct toml_value *doc = NULL;
	char chunk[4096];
	size_t n;
	json_t *j;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(&in, chunk, n) < 0) {
			fprintf(stderr, "toml-decode: input too large\n");
			return 1;
		}
	if (toml_parse(in.data ? in.data : "", in.len, "<stdin>", NULL, &doc, &err) < 0) {
		fprintf(stderr, "%s\n", coi_error_message(&err));
		return 1;
	}
	j = to_json(doc);
	toml_free(doc);
	if (!j || json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) < 0) {
		fprintf(stderr, "toml-decode: cannot encode JSON\n");
		json_decref(j);
		return 2;
	}
	json_decref(j);
	putchar('\n');
	return 0;
}
