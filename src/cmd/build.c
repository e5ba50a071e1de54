/* SPDX-License-Identifier: MIT */
/* coi build: the sandbox image coi-default (or a custom image on top of it). The build's own
 * output streams to stdout; phases and percentages go to stderr. Ctrl-C stops the build and
 * deletes the build container; the previous image stays. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "config/config.h"
#include "image/image.h"
#include "incus/incus.h"
#include "session/warm.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

const struct verb verb_build;

struct build_args {
	struct image_build_opts o;
	const char *script_path;
	const char *profile;
	struct buf script;
	char *agents;
	struct coi_config *cfg; /* the options point into it */
	bool quiet;
	bool print_hash;
	bool dry_run; /* --dry-run: print the plan, build nothing */
	bool all;     /* --all: every profile with a [container.build] */
	int last_percent;
	int last_phase;
	char last_text[256];
};

static void on_progress(enum image_phase phase, const char *text, int percent, void *userdata)
{
	struct build_args *a = userdata;

	if (a->quiet || strncmp(text, a->last_text, sizeof(a->last_text) - 1) == 0)
		return;
	(void)snprintf(a->last_text, sizeof(a->last_text), "%s", text);
	if (percent >= 0) {
		/* Incus reports often; show each phase's percentage in steps of 10. */
		if ((int)phase == a->last_phase && percent / 10 == a->last_percent / 10 &&
		    percent != 100)
			return;
		a->last_percent = percent;
	} else {
		a->last_percent = -10;
	}
	a->last_phase = (int)phase;
	fprintf(stderr, "coi build: [%s] %s\n", image_phase_to_string(phase), output_safe(text));
}

static bool alias_valid(const char *s)
{
	if (!*s || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		            *s))
			return false;
	return true;
}

/* True when the user set key in a file (not the built-in default). */
static bool config_is_set(const struct coi_config *cfg, const char *key)
{
	size_t n;
	const struct config_key *all = config_keys(&n), *k = config_key_find(key);

	return k && config_origin(cfg, (size_t)(k - all)) != NULL;
}

/* The custom build of the configuration: container.build.script (relative to the file that set
 * it) or container.build.commands, as one script. 0 when there is none. */
static int config_script(const struct coi_config *cfg, struct buf *out, struct coi_error *err)
{
	const struct config_key *k = config_key_find("container.build.script");
	size_t n;
	const char *origin;
	_cleanup_free_ char *dir = NULL, *path = NULL;
	char *colon;

	if (cfg->container.build.script) {
		origin = config_origin(cfg, (size_t)(k - config_keys(&n)));
		dir = strdup(origin ? origin : ".");
		if (!dir)
			return coi_error_oom(err);
		colon = strrchr(dir, ':');
		if (colon && origin)
			*colon = '\0';
		if (origin && strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		else if (origin)
			strcpy(dir, ".");
		path = cfg->container.build.script[0] == '/'
		               ? strdup(cfg->container.build.script)
		               : path_join(dir, cfg->container.build.script);
		if (!path)
			return coi_error_oom(err);
		return read_file(path, out, err) < 0
		               ? coi_error_prefix(err, "container.build.script")
		               : 1;
	}
	if (!cfg->container.build.commands || !cfg->container.build.commands[0])
		return 0;
	if (buf_puts(out, "#!/bin/bash\nset -euo pipefail\n") < 0)
		return coi_error_oom(err);
	strv_foreach(l, cfg->container.build.commands) {
		if (buf_printf(out, "%s\n", *l) < 0)
			return coi_error_oom(err);
	}
	return 1;
}

/* Fills what the command line left open: the environment (COI_BUILD_BASE, COI_AGENTS, ...), then
 * the configuration (container.image, container.storage_pool, container.build.*). */
static int from_config(struct build_args *a, const struct coi_config *cfg, struct coi_error *err)
{
	struct image_build_opts *o = &a->o;
	const char *base = cfg->container.build.base;
	int r;

	if (!o->script) {
		r = config_script(cfg, &a->script, err);
		if (r < 0)
			return r;
		if (r > 0)
			o->script = buf_str(&a->script);
	}
	if (!o->alias && (o->script || config_is_set(cfg, "container.image")))
		o->alias = cfg->container.image;
	if (o->script && (!o->alias || strcmp(o->alias, IMAGE_DEFAULT_ALIAS) == 0))
		return coi_error_set(
		        err, -EINVAL,
		        "a custom image needs its own alias: --alias NAME or the profile's "
		        "container.image");
	if (!o->base)
		o->base = secure_getenv("COI_BUILD_BASE");
	/* container.build.base is the base of custom images (default coi-default); for coi-default
	 * itself it may name where the OS comes from (auto, debootstrap, images:debian/12). */
	if (!o->base && base && (o->script || strcmp(base, IMAGE_DEFAULT_ALIAS) != 0))
		o->base = base;
	if (!o->agents)
		o->agents = secure_getenv("COI_AGENTS");
	if (!o->agents && config_is_set(cfg, "container.build.agents")) {
		a->agents = strv_join(cfg->container.build.agents, ",");
		if (!a->agents)
			return coi_error_oom(err);
		o->agents = a->agents;
	}
	if (!o->storage_pool)
		o->storage_pool = cfg->container.storage_pool;
	if (!o->compression)
		o->compression = secure_getenv("COI_BUILD_COMPRESSION");
	if (!o->compression)
		o->compression = cfg->container.build.compression;
	if (!o->apt_mirror)
		o->apt_mirror = secure_getenv("COI_APT_MIRROR");
	return 0;
}

/* A usage error for parse_args(): printed, and negative as parse_args() returns it. */
#define USAGE_ERROR(...) (cmd_usage_error(&verb_build, __VA_ARGS__), -EINVAL)
#define BAD_OPTION(argv) (cmd_bad_option(&verb_build, argv), -EINVAL)

static int parse_args(int argc, char **argv, struct build_args *a)
{
	static const struct option opts[] = {
	        {"force", no_argument, NULL, 'f'},
	        {"keep", required_argument, NULL, 'k'},
	        {"alias", required_argument, NULL, 'a'},
	        {"base", required_argument, NULL, 'b'},
	        {"agents", required_argument, NULL, 'A'},
	        {"script", required_argument, NULL, 's'},
	        {"storage-pool", required_argument, NULL, 'p'},
	        {"compression", required_argument, NULL, 'c'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"recipe-hash", no_argument, NULL, 'R'},
	        {"dry-run", no_argument, NULL, 'n'},
	        {"profile", required_argument, NULL, 'P'},
	        {"all", no_argument, NULL, 'L'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	char *end;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+fk:a:b:s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->o.force = true;
			break;
		case 'k':
			errno = 0;
			a->o.keep = (int)strtol(optarg, &end, 10);
			if (errno || *end || a->o.keep < 1 || a->o.keep > 1000)
				return USAGE_ERROR("--keep needs a number >= 1, not '%s'", optarg);
			break;
		case 'a':
			if (!alias_valid(optarg))
				return USAGE_ERROR("invalid image alias '%s'", optarg);
			a->o.alias = optarg;
			break;
		case 'b':
			a->o.base = optarg;
			break;
		case 'A':
			a->o.agents = optarg;
			break;
		case 's':
			a->script_path = optarg;
			break;
		case 'p':
			a->o.storage_pool = optarg;
			break;
		case 'c':
			a->o.compression = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'R':
			a->print_hash = true;
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'P':
			a->profile = optarg;
			break;
		case 'L':
			a->all = true;
			break;
		case 'h':
			cmd_help(&verb_build);
			return 0;
		default:
			return BAD_OPTION(argv);
		}
	}
	if (optind < argc)
		return USAGE_ERROR("unexpected argument '%s'", argv[optind]);
	if (a->all && (a->profile || a->script_path || a->o.alias || a->print_hash))
		return USAGE_ERROR("--all builds each profile's own image: no --profile, --script, "
		                   "--alias or --recipe-hash with it");
	if (a->script_path && (!a->o.alias || strcmp(a->o.alias, IMAGE_DEFAULT_ALIAS) == 0))
		return USAGE_ERROR("a custom image (--script) needs its own --alias");
	return 1;
}

static void print_result(const struct build_args *a, const struct image_build_result *res)
{
	const char *alias = a->o.alias ? a->o.alias : IMAGE_DEFAULT_ALIAS;

	if (res->skipped) {
		printf("%s is up to date (recipe %s, %.12s); --force rebuilds it\n", alias,
		       res->recipe, res->fingerprint);
		return;
	}
	printf("built %s = %s (%.12s, recipe %s)\n", alias, res->version_alias, res->fingerprint,
	       res->recipe);
	printf("base %s (%.0f s), total %.0f s, image %.0f MiB", res->base, res->base_seconds,
	       res->total_seconds, (double)res->size / (1024.0 * 1024.0));
	if (res->pruned > 0)
		printf(", %d old version%s deleted", res->pruned, res->pruned == 1 ? "" : "s");
	printf("\n");
}

/* The warm pool's containers made from an image the alias no longer names (warm.h): only after a
 * build that succeeded (a failed or interrupted one kept the image they are of); and after one
 * found up to date too, for what an earlier build that was cut short here left. */
static void remove_old_warm(struct incus_client *c, const struct build_args *a,
                            const struct image_build_result *res)
{
	const char *alias = a->o.alias ? a->o.alias : IMAGE_DEFAULT_ALIAS;
	_cleanup_strv_free_ char **removed = NULL;
	struct coi_error err = {0};
	int r = warm_remove_old_image(c, alias, res->fingerprint, &removed, &err);
	size_t n = strv_length(removed);

	if (n > 0) {
		printf("removed %zu warm container%s of the old image ([container] warm):", n,
		       n == 1 ? "" : "s");
		strv_foreach(name, removed)
			printf(" %s", output_safe(*name));
		printf("\n");
	}
	if (r < 0)
		cmd_warnf("%s", coi_error_message(&err));
}

/* --dry-run: what image_build() would be given, once the command line, the environment and the
 * configuration are merged; the script in full. Each line is "NAME VALUE" for scripts. */
static int print_plan(const struct build_args *a)
{
	const struct image_build_opts *o = &a->o;
	char hash[IMAGE_HASH_LEN + 1];

	if (image_recipe_hash(o->agents, o->script, hash) < 0)
		return cmd_failf("cannot hash the recipe");
	printf("alias %s\n", o->alias ? o->alias : IMAGE_DEFAULT_ALIAS);
	printf("base %s\n", o->base ? o->base : "auto");
	printf("agents %s\n", o->agents ? o->agents : IMAGE_DEFAULT_AGENTS);
	printf("storage_pool %s\n", o->storage_pool ? o->storage_pool : "(the default profile's)");
	printf("compression %s\n", o->compression ? o->compression : "(zstd for a local daemon)");
	printf("recipe %s\n", hash);
	if (!o->script) {
		printf("script (the coi recipe)\n");
		return EXIT_OK;
	}
	printf("script (custom, run as root on top of the base):\n%s", o->script);
	if (*o->script && o->script[strlen(o->script) - 1] != '\n')
		printf("\n");
	return EXIT_OK;
}

static void build_args_release(struct build_args *a)
{
	buf_release(&a->script);
	free(a->agents);
	config_free(a->cfg);
}

static int load_settings(struct build_args *a, struct coi_error *err)
{
	_cleanup_strv_free_ char **warnings = NULL;
	int r;

	if (a->script_path) {
		if (read_file(a->script_path, &a->script, err) < 0)
			return err->code;
		a->o.script = buf_str(&a->script);
	}
	r = config_load(&(struct config_load_opts){.profile = a->profile}, &a->cfg, &warnings, err);
	cmd_warnings(warnings);
	if (r < 0)
		return r;
	return from_config(a, a->cfg, err);
}

static int build_one(struct build_args *a)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	struct image_build_result res = {0};
	struct coi_error err = {0};
	int r;

	r = load_settings(a, &err);
	if (r < 0) {
		build_args_release(a);
		return cmd_fail(&err);
	}
	if (a->print_hash) {
		char hash[IMAGE_HASH_LEN + 1];

		r = image_recipe_hash(a->o.agents, a->o.script, hash);
		if (r == 0)
			printf("%s\n", hash);
		build_args_release(a);
		return r < 0 ? cmd_failf("cannot hash the recipe") : EXIT_OK;
	}
	if (a->dry_run) {
		r = print_plan(a);
		build_args_release(a);
		return r;
	}
	a->o.progress = on_progress;
	a->o.userdata = a;
	fflush(stdout);
	if (cmd_open_client_with(a->cfg, &c) != 0) {
		build_args_release(a);
		return EXIT_FAIL;
	}
	incus_interrupt_on_signals();
	r = image_build(c, &a->o, &res, &err);
	if (res.leftover)
		cmd_warnf("%s", res.leftover);
	if (r < 0) {
		if (r == -ECANCELED)
			fprintf(stderr,
			        "coi: build interrupted; the build container was deleted and the "
			        "previous image kept\n");
		image_build_result_release(&res);
		build_args_release(a);
		return cmd_fail(&err);
	}
	print_result(a, &res);
	remove_old_warm(c, a, &res);
	image_build_result_release(&res);
	build_args_release(a);
	return EXIT_OK;
}

/* Whether profile name has a [container.build] script or commands: a custom image of its own. */
static bool builds_image(const char *name)
{
	_cleanup_strv_free_ char **w = NULL;
	struct coi_config *cfg = NULL;
	bool yes;

	if (config_load(&(struct config_load_opts){.profile = name}, &cfg, &w, NULL) < 0)
		return false;
	yes = cfg->container.build.script || cfg->container.build.commands;
	config_free(cfg);
	return yes;
}

/* --all: each profile's image, as --profile NAME would build it, one after the other. */
static int build_all(const struct build_args *tmpl)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *ws = NULL;
	int status = EXIT_OK, n = 0;

	if (path_absolute(".", &ws, NULL) < 0 || config_profile_names(ws, &names) < 0)
		return cmd_failf("out of memory");
	strv_foreach(p, names) {
		struct build_args a = *tmpl;

		if (!builds_image(*p))
			continue;
		n++;
		printf("==> profile %s\n", *p);
		a.profile = *p;
		a.script = (struct buf)BUF_INIT(1u << 20);
		if (build_one(&a) != EXIT_OK)
			status = EXIT_FAIL;
	}
	if (n == 0)
		fprintf(stderr, "coi: no profile has a [container.build] script or commands\n");
	return status;
}

static int run(int argc, char **argv)
{
	struct build_args a = {
	        .o = {.log_fd = STDOUT_FILENO},
	        .script = BUF_INIT(1u << 20),
	        .last_phase = -1,
	};
	int r;

	r = parse_args(argc, argv, &a);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	if (a.all)
		return build_all(&a);
	return build_one(&a);
}

const struct verb verb_build = {
        .name = "build",
        .run = run,
        .summary = "build the sandbox image coi-default",
        .usage =
                "Usage: coi build [--force] [--keep N] [--alias NAME] [--base BASE] [--agents LIST]\n"
                "                 [--script FILE] [--storage-pool POOL] [--compression ALGO]\n"
                "                 [--profile P | --all] [--dry-run]\n"
                "\n"
                "Build the sandbox image coi-default: a Debian system container with systemd, the\n"
                "user 'code' (uid 1000, passwordless sudo), tmux, git, build tools, Node.js and the\n"
                "agents Claude Code, opencode, Codex and Gemini CLI. Skipped when the image already\n"
                "carries the current recipe. Each build is kept as NAME-YYYYMMDD-HHMMSS and NAME\n"
                "points at the newest; a failed or interrupted build keeps the previous image.\n"
                "Warm containers ([container] warm) of an older image of NAME, every user's, are\n"
                "removed (none could be claimed any more; a claimed one is never touched).\n"
                "\n"
                "  -f, --force            rebuild even when the image is up to date\n"
                "  -k, --keep N           versions to keep (default 3)\n"
                "  -a, --alias NAME       the image alias (default coi-default)\n"
                "  -b, --base BASE        auto (default: an image server if reachable, else\n"
                "                         debootstrap), debootstrap (made here, needs root),\n"
                "                         images:debian/12, or a local image alias\n"
                "      --agents LIST      agents to install: claude,opencode,codex,gemini (default\n"
                "                         all), or none\n"
                "  -s, --script FILE      a custom image: run FILE as root on top of coi-default\n"
                "                         (or --base) and publish it as --alias\n"
                "      --storage-pool P   the pool for the build container\n"
                "      --compression A    publish compression (default zstd; none, gzip, xz)\n"
                "      --profile NAME     settings from this profile (its [container.build] script\n"
                "                         or commands make a custom image named container.image)\n"
                "      --all              build the image of every profile that has a\n"
                "                         [container.build] script or commands, in turn\n"
                "  -q, --quiet            no progress lines on stderr\n"
                "      --recipe-hash      print the recipe hash (what decides a rebuild) and exit\n"
                "      --dry-run          print what would be built (alias, base, agents, pool,\n"
                "                         compression, recipe hash, the custom script) and exit\n"
                "\n"
                "Settings not given as options come from the environment (COI_BUILD_BASE,\n"
                "COI_AGENTS, COI_BUILD_COMPRESSION, COI_APT_MIRROR, COI_IMAGE_CACHE: the base cache,\n"
                "default /var/cache/coi), then the configuration: container.image,\n"
                "container.storage_pool, container.build.{base,agents,compression,script,commands}.",
};
