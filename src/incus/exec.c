/* SPDX-License-Identifier: MIT */
/* exec.c: running commands in an instance: the request body and the entry point. Every mode
 * (captured, streamed, interactive) speaks Incus's websocket protocol (exec-ws.c); captured output
 * over websockets is faster than record-output, which needs four more requests per command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"

void incus_exec_opts_init(struct incus_exec_opts *o)
{
	*o = (struct incus_exec_opts){
	        .uid = -1,
	        .gid = -1,
	        .mode = INCUS_EXEC_CAPTURE,
	        .stdin_fd = 0,
	        .stdout_fd = 1,
	        .stderr_fd = 2,
	};
}

void incus_exec_result_release(struct incus_exec_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

static int env_to_json(char *const *env, json_t **ret)
{
	json_t *o = json_object();

	for (char *const *e = env; o && e && *e; e++) {
		const char *eq = strchr(*e, '=');
		_cleanup_free_ char *key = eq ? strndup(*e, (size_t)(eq - *e)) : NULL;

		if (!eq || eq == *e) {
			json_decref(o);
			return -EINVAL;
		}
		if (!key || json_object_set_new(o, key, json_string(eq + 1)) < 0) {
			json_decref(o);
			return -ENOMEM;
		}
	}
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

/* The POST body for /exec, common to every mode. */
int incus_exec_body(const struct incus_exec_opts *o, bool interactive, bool wait_ws, bool record,
                    json_t **ret, struct coi_error *err)
{
	_cleanup_json_ json_t *b = NULL;
	json_t *env = NULL;
	int r;

	if (!o->argv || !o->argv[0])
		return coi_error_set(err, -EINVAL, "no command to run");
	r = env_to_json(o->env, &env);
	if (r == -EINVAL)
		return coi_error_set(err, r, "environment entries must look like KEY=VALUE");
	if (r < 0)
		return coi_error_oom(err);
	b = json_pack("{s:o, s:o, s:b, s:b, s:b}", "command", incus_strv_to_json(o->argv),
	              "environment", env, "interactive", interactive, "wait-for-websocket", wait_ws,
	              "record-output", record);
	if (!b)
		return coi_error_oom(err);
	if ((o->uid >= 0 && json_object_set_new(b, "user", json_integer(o->uid)) < 0) ||
	    (o->gid >= 0 && json_object_set_new(b, "group", json_integer(o->gid)) < 0) ||
	    (o->cwd && json_object_set_new(b, "cwd", json_string(o->cwd)) < 0))
		return coi_error_oom(err);
	*ret = TAKE_PTR(b);
	return 0;
}

int incus_exec(struct incus_client *c, const char *name, const struct incus_exec_opts *o,
               struct incus_exec_result *ret, struct coi_error *err)
{
	return incus_exec_ws(c, name, o, ret, err);
}
