/* SPDX-License-Identifier: MIT */
/* call.c: a call to the API: the response envelope, error mapping (HTTP status to errno), and the
 * wait for async operations (polled, with progress, cancelled when interrupted). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"

/* ---- envelope ---- */

int incus_error_to_errno(long code)
{
	switch (code) {
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 403:
		return -EACCES;
	case 412: /* If-Match: the object changed since its ETag was read */
		return -ESTALE;
	default:
		return -EPROTO;
	}
}

/* A NIC's pinned IPv4 address already on another instance's NIC, told by the daemon's words
 * only (a start's operation says nothing more; an update says 409, as for any conflict):
 * -EADDRINUSE, so that the caller can pick another address; else fallback. */
static int address_taken_or(const char *msg, int fallback)
{
	return msg && strstr(msg, "already defined on another NIC") ? -EADDRINUSE : fallback;
}

void incus_envelope_release(struct incus_envelope *e)
{
	free(e->error);
	free(e->operation);
	json_decref(e->metadata);
	*e = (struct incus_envelope){0};
}

static int envelope_type(const char *type, long http_status, enum incus_resp_type *ret)
{
	if (type && strcmp(type, "sync") == 0)
		*ret = INCUS_RESP_SYNC;
	else if (type && strcmp(type, "async") == 0)
		*ret = INCUS_RESP_ASYNC;
	else if (type && strcmp(type, "error") == 0)
		*ret = INCUS_RESP_ERROR;
	else
		return -EBADMSG;
	return 0;
}

int incus_envelope_parse(long http_status, const char *body, size_t len, struct incus_envelope *ret,
                         struct coi_error *err)
{
	_cleanup_json_ json_t *j = NULL;
	struct incus_envelope e = {.http_status = http_status};
	bool ok = true;
	int r;

	r = json_parse(body, len, &j, NULL);
	if (r < 0 || !json_is_object(j) ||
	    envelope_type(json_get_str(j, "type"), http_status, &e.type) < 0) {
		if (http_status >= 400)
			return coi_error_set(err, incus_error_to_errno(http_status),
			                     "incus answered HTTP %ld", http_status);
		return coi_error_set(err, -EBADMSG,
		                     "incus sent a response that is not an envelope");
	}
	if (e.type == INCUS_RESP_ERROR) {
		e.status_code = (int)json_get_int(j, "error_code", http_status);
		e.error = incus_json_strdup(j, "error", &ok);
	} else {
		e.status_code = (int)json_get_int(j, "status_code", 0);
		e.operation = incus_json_strdup(j, "operation", &ok);
	}
	e.metadata = json_incref(json_object_get(j, "metadata"));
	if (!ok) {
		incus_envelope_release(&e);
		return coi_error_oom(err);
	}
	if (e.type == INCUS_RESP_ASYNC && (!e.operation || !*e.operation)) {
		incus_envelope_release(&e);
		return coi_error_set(err, -EBADMSG,
		                     "incus sent an async response without operation");
	}
	*ret = e;
	if (e.type == INCUS_RESP_ERROR || http_status >= 400) {
		long code = e.type == INCUS_RESP_ERROR ? e.status_code : http_status;

		return coi_error_set(err, address_taken_or(e.error, incus_error_to_errno(code)),
		                     "%s",
		                     e.error && *e.error ? e.error : "incus reported an error");
	}
	return 0;
}

/* ---- calls and operations ---- */

static int call_nowait(struct incus_client *c, const char *method, const char *path,
                       const json_t *body, char *const *headers, char *etag, size_t size,
                       struct incus_envelope *ret, struct coi_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct incus_http req;
	struct incus_http_resp resp;
	struct incus_envelope e;
	int r;

	incus_http_init(&req, method, path);
	req.headers = headers;
	if (body) {
		text = json_encode(body);
		if (!text)
			return coi_error_oom(err);
		req.body = text;
		req.body_len = strlen(text);
		req.content_type = "application/json";
	}
	r = incus_http(c, &req, &resp, err);
	if (r < 0)
		return r;
	if (etag && incus_http_header(&resp, "ETag", etag, size) < 0)
		*etag = '\0';
	r = incus_envelope_parse(resp.status, resp.body.data, resp.body.len, &e, err);
	incus_http_resp_release(&resp);
	if (r < 0) {
		if (e.type == INCUS_RESP_ERROR)
			incus_envelope_release(&e);
		return r;
	}
	*ret = e;
	return 0;
}

int incus_call_nowait(struct incus_client *c, const char *method, const char *path,
                      const json_t *body, struct incus_envelope *ret, struct coi_error *err)
{
	return call_nowait(c, method, path, body, NULL, NULL, 0, ret, err);
}

/* Progress text from an operation's metadata: a "*_progress" string ("Unpack: 45%"), or the newer
 * {"progress": {"stage", "percent"}} object. */
static void report_progress(const json_t *op, const struct incus_wait *w)
{
	const json_t *md = json_get_obj(op, "metadata");
	const char *key;
	json_t *v;
	char text[256];

	if (!w || !w->progress || !md)
		return;
	json_object_foreach((json_t *)md, key, v) {
		struct incus_progress p = {.text = json_string_value(v), .percent = -1};
		const char *pct;
		size_t klen = strlen(key);

		if (json_is_object(v) && strcmp(key, "progress") == 0) {
			snprintf(text, sizeof(text), "%s: %s%%",
			         json_get_str(v, "stage") ? json_get_str(v, "stage") : "progress",
			         json_get_str(v, "percent") ? json_get_str(v, "percent") : "?");
			p.text = text;
			p.percent = atoi(json_get_str(v, "percent") ? json_get_str(v, "percent")
			                                            : "-1");
		} else if (!p.text || klen < 9 || strcmp(key + klen - 9, "_progress") != 0) {
			continue;
		} else if ((pct = strrchr(p.text, '%')) != NULL) {
			while (pct > p.text && pct[-1] >= '0' && pct[-1] <= '9')
				pct--;
			p.percent = atoi(pct);
		}
		w->progress(&p, w->userdata);
		return;
	}
}

int incus_operation_result(const json_t *op, struct coi_error *err)
{
	long code = (long)json_get_int(op, "status_code", 0);
	const char *msg = json_get_str(op, "err");

	if (code == 200)
		return 0;
	if (code == 401)
		return coi_error_set(err, -ECANCELED, "operation was cancelled");
	if (code >= 400)
		return coi_error_set(err, address_taken_or(msg, -EPROTO), "%s",
		                     msg && *msg ? msg : "operation failed");
	return 1; /* still running */
}

static void operation_cancel(struct incus_client *c, const char *op_path)
{
	struct incus_http req;
	struct incus_http_resp resp;

	incus_http_init(&req, "DELETE", op_path);
	req.no_interrupt = true;
	if (incus_http(c, &req, &resp, NULL) == 0)
		incus_http_resp_release(&resp);
}

int incus_operation_poll(struct incus_client *c, const char *op_path, const struct incus_wait *w,
                         json_t **ret_op, struct coi_error *err)
{
	int timeout = w && w->timeout ? w->timeout : c->op_timeout;
	time_t deadline = timeout > 0 ? time(NULL) + timeout : 0;

	for (;;) {
		_cleanup_free_ char *path = NULL;
		struct incus_envelope e;
		long step = -1;
		int r;

		if (deadline) {
			step = (long)(deadline - time(NULL));
			if (step <= 0)
				return coi_error_set(err, -ETIMEDOUT,
				                     "operation did not finish within %d s",
				                     timeout);
		}
		if (w && w->progress && (step < 0 || step > 1))
			step = 1;
		if (asprintf(&path, "%s/wait?timeout=%ld", op_path, step) < 0)
			return coi_error_oom(err);
		r = incus_call_nowait(c, "GET", path, NULL, &e, err);
		if (r == -ECANCELED)
			operation_cancel(c, op_path);
		/* Incus 6.0 answers /wait on a failed operation with an error envelope; the
		 * operation itself (with its metadata, e.g. exec's "return") is still there */
		if (r == -EPROTO && incus_call_nowait(c, "GET", op_path, NULL, &e, NULL) == 0)
			r = 0;
		if (r < 0)
			return r;
		if (incus_operation_result(e.metadata, NULL) <= 0) {
			*ret_op = TAKE_PTR(e.metadata);
			incus_envelope_release(&e);
			return 0;
		}
		report_progress(e.metadata, w);
		incus_envelope_release(&e);
		if (incus_interrupted()) {
			operation_cancel(c, op_path);
			return coi_error_set(err, -ECANCELED, "interrupted");
		}
	}
}

int incus_operation_wait(struct incus_client *c, const char *op_path, const struct incus_wait *w,
                         json_t **ret_op, struct coi_error *err)
{
	json_t *op = NULL;
	int r;

	r = incus_operation_poll(c, op_path, w, &op, err);
	if (r < 0)
		return r;
	r = incus_operation_result(op, err);
	if (r == 0 && ret_op)
		*ret_op = TAKE_PTR(op);
	json_decref(op);
	return r;
}

int incus_call_ex(struct incus_client *c, const char *method, const char *path, const json_t *body,
                  char *const *headers, char *etag, size_t size, const struct incus_wait *wait,
                  struct incus_envelope *ret, struct coi_error *err)
{
	struct incus_envelope e;
	json_t *op = NULL;
	int r;

	r = call_nowait(c, method, path, body, headers, etag, size, &e, err);
	if (r < 0)
		return r;
	if (e.type == INCUS_RESP_ASYNC) {
		r = incus_operation_wait(c, e.operation, wait, &op, err);
		if (r < 0) {
			incus_envelope_release(&e);
			return r;
		}
		json_decref(e.metadata);
		e.metadata = json_incref(json_object_get(op, "metadata"));
		json_decref(op);
	}
	*ret = e;
	return 0;
}

int incus_call(struct incus_client *c, const char *method, const char *path, const json_t *body,
               const struct incus_wait *wait, struct incus_envelope *ret, struct coi_error *err)
{
	return incus_call_ex(c, method, path, body, NULL, NULL, 0, wait, ret, err);
}

int incus_request(struct incus_client *c, const char *method, const char *path, const json_t *body,
                  const struct incus_wait *wait, json_t **ret_metadata, struct coi_error *err)
{
	struct incus_envelope e;
	int r;

	r = incus_call(c, method, path, body, wait, &e, err);
	if (r < 0)
		return r;
	r = (int)e.http_status;
	if (ret_metadata)
		*ret_metadata = TAKE_PTR(e.metadata);
	incus_envelope_release(&e);
	return r;
}

int incus_simple(struct incus_client *c, const char *method, const char *path, const json_t *body,
                 const struct incus_wait *wait, json_t **ret_metadata, struct coi_error *err)
{
	int r;

	if (!path)
		return coi_error_oom(err);
	r = incus_request(c, method, path, body, wait, ret_metadata, err);
	return r < 0 ? r : 0;
}
