/* SPDX-License-Identifier: MIT */
/* test-session-secrets: [security] secret_paths. The patterns, the bounded search of a real
 * directory tree (links in and out, .git, nesting, the cap), the mask sources, and the disks a
 * session asks Incus for. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incus/incus.h"
#include "session/devices.h"
#include "session/protect.h"
#include "session/secrets.h"
#include "session/session.h"
#include "tap.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

static void test_patterns(void)
{
	static const struct {
		const char *pattern, *rel;
		bool match;
	} cases[] = {
	        /* no slash: a name at any depth */
	        {".env", ".env", true},
	        {".env", "api/.env", true},
	        {".env", "api/.env.local", false},
	        {".env.*", "api/.env.local", true},
	        {"*.pem", "certs/deep/server.pem", true},
	        {"*.pem", "server.pem.txt", false},
	        {"*.key", ".hidden.key", true},
	        /* a slash: from the workspace's root */
	        {"config/secrets.yml", "config/secrets.yml", true},
	        {"config/secrets.yml", "app/config/secrets.yml", false},
	        {"/config/secrets.yml", "config/secrets.yml", true},
	        {"./config/secrets.yml", "config/secrets.yml", true},
	        {"deploy/*.key", "deploy/a.key", true},
	        {"deploy/*.key", "deploy/sub/a.key", false},
	        /* a leading any-depth part */
	        {"**/config/secrets.yml", "app/config/secrets.yml", true},
	        {"**/.env", "a/b/.env", true},
	        /* a directory, whole */
	        {"secrets/**", "secrets", true},
	        {"secrets/**", "app/secrets", false},
	        /* nothing, or everything, matches nothing */
	        {"", ".env", false},
	        {"**", ".env", false},
	        {"/", "x", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool m = secrets_pattern_match(cases[i].pattern, cases[i].rel);

		if (m != cases[i].match)
			printf("# '%s' vs '%s': %d\n", cases[i].pattern, cases[i].rel, m);
		CHECK(m == cases[i].match);
	}
}

static void touch(const char *ws, const char *rel)
{
	char *p = path_join(ws, rel);
	int fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "SECRET=1\n", 9) == 9);
	close(fd);
	free(p);
}

static void dir(const char *ws, const char *rel)
{
	char *p = path_join(ws, rel);

	CHECK(mkdir_p(p, 0755) == 0);
	free(p);
}

static void lnk(const char *target, const char *ws, const char *rel)
{
	char *p = path_join(ws, rel);

	CHECK(symlink(target, p) == 0);
	free(p);
}

static bool has(const struct secret_plan *p, const char *rel, bool is_dir)
{
	for (size_t i = 0; i < p->n_entries; i++)
		if (strcmp(p->entries[i].rel, rel) == 0)
			return p->entries[i].is_dir == is_dir;
	return false;
}

static void test_search(void)
{
	char ws[] = "/tmp/coi-test-secrets-XXXXXX", out[] = "/tmp/coi-test-secrets-out-XXXXXX";
	char *patterns[] = {".env", "*.pem", "secrets/**", "link.key", "out.key", NULL};
	struct secret_plan *p = NULL;
	struct coi_error err = {0};
	char *cmd;

	CHECK(mkdtemp(ws) != NULL && mkdtemp(out) != NULL);
	touch(ws, ".env");
	dir(ws, "api/deep");
	touch(ws, "api/deep/.env");
	touch(ws, "api/readme.md");
	touch(ws, "server.pem");
	dir(ws, "secrets/inner");
	touch(ws, "secrets/inner/a.pem"); /* inside a hidden directory: covered by it */
	dir(ws, ".git/objects");
	touch(ws, ".git/objects/x.pem"); /* .git is not searched */
	touch(ws, "real.txt");
	lnk("real.txt", ws, "link.key"); /* in: its target */
	lnk(out, ws, "out.key");         /* out: a note */
	lnk(out, ws, "outdir");          /* not followed */
	touch(out, ".env");

	CHECK(secrets_plan_build(ws, patterns, &p, &err) == 0);
	CHECK(p != NULL);
	CHECK(has(p, ".env", false));
	CHECK(has(p, "api/deep/.env", false));
	CHECK(has(p, "server.pem", false));
	CHECK(has(p, "secrets", true));
	CHECK(!has(p, "secrets/inner/a.pem", false));
	CHECK(!has(p, ".git/objects/x.pem", false));
	CHECK(has(p, "real.txt", false));
	CHECK(!has(p, "link.key", false));
	CHECK(!has(p, "outdir/.env", false));
	CHECK(p->n_entries == 5);
	CHECK(strv_length(p->notes) == 1 && strstr(p->notes[0], "'out.key'"));
	p = secrets_plan_free(p);

	/* nothing to hide: an empty plan */
	CHECK(secrets_plan_build(ws, NULL, &p, &err) == 0 && p->n_entries == 0);
	p = secrets_plan_free(p);

	/* more than a session hides: refused, naming the way out */
	for (int i = 0; i <= SECRETS_MAX; i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "api/k%d.pem", i);
		touch(ws, rel);
	}
	CHECK(secrets_plan_build(ws, patterns, &p, &err) == -E2BIG);
	CHECK(strstr(err.msg, "DIR/**") != NULL);

	CHECK(asprintf(&cmd, "rm -rf '%s' '%s'", ws, out) > 0 && system(cmd) == 0);
	free(cmd);
}

static void test_mask_sources(void)
{
	char home[] = "/tmp/coi-test-masks-XXXXXX";
	char *file = NULL, *empty = NULL, *cmd;
	struct coi_error err = {0};
	struct stat st;

	CHECK(mkdtemp(home) != NULL);
	CHECK(secrets_mask_sources(home, &file, &empty, &err) == 0);
	CHECK(stat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	      (st.st_mode & 0777) == 0444);
	CHECK(stat(empty, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0555);
	/* a file that is not empty any more is made empty again */
	CHECK(chmod(file, 0644) == 0);
	touch(home, "empty-file");
	free(file);
	free(empty);
	CHECK(secrets_mask_sources(home, &file, &empty, &err) == 0);
	CHECK(stat(file, &st) == 0 && st.st_size == 0);
	/* a directory that is not empty is refused, not emptied */
	CHECK(chmod(empty, 0755) == 0);
	touch(empty, "x");
	free(file);
	free(empty);
	CHECK(secrets_mask_sources(home, &file, &empty, &err) == -ENOTEMPTY);
	CHECK(asprintf(&cmd, "rm -rf '%s'", home) > 0 && system(cmd) == 0);
	free(cmd);
	/* never coi's state directory, which no container may have */
	cmd = secrets_masks_dir();
	CHECK(cmd && !strstr(cmd, "/.coi"));
	free(cmd);
}

/* The disks: an empty read-only mount per secret path, one mount for a path that is also
 * protected. */
static void test_disks(void)
{
	struct secret_entry e[] = {{".env", false}, {".vscode", true}};
	struct secret_plan sp = {.entries = e, .n_entries = 2};
	struct protect_entry pe[] = {{.rel = ".vscode", .host = "/w/.vscode", .is_dir = true}};
	struct protect_plan pp = {.entries = pe, .n_entries = 1};
	struct session_opts o = {.workspace = "/w"};
	struct session_layout l = {.container_workspace = "/workspace",
	                           .secrets = &sp,
	                           .mask_file = "/run/coi/masks/empty-file",
	                           .mask_dir = "/run/coi/masks/empty-dir"};
	struct incus_devices d = {0};

	CHECK(session_build_disks(&o, &pp, &l, &d) == 0);
	CHECK_STREQ(incus_devices_prop(&d, "secret-0--env", "source"), "/run/coi/masks/empty-file");
	CHECK_STREQ(incus_devices_prop(&d, "secret-0--env", "path"), "/workspace/.env");
	CHECK_STREQ(incus_devices_prop(&d, "secret-0--env", "readonly"), "true");
	CHECK_STREQ(incus_devices_prop(&d, "secret-1--vscode", "source"),
	            "/run/coi/masks/empty-dir");
	CHECK(incus_devices_get(&d, "protect-0--vscode") == NULL);
	CHECK(session_is_secret_disk("secret-1--vscode") && !session_is_secret_disk("protect-0"));
	incus_devices_clear(&d);
}

int main(void)
{
	RUN(test_patterns);
	RUN(test_search);
	RUN(test_mask_sources);
	RUN(test_disks);
	return tap_done();
}
