/* SPDX-License-Identifier: MIT */
/* repair.c: coi health --fix (see health_repair() in health.h). Each remedy is one small
 * function, named by the check it answers; what it does is said in words before it runs, so
 * --dry-run shows the same lines. Only remedies that are safe to apply unasked are here: the rest
 * stay fixes for the user to read. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "health/health.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define SUDOERS_DROPIN "/etc/sudoers.d/coi-nft"

static int forwarding_on(struct health_ctx *ctx, struct coi_error *err)
{
	const char *path = "/proc/sys/net/ipv4/ip_forward";
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	(void)ctx;
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", path);
	r = write(fd, "1\n", 2) == 2 ? 0 : coi_error_errno(err, errno, "cannot write '%s'", path);
	close(fd);
	return r;
}

static int purge_rules(struct health_ctx *ctx, struct coi_error *err)
{
	struct health_result res = {0};
	_cleanup_strv_free_ char **names = NULL;
	struct incus_instance **list = health_instances(ctx, &res);
	int r;

	if (!list)
		return coi_error_set(err, -EIO, "%s", res.message);
	for (size_t i = 0; list[i]; i++)
		if (strv_push(&names, list[i]->name) < 0)
			return coi_error_oom(err);
	if (!names && strv_push(&names, "") < 0) /* no instance at all: every rule is stale */
		return coi_error_oom(err);
	r = fleet_purge_rules(names, err);
	return r < 0 ? r : 0;
}

static int make_coi_dir(struct health_ctx *ctx, struct coi_error *err)
{
	_cleanup_free_ char *dir = coi_dir();

	(void)ctx;
	if (!dir)
		return coi_error_oom(err);
	return mkdir_p(dir, 0700) < 0 ? coi_error_errno(err, errno, "mkdir -p '%s'", dir) : 0;
}

/* The user who ran 'sudo coi health --fix': the one whose sessions need nft through sudo. */
static const char *sudo_user(void)
{
	const char *u = getenv("SUDO_USER");

	return geteuid() == 0 && u && *u && strcmp(u, "root") != 0 && getpwnam(u) ? u : NULL;
}

static int sudoers_dropin(struct health_ctx *ctx, struct coi_error *err)
{
	const char *user = sudo_user(),
	           *nft = access("/usr/sbin/nft", X_OK) == 0 ? "/usr/sbin/nft" : "/sbin/nft";
	_cleanup_free_ char *line = NULL;

	(void)ctx;
	if (!user)
		return coi_error_set(err, -EPERM,
		                     "run it as 'sudo coi health --fix' from the user's account");
	if (asprintf(&line,
	             "# coi: lets %s's sessions apply their network rules\n"
	             "%s ALL=(root) NOPASSWD: %s\n",
	             user, user, nft) < 0)
		return coi_error_oom(err);
	return write_file_atomic(SUDOERS_DROPIN, line, strlen(line), 0440, err);
}

struct remedy {
	const char *id; /* the check it answers */
	const char *what;
	int (*apply)(struct health_ctx *ctx, struct coi_error *err);
	bool local; /* host-only: not for a remote Incus server */
};

/* clang-format off */
static const struct remedy remedies[] = {
	{ "ip_forwarding", "turn IPv4 forwarding on (until the next boot)", forwarding_on, true },
	{ "orphan_rules",  "remove the network rules of containers that are gone", purge_rules, true },
	{ "nft_tables",    "remove the network rules of containers that are gone", purge_rules, true },
	{ "coi_directory", "create coi's directory", make_coi_dir, false },
	{ "nft",           "allow nft through sudo without a password (" SUDOERS_DROPIN ")",
	  sudoers_dropin, true },
};
/* clang-format on */

static const struct remedy *remedy_for(const char *id)
{
	for (size_t i = 0; i < ELEMENTSOF(remedies); i++)
		if (strcmp(remedies[i].id, id) == 0)
			return &remedies[i];
	return NULL;
}

/* "ID: done: WHAT", "ID: would WHAT", "ID: cannot WHAT: WHY" */
static int say(char ***lines, const struct remedy *m, const char *how, const char *why)
{
	char *l = NULL;

	if (asprintf(&l, "%s: %s%s%s%s", m->id, how, m->what, why ? ": " : "", why ? why : "") <
	            0 ||
	    strv_consume(lines, l) < 0)
		return -ENOMEM;
	return 0;
}

int health_repair(const struct health_opts *o, const struct health_report *rep, bool dry_run,
                  char ***ret_lines, struct coi_error *err)
{
	struct health_ctx ctx;
	int n = 0, r = 0;

	r = health_ctx_open(o, &ctx, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < rep->n; i++) {
		const struct remedy *m = remedy_for(rep->results[i].id);
		struct coi_error e = {0};

		if (!m || rep->results[i].status == HEALTH_OK || (m->local && !health_local(&ctx)))
			continue;
		n++;
		if (dry_run) {
			r = say(ret_lines, m, "would ", NULL);
			continue;
		}
		if (m->apply(&ctx, &e) < 0)
			r = say(ret_lines, m, "cannot ", coi_error_message(&e));
		else
			r = say(ret_lines, m, "done: ", NULL);
	}
	health_ctx_close(&ctx);
	return r < 0 ? coi_error_oom(err) : n;
}
