/* SPDX-License-Identifier: MIT */
/* coi tmux: drive the agent's tmux pane from scripts: which sessions have one, type into it,
 * read what it shows. */
#include "session/tmux.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/pick.h"
#include "cmd/table.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "util/error.h"
#include "util/json.h"

const struct verb verb_tmux;

#define CODE_UID 1000

/* A tmux command in the container as the code user, its output captured. */
static int tmux_run(struct incus_client *c, const char *name, char **argv,
                    struct incus_exec_result *res, struct coi_error *err)
{
	struct incus_exec_opts o;

	incus_exec_opts_init(&o);
	o.argv = argv;
	o.uid = CODE_UID;
	o.gid = CODE_UID;
	return incus_exec(c, name, &o, res, err);
}

static int list(struct incus_client *c, int json)
{
	static const char *const headers[] = {"CONTAINER", "TMUX SESSION", "WORKSPACE", NULL};
	_cleanup_json_ json_t *arr = json ? json_array() : NULL;
	struct table *t = json ? NULL : table_new(headers);
	struct coi_error err = {0};
	struct fleet f = {0};

	if ((json && !arr) || (!json && !t) || fleet_list(c, false, &f, &err) < 0) {
		table_free(t);
		return err.code ? cmd_fail(&err) : cmd_failf("out of memory");
	}
	for (size_t i = 0; i < f.n; i++) {
		const char *row[] = {f.items[i].name, COI_TMUX_SESSION, f.items[i].workspace, NULL};

		if (strcmp(f.items[i].status, "Running") != 0 ||
		    tmux_alive(c, f.items[i].name, CODE_UID, NULL) <= 0)
			continue;
		if (arr)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "container",
			                                     f.items[i].name, "session",
			                                     COI_TMUX_SESSION, "workspace",
			                                     f.items[i].workspace));
		else
			(void)table_add(t, row);
	}
	fleet_release(&f);
	return table_or_json_print(t, arr);
}

/* send: TEXT typed literally, then Enter (unless --no-enter). */
static int send(struct incus_client *c, const char *name, const char *text, bool enter)
{
	char *keys[] = {"tmux", "send-keys", "-t",         COI_TMUX_SESSION,
	                "-l",   "--",        (char *)text, NULL};
	char *ret[] = {"tmux", "send-keys", "-t", COI_TMUX_SESSION, "Enter", NULL};
	struct incus_exec_result res = {0};
	struct coi_error err = {0};
	int r = tmux_run(c, name, keys, &res, &err);

	if (r >= 0 && res.exit_status == 0 && enter) {
		incus_exec_result_release(&res);
		r = tmux_run(c, name, ret, &res, &err);
	}
	if (r < 0)
		return cmd_fail(&err);
	r = res.exit_status;
	incus_exec_result_release(&res);
	return r == 0 ? EXIT_OK
	              : cmd_failf("'%s' has no agent pane (tmux session '%s')", name,
	                          COI_TMUX_SESSION);
}

/* capture: what the pane shows now, or with --all its whole scrollback. */
static int capture(struct incus_client *c, const char *name, bool all)
{
	char *argv[] = {"tmux",           "capture-pane",    "-p", "-J", "-t",
	                COI_TMUX_SESSION, all ? "-S" : NULL, "-",  NULL};
	struct incus_exec_result res = {0};
	struct coi_error err = {0};
	int r = tmux_run(c, name, argv, &res, &err);

	if (r < 0)
		return cmd_fail(&err);
	if (res.exit_status == 0)
		fwrite(res.out, 1, res.out_len, stdout);
	r = res.exit_status;
	incus_exec_result_release(&res);
	return r == 0 ? EXIT_OK
	              : cmd_failf("'%s' has no agent pane (tmux session '%s')", name,
	                          COI_TMUX_SESSION);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'}, {"format", required_argument, NULL, 'F'},
	        {"all", no_argument, NULL, 'a'},  {"no-enter", no_argument, NULL, 'n'},
	        {"help", no_argument, NULL, 'h'}, {0},
	};
	_cleanup_incus_client_ struct incus_client *c = NULL;
	_cleanup_free_ char *name = NULL;
	struct coi_error err = {0};
	int o, json = 0, all = 0, enter = 1, want;
	const char *sub;

	if (argc < 2)
		return cmd_usage_error(&verb_tmux, "missing subcommand (list, send or capture)");
	sub = argv[1];
	if (strcmp(sub, "help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		return cmd_help(&verb_tmux);
	if (strcmp(sub, "list") != 0 && strcmp(sub, "send") != 0 && strcmp(sub, "capture") != 0)
		return cmd_usage_error(&verb_tmux, "unknown subcommand '%s'", sub);
	argc--;
	argv++;
	optind = 0;
	while ((o = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		if (o == 'j')
			json = 1;
		else if (o == 'F' && cmd_parse_format(&verb_tmux, optarg, &json))
			return EXIT_USAGE;
		else if (o == 'a')
			all = 1;
		else if (o == 'n')
			enter = 0;
		else if (o == 'h')
			return cmd_help(&verb_tmux);
		else if (o != 'F')
			return cmd_bad_option(&verb_tmux, argv);
	}
	/* send takes NAME and TEXT; NAME may be left out when this workspace has one session */
	want = strcmp(sub, "list") == 0 ? 0 : strcmp(sub, "send") == 0 ? 2 : 1;
	if (argc - optind > want || (want == 2 && argc - optind < 1))
		return cmd_usage_error(&verb_tmux, "coi tmux %s takes %s", sub,
		                       want == 0   ? "no argument"
		                       : want == 1 ? "at most a session NAME"
		                                   : "[NAME] TEXT");
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (want == 0)
		return list(c, json);
	if (cmd_pick_session(c,
	                     &(struct cmd_pick){.name = argc - optind == want ? argv[optind] : NULL,
	                                        .running = true},
	                     &name, &err) < 0)
		return cmd_fail(&err);
	if (want == 2)
		return send(c, name, argv[argc - 1], enter);
	return capture(c, name, all);
}

const struct verb verb_tmux = {
        .name = "tmux",
        .run = run,
        .summary = "type into an agent's tmux pane, or read it (for scripts)",
        .usage = "Usage: coi tmux SUBCOMMAND ...\n"
                 "\n"
                 "  list [--json | --format text|json]\n"
                 "                       the running sessions that have an agent pane\n"
                 "  send [NAME] TEXT [--no-enter]\n"
                 "                       type TEXT into the agent's pane, then Enter\n"
                 "  capture [NAME] [--all]\n"
                 "                       print what the pane shows (--all: its whole scrollback)\n"
                 "\n"
                 "NAME defaults to $COI_CONTAINER, else the one running session of the current\n"
                 "workspace. The pane is the one 'coi shell' opens and 'coi attach' returns to.",
};
