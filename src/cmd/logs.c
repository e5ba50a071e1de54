/* SPDX-License-Identifier: MIT */
/* coi logs: what a session showed and what its monitor wrote. The agent's tmux pane is read
 * whole (its scrollback) from inside the container; the monitor's log from the host. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "incus/incus.h"
#include "session/tmux.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

const struct verb verb_logs;

static void print_monitor_log(const char *name)
{
	_cleanup_free_ char *dir = coi_dir(), *path = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(16u << 20);

	if (!dir || asprintf(&path, "%s/logs/%s.monitor.log", dir, name) < 0 ||
	    read_file(path, &b, NULL) < 0 || b.len == 0)
		return;
	printf("==> monitor (%s) <==\n%s", path, buf_str(&b));
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	char *tmux[] = {"tmux", "capture-pane",   "-p", "-J", "-S", "-",
	                "-t",   COI_TMUX_SESSION, NULL};
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};
	const char *name;
	int opt;

	/* options first: a misspelt or unknown option (--json) must not become a session name */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'h')
			return cmd_help(&verb_logs);
		return cmd_usage_error(&verb_logs, "invalid option");
	}
	if (argc - optind != 1)
		return cmd_usage_error(&verb_logs, "name one session");
	name = argv[optind];
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	incus_exec_opts_init(&o);
	o.argv = tmux;
	o.uid = 1000;
	o.gid = 1000;
	if (incus_exec(c, name, &o, &res, &err) < 0)
		return cmd_fail(&err);
	if (res.exit_status == 0) {
		printf("==> the agent's terminal (tmux scrollback) <==\n");
		fwrite(res.out, 1, res.out_len, stdout);
	} else {
		fprintf(stderr,
		        "coi: '%s' has no agent terminal (coi run sessions stream their output "
		        "instead)\n",
		        name);
	}
	incus_exec_result_release(&res);
	print_monitor_log(name);
	return EXIT_OK;
}

const struct verb verb_logs = {
        .name = "logs",
        .run = run,
        .summary = "show a session's terminal history and its monitor log",
        .usage = "Usage: coi logs NAME\n"
                 "\n"
                 "Print the whole scrollback of the agent's terminal in session NAME (a coi shell\n"
                 "session's tmux pane), then its security monitor's log, if any.",
};
