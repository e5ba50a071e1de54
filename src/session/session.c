/* SPDX-License-Identifier: MIT */
/* session.c: the session pipeline (see session.h). Each phase that changes the world pushes an
 * undo step; session_stop() and every failure path run them in reverse, with interruption
 * reset so a Ctrl-C during start still cleans up completely. */
#include "session/session.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress/secret.h"
#include "incus/incus.h"
#include "monitor/monitor.h"
#include "netpolicy/netpolicy.h"
#include "session/context.h"
#include "session/credproxy.h"
#include "session/devices.h"
#include "session/fleet.h"
#include "session/forward.h"
#include "session/idmount.h"
#include "session/immutable.h"
#include "session/network.h"
#include "session/protect-snapshot.h"
#include "session/protect.h"
#include "session/saved.h"
#include "session/secrets.h"
#include "session/sweep.h"
#include "session/tool.h"
#include "session/workspace.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"

typedef int (*undo_fn)(struct session *s, struct coi_error *err);

struct undo {
	const char *what;
	undo_fn fn;
};

/* The first terminating signal that came (0: none), for the exit status: 128 + it. */
static volatile sig_atomic_t interrupted;
/* Whether a signal may abort the Incus call in flight. Not while the container is being created:
 * the daemon would go on creating it after we stopped listening, and it could appear after our
 * cleanup looked for it (creation takes well under a second; the start phases check the flag
 * after it). Never during the teardown: a second Ctrl-C must not leave half of it undone. */
static volatile sig_atomic_t abortable;

static void on_signal(int sig)
{
	if (!interrupted)
		interrupted = sig;
	if (abortable)
		incus_interrupt();
}

static void set_abortable(bool on)
{
	abortable = on;
	if (on && interrupted)
		incus_interrupt();
}

void session_install_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

bool session_interrupted(void)
{
	return interrupted != 0;
}

int session_interrupt_signal(void)
{
	return interrupted;
}

void session_opts_release(struct session_opts *o)
{
	free(o->workspace);
	free(o->image);
	free(o->storage_pool);
	free(o->profile);
	free(o->session_name);
	free(o->code_user);
	strv_free(o->protected_paths);
	strv_free(o->secret_paths);
	for (size_t i = 0; i < o->n_mounts; i++) {
		free(o->mounts[i].host);
		free(o->mounts[i].container);
	}
	free(o->mounts);
	for (size_t i = 0; i < o->n_env; i++) {
		free(o->env[i].name);
		free(o->env[i].value);
	}
	free(o->env);
	free(o->limits.cpu);
	free(o->limits.cpu_allowance);
	free(o->limits.memory);
	free(o->limits.memory_enforce);
	free(o->limits.memory_swap);
	free(o->limits.disk_size);
	free(o->limits.disk_read);
	free(o->limits.disk_write);
	free(o->limits.disk_max);
	free(o->tool);
	free(o->tool_binary);
	strv_free(o->tool_options);
	free(o->context_file);
	free(o->context_json_file);
	free(o->resume_dir);
	for (size_t i = 0; i < o->n_sockets; i++) {
		free(o->sockets[i].device);
		free(o->sockets[i].host);
		free(o->sockets[i].container);
		free(o->sockets[i].env);
	}
	free(o->sockets);
	for (size_t i = 0; i < o->n_ports; i++) {
		free(o->ports[i].name);
		free(o->ports[i].env);
		free(o->ports[i].listen);
	}
	free(o->ports);
	for (size_t i = 0; i < o->n_creds; i++) {
		free(o->creds[i].host);
		free(o->creds[i].container);
	}
	free(o->creds);
	egress_set_release(o->secrets);
	free(o->secrets);
	free(o->secret_expires);
	strv_free(o->monitor_argv);
	strv_free(o->monitor_env);
	free(o->credentials);
	if (o->net) {
		net_policy_release(o->net);
		free(o->net);
	}
	*o = (struct session_opts){0};
}

struct session *session_free(struct session *s)
{
	if (!s)
		return NULL;
	free(s->name);
	free(s->container_workspace);
	protect_plan_free(s->plan);
	secrets_plan_free(s->hidden);
	free(s->mask_file);
	free(s->mask_dir);
	strv_free(s->protect_before);
	free(s->immutable_state);
	free(s->protect_state);
	free(s->idmount);
	strv_free(s->warnings);
	free(s->undo);
	credproxy_handoff_close(&s->egress);
	free(s);
	return NULL;
}
static int undo_push(struct session *s, const char *what, undo_fn fn)
{
	struct undo *u = realloc(s->undo, sizeof(*u) * (s->n_undo + 1));

	if (!u)
		return -ENOMEM;
	s->undo = u;
	s->undo[s->n_undo++] = (struct undo){.what = what, .fn = fn};
	return 0;
}

/* Run every undo step in reverse; keep going after a failure, report the first. */
static int undo_all(struct session *s, struct coi_error *err)
{
	int first = 0;

	set_abortable(false);
	incus_interrupt_reset();
	while (s->n_undo > 0) {
		struct undo *u = &s->undo[--s->n_undo];
		struct coi_error e = {0};
		int r = u->fn(s, &e);

		log_timing(u->what);
		if (r < 0) {
			log_debug("undo '%s' failed: %s", u->what, coi_error_message(&e));
			if (!first) {
				first = r;
				if (err)
					*err = e;
			}
		}
	}
	return first;
}

/* ---- phases ------------------------------------------------------------------------------ */

static int check_interrupted(struct coi_error *err)
{
	return interrupted ? coi_error_set(err, -ECANCELED, "interrupted") : 0;
}

static int undo_delete_container(struct session *s, struct coi_error *err)
{
	/* already gone (the monitor removed it, or coi kill did) counts as done */
	return fleet_delete(s->client, s->name, err);
}

static int undo_stop_container(struct session *s, struct coi_error *err)
{
	return incus_instance_set_state(s->client, s->name, INCUS_ACTION_STOP, true, -1, err);
}

/* The agent's state outlives an ephemeral container. Never fails the teardown: a session that
 * could not be saved is a warning. */
static int undo_save(struct session *s, struct coi_error *err)
{
	struct coi_error e = {0};
	_cleanup_free_ char *w = NULL;

	(void)err;
	if (saved_session_save(s, s->id, &e) >= 0 ||
	    incus_instance_exists(s->client, s->name, NULL) == 0)
		return 0; /* saved, or the container is already gone (the monitor removed it) */
	if (asprintf(&w, "the agent's session was not saved: %s", coi_error_message(&e)) >= 0)
		(void)strv_consume(&s->warnings, TAKE_PTR(w));
	return 0;
}

static int undo_monitor(struct session *s, struct coi_error *err)
{
	return monitor_supervisor_stop(s->name, err) < 0 ? -EIO : 0;
}

/* The security monitor runs on the host in a supervisor process of its own (`coi monitor NAME
 * --daemon`), so it outlives a detach and needs nothing from this one; it returns once every
 * event source is live. */
static int start_monitor(struct session *s, struct coi_error *err)
{
	_cleanup_strv_free_ char **argv = NULL;
	int status;
	pid_t pid;

	if (!s->opts->monitor_argv)
		return 0;
	if (strv_push(&argv, "coi") < 0 || strv_push(&argv, "monitor") < 0 ||
	    strv_push(&argv, s->name) < 0 || strv_push(&argv, "--daemon") < 0 ||
	    credproxy_supervisor_args(&s->egress, &argv) < 0)
		return coi_error_oom(err);
	strv_foreach(a, s->opts->monitor_argv)
		if (strv_push(&argv, *a) < 0)
			return coi_error_oom(err);
	if (s->nflog_group && s->nflog_group != coi_nflog_group(s->name)) {
		/* the hash's group had a listener already: the one the rules send to */
		char g[8];

		(void)snprintf(g, sizeof(g), "%u", (unsigned)s->nflog_group);
		if (strv_push(&argv, "--nflog-group") < 0 || strv_push(&argv, g) < 0)
			return coi_error_oom(err);
	}
	pid = fork();
	if (pid < 0)
		return coi_error_errno(err, errno, "cannot start the monitor");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			(void)dup2(null, STDOUT_FILENO);
		/* the credential proxy's secrets and socket, as fds 3 and 4 */
		if (credproxy_child_fds(&s->egress) < 0)
			_exit(127);
		/* the supervisor lives on: it must not hold a caller's pipe open */
		(void)close_range(s->egress.memfd >= 0 ? 5 : 3, ~0U, 0);
		/* the same daemon and project as this session, whatever its config layers said */
		(void)incus_client_export_env(s->client);
		strv_foreach(e, s->opts->monitor_env)
			(void)putenv(*e);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return coi_error_set(err, -EIO,
		                     "the security monitor of '%s' did not start (see "
		                     "~/.coi/logs/%s.monitor.log)",
		                     s->name, s->name);
	return undo_push(s, "stop the monitor", undo_monitor) < 0 ? coi_error_oom(err) : 0;
}

static int undo_net(struct session *s, struct coi_error *err)
{
	return session_net_remove(s, err);
}

static int undo_owner(struct session *s, struct coi_error *err)
{
	(void)err;
	fleet_owner_clear(s->name);
	return 0;
}

/* Who owns the container, so 'coi clean --orphans' and 'coi list' can tell when that process is
 * gone. Recorded before the container exists and forgotten after it is gone (the undo steps run
 * in reverse, the background teardown's too), so no moment shows it without an owner. */
static int record_owner(struct session *s, struct coi_error *err)
{
	int r = fleet_owner_record(s->name, getpid(), err);

	if (r < 0)
		return r;
	return undo_push(s, "forget the owner", undo_owner) < 0 ? coi_error_oom(err) : 0;
}

static int undo_immutable(struct session *s, struct coi_error *err)
{
	return protect_restore_immutable(s->immutable_state, err);
}

static void compare_protected(struct session *s)
{
	_cleanup_strv_free_ char **changes = NULL;
	struct coi_error e = {0};

	if (!s->plan || !s->protect_before)
		return;
	if (protect_compare(s->plan, s->protect_before, &changes, &e) < 0) {
		(void)strv_push(&s->warnings, coi_error_message(&e));
		return;
	}
	strv_foreach(c, changes) {
		_cleanup_free_ char *m = NULL;

		if (asprintf(&m, "PROTECTED PATH CHANGED: %s", *c) >= 0)
			(void)strv_consume(&s->warnings, TAKE_PTR(m));
	}
}

/* Registered first, so it runs last: after the container is stopped, frozen or gone and the
 * immutable flags are cleared. Says what changed under protection, then takes the placeholders
 * away and quarantines what the agent planted (sweep.h). */
static int undo_protection(struct session *s, struct coi_error *err)
{
	_cleanup_strv_free_ char **report = NULL;
	int r;

	compare_protected(s);
	if (!s->protect_state)
		return protect_remove_placeholders(s->plan, err);
	r = sweep_finish(s->protect_state, &report, err);
	strv_foreach(l, report)
		(void)strv_push(&s->warnings, *l);
	return r;
}

/* The uid that owns the workspace files the agent writes. */
static int check_subid(int64_t id, const char *file, struct coi_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[256];

	if (!f)
		return coi_error_errno(err, errno, "cannot read '%s'", file);
	while (fgets(line, sizeof(line), f)) {
		long long start, count;

		if (sscanf(line, "root:%lld:%lld", &start, &count) == 2 && id >= start &&
		    id < start + count && count < 65536)
			return 0;
	}
	return coi_error_set(err, -EPERM,
	                     "Incus may not map host id %lld into containers: add 'root:%lld:1' to "
	                     "%s (sudo scripts/setup-host does this for every regular user and "
	                     "member of incus-admin)",
	                     (long long)id, (long long)id, file);
}

static int pick_name(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **list = NULL;
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *prefix = NULL;
	int r;

	if (s->opts->slot > 0) {
		s->slot = s->opts->slot;
		s->name = session_container_name(s->hash, s->slot);
		return s->name ? 0 : coi_error_oom(err);
	}
	if (asprintf(&prefix, "%s%s-", session_name_prefix(), s->hash) < 0)
		return coi_error_oom(err);
	r = incus_instance_list(s->client, prefix, 0, &list, err);
	if (r < 0)
		return r;
	for (size_t i = 0; list[i]; i++) {
		/* a persistent session reuses its stopped container */
		if (s->opts->persistent && list[i]->status == INCUS_STATUS_STOPPED &&
		    session_parse_name(list[i]->name, NULL) > 0) {
			s->slot = session_parse_name(list[i]->name, NULL);
			s->name = strdup(list[i]->name);
			return s->name ? 0 : coi_error_oom(err);
		}
		if (strv_push(&names, list[i]->name) < 0)
			return coi_error_oom(err);
	}
	s->slot = session_pick_slot(s->hash, names);
	if (s->slot < 0)
		return coi_error_set(
		        err, -EBUSY,
		        "all %d automatic slots of this workspace are in use (coi list; coi "
		        "kill NAME; or --slot N)",
		        SESSION_SLOT_MAX_AUTO);
	s->name = session_container_name(s->hash, s->slot);
	return s->name ? 0 : coi_error_oom(err);
}

/* A persistent container is checked again before each start: its own config and its profiles
 * may have been changed by hand since coi made it. What coi refuses at creation it refuses here,
 * with the same words, and a removed or changed seccomp policy is put back. */
static int check_reused(struct session *s, const struct incus_instance *i, struct coi_error *err)
{
	bool root = s->opts->host_uid == 0;
	struct session_layout l = {.raw_idmap = !root, .deny_setid = true};
	struct incus_map fix = {0};
	int r = 0;

	for (char **p = i->profiles; p && *p && r >= 0; p++) {
		_cleanup_(incus_profile_freep) struct incus_profile *prof = NULL;

		r = incus_profile_get(s->client, *p, &prof, err);
		if (r >= 0)
			r = session_check_profile(&prof->config, *p, err);
	}
	if (r >= 0)
		r = session_check_instance(s->opts, &l, &i->config, s->name, &fix, err);
	if (r >= 0 && fix.n > 0) {
		log_debug("'%s': putting coi's seccomp policy back", s->name);
		r = incus_instance_patch(s->client, s->name, &fix, NULL, err);
	}
	incus_map_clear(&fix);
	return r;
}

/* An existing container with our name: reuse it if persistent, else it is in the way. */
static int handle_existing(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *i = NULL;
	int r = incus_instance_get(s->client, s->name, &i, err);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (i->status == INCUS_STATUS_STOPPED && s->opts->persistent) {
		r = check_reused(s, i, err);
		if (r < 0)
			return r;
		s->reused = true;
		return 0;
	}
	if (i->status == INCUS_STATUS_STOPPED) {
		log_debug("deleting stopped leftover '%s'", s->name);
		return incus_instance_delete(s->client, s->name, true, err);
	}
	return coi_error_set(err, -EBUSY,
	                     "slot %d of this workspace is in use by '%s' (%s): attach with 'coi "
	                     "attach %s', or stop it with 'coi kill %s'",
	                     s->slot, s->name, incus_status_to_string(i->status), s->name, s->name);
}

static bool is_protection_device(const char *name)
{
	return strcmp(name, "gitdir") == 0 || strncmp(name, "gitdir-", 7) == 0 ||
	       strncmp(name, "protect-", 8) == 0;
}

/* A persistent container keeps the disks of the session that made it, but the workspace's git
 * directories may have come and gone since (a device whose source is gone fails the start): its
 * protection disks become this session's plan. */
static int sync_disks(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	_cleanup_strv_free_ char **stale = NULL;
	struct session_layout l = {.container_workspace = s->container_workspace,
	                           .source_root = s->idmount};
	struct incus_devices disks = {0};
	int r = incus_instance_get(s->client, s->name, &in, err);

	for (size_t i = 0; r >= 0 && i < in->devices.n; i++)
		if (is_protection_device(in->devices.items[i].name) &&
		    strv_push(&stale, in->devices.items[i].name) < 0)
			r = coi_error_oom(err);
	if (r >= 0 && stale)
		r = incus_instance_remove_devices(s->client, s->name, stale, err);
	if (r >= 0 && session_build_disks(s->opts, s->plan, &l, &disks) < 0)
		r = coi_error_oom(err);
	if (r >= 0)
		r = incus_instance_patch(s->client, s->name, NULL, &disks, err);
	incus_devices_clear(&disks);
	return r;
}

static int check_image(struct session *s, struct coi_error *err)
{
	int r = incus_image_alias_exists(s->client, s->opts->image, err);

	if (r != 0)
		return r < 0 ? r : 0;
	return coi_error_set(err, -ENOENT,
	                     "image '%s' not found: build it with 'coi build' (or set "
	                     "[container] image)",
	                     s->opts->image);
}

static int undo_idmount(struct session *s, struct coi_error *err)
{
	return idmount_remove_container(s->name, err);
}

/* Sessions of another user: the workspace through a mount in which only the user's ids are
 * mapped (idmount.h), made before the container that mounts it. */
static int mount_user_workspace(struct session *s, struct coi_error *err)
{
	int r;

	s->idmount = idmount_target(s->name);
	if (!s->idmount)
		return coi_error_oom(err);
	r = idmount_create_user(s->opts->workspace, s->name, (uid_t)s->opts->host_uid,
	                        (gid_t)s->opts->host_gid, err);
	if (r < 0)
		return r;
	return undo_push(s, "remove the idmapped workspace mount", undo_idmount) < 0
	               ? coi_error_oom(err)
	               : 0;
}

/* Sessions of host root: the agent keeps an unprivileged uid from the container's own range, and
 * sees the root-owned workspace through an idmapped mount (idmount.h). The range is known once
 * the container exists, so create it stopped, mount, add the disks, then start. */
static int mount_idmapped_workspace(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *i = NULL;
	const char *base;
	long long b;
	int r;

	r = incus_instance_get(s->client, s->name, &i, err);
	if (r < 0)
		return r;
	base = incus_map_get(&i->config, "volatile.idmap.base");
	if (!base || (b = strtoll(base, NULL, 10)) <= 0)
		return coi_error_set(err, -EPROTO, "'%s' has no isolated id range", s->name);
	s->idmount = idmount_target(s->name);
	if (!s->idmount)
		return coi_error_oom(err);
	r = idmount_create(s->opts->workspace, s->idmount, 0, 0, (uid_t)(b + s->opts->code_uid),
	                   (gid_t)(b + s->opts->code_uid), err);
	if (r < 0)
		return r;
	return undo_push(s, "remove the idmapped workspace mount", undo_idmount) < 0
	               ? coi_error_oom(err)
	               : 0;
}

static int attach_idmapped_workspace(struct session *s, struct session_layout *l,
                                     struct coi_error *err)
{
	struct incus_devices disks = {0};
	int r;

	r = mount_idmapped_workspace(s, err);
	if (r < 0)
		return r;
	l->source_root = s->idmount;
	if (session_build_disks(s->opts, s->plan, l, &disks) < 0)
		return coi_error_oom(err);
	r = incus_instance_patch(s->client, s->name, NULL, &disks, err);
	incus_devices_clear(&disks);
	if (r < 0)
		return r;
	return incus_instance_set_state(s->client, s->name, INCUS_ACTION_START, false, -1, err);
}

static int create_container(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_profile_freep) struct incus_profile *prof = NULL;
	const char *profile = s->opts->profile ? s->opts->profile : "default";
	bool root = s->opts->host_uid == 0;
	struct incus_map cfg = {0};
	struct incus_devices dev = {0};
	char *profiles[] = {(char *)profile, NULL};
	struct session_layout l = {
	        .slot = s->slot,
	        .veth = s->veth,
	        .container_workspace = s->container_workspace,
	        .raw_idmap = !root,
	        .deny_setid = true,
	        .with_disks = !root,
	        .secrets = s->hidden,
	        .mask_file = s->mask_file,
	        .mask_dir = s->mask_dir,
	};
	int r;

	if (!root) {
		r = mount_user_workspace(s, err);
		if (r < 0)
			return r;
		l.source_root = s->idmount;
	}
	r = incus_profile_get(s->client, profile, &prof, err);
	if (r < 0)
		return r;
	r = session_check_profile(&prof->config, profile, err);
	if (r < 0)
		return r;
	r = session_build_create(s->opts, s->plan, &prof->devices, &l, &cfg, &dev, err);
	if (r < 0)
		return r;
	r = incus_instance_create(s->client,
	                          &(struct incus_instance_spec){
	                                  .name = s->name,
	                                  .image_alias = s->opts->image,
	                                  .start = !root,
	                                  .profiles = profiles,
	                                  .config = &cfg,
	                                  .devices = &dev,
	                                  .storage_pool = s->opts->storage_pool,
	                          },
	                          &s->opts->create_wait, err);
	/* the daemon's words ("Storage pool not found") name neither the pool nor the setting */
	if (r < 0 && s->opts->storage_pool &&
	    incus_storage_pool_exists(s->client, s->opts->storage_pool, NULL) == 0)
		r = coi_error_set(
		        err, -ENOENT,
		        "storage pool '%s' ([container] storage_pool) does not exist on this "
		        "Incus server: 'incus storage list' shows the pools",
		        s->opts->storage_pool);
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);
	if (r >= 0 &&
	    undo_push(s, s->opts->persistent ? "stop the container" : "delete the container",
	              s->opts->persistent ? undo_stop_container : undo_delete_container) < 0)
		r = coi_error_oom(err);
	if (r >= 0 && !s->opts->persistent &&
	    undo_push(s, "save the agent's session", undo_save) < 0)
		r = coi_error_oom(err);
	if (r >= 0 && root)
		r = attach_idmapped_workspace(s, &l, err);
	if (r < 0) {
		struct coi_error ignore = {0};

		/* A failed start can leave a created, stopped instance behind: remove it (even a
		 * persistent one: it never ran). */
		(void)incus_instance_delete(s->client, s->name, true, &ignore);
		return coi_error_prefix(err, "cannot start '%s'", s->name);
	}
	return 0;
}

/* Exec works a few hundred ms after start returns; poll it, bounded by ready_timeout. */
static int wait_ready(struct session *s, struct coi_error *err)
{
	char *argv[] = {"true", NULL};
	struct timespec step = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
	struct timespec t0, now;
	struct incus_exec_opts o;

	incus_exec_opts_init(&o);
	o.argv = argv;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct incus_exec_result res = {0};
		struct coi_error e = {0};
		int r = incus_exec(s->client, s->name, &o, &res, &e);

		incus_exec_result_release(&res);
		if (r >= 0 && res.exit_status == 0)
			return 0;
		if (interrupted)
			return coi_error_set(err, -ECANCELED, "interrupted");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= s->opts->ready_timeout)
			return coi_error_set(err, -ETIMEDOUT,
			                     "'%s' did not become ready within %d s: %s", s->name,
			                     s->opts->ready_timeout, coi_error_message(&e));
		(void)nanosleep(&step, NULL);
	}
}

/* [limits.disk] tmpfs_size: /tmp in memory, of that size, mounted by container root before the
 * agent starts (the mount policy lets a new tmpfs through, and refuses its unmounting). Its
 * pages count against the container's memory limit. */
static int mount_tmpfs(struct session *s, struct coi_error *err)
{
	char opts[96];
	char *argv[] = {"mount", "-t", "tmpfs", "-o", opts, "tmpfs", "/tmp", NULL};
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	int r;

	if (!s->opts->limits.tmpfs_size)
		return 0;
	(void)snprintf(opts, sizeof(opts), "size=%llu,mode=1777,nosuid,nodev",
	               (unsigned long long)s->opts->limits.tmpfs_size);
	incus_exec_opts_init(&o);
	o.argv = argv;
	o.capture_max = 4096;
	r = incus_exec(s->client, s->name, &o, &res, err);
	if (r >= 0 && res.exit_status != 0)
		r = coi_error_set(err, -EIO, "exit %d: %s", res.exit_status,
		                  res.err && *res.err ? res.err : "no message");
	incus_exec_result_release(&res);
	return r < 0 ? coi_error_prefix(err, "[limits.disk] tmpfs_size: cannot mount /tmp") : 0;
}

/* What the end of the session needs, written before the container exists: every way a session
 * ends finishes it from this file (sweep.h). */
static int save_protection(struct session *s, struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir();
	_cleanup_free_ char *run = dir ? path_join(dir, "run") : NULL;

	if (!run || asprintf(&s->protect_state, "%s/%s.protect", run, s->name) < 0)
		return coi_error_oom(err);
	(void)mkdir_p(run, 0700);
	return sweep_save(s->plan, s->name, s->protect_state, err);
}

static int protect_host(struct session *s, struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir();
	int r;

	r = protect_snapshot(s->plan, &s->protect_before, err);
	if (r < 0 || !s->opts->host_immutable || s->plan->n_entries == 0)
		return r;
	if (!dir || asprintf(&s->immutable_state, "%s/run/%s.immutable", dir, s->name) < 0)
		return coi_error_oom(err);
	r = undo_push(s, "restore immutable flags", undo_immutable);
	if (r < 0)
		return coi_error_oom(err);
	r = protect_set_immutable(s->plan, s->immutable_state, err);
	if (r == -EPERM) {
		/* Not root and no CAP_LINUX_IMMUTABLE: the read-only mounts remain. */
		strv_push(&s->warnings, "cannot make protected paths immutable on the host (needs "
		                        "root or CAP_LINUX_IMMUTABLE): only the read-only mounts "
		                        "protect them");
		return 0;
	}
	return r < 0 ? r : 0;
}

/* ---- the user's environment in the container ---------------------------------------------- */

static int write_home_file(struct session *s, const char *rel, const char *text, int mode,
                           struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;
	struct incus_file_attrs a = {
	        .uid = s->opts->code_uid, .gid = s->opts->code_uid, .mode = mode};

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, rel) < 0)
		return coi_error_oom(err);
	return incus_file_write(s->client, s->name, path, text, strlen(text), &a, err);
}

/* mkdir -p of a directory under the code user's home, owned by code. */
static int make_home_dir(struct session *s, const char *rel, struct coi_error *err)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/home/%s/%s", s->opts->code_user, rel) < 0)
		return coi_error_oom(err);
	return forward_mkdirs(s, path, err);
}

static int inject_tool_context(struct session *s, const struct tool *t, const char *context,
                               struct coi_error *err)
{
	_cleanup_buf_ struct buf old = BUF_INIT(1u << 20), merged = BUF_INIT(2u << 20);
	_cleanup_free_ char *path = NULL, *dir = strdup(t->context_file);
	char *slash;
	int r;

	if (!dir || asprintf(&path, "/home/%s/%s", s->opts->code_user, t->context_file) < 0)
		return coi_error_oom(err);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = make_home_dir(s, dir, err);
		if (r < 0)
			return r;
	}
	r = incus_file_read(s->client, s->name, path, &old, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (context_merge_block(r < 0 ? NULL : buf_str(&old), context, &merged) < 0)
		return coi_error_oom(err);
	return write_home_file(s, t->context_file, buf_str(&merged), 0644, err);
}

/* opencode reads its permissions from its config: allow everything in bypass mode. */
static int opencode_bypass(struct session *s, struct coi_error *err)
{
	int r = make_home_dir(s, ".config/opencode", err);

	if (r < 0)
		return r;
	return write_home_file(s, ".config/opencode/opencode.json",
	                       "{\n  \"permission\": {\"edit\": \"allow\", \"bash\": \"allow\", "
	                       "\"webfetch\": \"allow\"}\n}\n",
	                       0644, err);
}

static int undo_forward(struct session *s, struct coi_error *err)
{
	return forward_devices_remove(s, err);
}

/* Sockets in and ports out (forward.c); a persistent container must not keep them: they would
 * bind host ports and need host sockets the next time it starts. */
static int forward(struct session *s, struct coi_error *err)
{
	int r = forward_devices_add(s, err);

	if (r < 0 || !(s->opts->persistent || s->reused))
		return r;
	return undo_push(s, "remove forwarded devices", undo_forward) < 0 ? coi_error_oom(err) : 0;
}

/* [tool] copy_credentials: the tool's own login, copied (never mounted) as code's, mode 0600. */
static int copy_credentials(struct session *s, const struct tool *t, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int r;

	if (!s->opts->credentials || !t || !t->credential_file)
		return 0;
	r = read_file(s->opts->credentials, &b, err);
	if (r < 0)
		return coi_error_prefix(err, "[tool] copy_credentials");
	dir = strdup(t->credential_file);
	if (!dir)
		return coi_error_oom(err);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = make_home_dir(s, dir, err);
		if (r < 0)
			return r;
	}
	return write_home_file(s, t->credential_file, buf_str(&b), 0600, err);
}

/* [security] secret_paths: what to hide, found before the container exists, and what to hide it
 * with. */
static int plan_secrets(struct session *s, struct coi_error *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = secrets_plan_build(s->opts->workspace, s->opts->secret_paths, &s->hidden, err);

	if (r < 0 || s->hidden->n_entries == 0)
		return r;
	dir = secrets_masks_dir();
	if (!dir)
		return coi_error_oom(err);
	r = secrets_mask_sources(dir, &s->mask_file, &s->mask_dir, err);
	if (r >= 0 && s->opts->docker &&
	    strv_push(&s->hidden->notes, "[security] secret_paths: with [container] docker on, "
	                                 "container root may unmount what hides them (Docker "
	                                 "needs mounts)") < 0)
		r = coi_error_oom(err);
	return r;
}

/* A persistent container started again gets today's [limits]. */
static int refresh_limits(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_profile_freep) struct incus_profile *prof = NULL;
	struct incus_map cfg = {0};
	struct incus_devices d = {0};
	int r;

	r = incus_profile_get(s->client, s->opts->profile ? s->opts->profile : "default", &prof,
	                      err);
	if (r < 0)
		return r;
	if (session_build_limits(s->opts, &prof->devices, &cfg, &d) < 0)
		r = coi_error_oom(err);
	else
		r = incus_instance_patch(s->client, s->name, &cfg, d.n ? &d : NULL, err);
	incus_map_clear(&cfg);
	incus_devices_clear(&d);
	return r < 0 ? coi_error_prefix(err, "[limits]") : 0;
}

/* A persistent container started again hides what secret_paths matches now: the masks of its
 * last session go, today's are added. */
static int refresh_secrets(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct session_layout l = {.container_workspace = s->container_workspace,
	                           .secrets = s->hidden,
	                           .mask_file = s->mask_file,
	                           .mask_dir = s->mask_dir};
	struct incus_devices d = {0};
	int r = incus_instance_get(s->client, s->name, &in, err);

	for (size_t i = 0; r >= 0 && i < in->devices.n; i++)
		if (session_is_secret_disk(in->devices.items[i].name))
			r = incus_instance_remove_device(s->client, s->name,
			                                 in->devices.items[i].name, err);
	if (r < 0 || s->hidden->n_entries == 0)
		return r;
	if (session_build_secret_disks(&l, &d) < 0)
		return coi_error_oom(err);
	r = incus_instance_patch(s->client, s->name, NULL, &d, err);
	incus_devices_clear(&d);
	return r;
}

/* The extra mounts as the daemon will see them: each source resolved here, once, and handed to
 * Incus resolved. One given inside the workspace must still be inside once symbolic links are
 * followed: a link in the project, planted by its code or by an agent in an earlier session
 * ("data -> /"), would otherwise share any host path. */
static int resolve_mounts(struct session_opts *o, struct coi_error *err)
{
	_cleanup_free_ char *ws = realpath(o->workspace, NULL);

	if (!ws)
		return coi_error_errno(err, errno, "cannot resolve the workspace '%s'",
		                       o->workspace);
	for (size_t i = 0; i < o->n_mounts; i++) {
		struct session_mount *m = &o->mounts[i];
		char *real = realpath(m->host, NULL);

		if (!real)
			return coi_error_errno(err, errno, "mount source '%s'", m->host);
		if (session_mount_check(real, err) < 0) {
			free(real);
			return err ? err->code : -EPERM;
		}
		if (path_is_inside(m->host, o->workspace) && !path_is_inside(real, ws)) {
			coi_error_set(
			        err, -EPERM,
			        "mount source '%s' is in the workspace but leads to '%s', outside "
			        "it (a symbolic link): refused",
			        m->host, real);
			free(real);
			return err ? err->code : -EPERM;
		}
		free(m->host);
		m->host = real;
	}
	return 0;
}

/* The workspace, checked before the agent starts: it must be there inside, a directory the
 * container user owns (the host owner, through the identity mapping). A workspace hidden inside
 * or mapped wrong fails the start here, instead of the agent running in / or unable to write. */
static int verify_workspace(struct session *s, struct coi_error *err)
{
	struct incus_file_stat st;
	int r = incus_file_stat(s->client, s->name, s->container_workspace, &st, err);

	if (r < 0)
		return coi_error_prefix(err, "the workspace is not at %s inside",
		                        s->container_workspace);
	if (strcmp(st.type, "directory") != 0 || st.uid != s->opts->code_uid)
		return coi_error_set(
		        err, -EPERM,
		        "the workspace at %s inside is a %s owned by uid %lld, not a "
		        "directory of the container user (uid %lld): it is not mounted, "
		        "or the identity mapping is wrong",
		        s->container_workspace, st.type, (long long)st.uid,
		        (long long)s->opts->code_uid);
	return 0;
}

/* ~/SANDBOX_CONTEXT.md: rendered, or [tool] context_file's text. */
static int sandbox_context(struct session *s, struct buf *out, struct coi_error *err)
{
	int r;

	if (!s->opts->context_file)
		return context_render(s, out) < 0 ? coi_error_oom(err) : 0;
	r = read_file(s->opts->context_file, out, err);
	return r < 0 ? coi_error_prefix(err, "[tool] context_file") : 0;
}

/* ~/SANDBOX_CONTEXT.json: rendered, or [tool] context_json_file's, which must be JSON (it is for
 * programs: a broken file would break exactly them). */
static int write_context_json(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	json_error_t je;
	json_t *j;
	int r;

	if (!s->opts->context_json && !s->opts->context_json_file)
		return 0;
	if (!s->opts->context_json_file) {
		if (context_render_json(s, &b) < 0)
			return coi_error_oom(err);
		return write_home_file(s, "SANDBOX_CONTEXT.json", buf_str(&b), 0644, err);
	}
	r = read_file(s->opts->context_json_file, &b, err);
	if (r < 0)
		return coi_error_prefix(err, "[tool] context_json_file");
	j = json_loadb(b.data, b.len, 0, &je);
	if (!j)
		return coi_error_set(err, -EINVAL,
		                     "[tool] context_json_file: %s:%d:%d: not JSON: %s",
		                     s->opts->context_json_file, je.line, je.column, je.text);
	json_decref(j);
	return write_home_file(s, "SANDBOX_CONTEXT.json", buf_str(&b), 0644, err);
}

static int prepare_user(struct session *s, struct coi_error *err)
{
	_cleanup_buf_ struct buf ctx = BUF_INIT(64u << 10), env = BUF_INIT(1u << 20);
	const struct tool *t = tool_find(s->opts->tool);
	int r;

	r = sandbox_context(s, &ctx, err);
	if (r < 0)
		return r;
	if (context_env_file(s->opts, &env) < 0)
		return coi_error_oom(err);
	r = s->opts->resume_dir ? saved_session_restore(s, s->opts->resume_dir, err) : 0;
	if (r >= 0)
		r = forward(s, err);
	if (r >= 0)
		r = make_home_dir(s, ".config/coi", err);
	if (r >= 0)
		r = write_home_file(s, ".config/coi/env", buf_str(&env), 0600, err);
	if (r >= 0)
		r = write_home_file(s, "SANDBOX_CONTEXT.md", buf_str(&ctx), 0644, err);
	if (r >= 0)
		r = write_context_json(s, err);
	if (r >= 0 && t && s->opts->auto_context && t->context_file)
		r = inject_tool_context(s, t, buf_str(&ctx), err);
	if (r >= 0 && t && s->opts->bypass && strcmp(t->name, "opencode") == 0)
		r = opencode_bypass(s, err);
	if (r >= 0)
		r = copy_credentials(s, t, err);
	if (r >= 0)
		r = forward_copy_credentials(s, err);
	return r < 0 ? coi_error_prefix(err, "preparing the code user's environment") : 0;
}

/* [[secrets]]: the proxy's socket on the bridge and its secrets, for the supervisor. */
static int prepare_secrets(struct session *s, struct coi_error *err)
{
	int r;

	if (!s->opts->secrets)
		return 0;
	r = session_net_bridge(s, err);
	if (r >= 0)
		r = credproxy_prepare(s->opts->secrets, s->opts->secret_expires, s->gateway,
		                      &s->egress, err);
	return r;
}

static int start_phases(struct session *s, struct coi_error *err)
{
	_cleanup_(session_unlock_workspace) struct ws_lock lock = WS_LOCK_INIT;
	int r;

	if (incus_client_is_remote(s->client))
		return coi_error_set(
		        err, -EOPNOTSUPP,
		        "sessions mount the workspace from this machine, so they need a "
		        "local Incus daemon, not the remote one configured");
	r = session_workspace_check(s->opts->workspace, s->opts->unsafe_workspace, err);
	if (r < 0)
		return r;
	r = check_subid(s->opts->host_uid, "/etc/subuid", err);
	if (r >= 0)
		r = check_subid(s->opts->host_gid, "/etc/subgid", err);
	if (r < 0)
		return r;
	r = session_identity_hash(s->opts->workspace, s->opts->session_name, s->hash);
	if (r < 0)
		return coi_error_errno(err, r, "cannot hash the workspace path");
	s->container_workspace =
	        strdup(s->opts->preserve_workspace_path ? s->opts->workspace : "/workspace");
	if (!s->container_workspace)
		return coi_error_oom(err);
	log_timing("start");
	r = protect_plan_build(s->opts->workspace, s->opts->protected_paths, true, &s->plan, err);
	if (r >= 0 && undo_push(s, "finish protection", undo_protection) < 0)
		r = coi_error_oom(err);
	if (r >= 0)
		r = plan_secrets(s, err);
	if (r >= 0)
		r = resolve_mounts(s->opts, err);
	if (r < 0)
		return r;
	/* Pick the slot and create under the lock, so concurrent starts never share a slot. */
	r = session_lock_workspace(s->hash, 60000, &lock, err);
	if (r < 0)
		return r;
	r = pick_name(s, err);
	if (r >= 0) {
		(void)snprintf(s->veth, sizeof(s->veth), "vcoi%.8s%d", s->hash, s->slot);
		r = handle_existing(s, err);
	}
	if (r >= 0)
		r = save_protection(s, err);
	log_timing("pick name");
	if (r >= 0 && !s->reused)
		r = check_image(s, err);
	if (r >= 0)
		r = forward_prepare(s, err);
	if (r >= 0 && s->reused)
		r = forward_devices_remove(s, err);
	if (r >= 0)
		r = check_interrupted(err);
	if (r < 0)
		return r;
	/* Fail closed: the container's traffic is dropped before its first packet. */
	r = session_net_boot(s, err);
	if (r < 0)
		return r;
	if (undo_push(s, "remove network rules", undo_net) < 0)
		return coi_error_oom(err);
	log_timing("network boot block");
	r = record_owner(s, err);
	if (r >= 0)
		r = prepare_secrets(s, err);
	if (r < 0)
		return r;
	if (s->reused) {
		/* a persistent container: its workspace mount went with the last session */
		r = s->opts->host_uid == 0 ? mount_idmapped_workspace(s, err)
		                           : mount_user_workspace(s, err);
		if (r >= 0)
			r = refresh_secrets(s, err);
		if (r >= 0)
			r = refresh_limits(s, err);
		if (r >= 0)
			r = sync_disks(s, err);
		if (r < 0)
			return r;
		r = incus_instance_set_state(s->client, s->name, INCUS_ACTION_START, false, -1,
		                             err);
		if (r < 0)
			return r;
		if (undo_push(s, "stop the container", undo_stop_container) < 0)
			return coi_error_oom(err);
	} else {
		set_abortable(false);
		r = create_container(s, err);
		set_abortable(true);
		if (r < 0)
			return r;
	}
	session_unlock_workspace(&lock);
	log_timing("container created and started");
	r = protect_host(s, err);
	if (r >= 0)
		r = check_interrupted(err);
	log_timing("host protection");
	if (r >= 0)
		r = wait_ready(s, err);
	if (r >= 0)
		r = verify_workspace(s, err);
	if (r >= 0)
		r = mount_tmpfs(s, err);
	log_timing("ready");
	if (r >= 0)
		r = session_net_apply(s, err);
	log_timing("network policy");
	if (r >= 0)
		r = start_monitor(s, err);
	/* the supervisor holds the proxy's secrets and socket now */
	credproxy_handoff_close(&s->egress);
	if (r >= 0)
		r = credproxy_inside(&(struct credproxy_target){.client = s->client,
		                                                .container = s->name,
		                                                .code_user = s->opts->code_user,
		                                                .code_uid = s->opts->code_uid,
		                                                .gateway = s->gateway},
		                     s->opts->secrets, err);
	if (r >= 0)
		r = prepare_user(s, err);
	log_timing("user environment");
	return r;
}

int session_start(struct session_opts *opts, struct incus_client *c, struct session **ret,
                  struct coi_error *err)
{
	_cleanup_(session_freep) struct session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return coi_error_oom(err);
	s->egress = (struct credproxy_handoff){.memfd = -EBADF, .listen_fd = -EBADF};
	r = session_opts_check(opts, err);
	if (r < 0)
		return r;
	s->opts = opts;
	s->client = c;
	if (saved_new_id(s->id) < 0)
		return coi_error_set(err, -EIO, "cannot make a session id");
	set_abortable(true);
	r = start_phases(s, err);
	if (r < 0) {
		(void)undo_all(s, NULL);
		return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- running commands -------------------------------------------------------------------- */

static char **session_env(const struct session *s)
{
	_cleanup_strv_free_ char **env = NULL;
	_cleanup_free_ char *home = NULL, *user = NULL, *logname = NULL;
	const char *term = getenv("TERM");

	if (asprintf(&home, "HOME=/home/%s", s->opts->code_user) < 0 ||
	    asprintf(&user, "USER=%s", s->opts->code_user) < 0 ||
	    asprintf(&logname, "LOGNAME=%s", s->opts->code_user) < 0)
		return NULL;
	if (strv_consume(&env, TAKE_PTR(home)) < 0 || strv_consume(&env, TAKE_PTR(user)) < 0 ||
	    strv_consume(&env, TAKE_PTR(logname)) < 0 ||
	    strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") <
	            0 ||
	    strv_push(&env, "IS_SANDBOX=1") < 0)
		return NULL;
	if (term && *term && strlen(term) < 64) {
		_cleanup_free_ char *t = NULL;

		if (asprintf(&t, "TERM=%s", term) < 0 || strv_consume(&env, TAKE_PTR(t)) < 0)
			return NULL;
	}
	return TAKE_PTR(env);
}

/* sh -c '. ~/.config/coi/env; exec "$@"' coi ARGV...: forwarded values reach the command's
 * environment without ever being on a command line or in the exec request. */
static char **with_env(char *const *argv)
{
	_cleanup_strv_free_ char **w = NULL;

	if (strv_push(&w, "sh") < 0 || strv_push(&w, "-c") < 0 ||
	    strv_push(&w, ". \"$HOME/.config/coi/env\" 2>/dev/null; exec \"$@\"") < 0 ||
	    strv_push(&w, "coi") < 0)
		return NULL;
	for (size_t i = 0; argv[i]; i++)
		if (strv_push(&w, argv[i]) < 0)
			return NULL;
	return TAKE_PTR(w);
}

/* aside: no input, and the output on stderr (the session's own command keeps stdout). */
static int exec_streamed(struct session *s, char *const *argv, bool interactive, bool aside,
                         struct coi_error *err)
{
	_cleanup_strv_free_ char **env = session_env(s);
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	int r, sig = 0;

	if (!env)
		return coi_error_oom(err);
	incus_exec_opts_init(&o);
	o.argv = argv;
	o.env = env;
	o.uid = s->opts->code_uid;
	o.gid = s->opts->code_uid;
	o.cwd = s->container_workspace;
	o.mode = interactive ? INCUS_EXEC_INTERACTIVE : INCUS_EXEC_STREAM;
	o.forwarded_signal = &sig;
	if (aside) {
		o.stdin_fd = -1;
		o.stdout_fd = STDERR_FILENO;
	}
	r = incus_exec(s->client, s->name, &o, &res, err);
	/* given up after a signal it never acted on: the session was cut short by that signal */
	if (r == -ECANCELED && sig && !interrupted)
		interrupted = sig;
	if (r == -EOPNOTSUPP && !interactive) {
		/* a client without streaming exec: capture, then print */
		coi_error_clear(err);
		o.mode = INCUS_EXEC_CAPTURE;
		r = incus_exec(s->client, s->name, &o, &res, err);
		if (r >= 0) {
			fwrite(res.out, 1, res.out_len, aside ? stderr : stdout);
			fwrite(res.err, 1, res.err_len, stderr);
			fflush(stdout);
		}
	}
	if (r < 0)
		return r;
	r = res.exit_status;
	incus_exec_result_release(&res);
	return r;
}

int session_exec(struct session *s, char *const *argv, bool interactive, struct coi_error *err)
{
	_cleanup_strv_free_ char **wrapped = with_env(argv);

	if (!wrapped)
		return coi_error_oom(err);
	return exec_streamed(s, wrapped, interactive, false, err);
}

int session_exec_aside(struct session *s, char *const *argv, struct coi_error *err)
{
	_cleanup_strv_free_ char **wrapped = with_env(argv);

	if (!wrapped)
		return coi_error_oom(err);
	return exec_streamed(s, wrapped, false, true, err);
}

int session_exec_plain(struct session *s, char *const *argv, bool interactive,
                       struct coi_error *err)
{
	return exec_streamed(s, argv, interactive, false, err);
}

/* ---- stop -------------------------------------------------------------------------------- */

/* Run (and drop) the pending undo steps for which pick() is true, newest first. */
static int undo_some(struct session *s, bool (*pick)(undo_fn fn), struct coi_error *err)
{
	size_t kept = 0;
	int first = 0;

	for (size_t i = s->n_undo; i-- > 0;) {
		struct coi_error e = {0};
		int r;

		if (!pick(s->undo[i].fn))
			continue;
		r = s->undo[i].fn(s, &e);
		log_timing(s->undo[i].what);
		if (r < 0 && !first) {
			first = r;
			if (err)
				*err = e;
		}
		s->undo[i].fn = NULL;
	}
	for (size_t i = 0; i < s->n_undo; i++)
		if (s->undo[i].fn)
			s->undo[kept++] = s->undo[i];
	s->n_undo = kept;
	return first;
}

static bool is_save(undo_fn fn)
{
	return fn == undo_save;
}

/* What may finish after coi has returned: the container is frozen by then, so nothing in it can
 * act, and a background process that dies leaves an orphan `coi clean --orphans` removes. The
 * network rules go at once (a few ms): when coi returns, nothing of the session is in them. */
static bool is_background(undo_fn fn)
{
	return fn == undo_delete_container || fn == undo_owner;
}

static bool is_foreground(undo_fn fn)
{
	return !is_background(fn);
}

/* Delete the frozen container and its rules in a detached child, which owns the container
 * meanwhile. */
static void finish_in_background(struct session *s)
{
	int go[2];
	char c;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0) {
		(void)undo_all(s, NULL); /* no child: do it here */
		return;
	}
	pid = fork();
	if (pid != 0) {
		close(go[0]);
		if (pid < 0)
			(void)undo_all(s, NULL);
		else /* before this process ends: the container never lacks a live owner */
			(void)fleet_owner_record(s->name, pid, NULL);
		close(go[1]);
		return;
	}
	close(go[1]);
	(void)!read(go[0], &c, 1); /* until the parent has recorded this child as the owner */
	close(go[0]);
	(void)setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	fleet_child_detach();
	/* the parent's connection is not ours to share */
	if (incus_client_new_like(s->client, &s->client, NULL) < 0)
		_exit(1);
	(void)undo_all(s, NULL);
	_exit(0);
}

/* `coi persist` may have made this ephemeral session persistent meanwhile: then stop the
 * container instead of deleting it. */
static void mark_if_persisted(struct session *s)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	const char *p;

	if (s->opts->persistent || incus_instance_get(s->client, s->name, &in, NULL) < 0)
		return;
	p = incus_map_get(&in->config, "user.coi.persistent");
	if (!p || strcmp(p, "true") != 0)
		return;
	s->opts->persistent = true;
	for (size_t i = 0; i < s->n_undo; i++)
		if (s->undo[i].fn == undo_delete_container) {
			s->undo[i].fn = undo_stop_container;
			s->undo[i].what = "stop the container";
		}
}

int session_stop(struct session *s, struct coi_error *err)
{
	struct coi_error e = {0};
	int r;

	if (!s)
		return 0;
	log_timing("command done");
	/* a signal ended the command, or comes now: the teardown must still talk, to the end */
	set_abortable(false);
	incus_interrupt_reset();
	mark_if_persisted(s);
	if (s->opts->persistent || s->reused || getenv("COI_SYNC_TEARDOWN")) {
		r = undo_all(s, err);
		log_timing("teardown");
		return r;
	}
	/* An ephemeral session ends fast: save the agent's state, freeze the container (7 ms),
	 * restore the host's protected paths, and leave the slow force-delete to a detached child.
	 */
	r = undo_some(s, is_save, err);
	if (incus_instance_set_state(s->client, s->name, INCUS_ACTION_FREEZE, false, -1, &e) < 0) {
		return undo_all(s, r < 0 ? NULL : err);
	}
	log_timing("freeze");
	if (undo_some(s, is_foreground, r < 0 ? NULL : err) < 0 && r == 0)
		r = err ? err->code : -EIO;
	finish_in_background(s);
	s->n_undo = 0;
	log_timing("teardown (delete continues in the background)");
	return r;
}

int session_detach(struct session *s, struct coi_error *err)
{
	s->n_undo = 0;
	return fleet_owner_detached(s->name, err);
}

char **session_take_warnings(struct session *s)
{
	return TAKE_PTR(s->warnings);
}

/* The invoking user: under sudo, the user who ran sudo, so 'sudo coi' in your project still
 * leaves your files yours. */
static void invoking_user(int64_t *uid, int64_t *gid)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");

	*uid = getuid();
	*gid = getgid();
	if (*uid == 0 && su && sg && *su && *sg) {
		*uid = strtoll(su, NULL, 10);
		*gid = strtoll(sg, NULL, 10);
	}
}

enum net_mode session_net_mode(const struct session_opts *o)
{
	return o->net ? o->net->mode : NET_MODE_RESTRICTED;
}

int session_opts_default(const char *workspace, struct session_opts *ret, struct coi_error *err)
{
	struct session_opts o = {
	        .code_uid = 1000,
	        .ready_timeout = 30,
	        .host_immutable = true,
	        .nft_sudo = true,
	        /* [limits] come from the configuration's defaults (session-cmd.c) */
	        .limits = {.cpu_priority = -1, .disk_priority = -1},
	};

	invoking_user(&o.host_uid, &o.host_gid);
	o.workspace = strdup(workspace);
	o.image = strdup("coi-default");
	o.code_user = strdup("code");
	o.tool = strdup("claude");
	o.protected_paths =
	        strv_split(".git/hooks .git/config .git/config.worktree "
	                   ".git/info/attributes .husky .vscode .coi .claude/settings.json "
	                   ".claude/settings.local.json .codex/config.toml",
	                   " ");
	if (!o.workspace || !o.image || !o.code_user || !o.tool || !o.protected_paths) {
		session_opts_release(&o);
		return coi_error_oom(err);
	}
	*ret = o;
	return 0;
}
