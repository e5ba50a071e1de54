/* SPDX-License-Identifier: MIT */
/* test-config-secrets: [[secrets]] and security.secrets_on_host: built-ins and overrides, a
 * secret of one's own, errors with file:line:column, layers replacing by name, the trust gate of
 * a project file, and the secrets a configuration implies (forward_env, a copied login). */
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

static char dir[] = "/tmp/coi-t-secrets-cfg-XXXXXX";

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int load_user(const char *text, struct coi_config **ret, struct coi_error *err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/user.toml", dir);
	write_text(path, text);
	return config_load(&(struct config_load_opts){.workspace = dir, .user_file = path}, ret,
	                   NULL, err);
}

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

static void test_builtin_override(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	CHECK(load_user("[[secrets]]\nbuiltin = \"claude\"\nfile = \"/tmp/creds.json\"\n"
	                "hosts = [\"API.test\"]\nrefresh_url = \"https://auth.test/oauth/token\"\n",
	                &c, &err) == 0);
	if (!c)
		return;
	CHECK(c->n_secrets == 1);
	CHECK_STREQ(c->secrets[0].name, "claude");
	CHECK_STREQ(c->secrets[0].builtin, "claude");
	CHECK_STREQ(c->secrets[0].file, "/tmp/creds.json");
	CHECK_STREQ(c->secrets[0].field, "claudeAiOauth.accessToken"); /* the built-in's */
	CHECK(strv_length(c->secrets[0].hosts) == 1 &&
	      strcmp(c->secrets[0].hosts[0], "api.test") == 0);
	CHECK_STREQ(c->secrets[0].format, "Bearer {}");
	CHECK_STREQ(c->secrets[0].refresh_url, "https://auth.test/oauth/token");
	CHECK_STREQ(c->secrets[0].container_file, ".claude/.credentials.json");
	CHECK(strstr(c->secrets[0].origin, "user.toml:1") != NULL);
	config_free(c);
	/* the built-in github reads `gh auth token`; an env source replaces the command */
	CHECK(load_user("[[secrets]]\nbuiltin = \"github\"\nenv = \"MY_GH\"\n", &c, &err) == 0);
	if (!c)
		return;
	CHECK(c->secrets[0].command == NULL && strcmp(c->secrets[0].env, "MY_GH") == 0);
	CHECK(c->secrets[0].git && c->secrets[0].header == NULL);
	config_free(c);
}

static void test_own_secret(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	CHECK(load_user("[[secrets]]\nname = \"internal\"\ncommand = [\"pass\", \"show\", \"x\"]\n"
	                "hosts = [\"api.internal.example\"]\nheader = \"Authorization\"\n"
	                "format = \"Token {}\"\ncontainer_env = \"INTERNAL\"\n",
	                &c, &err) == 0);
	if (!c)
		return;
	CHECK(strv_length(c->secrets[0].command) == 3);
	CHECK(c->secrets[0].builtin == NULL);
	config_free(c);
}

static void test_invalid(void)
{
	CHECK(strstr(load_error("[[secrets]]\nbuiltin = \"nope\"\n"),
	             "user.toml:2:11: 'secrets' names an unknown built-in \"nope\""));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a\"\nenv = \"A\"\ncommand = [\"x\"]\n"),
	             "takes one source"));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a\"\nenv = \"A\"\ncontainer_env = \"A\"\n"),
	             "needs 'hosts'"));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a\"\nenv = \"A\"\nhosts = [\"a.test\"]\n"),
	             "needs a place for the placeholder"));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a\"\nenv = \"A\"\nhosts = [\"10.0.0.1\"]\n"
	                        "container_env = \"A\"\n"),
	             "user.toml:4:10: 'secrets' has an address in 'hosts'"));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a\"\nenv = \"A\"\nhosts = [\"a.test:443\"]\n"
	                        "container_env = \"A\"\n"),
	             "not a host name"));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a\"\nenv = \"A\"\nhosts = [\"a.test\"]\n"
	                        "container_env = \"A\"\nformat = \"Bearer\"\n"),
	             "needs 'format' to be a text with one {}"));
	CHECK(strstr(load_error("[[secrets]]\nname = \"a b\"\nenv = \"A\"\n"),
	             "needs 'name' to be"));
	CHECK(strstr(load_error("[[secrets]]\nbuiltin = \"anthropic\"\nhaeder = \"x\"\n"),
	             "unknown field 'haeder'"));
	CHECK(strstr(load_error("[[secrets]]\nbuiltin = \"claude\"\ncontainer_file = \"../x\"\n"),
	             "without \"..\""));
	CHECK(strstr(load_error("[[secrets]]\nbuiltin = \"claude\"\nrefresh_url = \"http://a\"\n"),
	             "an https:// URL"));
	CHECK(strstr(load_error("[[secrets]]\nbuiltin = \"anthropic\"\n[[secrets]]\nbuiltin = "
	                        "\"anthropic\"\n"),
	             "names \"anthropic\" twice"));
}

/* forward_env of a built-in's variable and a copied login imply the built-in; with
 * secrets_on_host = false nothing is implied. */
static void test_effective(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	struct config_secret *s = NULL;
	char **env = NULL;
	size_t n = 0;
	bool login = false;

	CHECK(load_user(
	              "[defaults]\nforward_env = [\"ANTHROPIC_API_KEY\", \"GITHUB_TOKEN\", \"OTHER\"]\n"
	              "[tool]\nname = \"claude\"\ncopy_credentials = true\n",
	              &c, &err) == 0);
	if (!c)
		return;
	CHECK(config_secrets_effective(c, &s, &n, &env, &login, &err) == 0);
	CHECK(n == 3 && login);
	CHECK(n == 3 && strcmp(s[0].name, "anthropic") == 0 && strcmp(s[1].name, "claude") == 0 &&
	      strcmp(s[2].name, "github") == 0);
	CHECK(n == 3 && s[2].env && strcmp(s[2].env, "GITHUB_TOKEN") == 0 && !s[2].command);
	CHECK(strv_length(env) == 2 && strv_contains(env, "ANTHROPIC_API_KEY") &&
	      strv_contains(env, "GITHUB_TOKEN") && !strv_contains(env, "OTHER"));
	config_secrets_free(s, n);
	env = strv_free(env);
	config_free(c);

	CHECK(load_user("[defaults]\nforward_env = [\"ANTHROPIC_API_KEY\"]\n[security]\n"
	                "secrets_on_host = false\n",
	                &c, &err) == 0);
	if (!c)
		return;
	CHECK(config_secrets_effective(c, &s, &n, &env, &login, &err) == 0);
	CHECK(n == 0 && !login && strv_length(env) == 0);
	config_secrets_free(s, n);
	env = strv_free(env);
	config_free(c);

	/* an explicit entry of the same name wins over the implied one */
	CHECK(load_user("[defaults]\nforward_env = [\"ANTHROPIC_API_KEY\"]\n[[secrets]]\n"
	                "builtin = \"anthropic\"\nhosts = [\"api.test\"]\n",
	                &c, &err) == 0);
	if (!c)
		return;
	CHECK(config_secrets_effective(c, &s, &n, &env, &login, &err) == 0);
	CHECK(n == 1 && strcmp(s[0].hosts[0], "api.test") == 0);
	CHECK(strv_contains(env, "ANTHROPIC_API_KEY"));
	config_secrets_free(s, n);
	strv_free(env);
	config_free(c);
}

/* A project file's secrets wait for approval: they would decide where keys are sent. Turning
 * secrets_on_host off is weakening too. */
static void test_project_gate(void)
{
	char user[256], proj[256], coi_dir[256];
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	snprintf(user, sizeof(user), "%s/user.toml", dir);
	snprintf(proj, sizeof(proj), "%s/.coi", dir);
	mkdir(proj, 0700);
	snprintf(proj, sizeof(proj), "%s/.coi/config.toml", dir);
	snprintf(coi_dir, sizeof(coi_dir), "%s/home", dir);
	setenv("COI_HOME", coi_dir, 1);
	unsetenv("COI_TRUST_ALL");
	write_text(user, "");
	write_text(proj, "[[secrets]]\nbuiltin = \"anthropic\"\nhosts = [\"evil.test\"]\n"
	                 "[security]\nsecrets_on_host = false\n");
	CHECK(config_load(&(struct config_load_opts){.workspace = dir, .user_file = user}, &c, &w,
	                  &err) == 0);
	if (c) {
		CHECK(c->n_secrets == 0);
		CHECK(c->security.secrets_on_host);
		c = config_free(c);
	}
	CHECK(strv_length(w) == 2);
	w = strv_free(w);
	CHECK(trust_approve(proj, NULL, &err) == 0);
	CHECK(config_load(&(struct config_load_opts){.workspace = dir, .user_file = user}, &c, &w,
	                  &err) == 0);
	if (c) {
		CHECK(c->n_secrets == 1 && !c->security.secrets_on_host);
		config_free(c);
	}
	strv_free(w);
	unlink(proj);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	RUN(test_builtin_override);
	RUN(test_own_secret);
	RUN(test_invalid);
	RUN(test_effective);
	RUN(test_project_gate);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
