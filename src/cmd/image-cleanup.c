/* SPDX-License-Identifier: MIT */
/* coi image cleanup: delete old versions of a built image (ALIAS-YYYYMMDD-HHMMSS), keeping the
 * newest N and whatever ALIAS points to. Not in the verb table: 'coi image' dispatches its
 * 'cleanup' subcommand here (verb_image_cleanup.run(argc - 1, argv + 1)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "image/image.h"
#include "incus/incus.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_image_cleanup;

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"keep", required_argument, NULL, 'k'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_strv_free_ char **deleted = NULL;
	struct coi_error err = {0};
	const char *alias = IMAGE_DEFAULT_ALIAS;
	int ch, keep = IMAGE_DEFAULT_KEEP, r;
	char *end;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+k:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			errno = 0;
			keep = (int)strtol(optarg, &end, 10);
			if (errno || *end || keep < 1 || keep > 1000)
				return cmd_usage_error(&verb_image_cleanup,
				                       "--keep needs a number >= 1, not '%s'",
				                       optarg);
			break;
		case 'h':
			return cmd_help(&verb_image_cleanup);
		default:
			return cmd_bad_option(&verb_image_cleanup, argv);
		}
	}
	if (optind < argc)
		alias = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(&verb_image_cleanup, "unexpected argument '%s'",
		                       argv[optind]);

	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	r = image_cleanup(c, alias, keep, &deleted, &err);
	if (r < 0)
		return cmd_fail(&err);
	strv_foreach(d, deleted)
		printf("deleted %s\n", *d);
	printf("%d old version%s of %s deleted, up to %d kept\n", r, r == 1 ? "" : "s", alias,
	       keep);
	return EXIT_OK;
}

const struct verb verb_image_cleanup = {
        .name = "image cleanup",
        .run = run,
        .summary = "delete old versions of a built image",
        .usage = "Usage: coi image cleanup [ALIAS] [--keep N]\n"
                 "\n"
                 "Delete old versions of ALIAS (default coi-default): the images named\n"
                 "ALIAS-YYYYMMDD-HHMMSS that 'coi build' made. The newest N (default 3) are kept,\n"
                 "and so is the image ALIAS points to.\n"
                 "\n"
                 "  -k, --keep N   versions to keep (at least 1)",
};
