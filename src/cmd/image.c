/* SPDX-License-Identifier: MIT */
/* coi image: list, info, exists, delete, publish, import over the Incus client. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "cmd/subcmd.h"
#include "cmd/table.h"
#include "incus/incus.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_image;

#define USAGE_ERROR(...) cmd_usage_error(&verb_image, __VA_ARGS__)
#define BAD_OPTION(argv) cmd_bad_option(&verb_image, argv)

struct image_args {
	bool json, all;
	const char *prefix, *description, *compression, *alias;
};

static int parse(int argc, char **argv, void *args)
{
	struct image_args *a = args;
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"all", no_argument, NULL, 'a'},
	        {"prefix", required_argument, NULL, 'p'},
	        {"description", required_argument, NULL, 'd'},
	        {"compression", required_argument, NULL, 'C'},
	        {"alias", required_argument, NULL, 'A'},
	        {0},
	};
	int o;

	optind = 0;
	while ((o = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			a->json = true;
			break;
		case 'F':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0 &&
			    strcmp(optarg, "text") != 0)
				return USAGE_ERROR("--format must be table or json");
			a->json = strcmp(optarg, "json") == 0;
			break;
		case 'a':
			a->all = true;
			break;
		case 'p':
			a->prefix = optarg;
			break;
		case 'd':
			a->description = optarg;
			break;
		case 'C':
			a->compression = optarg;
			break;
		case 'A':
			a->alias = optarg;
			break;
		default:
			return BAD_OPTION(argv);
		}
	}
	return 0;
}

static json_t *image_json(const struct incus_image *i)
{
	json_t *aliases = json_array();

	strv_foreach(a, i->aliases) {
		json_array_append_new(aliases, json_string(*a));
	}
	return json_pack("{s:s, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:b}", "fingerprint",
	                 i->fingerprint, "aliases", aliases, "description", i->description,
	                 "architecture", i->architecture, "created_at", i->created_at, "os", i->os,
	                 "release", i->release, "size", (json_int_t)i->size, "public", i->public);
}

static int print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s)
		return cmd_failf("out of memory");
	printf("%s\n", s);
	free(s);
	return EXIT_OK;
}

static bool alias_matches(const struct incus_image *i, const char *prefix)
{
	strv_foreach(a, i->aliases) {
		if (strncmp(*a, prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

/* Every alias of an image, not only its first: the build names an image by its date and
 * coi-default, and the one sessions use must show. */
static int print_table(struct incus_image **l, int n, const struct image_args *a)
{
	static const char *const headers[] = {"ALIASES", "FINGERPRINT", "SIZE",
	                                      "CREATED", "DESCRIPTION", NULL};
	struct table *t = table_new(headers);

	if (!t)
		return cmd_failf("out of memory");
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *aliases = strv_join(l[i]->aliases, ", ");
		char fp[13], size[32], created[11];
		const char *row[] = {aliases && *aliases ? aliases : NULL,
		                     fp,
		                     size,
		                     created,
		                     l[i]->description,
		                     NULL};

		if ((a->prefix && !alias_matches(l[i], a->prefix)) ||
		    (!a->all && !l[i]->aliases[0]))
			continue;
		(void)snprintf(fp, sizeof(fp), "%.12s", l[i]->fingerprint);
		(void)snprintf(size, sizeof(size), "%.1f MiB", (double)l[i]->size / 1048576.0);
		(void)snprintf(created, sizeof(created), "%.10s",
		               l[i]->created_at ? l[i]->created_at : "");
		if (table_add(t, row) < 0) {
			table_free(t);
			return cmd_failf("out of memory");
		}
	}
	table_print(t, stdout);
	table_free(t);
	return EXIT_OK;
}

static int cmd_list(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct image_args *a = args;
	_cleanup_(incus_image_list_freep) struct incus_image **l = NULL;
	struct coi_error err = {0};
	json_t *arr;
	int n;

	if (argc != 0)
		return USAGE_ERROR("unexpected argument '%s'", argv[0]);
	n = incus_image_list(c, &l, &err);
	if (n < 0)
		return cmd_fail(&err);
	if (!a->json)
		return print_table(l, n, a);
	arr = json_array();
	for (int i = 0; arr && i < n; i++)
		if ((!a->prefix || alias_matches(l[i], a->prefix)) && (a->all || l[i]->aliases[0]))
			json_array_append_new(arr, image_json(l[i]));
	return print_json(arr);
}

static int cmd_info(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct image_args *a = args;
	_cleanup_(incus_image_freep) struct incus_image *i = NULL;
	_cleanup_free_ char *aliases = NULL;
	struct coi_error err = {0};

	if (argc != 1)
		return USAGE_ERROR("usage: coi image info IMAGE [--json]");
	if (incus_image_get(c, argv[0], &i, &err) < 0)
		return cmd_fail(&err);
	if (a->json)
		return print_json(image_json(i));
	aliases = strv_join(i->aliases, ", ");
	printf("Fingerprint: %s\nAliases: %s\nDescription: %s\nArchitecture: %s\nCreated: %s\n"
	       "Size: %lld bytes\n",
	       i->fingerprint, output_safe(aliases ? aliases : ""),
	       output_safe(i->description ? i->description : ""),
	       i->architecture ? i->architecture : "", i->created_at ? i->created_at : "",
	       (long long)i->size);
	return EXIT_OK;
}

static int cmd_exists(struct incus_client *c, const void *args, int argc, char **argv)
{
	struct coi_error err = {0};
	int r;

	if (argc != 1)
		return USAGE_ERROR("usage: coi image exists ALIAS");
	r = incus_image_alias_exists(c, argv[0], &err);
	return r < 0 ? cmd_fail(&err) : r ? EXIT_OK : EXIT_FAIL;
}

static int cmd_delete(struct incus_client *c, const void *args, int argc, char **argv)
{
	struct coi_error err = {0};

	if (argc != 1)
		return USAGE_ERROR("usage: coi image delete ALIAS");
	return incus_image_delete(c, argv[0], &err) < 0 ? cmd_fail(&err) : EXIT_OK;
}

static int cmd_publish(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct image_args *a = args;
	struct incus_publish_opts o = {.description = a->description,
	                               .compression = a->compression};
	struct output_progress bar;
	struct incus_wait w = {.progress = output_progress_incus, .userdata = &bar};
	_cleanup_free_ char *fp = NULL;
	struct coi_error err = {0};
	int r;

	if (argc != 2)
		return USAGE_ERROR("usage: coi image publish CONTAINER ALIAS");
	o.instance = argv[0];
	o.alias = argv[1];
	output_progress_begin(&bar, "publishing");
	r = incus_image_publish(c, &o, &w, &fp, &err);
	output_progress_end(&bar);
	if (r < 0)
		return cmd_fail(&err);
	printf("%s\n", fp);
	return EXIT_OK;
}

static int cmd_import(struct incus_client *c, const void *args, int argc, char **argv)
{
	const struct image_args *a = args;
	struct output_progress bar;
	struct incus_wait w = {.progress = output_progress_incus, .userdata = &bar};
	_cleanup_free_ char *fp = NULL;
	struct coi_error err = {0};
	int r;

	if (argc != 2)
		return USAGE_ERROR("usage: coi image import METADATA ROOTFS [--alias A]");
	output_progress_begin(&bar, "importing");
	r = incus_image_import(c, argv[0], argv[1], a->alias, &w, &fp, &err);
	output_progress_end(&bar);
	if (r < 0)
		return cmd_fail(&err);
	printf("%s\n", fp);
	return EXIT_OK;
}

extern const struct verb verb_image_cleanup;

/* clang-format off */
static const struct subcmd subcmds[] = {
	{ "list",    .run = cmd_list },
	{ "info",    .run = cmd_info },
	{ "exists",  .run = cmd_exists },
	{ "delete",  .run = cmd_delete },
	{ "publish", .run = cmd_publish },
	{ "import",  .run = cmd_import },
	{ "cleanup", .verb = &verb_image_cleanup },
};
/* clang-format on */

static int run(int argc, char **argv)
{
	struct image_args a = {0};
	const struct subcmd_table t = {
	        .verb = &verb_image,
	        .subs = subcmds,
	        .n = ELEMENTSOF(subcmds),
	        .parse = parse,
	        .args = &a,
	};

	return subcmd_dispatch(&t, argc, argv);
}

const struct verb verb_image = {
        .name = "image",
        .run = run,
        .summary = "list, inspect, publish, import and delete images",
        .usage =
                "Usage: coi image SUBCOMMAND ...\n"
                "\n"
                "  list [-a|--all] [--prefix P] [--format table|json] [--json]\n"
                "                       images with an alias (--all: every image)\n"
                "  info IMAGE [--json]\n"
                "  exists ALIAS         exit 0 if the alias exists, 1 if not\n"
                "  delete ALIAS\n"
                "  publish CONTAINER ALIAS [--description D] [--compression C]\n"
                "  import METADATA ROOTFS [--alias A]\n"
                "  cleanup [ALIAS] [--keep N]\n"
                "                       delete old versions of ALIAS (default coi-default)\n"
                "\n"
                "publish and import print the new image's fingerprint; an existing alias is moved\n"
                "to the new image.",
};
