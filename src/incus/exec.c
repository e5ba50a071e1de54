/* SPDX-License-Identifier: MIT */
/* exec.c: running commands in an instance. Captured exec asks the daemon to record the output
 * (record-output, no websockets), waits for the operation, then fetches and deletes the two log
 * files. Streaming and interactive exec speak Incus's websocket protocol (exec-ws.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"

#define CAPTURE_MAX_DEFAULT (16u << 20)

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

/* Fetch one recorded output file into *ret, then delete it on the daemon. */
static int fetch_log(struct incus_client *c, const char *path, size_t max, char **ret,
                     size_t *ret_len, struct coi_error *err)
{
	struct incus_http req;
	struct incus_http_resp resp;
	int r;

	incus_http_init(&req, "GET", path);
	req.body_max = max;
	r = incus_http(c, &req, &resp, err);
	if (r == -E2BIG)
		return coi_error_set(err, r, "command output is larger than %zu bytes", max);
	if (r < 0)
		return r;
	if (resp.status != 200) {
		struct incus_envelope e;

		r = incus_envelope_parse(resp.status, resp.body.data, resp.body.len, &e, err);
		incus_envelope_release(&e);
		incus_http_resp_release(&resp);
		return r < 0 ? r : coi_error_set(err, -EPROTO, "cannot fetch exec output");
	}
	*ret_len = resp.body.len;
	*ret = buf_steal(&resp.body);
	incus_http_resp_release(&resp);
	if (!*ret)
		return coi_error_oom(err);
	(void)incus_simple(c, "DELETE", path, NULL, NULL, NULL, NULL);
	return 0;
}

/* POSTs an exec that needs no websocket and waits for it; *ret_op is the finished operation,
 * failed or not (a command that was not found fails with return 127). */
static int incus_exec_start(struct incus_client *c, const char *name, const json_t *body,
                            json_t **ret_op, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s/exec", name);
	struct incus_envelope e;
	int r;

	if (!path)
		return coi_error_oom(err);
	r = incus_call_nowait(c, "POST", path, body, &e, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot run a command in '%s'", name);
	if (e.type != INCUS_RESP_ASYNC) {
		incus_envelope_release(&e);
		return coi_error_set(err, -EPROTO, "exec in '%s' did not start an operation", name);
	}
	r = incus_operation_poll(c, e.operation, &(struct incus_wait){.timeout = -1}, ret_op, err);
	incus_envelope_release(&e);
	return r;
}

static int exec_capture(struct incus_client *c, const char *name, const struct incus_exec_opts *o,
                        struct incus_exec_result *ret, struct coi_error *err)
{
	_cleanup_json_ json_t *body = NULL, *md = NULL, *op = NULL;
	struct incus_exec_result res = {0};
	size_t max = o->capture_max ? o->capture_max : CAPTURE_MAX_DEFAULT;
	const json_t *output;
	json_t *status;
	int r;

	r = incus_exec_body(o, false, false, true, &body, err);
	if (r < 0)
		return r;
	r = incus_exec_start(c, name, body, &op, err);
	if (r < 0)
		return r;
	md = json_incref(json_get_obj(op, "metadata"));
	status = json_object_get(md, "return");
	output = json_get_obj(md, "output");
	if (!json_is_integer(status))
		return coi_error_set(err, -EPROTO, "cannot run '%s' in '%s': %s", o->argv[0], name,
		                     json_get_str(op, "err") ? json_get_str(op, "err")
		                                             : "no exit status");
	res.exit_status = (int)json_integer_value(status);
	if (json_get_str(output, "1"))
		r = fetch_log(c, json_get_str(output, "1"), max, &res.out, &res.out_len, err);
	if (r >= 0 && json_get_str(output, "2"))
		r = fetch_log(c, json_get_str(output, "2"), max, &res.err, &res.err_len, err);
	if (r >= 0 && (!res.out && !(res.out = strdup(""))))
		r = coi_error_oom(err);
	if (r >= 0 && (!res.err && !(res.err = strdup(""))))
		r = coi_error_oom(err);
	if (r < 0) {
		incus_exec_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}

int incus_exec(struct incus_client *c, const char *name, const struct incus_exec_opts *o,
               struct incus_exec_result *ret, struct coi_error *err)
{
	switch (o->mode) {
	case INCUS_EXEC_CAPTURE:
		return exec_capture(c, name, o, ret, err);
	case INCUS_EXEC_STREAM:
	case INCUS_EXEC_INTERACTIVE:
	default:
		return coi_error_set(err, -EOPNOTSUPP, "streaming exec is not available yet");
	}
}
