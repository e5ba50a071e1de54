/* SPDX-License-Identifier: MIT */
/* test-session-workspace.c: which directories may be a session's workspace (workspace.h), judged
 * with symbolic links followed, the override, and coi's state directory, which no workspace or
 * extra mount may reach, override or not. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/workspace.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

static char root[] = "/tmp/coi-t-ws-XXXXXX";

static char *at(const char *rel)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	(void)snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
	return buf[i];
}

/* 0 when ws may be a workspace, else the error, whose message must hold want. */
static int check(const char *ws, bool unsafe, const char *want)
{
	struct coi_error err = {0};
	int r = session_workspace_check(ws, unsafe, &err);

	if (r < 0 && want && !strstr(err.msg, want)) {
		printf("# '%s': '%s' lacks '%s'\n", ws, err.msg, want);
		return 1;
	}
	if (r == 0 && want)
		printf("# '%s' accepted\n", ws);
	return r;
}

static void test_refused(void)
{
	CHECK(check("/", false, "it is the root of the host") == -EPERM);
	CHECK(check("/etc", false, "system directory '/etc'") == -EPERM);
	CHECK(check("/etc/ssl", false, "system directory '/etc'") == -EPERM);
	CHECK(check("/usr", false, "contains the system directory") == -EPERM);
	CHECK(check("/var", false, "contains the system directory") == -EPERM);
	CHECK(check("/proc/self", false, "system directory") == -EPERM);
	CHECK(check("/opt", false, "holds other projects") == -EPERM);
	CHECK(check("/srv", false, "holds other projects, users or programs, like '/srv'") ==
	      -EPERM);
	CHECK(check("/tmp", false, "refusing") == -EPERM);
	CHECK(check(at("home"), false, "it is your home directory") == -EPERM);
	CHECK(check(root, false, "it contains your home directory") == -EPERM);
	/* symbolic links are followed: a link to / is / */
	CHECK(check(at("proj/to-root"), false, "'/': it is the root of the host") == -EPERM);
	CHECK(check(at("proj/to-etc"), false, "system directory '/etc'") == -EPERM);
	/* every message says how to pick a project, and how to override */
	CHECK(check("/", false, "run coi from your project's directory") == -EPERM);
	CHECK(check("/", false, "add --unsafe-workspace") == -EPERM);
}

static void test_accepted(void)
{
	CHECK(check(at("home/src/proj"), false, NULL) == 0);
	CHECK(check(at("proj"), false, NULL) == 0);
	CHECK(check("/opt", true, NULL) == 0);
	CHECK(check("/etc", true, NULL) == 0); /* the override */
	CHECK(check(at("home"), true, NULL) == 0);
}

/* coi's state directory: no override opens it. */
static void test_state_dir(void)
{
	struct coi_error err = {0};

	setenv("COI_HOME", at("home/.coi"), 1);
	CHECK(check(at("home"), true, "contains coi's own state directory") == -EPERM);
	CHECK(check(at("home/.coi/sessions"), true, "it lies inside coi's own state") == -EPERM);
	CHECK(check("/", true, "contains coi's own state directory") == -EPERM);
	CHECK(check(at("home/src/proj"), true, NULL) == 0);
	CHECK(session_mount_check(at("home"), &err) == -EPERM);
	CHECK(strstr(err.msg, "refusing to mount") != NULL);
	CHECK(session_mount_check(at("home/.coi/run"), &err) == -EPERM);
	CHECK(session_mount_check(at("home/src"), &err) == 0);
	/* elsewhere: then the home is an ordinary (if unwise) workspace with the override */
	setenv("COI_HOME", at("state"), 1);
	CHECK(check(at("home"), true, NULL) == 0);
	CHECK(check(at("home"), false, "your home directory") == -EPERM);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	(void)mkdir(at("home"), 0700);
	(void)mkdir(at("home/src"), 0700);
	(void)mkdir(at("home/src/proj"), 0700);
	(void)mkdir(at("home/.coi"), 0700);
	(void)mkdir(at("home/.coi/sessions"), 0700);
	(void)mkdir(at("home/.coi/run"), 0700);
	(void)mkdir(at("state"), 0700);
	(void)mkdir(at("proj"), 0700);
	if (symlink("/", at("proj/to-root")) < 0 || symlink("/etc", at("proj/to-etc")) < 0)
		return 1;
	setenv("HOME", at("home"), 1);
	setenv("COI_HOME", at("state"), 1);
	unsetenv("SUDO_UID");
	unsetenv("INCUS_DIR");
	RUN(test_refused);
	RUN(test_accepted);
	RUN(test_state_dir);
	(void)!system("rm -rf /tmp/coi-t-ws-??????");
	return tap_done();
}
