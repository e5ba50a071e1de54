/* SPDX-License-Identifier: MIT */
/* test-session-options.c: the configuration, as a session gets it (session_opts_from_config),
 * and the class of bug where the loader accepted a value the session could not take
 * (`[container] image = ""` reached the session as NULL and crashed it): every key of the table,
 * set to an empty string (or a list holding one), is either refused by the loader with its
 * file:line:col, or gives session options that pass session_opts_check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "netpolicy/netpolicy.h"
#include "session/session.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

static char dir[] = "/tmp/coi-t-opts-XXXXXX";
static char file[sizeof(dir) + 16];

static void write_config(const char *text)
{
	FILE *f = fopen(file, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Load text as the user's file: 0 and *ret, or the error in err. */
static int load(const char *text, struct coi_config **ret, struct coi_error *err)
{
	struct config_load_opts o = {.workspace = dir, .user_file = file};
	char **w = NULL;
	int r;

	write_config(text);
	r = config_load(&o, ret, &w, err);
	strv_free(w);
	return r;
}

/* The options from text and their warnings (into *w), or the loader's or the session's refusal. */
static int options_warned(const char *text, struct session_opts *o, char ***w,
                          struct coi_error *err)
{
	struct coi_config *c = NULL;
	int r = load(text, &c, err);

	if (r < 0)
		return r;
	r = session_opts_default(dir, o, err);
	if (r >= 0)
		r = session_opts_from_config(c, o, w, err);
	config_free(c);
	return r;
}

/* The options from text, or the loader's or the session's refusal. */
static int options(const char *text, struct session_opts *o, struct coi_error *err)
{
	char **w = NULL;
	int r = options_warned(text, o, &w, err);

	strv_free(w);
	return r;
}

/* "[section]\nname = VALUE\n" for key k. */
static char *key_text(const struct config_key *k, const char *value)
{
	const char *dot = strrchr(k->name, '.');
	char *s = NULL;

	if (!dot)
		return asprintf(&s, "%s = %s\n", k->name, value) < 0 ? NULL : s;
	return asprintf(&s, "[%.*s]\n%s = %s\n", (int)(dot - k->name), k->name, dot + 1, value) < 0
	               ? NULL
	               : s;
}

static bool is_list(enum config_type t)
{
	return t == CONFIG_STRV || t == CONFIG_DOMAINS || t == CONFIG_IPV4_LIST ||
	       t == CONFIG_CIDR_LIST;
}

static void test_every_key_empty(void)
{
	size_t n;
	const struct config_key *keys = config_keys(&n);
	unsigned refused = 0, unset = 0;

	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &keys[i];
		bool list = is_list(k->type);
		_cleanup_free_ char *text = NULL;
		struct session_opts o = {0};
		struct coi_error err = {0};
		int r;

		if (!list && k->type != CONFIG_STRING && k->type != CONFIG_DURATION &&
		    k->type != CONFIG_ENUM)
			continue;
		text = key_text(k, list ? "[\"\"]" : "\"\"");
		r = options(text, &o, &err);
		if (r < 0 && strstr(err.msg, "config.toml:2:")) {
			refused++; /* the loader, naming the place */
		} else if (r < 0) {
			printf("# %s = \"\": refused late or without file:line:col: %s\n", k->name,
			       err.msg);
			CHECK(!"an empty value is refused by the loader, with its place");
		} else {
			unset++;
			/* "" is "unset": only for keys without a default, or "none" for limits */
			if ((k->def && k->format == CONFIG_FORMAT_ANY) || list)
				printf("# %s: \"\" accepted\n", k->name);
			CHECK((!k->def || k->format != CONFIG_FORMAT_ANY) && !list);
		}
		session_opts_release(&o);
	}
	printf("# %u keys refuse \"\", %u take it as unset or none\n", refused, unset);
	CHECK(refused > 30 && unset > 20);
}

/* The examples of the issue, with the messages the user sees. */
static void test_empty_messages(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	CHECK(load("[container]\nimage = \"\"\n", &c, &err) == -EINVAL);
	CHECK(strstr(err.msg, "config.toml:2:9: 'container.image' must not be empty (leave the "
	                      "key out for the default, \"coi-default\")") != NULL);
	CHECK(load("[security]\nadditional_protected_paths = [\"x\", \"\"]\n", &c, &err) ==
	      -EINVAL);
	CHECK(strstr(err.msg, "config.toml:2:36: 'security.additional_protected_paths' has an "
	                      "empty entry") != NULL);
	CHECK(load("[defaults.env_commands]\nX = \"\"\n", &c, &err) == -EINVAL);
	CHECK(strstr(err.msg, "has an empty command for 'X'") != NULL);
	/* meaningful empties: a variable set to "", a key without a default left unset */
	CHECK(load("[defaults.environment]\nX = \"\"\n[container]\nstorage_pool = \"\"\n", &c,
	           &err) == 0);
	if (c) {
		CHECK(c->defaults.n_environment == 1 && !*c->defaults.environment[0].value);
		CHECK(c->container.storage_pool == NULL);
	}
	c = config_free(c);
}

/* What no session can start without, whoever filled the options (--image "" too). */
static void test_opts_check(void)
{
	struct session_opts o = {0};
	struct coi_error err = {0};

	CHECK(session_opts_default(dir, &o, &err) == 0);
	CHECK(session_opts_check(&o, &err) == 0);
	free(o.image);
	o.image = strdup("");
	CHECK(session_opts_check(&o, &err) == -EINVAL);
	CHECK(strstr(err.msg, "the image") != NULL);
	free(o.image);
	o.image = NULL;
	CHECK(session_opts_check(&o, &err) == -EINVAL);
	session_opts_release(&o);
}

static const char *env_of(const struct session_opts *o, const char *name)
{
	for (size_t i = 0; i < o->n_env; i++)
		if (strcmp(o->env[i].name, name) == 0)
			return o->env[i].value;
	return NULL;
}

/* The translation itself: the keys a session acts on reach its options. */
static void test_translation(void)
{
	struct session_opts o = {0};
	struct coi_error err = {0};

	CHECK(options("[container]\nimage = \"img\"\npersistent = true\n"
	              "[network]\nmode = \"allowlist\"\nallowed_networks = [\"100.64.0.0/10\"]\n"
	              "allowed_domains = [\"example.com:443\"]\n"
	              "[tool]\nname = \"opencode\"\n[incus]\ncode_user = \"dev\"\n"
	              "[defaults.environment]\nA = \"b\"\n",
	              &o, &err) == 0);
	CHECK_STREQ(o.image, "img");
	CHECK_STREQ(o.tool, "opencode");
	CHECK_STREQ(o.code_user, "dev");
	CHECK(o.persistent);
	CHECK(o.net && o.net->mode == NET_MODE_ALLOWLIST && o.net->n_allowed_networks == 1 &&
	      o.net->n_allowlist == 1);
	CHECK(env_of(&o, "A") && strcmp(env_of(&o, "A"), "b") == 0);
	session_opts_release(&o);

	/* [tool.claude] in Claude Code's environment, [tool.codex] on Codex's command line,
	 * [timezone] as TZ, each for its own tool only */
	CHECK(options("[tool]\nname = \"claude\"\n[tool.claude]\nmodel = \"m1\"\n"
	              "effort_level = \"high\"\n[tool.codex]\nmodel = \"c1\"\n"
	              "[timezone]\nmode = \"utc\"\n",
	              &o, &err) == 0);
	CHECK(env_of(&o, "ANTHROPIC_MODEL") && strcmp(env_of(&o, "ANTHROPIC_MODEL"), "m1") == 0);
	CHECK(env_of(&o, "CLAUDE_CODE_EFFORT_LEVEL") &&
	      strcmp(env_of(&o, "CLAUDE_CODE_EFFORT_LEVEL"), "high") == 0);
	CHECK(env_of(&o, "TZ") && strcmp(env_of(&o, "TZ"), "UTC") == 0);
	CHECK(strv_length(o.tool_options) == 0);
	session_opts_release(&o);
	CHECK(options("[tool]\nname = \"codex\"\n[tool.codex]\nmodel = \"c1\"\n"
	              "reasoning_effort = \"low\"\n[tool.claude]\nmodel = \"m1\"\n"
	              "[timezone]\nmode = \"fixed\"\nname = \"Asia/Tokyo\"\n",
	              &o, &err) == 0);
	CHECK(!env_of(&o, "ANTHROPIC_MODEL"));
	CHECK(env_of(&o, "TZ") && strcmp(env_of(&o, "TZ"), "Asia/Tokyo") == 0);
	CHECK(strv_length(o.tool_options) == 4 && strcmp(o.tool_options[1], "c1") == 0 &&
	      strcmp(o.tool_options[3], "model_reasoning_effort=\"low\"") == 0);
	session_opts_release(&o);
}

static bool has_warning(char **w, const char *part)
{
	strv_foreach(x, w)
		if (strstr(*x, part))
			return true;
	return false;
}

/* More of it: [limits] as Incus takes them (sizes in bytes, shares and Incus' own forms as
 * written), the kernel surface winning over Docker with a warning, published ports (a warning
 * off loopback), mounts, the permission mode, the workspace path; and the defaults a missing
 * config gives. */
static void test_translation_more(void)
{
	_cleanup_strv_free_ char **w = NULL;
	struct session_opts o = {0};
	struct coi_error err = {0};

	CHECK(options_warned("[limits.memory]\nlimit = \"50%\"\n[limits.disk]\nsize = \"2GiB\"\n"
	                     "read = \"1000iops\"\ntmpfs_size = \"64MiB\"\n"
	                     "[limits.cpu]\ncount = \"2\"\npriority = 3\n"
	                     "[container]\ndocker = true\n"
	                     "[security]\nreduce_kernel_surface = true\n"
	                     "[[ports.map]]\nname = \"web\"\ncontainer = 3000\n"
	                     "listen = \"0.0.0.0\"\n"
	                     "[[mounts]]\nhost = \"/etc\"\ncontainer = \"/mnt/etc\"\n"
	                     "readonly = true\n"
	                     "[tool]\npermission_mode = \"interactive\"\n"
	                     "[paths]\npreserve_workspace_path = true\n",
	                     &o, &w, &err) == 0);
	CHECK_STREQ(o.limits.memory, "50%");
	CHECK_STREQ(o.limits.disk_size, "2147483648");
	CHECK_STREQ(o.limits.disk_read, "1000iops");
	CHECK(o.limits.tmpfs_size == 64u << 20);
	CHECK_STREQ(o.limits.cpu, "2");
	CHECK(o.limits.cpu_priority == 3);
	CHECK(o.kernel_surface == KERNEL_SURFACE_REDUCED && !o.docker);
	CHECK(has_warning(w, "reduce_kernel_surface wins"));
	CHECK(o.n_ports == 1 && o.ports[0].container == 3000 &&
	      strcmp(o.ports[0].listen, "0.0.0.0") == 0);
	CHECK(has_warning(w, "not loopback"));
	CHECK(o.n_mounts == 1 && strcmp(o.mounts[0].host, "/etc") == 0 &&
	      strcmp(o.mounts[0].container, "/mnt/etc") == 0 && o.mounts[0].readonly);
	CHECK(!o.bypass);
	CHECK(o.preserve_workspace_path);
	session_opts_release(&o);

	/* an empty file: the built-in defaults, as a session takes them */
	CHECK(options("", &o, &err) == 0);
	CHECK_STREQ(o.image, "coi-default");
	CHECK_STREQ(o.tool, "claude");
	CHECK(o.bypass && o.host_immutable && !o.persistent && o.ready_timeout == 30);
	CHECK(o.kernel_surface == KERNEL_SURFACE_FULL);
	CHECK(o.net && o.net->mode == NET_MODE_RESTRICTED);
	CHECK(strv_contains(o.protected_paths, ".git/hooks"));
	session_opts_release(&o);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	(void)snprintf(file, sizeof(file), "%s/config.toml", dir);
	setenv("HOME", dir, 1);
	setenv("COI_HOME", dir, 1);
	unsetenv("COI_CONFIG");
	RUN(test_every_key_empty);
	RUN(test_empty_messages);
	RUN(test_opts_check);
	RUN(test_translation);
	RUN(test_translation_more);
	(void)unlink(file);
	(void)rmdir(dir);
	return tap_done();
}
