/* SPDX-License-Identifier: MIT */
/* The Incus client's options: [incus] of the configuration, the environment over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "incus/incus.h"
#include "session/incus-opts.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

static const char *const vars[] = {
        "INCUS_SOCKET",         "INCUS_DIR",
        "COI_INCUS_REMOTE",     "COI_INCUS_CLIENT_CERT",
        "COI_INCUS_CLIENT_KEY", "COI_INCUS_SERVER_CERT",
        "COI_INCUS_PROJECT",
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static char dir[] = "/tmp/coi-test-client-opts-XXXXXX";

/* The configuration of a user file holding text. */
static struct coi_config *load(const char *text)
{
	_cleanup_free_ char *path = NULL;
	struct coi_config *c = NULL;
	char **warnings = NULL;
	struct coi_error err = {0};
	FILE *f;

	if (asprintf(&path, "%s/config.toml", dir) < 0 || !(f = fopen(path, "w")))
		return NULL;
	fputs(text, f);
	fclose(f);
	if (config_load(&(struct config_load_opts){.workspace = dir, .user_file = path}, &c,
	                &warnings, &err) < 0)
		printf("# %s\n", err.msg);
	strv_free(warnings);
	return c;
}

static const char local_cfg[] = "[incus]\n"
                                "socket = \"/srv/incus/unix.socket\"\n"
                                "project = \"work\"\n";
static const char remote_cfg[] = "[incus]\n"
                                 "remote_url = \"https://cluster:8443\"\n"
                                 "client_cert = \"/c.crt\"\n"
                                 "client_key = \"/c.key\"\n"
                                 "server_cert = \"/s.crt\"\n";

static void test_config_alone(void)
{
	struct coi_config *c = load(local_cfg);
	struct incus_client_opts o;

	clear_env();
	CHECK(c != NULL);
	if (!c)
		return;
	session_incus_client_opts(c, &o);
	CHECK_STREQ(o.socket_path, "/srv/incus/unix.socket");
	CHECK_STREQ(o.project, "work");
	CHECK(o.remote_url == NULL);
	config_free(c);

	/* the defaults: project "default", socket from incus_default_socket() */
	CHECK(config_new_default(&c, NULL) == 0);
	session_incus_client_opts(c, &o);
	CHECK(o.socket_path == NULL);
	CHECK_STREQ(o.project, "default");
	config_free(c);
}

static void test_env_over_config(void)
{
	struct coi_config *c = load(local_cfg);
	struct incus_client_opts o;
	_cleanup_free_ char *sock = NULL;

	if (!c)
		return;
	clear_env();
	setenv("INCUS_SOCKET", "/env/unix.socket", 1);
	setenv("COI_INCUS_PROJECT", "envproj", 1);
	session_incus_client_opts(c, &o);
	CHECK(o.socket_path == NULL); /* the environment's socket: */
	sock = incus_default_socket();
	CHECK_STREQ(sock, "/env/unix.socket");
	CHECK_STREQ(o.project, "envproj");

	/* $INCUS_DIR names the socket too; an empty variable counts as unset */
	clear_env();
	setenv("INCUS_DIR", "/var/lib/other", 1);
	setenv("COI_INCUS_PROJECT", "", 1);
	session_incus_client_opts(c, &o);
	CHECK(o.socket_path == NULL);
	CHECK_STREQ(o.project, "work");
	free(sock);
	sock = incus_default_socket();
	CHECK_STREQ(sock, "/var/lib/other/unix.socket");
	clear_env();
	config_free(c);
}

static void test_remote(void)
{
	struct coi_config *c = load(remote_cfg);
	struct incus_client_opts o;

	if (!c)
		return;
	clear_env();
	session_incus_client_opts(c, &o);
	CHECK_STREQ(o.remote_url, "https://cluster:8443");
	CHECK_STREQ(o.client_cert, "/c.crt");
	CHECK_STREQ(o.server_cert, "/s.crt");

	/* the environment's remote, with one certificate of its own */
	setenv("COI_INCUS_REMOTE", "https://other:8443", 1);
	setenv("COI_INCUS_CLIENT_CERT", "/env.crt", 1);
	session_incus_client_opts(c, &o);
	CHECK_STREQ(o.remote_url, "https://other:8443");
	CHECK_STREQ(o.client_cert, "/env.crt");
	CHECK_STREQ(o.client_key, "/c.key");

	/* a local socket from the environment wins over a configured remote */
	clear_env();
	setenv("INCUS_SOCKET", "/env/unix.socket", 1);
	session_incus_client_opts(c, &o);
	CHECK(o.remote_url == NULL && o.socket_path == NULL);
	clear_env();
	config_free(c);
}

/* The project reaches the client, and survives into a child's client and a child's env. */
static void test_client(void)
{
	struct coi_config *c = load(local_cfg);
	struct incus_client *cl = NULL, *like = NULL;
	struct incus_client_opts o;

	if (!c)
		return;
	clear_env();
	session_incus_client_opts(c, &o);
	CHECK(incus_client_new(&o, &cl, NULL) == 0);
	CHECK(cl && !incus_client_is_remote(cl));
	CHECK_STREQ(incus_client_project(cl), "work");
	CHECK(cl && incus_client_new_like(cl, &like, NULL) == 0);
	CHECK_STREQ(like ? incus_client_project(like) : NULL, "work");
	CHECK(incus_client_export_env(like) == 0);
	CHECK_STREQ(getenv("COI_INCUS_PROJECT"), "work");
	CHECK_STREQ(getenv("INCUS_SOCKET"), "/srv/incus/unix.socket");
	incus_client_free(like);
	incus_client_free(cl);
	clear_env();
	config_free(c);
}

int main(void)
{
	char *rm = NULL;

	if (!mkdtemp(dir))
		return 1;
	setenv("COI_HOME", dir, 1);
	RUN(test_config_alone);
	RUN(test_env_over_config);
	RUN(test_remote);
	RUN(test_client);
	if (asprintf(&rm, "rm -rf '%s'", dir) > 0 && system(rm) != 0)
		printf("# cannot remove %s\n", dir);
	free(rm);
	return tap_done();
}
