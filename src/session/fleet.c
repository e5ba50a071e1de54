/* SPDX-License-Identifier: MIT */
/* fleet.c: see fleet.h. */
#include "session/fleet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "incus/incus.h"
#include "monitor/monitor.h"
#include "monitor/prescan.h"
#include "netpolicy/netpolicy.h"
#include "session/idmount.h"
#include "session/immutable.h"
#include "session/naming.h"
#include "session/network.h"
#include "session/protect.h"
#include "session/sweep.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/proc.h"
#include "util/strv.h"

void fleet_entry_release(struct fleet_entry *e)
{
	free(e->name);
	free(e->workspace);
	free(e->status);
	free(e->ipv4);
	free(e->image);
	free(e->network_mode);
	free(e->tool);
	free(e->created_at);
	strv_free(e->ports);
	*e = (struct fleet_entry){0};
}

void fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++)
		fleet_entry_release(&f->items[i]);
	free(f->items);
	*f = (struct fleet){0};
}

int fleet_owner_record(const char *name, pid_t pid, struct coi_error *err)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");
	unsigned long long start = 0;
	char text[64];
	int n;

	if (!path)
		return coi_error_oom(err);
	(void)proc_run_dir_make();
	(void)proc_starttime(pid, &start);
	n = snprintf(text, sizeof(text), "%d %llu\n", (int)pid, start);
	return write_file_atomic(path, text, (size_t)n, 0600, err);
}

int fleet_owner_detached(const char *name, struct coi_error *err)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");

	if (!path)
		return coi_error_oom(err);
	return write_file_atomic(path, "detached\n", 9, 0600, err);
}

int fleet_owner_warm(const char *name, struct coi_error *err)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");

	if (!path)
		return coi_error_oom(err);
	return write_file_atomic(path, "warm\n", 5, 0600, err);
}

void fleet_owner_clear(const char *name)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");

	if (path)
		(void)unlink(path);
}

/* Whether name's owner record starts with word. */
static bool owner_says(const char *name, const char *word)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");
	_cleanup_buf_ struct buf b = BUF_INIT(256);

	return path && read_file(path, &b, NULL) >= 0 &&
	       strncmp(buf_str(&b), word, strlen(word)) == 0;
}

bool fleet_owner_is_detached(const char *name)
{
	return owner_says(name, "detached");
}

bool fleet_owner_is_warm(const char *name)
{
	return owner_says(name, "warm");
}

/* The pid an owner record ("PID STARTTIME") names, while that very process lives; else 0. */
static pid_t owner_pid(const char *record)
{
	unsigned long long want, now;
	int pid;

	if (sscanf(record, "%d %llu", &pid, &want) != 2 || pid <= 0)
		return 0;
	return proc_starttime(pid, &now) < 0 || now != want ? 0 : pid;
}

int fleet_owner_alive(const char *name)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");
	_cleanup_buf_ struct buf b = BUF_INIT(256);

	if (!path || read_file(path, &b, NULL) < 0)
		return 0;
	/* a detached interactive session: the user comes back with coi attach */
	if (strncmp(buf_str(&b), "detached", 8) == 0)
		return 1;
	/* a warm container (session/warm.h): alive while it exists; its placeholders are handed
	 * to it as to a live session's (fleet_finish_protection) */
	if (strncmp(buf_str(&b), "warm", 4) == 0)
		return 1;
	return owner_pid(buf_str(&b)) > 0;
}

pid_t fleet_owner_pid(const char *name)
{
	_cleanup_free_ char *path = proc_run_path(name, "owner");
	_cleanup_buf_ struct buf b = BUF_INIT(256);

	return path && read_file(path, &b, NULL) >= 0 ? owner_pid(buf_str(&b)) : 0;
}

/* The ports a session publishes: its proxy devices "coi-port-*" (session/forward.c), as
 * "LISTEN_ADDR:HOST_PORT->CONTAINER_PORT". */
static int published_ports(const struct incus_devices *d, char ***ret)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct incus_device *dev = &d->items[i];
		const char *listen = incus_map_get(&dev->props, "listen");
		const char *connect = incus_map_get(&dev->props, "connect");
		const char *cport = connect ? strrchr(connect, ':') : NULL;
		char *s;

		if (strncmp(dev->name, "coi-port-", strlen("coi-port-")) != 0 || !listen ||
		    !cport || strncmp(listen, "tcp:", 4) != 0)
			continue;
		if (asprintf(&s, "%s->%s", listen + 4, cport + 1) < 0 || strv_consume(ret, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

bool fleet_is_warm_mark(const char *v)
{
	if (!v || strlen(v) != 64)
		return false;
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int fleet_persist(struct incus_client *c, const char *name, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct incus_map cfg = {0};
	int r = incus_instance_get(c, name, &in, err);

	if (r < 0)
		return r;
	if (fleet_is_warm_mark(incus_map_get(&in->config, FLEET_WARM_KEY)))
		return coi_error_set(err, -EBUSY,
		                     "'%s' is a warm container: no session has it yet, there is "
		                     "nothing to persist",
		                     name);
	if (incus_map_set(&cfg, "user.coi.persistent", "true") < 0)
		r = coi_error_oom(err);
	else
		r = incus_instance_patch(c, name, &cfg, NULL, err);
	incus_map_clear(&cfg);
	return r;
}

int fleet_home_id(char out[FLEET_HOME_LEN + 1])
{
	_cleanup_free_ char *dir = coi_dir();
	char hex[SHA256_HEX_LEN + 1];

	if (!dir || sha256_hex(dir, strlen(dir), hex) < 0)
		return -ENOMEM;
	memcpy(out, hex, FLEET_HOME_LEN);
	out[FLEET_HOME_LEN] = '\0';
	return 0;
}

static int entry_from_instance(const struct incus_instance *in, const char *home,
                               struct fleet_entry *e)
{
	const char *its_home = incus_map_get(&in->config, FLEET_HOME_KEY);
	const char *ws = incus_map_get(&in->config, "user.coi.workspace");
	const char *pers = incus_map_get(&in->config, "user.coi.persistent");
	const char *img = incus_map_get(&in->config, "user.coi.image");
	const char *tool = incus_map_get(&in->config, "user.coi.tool");
	const char *mark;
	const struct incus_nic *nic = in->state ? incus_state_nic(in->state, "eth0") : NULL;

	*e = (struct fleet_entry){
	        .slot = session_parse_name(in->name, NULL),
	        .persistent = pers && strcmp(pers, "true") == 0,
	};
	e->name = strdup(in->name);
	e->workspace = strdup(ws ? ws : "");
	e->status = strdup(incus_status_to_string(in->status));
	e->image = strdup(img ? img : "");
	e->network_mode = strdup(incus_map_get(&in->config, "user.coi.network_mode")
	                                 ? incus_map_get(&in->config, "user.coi.network_mode")
	                                 : "");
	e->tool = strdup(tool ? tool : "");
	e->created_at = strdup(in->created_at ? in->created_at : "");
	if (nic && nic->ipv4)
		e->ipv4 = strdup(nic->ipv4);
	if (!e->name || !e->workspace || !e->status || !e->image || !e->tool || !e->created_at ||
	    (nic && nic->ipv4 && !e->ipv4) || published_ports(&in->devices, &e->ports) < 0)
		return -ENOMEM;
	mark = incus_map_get(&in->config, FLEET_WARM_KEY);
	e->warm = in->status == INCUS_STATUS_RUNNING && fleet_is_warm_mark(mark);
	e->filling =
	        in->status == INCUS_STATUS_RUNNING && mark && strcmp(mark, FLEET_WARM_FILLING) == 0;
	/* frozen too: an ephemeral session whose background teardown died; and a warm one whose
	 * mark was taken away by a coi build that was cut short before it deleted it (warm.h): a
	 * claim records its own owner before it takes the mark */
	e->mine = !its_home || strcmp(its_home, home) == 0;
	e->orphan = e->mine && !e->persistent && !e->warm &&
	            (in->status == INCUS_STATUS_RUNNING || in->status == INCUS_STATUS_FROZEN) &&
	            ws && (!fleet_owner_alive(in->name) || fleet_owner_is_warm(in->name));
	return 0;
}

/* Addresses from the DHCP leases of each network the containers are on: one call a network,
 * where the instances' full state (recursion=2) costs the daemon a round of work per container. */
static int fill_addresses(struct incus_client *c, struct incus_instance **list, struct fleet *f)
{
	_cleanup_strv_free_ char **done = NULL;

	for (size_t i = 0; list[i]; i++) {
		const char *net = incus_devices_prop(&list[i]->expanded_devices, "eth0", "network");
		struct incus_lease *l = NULL;
		size_t n = 0;

		if (!net || strv_contains(done, net))
			continue;
		if (strv_push(&done, net) < 0)
			return -ENOMEM;
		if (incus_network_leases(c, net, &l, &n, NULL) < 0)
			continue; /* not a managed network: no addresses shown */
		for (size_t j = 0; j < n; j++)
			for (size_t k = 0; k < f->n; k++)
				if (!f->items[k].ipv4 &&
				    strcmp(f->items[k].name, l[j].hostname) == 0 &&
				    strcmp(f->items[k].status, "Running") == 0)
					f->items[k].ipv4 = strdup(l[j].address);
		incus_leases_free(l, n);
	}
	return 0;
}

int fleet_list(struct incus_client *c, bool with_state, struct fleet *ret, struct coi_error *err)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **list = NULL;
	struct fleet f = {0};
	char home[FLEET_HOME_LEN + 1];
	int n;

	if (fleet_home_id(home) < 0)
		return coi_error_oom(err);
	n = incus_instance_list(c, session_name_prefix(), 0, &list, err);
	if (n < 0)
		return n;
	f.items = calloc((size_t)n + 1, sizeof(*f.items));
	if (!f.items)
		return coi_error_oom(err);
	for (size_t i = 0; list[i]; i++) {
		/* only what coi made: its name shape, or its metadata; not the monitor's forensics
		 * copies, which carry a session's metadata but are evidence (coi clean --forensics)
		 */
		if ((session_parse_name(list[i]->name, NULL) < 0 &&
		     !incus_map_get(&list[i]->config, "user.coi.workspace")) ||
		    strncmp(list[i]->name, MONITOR_FORENSICS_PREFIX,
		            strlen(MONITOR_FORENSICS_PREFIX)) == 0)
			continue;
		if (entry_from_instance(list[i], home, &f.items[f.n++]) < 0) {
			fleet_release(&f);
			return coi_error_oom(err);
		}
	}
	if (with_state && fill_addresses(c, list, &f) < 0) {
		fleet_release(&f);
		return coi_error_oom(err);
	}
	*ret = f;
	return 0;
}

static const struct net_nft default_nft = {.backend = NET_BACKEND_AUTO};

static void keep_first(int *first, int r)
{
	if (r < 0 && *first == 0)
		*first = r;
}

/* Another session of name's workspace (the same hash) whose coi still lives: its protection
 * state file, or NULL. */
static char *heir_state(const char *name)
{
	_cleanup_free_ char *dir = coi_dir(), *run = dir ? path_join(dir, "run") : NULL;
	char hash[WORKSPACE_HASH_LEN + 1], other_hash[WORKSPACE_HASH_LEN + 1];
	DIR *dh = run && session_parse_name(name, hash) > 0 ? opendir(run) : NULL;
	char *heir = NULL;

	for (struct dirent *de; dh && !heir && (de = readdir(dh));) {
		_cleanup_free_ char *other = strdup(de->d_name);
		char *dot = other ? strrchr(other, '.') : NULL;

		if (!dot || strcmp(dot, ".protect") != 0)
			continue;
		*dot = '\0';
		if (strcmp(other, name) != 0 && session_parse_name(other, other_hash) > 0 &&
		    strcmp(other_hash, hash) == 0 && fleet_owner_alive(other))
			heir = proc_run_path(other, "protect");
	}
	if (dh)
		closedir(dh);
	return heir;
}

int fleet_finish_protection(const char *name, const char *state_file, bool locked,
                            char ***ret_report, struct coi_error *err)
{
	char hash[WORKSPACE_HASH_LEN + 1];
	struct ws_lock l = WS_LOCK_INIT;
	_cleanup_free_ char *heir = NULL;
	int r;

	/* a starting session makes and mounts placeholders under the lock: it is either done (and
	 * an heir) or not begun (and makes its own) */
	if (!locked && session_parse_name(name, hash) > 0)
		(void)session_lock_workspace(hash, 60000, &l, NULL);
	heir = heir_state(name);
	r = heir ? sweep_hand_over(state_file, heir, err) : 0;
	if (r >= 0)
		r = sweep_finish(state_file, ret_report, err);
	session_unlock_workspace(&l);
	return r;
}

int fleet_cleanup_host(const char *name, const struct net_nft *n, char ***ret_report,
                       struct coi_error *err)
{
	_cleanup_free_ char *imm = proc_run_path(name, "immutable"),
	                    *prot = proc_run_path(name, "protect"),
	                    *net = proc_run_path(name, "network");
	struct coi_error e = {0};
	int first = 0;

	if (!imm || !prot || !net)
		return coi_error_oom(err);
	/* the guest's networkd file (session/network.c); a warm container's read-ahead (warm.h) */
	(void)unlink(net);
	monitor_prescan_remove(name);
	keep_first(&first, monitor_supervisor_stop(name, &e) < 0 ? -EIO : 0);
	keep_first(&first, protect_restore_immutable(imm, first ? NULL : &e));
	keep_first(&first,
	           fleet_finish_protection(name, prot, false, ret_report, first ? NULL : &e));
	keep_first(&first, idmount_remove_container(name, first ? NULL : &e));
	keep_first(&first, netpolicy_remove(n ? n : &default_nft, NULL, name, first ? NULL : &e));
	fleet_owner_clear(name);
	if (first < 0 && err)
		*err = e;
	return first;
}

int fleet_purge_rules(char *const *existing, struct coi_error *err)
{
	static char *const none[] = {NULL};

	return netpolicy_purge_orphans(&default_nft, NULL, existing ? existing : none, err);
}

int fleet_delete(struct incus_client *c, const char *name, struct coi_error *err)
{
	int r = incus_instance_delete(c, name, true, err);

	/* another coi (a session's background teardown) may be deleting it right now, or a stop
	 * that timed out may still be under way: the daemon then refuses or trips over the
	 * half-stopped container ("Invalid PID"); look again a moment later, a few times */
	for (int i = 0; i < 3 && r < 0 && r != -ENOENT && incus_instance_exists(c, name, NULL) != 0;
	     i++) {
		(void)nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
		coi_error_clear(err);
		r = incus_instance_delete(c, name, true, err);
	}
	if (r < 0 && (r == -ENOENT || incus_instance_exists(c, name, NULL) == 0))
		r = 0;
	return r;
}

int fleet_kill(struct incus_client *c, const char *name, const struct net_nft *n,
               char ***ret_report, struct coi_error *err)
{
	int r = fleet_delete(c, name, err);

	return r < 0 ? r : fleet_cleanup_host(name, n, ret_report, err);
}

/* Make sure nothing in a dead session's container acts any more: frozen when ephemeral (it waits
 * for 'coi clean --orphans', as a session's own teardown freezes it before deleting), stopped
 * when persistent (as its session would have left it). Gone counts as done. */
static int quiesce(struct incus_client *c, const char *name, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	const char *pers;
	int r = incus_instance_get(c, name, &in, err);

	if (r == -ENOENT)
		return 0;
	if (r < 0 || in->status != INCUS_STATUS_RUNNING)
		return r < 0 ? r : 0;
	pers = incus_map_get(&in->config, "user.coi.persistent");
	if (pers && strcmp(pers, "true") == 0)
		return incus_instance_set_state(c, name, INCUS_ACTION_STOP, true, -1, err);
	return incus_instance_set_state(c, name, INCUS_ACTION_FREEZE, false, -1, err);
}

/* A detached session lives as long as its container: one deleted from outside coi (incus delete)
 * has no coi process left to end it, and its protected paths would stay immutable. */
static bool container_gone(struct incus_client *c, const char *name)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;

	return incus_instance_get(c, name, &in, NULL) == -ENOENT;
}

static int restore_one(struct incus_client *c, const char *name, bool gone, char ***notes)
{
	_cleanup_free_ char *imm = proc_run_path(name, "immutable"), *note = NULL;
	struct coi_error e = {0};
	int r;

	if (!imm)
		return -ENOMEM;
	r = quiesce(c, name, &e);
	if (r >= 0)
		r = protect_restore_immutable(imm, &e);
	if (r < 0)
		r = asprintf(&note,
		             "the coi process of session %s is gone, and its host protection "
		             "could not be undone: %s",
		             name, coi_error_message(&e));
	else if (gone)
		r = asprintf(&note,
		             "the container of detached session %s was deleted outside coi: the "
		             "protected paths of its workspace are writable again ('coi clean "
		             "--orphans' removes what is left)",
		             name);
	else
		r = asprintf(&note,
		             "the coi process of session %s is gone: its container is stopped or "
		             "frozen and the protected paths of its workspace are writable again "
		             "('coi clean --orphans' removes what is left)",
		             name);
	if (r < 0 || strv_consume(notes, TAKE_PTR(note)) < 0)
		return -ENOMEM;
	return 0;
}

int fleet_restore_dead(struct incus_client *c, char ***notes)
{
	_cleanup_free_ char *dir = coi_dir(), *run = dir ? path_join(dir, "run") : NULL;
	DIR *dh = run ? opendir(run) : NULL;
	int n = 0;

	for (struct dirent *de; dh && (de = readdir(dh));) {
		_cleanup_free_ char *name = strdup(de->d_name);
		char *dot = name ? strrchr(name, '.') : NULL;
		bool gone;

		if (!dot || strcmp(dot, ".immutable") != 0 || de->d_name[0] == '.')
			continue;
		*dot = '\0';
		gone = fleet_owner_is_detached(name) && container_gone(c, name);
		if ((!gone && fleet_owner_alive(name)) || restore_one(c, name, gone, notes) < 0)
			continue;
		if (gone) /* nothing is left to attach to */
			fleet_owner_clear(name);
		n++;
	}
	if (dh)
		closedir(dh);
	return n;
}
