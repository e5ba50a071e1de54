/* SPDX-License-Identifier: MIT */
/* coi monitor: a security snapshot of a container (processes, connections, I/O, recent threats),
 * once or every N seconds; and the monitor itself, in this process (--foreground) or detached as
 * the session's supervisor (--daemon). */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/monitor-dns.h"
#include "cmd/monitor-egress.h"
#include "cmd/output.h"
#include "cmd/pick.h"
#include "incus/incus.h"
#include "monitor/audit.h"
#include "monitor/settings.h"
#include "netpolicy/netpolicy.h"
#include "session/expire.h"
#include "session/fleet.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/path.h"
#include "util/term.h"

const struct verb verb_monitor;

struct monitor_args {
	struct monitor_dns_args dns; /* first: the DNS hooks get the args as their userdata */
	const char *name;
	bool json;
	unsigned watch;
	bool daemon;
	bool foreground;
	bool stop;
	bool nflog_set;
	bool timer_only;  /* monitoring is off: only max_duration */
	int stop_timeout; /* max_duration: seconds of grace before the stop is forced */
	int ready_fd;     /* --daemon: tells the parent the monitor is live */
	int egress_fd;    /* --egress-fd: the session's secrets for the credential proxy */
	int egress_listen_fd;
	const char *tty;
	struct monitor_opts mo;
};

_Static_assert(offsetof(struct monitor_args, dns) == 0, "monitor-dns.c reads it at the start");

/* ---- alerts: the user's terminal, outside the agent's tmux pane ---------------------------- */

static void alert_text(const struct threat *t, const char *name, char *out, size_t size)
{
	static const char *const outcome[] = {
	        [ACTION_LOGGED] = "logged",
	        [ACTION_ALERTED] = "no action taken",
	        [ACTION_PAUSED] = "container frozen; 'coi unfreeze' resumes it",
	        [ACTION_KILLED] = "container stopped and deleted",
	        [ACTION_DEDUPLICATED] = "repeat",
	};
	int n = snprintf(out, size, "coi: %s in '%s': %s - %s (%s)", t->title, name, t->description,
	                 outcome[t->action], threat_level_to_string(t->level));

	if (n < 0 || (size_t)n >= size)
		out[size - 1] = 0;
}

static void on_alert(const struct threat *t, void *u)
{
	struct monitor_args *a = u;
	char text[1200], safe[1200], framed[1300];
	int fd, n;

	/* a description quotes what ran in the container: never raw to a terminal */
	alert_text(t, a->name, text, sizeof(text));
	term_escape(text, false, safe, sizeof(safe));
	fprintf(stderr, "%s\n", safe);
	if (!a->tty)
		return;
	/* Written over the tmux client's screen: it stays outside the agent's pane. */
	fd = open(a->tty, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	n = snprintf(framed, sizeof(framed), "\r\n\a\033[1;31m%s\033[0m\r\n", safe);
	if (n > 0 && write(fd, framed, (size_t)n) < 0)
		log_debug("monitor: cannot write to '%s', ignoring", a->tty);
	close(fd);
}

/* ---- running the monitor ------------------------------------------------------------------- */

static void on_ready(void *u)
{
	struct monitor_args *a = u;
	char ok = 0;

	if (a->ready_fd >= 0) {
		if (write(a->ready_fd, &ok, 1) != 1)
			log_debug("monitor: cannot tell the parent we are ready, ignoring");
		close(a->ready_fd);
		a->ready_fd = -EBADF;
	}
}

/* CRITICAL: the container's network rules go before it is stopped and deleted. */
static int remove_network(const char *container, void *userdata)
{
	static const struct net_nft nft = {.backend = NET_BACKEND_AUTO};

	(void)userdata;
	return netpolicy_remove(&nft, NULL, container, NULL);
}

/* max_duration: the session's coi process enforces it while there is one (attached). */
static int handed_over(const char *container, void *userdata)
{
	(void)userdata;
	return fleet_owner_is_detached(container) || !fleet_owner_alive(container);
}

static int expire(const char *container, const char *uuid, int pidfd, void *userdata,
                  struct coi_error *err)
{
	struct monitor_args *a = userdata;
	char **report = NULL;
	int r;

	fprintf(stderr, "coi: [limits] max_duration reached: ending the session in '%s'\n",
	        container);
	r = session_expire(a->mo.client, container, uuid, pidfd, a->stop_timeout, &report, err);
	cmd_print_report(report);
	return r;
}

static int run_monitor(struct monitor_args *a)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	struct coi_error err = {0};
	int r;

	r = cmd_client_new(&c, &err);
	if (r < 0)
		return cmd_fail(&err);
	a->mo.container = a->name;
	a->mo.client = c;
	a->mo.alert = on_alert;
	a->mo.remove_network = remove_network;
	a->mo.ready = on_ready;
	a->mo.handed_over = handed_over;
	a->mo.expire = expire;
	a->mo.userdata = a;
	r = a->timer_only ? monitor_deadline_run(&a->mo, &err) : monitor_run(&a->mo, &err);
	if (r < 0 && r != -EINTR)
		return cmd_fail(&err);
	return EXIT_OK;
}

static int redirect_to_log(const char *name)
{
	_cleanup_free_ char *dir = coi_dir(), *file = NULL, *path = NULL;
	int fd, null;

	if (!dir || asprintf(&file, "logs/%s.monitor.log", name) < 0 ||
	    !(path = path_join(dir, file)))
		return -ENOMEM;
	*strrchr(path, '/') = 0;
	(void)mkdir_p(path, 0700);
	path[strlen(path)] = '/';
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || null < 0)
		return -errno;
	if (dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return -errno;
	close(fd);
	close(null);
	return 0;
}

/* Forks the supervisor; the parent returns once it holds its pid file. */
static int run_daemon(struct monitor_args *a)
{
	int p[2], lock = -EBADF, r;
	struct coi_error err = {0};
	char status = 1;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return cmd_failf("cannot create a pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return cmd_failf("cannot fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &status, 1) != 1 || status != 0)
			return cmd_failf(
			        "the monitor for '%s' did not start (see ~/.coi/logs/%s.monitor.log)",
			        a->name, a->name);
		printf("%d\n", (int)pid);
		return EXIT_OK;
	}
	close(p[0]);
	/* Out of the session and of the workspace: the supervisor must not keep either busy. */
	if (setsid() < 0 || chdir("/") < 0 || redirect_to_log(a->name) < 0)
		_exit(EXIT_FAIL);
	/* the DNS filter first: the proxy's child then has none of its sockets */
	if (monitor_supervisor_claim(a->name, &lock, &err) < 0 ||
	    monitor_dns_start(&a->dns, a->name, &a->mo, &err) < 0 ||
	    (a->egress_fd >= 0 &&
	     monitor_egress_start(a->name, a->egress_fd, a->egress_listen_fd, &a->mo, &err) < 0)) {
		fprintf(stderr, "coi: %s\n", coi_error_message(&err));
		_exit(EXIT_FAIL);
	}
	a->ready_fd = p[1]; /* written once every source is live */
	r = run_monitor(a);
	if (a->egress_fd >= 0)
		monitor_egress_stopped(a->name);
	_exit(r);
}

/* ---- the snapshot -------------------------------------------------------------------------- */

/* The last max lines of the audit log, as parsed objects in an array. */
static json_t *recent_threats(const char *name, size_t max)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(64u << 20);
	json_t *arr = json_array();
	const char *s;

	if (!arr || audit_path(name, &path, NULL) < 0 || read_file(path, &b, NULL) < 0)
		return arr;
	s = buf_str(&b);
	for (const char *line = s; *line;) {
		const char *nl = strchrnul(line, '\n');
		json_t *j = NULL;

		if (json_parse(line, (size_t)(nl - line), &j, NULL) >= 0)
			json_array_append_new(arr, j);
		while (json_array_size(arr) > max)
			json_array_remove(arr, 0);
		line = *nl ? nl + 1 : nl;
	}
	return arr;
}

static json_t *snapshot_json(const struct monitor_snapshot *s, const char *name)
{
	json_t *o = json_pack("{s:s, s:i, s:[], s:[], s:{s:I, s:I}, s:{s:I, s:I}}", "container",
	                      name, "init_pid", (int)s->init_pid, "processes", "connections", "io",
	                      "read_bytes", (json_int_t)s->read_bytes, "write_bytes",
	                      (json_int_t)s->write_bytes, "tmp", "total_bytes",
	                      (json_int_t)s->tmp.total_bytes, "used_bytes",
	                      (json_int_t)s->tmp.used_bytes);

	if (!o)
		return NULL;
	for (size_t i = 0; i < s->n_procs; i++)
		json_array_append_new(json_object_get(o, "processes"),
		                      json_pack("{s:i, s:i, s:i, s:s}", "pid", (int)s->procs[i].pid,
		                                "ppid", (int)s->procs[i].ppid, "uid",
		                                (int)s->procs[i].uid, "command",
		                                s->procs[i].command ? s->procs[i].command : ""));
	for (size_t i = 0; i < s->n_conns; i++)
		json_array_append_new(json_object_get(o, "connections"),
		                      json_pack("{s:s, s:s, s:s, s:s}", "protocol",
		                                s->conns[i].proto, "local_addr", s->conns[i].local,
		                                "remote_addr", s->conns[i].remote, "state",
		                                s->conns[i].state));
	json_object_set_new(o, "threats", recent_threats(name, 10));
	return o;
}

static void snapshot_text(const struct monitor_snapshot *s, const char *name)
{
	_cleanup_json_ json_t *threats = recent_threats(name, 10);
	size_t i;
	json_t *t;

	printf("container %s (init pid %d)\n\nprocesses (%zu):\n", name, (int)s->init_pid,
	       s->n_procs);
	for (i = 0; i < s->n_procs; i++)
		printf("  %7d %7d %5u  %.100s\n", (int)s->procs[i].pid, (int)s->procs[i].ppid,
		       (unsigned)s->procs[i].uid,
		       output_safe(s->procs[i].command ? s->procs[i].command : ""));
	printf("\nconnections (%zu)%s:\n", s->n_conns,
	       s->conns_available ? "" : " (sock_diag needs root)");
	for (i = 0; i < s->n_conns; i++)
		printf("  %s %-24s -> %-28s %s\n", s->conns[i].proto, s->conns[i].local,
		       s->conns[i].remote, s->conns[i].state);
	printf("\nI/O: %.1f MB read, %.1f MB written; /tmp %.0f%% used\n",
	       (double)s->read_bytes / 1048576.0, (double)s->write_bytes / 1048576.0,
	       s->tmp.total_bytes ? 100.0 * (double)s->tmp.used_bytes / (double)s->tmp.total_bytes
	                          : 0.0);
	printf("\nrecent threats (%zu):\n", json_array_size(threats));
	json_array_foreach(threats, i, t)
		printf("  %s %-8s %-12s %s\n", output_safe(json_get_str(t, "timestamp")),
		       output_safe(json_get_str(t, "level")),
		       output_safe(json_get_str(t, "action")),
		       output_safe(json_get_str(t, "title")));
}

static int show_snapshot(struct monitor_args *a)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	_cleanup_free_ char *picked = NULL;
	struct coi_error err = {0};
	_cleanup_close_ int tfd = -EBADF;

	if (cmd_client_new(&c, &err) < 0)
		return cmd_fail(&err);
	if (!a->name || !*a->name) {
		if (cmd_pick_session(c, &(struct cmd_pick){0}, &picked, &err) < 0)
			return cmd_fail(&err);
		a->name = picked;
	}
	if (a->watch) {
		struct itimerspec its = {{(time_t)a->watch, 0}, {0, 1}};

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
			return cmd_failf("cannot create a timer: %s", strerror(errno));
	}
	for (;;) {
		struct monitor_snapshot *s = NULL;
		uint64_t exp;

		if (tfd >= 0 && read(tfd, &exp, sizeof(exp)) < 0)
			return cmd_failf("timer: %s", strerror(errno));
		if (monitor_snapshot(c, a->name, &s, &err) < 0)
			return cmd_fail(&err);
		if (a->json) {
			_cleanup_json_ json_t *j = snapshot_json(s, a->name);
			_cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

			printf("%s\n", text ? text : "{}");
		} else {
			if (tfd >= 0)
				printf("\033[H\033[2J");
			snapshot_text(s, a->name);
		}
		fflush(stdout);
		monitor_snapshot_free(s);
		if (tfd < 0)
			return EXIT_OK;
	}
}

/* ---- arguments ----------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct monitor_args *a)
{
	enum {
		OPT_TTY = 256,
		OPT_NFLOG,
		OPT_SCAN,
		OPT_PRESCAN,
		OPT_SETTING,
		OPT_MAXDUR,
		OPT_WARN,
		OPT_STOPT,
		OPT_TIMER,
		OPT_EGRESS,
		OPT_EGRESS_LISTEN,
		OPT_DNS,
	};
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"watch", required_argument, NULL, 'w'},
	        {"daemon", no_argument, NULL, 'd'},
	        {"foreground", no_argument, NULL, 'f'},
	        {"stop", no_argument, NULL, 's'},
	        {"tty", required_argument, NULL, OPT_TTY},
	        /* the [monitoring] keys (monitor/settings.h) */
	        {"no-pause", no_argument, NULL, OPT_SETTING},
	        {"no-kill", no_argument, NULL, OPT_SETTING},
	        {"forensics", no_argument, NULL, OPT_SETTING},
	        {"one-liners", required_argument, NULL, OPT_SETTING},
	        {"poll-interval", required_argument, NULL, OPT_SETTING},
	        {"read-threshold-mb", required_argument, NULL, OPT_SETTING},
	        {"read-rate-mb", required_argument, NULL, OPT_SETTING},
	        {"audit-retention-days", required_argument, NULL, OPT_SETTING},
	        {"dns-threshold", required_argument, NULL, OPT_SETTING},
	        {"export-level", required_argument, NULL, OPT_SETTING},
	        {"syslog", no_argument, NULL, OPT_SETTING},
	        {"metrics-dir", required_argument, NULL, OPT_SETTING},
	        {"gtfobins-dir", required_argument, NULL, OPT_SETTING},
	        {"sigma-dir", required_argument, NULL, OPT_SETTING},
	        {"nflog-group", required_argument, NULL, OPT_NFLOG},
	        {"scan", no_argument, NULL, OPT_SCAN},
	        {"prescan", no_argument, NULL, OPT_PRESCAN},
	        {"max-processes", required_argument, NULL, OPT_SETTING},
	        {"spawn-threshold", required_argument, NULL, OPT_SETTING},
	        /* limits.runtime of a session that may outlive its coi (monitor/deadline.h) */
	        {"max-duration", required_argument, NULL, OPT_MAXDUR},
	        {"duration-warn-only", no_argument, NULL, OPT_WARN},
	        {"stop-timeout", required_argument, NULL, OPT_STOPT},
	        {"timer-only", no_argument, NULL, OPT_TIMER},
	        /* the credential proxy (session/credproxy.h): fds the session hands over */
	        {"egress-fd", required_argument, NULL, OPT_EGRESS},
	        {"egress-listen-fd", required_argument, NULL, OPT_EGRESS_LISTEN},
	        /* the session's DNS filter (cmd/monitor-dns.h) */
	        {"dns-fds", required_argument, NULL, OPT_DNS},
	        {"dns-client", required_argument, NULL, OPT_DNS},
	        {"dns-mode", required_argument, NULL, OPT_DNS},
	        {"dns-min-ttl", required_argument, NULL, OPT_DNS},
	        {"dns-admit-private", no_argument, NULL, OPT_DNS},
	        {"dns-admit-metadata", no_argument, NULL, OPT_DNS},
	        {"dns-allow", required_argument, NULL, OPT_DNS},
	        {"dns-port", required_argument, NULL, OPT_DNS},
	        {"dns-host", required_argument, NULL, OPT_DNS},
	        {"dns-network", required_argument, NULL, OPT_DNS},
	        {"dns-upstream", required_argument, NULL, OPT_DNS},
	        {"dns-count-all", no_argument, NULL, OPT_SETTING},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct coi_error err = {0};
	int c, idx = 0;

	monitor_opts_default(&a->mo);
	/* not options: a command or URL may hold a token, and ps shows every command line */
	a->mo.on_finding = secure_getenv(MONITOR_ENV_ON_FINDING);
	a->mo.on_finding_url = secure_getenv(MONITOR_ENV_ON_FINDING_URL);
	optind = 0;
	while ((c = getopt_long(argc, argv, "jw:h", opts, &idx)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'F': {
			int j = 0;

			if (cmd_parse_format(&verb_monitor, optarg, &j))
				return -EXIT_USAGE;
			a->json = j;
			break;
		}
		case 'w':
			a->watch = (unsigned)strtoul(optarg, NULL, 10);
			if (a->watch == 0 || a->watch > 3600)
				return -cmd_usage_error(&verb_monitor,
				                        "--watch takes 1..3600 seconds");
			break;
		case 'd':
			a->daemon = true;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 's':
			a->stop = true;
			break;
		case OPT_TTY:
			a->tty = optarg;
			break;
		case OPT_SETTING:
			if (monitor_opts_set(&a->mo, opts[idx].name, optarg, &err) < 0)
				return -cmd_usage_error(&verb_monitor, "%s",
				                        coi_error_message(&err));
			break;
		case OPT_NFLOG:
			a->mo.nflog_group = (uint16_t)strtoul(optarg, NULL, 10);
			a->nflog_set = true;
			break;
		case OPT_SCAN:
			a->mo.force_scan = true;
			break;
		case OPT_PRESCAN:
			a->mo.prescan = true;
			break;
		case OPT_MAXDUR:
		case OPT_STOPT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v > UINT32_MAX / 2)
				return -cmd_usage_error(&verb_monitor, "--%s takes seconds",
				                        opts[idx].name);
			if (c == OPT_MAXDUR)
				a->mo.max_duration_s = (unsigned)v;
			else
				a->stop_timeout = (int)v;
			break;
		}
		case OPT_WARN:
			a->mo.duration_warn_only = true;
			break;
		case OPT_TIMER:
			a->timer_only = true;
			break;
		case OPT_EGRESS:
		case OPT_EGRESS_LISTEN: {
			char *end;
			long fd = strtol(optarg, &end, 10);

			if (*end || fd < 3 || fd > 1023 || fcntl((int)fd, F_GETFD) < 0)
				return -cmd_usage_error(&verb_monitor, "--%s takes an open fd",
				                        opts[idx].name);
			*(c == OPT_EGRESS ? &a->egress_fd : &a->egress_listen_fd) = (int)fd;
			break;
		}
		case OPT_DNS:
			if (monitor_dns_args_set(&a->dns, opts[idx].name, optarg, &err) < 0)
				return -cmd_usage_error(&verb_monitor, "%s",
				                        coi_error_message(&err));
			break;

		case 'h':
			cmd_help(&verb_monitor);
			return 0;
		default:
			return -cmd_bad_option(&verb_monitor, argv);
		}
	}
	if (optind < argc)
		a->name = argv[optind++];
	else
		a->name = secure_getenv("COI_CONTAINER");
	if (optind < argc)
		return -cmd_usage_error(&verb_monitor, "unexpected argument '%s'", argv[optind]);
	if (!a->name || !*a->name) {
		/* a snapshot finds this workspace's session (show_snapshot); the rest need NAME */
		if (!a->daemon && !a->foreground && !a->stop)
			return 1;
		return -cmd_usage_error(&verb_monitor,
		                        "which container? give NAME or set COI_CONTAINER");
	}
	if (!a->nflog_set)
		a->mo.nflog_group = coi_nflog_group(a->name);
	if (a->timer_only &&
	    (!(a->mo.max_duration_s || a->egress_fd >= 0 || a->dns.on) || !a->daemon))
		return -cmd_usage_error(&verb_monitor, "--timer-only needs --daemon and "
		                                       "--max-duration, --egress-fd or --dns-fds");
	if ((a->egress_fd >= 0) != (a->egress_listen_fd >= 0) || (a->egress_fd >= 0 && !a->daemon))
		return -cmd_usage_error(
		        &verb_monitor,
		        "--egress-fd and --egress-listen-fd go together, with --daemon");
	if (a->dns.on && !a->daemon)
		return -cmd_usage_error(&verb_monitor, "--dns-fds goes with --daemon");
	if (a->mo.prescan && !a->daemon)
		return -cmd_usage_error(&verb_monitor, "--prescan goes with --daemon");
	if (monitor_dns_args_check(&a->dns, &err) < 0)
		return -cmd_usage_error(&verb_monitor, "%s", coi_error_message(&err));
	if (a->dns.on) { /* the session's policy is known: it judges private addresses */
		a->mo.rules.admits = monitor_dns_admits;
		a->mo.rules.admits_policy = &a->dns.policy;
	}
	return 1;
}

static int dispatch(struct monitor_args *a)
{
	if (a->stop) {
		struct coi_error err = {0};
		int r = monitor_supervisor_stop(a->name, &err);

		if (r < 0)
			return cmd_fail(&err);
		printf("%s\n", r ? "stopped" : "not running");
		return EXIT_OK;
	}
	if (a->daemon)
		return run_daemon(a);
	if (a->foreground)
		return run_monitor(a);
	return show_snapshot(a);
}

static int run(int argc, char **argv)
{
	struct monitor_args a = {
	        .ready_fd = -EBADF, .egress_fd = -EBADF, .egress_listen_fd = -EBADF};
	int r;

	monitor_dns_args_init(&a.dns);
	r = parse_args(argc, argv, &a);
	r = r < 0 ? -r : r == 0 ? EXIT_OK : dispatch(&a);
	monitor_dns_args_release(&a.dns);
	return r;
}

const struct verb verb_monitor = {
        .name = "monitor",
        .run = run,
        .summary = "show a security snapshot of a container, or run its monitor",
        .usage =
                "Usage: coi monitor [NAME] [--json | --format text|json] [--watch N]\n"
                "       coi monitor NAME --stop\n"
                "       coi monitor NAME --foreground|--daemon [--tty PATH] [--scan]\n"
                "                   [--nflog-group N] [SETTINGS]\n"
                "\n"
                "Show the container's processes, connections, I/O and recent threats, read on\n"
                "the host. NAME defaults to $COI_CONTAINER, else the one session of the current\n"
                "workspace.\n"
                "\n"
                "  --json            print JSON\n"
                "  --watch N         refresh every N seconds\n"
                "  --foreground      run the security monitor here until the container is gone\n"
                "  --daemon          run it detached (the session's supervisor); prints its pid\n"
                "  --stop            stop the detached monitor of NAME\n"
                "  --tty PATH        also write alerts to this terminal\n"
                "  --scan            scan /proc instead of using the proc connector\n"
                "  --nflog-group N   NFLOG group of the policy's log rules (default: the container's\n"
                "                    own, coi_nflog_group(); 0: none)\n"
                "  --prescan         a claimed warm container: take the init and the programs its\n"
                "                    filler read ahead (~/.coi/run/NAME.prescan), while the same\n"
                "                    init runs; otherwise read them as usual (coi does this)\n"
                "\n"
                "limits.runtime of a session that may outlive its coi process (a detached shell):\n"
                "  --max-duration S  end the session S seconds from now, once no coi process of\n"
                "                    its own is left to do it; only the container it was started\n"
                "                    for (its volatile.uuid and init), never a later one\n"
                "  --stop-timeout N  then stop it gracefully with N seconds of grace before\n"
                "                    forcing it (default 0: force at once)\n"
                "  --duration-warn-only  only record it (audit log, alert)\n"
                "  --timer-only      no monitoring, only the above, the DNS filter and the\n"
                "                    credential proxy (monitoring is off)\n"
                "  --egress-fd N --egress-listen-fd N  run the session's credential proxy with\n"
                "                    the secrets and socket the session passes (coi does this)\n"
                "\n"
                "The session's DNS filter, run by the supervisor (coi shell and coi run set these;\n"
                "docs/network.md):\n"
                "  --dns-fds U,T     its UDP and TCP sockets (inherited descriptors)\n"
                "  --dns-client IP   the container's address: the only one answered\n"
                "  --dns-upstream A  a resolver it asks (ADDR or ADDR@PORT; repeated)\n"
                "  --dns-mode M, --dns-allow ENTRY, --dns-port N, --dns-host IP=NAME[,NAME],\n"
                "  --dns-network CIDR, --dns-admit-private, --dns-admit-metadata,\n"
                "  --dns-min-ttl S   the policy\n"
                "  --dns-count-all   every query counts towards --dns-threshold, not only the\n"
                "                    refused ones\n"
                "\n"
                "SETTINGS, the [monitoring] keys a session passes on (docs/monitoring.md):\n"
                "  --no-pause        do not freeze the container on HIGH findings\n"
                "  --no-kill         do not stop and delete it on CRITICAL findings\n"
                "  --forensics       copy it to coi-forensics-NAME-TIME before deleting it\n"
                "  --one-liners critical|warn|off   interpreter one-liner reverse shells\n"
                "  --poll-interval S         seconds between samples of I/O, sockets, /tmp\n"
                "                            (default 1; processes and packets are events)\n"
                "  --read-threshold-mb N     MB read (or written) in a window (default 50)\n"
                "  --read-rate-mb N          and at least this many MB/s (default 10)\n"
                "  --audit-retention-days N  drop audit lines and logs older (default 30; 0 keeps all)\n"
                "  --max-processes N         live processes that are a WARNING (default 1000; 0: off)\n"
                "  --spawn-threshold N       processes started and still running within a poll\n"
                "                            interval that are a WARNING (default 200; 0: off);\n"
                "                            over both, with processes that copy themselves, a\n"
                "                            fork bomb: HIGH\n"
                "  --dns-threshold N         refused DNS queries a minute (with --dns-count-all,\n"
                "                            any) that are a HIGH finding (default 100)\n"
                "  --export-level L          the lowest level sent to on_finding and syslog\n"
                "                            (info, warning, high, critical; default warning)\n"
                "  --syslog                  send findings to syslog as JSON ($COI_SYSLOG_SOCKET,\n"
                "                            default /dev/log)\n"
                "  --metrics-dir DIR         keep DIR/NAME.prom, Prometheus counters\n"
                "  --gtfobins-dir DIR        GTFOBins entries to load besides coi's own\n"
                "  --sigma-dir DIR           Sigma rules to load besides coi's own\n"
                "The on_finding command and URL come from the environment, out of sight of ps:\n"
                "$COI_MONITOR_ON_FINDING and $COI_MONITOR_ON_FINDING_URL.",
};
