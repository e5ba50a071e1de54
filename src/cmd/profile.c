/* SPDX-License-Identifier: MIT */
/* coi profile: the configuration profiles (--profile NAME): list, show, create, edit, delete.
 * A profile is a config file applied over the user's and the project's; the user's live in
 * ~/.coi/profiles/NAME/config.toml (trusted), a project's in .coi/profiles/NAME/ (untrusted
 * until 'coi trust'), and two are built in (default, hardened). */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "cmd/table.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/term.h"

const struct verb verb_profile;

struct profile_args {
	const char *workspace, *inherits;
	bool project, force;
	int json;
};

/* ---- list -------------------------------------------------------------------------------- */

static int add_entry(json_t *arr, struct table *t, const char *name, const char *scope,
                     const char *path)
{
	const char *row[] = {name, scope, path, NULL};

	if (arr)
		return json_array_append_new(arr, json_pack("{s:s, s:s, s:s?}", "name", name,
		                                            "scope", scope, "path", path));
	return table_add(t, row);
}

static int cmd_list(const struct profile_args *a)
{
	static const char *const headers[] = {"NAME", "SCOPE", "FILE", NULL};
	_cleanup_json_ json_t *arr = a->json ? json_array() : NULL;
	_cleanup_strv_free_ char **names = NULL;
	struct table *t = a->json ? NULL : table_new(headers);
	int r = (arr || t) ? config_profile_names(a->workspace, &names) : -ENOMEM;

	strv_foreach(n, names) {
		_cleanup_free_ char *path = NULL;
		bool project = false;

		if (r < 0)
			break;
		/* defined twice (the user's and the project's): shown, config says why it fails */
		(void)config_profile_find(*n, a->workspace, &path, &project, NULL);
		r = add_entry(arr, t, *n, !path ? "built-in" : project ? "project" : "user", path);
	}
	if (r < 0) {
		table_free(t);
		return cmd_failf("out of memory");
	}
	return table_or_json_print(t, arr);
}

/* ---- show, create, edit, delete ---------------------------------------------------------- */

static int cmd_show(const struct profile_args *a, const char *name)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	_cleanup_free_ char *path = NULL;
	struct coi_error err = {0};
	bool project;

	if (config_profile_find(name, a->workspace, &path, &project, &err) < 0)
		return cmd_fail(&err);
	if (!path) {
		printf("# profile %s (built in)\n%s", name, config_builtin_profile(name));
	} else {
		_cleanup_free_ char *text = NULL;

		if (read_file(path, &b, &err) < 0)
			return cmd_fail(&err);
		/* a project's file comes with the repository: nothing in it acts on the terminal */
		text = term_escape_dup(buf_str(&b), true);
		printf("# profile %s (%s: %s)\n%s", name, project ? "project" : "user",
		       output_safe(path), text ? text : "");
	}
	if (!cmd_quiet())
		fprintf(stderr,
		        "coi: 'coi config show --profile %s' shows the configuration it "
		        "makes\n",
		        name);
	return EXIT_OK;
}

/* Load the configuration with the profile, as a session would: its errors, by file:line. */
static int validate(const struct profile_args *a, const char *name)
{
	_cleanup_strv_free_ char **warnings = NULL;
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	int r = config_load(&(struct config_load_opts){.workspace = a->workspace,
	                                               .profile = name,
	                                               .trust_all = true},
	                    &cfg, &warnings, &err);

	config_free(cfg);
	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	if (r < 0)
		return cmd_fail(&err);
	return EXIT_OK;
}

static int cmd_create(const struct profile_args *a, const char *name)
{
	_cleanup_free_ char *path = NULL, *dir = NULL, *text = NULL, *existing = NULL;
	struct coi_error err = {0};
	bool project;
	int r;

	r = config_profile_find(name, a->workspace, &existing, &project, &err);
	if (r >= 0)
		return cmd_failf("profile '%s' exists already (%s)", name,
		                 existing ? existing : "built in");
	if (r != -ENOENT)
		return cmd_fail(&err);
	coi_error_clear(&err);
	if (a->inherits &&
	    config_profile_find(a->inherits, a->workspace, &existing, &project, &err) < 0)
		return cmd_fail(&err);
	if (config_profile_path(name, a->workspace, a->project, &path, &err) < 0)
		return cmd_fail(&err);
	dir = strdup(path);
	if (!dir ||
	    asprintf(&text,
	             "# coi profile %s: any key of config.toml, applied over the user's and\n"
	             "# the project's files by 'coi shell --profile %s' ('coi config show\n"
	             "# --profile %s' shows the result; docs/configuration.md lists the keys).\n"
	             "%s%s%s\n"
	             "# [network]\n"
	             "# mode = \"allowlist\"\n"
	             "# allowed_domains = [\"example.com\"]\n",
	             name, name, name, a->inherits ? "inherits = \"" : "",
	             a->inherits ? a->inherits : "", a->inherits ? "\"\n" : "") < 0)
		return cmd_failf("out of memory");
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0700) < 0)
		return cmd_failf("cannot create '%s': %s", dir, strerror(errno));
	if (write_file_atomic(path, text, strlen(text), 0600, &err) < 0)
		return cmd_fail(&err);
	printf("created %s\n", path);
	return validate(a, name);
}

/* $VISUAL, else $EDITOR, else vi, on path (through sh, so "code --wait" works). */
static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	char *argv[] = {"sh", "-c", "$COI_EDITOR \"$1\"", "sh", (char *)path, NULL};
	posix_spawnattr_t attr;
	sigset_t dfl;
	int status;
	pid_t pid;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (setenv("COI_EDITOR", ed && *ed ? ed : "vi", 1) < 0 || posix_spawnattr_init(&attr))
		return -ENOMEM;
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE); /* coi ignores it; the editor should not */
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	status = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (status)
		return -status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECANCELED;
}

static int cmd_edit(const struct profile_args *a, const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct coi_error err = {0};
	bool project;
	int r;

	if (config_profile_find(name, a->workspace, &path, &project, &err) < 0)
		return cmd_fail(&err);
	if (!path)
		return cmd_failf(
		        "profile '%s' is built in: 'coi profile create NAME --inherits %s' "
		        "makes one of your own from it",
		        name, name);
	r = run_editor(path);
	if (r < 0)
		return cmd_failf("the editor failed (%s); '%s' is as it left it", strerror(-r),
		                 path);
	return validate(a, name);
}

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return (flag == FTW_DP ? rmdir(p) : unlink(p)) < 0 ? -1 : 0;
}

static int cmd_delete(const struct profile_args *a, const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct coi_error err = {0};
	char q[128];
	bool project;

	if (config_profile_find(name, a->workspace, &path, &project, &err) < 0)
		return cmd_fail(&err);
	if (!path)
		return cmd_failf("profile '%s' is built in: there is nothing to delete", name);
	(void)snprintf(q, sizeof(q), "Delete profile '%s' (%s)?", name,
	               project ? "the project's" : "yours");
	if (!a->force && !output_confirm(q)) {
		fprintf(stderr, "coi: cancelled, nothing done\n");
		return EXIT_FAIL;
	}
	*strrchr(path, '/') = '\0'; /* the profile's own directory, with its context file */
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return cmd_failf("cannot remove '%s': %s", path, strerror(errno));
	printf("deleted profile %s (%s)\n", name, path);
	return EXIT_OK;
}

/* ---- the verb ---------------------------------------------------------------------------- */

static int parse(int argc, char **argv, struct profile_args *a)
{
	static const struct option opts[] = {
	        {"workspace", required_argument, NULL, 'w'},
	        {"inherits", required_argument, NULL, 'i'},
	        {"user", no_argument, NULL, 'u'},
	        {"project", no_argument, NULL, 'p'},
	        {"force", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "w:fh", opts, NULL)) != -1) { /* options anywhere */
		switch (o) {
		case 'w':
			a->workspace = optarg;
			break;
		case 'i':
			a->inherits = optarg;
			break;
		case 'u':
			a->project = false;
			break;
		case 'p':
			a->project = true;
			break;
		case 'f':
			a->force = true;
			break;
		case 'j':
			a->json = 1;
			break;
		case 'F':
			if (cmd_parse_format(&verb_profile, optarg, &a->json))
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(&verb_profile);
		default:
			return cmd_bad_option(&verb_profile, argv);
		}
	}
	return -1;
}

static int run(int argc, char **argv)
{
	struct profile_args a = {0};
	_cleanup_free_ char *ws = NULL;
	struct coi_error err = {0};
	const char *sub, *name;
	int r;

	if (argc < 2)
		return cmd_usage_error(&verb_profile, "missing subcommand");
	sub = argv[1];
	if (strcmp(sub, "help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		return cmd_help(&verb_profile);
	r = parse(argc - 1, argv + 1, &a);
	if (r >= 0)
		return r;
	argc -= 1 + optind;
	argv += 1 + optind;
	if (path_absolute(a.workspace ? a.workspace : ".", &ws, &err) < 0)
		return cmd_fail(&err);
	a.workspace = ws;
	if (strcmp(sub, "list") == 0)
		return argc ? cmd_usage_error(&verb_profile, "list takes no argument")
		            : cmd_list(&a);
	if (argc != 1)
		return cmd_usage_error(&verb_profile, "coi profile %s takes one profile NAME", sub);
	name = argv[0];
	if (strcmp(sub, "show") == 0 || strcmp(sub, "info") == 0)
		return cmd_show(&a, name);
	if (strcmp(sub, "create") == 0)
		return cmd_create(&a, name);
	if (strcmp(sub, "edit") == 0)
		return cmd_edit(&a, name);
	if (strcmp(sub, "delete") == 0)
		return cmd_delete(&a, name);
	return cmd_usage_error(&verb_profile, "unknown subcommand '%s'", sub);
}

const struct verb verb_profile = {
        .name = "profile",
        .run = run,
        .summary = "list, show, create, edit and delete configuration profiles",
        .usage =
                "Usage: coi profile SUBCOMMAND [-w DIR] ...\n"
                "\n"
                "  list [--json | --format text|json]\n"
                "                       the built-in profiles, yours and the project's\n"
                "  show NAME            print profile NAME (also: info)\n"
                "  create NAME [--inherits PROFILE] [--user|--project]\n"
                "                       a new profile from a commented template: yours\n"
                "                       (~/.coi/profiles/NAME/config.toml) or the project's\n"
                "                       (.coi/profiles/NAME/config.toml, used once approved)\n"
                "  edit NAME            open it in $VISUAL or $EDITOR (else vi), then check it\n"
                "  delete NAME [--force]\n"
                "                       remove it (on a terminal coi asks first)\n"
                "\n"
                "A profile is a configuration file applied over yours and the project's by\n"
                "--profile NAME or [defaults] profile; 'coi config show --profile NAME' shows the\n"
                "result. -w DIR: the project (default: the current directory).",
};
