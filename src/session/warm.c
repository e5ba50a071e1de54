/* SPDX-License-Identifier: MIT */
/* warm.c: see warm.h. */
#include "session/warm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "monitor/prescan.h"
#include "session/container.h"
#include "session/fleet.h"
#include "session/home.h"
#include "session/naming.h"
#include "session/network.h"
#include "session/state.h"
#include "session/veth.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/proc.h"
#include "util/strv.h"

/* The address pinned on the instance's NIC (network.c decided it before its start). */
static struct in_addr nic_address(const struct incus_instance *in)
{
	struct in_addr a = {0};

	for (size_t i = 0; i < in->devices.n; i++) {
		const char *type = incus_map_get(&in->devices.items[i].props, "type");
		const char *v = incus_map_get(&in->devices.items[i].props, "ipv4.address");

		if (type && strcmp(type, "nic") == 0 && v && inet_pton(AF_INET, v, &a) == 1)
			return a;
	}
	return a;
}

/* s as the session of candidate in (its name, slot, NIC and address), for the fingerprint. */
static int become(struct session *s, const struct incus_instance *in, struct coi_error *err)
{
	free(s->name);
	free(s->net_file);
	s->name = strdup(in->name);
	s->net_file = proc_run_path(in->name, "network");
	if (!s->name || !s->net_file)
		return coi_error_oom(err);
	s->slot = session_parse_name(in->name, NULL);
	veth_name(s->veth, sizeof(s->veth), s->hash, s->slot);
	s->ipv4 = nic_address(in);
	return 0;
}

static void forget(struct session *s)
{
	free(s->name);
	free(s->net_file);
	s->name = s->net_file = NULL;
	s->slot = 0;
	s->veth[0] = '\0';
	s->ipv4.s_addr = 0;
}

/* Whether in (a running, marked container of this workspace) is what this session would make for
 * its slot now: 1 yes, 0 no. */
static int matches(struct session *s, const struct incus_instance *in, struct coi_error *err)
{
	char fp[SHA256_HEX_LEN + 1];
	int r = become(s, in, err);

	if (r >= 0 && s->ipv4.s_addr)
		r = container_fingerprint(s, fp, err);
	if (r < 0)
		return r;
	return s->ipv4.s_addr && strcmp(fp, incus_map_get(&in->config, FLEET_WARM_KEY)) == 0;
}

/* The mark taken away while the instance is as this process saw it, its owner recorded first
 * (so that no moment shows it unowned and unmarked: 'coi clean --orphans' would take it). 1 when
 * this session has it, 0 when another claimer won. listed is the instance as the list showed it,
 * whose mark matched: the one under the ETag must carry the same mark and the same pinned address
 * (the session goes on with that address, network.c, without reading the instance again). */
static int take(struct session *s, const struct incus_instance *listed, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	const char *name = listed->name, *mark;
	struct incus_map unmark = {0};
	char etag[128];
	int r = incus_instance_get_etag(s->client, name, &in, etag, sizeof(etag), err);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	mark = incus_map_get(&in->config, FLEET_WARM_KEY);
	if (!fleet_is_warm_mark(mark) ||
	    strcmp(mark, incus_map_get(&listed->config, FLEET_WARM_KEY)) ||
	    nic_address(in).s_addr != s->ipv4.s_addr || !incus_map_get(&in->config, "raw.lxc") ||
	    in->status != INCUS_STATUS_RUNNING || !*etag)
		return 0;
	r = fleet_owner_record(name, getpid(), err);
	if (r < 0)
		return r;
	/* a claim is an ephemeral session's (persistent ones never claim): a `coi persist` that
	 * reached the container before any session had it does not make this one persistent */
	if (incus_map_set(&unmark, FLEET_WARM_KEY, "") < 0 ||
	    incus_map_set(&unmark, "user.coi.persistent", "false") < 0)
		r = coi_error_oom(err);
	else
		r = incus_instance_patch_if(s->client, name, &unmark, etag, err);
	incus_map_clear(&unmark);
	if (r < 0) /* still warm, or another claimer's now */
		(void)fleet_owner_warm(name, NULL);
	if (r == -ESTALE) {
		coi_error_clear(err);
		return 0;
	}
	return r < 0 ? r : 1;
}

/* Each marked container of this workspace, running or not (fn looks), in slot order: fn(s, in) says
 * go on (0), stop (> 0) or fails. */
static int each_warm(struct session *s,
                     int (*fn)(struct session *s, const struct incus_instance *in, void *ud,
                               struct coi_error *err),
                     void *ud, struct coi_error *err)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **list = NULL;
	_cleanup_free_ char *prefix = NULL;
	int r;

	if (asprintf(&prefix, "%s%s-", session_name_prefix(), s->hash) < 0)
		return coi_error_oom(err);
	r = incus_instance_list(s->client, prefix, 0, &list, err);
	for (size_t i = 0; r >= 0 && list[i]; i++) {
		r = 0;
		if (session_parse_name(list[i]->name, NULL) > 0 &&
		    fleet_is_warm_mark(incus_map_get(&list[i]->config, FLEET_WARM_KEY)))
			r = fn(s, list[i], ud, err);
		if (r > 0)
			return r;
	}
	return r < 0 ? r : 0;
}

static int claim_one(struct session *s, const struct incus_instance *in, void *ud,
                     struct coi_error *err)
{
	int r;

	(void)ud;
	if (in->status != INCUS_STATUS_RUNNING)
		return 0;
	r = matches(s, in, err);
	/* a saved session restored over the tool's context file its filler wrote would leave
	 * another file (its mode, its text) than a cold start, which restores first (home.h) */
	if (r > 0 && s->opts->resume_dir && home_by_filler(s)) {
		log_debug("warm '%s': not for a resumed session (its filler wrote the home)",
		          in->name);
		forget(s);
		return 0;
	}
	if (r > 0)
		r = take(s, in, err);
	if (r <= 0) {
		if (r == 0)
			log_debug("warm '%s': not this session's (another config, git directory or "
			          "image)",
			          in->name);
		forget(s);
	}
	return r;
}

int warm_claim(struct session *s, struct coi_error *err)
{
	int r;

	if (s->opts->warm <= 0 || s->opts->persistent || s->opts->slot > 0 || s->opts->warm_fill)
		return 0;
	r = session_net_bridge(s, err);
	if (r >= 0)
		r = each_warm(s, claim_one, NULL, err);
	if (r <= 0)
		return r < 0 ? coi_error_prefix(err, "warm pool") : 0;
	s->claimed = true;
	/* the end then kills the init its filler read from Incus, without asking again
	 * (container_signal_init); read before the supervisor takes the file */
	if (monitor_prescan_init(s->name, &s->init_pid, &s->init_start) < 0)
		s->init_pid = 0;
	log_debug("'%s': claimed warm (pool of %d)", s->name, s->opts->warm);
	return 1;
}

struct fill_count {
	int matching;
};

/* A stale one (another config, git directory or image) goes; a matching one counts. Another
 * user's of a workspace at the same path (the same names: naming.h) is neither: it matches no
 * fingerprint of this user's, and its owner record is in that user's ~/.coi/run, which this
 * process could not clean. */
static int count_one(struct session *s, const struct incus_instance *in, void *ud,
                     struct coi_error *err)
{
	struct fill_count *c = ud;
	struct coi_error e = {0};
	int r;

	if (!fleet_owner_is_warm(in->name)) {
		log_debug("warm '%s': not this user's", in->name);
		return 0;
	}
	/* stopped (a host reboot: boot.autostart is off; its guest crashed; incus stop): never
	 * claimed, only a running one is, so it would hold its slot and disk for good */
	if (in->status != INCUS_STATUS_RUNNING) {
		log_debug("warm '%s': %s, removing", in->name, incus_status_to_string(in->status));
		if (fleet_kill(s->client, in->name, NULL, NULL, &e) < 0)
			log_debug("warm '%s': %s", in->name, coi_error_message(&e));
		return 0;
	}
	r = matches(s, in, err);
	forget(s);
	if (r < 0)
		return r;
	if (r > 0) {
		c->matching++;
		return 0;
	}
	log_debug("warm '%s': stale (another config, git directory or image): removing", in->name);
	if (fleet_kill(s->client, in->name, NULL, NULL, &e) < 0)
		log_debug("warm '%s': %s", in->name, coi_error_message(&e));
	return 0;
}

int warm_fill_check(struct session *s, struct coi_error *err)
{
	struct fill_count c = {0};
	int r = session_net_bridge(s, err);

	if (r >= 0)
		r = each_warm(s, count_one, &c, err);
	if (r < 0)
		return r;
	if (c.matching >= s->opts->warm)
		return coi_error_set(err, -EEXIST, "%d warm", c.matching);
	return 0;
}

/* The fingerprint covers the image the alias names now, the container is of the one it named
 * when it was made: when 'coi build' moved the alias in between, marking it would let a session
 * of the new image claim a container of the old one. */
static int of_current_image(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	_cleanup_free_ char *image = NULL;
	const char *base;
	int r = incus_instance_get(s->client, s->name, &in, err);

	if (r >= 0)
		r = incus_image_alias_target(s->client, s->opts->image, &image, err);
	if (r < 0)
		return r;
	base = incus_map_get(&in->config, "volatile.base_image");
	if (!base || strcmp(base, image) != 0)
		return coi_error_set(
		        err, -ESTALE,
		        "'%s' was made from %.12s, and '%s' names %.12s now (coi build)", s->name,
		        base ? base : "another image", s->opts->image, image);
	return 0;
}

int warm_prescan(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	struct coi_error e = {0};

	(void)err;
	if (!s->opts->monitor_argv || strv_contains(s->opts->monitor_argv, "--timer-only"))
		return 0;
	if (incus_instance_state(s->client, s->name, &st, &e) < 0 || st->pid <= 1 ||
	    monitor_prescan_write(s->name, (pid_t)st->pid, s->ipv4, &e) < 0)
		log_debug("'%s': its supervisor will read it itself: %s", s->name,
		          st && st->pid <= 1 ? "no init" : coi_error_message(&e));
	return 0;
}

int warm_unprescan(struct session *s, struct coi_error *err)
{
	(void)err;
	monitor_prescan_remove(s->name);
	return 0;
}

int warm_mark(struct session *s, struct coi_error *err)
{
	char fp[SHA256_HEX_LEN + 1];
	struct incus_map mark = {0};
	struct ws_lock l = WS_LOCK_INIT;
	int r;

	if (!s->ipv4.s_addr)
		return coi_error_set(err, -EOPNOTSUPP,
		                     "a warm container needs its address decided before start (a "
		                     "managed bridge, one NIC)");
	r = container_fingerprint(s, fp, err);
	if (r >= 0)
		r = of_current_image(s, err);
	if (r < 0)
		return r;
	if (incus_map_set(&mark, FLEET_WARM_KEY, fp) < 0)
		return coi_error_oom(err);
	/* the mark and the owner record 'warm' as one step for this user's claimers, who claim
	 * under the workspace's lock: one between the two would have its own record overwritten
	 * with 'warm', and its session, running and unmarked, taken for an orphan (fleet.c) */
	r = session_lock_workspace(s->hash, 60000, &l, err);
	if (r >= 0)
		r = incus_instance_patch(s->client, s->name, &mark, NULL, err);
	incus_map_clear(&mark);
	if (r >= 0)
		r = fleet_owner_warm(s->name, err);
	session_unlock_workspace(&l);
	if (r < 0)
		return r;
	log_debug("'%s': warm", s->name);
	return 0;
}
