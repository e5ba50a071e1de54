/* SPDX-License-Identifier: MIT */
#include "cmd/subcmd.h"

#include <getopt.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"

static const struct subcmd *find(const struct subcmd_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->subs[i].name, name) == 0)
			return &t->subs[i];
	return NULL;
}

int subcmd_dispatch(const struct subcmd_table *t, int argc, char **argv)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	const struct subcmd *s;
	int r;

	if (argc < 2)
		return cmd_usage_error(t->verb, "missing subcommand");
	s = find(t, argv[1]);
	if (s && s->verb)
		return s->verb->run(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || cmd_wants_help(argc, argv))
		return cmd_help(t->verb);
	if (!s)
		return cmd_usage_error(t->verb, "unknown subcommand '%s'", argv[1]);
	argc--;
	argv++;
	if (t->parse) {
		r = t->parse(argc, argv, t->args);
		if (r)
			return r;
		argc -= optind;
		argv += optind;
	}
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	incus_interrupt_on_signals();
	return s->run(c, t->args, argc, argv);
}
