/* SPDX-License-Identifier: MIT */
/* coi trust / coi untrust: approve a project's .coi/config.toml (or a project profile) so that
 * its settings that weaken isolation apply; the approval pins the file's current content. */
#include "config/trust.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/table.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

const struct verb verb_trust;
const struct verb verb_untrust;

/* The file to act on: FILE, or DIR/.coi/config.toml for a directory, or ./.coi/config.toml. */
static char *target(const char *arg)
{
	struct stat st;

	if (!arg)
		arg = ".";
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		return path_join(arg, ".coi/config.toml");
	return strdup(arg);
}

static int print_json(const struct trust_entry *e, size_t n)
{
	_cleanup_json_ json_t *arr = json_array();
	_cleanup_free_ char *s = NULL;

	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "path", e[i].path,
		                                         "state", trust_state_to_string(e[i].state),
		                                         "sha256", e[i].sha256, "approved_at",
		                                         e[i].approved_at)) < 0)
			return cmd_failf("out of memory");
	s = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
	if (!s)
		return cmd_failf("out of memory");
	printf("%s\n", s);
	return EXIT_OK;
}

static int print_table(const struct trust_entry *e, size_t n)
{
	static const char *const headers[] = {"STATE", "APPROVED", "SHA256", "FILE", NULL};
	struct table *t = table_new(headers);
	int r = EXIT_OK;

	if (!t)
		return cmd_failf("out of memory");
	for (size_t i = 0; i < n && r == EXIT_OK; i++) {
		char sha[13];
		const char *row[] = {trust_state_to_string(e[i].state), e[i].approved_at, sha,
		                     e[i].path, NULL};

		(void)snprintf(sha, sizeof(sha), "%.12s", e[i].sha256);
		if (table_add(t, row) < 0)
			r = cmd_failf("out of memory");
	}
	if (r == EXIT_OK)
		table_print(t, stdout);
	table_free(t);
	return r;
}

static int list(bool json)
{
	struct trust_entry *e = NULL;
	struct coi_error err = {0};
	size_t n = 0;
	int r;

	if (trust_list(&e, &n, &err) < 0)
		return cmd_fail(&err);
	if (n == 0 && !json) {
		fprintf(stderr, "coi: no approved project files\n");
		r = EXIT_OK;
	} else {
		r = json ? print_json(e, n) : print_table(e, n);
	}
	trust_entries_free(e, n);
	return r;
}

static int run_trust(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"list", no_argument, NULL, 'l'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_free_ char *file = NULL;
	struct coi_error err = {0};
	char sha[SHA256_HEX_LEN + 1];
	int c, do_list = 0, json = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+lh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			do_list = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'F':
			if (cmd_parse_format(&verb_trust, optarg, &json))
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(&verb_trust);
		default:
			return cmd_bad_option(&verb_trust, argv);
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error(&verb_trust, "unexpected argument '%s'", argv[optind + 1]);
	if (json && !do_list)
		return cmd_usage_error(&verb_trust, "--json goes with --list");
	if (do_list)
		return list(json);
	file = target(argv[optind]);
	if (!file)
		return cmd_failf("out of memory");
	if (trust_approve(file, sha, &err) < 0)
		return cmd_fail(&err);
	printf("approved '%s' (sha256 %.12s); any change to it needs a new 'coi trust'\n", file,
	       sha);
	return EXIT_OK;
}

static int run_untrust(int argc, char **argv)
{
	_cleanup_free_ char *file = NULL;
	struct coi_error err = {0};
	int r;

	r = cmd_parse_plain(&verb_untrust, argc, argv);
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return cmd_usage_error(&verb_untrust, "unexpected argument '%s'", argv[optind + 1]);
	file = target(optind < argc ? argv[optind] : NULL);
	if (!file)
		return cmd_failf("out of memory");
	r = trust_revoke(file, &err);
	if (r < 0)
		return cmd_fail(&err);
	printf(r ? "revoked the approval of '%s'\n" : "'%s' was not approved\n", file);
	return EXIT_OK;
}

const struct verb verb_trust = {
        .name = "trust",
        .run = run_trust,
        .summary = "approve a project's .coi/config.toml",
        .usage = "Usage: coi trust [DIR|FILE]\n"
                 "       coi trust --list [--json | --format text|json]\n"
                 "\n"
                 "A project's .coi/config.toml comes with the repository, so settings in it that\n"
                 "would weaken isolation (network mode open, block_* off, writable hooks, mounts\n"
                 "outside the workspace, ...) are ignored until you approve the file. Review it,\n"
                 "then run 'coi trust' in the project (or name the directory or file). The\n"
                 "approval pins the file's content: any change needs a new approval.\n"
                 "\n"
                 "  --list    list approvals: approved, changed (needs a new approval) or missing\n"
                 "  --json    with --list: a JSON array of {path, state, sha256, approved_at}",
};

const struct verb verb_untrust = {
        .name = "untrust",
        .run = run_untrust,
        .summary = "revoke the approval of a project's .coi/config.toml",
        .usage = "Usage: coi untrust [DIR|FILE]\n"
                 "\n"
                 "Forget the approval given by 'coi trust' (default: ./.coi/config.toml).",
};
