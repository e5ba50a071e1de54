/* SPDX-License-Identifier: MIT */
/* coi info: a saved session's metadata (default: the newest saved for this workspace). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "session/saved.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

const struct verb verb_info;

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_free_ char *ws = NULL;
	struct saved_entry *l = NULL, *pick = NULL;
	struct coi_error err = {0};
	size_t n = 0;
	int o, json = 0;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (o == 'j')
			json = 1;
		else if (o == 'F' && cmd_parse_format(&verb_info, optarg, &json))
			return EXIT_USAGE;
		else if (o == 'F')
			continue;
		else if (o == 'h')
			return cmd_help(&verb_info);
		else
			return cmd_bad_option(&verb_info, argv);
	}
	if (argc - optind > 1)
		return cmd_usage_error(&verb_info, "info takes at most one session id");
	if (path_absolute(".", &ws, &err) < 0 || saved_list(&l, &n, &err) < 0)
		return cmd_fail(&err);
	for (size_t i = 0; i < n; i++) {
		bool match = optind < argc ? strcmp(l[i].id, argv[optind]) == 0
		                           : strcmp(l[i].workspace, ws) == 0;
		if (match)
			pick = &l[i]; /* oldest first: the last match is the newest */
	}
	if (!pick) {
		saved_list_release(l, n);
		return cmd_failf(optind < argc
		                         ? "no saved session '%s' (coi list --all)"
		                         : "no saved session for this workspace%s (coi list --all)",
		                 optind < argc ? argv[optind] : "");
	}
	if (json) {
		_cleanup_json_ json_t *j = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:s}", "session_id", pick->id, "tool",
		        pick->tool, "workspace", pick->workspace, "saved_at", pick->saved_at,
		        "container_name", pick->container, "path", pick->dir);
		_cleanup_free_ char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

		printf("%s\n", s ? s : "{}");
	} else {
		printf("Session:    %s\nTool:       %s\nWorkspace:  %s\nSaved at:   %s\n"
		       "Container:  %s\nPath:       %s\nResume:     coi shell --resume=%s\n",
		       output_safe(pick->id), output_safe(pick->tool), output_safe(pick->workspace),
		       output_safe(pick->saved_at), output_safe(pick->container),
		       output_safe(pick->dir), output_safe(pick->id));
	}
	saved_list_release(l, n);
	return EXIT_OK;
}

const struct verb verb_info = {
        .name = "info",
        .run = run,
        .summary = "show a saved session",
        .usage = "Usage: coi info [ID] [--json | --format text|json]\n"
                 "\n"
                 "Show the metadata of saved session ID (default: the newest one saved for the\n"
                 "current workspace): tool, workspace, when it was saved, and how to resume it.\n"
                 "\n"
                 "  --json   print JSON",
};
