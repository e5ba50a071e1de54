/* SPDX-License-Identifier: MIT */
/* coi config: 'show' prints the effective configuration (TOML, or JSON with --json), each value
 * with where it came from; 'validate [FILE]' checks one file and exits 0 or 1. */
#include "config/config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "session/tool.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

const struct verb verb_config;

static void print_warnings(char **w)
{
	cmd_warnings(w);
}

static int show(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"workspace", required_argument, NULL, 'w'},
	        {"profile", required_argument, NULL, 'p'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct config_load_opts o = {0};
	struct coi_config *cfg = NULL;
	_cleanup_strv_free_ char **warnings = NULL;
	_cleanup_free_ char *text = NULL;
	struct coi_error err = {0};
	int c, json = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'F':
			if (cmd_parse_format(&verb_config, optarg, &json))
				return EXIT_USAGE;
			break;
		case 'w':
			o.workspace = optarg;
			break;
		case 'p':
			o.profile = optarg;
			break;
		case 'h':
			return cmd_help(&verb_config);
		default:
			return cmd_bad_option(&verb_config, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&verb_config, "unexpected argument '%s'", argv[optind]);
	if (config_load(&o, &cfg, &warnings, &err) < 0)
		return cmd_fail(&err);
	print_warnings(warnings);
	text = json ? config_to_json(cfg) : config_to_toml(cfg);
	config_free(cfg);
	if (!text)
		return cmd_failf("out of memory");
	fputs(text, stdout);
	if (json)
		putchar('\n');
	return EXIT_OK;
}

/* What only the whole configuration tells: the file as the user layer of this directory's
 * configuration, so a [defaults] profile that does not exist fails, and [tool] name as coi shell
 * reads it. */
static int check_as_used(const char *file)
{
	_cleanup_strv_free_ char **warnings = NULL;
	struct coi_config *cfg = NULL;
	struct coi_error err = {0};
	const char *name, *near;

	if (config_load(&(struct config_load_opts){.user_file = file}, &cfg, &warnings, &err) < 0) {
		fprintf(stderr, "coi: %s: %s\n", file, coi_error_message(&err));
		return EXIT_FAIL;
	}
	name = cfg->tool.name;
	near = name && !tool_find(name) ? tool_suggest(name) : NULL;
	if (name && !tool_find(name) && !cfg->tool.binary && !tool_command_ok(name)) {
		fprintf(stderr,
		        "coi: %s: [tool] name '%s' is neither one of coi's agents (%s) nor a "
		        "command name\n",
		        file, name, tool_names());
		config_free(cfg);
		return EXIT_FAIL;
	}
	if (name && !tool_find(name))
		fprintf(stderr,
		        "coi: warning: %s: [tool] name '%s' is not one of coi's agents (%s)%s%s%s: "
		        "coi shell runs the command '%s'\n",
		        file, name, tool_names(), near ? "; did you mean '" : "", near ? near : "",
		        near ? "'?" : "", cfg->tool.binary ? cfg->tool.binary : name);
	config_free(cfg);
	return EXIT_OK;
}

static int validate(int argc, char **argv)
{
	_cleanup_strv_free_ char **warnings = NULL;
	_cleanup_free_ char *dflt = NULL, *dir = NULL;
	struct coi_error err = {0};
	const char *file;

	if (argc > 2)
		return cmd_usage_error(&verb_config, "validate takes at most one file");
	if (argc == 2) {
		file = argv[1];
	} else {
		dir = coi_dir();
		dflt = dir ? path_join(dir, "config.toml") : NULL;
		if (!dflt)
			return cmd_failf("out of memory");
		file = dflt;
	}
	if (config_validate_file(file, &warnings, &err) < 0)
		return cmd_fail(&err);
	print_warnings(warnings);
	if (check_as_used(file) != EXIT_OK)
		return EXIT_FAIL;
	printf("%s: valid\n", file);
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return argc < 2 ? cmd_usage_error(&verb_config, "missing subcommand")
		                : cmd_help(&verb_config);
	if (strcmp(argv[1], "show") == 0)
		return show(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return validate(argc - 1, argv + 1);
	return cmd_usage_error(&verb_config, "unknown subcommand '%s'", argv[1]);
}

const struct verb verb_config = {
        .name = "config",
        .run = run,
        .summary = "show the effective configuration, or check a config file",
        .usage = "Usage: coi config show [--json | --format text|json] [-w DIR] [--profile NAME]\n"
                 "       coi config validate [FILE]\n"
                 "\n"
                 "show      print the configuration in effect for the workspace (default: the\n"
                 "          current directory) as TOML, each value annotated with where it came\n"
                 "          from; --json prints {\"key\": {\"value\": ..., \"origin\": ...}}\n"
                 "validate  check FILE (default: ~/.coi/config.toml); exit 0 when valid, 1 when\n"
                 "          not. Unknown keys are warnings.",
};
