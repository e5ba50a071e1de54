/* SPDX-License-Identifier: MIT */
/* coi logs: what a session showed and what its monitor wrote. The agent's tmux pane is read
 * whole (its scrollback) from inside the container; the monitor's log from the host. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/pick.h"
#include "incus/incus.h"
#include "session/naming.h"
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

/* The agent's last screen, kept on the host when its session ended (agent.h). */
static bool print_saved_screen(const char *name)
{
	_cleanup_free_ char *path = tmux_screen_file(name);
	_cleanup_buf_ struct buf b = BUF_INIT(16u << 20);

	if (!path || read_file(path, &b, NULL) < 0 || b.len == 0)
		return false;
	printf("==> the agent's last screen (session ended; %s) <==\n%s", path, buf_str(&b));
	return true;
}

/* The live scrollback of a running session's agent; false when there is none. */
static bool print_live_screen(struct incus_client *c, const char *name, int *status)
{
	char *tmux[] = {"tmux", "capture-pane",   "-p", "-J", "-S", "-",
	                "-t",   COI_TMUX_SESSION, NULL};
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};
	int r;

	incus_exec_opts_init(&o);
	o.argv = tmux;
	o.uid = 1000;
	o.gid = 1000;
	r = incus_exec(c, name, &o, &res, &err);
	if (r < 0 && err.code != -ENOENT) {
		*status = cmd_fail(&err);
		return true;
	}
	if (r >= 0 && res.exit_status == 0) {
		printf("==> the agent's terminal (tmux scrollback) <==\n");
		fwrite(res.out, 1, res.out_len, stdout);
	}
	incus_exec_result_release(&res);
	return r >= 0 && res.exit_status == 0;
}

/* No session runs on the workspace: the one of it that ended last and left a screen. */
static char *ended_session(const char *workspace)
{
	_cleanup_free_ char *ws = NULL, *dir = coi_dir(), *logs = NULL, *prefix = NULL;
	char hash[WORKSPACE_HASH_LEN + 1];
	struct timespec newest = {0};
	char *best = NULL;
	DIR *d;

	if (path_absolute(workspace ? workspace : ".", &ws, NULL) < 0 ||
	    session_workspace_hash(ws, hash) < 0 || !dir || !(logs = path_join(dir, "logs")) ||
	    asprintf(&prefix, "%s%s-", session_name_prefix(), hash) < 0 || !(d = opendir(logs)))
		return NULL;
	for (struct dirent *e; (e = readdir(d));) {
		const char *dot = strrchr(e->d_name, '.');
		struct stat st;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || !dot ||
		    strcmp(dot, ".screen") != 0 || fstatat(dirfd(d), e->d_name, &st, 0) < 0 ||
		    (st.st_mtim.tv_sec < newest.tv_sec ||
		     (st.st_mtim.tv_sec == newest.tv_sec && st.st_mtim.tv_nsec <= newest.tv_nsec)))
			continue;
		newest = st.st_mtim;
		free(best);
		best = strndup(e->d_name, (size_t)(dot - e->d_name));
	}
	closedir(d);
	return best;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"workspace", required_argument, NULL, 'w'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_free_ char *name = NULL;
	struct cmd_pick p = {0};
	struct coi_error err = {0};
	int opt, status = EXIT_OK;
	bool shown;

	/* options first: a misspelt or unknown option (--jsn) must not become a session name */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+w:h", opts, NULL)) != -1) {
		if (opt == 'w')
			p.workspace = optarg;
		else if (opt == 'h')
			return cmd_help(&verb_logs);
		else
			return cmd_bad_option(&verb_logs, argv);
	}
	if (argc - optind > 1)
		return cmd_usage_error(&verb_logs, "name one session");
	p.name = optind < argc ? argv[optind] : NULL;
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	if (cmd_pick_session(c, &p, &name, &err) < 0 &&
	    (p.name || err.code != -ENOENT || !(name = ended_session(p.workspace))))
		return cmd_fail(&err);
	shown = print_live_screen(c, name, &status) || print_saved_screen(name);
	if (status != EXIT_OK)
		return status;
	if (!shown)
		fprintf(stderr,
		        "coi: '%s' has no agent terminal (coi run sessions stream their output "
		        "instead)\n",
		        name);
	print_monitor_log(name);
	return EXIT_OK;
}

const struct verb verb_logs = {
        .name = "logs",
        .run = run,
        .summary = "show a session's terminal history and its monitor log",
        .usage = "Usage: coi logs [NAME] [-w DIR]\n"
                 "\n"
                 "Print the whole scrollback of the agent's terminal in session NAME (a coi shell\n"
                 "session's tmux pane; once the session ended, the agent's last screen, which coi\n"
                 "keeps), then its security monitor's log, if any. NAME defaults to\n"
                 "$COI_CONTAINER, else the one session of the workspace.\n"
                 "\n"
                 "  -w, --workspace DIR  the project whose session to show (default: the current\n"
                 "                       directory)",
};
