/* SPDX-License-Identifier: MIT */
/* coi __idmount: the one thing a session of an ordinary user needs root for besides nft: the
 * workspace's idmapped mount (session/idmount.h), in which only the user's own uid and gid are
 * mapped, so that container root can create, chown or chmod nothing in it. Run by coi itself
 * through `sudo -n` (scripts/setup-host lets the group incus-admin, which controls the Incus
 * daemon and so is as good as root already). It trusts nothing of its caller but the sudo user:
 * the ids are SUDO_UID/SUDO_GID, the source must be a directory that user owns, the target is
 * coi's own /run/coi/mounts/<container>. */
#include "session/idmount.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "netpolicy/netpolicy.h"
#include "util/error.h"

const struct verb verb___idmount;

/* The invoking user of sudo: a real one, not root. */
static int sudo_ids(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *e1 = NULL, *e2 = NULL;
	long a, b;

	if (!u || !g || !*u || !*g)
		return -EPERM;
	a = strtol(u, &e1, 10);
	b = strtol(g, &e2, 10);
	if (*e1 || *e2 || a <= 0 || b <= 0)
		return -EPERM;
	*uid = (uid_t)a;
	*gid = (gid_t)b;
	return 0;
}

static int run(int argc, char **argv)
{
	struct coi_error err = {0};
	_cleanup_free_ char *target = NULL;
	uid_t uid;
	gid_t gid;
	int r;

	if (cmd_wants_help(argc, argv))
		return cmd_help(&verb___idmount);
	if (argc < 3 || (strcmp(argv[1], "mount") == 0 && argc != 4) ||
	    (strcmp(argv[1], "unmount") == 0 && argc != 3) ||
	    (strcmp(argv[1], "mount") != 0 && strcmp(argv[1], "unmount") != 0))
		return cmd_usage_error(&verb___idmount,
		                       "usage: coi __idmount mount CONTAINER DIR | "
		                       "unmount CONTAINER");
	if (geteuid() != 0 || sudo_ids(&uid, &gid) < 0)
		return cmd_failf("__idmount is for coi itself, through sudo by a user other than "
		                 "root");
	if (!net_container_name_valid(argv[2]))
		return cmd_failf("'%s' is not a container name", argv[2]);
	if (strcmp(argv[1], "unmount") == 0) {
		target = idmount_target(argv[2]);
		r = target ? idmount_remove(target, &err) : coi_error_oom(&err);
	} else {
		r = idmount_create_owned(argv[3], argv[2], uid, gid, &err);
	}
	return r < 0 ? cmd_fail(&err) : EXIT_OK;
}

const struct verb verb___idmount = {
        .name = "__idmount",
        .run = run,
        .summary = "the workspace mount of an ordinary user's session (run by coi via sudo)",
        .usage = "Usage: coi __idmount mount CONTAINER DIR\n"
                 "       coi __idmount unmount CONTAINER\n"
                 "\n"
                 "Run by coi itself through 'sudo -n' for a session of a user other than root:\n"
                 "mount DIR (a directory the sudo user owns) at /run/coi/mounts/CONTAINER\n"
                 "through an idmapped mount in which only the sudo user's uid and gid are mapped,\n"
                 "or take that mount away.",
};
