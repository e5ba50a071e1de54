/* SPDX-License-Identifier: MIT */
/* session-cmd.c: see session-cmd.h. */
#include "cmd/session-cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incus/incus.h"
#include "session/protect.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

int session_cmd_parse(const struct verb *v, int argc, char **argv, struct session_cmd *sc)
{
	static const struct option opts[] = {
	        {"workspace", required_argument, NULL, 'w'},
	        {"slot", required_argument, NULL, 'S'},
	        {"persistent", no_argument, NULL, 'P'},
	        {"image", required_argument, NULL, 'I'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	int c;

	sc->persistent = -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+w:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'w':
			sc->workspace_arg = optarg;
			break;
		case 'S':
			sc->slot = (int)strtol(optarg, &end, 10);
			if (*end || sc->slot < 1 || sc->slot > SESSION_SLOT_MAX) {
				cmd_usage_error(v, "--slot takes a number from 1 to %d",
				                SESSION_SLOT_MAX);
				return -EXIT_USAGE;
			}
			break;
		case 'P':
			sc->persistent = 1;
			break;
		case 'I':
			sc->image = optarg;
			break;
		case 'h':
			cmd_help(v);
			return 0;
		default:
			cmd_usage_error(v, "invalid option");
			return -EXIT_USAGE;
		}
	}
	return 1;
}

static int resolve_opts(struct session_cmd *sc, struct coi_error *err)
{
	_cleanup_free_ char *ws = NULL;
	int r;

	r = path_absolute(sc->workspace_arg ? sc->workspace_arg : ".", &ws, err);
	if (r < 0)
		return r;
	r = session_opts_default(ws, &sc->opts, err);
	if (r < 0)
		return r;
	if (sc->image) {
		free(sc->opts.image);
		sc->opts.image = strdup(sc->image);
		if (!sc->opts.image)
			return coi_error_oom(err);
	}
	if (sc->slot)
		sc->opts.slot = sc->slot;
	if (sc->persistent == 1)
		sc->opts.persistent = true;
	return 0;
}

static void print_report(const struct session *s)
{
	_cleanup_free_ char *list = NULL;
	_cleanup_strv_free_ char **rels = NULL;

	for (size_t i = 0; s->plan && i < s->plan->n_entries; i++)
		(void)strv_push(&rels, s->plan->entries[i].rel);
	list = strv_join(rels, ", ");
	fprintf(stderr, "coi: session %s (slot %d%s)\n", s->name, s->slot,
	        s->reused ? ", resumed persistent container" : "");
	if (list && *list)
		fprintf(stderr, "Protected paths (mounted read-only): %s\n", list);
	strv_foreach(n, s->plan ? s->plan->notes : NULL)
		fprintf(stderr, "coi: note: %s\n", *n);
}

int session_cmd_start(struct session_cmd *sc, struct coi_error *err)
{
	struct incus_client_opts o;
	int r;

	r = resolve_opts(sc, err);
	if (r < 0)
		return r;
	incus_client_opts_from_env(&o);
	r = incus_client_new(&o, &sc->client, err);
	if (r < 0)
		return r;
	session_install_signal_handlers();
	r = session_start(&sc->opts, sc->client, &sc->session, err);
	if (r < 0)
		return r;
	print_report(sc->session);
	return 0;
}

int session_cmd_finish(struct session_cmd *sc, int status)
{
	_cleanup_strv_free_ char **warnings = NULL;
	struct coi_error err = {0};
	int r;

	if (!sc->session)
		return status;
	r = session_stop(sc->session, &err);
	warnings = session_take_warnings(sc->session);
	strv_foreach(w, warnings)
		fprintf(stderr, "coi: warning: %s\n", *w);
	if (r < 0) {
		fprintf(stderr, "coi: cleaning up failed: %s\n", coi_error_message(&err));
		return status == 0 ? EXIT_FAIL : status;
	}
	return status;
}

void session_cmd_release(struct session_cmd *sc)
{
	sc->session = session_free(sc->session);
	sc->client = incus_client_free(sc->client);
	session_opts_release(&sc->opts);
}
