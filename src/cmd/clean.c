/* SPDX-License-Identifier: MIT */
/* coi clean: remove stopped sessions, and with --orphans what a killed coi left behind. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "config/config.h"
#include "incus/incus.h"
#include "monitor/monitor.h"
#include "session/fleet.h"
#include "session/naming.h"
#include "session/saved.h"
#include "session/veth.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

const struct verb verb_clean;

struct clean_opts {
	bool orphans, dry_run, all, sessions, forensics, pools, force;
	int found; /* what this pass removed, or would */
};

/* "removing WHAT (WHY)", or with --dry-run "would remove WHAT (WHY)"; counted. */
static void say(struct clean_opts *o, const char *what, const char *why)
{
	o->found++;
	printf("%s %s (%s)\n", o->dry_run ? "would remove" : "removing", output_safe(what),
	       output_safe(why));
}

/* --sessions: every saved agent session (what --resume would restore). */
static int clean_sessions(struct clean_opts *o)
{
	struct saved_entry *l = NULL;
	size_t n = 0;
	int status = 0;

	if (saved_list(&l, &n, NULL) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *what = NULL;

		if (asprintf(&what, "saved %s session %s", l[i].tool, l[i].id) < 0) {
			status = -1;
			break;
		}
		say(o, what, l[i].workspace);
		if (!o->dry_run && saved_session_delete(&l[i]) < 0)
			status = -1;
	}
	saved_list_release(l, n);
	return status;
}

/* --forensics: the copies the monitor kept of containers it killed (forensics_on_kill). */
static int clean_forensics(struct incus_client *c, struct clean_opts *o)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL;
	struct coi_error err = {0};
	int status = 0;

	if (incus_instance_list(c, MONITOR_FORENSICS_PREFIX, 0, &l, &err) < 0) {
		fprintf(stderr, "coi: cannot list forensics copies: %s\n", coi_error_message(&err));
		return -1;
	}
	for (size_t i = 0; l[i]; i++) {
		say(o, l[i]->name, "forensics copy");
		if (o->dry_run)
			continue;
		if (incus_instance_delete(c, l[i]->name, true, &err) < 0 && err.code != -ENOENT) {
			fprintf(stderr, "coi: cannot remove '%s': %s\n", l[i]->name,
			        coi_error_message(&err));
			status = -1;
		}
	}
	return status;
}

static int act(struct incus_client *c, const char *name, const char *why, bool kill_container,
               struct clean_opts *o)
{
	struct coi_error err = {0};
	char **report = NULL;
	int r;

	say(o, name, why);
	if (o->dry_run)
		return 0;
	r = kill_container ? fleet_kill(c, name, NULL, &report, &err)
	                   : fleet_cleanup_host(name, NULL, &report, &err);
	cmd_print_report(report);
	if (r < 0)
		fprintf(stderr, "coi: cannot clean '%s': %s\n", name, coi_error_message(&err));
	return r;
}

/* A workspace lock file nobody holds: coi removes its lock file when it lets go, but an older
 * coi, or one that was killed, left it. Taken and let go, which removes it; one in use is kept. */
static void clean_lock_file(const char *file, struct clean_opts *o)
{
	char hash[WORKSPACE_HASH_LEN + 1];
	struct ws_lock l = WS_LOCK_INIT;

	if (o->dry_run || strlen(file) != WORKSPACE_HASH_LEN + strlen(".lock") ||
	    strspn(file, "0123456789abcdef") != WORKSPACE_HASH_LEN)
		return;
	memcpy(hash, file, WORKSPACE_HASH_LEN);
	hash[WORKSPACE_HASH_LEN] = '\0';
	if (session_lock_workspace(hash, 0, &l, NULL) == 0)
		session_unlock_workspace(&l);
}

/* The names of every instance on the server (the list must stay non-NULL when there is none). */
static int existing_names(struct incus_client *c, char ***ret)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL;
	_cleanup_strv_free_ char **names = NULL;
	struct coi_error err = {0};
	int n = incus_instance_list(c, NULL, 0, &l, &err);

	if (n < 0) {
		fprintf(stderr, "coi: cannot list instances: %s\n", coi_error_message(&err));
		return -EIO;
	}
	names = calloc((size_t)n + 1, sizeof(char *));
	for (size_t i = 0; names && l[i]; i++)
		if (!(names[i] = strdup(l[i]->name)))
			return -ENOMEM;
	if (!names)
		return -ENOMEM;
	*ret = TAKE_PTR(names);
	return 0;
}

/* Leftover host state (owner records, immutable state, idmapped mounts) whose container is
 * gone: not among all the server's instances (/run/coi/mounts is shared by every coi home and
 * prefix, so the fleet alone would not do). */
static int clean_dangling(struct incus_client *c, char *const *existing, struct clean_opts *o)
{
	_cleanup_free_ char *dir = coi_dir(), *run = NULL;
	_cleanup_strv_free_ char **seen = NULL;
	const char *dirs[2] = {NULL, "/run/coi/mounts"};
	int status = 0;

	run = dir ? path_join(dir, "run") : NULL;
	dirs[0] = run;
	for (size_t d = 0; d < 2 && dirs[d]; d++) {
		DIR *dh = opendir(dirs[d]);

		for (struct dirent *de; dh && (de = readdir(dh));) {
			_cleanup_free_ char *name = strdup(de->d_name);
			char *dot;
			bool live = false;

			if (!name || de->d_name[0] == '.')
				continue;
			dot = strrchr(name, '.');
			if (d == 0 && dot && strcmp(dot, ".lock") == 0)
				clean_lock_file(name, o);
			if (d == 0 && (!dot || strcmp(dot, ".lock") == 0))
				continue;
			if (d == 0)
				*dot = '\0';
			/* a session being started records its owner before its container exists;
			 * a warm container's record is made once it exists, and stays when another
			 * user's coi clean or coi build removes it (fleet.h) */
			live = strv_contains(existing, name) ||
			       (fleet_owner_alive(name) && !fleet_owner_is_warm(name));
			if (live || strv_contains(seen, name))
				continue;
			(void)strv_push(&seen, name);
			if (act(c, name, "container gone, host state left", false, o) < 0)
				status = -1;
		}
		if (dh)
			closedir(dh);
	}
	return status;
}

/* Is a container of workspace hash and slot among existing, under any name prefix? */
static bool slot_in_use(char *const *existing, const char *hash, int slot)
{
	char tail[32];
	size_t n = (size_t)snprintf(tail, sizeof(tail), "%s-%d", hash, slot);

	strv_foreach(e, (char **)existing) {
		size_t len = strlen(*e);

		if (len >= n && strcmp(*e + len - n, tail) == 0)
			return true;
	}
	return false;
}

/* The host ends of session NICs that no container uses (a start that failed inside Incus leaves
 * the pair): coi's names only, pairs with both ends on the host only (veth.h), and not while this
 * server has a container of that workspace and slot or a coi is starting a session there. */
static int clean_veths(char *const *existing, struct clean_opts *o)
{
	_cleanup_strv_free_ char **l = NULL;
	struct coi_error err = {0};
	int status = 0;

	if (veth_list_leaked(&l, &err) < 0) {
		fprintf(stderr, "coi: cannot look for leaked interfaces: %s\n",
		        coi_error_message(&err));
		return -1;
	}
	strv_foreach(name, l) {
		char hash[WORKSPACE_HASH_LEN + 1];
		struct ws_lock lock = WS_LOCK_INIT;
		int slot = veth_parse_name(*name, hash);

		if (slot_in_use(existing, hash, slot) ||
		    session_lock_workspace(hash, 0, &lock, NULL) < 0)
			continue;
		say(o, *name, "host interface, its container is gone");
		if (!o->dry_run && veth_delete(*name, &err) < 0 && err.code != -ENODEV) {
			fprintf(stderr, "coi: %s\n", coi_error_message(&err));
			status = -1;
		}
		session_unlock_workspace(&lock);
	}
	return status;
}

/* The storage pools coi is configured to use: [container] storage_pool of the configuration and
 * of every profile; the default profile's root pool stands for "unset". */
static int referenced_pools(struct incus_client *c, char ***ret)
{
	_cleanup_(incus_profile_freep) struct incus_profile *prof = NULL;
	_cleanup_strv_free_ char **profiles = NULL;
	_cleanup_free_ char *ws = NULL;
	const char *dflt = NULL;

	if (incus_profile_get(c, "default", &prof, NULL) >= 0)
		dflt = incus_devices_prop(&prof->devices, "root", "pool");
	if (path_absolute(".", &ws, NULL) < 0 || config_profile_names(ws, &profiles) < 0 ||
	    strv_push(&profiles, "") < 0)
		return -ENOMEM;
	strv_foreach(p, profiles) {
		_cleanup_strv_free_ char **w = NULL;
		struct coi_config *cfg = NULL;
		const char *pool;

		if (config_load(
		            &(struct config_load_opts){.workspace = ws, .profile = **p ? *p : NULL},
		            &cfg, &w, NULL) < 0)
			continue; /* a profile that does not load references nothing */
		pool = cfg->container.storage_pool ? cfg->container.storage_pool : dflt;
		if (pool && !strv_contains(*ret, pool) && strv_push(ret, pool) < 0) {
			config_free(cfg);
			return -ENOMEM;
		}
		config_free(cfg);
	}
	return 0;
}

/* An ephemeral session's background teardown stops its container, then deletes it (the delete
 * takes a while, longer on a busy machine): a stopped container whose coi process still runs is
 * on its way out, and not this command's to report or remove. */
static bool being_removed(const struct fleet_entry *e)
{
	/* a live coi process's record, one read: a detached session's or a warm container's
	 * ("warm" for as long as it exists: stopped by a host reboot, a crashed guest or incus
	 * stop, nobody is removing it, and it can never be claimed) names no process */
	return !e->persistent && fleet_owner_pid(e->name) > 0;
}

/* The stopped ones go anyway (clean_pass). */
static bool removed_anyway(const struct fleet_entry *e, const struct clean_opts *o)
{
	return strcmp(e->status, "Stopped") == 0 && (!e->persistent || o->all) && !being_removed(e);
}

/* --pools: coi's containers whose root disk is in a pool none of that names. Pools are never
 * removed; other projects' profiles, which coi cannot see from here, may name one. */
static int clean_pools(struct incus_client *c, const struct fleet *f, struct clean_opts *o)
{
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL;
	_cleanup_strv_free_ char **pools = NULL;
	struct coi_error err = {0};
	int status = 0;

	if (referenced_pools(c, &pools) < 0 ||
	    incus_instance_list(c, session_name_prefix(), 0, &l, &err) < 0) {
		fprintf(stderr, "coi: cannot look at the pools: %s\n", coi_error_message(&err));
		return -1;
	}
	for (size_t i = 0; i < f->n; i++)
		for (size_t j = 0; l[j]; j++) {
			const char *pool =
			        incus_devices_prop(&l[j]->expanded_devices, "root", "pool");
			_cleanup_free_ char *why = NULL;

			if (strcmp(l[j]->name, f->items[i].name) != 0 || !pool ||
			    strv_contains(pools, pool) || removed_anyway(&f->items[i], o) ||
			    being_removed(&f->items[i]))
				continue;
			if (asprintf(&why, "in pool '%s', which no configuration or profile names",
			             pool) < 0 ||
			    act(c, f->items[i].name, why, true, o) < 0)
				status = -1;
		}
	return status;
}

/* The warm pool's filler that is making name (its owner): SIGTERM, on which its start undoes
 * itself and it makes no other (session.c fill_pool). */
static void stop_filler(const char *name, const struct clean_opts *co)
{
	pid_t pid = co->dry_run ? 0 : fleet_owner_pid(name);

	if (pid > 0)
		(void)kill(pid, SIGTERM);
}

static int clean_pass(struct incus_client *c, struct clean_opts *co)
{
	_cleanup_strv_free_ char **existing = NULL;
	struct coi_error err = {0};
	struct fleet f = {0};
	int status = EXIT_OK;

	if (fleet_list(c, false, &f, &err) < 0)
		return cmd_fail(&err);
	for (size_t i = 0; i < f.n; i++) {
		const struct fleet_entry *e = &f.items[i];

		if (removed_anyway(e, co)) {
			if (act(c, e->name, "stopped", true, co) < 0)
				status = EXIT_FAIL;
		} else if (e->warm && e->mine) {
			if (act(c, e->name, "warm, no session's ([container] warm)", true, co) < 0)
				status = EXIT_FAIL;
		} else if (e->filling && e->mine) {
			/* its filler stops first: else it would mark it, or make another */
			stop_filler(e->name, co);
			if (act(c, e->name, "being made for the warm pool", true, co) < 0)
				status = EXIT_FAIL;
		} else if (co->orphans && e->orphan) {
			if (act(c, e->name, "running, its coi process is gone", true, co) < 0)
				status = EXIT_FAIL;
		}
	}
	if (co->pools && clean_pools(c, &f, co) < 0)
		status = EXIT_FAIL;
	if (co->orphans && (existing_names(c, &existing) < 0 ||
	                    clean_dangling(c, existing, co) < 0 || clean_veths(existing, co) < 0))
		status = EXIT_FAIL;
	if (co->sessions && clean_sessions(co) < 0)
		status = EXIT_FAIL;
	if (co->forensics && clean_forensics(c, co) < 0)
		status = EXIT_FAIL;
	if (co->orphans && !co->dry_run) {
		int n = existing ? fleet_purge_rules(existing, &err) : 0;

		if (n < 0) {
			fprintf(stderr, "coi: cannot purge network rules: %s\n",
			        coi_error_message(&err));
			status = EXIT_FAIL;
		} else if (n > 0) {
			printf("removed the network rules of %d container(s) that no longer exist\n",
			       n);
		}
	}
	fleet_release(&f);
	return status;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"orphans", no_argument, NULL, 'o'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"sessions", no_argument, NULL, 's'},
	        {"forensics", no_argument, NULL, 'F'},
	        {"pools", no_argument, NULL, 'p'},
	        {"all", no_argument, NULL, 'a'},
	        {"force", no_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	struct clean_opts co = {0};
	int o, r;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+afh", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			co.orphans = true;
			break;
		case 's':
			co.sessions = true;
			break;
		case 'F':
			co.forensics = true;
			break;
		case 'p':
			co.pools = true;
			break;
		case 'n':
			co.dry_run = true;
			break;
		case 'a':
			co.all = true;
			break;
		case 'f':
			co.force = true;
			break;
		case 'h':
			return cmd_help(&verb_clean);
		default:
			return cmd_bad_option(&verb_clean, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&verb_clean, "unexpected argument '%s'", argv[optind]);
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	/* on a terminal, without --force: what it would remove, then the question */
	if (!co.dry_run && !co.force && output_is_tty(stdin)) {
		co.dry_run = true;
		r = clean_pass(c, &co);
		if (r != EXIT_OK || co.found == 0) {
			if (co.found == 0)
				fprintf(stderr, "coi: nothing to clean\n");
			return r;
		}
		if (!output_confirm("Remove these?")) {
			fprintf(stderr, "coi: cancelled, nothing done\n");
			return EXIT_FAIL;
		}
		co.dry_run = false;
		co.found = 0;
	}
	return clean_pass(c, &co);
}

const struct verb verb_clean = {
        .name = "clean",
        .run = run,
        .summary = "remove stopped sessions and what a crash left behind",
        .usage = "Usage: coi clean [--orphans] [--sessions] [--forensics] [--pools] [--all]\n"
                 "                 [--dry-run] [--force]\n"
                 "\n"
                 "Remove stopped ephemeral session containers and the warm pool's containers\n"
                 "([container] warm). With --orphans, also running\n"
                 "ephemeral sessions whose coi process is gone (coi was killed), and host state\n"
                 "left by sessions whose container no longer exists: immutable flags on protected\n"
                 "paths, idmapped workspace mounts, network rules, host network interfaces\n"
                 "(vcoi*) whose container is gone. Running sessions and warm containers of\n"
                 "another coi home (another user's, or another COI_HOME) are left alone.\n"
                 "\n"
                 "  --orphans   also what a killed coi left behind\n"
                 "  --sessions  also every saved agent session (what --resume restores)\n"
                 "  --forensics also the monitor's copies of containers it killed\n"
                 "              (coi-forensics-*, kept by [monitoring] forensics_on_kill)\n"
                 "  --pools     also coi's containers in a storage pool that neither the\n"
                 "              configuration nor any profile names (pools are never removed)\n"
                 "  -a, --all   also stopped persistent containers\n"
                 "  --dry-run   say what would be removed, remove nothing\n"
                 "  -f, --force do not ask (on a terminal coi lists what it would remove and\n"
                 "              asks first)",
};
