/* SPDX-License-Identifier: MIT */
/* state.c: what already exists in coi's nft tables, read from `nft -j list table` output. Only
 * what removal needs is kept: the rules of the base chains (handle, owner from the comment
 * "coi:<name>", the ip saddr or iifname they key on) and the per-container chains and sets. Names
 * that are not valid container names are ignored, so nothing read here can put foreign text into a
 * later batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netpolicy/netpolicy.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

#define STATE_MAX 100000 /* rules or chains: far beyond any real host */

void net_state_release(struct net_state *st)
{
	if (!st)
		return;
	free(st->rules);
	free(st->chains);
	*st = (struct net_state){0};
}

static int family_from_string(const char *s, enum net_family *ret)
{
	if (s && strcmp(s, "ip") == 0)
		*ret = NET_FAMILY_IP;
	else if (s && strcmp(s, "bridge") == 0)
		*ret = NET_FAMILY_BRIDGE;
	else
		return -EINVAL;
	return 0;
}

static bool is_base_chain(enum net_family f, const char *name)
{
	if (f == NET_FAMILY_IP)
		return strcmp(name, "forward") == 0 || strcmp(name, "input") == 0 ||
		       strcmp(name, "dstnat") == 0;
	return strcmp(name, "prerouting") == 0;
}

/* The ip saddr or iifname a rule matches, from its expression list. */
static const char *rule_key(const json_t *expr)
{
	size_t i;
	json_t *e;

	json_array_foreach(expr, i, e) {
		json_t *m = json_object_get(e, "match");
		json_t *left = json_object_get(m, "left");
		const char *right = json_get_str(m, "right");
		json_t *payload = json_object_get(left, "payload");
		const char *meta = json_get_str(json_object_get(left, "meta"), "key");

		if (!right)
			continue;
		if (payload && json_get_str(payload, "protocol") &&
		    strcmp(json_get_str(payload, "protocol"), "ip") == 0 &&
		    json_get_str(payload, "field") &&
		    strcmp(json_get_str(payload, "field"), "saddr") == 0)
			return right;
		if (meta && strcmp(meta, "iifname") == 0)
			return right;
	}
	return NULL;
}

static int add_rule(struct net_state *st, const json_t *rule, enum net_family f,
                    struct coi_error *err)
{
	const char *chain = json_get_str(rule, "chain"), *comment = json_get_str(rule, "comment");
	const char *key = rule_key(json_object_get(rule, "expr"));
	struct net_state_rule *sr, *arr;

	if (!chain || !is_base_chain(f, chain) || !json_is_integer(json_object_get(rule, "handle")))
		return 0;
	if (st->n_rules >= STATE_MAX)
		return coi_error_set(err, -E2BIG, "too many rules in coi's nft tables");
	arr = reallocarray(st->rules, st->n_rules + 1, sizeof(*arr));
	if (!arr)
		return coi_error_oom(err);
	st->rules = arr;
	sr = &arr[st->n_rules++];
	*sr = (struct net_state_rule){.family = f};
	strcpy(sr->chain, chain); /* one of the four base chain names */
	sr->handle = (uint64_t)json_integer_value(json_object_get(rule, "handle"));
	if (comment && strncmp(comment, "coi:", 4) == 0 && net_container_name_valid(comment + 4))
		strcpy(sr->owner, comment + 4);
	if (key && strlen(key) < sizeof(sr->key))
		strcpy(sr->key, key);
	return 0;
}

/* The container a set's name "d<k>-<container>" names (k: 1..3 digits), or NULL. */
static const char *set_owner(const char *name)
{
	size_t k = strspn(name + 1, "0123456789");

	if (name[0] != 'd' || k == 0 || k > 3 || name[1 + k] != '-' ||
	    !net_container_name_valid(name + 2 + k))
		return NULL;
	return name + 2 + k;
}

static int add_chain(struct net_state *st, const json_t *chain, enum net_family f, bool set,
                     struct coi_error *err)
{
	const char *name = json_get_str(chain, "name");
	const char *prefix = f == NET_FAMILY_IP ? "ct-" : "br-", *owner;
	struct net_state_chain *arr;

	if (!name)
		return 0;
	if (set)
		owner = f == NET_FAMILY_IP ? set_owner(name) : NULL;
	else
		owner = strncmp(name, prefix, 3) == 0 && net_container_name_valid(name + 3)
		                ? name + 3
		                : NULL;
	if (!owner)
		return 0;
	if (st->n_chains >= STATE_MAX)
		return coi_error_set(err, -E2BIG, "too many chains in coi's nft tables");
	arr = reallocarray(st->chains, st->n_chains + 1, sizeof(*arr));
	if (!arr)
		return coi_error_oom(err);
	st->chains = arr;
	arr[st->n_chains] = (struct net_state_chain){.family = f, .set = set};
	strcpy(arr[st->n_chains].name, name); /* owner + at most 5 */
	strcpy(arr[st->n_chains].owner, owner);
	st->n_chains++;
	return 0;
}

static int add_object(struct net_state *st, const json_t *item, const char *table,
                      struct coi_error *err)
{
	static const char *const kinds[] = {"table", "chain", "rule", "set"};
	enum net_family f;

	for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
		json_t *o = json_object_get(item, kinds[k]);
		const char *t = json_get_str(o, k == 0 ? "name" : "table");

		if (!o || !t || strcmp(t, table) != 0 ||
		    family_from_string(json_get_str(o, "family"), &f) < 0)
			continue;
		if (k == 0)
			*(f == NET_FAMILY_IP ? &st->have_ip : &st->have_bridge) = true;
		else if (k == 1 || k == 3)
			return add_chain(st, o, f, k == 3, err);
		else
			return add_rule(st, o, f, err);
	}
	return 0;
}

int net_state_parse(const char *json, size_t len, const char *table, struct net_state *st,
                    struct coi_error *err)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *items, *item;
	size_t i;
	int r;

	r = json_parse(json, len, &root, err);
	if (r < 0)
		return coi_error_prefix(err, "reading nft output");
	items = json_get_arr(root, "nftables");
	if (!items)
		return coi_error_set(err, -EBADMSG, "nft output has no 'nftables' array");
	json_array_foreach(items, i, item) {
		r = add_object(st, item, table, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int owner_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **net_state_owners(const struct net_state *st)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

	if (!l)
		return NULL;
	for (size_t i = 0; st && i < st->n_rules; i++)
		if (st->rules[i].owner[0] && !strv_contains(l, st->rules[i].owner) &&
		    strv_push(&l, st->rules[i].owner) < 0)
			return NULL;
	for (size_t i = 0; st && i < st->n_chains; i++)
		if (!strv_contains(l, st->chains[i].owner) &&
		    strv_push(&l, st->chains[i].owner) < 0)
			return NULL;
	qsort(l, strv_length(l), sizeof(char *), owner_cmp);
	return TAKE_PTR(l);
}
