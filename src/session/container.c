/* SPDX-License-Identifier: MIT */
/* container.c: see container.h. */
#include "session/container.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "incus/incus.h"
#include "session/devices.h"
#include "session/fleet.h"
#include "session/githooks.h"
#include "session/home.h"
#include "session/idmount.h"
#include "session/naming.h"
#include "session/network.h"
#include "session/saved.h"
#include "session/secrets.h"
#include "session/state.h"
#include "session/undo.h"
#include "session/workspace.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/path.h"
#include "util/proc.h"
#include "util/strv.h"

int container_undo_delete(struct session *s, struct coi_error *err)
{
	/* already gone (the monitor removed it, or coi kill did) counts as done */
	return fleet_delete(s->client, s->name, err);
}

/* The init's pid, when the container runs with it (*pid nonzero: and it is still *pid). */
static int running_init(struct session *s, pid_t *pid, struct coi_error *err)
{
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	int r = incus_instance_state(s->client, s->name, &st, err);

	if (r < 0)
		return r;
	if (st->status != INCUS_STATUS_RUNNING || st->pid <= 1 || st->pid > INT32_MAX ||
	    (*pid && *pid != (pid_t)st->pid))
		return coi_error_set(err, -ESRCH, "'%s' is %s, its init not known", s->name,
		                     incus_status_to_string(st->status));
	*pid = (pid_t)st->pid;
	return 0;
}

/* Each line of text (a /proc/PID/cgroup: "ID:CONTROLLERS:PATH") has its PATH at or under
 * /lxc.payload.<name>. */
static bool all_under(char *text, const char *name)
{
	char root[128];
	int k = snprintf(root, sizeof(root), ":/lxc.payload.%s", name), n = 0;
	char *save = NULL;

	if (k < 0 || (size_t)k >= sizeof(root))
		return false;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		char *c = strchr(l, ':'), *path = c ? strchr(c + 1, ':') : NULL;

		if (!path || strncmp(path, root, (size_t)k) != 0 || (path[k] && path[k] != '/'))
			return false;
	}
	return n > 0;
}

/* status (a /proc/PID/status) is of a pid namespace's init: NSpid has the host's pid, then 1. */
static bool is_ns_init(const char *status)
{
	const char *l = strstr(status, "\nNSpid:");
	char pids[128], *last;

	if (!l || sscanf(l + 1, "NSpid:%127[^\n]", pids) != 1)
		return false;
	last = strrchr(pids, '\t');
	return last && last != strchr(pids, '\t') && strcmp(last + 1, "1") == 0;
}

/* Whether the process of pidfd fd, opened on pid, is a pid namespace's init in container name's
 * cgroups: the init Incus named is; a pid recycled meanwhile (a process of the host, or of
 * another container) is not. /proc/PID is read first and the pidfd found alive after: what was
 * read was its process's. false also when it cannot tell (another cgroup layout, a project's
 * container: lxc.payload.<project>_<name>): the caller asks Incus again. */
static bool is_init_of(int fd, pid_t pid, const char *name)
{
	_cleanup_buf_ struct buf st = BUF_INIT(64u << 10), cg = BUF_INIT(64u << 10);
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, &st, NULL) < 0 || !is_ns_init(buf_str(&st)))
		return false;
	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	return read_file(path, &cg, NULL) >= 0 && cg.data && all_under(cg.data, name) &&
	       proc_pidfd_signal(fd, 0) == 0;
}

/* A pidfd of the init Incus named to this session before (a claimed container's filler read it:
 * s->init_pid), when that process still runs (the same start time: a pid used again since
 * started later) and is still the container's init (is_init_of); -1 when it cannot be told, and
 * the caller asks Incus (a state GET, ~13 ms). */
static int known_init(struct session *s)
{
	_cleanup_close_ int fd = s->init_pid > 1 ? proc_pidfd_open(s->init_pid) : -EBADF;
	unsigned long long start;

	if (fd < 0 || proc_starttime(s->init_pid, &start) < 0 || start != s->init_start ||
	    !is_init_of(fd, s->init_pid, s->name))
		return -1;
	return TAKE_FD(fd);
}

/* A pidfd of the init Incus names now (its state GET). */
static int asked_init(struct session *s, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	pid_t pid = 0;
	int r = running_init(s, &pid, err);

	if (r < 0)
		return r;
	fd = proc_pidfd_open(pid);
	if (fd < 0)
		return coi_error_errno(err, -fd, "cannot open the init of '%s'", s->name);
	/* the pidfd is the init's when its process is one (seen on the host), or when Incus still
	 * names pid as the init after it was opened (a second state GET, ~20 ms) */
	r = is_init_of(fd, pid, s->name) ? 0 : running_init(s, &pid, err);
	return r < 0 ? r : TAKE_FD(fd);
}

int container_signal_init(struct session *s, int *ret_fd, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (incus_client_is_remote(s->client))
		return coi_error_set(err, -EOPNOTSUPP, "its processes are not on this host");
	fd = known_init(s);
	if (fd < 0)
		fd = asked_init(s, err);
	if (fd < 0)
		return fd;
	r = proc_pidfd_signal(fd, SIGKILL);
	if (r < 0) /* -EPERM: a user who may not signal the container's root */
		return coi_error_errno(err, -r, "cannot kill the init of '%s'", s->name);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int container_wait_init(struct session *s, int fd, int timeout_ms, struct coi_error *err)
{
	int r = proc_pidfd_wait(fd, timeout_ms);

	return r < 0 ? coi_error_errno(err, -r, "the processes of '%s' did not end", s->name) : 0;
}

/* SIGKILL to the container's init, through a pidfd: the kernel then kills every process of the
 * init's pid namespace, and the pidfd turns readable only once they are all gone (an init's exit
 * waits for them), so nothing of the session acts afterwards. LXC sees its init gone and the
 * daemon stops the container. Unlike a freeze, this takes milliseconds while the guest still
 * boots (LXC's cgroup v1 freezer loop sleeps a whole second then). */
int container_kill_init(struct session *s, int timeout_ms, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	int r = container_signal_init(s, &fd, err);

	return r < 0 ? r : container_wait_init(s, fd, timeout_ms, err);
}

int container_undo_stop(struct session *s, struct coi_error *err)
{
	return incus_instance_set_state(s->client, s->name, INCUS_ACTION_STOP, true, -1, err);
}

/* The agent's state outlives an ephemeral container. Never fails the teardown: a session that
 * could not be saved is a warning. */
int container_undo_save(struct session *s, struct coi_error *err)
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

/* The uid that owns the workspace files the agent writes. */
int container_check_subid(int64_t id, const char *file, struct coi_error *err)
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

int container_pick_name(struct session *s, struct coi_error *err)
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
int container_handle_existing(struct session *s, struct coi_error *err)
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
int container_sync_disks(struct session *s, struct coi_error *err)
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

int container_check_image(struct session *s, struct coi_error *err)
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
int container_mount_user_workspace(struct session *s, struct coi_error *err)
{
	int r;

	s->idmount = idmount_target(s->name);
	if (!s->idmount)
		return coi_error_oom(err);
	r = idmount_create_user(s->opts->workspace, s->name, (uid_t)s->opts->host_uid,
	                        (gid_t)s->opts->host_gid, err);
	if (r < 0)
		return r;
	return session_undo_push(s, "remove the idmapped workspace mount", undo_idmount) < 0
	               ? coi_error_oom(err)
	               : 0;
}

/* Sessions of host root: the agent keeps an unprivileged uid from the container's own range, and
 * sees the root-owned workspace through an idmapped mount (idmount.h). The range is known once
 * the container exists, so create it stopped, mount, add the disks, then start. */
int container_mount_idmapped_workspace(struct session *s, struct coi_error *err)
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
	return session_undo_push(s, "remove the idmapped workspace mount", undo_idmount) < 0
	               ? coi_error_oom(err)
	               : 0;
}

static int attach_idmapped_workspace(struct session *s, struct session_layout *l,
                                     struct coi_error *err)
{
	struct incus_devices disks = {0};
	int r;

	r = container_mount_idmapped_workspace(s, err);
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

/* The start was refused, the container's pinned address on another instance's NIC too: move
 * it to another address (its NIC, raw.lxc; the file and the rules follow) and start it again. */
static int start_elsewhere(struct session *s, const struct session_layout *l,
                           const struct incus_devices *profile_devices, struct coi_error *err)
{
	int r = -EADDRINUSE;

	for (unsigned attempt = 1; r == -EADDRINUSE && attempt <= SESSION_PIN_ATTEMPTS; attempt++) {
		char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
		struct session_layout moved = *l;
		struct incus_map cfg = {0};
		struct incus_devices dev = {0};

		coi_error_clear(err);
		r = session_net_repin(s, attempt, err);
		if (r < 0)
			return r;
		session_net_layout(s, ip, gw, &moved);
		r = session_build_nic(profile_devices, &moved, &cfg, &dev);
		if (r < 0)
			return coi_error_set(err, r, "cannot describe the container's NIC");
		r = incus_instance_patch(s->client, s->name, &cfg, &dev, err);
		incus_map_clear(&cfg);
		incus_devices_clear(&dev);
		if (r >= 0)
			r = incus_instance_set_state(s->client, s->name, INCUS_ACTION_START, false,
			                             -1, err);
	}
	return r;
}

/* What the container of this session is made of (its create request's layout); the caller adds
 * the address (session_net_layout) and the workspace's source. */
static struct session_layout create_layout(const struct session *s)
{
	bool root = s->opts->host_uid == 0;

	return (struct session_layout){
	        .slot = s->slot,
	        .veth = s->veth,
	        .container_workspace = s->container_workspace,
	        .raw_idmap = !root,
	        .deny_setid = true,
	        .with_disks = !root,
	        .secrets = s->hidden,
	        .mask_file = s->mask_file,
	        .mask_dir = s->mask_dir,
	        .home = s->home[0] ? s->home : NULL,
	        .warm_note = s->opts->warm_fill ? FLEET_WARM_FILLING : NULL,
	};
}

static const char *profile_name(const struct session *s)
{
	return s->opts->profile ? s->opts->profile : "default";
}

static int hash_map(struct buf *b, const struct incus_map *m)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < m->n; i++)
		r = buf_printf(b, "%s=%s\n", m->items[i].key, m->items[i].value);
	return r;
}

/* What container_git_hooks() sets up inside, which a warm container has before it is marked. */
static int hash_hooks(struct buf *b, const struct session_opts *o)
{
	_cleanup_strv_free_ char **argv = NULL;
	int r;

	if (!o->git.strip_attribution)
		return buf_puts(b, "hooks none\n");
	argv = githooks_setup_argv(o->git.strip_patterns);
	if (!argv)
		return -ENOMEM;
	r = buf_puts(b, "hooks");
	strv_foreach(a, argv)
		if (r >= 0)
			r = buf_printf(b, " %zu:%s", strlen(*a), *a);
	return r < 0 ? r : buf_putc(b, '\n');
}

/* Which file of the host a disk device's source under the workspace (at root, where the
 * fingerprint puts it) stands for, by device and inode: a workspace or git directory removed and
 * made again at the same path (a fresh clone, rm -rf .git && git init) is another one. A warm
 * container's disks hold what was there when it was made: claimed, its /workspace would be the
 * deleted directory, and the new .git/hooks would not be the read-only one it mounts. */
static int hash_identity(struct buf *b, const char *workspace, const char *root, const char *source)
{
	_cleanup_free_ char *host = NULL;
	size_t n = strlen(root);
	struct stat st;

	if (!source || strncmp(source, root, n) != 0 || (source[n] && source[n] != '/'))
		return 0;
	if (asprintf(&host, "%s%s", workspace, source + n) < 0)
		return -ENOMEM;
	if (lstat(host, &st) < 0)
		return buf_printf(b, "identity none\n");
	return buf_printf(b, "identity %ju:%ju\n", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
}

/* The image the fingerprint covers. A claimer takes the one its command read tens of ms before
 * (the stale-recipe check, s->opts->image_target) instead of reading the alias again: a session
 * is then of the image the alias named when it started, which is what a cold start is whose
 * create reached Incus just before a 'coi build' moved the alias. A build that moves it between
 * that read and the claim cannot leave a container of the old image unclaimed and claimable
 * by a later session: that one reads the new target, and warm_remove_old_image takes the old
 * ones' marks under their ETags, so this claim either took the mark first (the container is
 * this session's, as a cold session's made from the old image stays) or finds it gone (its
 * ETag PATCH fails: no claim, a cold start). The stale-recipe check and the claim then judge
 * one image, where two reads could judge two. The filler's marks (warm_mark, its count) always
 * read the alias at the mark: what the container was made from is checked against that. */
static int fingerprint_image(struct session *s, char **ret, struct coi_error *err)
{
	if (s->opts->warm_fill || !s->opts->image_target)
		return incus_image_alias_target(s->client, s->opts->image, ret, err);
	*ret = strdup(s->opts->image_target);
	return *ret ? 0 : coi_error_oom(err);
}

/* sha256 of the create request container_create() makes for s's name, slot and address, with
 * the workspace disks a host root's session adds after it, and of the image the alias names
 * now, of the hooks set up inside, of which files of the host its workspace disks are and of the
 * code user's files the filler writes (home_fingerprint): a warm container (warm.h) made for other
 * settings, another set of git directories, a workspace made again, an older image or another
 * text of those files has another one. */
int container_fingerprint(struct session *s, char out[SHA256_HEX_LEN + 1], struct coi_error *err)
{
	const struct incus_profile *prof;
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	_cleanup_free_ char *image = NULL, *source = idmount_target(s->name);
	struct session_layout l = create_layout(s);
	char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	struct incus_map cfg = {0};
	struct incus_devices dev = {0};
	int r;

	if (!source)
		return coi_error_oom(err);
	session_net_layout(s, ip, gw, &l);
	l.with_disks = true;
	l.source_root = source;
	l.warm_note = NULL; /* the filler's, until its mark: the claimer's make has none */
	r = session_profile(s, &prof, err);
	if (r >= 0)
		r = fingerprint_image(s, &image, err);
	if (r >= 0)
		r = session_build_create(s->opts, s->plan, &prof->devices, &l, &cfg, &dev, err);
	if (r < 0)
		return r;
	r = buf_printf(&b, "image=%s\nprofile=%s\npool=%s\n", image, profile_name(s),
	               s->opts->storage_pool ? s->opts->storage_pool : "");
	if (r >= 0)
		r = hash_hooks(&b, s->opts);
	if (r >= 0)
		r = home_fingerprint(s, &b);
	if (r >= 0)
		r = hash_map(&b, &cfg);
	for (size_t i = 0; r >= 0 && i < dev.n; i++) {
		r = buf_printf(&b, "device %s\n", dev.items[i].name);
		if (r >= 0)
			r = hash_map(&b, &dev.items[i].props);
		if (r >= 0)
			r = hash_identity(&b, s->opts->workspace, source,
			                  incus_map_get(&dev.items[i].props, "source"));
	}
	incus_map_clear(&cfg);
	incus_devices_clear(&dev);
	if (r < 0 || sha256_hex(b.data, b.len, out) < 0)
		return coi_error_oom(err);
	log_debug("'%s': fingerprint %s of:\n%s", s->name, out, buf_str(&b));
	return 0;
}

/* A warm container claimed (warm.h) is this session's as if it had made it: the same undo
 * steps as container_create() pushes, the idmapped mount of the workspace included. */
int container_take_warm(struct session *s, struct coi_error *err)
{
	s->idmount = idmount_target(s->name);
	/* pushed first, so that they go once the container is gone */
	if (!s->idmount ||
	    session_undo_push(s, "remove the warm container's block", session_net_remove_claimed) <
	            0 ||
	    session_undo_push(s, "remove the idmapped workspace mount", undo_idmount) < 0 ||
	    session_undo_push(s, "delete the container", container_undo_delete) < 0 ||
	    session_undo_push(s, "save the agent's session", container_undo_save) < 0)
		return coi_error_oom(err);
	return 0;
}

int container_create(struct session *s, struct coi_error *err)
{
	const struct incus_profile *prof;
	const char *profile = profile_name(s);
	bool root = s->opts->host_uid == 0;
	struct incus_map cfg = {0};
	struct incus_devices dev = {0};
	char *profiles[] = {(char *)profile, NULL};
	char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	struct session_layout l = create_layout(s);
	int r;

	session_net_layout(s, ip, gw, &l);
	if (!root) {
		r = container_mount_user_workspace(s, err);
		if (r < 0)
			return r;
		l.source_root = s->idmount;
	}
	r = session_profile(s, &prof, err);
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
	if (r == -EADDRINUSE) /* created, its start refused */
		r = start_elsewhere(s, &l, &prof->devices, err);
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
	    session_undo_push(
	            s, s->opts->persistent ? "stop the container" : "delete the container",
	            s->opts->persistent ? container_undo_stop : container_undo_delete) < 0)
		r = coi_error_oom(err);
	if (r >= 0 && !s->opts->persistent &&
	    session_undo_push(s, "save the agent's session", container_undo_save) < 0)
		r = coi_error_oom(err);
	if (r >= 0 && root)
		r = attach_idmapped_workspace(s, &l, err);
	if (r == -EADDRINUSE)
		r = start_elsewhere(s, &l, &prof->devices, err);
	if (r < 0) {
		struct coi_error ignore = {0};

		/* A failed start can leave a created, stopped instance behind: remove it (even a
		 * persistent one: it never ran). */
		(void)incus_instance_delete(s->client, s->name, true, &ignore);
		return coi_error_prefix(err, "cannot start '%s'", s->name);
	}
	return 0;
}

/* Exec works a few hundred ms after start returns; poll it, bounded by ready_timeout. When the
 * guest's address was decided before start, the exec also waits for its network (network.c). */
int container_wait_ready(struct session *s, struct coi_error *err)
{
	char checks[16], gw[INET_ADDRSTRLEN], ip[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 4];
	char *argv[] = {"true", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	struct timespec step = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
	struct timespec t0, now;
	struct incus_exec_opts o;

	if (session_net_ready_script(s)) {
		(void)snprintf(checks, sizeof(checks), "%d", s->opts->ready_timeout * 20);
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = (char *)session_net_ready_script(s);
		argv[3] = "coi";
		argv[4] = checks;
		argv[5] = (char *)inet_ntop(AF_INET, &s->gateway, gw, sizeof(gw));
		(void)snprintf(addr, sizeof(addr), "%s/%u",
		               inet_ntop(AF_INET, &s->ipv4, ip, sizeof(ip)), s->prefix);
		argv[6] = addr;
	}
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
		if (r == -ENOENT) /* coi kill, or the monitor, removed it meanwhile */
			return coi_error_set(
			        err, r, "'%s' is gone: it was removed while it started", s->name);
		if (session_interrupted())
			return coi_error_set(err, -ECANCELED, "interrupted");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= s->opts->ready_timeout)
			return coi_error_set(err, -ETIMEDOUT,
			                     "'%s' did not become ready within %d s: %s", s->name,
			                     s->opts->ready_timeout,
			                     r >= 0 ? "its network is not up (no default route or "
			                              "no resolver)"
			                            : coi_error_message(&e));
		(void)nanosleep(&step, NULL);
	}
}

/* argv as container root; a non-zero exit is an error with what it said on stderr. */
static int exec_root(struct session *s, char *const *argv, struct coi_error *err)
{
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	int r;

	incus_exec_opts_init(&o);
	o.argv = argv;
	o.capture_max = 4096;
	r = incus_exec(s->client, s->name, &o, &res, err);
	if (r >= 0 && res.exit_status != 0)
		r = coi_error_set(err, -EIO, "exit %d: %s", res.exit_status,
		                  res.err && *res.err ? res.err : "no message");
	incus_exec_result_release(&res);
	return r;
}

/* [limits.disk] tmpfs_size: /tmp in memory, of that size, mounted by container root before the
 * agent starts (the mount policy lets a new tmpfs through, and refuses its unmounting). Its
 * pages count against the container's memory limit. */
int container_mount_tmpfs(struct session *s, struct coi_error *err)
{
	char opts[96];
	char *argv[] = {"mount", "-t", "tmpfs", "-o", opts, "tmpfs", "/tmp", NULL};

	if (!s->opts->limits.tmpfs_size)
		return 0;
	(void)snprintf(opts, sizeof(opts), "size=%llu,mode=1777,nosuid,nodev",
	               (unsigned long long)s->opts->limits.tmpfs_size);
	return exec_root(s, argv, err) < 0
	               ? coi_error_prefix(err, "[limits.disk] tmpfs_size: cannot mount /tmp")
	               : 0;
}

/* A persistent container started again gets today's [limits]. */
int container_refresh_limits(struct session *s, struct coi_error *err)
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
int container_refresh_secrets(struct session *s, struct coi_error *err)
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
int container_resolve_mounts(struct session_opts *o, struct coi_error *err)
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
int container_verify_workspace(struct session *s, struct coi_error *err)
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

void container_git_hooks(struct session *s)
{
	_cleanup_strv_free_ char **argv = NULL;
	struct coi_error e = {0};

	if (!s->opts->git.strip_attribution)
		return;
	argv = githooks_setup_argv(s->opts->git.strip_patterns);
	if (!argv || exec_root(s, argv, &e) < 0)
		(void)strv_pushf(&s->warnings,
		                 "[git] strip_attribution: cannot set up the commit-msg hook (%s): "
		                 "commits made inside keep their trailers",
		                 argv ? coi_error_message(&e) : "out of memory");
}
