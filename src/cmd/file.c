/* SPDX-License-Identifier: MIT */
/* coi file: push and pull files between the host and a container. Pull never follows or creates
 * symlinks and drops special files (the client guarantees it); the count is reported. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"
#include "util/error.h"

const struct verb verb_file;

/* "CTR:/abs/path" -> name (NUL-terminated in place) and path. */
static int split_remote(char *spec, char **ret_name, char **ret_path)
{
	char *colon = strchr(spec, ':');

	if (!colon || colon == spec || colon[1] != '/')
		return cmd_usage_error(&verb_file, "'%s' is not CONTAINER:/ABSOLUTE/PATH", spec);
	*colon = '\0';
	*ret_name = spec;
	*ret_path = colon + 1;
	return 0;
}

static int parse_id(const char *s, const char *what, int base, int64_t *ret)
{
	char *end;
	long long v = strtoll(s, &end, base);

	if (*end || end == s || v < 0)
		return cmd_usage_error(&verb_file, "--%s wants a number, not '%s'", what, s);
	*ret = v;
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"recursive", no_argument, NULL, 'r'}, {"uid", required_argument, NULL, 'u'},
	        {"gid", required_argument, NULL, 'g'}, {"mode", required_argument, NULL, 'm'},
	        {"help", no_argument, NULL, 'h'},      {0},
	};
	_cleanup_incus_client_ struct incus_client *c = NULL;
	struct incus_file_attrs a = {-1, -1, -1};
	struct coi_error err = {0};
	bool recursive = false, push;
	char *name = NULL, *path = NULL;
	int64_t mode = -1;
	int o, r;

	if (argc < 2 || (strcmp(argv[1], "push") != 0 && strcmp(argv[1], "pull") != 0))
		return cmd_wants_help(argc, argv) ? cmd_help(&verb_file)
		                                  : cmd_usage_error(&verb_file, "push or pull?");
	push = strcmp(argv[1], "push") == 0;
	optind = 0;
	while ((o = getopt_long(argc - 1, argv + 1, "rh", opts, NULL)) != -1) {
		r = 0;
		if (o == 'r')
			recursive = true;
		else if (o == 'u')
			r = parse_id(optarg, "uid", 10, &a.uid);
		else if (o == 'g')
			r = parse_id(optarg, "gid", 10, &a.gid);
		else if (o == 'm')
			r = parse_id(optarg, "mode", 8, &mode);
		else if (o == 'h')
			return cmd_help(&verb_file);
		else
			return cmd_bad_option(&verb_file, argv);
		if (r)
			return r;
	}
	a.mode = (int)mode;
	if (argc - 1 - optind != 2)
		return cmd_usage_error(&verb_file, "%s wants a source and a destination", argv[1]);
	r = split_remote(argv[1 + optind + (push ? 1 : 0)], &name, &path);
	if (r)
		return r;
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	incus_interrupt_on_signals();
	if (push)
		r = incus_file_push(c, name, argv[1 + optind], path, recursive, &a, &err);
	else
		r = incus_file_pull(c, name, path, argv[2 + optind], recursive, &err);
	if (r < 0)
		return cmd_fail(&err);
	if (r > 0)
		fprintf(stderr,
		        "coi: dropped %d symlink(s) or special file(s) from the pulled tree\n", r);
	return EXIT_OK;
}

const struct verb verb_file = {
        .name = "file",
        .run = run,
        .summary = "copy files into or out of a container",
        .usage =
                "Usage: coi file push [-r] [--uid N] [--gid N] [--mode OCTAL] LOCAL CONTAINER:/PATH\n"
                "       coi file pull [-r] CONTAINER:/PATH LOCAL\n"
                "\n"
                "push keeps each file's mode unless --mode is given; owner is root unless --uid/--gid.\n"
                "pull never follows or creates symlinks and drops special files: a container cannot\n"
                "write outside LOCAL. setuid/setgid bits are stripped.",
};
