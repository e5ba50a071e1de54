/* SPDX-License-Identifier: MIT */
/* session-cmd.c: see session-cmd.h. */
#include "cmd/session-cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/output.h"
#include "config/config.h"
#include "image/image.h"
#include "incus/incus.h"
#include "monitor/settings.h"
#include "session/incus-opts.h"
#include "session/protect.h"
#include "session/saved.h"
#include "session/secrets.h"
#include "session/tool.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/path.h"
#include "util/run.h"
#include "util/strv.h"

int session_cmd_parse(const struct verb *v, int argc, char **argv, struct session_cmd *sc)
{
	static const struct option opts[] = {
	        {"workspace", required_argument, NULL, 'w'},
	        {"slot", required_argument, NULL, 'S'},
	        {"persistent", no_argument, NULL, 'P'},
	        {"image", required_argument, NULL, 'I'},
	        {"profile", required_argument, NULL, 'p'},
	        {"resume", optional_argument, NULL, 'R'},
	        {"continue", optional_argument, NULL, 'R'},
	        {"prompt", required_argument, NULL, 'T'},
	        {"prompt-file", required_argument, NULL, 'F'},
	        {"prompt-name", required_argument, NULL, 'N'},
	        {"unsafe-workspace", no_argument, NULL, 'U'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"tty", no_argument, NULL, 't'},
	        {"debug", no_argument, NULL, 'D'},
	        {"background", no_argument, NULL, 'B'},
	        {"container", required_argument, NULL, 'C'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	bool run = strcmp(v->name, "run") == 0;
	int c;

	sc->persistent = -1;
	sc->detachable = strcmp(v->name, "shell") == 0;
	optind = 0;
	while ((c = getopt_long(argc, argv,
	                        run ? "+w:qth" : "w:qh" /* shell: options after ALIAS too */, opts,
	                        NULL)) != -1) {
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
		case 'p':
			sc->profile = optarg;
			break;
		case 'U':
			sc->unsafe_workspace = true;
			break;
		case 'R':
			sc->resume = true;
			sc->resume_id = optarg;
			break;
		case 'T':
		case 'F':
		case 'N':
			/* headless agent runs are coi run's; one prompt, from one place */
			if (!run) {
				cmd_usage_error(v,
				                "--prompt, --prompt-file and --prompt-name are for "
				                "'coi run'");
				return -EXIT_USAGE;
			}
			if (session_cmd_has_prompt(sc)) {
				cmd_usage_error(v, "give one prompt: --prompt, --prompt-file or "
				                   "--prompt-name");
				return -EXIT_USAGE;
			}
			*(c == 'T'   ? &sc->prompt
			  : c == 'F' ? &sc->prompt_file
			             : &sc->prompt_name) = optarg;
			break;
		case 'q':
			log_set_level(LOG_LEVEL_ERROR); /* as coi -q */
			break;
		case 't':
			if (!run)
				return -cmd_bad_option(v, argv);
			sc->tty = true;
			break;
		case 'D':
		case 'B':
		case 'C':
			if (run) /* coi shell's */
				return -cmd_bad_option(v, argv);
			sc->debug |= c == 'D';
			sc->background |= c == 'B';
			if (c == 'C')
				sc->container = optarg;
			break;
		case 'h':
			cmd_help(v);
			return 0;
		default:
			cmd_bad_option(v, argv);
			return -EXIT_USAGE;
		}
	}
	return 1;
}

static volatile sig_atomic_t time_up;

/* limits.runtime.auto_stop = false: max_duration only warns */
static const char warn_only[] = "coi: [limits] max_duration reached; auto_stop = false, so the "
                                "session goes on\n";

static void on_alarm(int sig)
{
	(void)sig;
	time_up = 1;
	raise(SIGTERM); /* the session's own handler interrupts the command */
}

static void on_alarm_warn(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, warn_only, sizeof(warn_only) - 1);
}

/* limits.runtime of a session that can outlive this process (coi shell, detached): the
 * supervisor ends it at max_duration once this process is gone (monitor/deadline.h); with
 * monitoring off, a supervisor runs for that alone. */
static int deadline_from_config(struct session_opts *o, const struct coi_config *cfg)
{
	const typeof(cfg->limits.runtime) *rt = &cfg->limits.runtime;
	int64_t secs =
	        rt->max_duration_sec > UINT32_MAX / 2 ? UINT32_MAX / 2 : rt->max_duration_sec;
	int grace = rt->stop_graceful && cfg->container.shutdown_timeout > 0
	                    ? cfg->container.shutdown_timeout
	                    : 0;
	char num[2][24];

	if (secs <= 0)
		return 0;
	snprintf(num[0], sizeof(num[0]), "%lld", (long long)secs);
	snprintf(num[1], sizeof(num[1]), "%d", grace);
	if ((!o->monitor_argv && strv_push(&o->monitor_argv, "--timer-only") < 0) ||
	    strv_push(&o->monitor_argv, "--max-duration") < 0 ||
	    strv_push(&o->monitor_argv, num[0]) < 0 ||
	    strv_push(&o->monitor_argv, "--stop-timeout") < 0 ||
	    strv_push(&o->monitor_argv, num[1]) < 0 ||
	    (!rt->auto_stop && strv_push(&o->monitor_argv, "--duration-warn-only") < 0))
		return -ENOMEM;
	return 0;
}

/* [monitoring]: the supervisor's arguments (monitor/settings.h). Alerts go to this terminal
 * (stderr's), outside the agent's tmux pane. */
static int monitor_from_config(struct session_opts *o, const struct coi_config *cfg,
                               bool detachable, struct coi_error *err)
{
	const char *tty = isatty(STDERR_FILENO) ? ttyname(STDERR_FILENO) : NULL;
	int r;

	r = monitor_config_argv(cfg, &o->monitor_argv, err);
	if (r >= 0)
		r = monitor_config_env(cfg, &o->monitor_env, err);
	if (r >= 0 && detachable && deadline_from_config(o, cfg) < 0)
		r = coi_error_oom(err);
	if (r < 0 || !o->monitor_argv || !tty)
		return r;
	if (strv_push(&o->monitor_argv, "--tty") < 0 || strv_push(&o->monitor_argv, tty) < 0)
		return coi_error_oom(err);
	return 0;
}

static int replace(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* What one env_command may print: a value, not a file. */
#define ENV_COMMAND_OUTPUT_MAX ((size_t)64 << 10)

/* [defaults] env_commands: each NAME = "host command" runs now, on the host (sh -c, no input,
 * env_command_timeout at most), and its output without the final newlines becomes NAME in the
 * session. A failure stops the start, naming the variable, as in the original. Only trusted
 * files set them (the loader's trust filter). */
static int env_commands(struct session_opts *o, const struct coi_config *cfg, struct coi_error *err)
{
	int64_t secs = cfg->defaults.env_command_timeout_sec;
	unsigned timeout = secs <= 0 ? 1 : secs > 3600 ? 3600 : (unsigned)secs;

	for (size_t i = 0; i < cfg->defaults.n_env_commands; i++) {
		const struct config_env *e = &cfg->defaults.env_commands[i];
		_cleanup_buf_ struct buf out = BUF_INIT(ENV_COMMAND_OUTPUT_MAX),
		                         errb = BUF_INIT(4096);
		char *argv[] = {"sh", "-c", e->value, NULL};
		int st = run_capture(
		        &(struct run_opts){
		                .argv = argv, .out = &out, .errb = &errb, .timeout_sec = timeout},
		        err);
		char *v;

		if (st == -ETIMEDOUT)
			return coi_error_set(
			        err, st,
			        "[defaults] env_commands: %s: '%s' took more than %u s "
			        "(env_command_timeout)",
			        e->name, e->value, timeout);
		if (st < 0)
			return coi_error_prefix(err, "[defaults] env_commands: %s", e->name);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return coi_error_set(
			        err, -EIO,
			        "[defaults] env_commands: %s: '%s' failed (exit %d): %.200s",
			        e->name, e->value, WIFEXITED(st) ? WEXITSTATUS(st) : 128,
			        buf_str(&errb));
		v = (char *)buf_str(&out);
		for (size_t n = strlen(v); n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'); n--)
			v[n - 1] = '\0';
		if (session_opts_add_env(o, e->name, v) < 0)
			return coi_error_oom(err);
	}
	return 0;
}

static bool env_is_1(const char *name)
{
	const char *v = secure_getenv(name);

	return v && strcmp(v, "1") == 0;
}

int session_cmd_config(struct session_cmd *sc, struct coi_error *err)
{
	_cleanup_free_ char *ws = NULL;
	_cleanup_strv_free_ char **warnings = NULL;
	int r;

	r = path_absolute(sc->workspace_arg ? sc->workspace_arg : ".", &ws, err);
	if (r < 0)
		return r;
	r = config_load(&(struct config_load_opts){.workspace = ws, .profile = sc->profile},
	                &sc->config, &warnings, err);
	cmd_warnings(warnings);
	if (r < 0)
		return r;
	strv_free(warnings);
	warnings = NULL;
	if (sc->no_pause)
		sc->config->monitoring.auto_pause_on_high = false;
	r = session_opts_default(ws, &sc->opts, err);
	if (r < 0)
		return r;
	r = session_opts_from_config(sc->config, &sc->opts, &warnings, err);
	cmd_warnings(warnings);
	if (r >= 0)
		r = env_commands(&sc->opts, sc->config, err);
	if (r < 0)
		return r;
	if (sc->image && replace(&sc->opts.image, sc->image) < 0)
		return coi_error_oom(err);
	if (sc->resume) {
		r = saved_session_find(sc->opts.tool, ws, sc->resume_id, &sc->opts.resume_dir, err);
		if (r < 0)
			return r;
	}
	r = monitor_from_config(&sc->opts, sc->config, sc->detachable, err);
	if (r < 0)
		return r;
	warnings = strv_free(warnings);
	r = session_secrets_from_config(&sc->opts, sc->config, &warnings, err);
	cmd_warnings(warnings);
	if (r < 0)
		return r;
	if (sc->slot)
		sc->opts.slot = sc->slot;
	/* a flag or the environment of this command, never a config file */
	sc->opts.unsafe_workspace = sc->unsafe_workspace || env_is_1("COI_UNSAFE_WORKSPACE");
	if (sc->persistent == 1)
		sc->opts.persistent = true;
	return 0;
}

/* The git directories beyond the workspace's own, "a, b, c and N more" (NULL when none). */
static char *nested_gitdirs(const struct protect_plan *p)
{
	size_t n = strv_length(p->gitdirs), shown = 0, skip = p->gitdir_rel ? 1 : 0;
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *j = NULL;
	char *r = NULL;

	if (n <= skip)
		return NULL;
	for (size_t i = skip; i < n && shown < 6; i++, shown++)
		if (strv_push(&l, p->gitdirs[i]) < 0)
			return NULL;
	j = strv_join(l, ", ");
	if (!j || n - skip + p->gitdirs_left == shown)
		return TAKE_PTR(j);
	return asprintf(&r, "%s and %zu more", j, n - skip + p->gitdirs_left - shown) < 0 ? NULL
	                                                                                  : r;
}

static void print_report(const struct session *s)
{
	_cleanup_free_ char *list = NULL, *nested = NULL;
	_cleanup_strv_free_ char **rels = NULL;

	if (cmd_quiet())
		return;

	for (size_t i = 0; s->plan && i < s->plan->n_entries; i++)
		if (!s->plan->entries[i].nested)
			(void)strv_push(&rels, s->plan->entries[i].rel);
	list = strv_join(rels, ", ");
	nested = s->plan ? nested_gitdirs(s->plan) : NULL;
	fprintf(stderr, "coi: session %s (slot %d%s)\n", s->name, s->slot,
	        s->reused ? ", resumed persistent container" : "");
	if (list && *list)
		fprintf(stderr, "Protected paths (mounted read-only): %s\n", output_safe(list));
	if (nested)
		fprintf(stderr, "Git directories with the same paths read-only: %s\n",
		        output_safe(nested));
	rels = strv_free(rels);
	for (size_t i = 0; s->hidden && i < s->hidden->n_entries; i++)
		(void)strv_push(&rels, s->hidden->entries[i].rel);
	free(list);
	list = strv_join(rels, ", ");
	if (list && *list)
		fprintf(stderr, "Hidden ([security] secret_paths, empty and read-only): %s\n",
		        output_safe(list));
	strv_foreach(n, s->hidden ? s->hidden->notes : NULL)
		fprintf(stderr, "coi: note: %s\n", output_safe(*n));
	for (size_t i = 0; i < s->opts->n_ports; i++) {
		const struct session_port *p = &s->opts->ports[i];

		fprintf(stderr, "%s%s%s%s:%u -> %u",
		        i ? ", " : "Published ports: ", p->name ? p->name : "", p->name ? " " : "",
		        p->listen, p->host, p->container);
		if (i + 1 == s->opts->n_ports)
			fputc('\n', stderr);
	}
	strv_foreach(n, s->plan ? s->plan->notes : NULL)
		fprintf(stderr, "coi: note: %s\n", output_safe(*n));
}

/* Kernels before 5.15 lack pieces the container isolation relies on (idmapped mounts on more
 * filesystems, seccomp and user-namespace fixes). */
static void warn_old_kernel(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 15)))
		fprintf(stderr,
		        "coi: warning: kernel %s is older than 5.15; container isolation may "
		        "lack security fixes ('coi health' says more)\n",
		        u.release);
}

/* The most a prompt file may hold: prompts are instructions, not data. */
#define PROMPT_MAX ((size_t)1 << 20)

/* The agent's command line answering one prompt (--prompt, --prompt-file, --prompt-name),
 * headless. Nobody is there to answer the agent's permission questions, so it needs the bypass
 * mode. */
static int headless_argv(struct session_cmd *sc, struct coi_error *err)
{
	const struct tool *t = tool_find(sc->opts.tool);
	_cleanup_free_ char *owned = NULL;
	const char *text = sc->prompt;
	int r = 0;

	if (!t)
		return coi_error_set(err, -EINVAL, "tool '%s' has no headless mode (one of: %s)",
		                     sc->opts.tool, tool_names());
	if (!sc->opts.bypass)
		return coi_error_set(
		        err, -EINVAL,
		        "a headless run needs tool.permission_mode = \"bypass\": nobody "
		        "is there to answer the agent's questions");
	if (sc->prompt_file) {
		r = config_prompt_read(&(struct config_prompt){.file = (char *)sc->prompt_file},
		                       PROMPT_MAX, &owned, err);
		if (r < 0)
			return coi_error_prefix(err, "--prompt-file");
	} else if (sc->prompt_name) {
		r = config_prompt_text(sc->config, sc->prompt_name, PROMPT_MAX, &owned, err);
		if (r < 0)
			return r;
	}
	if (owned)
		text = owned;
	if (!*text)
		return coi_error_set(err, -EINVAL, "the prompt is empty");
	/* as coi shell: a resumed session is restored, and the agent continues its newest */
	sc->agent_argv = tool_argv(t, &(struct tool_launch){.binary = sc->opts.tool_binary,
	                                                    .bypass = true,
	                                                    .options = sc->opts.tool_options,
	                                                    .resume_latest = sc->resume,
	                                                    .prompt = text});
	return sc->agent_argv ? 0 : coi_error_oom(err);
}

static void print_captured_aside(const struct incus_exec_result *c)
{
	if (c->out_len)
		fwrite(c->out, 1, c->out_len, stderr);
	if (c->err_len)
		fwrite(c->err, 1, c->err_len, stderr);
}

/* The most a [tool] pre_launch command may take. */
#define PRE_LAUNCH_SECONDS "300"

/* [tool] pre_launch: each command in the container before the agent (or the command) starts, as
 * code in the workspace with the session's environment, its output on stderr, at most five
 * minutes. A failure is reported and the session goes on, as in the original; an interrupt
 * stops the start. */
static int pre_launch(struct session_cmd *sc, struct coi_error *err)
{
	strv_foreach(cmd, sc->config->tool.pre_launch) {
		char *argv[] = {"timeout", PRE_LAUNCH_SECONDS, "sh", "-c", *cmd, NULL};
		int status;

		fprintf(stderr, "coi: pre_launch: %s\n", *cmd);
		status = session_exec_aside(sc->session, argv, err);
		if (status >= 0) /* a client without streaming exec: the output, at the end */
			print_captured_aside(session_captured(sc->session));
		if (status < 0)
			return status == -ECANCELED ? status
			                            : coi_error_prefix(err, "[tool] pre_launch");
		if (status == 124)
			fprintf(stderr,
			        "coi: warning: [tool] pre_launch: '%s' took more than %s s and "
			        "was stopped; going on\n",
			        *cmd, PRE_LAUNCH_SECONDS);
		else if (status != 0)
			fprintf(stderr,
			        "coi: warning: [tool] pre_launch: '%s' failed (exit %d); going "
			        "on\n",
			        *cmd, status);
	}
	return 0;
}

/* [container] stale_base_check: an image coi built from an older recipe than this coi's lacks what
 * the recipe has since gained; warn, refuse ("error"), or say nothing ("off"). A missing image is
 * the session's to report. */
static int check_stale_image(struct session_cmd *sc, struct coi_error *err)
{
	const char *mode = sc->config->container.stale_base_check;
	_cleanup_free_ char *built = NULL;
	struct coi_error ignore = {0};
	int r;

	if (!mode || strcmp(mode, "off") == 0)
		return 0;
	r = image_recipe_stale(sc->client, sc->opts.image, &built, &sc->opts.image_target, &ignore);
	if (r <= 0)
		return 0;
	if (strcmp(mode, "error") == 0)
		return coi_error_set(err, -ESTALE,
		                     "the image '%s' (built %s) is older than this coi's recipe: "
		                     "rebuild it with 'coi build --force', or set [container] "
		                     "stale_base_check = \"warn\"",
		                     sc->opts.image, built);
	fprintf(stderr,
	        "coi: warning: the image '%s' (built %s) is older than this coi's recipe: 'coi "
	        "build --force' makes it anew ([container] stale_base_check)\n",
	        sc->opts.image, built);
	return 0;
}

int session_cmd_start(struct session_cmd *sc, struct coi_error *err)
{
	struct incus_client_opts o;
	struct output_progress bar;
	int r;

	warn_old_kernel();
	r = sc->config ? 0 : session_cmd_config(sc, err); /* coi shell read it already */
	if (r < 0)
		return r;
	if (session_cmd_has_prompt(sc)) {
		r = headless_argv(sc, err);
		if (r < 0)
			return r;
	}
	session_incus_client_opts(sc->config, &o);
	r = incus_client_new(&o, &sc->client, err);
	if (r >= 0)
		r = check_stale_image(sc, err);
	if (r < 0)
		return r;
	cmd_mend_dead_sessions(sc->client);
	session_install_signal_handlers();
	output_progress_begin(&bar, "creating the container");
	sc->opts.create_wait.progress = output_progress_incus;
	sc->opts.create_wait.userdata = &bar;
	r = session_start(&sc->opts, sc->client, &sc->session, err);
	output_progress_end(&bar);
	sc->opts.create_wait = (struct incus_wait){0};
	if (r < 0)
		return r;
	print_report(sc->session);
	if (sc->config->limits.runtime.max_duration_sec > 0) {
		int64_t secs = sc->config->limits.runtime.max_duration_sec;

		/* enforced here while this coi runs; a detached shell's supervisor takes over */
		signal(SIGALRM, sc->config->limits.runtime.auto_stop ? on_alarm : on_alarm_warn);
		alarm(secs > UINT_MAX ? UINT_MAX : (unsigned)secs);
	}
	return pre_launch(sc, err);
}

int session_cmd_fail(const struct coi_error *err)
{
	int sig = session_interrupt_signal();

	if (!sig)
		return cmd_fail(err);
	fprintf(stderr, "coi: %s\n", coi_error_message(err));
	return 128 + sig;
}

int session_cmd_finish(struct session_cmd *sc, int status)
{
	_cleanup_strv_free_ char **warnings = NULL;
	struct coi_error err = {0};
	int r;

	if (!sc->session)
		return status;
	alarm(0);
	if (time_up) {
		fprintf(stderr, "coi: [limits] max_duration (%s) reached: ending the session\n",
		        sc->config->limits.runtime.max_duration);
		/* graceful: the agent and its processes get the shutdown signal first */
		if (sc->config->limits.runtime.stop_graceful) {
			incus_interrupt_reset();
			(void)incus_instance_set_state(
			        sc->client, sc->session->name, INCUS_ACTION_STOP, false,
			        sc->config->container.shutdown_timeout, NULL);
		}
	}
	r = session_stop(sc->session, &err);
	warnings = session_take_warnings(sc->session);
	cmd_warnings(warnings);
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
	sc->config = config_free(sc->config);
	sc->agent_argv = strv_free(sc->agent_argv);
	session_opts_release(&sc->opts);
}
