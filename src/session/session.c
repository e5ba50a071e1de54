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
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egress/secret.h"
#include "incus/incus.h"
#include "monitor/monitor.h"
#include "monitor/prescan.h"
#include "netpolicy/netpolicy.h"
#include "session/container.h"
#include "session/context.h"
#include "session/credproxy.h"
#include "session/devices.h"
#include "session/fleet.h"
#include "session/forward.h"
#include "session/home.h"
#include "session/idmount.h"
#include "session/immutable.h"
#include "session/network.h"
#include "session/protect-snapshot.h"
#include "session/protect.h"
#include "session/saved.h"
#include "session/secrets.h"
#include "session/sweep.h"
#include "session/tool.h"
#include "session/veth.h"
#include "session/warm.h"
#include "session/workspace.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/path.h"
#include "util/proc.h"
#include "util/strv.h"

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
	session_net_release(s);
	free(s->undo);
	credproxy_handoff_close(&s->egress);
	incus_exec_result_release(&s->captured);
	free(s);
	return NULL;
}
/* ---- phases ------------------------------------------------------------------------------ */

static int undo_monitor(struct session *s, struct coi_error *err)
{
	return monitor_supervisor_stop(s->name, err) < 0 ? -EIO : 0;
}

/* The security monitor runs on the host in a supervisor process of its own (`coi monitor NAME
 * --daemon`), so it outlives a detach and needs nothing from this one; it returns once every
 * event source is live. The supervisor also runs the session's DNS filter (network.c), on the
 * sockets handed to it here, even with monitoring off. */
static int start_monitor(struct session *s, struct coi_error *err)
{
	_cleanup_strv_free_ char **argv = NULL;
	int status, first = s->egress.memfd >= 0 ? 5 : 3; /* the DNS filter's first fd */
	pid_t pid;

	if (!s->opts->monitor_argv && !session_net_has_filter(s))
		return 0;
	if (strv_push(&argv, "coi") < 0 || strv_push(&argv, "monitor") < 0 ||
	    strv_push(&argv, s->name) < 0 || strv_push(&argv, "--daemon") < 0 ||
	    credproxy_supervisor_args(&s->egress, &argv) < 0)
		return coi_error_oom(err);
	strv_foreach(a, s->opts->monitor_argv)
		if (strv_push(&argv, *a) < 0)
			return coi_error_oom(err);
	if (session_net_supervisor_args(s, first, &argv) < 0)
		return coi_error_oom(err);
	/* a claimed container's init and programs, read by its filler (monitor/prescan.h) */
	if (s->claimed && strv_push(&argv, "--prescan") < 0)
		return coi_error_oom(err);
	/* a session starts only on a stopped or new instance: a supervisor still holding the name
	 * is a stale one of an earlier instance, and would keep this one's from starting */
	(void)monitor_supervisor_stop(s->name, NULL);
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
		/* the credential proxy's secrets and socket, as fds 3 and 4, then the DNS filter's
		 * sockets; the supervisor lives on: it must not hold a caller's pipe open */
		if (credproxy_child_fds(&s->egress) < 0)
			_exit(127);
		session_net_supervisor_fds(s, first);
		/* the same daemon and project as this session, whatever its config layers said */
		(void)incus_client_export_env(s->client);
		strv_foreach(e, s->opts->monitor_env)
			(void)putenv(*e);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	session_net_supervisor_started(s);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return coi_error_set(err, -EIO,
		                     "the supervisor of '%s' (its monitor, DNS filter, credential "
		                     "proxy) did not start (see ~/.coi/logs/%s.monitor.log)",
		                     s->name, s->name);
	return session_undo_push(s, "stop the monitor", undo_monitor) < 0 ? coi_error_oom(err) : 0;
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
	r = fleet_finish_protection(s->name, s->protect_state, s->lock.fd >= 0, &report, err);
	strv_foreach(l, report)
		(void)strv_push(&s->warnings, *l);
	return r;
}

/* What the end of the session needs, written before the container exists: every way a session
 * ends finishes it from this file (sweep.h). */
static int save_protection(struct session *s, struct coi_error *err)
{
	s->protect_state = proc_run_path(s->name, "protect");
	if (!s->protect_state)
		return coi_error_oom(err);
	(void)proc_run_dir_make();
	/* a warm container's placeholders are the claimer's to remove; in one no agent ran,
	 * nothing is to be swept (warm.h) */
	return sweep_save_with(s->plan, s->name, s->protect_state,
	                       &(struct sweep_save_opts){
	                               .baseline = !s->opts->warm_fill,
	                               .inherit = s->claimed ? s->protect_state : NULL,
	                       },
	                       err);
}

static int protect_host(struct session *s, struct coi_error *err)
{
	int r;

	r = protect_snapshot(s->plan, &s->protect_before, err);
	if (r < 0 || !s->opts->host_immutable || s->plan->n_entries == 0)
		return r;
	s->immutable_state = proc_run_path(s->name, "immutable");
	if (!s->immutable_state)
		return coi_error_oom(err);
	r = session_undo_push(s, "restore immutable flags", undo_immutable);
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

/* Who owns the container, so 'coi clean --orphans' and 'coi list' can tell when that process is
 * gone. Recorded before the container exists and forgotten after it is gone (the undo steps run
 * in reverse, the background teardown's too), so no moment shows it without an owner. */
static int record_owner(struct session *s, struct coi_error *err)
{
	return fleet_owner_record(s->name, getpid(), err);
}

/* What no session starts without: a local daemon, a workspace that is a project, ids Incus may
 * map, the workspace's hash and where it goes inside. */
static int check_start(struct session *s, struct coi_error *err)
{
	int r;

	if (incus_client_is_remote(s->client))
		return coi_error_set(
		        err, -EOPNOTSUPP,
		        "sessions mount the workspace from this machine, so they need a "
		        "local Incus daemon, not the remote one configured");
	r = session_workspace_check(s->opts->workspace, s->opts->unsafe_workspace, err);
	if (r < 0)
		return r;
	r = container_check_subid(s->opts->host_uid, "/etc/subuid", err);
	if (r >= 0)
		r = container_check_subid(s->opts->host_gid, "/etc/subgid", err);
	if (r < 0)
		return r;
	r = session_identity_hash(s->opts->workspace, s->opts->session_name, s->hash);
	if (r < 0)
		return coi_error_errno(err, r, "cannot hash the workspace path");
	s->container_workspace =
	        strdup(s->opts->preserve_workspace_path ? s->opts->workspace : "/workspace");
	return s->container_workspace ? 0 : coi_error_oom(err);
}

/* What to protect and hide, and the extra mounts' sources, found before anything exists; under
 * the workspace's lock (held until the container exists), so that a session of the workspace
 * ending meanwhile sees this one's placeholders in use (fleet_finish_protection). */
static int plan(struct session *s, struct coi_error *err)
{
	int r = session_lock_workspace(s->hash, 60000, &s->lock, err);

	if (r >= 0)
		r = protect_plan_build(s->opts->workspace, s->opts->protected_paths, true, &s->plan,
		                       err);

	if (r >= 0 && session_undo_push(s, "finish protection", undo_protection) < 0)
		r = coi_error_oom(err);
	if (r >= 0)
		r = protect_plan_branches(s->plan, s->opts->git.protected_branches, err);
	if (r >= 0)
		r = plan_secrets(s, err);
	if (r >= 0)
		r = container_resolve_mounts(s->opts, err);
	return r;
}

/* The slot, under the workspace's lock (taken by plan, held until the container exists, so
 * concurrent starts never share a slot), what is already there under its name, and what the
 * end of the session needs of the protection. */
static int pick_name(struct session *s, struct coi_error *err)
{
	int r = s->opts->warm_fill ? warm_fill_check(s, err) : 0;

	if (r >= 0)
		r = warm_claim(s, err);
	/* claimed: the container is this session's to remove from now on */
	if (r > 0)
		r = container_take_warm(s, err);
	if (r >= 0 && !s->claimed)
		r = container_pick_name(s, err);
	if (r < 0)
		return r;
	veth_name(s->veth, sizeof(s->veth), s->hash, s->slot);
	r = s->claimed ? 0 : container_handle_existing(s, err);
	return r < 0 ? r : save_protection(s, err);
}

/* The image, and the sockets and ports to forward (a reused container's old ones removed). */
static int check_needs(struct session *s, struct coi_error *err)
{
	int r = s->reused || s->claimed ? 0 : container_check_image(s, err);

	if (r >= 0)
		r = forward_prepare(s, err);
	if (r >= 0 && s->reused)
		r = forward_devices_remove(s, err);
	if (r >= 0)
		r = session_check_interrupted(err);
	return r;
}

/* A persistent container started again: its workspace mount went with the last session. */
static int restart_container(struct session *s, struct coi_error *err)
{
	int r = s->opts->host_uid == 0 ? container_mount_idmapped_workspace(s, err)
	                               : container_mount_user_workspace(s, err);

	if (r >= 0)
		r = container_refresh_secrets(s, err);
	if (r >= 0)
		r = container_refresh_limits(s, err);
	if (r >= 0)
		r = container_sync_disks(s, err);
	if (r >= 0)
		r = incus_instance_set_state(s->client, s->name, INCUS_ACTION_START, false, -1,
		                             err);
	if (r < 0)
		return r;
	return session_undo_push(s, "stop the container", container_undo_stop) < 0
	               ? coi_error_oom(err)
	               : 0;
}

static int start_container(struct session *s, struct coi_error *err)
{
	int r;

	if (s->reused) {
		r = restart_container(s, err);
	} else if (s->claimed) {
		r = 0; /* made and started by the filler (warm.h) */
	} else {
		/* no signal may abort the creation (undo.c says why) */
		session_set_abortable(false);
		r = container_create(s, err);
		session_set_abortable(true);
	}
	if (r >= 0)
		session_unlock_workspace(&s->lock);
	return r;
}

static int protect(struct session *s, struct coi_error *err)
{
	int r = protect_host(s, err);

	return r < 0 ? r : session_check_interrupted(err);
}

static int ready(struct session *s, struct coi_error *err)
{
	/* a claimed container was ready before it was marked (warm.h): its guest has booted, its
	 * network is up; the wait (250-310 ms on it, measured) would find nothing to wait for */
	int r = s->claimed ? 0 : container_wait_ready(s, err);
	size_t warned = strv_length(s->warnings);

	/* [git] strip_attribution's hooks are the container's own (the fingerprint covers them):
	 * a warm one has them before it is marked, or it is not marked */
	if (r >= 0 && !s->claimed)
		container_git_hooks(s);
	if (r >= 0 && s->opts->warm_fill && strv_length(s->warnings) > warned)
		r = coi_error_set(err, -EIO, "%s", s->warnings[warned]);
	/* a claimed container's workspace was verified by its filler, before the mark: what the
	 * answer depends on is in the mark (the workspace disk, the identity map, the image), and
	 * nothing the claim adds (host protection, rules, the supervisor, files in the home) mounts
	 * over it or maps it */
	if (r >= 0 && !s->claimed)
		r = container_verify_workspace(s, err);
	if (r >= 0 && !s->opts->warm_fill) /* the session's: a tmpfs of its own */
		r = container_mount_tmpfs(s, err);
	return r;
}

/* The supervisor (monitor and credential proxy), then the proxy's side inside. */
static int supervise(struct session *s, struct coi_error *err)
{
	int r = start_monitor(s, err);

	/* the supervisor holds the proxy's secrets and socket now */
	credproxy_handoff_close(&s->egress);
	/* its filler's read-ahead serves this supervisor or none (one without a monitor) */
	if (s->claimed)
		monitor_prescan_remove(s->name);
	if (r < 0)
		return r;
	return credproxy_inside(&(struct credproxy_target){.client = s->client,
	                                                   .container = s->name,
	                                                   .code_user = s->opts->code_user,
	                                                   .code_uid = s->opts->code_uid,
	                                                   .gateway = s->gateway},
	                        s->opts->secrets, err);
}

/* The start, in order. A phase's undo (when it has one here) is pushed once it succeeded; the
 * phases whose undo depends on what they did push their own. The names are what
 * COI_TIMING_DEBUG prints after each. */
static const struct phase {
	const char *name;
	int (*run)(struct session *s, struct coi_error *err);
	undo_fn undo;
	const char *undo_name;
	/* who runs it: every start, a session's only, or a warm container's filler's only
	 * (warm.h: the container, and no session on the host) */
	enum { ALL, SESSION, FILL } who;
} phases[] = {
        {"start", check_start, NULL, NULL, ALL},
        {"plan", plan, NULL, NULL, ALL},
        {"pick name", pick_name, NULL, NULL, ALL},
        {"image and forwards", check_needs, NULL, NULL, ALL},
        /* before anything of the session's is on the host: 'coi clean --orphans' leaves it */
        {"owner", record_owner, undo_owner, "forget the owner", ALL},
        {"network address", session_net_pin, NULL, NULL, ALL},
        /* fail closed: the container's traffic is dropped before its first packet (a warm
         * container's until it is claimed) */
        {"network boot block", session_net_boot, undo_net, "remove network rules", ALL},
        {"secrets", prepare_secrets, NULL, NULL, SESSION},
        /* the address decided: the real rules before its first packet */
        {"network policy before start", session_net_apply_early, NULL, NULL, SESSION},
        {"container created and started", start_container, NULL, NULL, ALL},
        {"host protection", protect, NULL, NULL, SESSION},
        {"ready", ready, NULL, NULL, ALL},
        {"network policy", session_net_apply, NULL, NULL, SESSION},
        {"supervisor", supervise, NULL, NULL, SESSION},
        {"user environment", home_prepare_user, NULL, NULL, SESSION},
        /* what follows from the config: the claimer writes only its own (home.h) */
        {"user environment of the config", home_prepare_warm, NULL, NULL, FILL},
        {"programs read ahead", warm_prescan, warm_unprescan, "forget the read-ahead", FILL},
        {"marked warm", warm_mark, NULL, NULL, FILL},
};

static int start_phases(struct session *s, struct coi_error *err)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < sizeof(phases) / sizeof(phases[0]); i++) {
		const struct phase *p = &phases[i];

		if (p->who != ALL && (p->who == FILL) != s->opts->warm_fill)
			continue;
		r = p->run(s, err);
		if (r >= 0 && p->undo && session_undo_push(s, p->undo_name, p->undo) < 0)
			r = coi_error_oom(err);
		log_timing(p->name);
	}
	session_unlock_workspace(&s->lock);
	return r;
}

/* The filler's work: one warm container after the other until the workspace has opts->warm
 * that match (warm_fill_check says -EEXIST), one filler per workspace at a time. What a start
 * leaves is its container and boot block, its network file and placeholders, nobody's session:
 * its undo steps are dropped (session_free() does not run them). */
static int fill_pool(struct session_opts *o, const char *hash, struct incus_client *c)
{
	_cleanup_free_ char *lock = proc_run_path(hash, "warm");
	_cleanup_close_ int fd = -EBADF;
	int r = 0;

	if (!lock || proc_run_dir_make() < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return 0; /* another filler is at it */
	o->warm_fill = true;
	o->slot = 0;
	for (int made = 0, failed = 0; made < o->warm && failed < 3;) {
		struct session *w = NULL;
		struct coi_error e = {0};

		r = session_start(o, c, &w, &e);
		if (r == -EEXIST)
			return 0;
		session_free(w);
		if (session_interrupted()) /* coi clean stops a filler at work */
			return 0;
		if (r >= 0) {
			made++;
			continue;
		}
		/* a session of this workspace that ended meanwhile took away a placeholder this
		 * start's plan found (a disk's source is gone): the next plan makes its own */
		log_error("warm pool of %s: %s", o->workspace, coi_error_message(&e));
		failed++;
		(void)nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
	}
	return r;
}

/* The filler waits until this coi has ended (a coi run) or for FILL_DELAY_MS (a longer session):
 * the daemon and the host's cores are the session's while it starts, runs a short command and
 * ends (measured: a filler booting beside coi run -- true made it 2-3x slower). */
#define FILL_DELAY_MS 10000

/* [container] warm: the pool topped up behind this session by a detached grandchild (setsid,
 * niced, its streams on ~/.coi/logs/warm.log, no fd of this process, its own connection), so
 * that neither the session's command nor its end waits for it. */
static void spawn_filler(struct session *s)
{
	_cleanup_free_ char *dir = NULL, *logf = NULL;
	struct incus_client *c = NULL;
	_cleanup_close_ int self = -EBADF;
	pid_t pid;
	int fd;

	if (s->opts->warm <= 0 || s->opts->persistent || s->opts->warm_fill || s->opts->slot > 0)
		return;
	self = proc_pidfd_open(getpid());
	pid = fork();
	if (pid > 0) {
		(void)waitpid(pid, NULL, 0);
		return;
	}
	if (pid < 0 || fork() != 0)
		_exit(0);
	(void)setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	self = proc_detach_streams_keep(self);
	if (self >= 0)
		(void)proc_pidfd_wait(self, FILL_DELAY_MS);
	(void)setpriority(PRIO_PROCESS, 0, 10);
	dir = coi_dir();
	logf = dir ? path_join(dir, "logs/warm.log") : NULL;
	fd = logf ? open(logf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (fd >= 0)
		(void)dup2(fd, STDERR_FILENO);
	if (incus_client_new_like(s->client, &c, NULL) < 0)
		_exit(1);
	_exit(fill_pool(s->opts, s->hash, c) < 0 ? 1 : 0);
}

int session_start(struct session_opts *opts, struct incus_client *c, struct session **ret,
                  struct coi_error *err)
{
	_cleanup_(session_freep) struct session *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return coi_error_oom(err);
	s->egress = (struct credproxy_handoff){.memfd = -EBADF, .listen_fd = -EBADF};
	s->lock = (struct ws_lock)WS_LOCK_INIT;
	r = session_opts_check(opts, err);
	if (r < 0)
		return r;
	s->opts = opts;
	s->client = c;
	if (saved_new_id(s->id) < 0)
		return coi_error_set(err, -EIO, "cannot make a session id");
	_Static_assert(sizeof(s->home) == FLEET_HOME_LEN + 1, "struct session's home");
	if (fleet_home_id(s->home) < 0)
		return coi_error_oom(err);
	session_set_abortable(true);
	r = start_phases(s, err);
	if (r < 0) {
		/* fail closed: a claimed container ran before this session's rules were in; nothing
		 * in it may act while they go */
		if (s->claimed)
			(void)container_kill_init(s, 10000, NULL);
		(void)session_undo_all(s, NULL);
		return r;
	}
	spawn_filler(s);
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
	if (r == -ECANCELED && sig)
		session_note_interrupt(sig);
	if (r == -EOPNOTSUPP && !interactive) {
		/* a client without streaming exec: capture, then print */
		coi_error_clear(err);
		o.mode = INCUS_EXEC_CAPTURE;
		r = incus_exec(s->client, s->name, &o, &res, err);
		if (r >= 0) {
			/* for the command to print (session_captured()) */
			incus_exec_result_release(&s->captured);
			s->captured = res;
			return res.exit_status;
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

static bool is_save(undo_fn fn)
{
	return fn == container_undo_save;
}

/* What may finish after coi has returned: the container's processes are gone (or it is frozen)
 * by then, so nothing in it can act, and a background process that dies leaves a stopped (or
 * orphaned) container `coi clean` removes. The network rules go at once (a few ms): when coi
 * returns, nothing of the session is in them. */
static bool is_background(undo_fn fn)
{
	return fn == container_undo_delete || fn == undo_owner;
}

static bool is_foreground(undo_fn fn)
{
	return !is_background(fn);
}

/* Delete the stopped (or frozen) container and its rules in a detached child, which owns the
 * container meanwhile. */
static void finish_in_background(struct session *s)
{
	int go[2];
	char c;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0) {
		(void)session_undo_all(s, NULL); /* no child: do it here */
		return;
	}
	pid = fork();
	if (pid != 0) {
		close(go[0]);
		if (pid < 0)
			(void)session_undo_all(s, NULL);
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
	proc_detach_streams();
	/* the parent's connection is not ours to share */
	if (incus_client_new_like(s->client, &s->client, NULL) < 0)
		_exit(1);
	(void)session_undo_all(s, NULL);
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
		if (s->undo[i].fn == container_undo_delete) {
			s->undo[i].fn = container_undo_stop;
			s->undo[i].what = "stop the container";
		}
}

/* Every process of the container ended (container_kill_init), and its supervisor told to stop
 * once the init's SIGKILL is sent: it winds down (18-37 ms measured: its sources, its log) while
 * the kernel ends the container's processes (40-80 ms on a cgroup v1 host), and the undo step
 * "stop the monitor" waits for it. Nothing of the container acts unwatched: it is being killed. */
static int end_processes(struct session *s, struct coi_error *err)
{
	_cleanup_close_ int init = -EBADF;
	int r = container_signal_init(s, &init, err);

	if (r < 0)
		return r;
	if (s->opts->monitor_argv || session_net_has_filter(s))
		monitor_supervisor_signal(s->name);
	return container_wait_init(s, init, 10000, err);
}

int session_stop(struct session *s, struct coi_error *err)
{
	struct coi_error e = {0};
	int r;

	if (!s)
		return 0;
	log_timing("command done");
	/* a signal ended the command, or comes now: the teardown must still talk, to the end */
	session_set_abortable(false);
	incus_interrupt_reset();
	mark_if_persisted(s);
	if (s->opts->persistent || s->reused || getenv("COI_SYNC_TEARDOWN")) {
		r = session_undo_all(s, err);
		log_timing("teardown");
		return r;
	}
	/* An ephemeral session ends fast: save the agent's state, end every process of the
	 * container (its init killed: milliseconds, container_kill_init), or where coi may not
	 * (another user's container root, a remote server) freeze it (done when its state says
	 * Frozen, incus_instance_freeze; up to a second on a cgroup v1 host while the guest still
	 * boots), restore the host's protected paths, and leave the slow force-delete to a
	 * detached child. */
	r = session_undo_some(s, is_save, err);
	if (end_processes(s, &e) < 0) {
		log_debug("teardown: %s; freezing instead", coi_error_message(&e));
		coi_error_clear(&e);
		if (incus_instance_freeze(s->client, s->name, 10000, &e) < 0)
			return session_undo_all(s, r < 0 ? NULL : err);
	}
	log_timing("processes ended");
	if (session_undo_some(s, is_foreground, r < 0 ? NULL : err) < 0 && r == 0)
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

const struct incus_exec_result *session_captured(const struct session *s)
{
	return &s->captured;
}

char **session_take_warnings(struct session *s)
{
	return TAKE_PTR(s->warnings);
}
