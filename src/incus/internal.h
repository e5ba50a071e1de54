/* SPDX-License-Identifier: MIT */
/* internal.h: what the files of src/incus/ share and nothing outside uses (tests and the fuzz
 * target excepted): the client struct, raw HTTP, the envelope decoder, JSON -> struct helpers. */
#pragma once

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>

#include "incus/incus.h"
#include "util/buf.h"

struct incus_client {
	CURL *curl;
	char *socket_path; /* unix transport, or NULL */
	char *base_url;    /* "http://incus" or the remote URL without a final slash */
	char *project;
	char *client_cert, *client_key, *pinned_key; /* remote only */
	size_t response_max;
	int op_timeout;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- envelope ---- */

enum incus_resp_type { INCUS_RESP_SYNC, INCUS_RESP_ASYNC, INCUS_RESP_ERROR };

struct incus_envelope {
	enum incus_resp_type type;
	long http_status;
	int status_code; /* sync/async: 200/100; error: error_code */
	char *error;     /* error text (error envelope) */
	char *operation; /* async: "/1.0/operations/UUID" */
	json_t *metadata;
};

/* Decodes a response body. An error envelope, or a body that is not an envelope at all, returns
 * the mapped negative errno with err set (and still fills *ret for a valid error envelope). */
int incus_envelope_parse(long http_status, const char *body, size_t len, struct incus_envelope *ret,
                         struct coi_error *err);
void incus_envelope_release(struct incus_envelope *e);
/* 404 -> -ENOENT, 409 -> -EEXIST, 403 -> -EACCES, 412 -> -ESTALE, else -EPROTO. */
int incus_error_to_errno(long code);

/* ---- raw HTTP ---- */

struct incus_http {
	const char *method;
	const char *path; /* "/1.0/...", may carry a query; ?project= is appended */
	const char *content_type;
	const void *body; /* sent as is; or */
	size_t body_len;
	int body_fd; /* >= 0: stream the body from this fd, body_size bytes */
	uint64_t body_size;
	curl_mime *mime;      /* or a multipart/form-data body */
	char *const *headers; /* extra "Name: value" lines, or NULL */
	int out_fd;           /* >= 0: write the response body here instead of into the buf */
	uint64_t out_max;     /* with out_fd: ceiling (-E2BIG) */
	/* with out_fd: only when this response header has this value, else into the buf */
	const char *out_header, *out_value;
	size_t body_max;    /* ceiling for the response body in the buf; 0: the client's */
	bool no_interrupt;  /* ignore incus_interrupt() (cancelling an operation) */
	long stall_timeout; /* > 0: fail with -ETIMEDOUT when nothing arrives for this many s */
};

struct incus_http_resp {
	long status;
	struct buf body;
	struct buf headers;
};

void incus_http_init(struct incus_http *req, const char *method, const char *path);
void incus_http_resp_release(struct incus_http_resp *r);
int incus_http(struct incus_client *c, const struct incus_http *req, struct incus_http_resp *resp,
               struct coi_error *err);
/* The full URL for path, with ?project= (or &project=). NULL on OOM. */
char *incus_request_url(struct incus_client *c, const char *path);
/* Socket path, or TLS certificate/key/pinned key, on an easy handle. */
int incus_set_transport(struct incus_client *c, CURL *h);

/* ---- websockets (wsconn.c) ---- */

struct ws;
struct incus_ws {
	CURL *curl;
	int fd; /* to poll */
	struct ws *ws;
};

/* Opens a websocket to path ("/1.0/operations/ID/websocket?secret=S", "/1.0/events?type=...") on
 * its own connection. */
int incus_ws_open(struct incus_client *c, const char *path, size_t max_message,
                  struct incus_ws **ret, struct coi_error *err);
struct incus_ws *incus_ws_free(struct incus_ws *w);
DEFINE_CLEANUP(struct incus_ws *, incus_ws_free)

/* The value of a response header (case-insensitive name) copied into out; -ENOENT if absent. */
int incus_http_header(const struct incus_http_resp *r, const char *name, char *out, size_t size);

/* ---- calls ---- */

/* An API call: HTTP, envelope, error mapping, and for an async response the wait (ret->metadata is
 * then the finished operation's metadata.metadata, e.g. {"return": 0} for exec). */
int incus_call(struct incus_client *c, const char *method, const char *path, const json_t *body,
               const struct incus_wait *wait, struct incus_envelope *ret, struct coi_error *err);
/* incus_call() with extra request headers ("If-Match: ..."), the answer's ETag copied into etag
 * (size bytes; "" when it has none) when etag is not NULL. */
int incus_call_ex(struct incus_client *c, const char *method, const char *path, const json_t *body,
                  char *const *headers, char *etag, size_t size, const struct incus_wait *wait,
                  struct incus_envelope *ret, struct coi_error *err);
/* Same, but returns as soon as the operation is created: ret->metadata is the operation object,
 * ret->operation its path. Used by exec (which needs the fds before waiting). */
int incus_call_nowait(struct incus_client *c, const char *method, const char *path,
                      const json_t *body, struct incus_envelope *ret, struct coi_error *err);
/* incus_request() returning 0, for a path that may be NULL (an allocation failed: -ENOMEM). */
int incus_simple(struct incus_client *c, const char *method, const char *path, const json_t *body,
                 const struct incus_wait *wait, json_t **ret_metadata, struct coi_error *err);
/* Waits until the operation is done (succeeded, failed or cancelled) and hands it over whatever
 * its outcome: exec reads "return" from a failed operation ("Command not found" is exit 127). */
int incus_operation_poll(struct incus_client *c, const char *op_path, const struct incus_wait *wait,
                         json_t **ret_op, struct coi_error *err);
/* An operation object's outcome: 0 for success, 1 while running, a negative errno for failure or
 * cancellation. */
int incus_operation_result(const json_t *op, struct coi_error *err);
/* Waits for an operation; *ret_op (may be NULL) gets the final operation object. */
int incus_operation_wait(struct incus_client *c, const char *op_path, const struct incus_wait *wait,
                         json_t **ret_op, struct coi_error *err);

/* A path with each %s argument URL-escaped: incus_pathf(c, "/1.0/instances/%s", name). NULL on OOM.
 */
char *incus_pathf(struct incus_client *c, const char *fmt, ...) COI_PRINTF(2, 3);
char *incus_escape(struct incus_client *c, const char *s);

/* ---- decoding helpers ---- */

/* Copy a JSON string member; NULL when absent; *ok cleared on OOM. */
char *incus_json_strdup(const json_t *obj, const char *key, bool *ok);
int incus_map_from_json(const json_t *obj, struct incus_map *ret);
json_t *incus_map_to_json(const struct incus_map *m);
int incus_devices_from_json(const json_t *obj, struct incus_devices *ret);
json_t *incus_devices_to_json(const struct incus_devices *d);
int incus_strv_from_json(const json_t *arr, char ***ret);
json_t *incus_strv_to_json(char *const *l);

/* Exec over websockets, any mode (exec-ws.c). */
int incus_exec_ws(struct incus_client *c, const char *name, const struct incus_exec_opts *o,
                  struct incus_exec_result *ret, struct coi_error *err);

/* The POST body for /exec (exec.c). */
int incus_exec_body(const struct incus_exec_opts *o, bool interactive, bool wait_ws, bool record,
                    json_t **ret, struct coi_error *err);

/* Decodes one instance object (as GET /1.0/instances/NAME or a list entry gives it). */
int incus_instance_from_json(const json_t *j, struct incus_instance **ret);
