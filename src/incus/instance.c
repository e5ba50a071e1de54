/* SPDX-License-Identifier: MIT */
/* instance.c: instances: create, copy, get, state, list, state changes, delete, config updates.
 * JSON from the daemon becomes struct incus_instance here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

/* clang-format off */
static const char *const status_names[_INCUS_STATUS_MAX] = {
	[INCUS_STATUS_UNKNOWN]  = "Unknown",
	[INCUS_STATUS_RUNNING]  = "Running",
	[INCUS_STATUS_STOPPED]  = "Stopped",
	[INCUS_STATUS_FROZEN]   = "Frozen",
	[INCUS_STATUS_STARTING] = "Starting",
	[INCUS_STATUS_STOPPING] = "Stopping",
	[INCUS_STATUS_ERROR]    = "Error",
};

static const char *const action_names[_INCUS_ACTION_MAX] = {
	[INCUS_ACTION_START]    = "start",
	[INCUS_ACTION_STOP]     = "stop",
	[INCUS_ACTION_RESTART]  = "restart",
	[INCUS_ACTION_FREEZE]   = "freeze",
	[INCUS_ACTION_UNFREEZE] = "unfreeze",
};
/* clang-format on */

const char *incus_status_to_string(enum incus_status s)
{
	return s >= 0 && s < _INCUS_STATUS_MAX ? status_names[s] : "Unknown";
}

enum incus_status incus_status_from_string(const char *s)
{
	for (int i = 0; s && i < _INCUS_STATUS_MAX; i++)
		if (strcmp(status_names[i], s) == 0)
			return (enum incus_status)i;
	return INCUS_STATUS_UNKNOWN;
}

const char *incus_action_to_string(enum incus_action a)
{
	return a >= 0 && a < _INCUS_ACTION_MAX ? action_names[a] : NULL;
}

/* ---- decoding ---- */

struct incus_instance_state *incus_instance_state_free(struct incus_instance_state *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_nics; i++) {
		free(s->nics[i].name);
		free(s->nics[i].host_name);
		free(s->nics[i].ipv4);
		free(s->nics[i].ipv6);
		free(s->nics[i].hwaddr);
	}
	free(s->nics);
	free(s);
	return NULL;
}

const struct incus_nic *incus_state_nic(const struct incus_instance_state *s, const char *name)
{
	for (size_t i = 0; s && i < s->n_nics; i++)
		if (strcmp(s->nics[i].name, name) == 0)
			return &s->nics[i];
	return NULL;
}

/* The first global address of a family ("inet", "inet6") of one interface. */
static const char *nic_address(const json_t *nic, const char *family)
{
	size_t i;
	json_t *a;

	json_array_foreach(json_get_arr(nic, "addresses"), i, a) {
		const char *fam = json_get_str(a, "family"), *scope = json_get_str(a, "scope");

		if (fam && strcmp(fam, family) == 0 && (!scope || strcmp(scope, "global") == 0))
			return json_get_str(a, "address");
	}
	return NULL;
}

static int nic_from_json(const char *name, const json_t *j, struct incus_nic *nic)
{
	bool ok = true;
	const char *v4 = nic_address(j, "inet"), *v6 = nic_address(j, "inet6");

	nic->name = strdup(name);
	nic->host_name = incus_json_strdup(j, "host_name", &ok);
	nic->hwaddr = incus_json_strdup(j, "hwaddr", &ok);
	nic->ipv4 = v4 ? strdup(v4) : NULL;
	nic->ipv6 = v6 ? strdup(v6) : NULL;
	if (!nic->name || !ok || (v4 && !nic->ipv4) || (v6 && !nic->ipv6))
		return -ENOMEM;
	/* an empty host_name means none (e.g. the loopback) */
	if (nic->host_name && !*nic->host_name) {
		free(nic->host_name);
		nic->host_name = NULL;
	}
	return 0;
}

static int state_from_json(const json_t *j, struct incus_instance_state **ret)
{
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *s = NULL;
	const json_t *net = json_get_obj(j, "network");
	const char *name;
	json_t *v;

	s = calloc(1, sizeof(*s));
	if (!s || (net && !(s->nics = calloc(json_object_size(net), sizeof(*s->nics)))))
		return -ENOMEM;
	s->status = incus_status_from_string(json_get_str(j, "status"));
	s->pid = json_get_int(j, "pid", 0);
	s->processes = json_get_int(j, "processes", 0);
	s->memory_usage = json_get_int(json_get_obj(j, "memory"), "usage", 0);
	json_object_foreach((json_t *)net, name, v) {
		if (nic_from_json(name, v, &s->nics[s->n_nics++]) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

struct incus_instance *incus_instance_free(struct incus_instance *i)
{
	if (!i)
		return NULL;
	free(i->name);
	free(i->type);
	free(i->description);
	free(i->created_at);
	free(i->location);
	strv_free(i->profiles);
	incus_map_clear(&i->config);
	incus_map_clear(&i->expanded_config);
	incus_devices_clear(&i->devices);
	incus_devices_clear(&i->expanded_devices);
	incus_instance_state_free(i->state);
	free(i);
	return NULL;
}

struct incus_instance **incus_instance_list_free(struct incus_instance **l)
{
	for (size_t i = 0; l && l[i]; i++)
		incus_instance_free(l[i]);
	free(l);
	return NULL;
}

int incus_instance_from_json(const json_t *j, struct incus_instance **ret)
{
	_cleanup_(incus_instance_freep) struct incus_instance *i = calloc(1, sizeof(*i));
	bool ok = true;
	const json_t *st = json_get_obj(j, "state");

	if (!i)
		return -ENOMEM;
	i->name = incus_json_strdup(j, "name", &ok);
	i->type = incus_json_strdup(j, "type", &ok);
	i->description = incus_json_strdup(j, "description", &ok);
	i->created_at = incus_json_strdup(j, "created_at", &ok);
	i->location = incus_json_strdup(j, "location", &ok);
	i->status = incus_status_from_string(json_get_str(j, "status"));
	i->ephemeral = json_get_bool(j, "ephemeral", false);
	i->stateful = json_get_bool(j, "stateful", false);
	if (!ok || !i->name ||
	    incus_strv_from_json(json_get_arr(j, "profiles"), &i->profiles) < 0 ||
	    incus_map_from_json(json_get_obj(j, "config"), &i->config) < 0 ||
	    incus_map_from_json(json_get_obj(j, "expanded_config"), &i->expanded_config) < 0 ||
	    incus_devices_from_json(json_get_obj(j, "devices"), &i->devices) < 0 ||
	    incus_devices_from_json(json_get_obj(j, "expanded_devices"), &i->expanded_devices) <
	            0 ||
	    (st && state_from_json(st, &i->state) < 0))
		return i->name || !ok ? -ENOMEM : -EBADMSG;
	*ret = TAKE_PTR(i);
	return 0;
}

/* ---- calls ---- */

static json_t *create_body(const struct incus_instance_spec *s)
{
	json_t *b = json_pack("{s:s, s:s, s:b, s:b}", "name", s->name, "type",
	                      s->type ? s->type : "container", "ephemeral", s->ephemeral, "start",
	                      s->start);
	json_t *devices = incus_devices_to_json(s->devices);
	int r = b && devices ? 0 : -1;

	if (r == 0 && s->image_fingerprint)
		r = json_object_set_new(b, "source",
		                        json_pack("{s:s, s:s}", "type", "image", "fingerprint",
		                                  s->image_fingerprint));
	else if (r == 0)
		r = json_object_set_new(b, "source",
		                        json_pack("{s:s, s:s}", "type", "image", "alias",
		                                  s->image_alias ? s->image_alias : ""));
	if (r == 0 && s->storage_pool && !json_object_get(devices, "root"))
		r = json_object_set_new(devices, "root",
		                        json_pack("{s:s, s:s, s:s}", "type", "disk", "path", "/",
		                                  "pool", s->storage_pool));
	if (r == 0 && (s->profiles || s->no_profiles))
		r = json_object_set_new(b, "profiles", incus_strv_to_json(s->profiles));
	if (r == 0 && s->description)
		r = json_object_set_new(b, "description", json_string(s->description));
	if (r == 0)
		r = json_object_set_new(b, "config", incus_map_to_json(s->config));
	if (r == 0)
		r = json_object_set(b, "devices", devices);
	json_decref(devices);
	if (r < 0) {
		json_decref(b);
		return NULL;
	}
	return b;
}

int incus_instance_create(struct incus_client *c, const struct incus_instance_spec *spec,
                          const struct incus_wait *wait, struct coi_error *err)
{
	_cleanup_json_ json_t *body = NULL;
	int r;

	if (!spec->name || (!spec->image_alias && !spec->image_fingerprint))
		return coi_error_set(err, -EINVAL, "an instance needs a name and an image");
	body = create_body(spec);
	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "POST", "/1.0/instances", body, wait, NULL, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot create instance '%s'", spec->name);
	return 0;
}

int incus_instance_copy(struct incus_client *c, const char *src, const char *dst, bool ephemeral,
                        const struct incus_wait *wait, struct coi_error *err)
{
	_cleanup_json_ json_t *body =
	        json_pack("{s:s, s:b, s:{s:s, s:s, s:b}}", "name", dst, "ephemeral", ephemeral,
	                  "source", "type", "copy", "source", src, "instance_only", 1);
	int r;

	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "POST", "/1.0/instances", body, wait, NULL, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot copy '%s' to '%s'", src, dst);
	return 0;
}

static int instance_get_json(struct incus_client *c, const char *name, json_t **ret,
                             struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", name);

	return incus_simple(c, "GET", path, NULL, NULL, ret, err);
}

int incus_instance_get(struct incus_client *c, const char *name, struct incus_instance **ret,
                       struct coi_error *err)
{
	_cleanup_json_ json_t *md = NULL;
	int r;

	r = instance_get_json(c, name, &md, err);
	if (r < 0)
		return r;
	r = incus_instance_from_json(md, ret);
	if (r < 0)
		return coi_error_set(err, r, "cannot decode instance '%s'", name);
	return 0;
}

int incus_instance_exists(struct incus_client *c, const char *name, struct coi_error *err)
{
	_cleanup_json_ json_t *md = NULL;
	int r = instance_get_json(c, name, &md, err);

	if (r == -ENOENT) {
		coi_error_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

int incus_instance_state(struct incus_client *c, const char *name,
                         struct incus_instance_state **ret, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s/state", name);
	_cleanup_json_ json_t *md = NULL;
	int r;

	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r < 0)
		return r;
	r = state_from_json(md, ret);
	if (r < 0)
		return coi_error_set(err, r, "cannot decode the state of '%s'", name);
	return 0;
}

static int cmp_instance(const void *a, const void *b)
{
	const struct incus_instance *x = *(struct incus_instance *const *)a;
	const struct incus_instance *y = *(struct incus_instance *const *)b;

	return strcmp(x->name, y->name);
}

int incus_instance_list(struct incus_client *c, const char *prefix, unsigned flags,
                        struct incus_instance ***ret, struct coi_error *err)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL;
	_cleanup_json_ json_t *md = NULL;
	size_t n = 0, i;
	json_t *v;
	int r;

	r = incus_simple(c, "GET",
	                 flags & INCUS_LIST_STATE ? "/1.0/instances?recursion=2"
	                                          : "/1.0/instances?recursion=1",
	                 NULL, NULL, &md, err);
	if (r < 0)
		return r;
	l = calloc(json_array_size(md) + 1, sizeof(*l));
	if (!l)
		return coi_error_oom(err);
	json_array_foreach(md, i, v) {
		const char *name = json_get_str(v, "name");

		if (!name || (prefix && strncmp(name, prefix, strlen(prefix)) != 0))
			continue;
		r = incus_instance_from_json(v, &l[n]);
		if (r < 0)
			return coi_error_set(err, r, "cannot decode instance '%s'", name);
		n++;
	}
	qsort(l, n, sizeof(*l), cmp_instance);
	*ret = TAKE_PTR(l);
	return (int)n;
}

int incus_instance_set_state(struct incus_client *c, const char *name, enum incus_action action,
                             bool force, int timeout, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s/state", name);
	_cleanup_json_ json_t *body = NULL;
	int r;

	if (!incus_action_to_string(action))
		return coi_error_set(err, -EINVAL, "unknown instance action");
	body = json_pack("{s:s, s:i, s:b}", "action", incus_action_to_string(action), "timeout",
	                 timeout, "force", force);
	if (!body)
		return coi_error_oom(err);
	r = incus_simple(c, "PUT", path, body, NULL, NULL, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot %s '%s'", incus_action_to_string(action),
		                        name);
	return 0;
}

/* The freeze operation returns when LXC's freezer loop does: on a cgroup v1 host that reads the
 * freezer's state and sleeps a whole second whenever it still says FREEZING (it does under
 * load). The instance's state says Frozen as soon as the kernel has frozen it: poll that. */
int incus_instance_freeze(struct incus_client *c, const char *name, int timeout_ms,
                          struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s/state", name);
	_cleanup_json_ json_t *body = NULL;
	struct timespec step = {.tv_nsec = 5 * 1000 * 1000};
	struct incus_envelope e;
	int r;

	body = json_pack("{s:s, s:i, s:b}", "action", "freeze", "timeout", -1, "force", false);
	if (!path || !body)
		return coi_error_oom(err);
	r = incus_call_nowait(c, "PUT", path, body, &e, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot freeze '%s'", name);
	for (int waited = 0; e.type == INCUS_RESP_ASYNC; waited += 5) {
		_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
		struct incus_envelope op;

		r = incus_instance_state(c, name, &st, err);
		if (r >= 0 && st->status == INCUS_STATUS_FROZEN)
			break;
		/* done (the freeze failed, or it succeeded between the two looks) */
		if (r >= 0 && incus_call_nowait(c, "GET", e.operation, NULL, &op, NULL) == 0) {
			r = incus_operation_result(op.metadata, err);
			incus_envelope_release(&op);
			if (r <= 0)
				break;
		}
		if (r < 0 || waited >= timeout_ms) {
			r = r < 0 ? r
			          : coi_error_set(err, -ETIMEDOUT, "not frozen within %d ms",
			                          timeout_ms);
			break;
		}
		(void)nanosleep(&step, NULL);
	}
	incus_envelope_release(&e);
	return r < 0 ? coi_error_prefix(err, "cannot freeze '%s'", name) : 0;
}

int incus_instance_delete(struct incus_client *c, const char *name, bool force,
                          struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", name);
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	int r;

	if (force) {
		r = incus_instance_state(c, name, &st, err);
		if (r < 0)
			return coi_error_prefix(err, "cannot delete '%s'", name);
		if (st->status != INCUS_STATUS_STOPPED) {
			r = incus_instance_set_state(c, name, INCUS_ACTION_STOP, true, -1, err);
			/* an ephemeral instance is gone once stopped */
			if (r == -ENOENT || (r == 0 && incus_instance_exists(c, name, err) == 0)) {
				coi_error_clear(err);
				return 0;
			}
			if (r < 0)
				return r;
		}
	}
	r = incus_simple(c, "DELETE", path, NULL, NULL, NULL, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot delete '%s'", name);
	return 0;
}

int incus_instance_patch(struct incus_client *c, const char *name, const struct incus_map *config,
                         const struct incus_devices *devices, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", name);
	_cleanup_json_ json_t *body = json_object();
	int r = body ? 0 : -1;

	if (r == 0 && config)
		r = json_object_set_new(body, "config", incus_map_to_json(config));
	if (r == 0 && devices)
		r = json_object_set_new(body, "devices", incus_devices_to_json(devices));
	if (r < 0)
		return coi_error_oom(err);
	r = incus_simple(c, "PATCH", path, body, NULL, NULL, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot update '%s'", name);
	return 0;
}

/* One call with extra headers and the answer's ETag kept (etag may be NULL). */
static int call_etag(struct incus_client *c, const char *method, const char *path,
                     const json_t *body, char *const *headers, char *etag, size_t size,
                     json_t **ret_md, struct coi_error *err)
{
	struct incus_envelope e;
	int r;

	if (!path)
		return coi_error_oom(err);
	r = incus_call_ex(c, method, path, body, headers, etag, size, NULL, &e, err);
	if (r < 0)
		return r;
	if (ret_md)
		*ret_md = TAKE_PTR(e.metadata);
	incus_envelope_release(&e);
	return 0;
}

int incus_instance_get_etag(struct incus_client *c, const char *name, struct incus_instance **ret,
                            char *etag, size_t size, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", name);
	_cleanup_json_ json_t *md = NULL;
	int r = call_etag(c, "GET", path, NULL, NULL, etag, size, &md, err);

	if (r < 0)
		return r;
	r = incus_instance_from_json(md, ret);
	return r < 0 ? coi_error_set(err, r, "cannot decode instance '%s'", name) : 0;
}

int incus_instance_patch_if(struct incus_client *c, const char *name,
                            const struct incus_map *config, const char *etag, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", name), *h = NULL;
	_cleanup_json_ json_t *body = json_object();
	char *headers[] = {NULL, NULL};

	if (!body || json_object_set_new(body, "config", incus_map_to_json(config)) < 0 ||
	    asprintf(&h, "If-Match: %s", etag) < 0)
		return coi_error_oom(err);
	headers[0] = h;
	return call_etag(c, "PATCH", path, body, headers, NULL, 0, NULL, err);
}

/* GET the instance, let edit() change its JSON, PUT it back. */
static int instance_edit(struct incus_client *c, const char *name,
                         int (*edit)(json_t *inst, const char *name, const void *arg,
                                     struct coi_error *err),
                         const void *arg, struct coi_error *err)
{
	_cleanup_free_ char *path = incus_pathf(c, "/1.0/instances/%s", name);
	_cleanup_json_ json_t *md = NULL;
	int r;

	r = incus_simple(c, "GET", path, NULL, NULL, &md, err);
	if (r < 0)
		return r;
	r = edit(md, name, arg, err);
	if (r <= 0)
		return r; /* an error, or nothing to change */
	r = incus_simple(c, "PUT", path, md, NULL, NULL, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot update '%s'", name);
	return 0;
}

static int edit_remove_device(json_t *inst, const char *name, const void *arg,
                              struct coi_error *err)
{
	json_t *devs = json_get_obj(inst, "devices");

	if (!devs || !json_object_get(devs, arg))
		return coi_error_set(err, -ENOENT, "instance '%s' has no device '%s'", name,
		                     (const char *)arg);
	json_object_del(devs, arg);
	return 1;
}

int incus_instance_remove_device(struct incus_client *c, const char *name, const char *device,
                                 struct coi_error *err)
{
	return instance_edit(c, name, edit_remove_device, device, err);
}

static int edit_remove_devices(json_t *inst, const char *name, const void *arg,
                               struct coi_error *err)
{
	json_t *devs = json_get_obj(inst, "devices");
	int changed = 0;

	(void)name;
	(void)err;
	strv_foreach(d, (char **)arg) {
		if (devs && json_object_del(devs, *d) == 0)
			changed = 1;
	}
	return changed;
}

int incus_instance_remove_devices(struct incus_client *c, const char *name, char *const *devices,
                                  struct coi_error *err)
{
	return instance_edit(c, name, edit_remove_devices, devices, err);
}

static int edit_unset_config(json_t *inst, const char *name, const void *arg, struct coi_error *err)
{
	json_t *cfg = json_get_obj(inst, "config");
	int changed = 0;

	strv_foreach(k, (char **)arg) {
		if (cfg && json_object_del(cfg, *k) == 0)
			changed = 1;
	}
	return changed;
}

int incus_instance_unset_config(struct incus_client *c, const char *name, char *const *keys,
                                struct coi_error *err)
{
	return instance_edit(c, name, edit_unset_config, keys, err);
}
