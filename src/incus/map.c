/* SPDX-License-Identifier: MIT */
/* map.c: the string maps and device lists of instance configs, and their JSON form. Incus config
 * values are strings; a non-string value from the daemon is kept in its JSON text. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "incus/internal.h"
#include "util/json.h"

static struct incus_kv *map_find(const struct incus_map *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->items[i].key, key) == 0)
			return &m->items[i];
	return NULL;
}

int incus_map_set(struct incus_map *m, const char *key, const char *value)
{
	struct incus_kv *kv = map_find(m, key), *items;
	char *v = strdup(value ? value : ""), *k;

	if (!v)
		return -ENOMEM;
	if (kv) {
		free(kv->value);
		kv->value = v;
		return 0;
	}
	k = strdup(key);
	items = k ? realloc(m->items, (m->n + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	m->items = items;
	m->items[m->n++] = (struct incus_kv){.key = k, .value = v};
	return 0;
}

const char *incus_map_get(const struct incus_map *m, const char *key)
{
	const struct incus_kv *kv = map_find(m, key);

	return kv ? kv->value : NULL;
}

void incus_map_clear(struct incus_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	*m = (struct incus_map){0};
}

int incus_map_from_json(const json_t *obj, struct incus_map *ret)
{
	struct incus_map m = {0};
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		_cleanup_free_ char *text = json_is_string(v) ? NULL : json_encode(v);
		int r = incus_map_set(&m, key, json_is_string(v) ? json_string_value(v) : text);

		if (r < 0 || (!json_is_string(v) && !text)) {
			incus_map_clear(&m);
			return -ENOMEM;
		}
	}
	*ret = m;
	return 0;
}

json_t *incus_map_to_json(const struct incus_map *m)
{
	json_t *o = json_object();

	for (size_t i = 0; o && m && i < m->n; i++)
		if (json_object_set_new(o, m->items[i].key, json_string(m->items[i].value)) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static struct incus_device *devices_find(const struct incus_devices *d, const char *name)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (strcmp(d->items[i].name, name) == 0)
			return &d->items[i];
	return NULL;
}

const struct incus_device *incus_devices_get(const struct incus_devices *d, const char *name)
{
	return devices_find(d, name);
}

const char *incus_devices_prop(const struct incus_devices *d, const char *name, const char *key)
{
	const struct incus_device *dev = devices_find(d, name);

	return dev ? incus_map_get(&dev->props, key) : NULL;
}

/* The slot for name: the existing device (emptied) or a new one at the end. */
static struct incus_device *devices_slot(struct incus_devices *d, const char *name)
{
	struct incus_device *dev = devices_find(d, name), *items;
	char *n;

	if (dev) {
		incus_map_clear(&dev->props);
		return dev;
	}
	n = strdup(name);
	items = n ? realloc(d->items, (d->n + 1) * sizeof(*items)) : NULL;
	if (!items) {
		free(n);
		return NULL;
	}
	d->items = items;
	d->items[d->n] = (struct incus_device){.name = n};
	return &d->items[d->n++];
}

int incus_devices_add(struct incus_devices *d, const char *name, ...)
{
	struct incus_device *dev = devices_slot(d, name);
	const char *k, *v;
	va_list ap;
	int r = 0;

	if (!dev)
		return -ENOMEM;
	va_start(ap, name);
	while (r == 0 && (k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		r = incus_map_set(&dev->props, k, v);
	}
	va_end(ap);
	return r;
}

void incus_devices_clear(struct incus_devices *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].name);
		incus_map_clear(&d->items[i].props);
	}
	free(d->items);
	*d = (struct incus_devices){0};
}

int incus_devices_from_json(const json_t *obj, struct incus_devices *ret)
{
	struct incus_devices d = {0};
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)obj, name, v) {
		struct incus_device *dev = devices_slot(&d, name);

		if (!dev || incus_map_from_json(v, &dev->props) < 0) {
			incus_devices_clear(&d);
			return -ENOMEM;
		}
	}
	*ret = d;
	return 0;
}

json_t *incus_devices_to_json(const struct incus_devices *d)
{
	json_t *o = json_object();

	for (size_t i = 0; o && d && i < d->n; i++) {
		json_t *props = incus_map_to_json(&d->items[i].props);

		if (!props || json_object_set_new(o, d->items[i].name, props) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
