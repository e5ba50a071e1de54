/* SPDX-License-Identifier: MIT */
/* test-config-forward: [[sockets]], [ports] and [[credentials]]: parsing, validation messages
 * with file:line:column, merging across layers, and the trust gate of a project file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/trust.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

static char dir[] = "/tmp/coi-t-compat-cfg-XXXXXX";

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Load text as the user's file (no project file): 0 or the error, message in err. */
static int load_user(const char *text, struct coi_config **ret, struct coi_error *err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/user.toml", dir);
	write_text(path, text);
	return config_load(&(struct config_load_opts){.workspace = dir, .user_file = path}, ret,
	                   NULL, err);
}

/* The error message when text is loaded (empty when it loads). */
static const char *load_error(const char *text)
{
	static struct coi_error err;
	struct coi_config *c = NULL;

	err = (struct coi_error){0};
	if (load_user(text, &c, &err) >= 0) {
		config_free(c);
		return "";
	}
	return err.msg;
}

static void test_sockets_parse(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	CHECK(load_user("[[sockets]]\nhost = \"/run/a.sock\"\ncontainer = \"/tmp//a.sock\"\n"
	                "env = \"A_SOCK\"\n[[sockets]]\nhost = \"~/b.sock\"\ncontainer = "
	                "\"/home/code/b.sock\"\n",
	                &c, &err) == 0);
	if (!c)
		return;
	CHECK(c->n_sockets == 2);
	CHECK_STREQ(c->sockets[0].host, "/run/a.sock");
	CHECK_STREQ(c->sockets[0].container, "/tmp/a.sock");
	CHECK_STREQ(c->sockets[0].env, "A_SOCK");
	CHECK(c->sockets[1].host[0] == '/' && strstr(c->sockets[1].host, "/b.sock"));
	CHECK(c->sockets[1].env == NULL);
	config_free(c);
}

static void test_sockets_invalid(void)
{
	CHECK(strstr(load_error("[[sockets]]\nhost = \"rel.sock\"\ncontainer = \"/x\"\n"),
	             "user.toml:2:8: 'sockets' 'host' must be an absolute path"));
	CHECK(strstr(load_error("[[sockets]]\nhost = \"/a\"\ncontainer = \"x\"\n"),
	             "user.toml:3:13: 'sockets' needs an absolute 'container' path"));
	CHECK(strstr(load_error("[[sockets]]\nhost = \"/a\"\ncontainer = \"/x\"\nenv = \"1X\"\n"),
	             "'env' must be a variable name"));
	CHECK(strstr(load_error("[[sockets]]\nhost = \"/a\"\ncontainer = \"/x\"\nbogus = 1\n"),
	             "unknown field 'bogus'"));
	CHECK(strstr(load_error("[[sockets]]\nhost = \"/a\"\ncontainer = \"/x\"\n[[sockets]]\nhost "
	                        "= \"/b\"\ncontainer = \"/x\"\n"),
	             "names \"/x\" twice"));
	CHECK(strstr(load_error("sockets = [1]\n"), "must hold tables"));
	CHECK(strstr(load_error("[[sockets]]\nhost = \"/a\"\n"), "needs a string 'container'"));
}

static void test_ports_parse(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	CHECK(load_user("[ports]\npool = 3\n[[ports.map]]\nname = \"web-1\"\ncontainer = 3000\n"
	                "[[ports.map]]\nname = \"db\"\ncontainer = 5432\nhost = 15432\nlisten = "
	                "\"0.0.0.0\"\n",
	                &c, &err) == 0);
	if (!c)
		return;
	CHECK(c->ports.pool == 3);
	CHECK(c->ports.n_map == 2);
	CHECK_STREQ(c->ports.map[0].env, "COI_PORT_WEB_1");
	CHECK(c->ports.map[0].host == 0);
	CHECK_STREQ(c->ports.map[0].listen, "127.0.0.1");
	CHECK(c->ports.map[1].host == 15432 && c->ports.map[1].container == 5432);
	CHECK_STREQ(c->ports.map[1].listen, "0.0.0.0");
	config_free(c);
}

static void test_ports_invalid(void)
{
	CHECK(strstr(load_error("[ports]\npool = 11\n"),
	             "user.toml:2:8: 'ports.pool' must be a whole number from 0 to 10"));
	CHECK(strstr(load_error("[[ports.map]]\nname = \"w\"\ncontainer = 0\n"),
	             "user.toml:3:13: 'ports.map' needs 'container' to be a port"));
	CHECK(strstr(load_error("[[ports.map]]\nname = \"w\"\ncontainer = 1\nhost = 70000\n"),
	             "needs 'host' to be a port"));
	CHECK(strstr(load_error("[[ports.map]]\nname = \"w w\"\ncontainer = 1\n"),
	             "'name' may hold only letters"));
	CHECK(strstr(load_error("[[ports.map]]\nname = \"w\"\ncontainer = 1\nlisten = \"lan\"\n"),
	             "'listen' must be an IPv4 address"));
	CHECK(strstr(load_error("[[ports.map]]\nname = \"a-b\"\ncontainer = 1\n[[ports.map]]\nname "
	                        "= \"A_B\"\ncontainer = 2\n"),
	             "would both be COI_PORT_A_B"));
	CHECK(strstr(load_error("[[ports.map]]\nname = \"a\"\ncontainer = 1\nhost = 9000\n[[ports."
	                        "map]]\nname = \"b\"\ncontainer = 2\nhost = 9000\n"),
	             "both publish host port 9000"));
	CHECK(strstr(load_error("[[ports.map]]\ncontainer = 1\n"), "needs a string 'name'"));
}

static void test_credentials(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	CHECK(load_user(
	              "[[credentials]]\nhost = \"/etc/hostname\"\ncontainer = \"/home/code/h\"\n"
	              "[[credentials]]\nhost = \"/etc/hosts\"\ncontainer = \"/home/code/x\"\nmode "
	              "= \"0640\"\n[[credentials]]\nbundle = \"ollama\"\n",
	              &c, &err) == 0);
	if (c) {
		CHECK(c->n_credentials == 3);
		CHECK(c->credentials[0].mode == 0600);
		CHECK(c->credentials[1].mode == 0640);
		CHECK_STREQ(c->credentials[2].bundle, "ollama");
		CHECK(config_bundle_exists("claude") && !config_bundle_exists("nope"));
		config_free(c);
	}
	CHECK(strstr(load_error("[[credentials]]\nbundle = \"nope\"\n"),
	             "user.toml:2:10: 'credentials' names an unknown bundle \"nope\""));
	CHECK(strstr(load_error("[[credentials]]\nbundle = \"ollama\"\nhost = \"/a\"\n"),
	             "either 'bundle' alone"));
	CHECK(strstr(load_error("[[credentials]]\nhost = \"/a\"\ncontainer = \"/b\"\nmode = "
	                        "\"4755\"\n"),
	             "'mode' must be permission bits"));
	CHECK(strstr(load_error("[[credentials]]\nhost = \"/a\"\ncontainer = \"/b\"\nmode = "
	                        "\"rw\"\n"),
	             "'mode' must be permission bits"));
	CHECK(strstr(load_error("[[credentials]]\nhost = \"/a\"\n"), "needs a string 'container'"));
}

/* A project file adds to the user's entries, replacing those of the same identity, once it is
 * approved; unapproved, its entries are dropped with a warning naming the key. */
static void test_project_gate(void)
{
	char user[256], proj[256], coi_dir[256];
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;
	int warned = 0;

	snprintf(user, sizeof(user), "%s/user.toml", dir);
	snprintf(proj, sizeof(proj), "%s/.coi", dir);
	mkdir(proj, 0700);
	snprintf(proj, sizeof(proj), "%s/.coi/config.toml", dir);
	snprintf(coi_dir, sizeof(coi_dir), "%s/home", dir);
	setenv("COI_HOME", coi_dir, 1);
	unsetenv("COI_TRUST_ALL");
	write_text(user, "[[sockets]]\nhost = \"/u.sock\"\ncontainer = \"/tmp/u.sock\"\n[ports]\n"
	                 "pool = 2\n[[ports.map]]\nname = \"web\"\ncontainer = 3000\n");
	write_text(proj, "[[sockets]]\nhost = \"/p.sock\"\ncontainer = \"/tmp/p.sock\"\n[ports]\n"
	                 "pool = 5\n[[ports.map]]\nname = \"web\"\ncontainer = 8080\n"
	                 "[[credentials]]\nhost = \"/etc/hostname\"\ncontainer = \"/tmp/h\"\n");
	CHECK(config_load(&(struct config_load_opts){.workspace = dir, .user_file = user}, &c, &w,
	                  &err) == 0);
	if (c) {
		CHECK(c->n_sockets == 1 && strcmp(c->sockets[0].host, "/u.sock") == 0);
		CHECK(c->ports.pool == 2);
		CHECK(c->ports.n_map == 1 && c->ports.map[0].container == 3000);
		CHECK(c->n_credentials == 0);
		strv_foreach(s, w)
			warned += strstr(*s, "coi trust") &&
			          (strstr(*s, "'sockets'") || strstr(*s, "'ports.pool'") ||
			           strstr(*s, "'ports.map'") || strstr(*s, "'credentials'"));
		CHECK(warned == 4);
		c = config_free(c);
	}
	w = strv_free(w);
	CHECK(trust_approve(proj, NULL, &err) == 0);
	CHECK(config_load(&(struct config_load_opts){.workspace = dir, .user_file = user}, &c, &w,
	                  &err) == 0);
	if (c) {
		CHECK(c->n_sockets == 2);
		CHECK(c->ports.pool == 5);
		CHECK(c->ports.n_map == 1 && c->ports.map[0].container == 8080);
		CHECK(c->n_credentials == 1);
		CHECK(strv_length(w) == 0);
		config_free(c);
	}
	strv_free(w);
	/* a changed file needs a new approval */
	write_text(proj, "[[sockets]]\nhost = \"/q.sock\"\ncontainer = \"/tmp/q.sock\"\n");
	CHECK(config_load(&(struct config_load_opts){.workspace = dir, .user_file = user}, &c, NULL,
	                  &err) == 0);
	if (c) {
		CHECK(c->n_sockets == 1);
		config_free(c);
	}
	unlink(proj);
}

static void test_roundtrip(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char *json;

	CHECK(load_user("[[credentials]]\nhost = \"/a\"\ncontainer = \"/b\"\nmode = 0o640\n", &c,
	                &err) == 0);
	if (!c)
		return;
	json = config_to_json(c);
	CHECK(json && strstr(json, "\"mode\": \"0640\""));
	free(json);
	json = config_to_toml(c);
	CHECK(json && strncmp(json, "sockets = []", 12) == 0);
	free(json);
	config_free(c);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	RUN(test_sockets_parse);
	RUN(test_sockets_invalid);
	RUN(test_ports_parse);
	RUN(test_ports_invalid);
	RUN(test_credentials);
	RUN(test_project_gate);
	RUN(test_roundtrip);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
