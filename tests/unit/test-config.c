/* SPDX-License-Identifier: MIT */
/* test-config: the configuration core. Layer precedence (defaults < user file or $COI_CONFIG <
 * project file < profile), profiles and 'inherits' (maps merge, arrays replace, scalars
 * override, cycles and depth refused), warnings for unknown keys with a suggestion and file:line,
 * errors with file:line:column, the legacy .coi.toml refusal, the trust filter of a project
 * file's network keys, and a starter file in the original tool's documented format. Every file
 * lives in a temporary directory: HOME, COI_HOME and the workspace point into it. */
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

static char dir[] = "/tmp/coi-t-tests-cfg-XXXXXX";
static char ws[256], home[256], coi_home[256];

static void write_text(const char *path, const char *text)
{
	char parent[512], *slash, cmd[600];
	FILE *f;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", parent);
		if (system(cmd) != 0)
			return;
	}
	f = fopen(path, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* path under dir, in a static ring so a few can be used at once */
static const char *at(const char *rel)
{
	static char ring[4][512];
	static int i;
	char *p = ring[i++ % 4];

	snprintf(p, 512, "%s/%s", dir, rel);
	return p;
}

static void clean_files(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/ws' '%s/home' '%s/user.toml'", dir, dir, dir);
	if (system(cmd) != 0)
		return;
	mkdir(ws, 0700);
	mkdir(home, 0700);
	mkdir(coi_home, 0700);
	unsetenv("COI_CONFIG");
	unsetenv("COI_TRUST_ALL");
}

/* Load the workspace's configuration; profile may be NULL. */
static int load(const char *profile, struct coi_config **ret, char ***ret_w, struct coi_error *err)
{
	return config_load(&(struct config_load_opts){.workspace = ws, .profile = profile}, ret,
	                   ret_w, err);
}

/* The error message of loading the user file text (empty when it loads). */
static const char *user_error(const char *text)
{
	static struct coi_error err;
	struct coi_config *c = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"), text);
	err = (struct coi_error){0};
	if (load(NULL, &c, NULL, &err) >= 0) {
		config_free(c);
		return "";
	}
	return err.msg;
}

static bool warned(char **w, const char *a, const char *b)
{
	strv_foreach(s, w)
		if (strstr(*s, a) && (!b || strstr(*s, b)))
			return true;
	return false;
}

static const char *env_get(const struct coi_config *c, const char *name)
{
	for (size_t i = 0; i < c->defaults.n_environment; i++)
		if (strcmp(c->defaults.environment[i].name, name) == 0)
			return c->defaults.environment[i].value;
	return NULL;
}

static size_t key_at(const char *name)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].name, name) == 0)
			return i;
	return n;
}

static void test_defaults(void)
{
	struct coi_config *c = NULL;
	char **w = NULL;
	struct coi_error err = {0};
	_cleanup_strv_free_ char **prot = NULL;

	clean_files();
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (!c)
		return;
	CHECK_STREQ(c->container.image, "coi-default");
	CHECK(!c->container.persistent);
	CHECK(c->network.mode == NET_MODE_RESTRICTED);
	CHECK(c->network.block_private_networks && c->network.block_metadata_endpoint);
	CHECK(!c->network.allow_local_network_access);
	CHECK(strv_contains(c->network.allowed_domains, "api.anthropic.com"));
	/* names only: an address in the allowlist is reachable on every port without the DNS
	 * filter, and a public resolver's (DNS over TLS or HTTPS) would carry any name, and data
	 * in it, past the filter */
	for (char **d = c->network.allowed_domains; d && *d; d++) {
		struct config_domain dom = {0};

		CHECK(config_domain_parse(*d, &dom, &err) == 0);
		if (dom.is_ip)
			fprintf(stderr, "# the default allowlist names an address: %s\n", *d);
		CHECK(!dom.is_ip);
		config_domain_release(&dom);
	}
	CHECK_STREQ(c->tool.name, "claude");
	CHECK(c->tool.permission_mode == PERMISSION_MODE_BYPASS);
	CHECK(c->incus.code_uid == 1000);
	CHECK(strv_contains(c->git.protected_branches, "main"));
	CHECK(config_protected_paths(c, &prot) == 0 && strv_contains(prot, ".git/hooks"));
	CHECK(config_origin(c, key_at("container.image")) == NULL);
	CHECK(c->profile == NULL);
	CHECK(strv_length(w) == 0);
	/* resource limits by default (issue 16): processes, half the host's memory (hard), a
	 * root disk size, half a default group's CPU weight; the priorities are Incus' own */
	CHECK(c->limits.runtime.max_processes == 4096);
	CHECK_STREQ(c->limits.memory.limit, "50%");
	CHECK_STREQ(c->limits.memory.enforce, "hard");
	CHECK_STREQ(c->limits.disk.size, "10GiB");
	CHECK_STREQ(c->limits.cpu.allowance, "50%");
	CHECK(c->limits.cpu.priority == -1 && c->limits.disk.priority == -1);
	/* the monitor on by default (issue 23): HIGH freezes, CRITICAL stops and deletes */
	CHECK(c->monitoring.enabled);
	CHECK(c->monitoring.auto_pause_on_high && c->monitoring.auto_kill_on_critical);
	config_free(c);
	strv_free(w);
}

/* defaults < user < project < profile, key by key; COI_CONFIG replaces ~/.coi/config.toml. */
static void test_precedence(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	clean_files();
	write_text(at("home/.coi/config.toml"),
	           "[container]\nimage = \"user-img\"\n"
	           "storage_pool = \"user-pool\"\nshutdown_timeout = 7\n"
	           "[tool]\nname = \"opencode\"\n");
	write_text(at("ws/.coi/config.toml"), "[container]\nimage = \"proj-img\"\n"
	                                      "storage_pool = \"proj-pool\"\n");
	write_text(at("home/.coi/profiles/p/config.toml"), "[container]\nimage = \"prof-img\"\n");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK_STREQ(c->container.image, "proj-img");
		CHECK_STREQ(c->container.storage_pool, "proj-pool");
		CHECK(c->container.shutdown_timeout == 7);
		CHECK_STREQ(c->tool.name, "opencode");
		CHECK(c->container.ready_timeout == 30);
		CHECK(strstr(config_origin(c, key_at("container.image")), ".coi/config.toml:2"));
		CHECK_STREQ(config_origin(c, key_at("tool.name")), "~/.coi/config.toml:6");
		c = config_free(c);
	}
	CHECK(load("p", &c, NULL, &err) == 0);
	if (c) {
		CHECK_STREQ(c->container.image, "prof-img");
		CHECK_STREQ(c->container.storage_pool, "proj-pool");
		CHECK_STREQ(c->profile, "p");
		CHECK(strstr(config_origin(c, key_at("container.image")),
		             "profiles/p/config.toml:2"));
		c = config_free(c);
	}
	/* $COI_CONFIG is read instead of ~/.coi/config.toml */
	write_text(at("other.toml"), "[container]\nshutdown_timeout = 9\n");
	setenv("COI_CONFIG", at("other.toml"), 1);
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK(c->container.shutdown_timeout == 9);
		CHECK_STREQ(c->tool.name, "claude");
		CHECK_STREQ(c->container.image, "proj-img");
		c = config_free(c);
	}
	unsetenv("COI_CONFIG");
	unlink(at("other.toml"));
	/* [defaults] profile in the user file selects a profile; --profile wins over it */
	write_text(at("home/.coi/profiles/q/config.toml"), "[container]\nimage = \"q-img\"\n");
	write_text(at("home/.coi/config.toml"), "[defaults]\nprofile = \"p\"\n");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK_STREQ(c->container.image, "prof-img");
		c = config_free(c);
	}
	CHECK(load("q", &c, NULL, &err) == 0);
	if (c) {
		CHECK_STREQ(c->container.image, "q-img");
		config_free(c);
	}
	err = (struct coi_error){0};
	CHECK(load("missing", &c, NULL, &err) == -ENOENT &&
	      strstr(err.msg, "no profile 'missing'"));
	CHECK(load("../x", &c, NULL, &err) < 0 && strstr(err.msg, "invalid profile name"));
}

/* A profile and its ancestors: maps merge key by key, arrays replace, scalars override. */
static void test_inherits(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"),
	           "[defaults]\nforward_env = [\"FROM_USER\"]\n"
	           "[defaults.environment]\nU = \"u\"\nB = \"user\"\n");
	write_text(at("home/.coi/profiles/base/config.toml"),
	           "forward_env = [\"X\", \"Y\"]\ncontext = \"base context\"\n"
	           "[environment]\nA = \"1\"\nB = \"1\"\n"
	           "[container]\npersistent = true\nimage = \"base-img\"\n"
	           "[security]\nadditional_protected_paths = [\"a\", \"b\"]\n");
	write_text(at("home/.coi/profiles/child/config.toml"),
	           "inherits = \"base\"\nforward_env = [\"Z\"]\n"
	           "[environment]\nB = \"2\"\nC = \"3\"\n"
	           "[container]\nimage = \"child-img\"\n"
	           "[security]\nadditional_protected_paths = [\"c\"]\n");
	CHECK(load("child", &c, &w, &err) == 0);
	if (!c)
		return;
	/* the profile-only 'context' is not acted on: said, with its place */
	CHECK(warned(w, "profiles/base/config.toml:2: 'context' is not supported by coi yet",
	             NULL));
	w = strv_free(w);
	CHECK_STREQ(env_get(c, "U"), "u");
	CHECK_STREQ(env_get(c, "A"), "1");
	CHECK_STREQ(env_get(c, "B"), "2");
	CHECK_STREQ(env_get(c, "C"), "3");
	CHECK(c->defaults.n_environment == 4);
	CHECK(strv_length(c->defaults.forward_env) == 1 &&
	      strv_contains(c->defaults.forward_env, "Z"));
	CHECK(strv_length(c->security.additional_protected_paths) == 1);
	CHECK(c->container.persistent);
	CHECK_STREQ(c->container.image, "child-img");
	CHECK_STREQ(c->profile, "child");
	config_free(c);

	/* the built-in hardened profile, and a user profile inheriting from it */
	write_text(at("home/.coi/profiles/strict/config.toml"),
	           "inherits = \"hardened\"\n[container]\nimage = \"s\"\n");
	CHECK(load("strict", &c, NULL, &err) == 0);
	if (c) {
		CHECK(c->monitoring.enabled);
		CHECK(c->security.reduce_kernel_surface);
		CHECK(strv_contains(c->security.secret_paths, ".env"));
		CHECK_STREQ(c->container.image, "s");
		CHECK_STREQ(c->limits.runtime.max_duration, "4h"); /* where none was set */
		config_free(c);
	}
}

static void test_inherits_refused(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char path[128], text[128];

	clean_files();
	write_text(at("home/.coi/profiles/a/config.toml"), "inherits = \"b\"\n");
	write_text(at("home/.coi/profiles/b/config.toml"), "inherits = \"a\"\n");
	write_text(at("home/.coi/profiles/self/config.toml"), "inherits = \"self\"\n");
	CHECK(load("a", &c, NULL, &err) == -ELOOP);
	CHECK(strstr(err.msg, "profile 'a' inherits from itself"));
	err = (struct coi_error){0};
	CHECK(load("self", &c, NULL, &err) == -ELOOP && strstr(err.msg, "inherits from itself"));
	err = (struct coi_error){0};
	write_text(at("home/.coi/profiles/orphan/config.toml"), "inherits = \"nowhere\"\n");
	CHECK(load("orphan", &c, NULL, &err) == -ENOENT && strstr(err.msg, "no profile 'nowhere'"));
	err = (struct coi_error){0};
	write_text(at("home/.coi/profiles/bad/config.toml"), "inherits = 3\n");
	CHECK(load("bad", &c, NULL, &err) == -EINVAL &&
	      strstr(err.msg, "bad/config.toml:1:12: 'inherits' must be a string"));

	/* l1 inherits l2 ... l10 inherits nothing: 10 levels load; l0 on top is the 11th */
	for (int i = 0; i <= 10; i++) {
		snprintf(path, sizeof(path), "home/.coi/profiles/l%d/config.toml", i);
		if (i < 10)
			snprintf(text, sizeof(text),
			         "inherits = \"l%d\"\n[container]\nstorage_pool = \"l%d\"\n", i + 1,
			         i);
		else
			snprintf(text, sizeof(text),
			         "[container]\nstorage_pool = \"l10\"\nimage = \"deep\"\n");
		write_text(at(path), text);
	}
	CHECK(load("l1", &c, NULL, &err) == 0);
	if (c) {
		CHECK_STREQ(c->container.storage_pool, "l1");
		CHECK_STREQ(c->container.image, "deep");
		c = config_free(c);
	}
	err = (struct coi_error){0};
	CHECK(load("l0", &c, NULL, &err) == -ELOOP);
	CHECK(strstr(err.msg, "profile 'l0': more than 10 levels of inherits"));
}

static void test_unknown_keys(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"), "[container]\nimgae = \"x\"\n"
	                                        "[netwrok]\nmode = \"open\"\n"
	                                        "[tool]\ncompletely_unrelated_thing = 1\n"
	                                        "[defaults]\nmodel = \"opus\"\n"
	                                        "[network]\nrefresh_interval_minutes = 5\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK_STREQ(c->container.image, "coi-default");
		CHECK(c->network.mode == NET_MODE_RESTRICTED);
		config_free(c);
	}
	CHECK(warned(w, "~/.coi/config.toml:2: unknown key 'container.imgae', ignoring",
	             "did you mean 'container.image'?"));
	/* a misspelt section is one unknown key, at its header */
	CHECK(warned(w, "~/.coi/config.toml:3: unknown key 'netwrok', ignoring", NULL));
	CHECK(warned(w,
	             "~/.coi/config.toml:6: unknown key 'tool.completely_unrelated_thing', "
	             "ignoring",
	             NULL));
	CHECK(!warned(w, "completely_unrelated_thing", "did you mean"));
	CHECK(warned(w, "~/.coi/config.toml:8: 'defaults.model' is not supported by coi yet",
	             NULL));
	/* the original's allowlist refresh: coi resolves names when asked, so nothing to do */
	CHECK(warned(w,
	             "~/.coi/config.toml:10: 'network.refresh_interval_minutes' is not supported",
	             "when the container asks for them"));
	CHECK(strv_length(w) == 5);
	w = strv_free(w);

	/* the original's keys coi does not act on: named with their place and why, and not in
	 * the table ('coi config show' never lists them as in effect) */
	write_text(at("home/.coi/config.toml"),
	           "[container]\nalias = \"a\"\n[container.build]\ncloud_init = true\n"
	           "[incus]\ndisable_shift = true\n[paths]\nsessions_dir = \"/x\"\n"
	           "logs_dir = \"/y\"\nstorage_dir = \"/z\"\n[network.logging]\nenabled = false\n"
	           "path = \"/n\"\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	config_free(c);
	CHECK(warned(w, "~/.coi/config.toml:2: 'container.alias' is not supported by coi (", NULL));
	CHECK(warned(w, "~/.coi/config.toml:4: 'container.build.cloud_init' is not supported",
	             NULL));
	CHECK(warned(w,
	             "~/.coi/config.toml:6: 'incus.disable_shift' is not supported by coi (coi "
	             "never shifts",
	             NULL));
	CHECK(warned(w, "~/.coi/config.toml:8: 'paths.sessions_dir' is not supported", NULL));
	CHECK(warned(w, "~/.coi/config.toml:9: 'paths.logs_dir' is not supported", NULL));
	CHECK(warned(w, "~/.coi/config.toml:10: 'paths.storage_dir' is not supported", NULL));
	/* a section of them is named once, at its header */
	CHECK(warned(w,
	             "~/.coi/config.toml:11: 'network.logging' is not supported by coi (network "
	             "events go to the monitor's audit log",
	             NULL));
	CHECK(strv_length(w) == 7);
	for (const char *const *k =
	             (const char *const[]){"container.alias", "incus.disable_shift",
	                                   "paths.logs_dir", "network.logging.path", NULL};
	     *k; k++)
		CHECK(config_key_find(*k) == NULL);
	strv_free(w);
}

/* The DNS filter's keys: wildcard entries and the least time an answer's addresses stay. */
static void test_dns_keys(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"),
	           "[network]\nmode = \"allowlist\"\n"
	           "allowed_domains = [\"*.githubusercontent.com:443\", \"github.com\"]\n"
	           "dns_min_ttl = 5\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(strv_contains(c->network.allowed_domains, "*.githubusercontent.com:443"));
		CHECK(c->network.dns_min_ttl == 5);
		config_free(c);
	}
	CHECK(strv_length(w) == 0);
	strv_free(w);
	clean_files();
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK(c->network.dns_min_ttl == 60);
		config_free(c);
	}
}

/* [monitoring.nft]: its keys are read; lima_host (the original's macOS VM) is warned about. */
static void test_monitoring_nft(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"), "[monitoring.nft]\nenabled = true\n"
	                                        "rate_limit_per_second = 20\n"
	                                        "dns_query_threshold = 30\n"
	                                        "log_dns_queries = false\n"
	                                        "lima_host = \"default\"\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->monitoring.nft.enabled && !c->monitoring.nft.log_dns_queries);
		CHECK(c->monitoring.nft.rate_limit_per_second == 20);
		CHECK(c->monitoring.nft.dns_query_threshold == 30);
		config_free(c);
	}
	CHECK(warned(w, "~/.coi/config.toml:6: 'monitoring.nft.lima_host' is not supported", NULL));
	CHECK(strv_length(w) == 1);
	strv_free(w);
	clean_files();
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (c) {
		CHECK(!c->monitoring.nft.enabled && c->monitoring.nft.log_dns_queries);
		CHECK(c->monitoring.nft.rate_limit_per_second == 100);
		CHECK(c->monitoring.nft.dns_query_threshold == 100);
		config_free(c);
	}
	CHECK(strstr(user_error("[monitoring.nft]\nrate_limit_per_second = 20000\n"),
	             "'monitoring.nft.rate_limit_per_second'"));
}

static void test_bad_values(void)
{
	CHECK(strstr(user_error("[container]\npersistent = \"yes\"\n"),
	             "config.toml:2:14: 'container.persistent' must be bool, not string"));
	CHECK(strstr(user_error("[network]\nmode = \"wide\"\n"),
	             "config.toml:2:8: 'network.mode' must be one of: restricted|allowlist|open "
	             "(not \"wide\")"));
	CHECK(strstr(user_error("[container]\nshutdown_timeout = -1\n"),
	             "config.toml:2:20: 'container.shutdown_timeout' must be a whole number"));
	CHECK(strstr(
	        user_error("[network]\nallowed_domains = [\"ok.example\", \"a.*.bad\"]\n"),
	        "config.toml:2:34: 'network.allowed_domains' has an invalid entry \"a.*.bad\""));
	CHECK(strstr(user_error("[network]\ndns_min_ttl = 86401\n"), "'network.dns_min_ttl'"));
	CHECK(strstr(user_error("[network]\ndns_servers = [\"1.1.1\"]\n"),
	             "config.toml:2:16: 'network.dns_servers' has an invalid entry"));
	CHECK(strstr(user_error("[network]\nallowed_networks = [\"100.64.0.0/10:22\"]\n"),
	             "config.toml:2:21: 'network.allowed_networks' has an invalid entry"));
	CHECK(strstr(user_error("[network]\nallowed_networks = [\"tailnet\"]\n"),
	             "expected an IPv4 network like \"100.64.0.0/10\""));
	CHECK(*user_error("[network]\nallowed_networks = [\"100.64.0.0/10\", \"1.2.3.4\"]\n") ==
	      '\0');
	CHECK(strstr(user_error("[limits.runtime]\nmax_duration = \"2 hours\"\n"),
	             "'limits.runtime.max_duration' must be a duration"));
	CHECK(strstr(user_error("[tool]\nbinary = \"a;rm -rf /\"\n"),
	             "'tool.binary' may only hold the characters"));
	CHECK(strstr(user_error("[[mounts]]\nhost = \"/a\"\ncontainer = \"rel\"\n"),
	             "'mounts.default' needs an absolute 'container' path"));
	CHECK(strstr(user_error("[defaults.environment]\nX = 1\n"),
	             "config.toml:2:5: 'defaults.environment' must map names to strings"));
	CHECK(strstr(user_error("[defaults.environment]\n\"A;touch /tmp/x;B\" = \"v\"\n"),
	             "config.toml:2:22: 'defaults.environment' has \"A;touch /tmp/x;B\", which is "
	             "not a variable name"));
	CHECK(strstr(user_error("[defaults.env_commands]\n\"1X\" = \"date\"\n"),
	             "'defaults.env_commands' has \"1X\", which is not a variable name"));
	CHECK(*user_error("[defaults.environment]\n_Ok_1 = \"v\"\n") == '\0');
	CHECK(strstr(user_error("[timezone]\nmode = \"fixed\"\n"), "'timezone.name' is required"));
	/* [limits] values Incus or the kernel take are checked at load, with their place */
	CHECK(strstr(user_error("[limits.disk]\nsize = \"10 GB\"\n"),
	             "config.toml:2:8: 'limits.disk.size' must be a size such as \"10GiB\""));
	CHECK(strstr(user_error("[limits.disk]\ntmpfs_size = \"64M,exec\"\n"),
	             "'limits.disk.tmpfs_size' must be a size"));
	CHECK(strstr(user_error("[limits.memory]\nlimit = \"150%\"\n"),
	             "'limits.memory.limit' must be a size such as \"4GiB\", or a share"));
	CHECK(strstr(user_error("[limits.memory]\nenforce = \"firm\"\n"),
	             "'limits.memory.enforce' must be one of: hard|soft"));
	CHECK(strstr(user_error("[limits.cpu]\nallowance = \"25ms\"\n"),
	             "'limits.cpu.allowance' must be a weight such as \"50%\""));
	CHECK(strstr(user_error("[limits.cpu]\ncount = \"0-\"\n"), "'limits.cpu.count' must be"));
	CHECK(strstr(user_error("[limits.cpu]\npriority = 11\n"),
	             "'limits.cpu.priority' must be a whole number from 0 to 10"));
	CHECK(strstr(user_error("[limits.disk]\nread = \"fast\"\n"), "'limits.disk.read' must be"));
	CHECK(*user_error("[limits.cpu]\ncount = \"0-1,3\"\nallowance = \"25ms/100ms\"\n"
	                  "[limits.memory]\nlimit = \"\"\n[limits.disk]\nread = \"20MiB\"\n"
	                  "write = \"1000iops\"\ntmpfs_size = \"1.5G\"\n") == '\0');
	/* a TOML syntax error names the place too */
	CHECK(strstr(user_error("[container]\nimage = \"unterminated\n"), "config.toml:2:"));
	CHECK(strstr(user_error("[container]\nimage = \"a\"\nimage = \"b\"\n"), "config.toml:3:"));
	CHECK(*user_error("[container]\nimage = \"fine\"\n") == '\0');
}

static void test_legacy_file(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};

	clean_files();
	write_text(at("ws/.coi.toml"), "[container]\nimage = \"old\"\n");
	CHECK(load(NULL, &c, NULL, &err) == -EINVAL);
	CHECK(strstr(err.msg, "/ws/.coi.toml' is a legacy config file, which coi no longer reads"));
	CHECK(strstr(err.msg, "mkdir -p .coi && mv .coi.toml .coi/config.toml"));
	/* ~/.config/coi/config.toml is no longer read, with a warning */
	clean_files();
	write_text(at("home/.config/coi/config.toml"), "[container]\nimage = \"old\"\n");
	{
		char **w = NULL;

		CHECK(load(NULL, &c, &w, &err) == 0);
		if (c)
			CHECK_STREQ(c->container.image, "coi-default");
		config_free(c);
		CHECK(warned(w, ".config/coi/config.toml' is no longer read", NULL));
		strv_free(w);
	}
}

/* The network keys of a project file apply only once the file is approved. */
static const char project_net[] = "[network]\n"
                                  "mode = \"open\"\n"
                                  "block_private_networks = false\n"
                                  "allow_local_network_access = true\n"
                                  "dns_servers = [\"192.0.2.53\"]\n"
                                  "allowed_networks = [\"100.64.0.0/10\"]\n"
                                  "block_metadata_endpoint = false\n"
                                  "[[network.hosts]]\n"
                                  "ip = \"192.0.2.10\"\n"
                                  "hostnames = [\"db.internal\"]\n"
                                  "ports = [5432]\n"
                                  "[container]\n"
                                  "storage_pool = \"proj\"\n";

static void test_trust_network(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;
	const char *keys[] = {"'network.mode'",
	                      "'network.block_private_networks'",
	                      "'network.allow_local_network_access'",
	                      "'network.dns_servers'",
	                      "'network.allowed_networks'",
	                      "'network.block_metadata_endpoint'",
	                      "'network.hosts'"};

	clean_files();
	write_text(at("ws/.coi/config.toml"), project_net);
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->network.mode == NET_MODE_RESTRICTED);
		CHECK(c->network.block_private_networks);
		CHECK(c->network.block_metadata_endpoint);
		CHECK(!c->network.allow_local_network_access);
		CHECK(strv_length(c->network.dns_servers) == 0);
		CHECK(strv_length(c->network.allowed_networks) == 0);
		CHECK(c->network.n_hosts == 0);
		CHECK_STREQ(c->container.storage_pool, "proj"); /* harmless keys still apply */
		CHECK(config_origin(c, key_at("network.mode")) == NULL);
		c = config_free(c);
	}
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		CHECK(warned(w, keys[i],
		             "would weaken isolation and this project file is not "
		             "approved (review it, then run 'coi trust')"));
	CHECK(warned(w, ".coi/config.toml:2: ignoring 'network.mode'", NULL));
	CHECK(strv_length(w) == ELEMENTSOF(keys));
	w = strv_free(w);

	/* approved: every key applies, without a warning */
	CHECK(trust_approve(at("ws/.coi/config.toml"), NULL, &err) == 0);
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->network.mode == NET_MODE_OPEN);
		CHECK(!c->network.block_private_networks);
		CHECK(!c->network.block_metadata_endpoint);
		CHECK(c->network.allow_local_network_access);
		CHECK(strv_contains(c->network.dns_servers, "192.0.2.53"));
		CHECK(strv_contains(c->network.allowed_networks, "100.64.0.0/10"));
		CHECK(c->network.n_hosts == 1 && strcmp(c->network.hosts[0].ip, "192.0.2.10") == 0);
		CHECK(c->network.n_hosts == 1 && c->network.hosts[0].n_ports == 1 &&
		      c->network.hosts[0].ports[0] == 5432);
		c = config_free(c);
	}
	CHECK(strv_length(w) == 0);
	w = strv_free(w);

	/* one changed byte needs a new approval */
	write_text(at("ws/.coi/config.toml"), "[network]\nmode = \"open\" \n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->network.mode == NET_MODE_RESTRICTED);
		c = config_free(c);
	}
	CHECK(warned(w, "'network.mode'", "coi trust"));
	w = strv_free(w);

	/* COI_TRUST_ALL=1 treats the file as approved */
	setenv("COI_TRUST_ALL", "1", 1);
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->network.mode == NET_MODE_OPEN);
		c = config_free(c);
	}
	unsetenv("COI_TRUST_ALL");
	w = strv_free(w);
}

/* Values that keep or tighten isolation apply from an unapproved project file; a value judged
 * against the one in force: "open" from the user's own file stays open. */
static void test_trust_not_weakening(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"), "[network]\nmode = \"open\"\n"
	                                        "block_private_networks = false\n");
	write_text(at("ws/.coi/config.toml"),
	           "[network]\nmode = \"allowlist\"\nblock_private_networks = true\n"
	           "allow_local_network_access = false\n"
	           "[security]\nadditional_protected_paths = [\"secrets\"]\n"
	           "[monitoring]\nenabled = true\n");
	CHECK(load(NULL, &c, &w, &err) == 0);
	if (c) {
		CHECK(c->network.mode == NET_MODE_ALLOWLIST);
		CHECK(c->network.block_private_networks);
		CHECK(strv_contains(c->security.additional_protected_paths, "secrets"));
		CHECK(c->monitoring.enabled);
		config_free(c);
	}
	CHECK(strv_length(w) == 0);
	w = strv_free(w);

	/* a project profile is untrusted like the project file */
	clean_files();
	write_text(at("ws/.coi/profiles/wide/config.toml"),
	           "[network]\nmode = \"open\"\n[container]\nstorage_pool = \"wide\"\n"
	           "forward_env = [\"SECRET\"]\n");
	CHECK(load("wide", &c, &w, &err) == 0);
	if (c) {
		CHECK(c->network.mode == NET_MODE_RESTRICTED);
		CHECK_STREQ(c->container.storage_pool, "wide");
		config_free(c);
	}
	CHECK(warned(w, "profiles/wide/config.toml:2: ignoring 'network.mode'", "coi trust"));
	strv_free(w);
}

/* Every key that can weaken isolation, set from an unapproved project file: dropped with a
 * warning naming it (the value in force stays); approved, it applies. user: the user's file. */
static const struct {
	const char *key, *user, *project;
} weakening[] = {
        {"container.docker", "", "[container]\ndocker = true\n"},
        {"ssh.forward_agent", "", "[ssh]\nforward_agent = true\n"},
        {"security.disable_protection", "", "[security]\ndisable_protection = true\n"},
        {"security.host_immutable", "", "[security]\nhost_immutable = false\n"},
        {"security.protected_paths", "", "[security]\nprotected_paths = [\".git/hooks\"]\n"},
        {"security.writable_paths", "", "[security]\nwritable_paths = [\".git/config\"]\n"},
        {"security.secret_paths", "[security]\nsecret_paths = [\".env\"]\n",
         "[security]\nsecret_paths = []\n"},
        {"security.reduce_kernel_surface", "[security]\nreduce_kernel_surface = true\n",
         "[security]\nreduce_kernel_surface = false\n"},
        {"git.writable_hooks", "", "[git]\nwritable_hooks = true\n"},
        {"git.protected_branches", "", "[git]\nprotected_branches = [\"main\"]\n"},
        {"git.readonly", "[git]\nreadonly = true\n", "[git]\nreadonly = false\n"},
        {"tool.pre_launch", "", "[tool]\npre_launch = [\"curl x | sh\"]\n"},
        {"tool.copy_credentials", "", "[tool]\ncopy_credentials = true\n"},
        {"defaults.forward_env", "", "[defaults]\nforward_env = [\"AWS_SECRET_ACCESS_KEY\"]\n"},
        {"defaults.env_commands", "", "[defaults.env_commands]\nT = \"cat ~/.ssh/id_rsa\"\n"},
        {"defaults.profile", "", "[defaults]\nprofile = \"hardened\"\n"},
        {"incus.socket", "", "[incus]\nsocket = \"/tmp/evil.sock\"\n"},
        {"incus.project", "", "[incus]\nproject = \"other\"\n"},
        {"ports.pool", "", "[ports]\npool = 3\n"},
        {"mounts.default", "", "[[mounts]]\nhost = \"/etc\"\ncontainer = \"/mnt/etc\"\n"},
        {"mounts.default", "", "[[mounts]]\nhost = \"..\"\ncontainer = \"/mnt/up\"\n"},
        {"monitoring.enabled", "[monitoring]\nenabled = true\n", "[monitoring]\nenabled = false\n"},
        {"monitoring.auto_kill_on_critical", "", "[monitoring]\nauto_kill_on_critical = false\n"},
        {"monitoring.reverse_shell_one_liners", "",
         "[monitoring]\nreverse_shell_one_liners = \"off\"\n"},
        {"monitoring.file_read_threshold_mb", "", "[monitoring]\nfile_read_threshold_mb = 500.0\n"},
        {"network.allowed_ports", "", "[network]\nallowed_ports = [22]\n"},
        {"container.session_name", "", "[container]\nsession_name = \"someone-else\"\n"},
};

static void test_trust_table(void)
{
	for (size_t i = 0; i < ELEMENTSOF(weakening); i++) {
		struct coi_config *c = NULL;
		struct coi_error err = {0};
		char **w = NULL, quoted[96];
		const char *origin;
		int r;

		clean_files();
		snprintf(quoted, sizeof(quoted), "'%s'", weakening[i].key);
		write_text(at("home/.coi/config.toml"), weakening[i].user);
		write_text(at("ws/.coi/config.toml"), weakening[i].project);
		r = load(NULL, &c, &w, &err);
		origin = c ? config_origin(c, key_at(weakening[i].key)) : NULL;
		if (r < 0 || (origin && strstr(origin, "ws/.coi")) ||
		    !warned(w, quoted, "not approved"))
			printf("# %s applies from an unapproved project file (%s)\n",
			       weakening[i].key, r < 0 ? err.msg : "no warning or applied");
		CHECK(r == 0 && !(origin && strstr(origin, "ws/.coi")));
		CHECK(warned(w, quoted, "not approved"));
		c = config_free(c);
		w = strv_free(w);
		/* approved, it applies */
		CHECK(trust_approve(at("ws/.coi/config.toml"), NULL, &err) == 0);
		r = load(NULL, &c, &w, &err);
		origin = c ? config_origin(c, key_at(weakening[i].key)) : NULL;
		CHECK(r == 0 && origin && strstr(origin, "ws/.coi"));
		CHECK(!warned(w, quoted, NULL));
		config_free(c);
		strv_free(w);
	}
	/* a mount inside the workspace is not a weakening */
	{
		struct coi_config *c = NULL;
		struct coi_error err = {0};
		char **w = NULL;

		clean_files();
		mkdir(at("ws/data"), 0700);
		write_text(at("ws/.coi/config.toml"),
		           "[[mounts]]\nhost = \"data\"\ncontainer = \"/data\"\n");
		CHECK(load(NULL, &c, &w, &err) == 0);
		CHECK(c && c->n_mounts == 1 && strstr(c->mounts[0].host, "/ws/data"));
		CHECK(strv_length(w) == 0);
		config_free(c);
		strv_free(w);
	}
}

/* A starter file in the original tool's documented format: flat [[mounts]], profiles, [prompts],
 * [defaults] forward_env. It loads without error or warning. */
static const char upstream_example[] =
        "# ~/.coi/config.toml\n"
        "[defaults]\n"
        "forward_env = [\"GITHUB_TOKEN\", \"ANTHROPIC_API_KEY\"]\n"
        "env_command_timeout = \"30s\"\n"
        "\n"
        "[defaults.environment]\n"
        "EDITOR = \"vim\"\n"
        "NODE_ENV = \"development\"\n"
        "\n"
        "[container]\n"
        "image = \"coi-default\"\n"
        "persistent = true\n"
        "shutdown_timeout = 30\n"
        "\n"
        "[container.build]\n"
        "base = \"coi-default\"\n"
        "commands = [\"apt-get install -y ripgrep\"]\n"
        "agents = [\"claude\", \"opencode\"]\n"
        "\n"
        "[tool]\n"
        "name = \"claude\"\n"
        "permission_mode = \"bypass\"\n"
        "\n"
        "[tool.claude]\n"
        "effort_level = \"high\"\n"
        "\n"
        "[network]\n"
        "mode = \"allowlist\"\n"
        "allowed_domains = [\"github.com\", \"api.github.com:443\", \"registry.npmjs.org\", "
        "\"10.0.0.0/8:22\", \"example.org:8000-8100\"]\n"
        "refresh_interval_minutes = 30\n"
        "\n"
        "[[network.hosts]]\n"
        "ip = \"10.1.2.3\"\n"
        "hostnames = [\"git.corp\"]\n"
        "ports = [22, 443]\n"
        "\n"
        "[[mounts]]\n"
        "host = \"~/.cache/pip\"\n"
        "container = \"/home/code/.cache/pip\"\n"
        "\n"
        "[[mounts]]\n"
        "host = \"/opt/datasets\"\n"
        "container = \"/data\"\n"
        "readonly = true\n"
        "\n"
        "[limits.cpu]\n"
        "count = \"2\"\n"
        "[limits.memory]\n"
        "limit = \"4GiB\"\n"
        "[limits.runtime]\n"
        "max_duration = \"2h30m\"\n"
        "\n"
        "[git]\n"
        "protected_branches = [\"main\", \"master\", \"release\"]\n"
        "\n"
        "[security]\n"
        "additional_protected_paths = [\".github/workflows\"]\n"
        "\n"
        "[timezone]\n"
        "mode = \"utc\"\n"
        "\n"
        "[monitoring]\n"
        "enabled = true\n"
        "poll_interval_sec = 2\n"
        "\n"
        "[prompts]\n"
        "review = \"Review the last commit\"\n"
        "fix = { file = \"prompts/fix.md\" }\n";

static void test_upstream_example(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char **w = NULL;

	clean_files();
	write_text(at("home/.coi/config.toml"), upstream_example);
	write_text(at("home/.coi/profiles/review/config.toml"),
	           "inherits = \"hardened\"\nforward_env = [\"GITHUB_TOKEN\"]\n"
	           "[environment]\nREVIEW = \"1\"\n[tool]\npermission_mode = \"interactive\"\n");
	CHECK(load("review", &c, &w, &err) == 0);
	if (err.msg[0])
		printf("# %s\n", err.msg);
	if (c) {
		CHECK(c->n_mounts == 2);
		CHECK(c->n_mounts == 2 && strcmp(c->mounts[1].container, "/data") == 0 &&
		      c->mounts[1].readonly);
		CHECK(c->n_mounts == 2 && c->mounts[0].host[0] == '/' &&
		      strstr(c->mounts[0].host, "/.cache/pip"));
		CHECK(c->container.persistent);
		CHECK(c->network.mode == NET_MODE_RESTRICTED); /* hardened wins */
		CHECK(strv_contains(c->network.allowed_domains, "example.org:8000-8100"));
		CHECK(c->network.n_hosts == 1);
		CHECK_STREQ(c->limits.memory.limit, "4GiB");
		/* the profile layer comes last, but hardened only tightens: the user's shorter cap
		 * stays (it had raised it to 4h) */
		CHECK_STREQ(c->limits.runtime.max_duration, "2h30m");
		CHECK(c->timezone.mode == TZ_MODE_UTC);
		CHECK(c->tool.permission_mode == PERMISSION_MODE_INTERACTIVE);
		CHECK(strv_length(c->defaults.forward_env) == 1);
		CHECK_STREQ(env_get(c, "EDITOR"), "vim");
		CHECK_STREQ(env_get(c, "REVIEW"), "1");
		CHECK_STREQ(c->profile, "review");
		CHECK(c->n_prompts == 2);
		CHECK(c->n_prompts == 2 &&
		      strcmp(c->prompts[0].text, "Review the last commit") == 0);
		/* a file relative to the file that names it */
		CHECK(c->n_prompts == 2 && c->prompts[1].file &&
		      strcmp(c->prompts[1].file, at("home/.coi/prompts/fix.md")) == 0);
		config_free(c);
	}
	/* one warning: the allowlist refresh has nothing to do in coi */
	CHECK(strv_length(w) == 1 &&
	      warned(w, "'network.refresh_interval_minutes' is not supported by coi", NULL));
	w = strv_free(w);
	/* and it validates as a file on its own */
	CHECK(config_validate_file(at("home/.coi/config.toml"), &w, &err) == 0);
	CHECK(strv_length(w) == 1);
	strv_free(w);
}

static void test_output(void)
{
	struct coi_config *c = NULL;
	struct coi_error err = {0};
	char *s;

	clean_files();
	write_text(at("home/.coi/config.toml"), "[container]\nimage = \"shown\"\n");
	CHECK(load(NULL, &c, NULL, &err) == 0);
	if (!c)
		return;
	s = config_to_toml(c);
	CHECK(s && strstr(s, "[container]\nimage = \"shown\"  # ~/.coi/config.toml:2\n"));
	CHECK(s && strstr(s, "persistent = false  # default\n"));
	CHECK(s && strstr(s, "# storage_pool is unset  # default\n"));
	free(s);
	s = config_to_json(c);
	CHECK(s && strstr(s, "\"container.image\": {\n    \"value\": \"shown\",\n    \"origin\": "
	                     "\"~/.coi/config.toml:2\""));
	free(s);
	config_free(c);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	snprintf(ws, sizeof(ws), "%s/ws", dir);
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(coi_home, sizeof(coi_home), "%s/home/.coi", dir);
	setenv("HOME", home, 1);
	setenv("COI_HOME", coi_home, 1);
	RUN(test_defaults);
	RUN(test_precedence);
	RUN(test_inherits);
	RUN(test_inherits_refused);
	RUN(test_unknown_keys);
	RUN(test_monitoring_nft);
	RUN(test_dns_keys);
	RUN(test_bad_values);
	RUN(test_legacy_file);
	RUN(test_trust_network);
	RUN(test_trust_not_weakening);
	RUN(test_trust_table);
	RUN(test_upstream_example);
	RUN(test_output);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
