/* SPDX-License-Identifier: MIT */
/* coi container: low-level verbs over the Incus client (launch, start, stop, delete, exec, list,
 * info, exists, running, mount). Tests and scripts rely on them; exec passes the command's exit
 * status through. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "cmd/subcmd.h"
#include "incus/incus.h"
#include "util/error.h"
#include "util/strv.h"

const struct verb verb_container;

#define USAGE_ERROR(...) cmd_usage_error(&verb_container, __VA_ARGS__)
#define BAD_OPTION(argv) cmd_bad_option(&verb_container, argv)

/* getopt_long over a table; returns the option or -1 at the end, and '?' on errors. */
static int next_opt(int argc, char **argv, const char *shortopts, const struct option *opts)
{
	return getopt_long(argc, argv, shortopts, opts, NULL);
}

static int cmd_launch(struct incus_client *c, const void *args, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"ephemeral", no_argument, NULL, 'e'},    {"storage", required_argument, NULL, 's'},
	        {"config", required_argument, NULL, 'c'}, {"profile", required_argument, NULL, 'p'},
	        {"no-start", no_argument, NULL, 'n'},     {0},
	};
	_cleanup_strv_free_ char **profiles = NULL;
	struct incus_map cfg = {0};
	struct incus_instance_spec spec = {.start = true};
	struct output_progress bar;
	struct incus_wait w = {.progress = output_progress_incus, .userdata = &bar};
	struct coi_error err = {0};
	int o, r;

	optind = 0;
	while ((o = next_opt(argc, argv, "es:c:p:", opts)) != -1) {
		char *eq;

		switch (o) {
		case 'e':
			spec.ephemeral = true;
			break;
		case 's':
			spec.storage_pool = optarg;
			break;
		case 'n':
			spec.start = false;
			break;
		case 'p':
			if (strv_push(&profiles, optarg) < 0)
				return cmd_failf("out of memory");
			break;
		case 'c':
			eq = strchr(optarg, '=');
			if (!eq)
				return USAGE_ERROR("--config wants KEY=VALUE, not '%s'", optarg);
			*eq = '\0';
			if (incus_map_set(&cfg, optarg, eq + 1) < 0)
				return cmd_failf("out of memory");
			break;
		default:
			incus_map_clear(&cfg);
			return BAD_OPTION(argv);
		}
	}
	if (argc - optind != 2) {
		incus_map_clear(&cfg);
		return USAGE_ERROR("usage: coi container launch IMAGE NAME [--ephemeral]");
	}
	spec.image_alias = argv[optind];
	spec.name = argv[optind + 1];
	spec.profiles = profiles;
	spec.config = &cfg;
	output_progress_begin(&bar, "creating the container");
	r = incus_instance_create(c, &spec, &w, &err);
	output_progress_end(&bar);
	incus_map_clear(&cfg);
	return r < 0 ? cmd_fail(&err) : EXIT_OK;
}

/* start/stop/delete NAME [--force] [--timeout N] */
static int cmd_state(struct incus_client *c, const void *args, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"force", no_argument, NULL, 'f'},
	        {"timeout", required_argument, NULL, 't'},
	        {0},
	};
	struct coi_error err = {0};
	bool force = false;
	int o, r, timeout = -1;

	optind = 0;
	while ((o = next_opt(argc, argv, "ft:", opts)) != -1) {
		if (o == 'f')
			force = true;
		else if (o == 't')
			timeout = atoi(optarg);
		else
			return BAD_OPTION(argv);
	}
	if (argc - optind != 1)
		return USAGE_ERROR("%s wants one container name", argv[0]);
	if (strcmp(argv[0], "delete") == 0)
		r = incus_instance_delete(c, argv[optind], force, &err);
	else if (strcmp(argv[0], "start") == 0)
		r = incus_instance_set_state(c, argv[optind], INCUS_ACTION_START, false, -1, &err);
	else
		r = incus_instance_set_state(c, argv[optind], INCUS_ACTION_STOP, force, timeout,
		                             &err);
	return r < 0 ? cmd_fail(&err) : EXIT_OK;
}

struct exec_args {
	struct incus_exec_opts o;
	char **env;
	bool tty, capture;
	const char *format;
};

static int parse_exec(int argc, char **argv, struct exec_args *a)
{
	static const struct option opts[] = {
	        {"user", required_argument, NULL, 'u'},   {"group", required_argument, NULL, 'g'},
	        {"env", required_argument, NULL, 'e'},    {"cwd", required_argument, NULL, 'w'},
	        {"tty", no_argument, NULL, 't'},          {"capture", no_argument, NULL, 'c'},
	        {"format", required_argument, NULL, 'F'}, {0},
	};
	char *end;
	int o;

	optind = 0;
	while ((o = next_opt(argc, argv, "u:g:e:w:t", opts)) != -1) {
		switch (o) {
		case 'u':
		case 'g':
			*(o == 'u' ? &a->o.uid : &a->o.gid) = strtoll(optarg, &end, 10);
			if (*end || end == optarg || *(o == 'u' ? &a->o.uid : &a->o.gid) < 0)
				return USAGE_ERROR("--%s wants a number, not '%s'",
				                   o == 'u' ? "user" : "group", optarg);
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return USAGE_ERROR("--env wants KEY=VALUE, not '%s'", optarg);
			if (strv_push(&a->env, optarg) < 0)
				return cmd_failf("out of memory");
			break;
		case 'w':
			a->o.cwd = optarg;
			break;
		case 't':
			a->tty = true;
			break;
		case 'c':
			a->capture = true;
			break;
		case 'F':
			a->format = optarg;
			break;
		default:
			return BAD_OPTION(argv);
		}
	}
	if (a->tty && a->capture)
		return USAGE_ERROR("--tty and --capture conflict");
	if (a->format && !a->capture)
		return USAGE_ERROR("--format requires --capture");
	if (a->format && strcmp(a->format, "json") != 0 && strcmp(a->format, "raw") != 0)
		return USAGE_ERROR("--format must be json or raw");
	if (argc - optind < 2)
		return USAGE_ERROR("usage: coi container exec NAME [OPTIONS] -- COMMAND...");
	a->o.argv = argv + optind + 1;
	a->o.env = a->env;
	return 0;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int print_capture_json(const struct incus_exec_result *res)
{
	json_t *j = json_pack("{s:s%, s:s%, s:i}", "stdout", res->out, res->out_len, "stderr",
	                      res->err, res->err_len, "exit_code", res->exit_status);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s)
		return cmd_failf("cannot encode the output as JSON");
	printf("%s\n", s);
	free(s);
	return res->exit_status;
}

static int cmd_exec(struct incus_client *c, const void *args, int argc, char **argv)
{
	struct exec_args a = {0};
	struct incus_exec_result res = {0};
	struct coi_error err = {0};
	int r;

	incus_exec_opts_init(&a.o);
	r = parse_exec(argc, argv, &a);
	if (r != 0) {
		strv_free(a.env);
		return r;
	}
	if (a.tty)
		a.o.mode = INCUS_EXEC_INTERACTIVE;
	else if (!a.capture)
		a.o.mode = INCUS_EXEC_STREAM;
	r = incus_exec(c, argv[optind], &a.o, &res, &err);
	strv_free(a.env);
	if (r < 0)
		return cmd_fail(&err);
	if (a.capture && a.format && strcmp(a.format, "json") == 0)
		r = print_capture_json(&res);
	else if (a.capture) {
		write_all(1, res.out, res.out_len);
		write_all(2, res.err, res.err_len);
		r = res.exit_status;
	} else {
		r = res.exit_status;
	}
	incus_exec_result_release(&res);
	return r;
}

static json_t *profiles_json(char **profiles)
{
	json_t *a = json_array();

	strv_foreach(p, profiles) {
		json_array_append_new(a, json_string(*p));
	}
	return a;
}

static json_t *instance_json(const struct incus_instance *i)
{
	const struct incus_nic *nic = i->state ? incus_state_nic(i->state, "eth0") : NULL;

	return json_pack("{s:s, s:s, s:s?, s:b, s:s?, s:o, s:s?, s:s?, s:I}", "name", i->name,
	                 "status", incus_status_to_string(i->status), "type", i->type, "ephemeral",
	                 i->ephemeral, "created_at", i->created_at, "profiles",
	                 profiles_json(i->profiles), "ipv4", nic ? nic->ipv4 : NULL, "host_veth",
	                 nic ? nic->host_name : NULL, "pid",
	                 (json_int_t)(i->state ? i->state->pid : 0));
}

static int cmd_list(struct incus_client *c, const void *args, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"format", required_argument, NULL, 'F'},
	        {"json", no_argument, NULL, 'j'},
	        {"prefix", required_argument, NULL, 'p'},
	        {0},
	};
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL;
	struct coi_error err = {0};
	const char *prefix = NULL;
	bool json = false;
	int o, n;

	optind = 0;
	while ((o = next_opt(argc, argv, "", opts)) != -1) {
		if (o == 'j' || (o == 'F' && strcmp(optarg, "json") == 0))
			json = true;
		else if (o == 'F' && strcmp(optarg, "text") != 0 && strcmp(optarg, "table") != 0)
			return USAGE_ERROR("--format must be text or json");
		else if (o == 'p')
			prefix = optarg;
		else if (o != 'F')
			return BAD_OPTION(argv);
	}
	n = incus_instance_list(c, prefix, INCUS_LIST_STATE, &l, &err);
	if (n < 0)
		return cmd_fail(&err);
	if (json) {
		json_t *arr = json_array();
		char *s;

		for (int i = 0; arr && i < n; i++)
			json_array_append_new(arr, instance_json(l[i]));
		s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
		json_decref(arr);
		if (!s)
			return cmd_failf("out of memory");
		printf("%s\n", s);
		free(s);
		return EXIT_OK;
	}
	printf("%-32s %-9s %-16s %s\n", "NAME", "STATUS", "IPV4", "EPHEMERAL");
	for (int i = 0; i < n; i++) {
		const struct incus_nic *nic = incus_state_nic(l[i]->state, "eth0");

		printf("%-32s %-9s %-16s %s\n", l[i]->name, incus_status_to_string(l[i]->status),
		       nic && nic->ipv4 ? nic->ipv4 : "-", l[i]->ephemeral ? "yes" : "no");
	}
	return EXIT_OK;
}

static void print_map(const char *title, const struct incus_map *m)
{
	if (m->n)
		printf("%s:\n", title);
	for (size_t i = 0; i < m->n; i++)
		printf("  %s: %s\n", output_safe(m->items[i].key), output_safe(m->items[i].value));
}

static int cmd_info(struct incus_client *c, const void *args, int argc, char **argv)
{
	_cleanup_(incus_instance_freep) struct incus_instance *i = NULL;
	struct coi_error err = {0};
	bool json = argc == 3 && strcmp(argv[2], "--json") == 0;

	if (argc != 2 && !json)
		return USAGE_ERROR("usage: coi container info NAME [--json]");
	if (incus_instance_get(c, argv[1], &i, &err) < 0 ||
	    incus_instance_state(c, argv[1], &i->state, &err) < 0)
		return cmd_fail(&err);
	if (json) {
		json_t *j = instance_json(i);
		json_t *cfg = json_object();
		char *s;

		for (size_t k = 0; cfg && k < i->expanded_config.n; k++)
			json_object_set_new(cfg, i->expanded_config.items[k].key,
			                    json_string(i->expanded_config.items[k].value));
		json_object_set_new(j, "config", cfg);
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		printf("%s\n", s ? s : "{}");
		free(s);
		return EXIT_OK;
	}
	{
		const struct incus_nic *nic = incus_state_nic(i->state, "eth0");
		_cleanup_free_ char *profiles = strv_join(i->profiles, ", ");

		printf("Name: %s\nStatus: %s\nType: %s\nEphemeral: %s\nCreated: %s\nProfiles: %s\n",
		       i->name, incus_status_to_string(i->status), i->type ? i->type : "-",
		       i->ephemeral ? "yes" : "no", i->created_at ? i->created_at : "-",
		       profiles ? profiles : "");
		printf("PID: %lld\nIPv4: %s\nHost veth: %s\n", (long long)i->state->pid,
		       nic && nic->ipv4 ? nic->ipv4 : "-",
		       nic && nic->host_name ? nic->host_name : "-");
		print_map("Config", &i->config);
	}
	return EXIT_OK;
}

/* As grep: the question could not be answered (the daemon is unreachable, say). Never 1, which
 * a script reads as "no". */
#define EXIT_PROBE_ERROR 2

/* exists NAME / running NAME: the answer is the exit status only */
static int cmd_probe(struct incus_client *c, const void *args, int argc, char **argv)
{
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	struct coi_error err = {0};
	int r;

	if (argc != 2)
		return USAGE_ERROR("usage: coi container %s NAME", argv[0]);
	if (strcmp(argv[0], "exists") == 0) {
		r = incus_instance_exists(c, argv[1], &err);
		if (r < 0)
			return cmd_fail(&err), EXIT_PROBE_ERROR;
		return r ? EXIT_OK : EXIT_FAIL;
	}
	r = incus_instance_state(c, argv[1], &st, &err);
	if (r == -ENOENT)
		return EXIT_FAIL;
	if (r < 0)
		return cmd_fail(&err), EXIT_PROBE_ERROR;
	return st->status == INCUS_STATUS_RUNNING ? EXIT_OK : EXIT_FAIL;
}

/* mount NAME DEVICE SOURCE PATH [--shift] [--readonly] */
static int cmd_mount(struct incus_client *c, const void *args, int argc, char **argv)
{
	static const struct option opts[] = {
	        {"shift", optional_argument, NULL, 's'},
	        {"readonly", no_argument, NULL, 'r'},
	        {0},
	};
	struct incus_devices devs = {0};
	struct coi_error err = {0};
	const char *shift = NULL;
	bool ro = false;
	int o, r;

	optind = 0;
	while ((o = next_opt(argc, argv, "", opts)) != -1) {
		if (o == 's')
			shift = optarg ? optarg : "true";
		else if (o == 'r')
			ro = true;
		else
			return BAD_OPTION(argv);
	}
	if (argc - optind != 4)
		return USAGE_ERROR("usage: coi container mount NAME DEVICE SOURCE PATH [--shift]");
	r = incus_devices_add(&devs, argv[optind + 1], "type", "disk", "source", argv[optind + 2],
	                      "path", argv[optind + 3], NULL);
	if (r == 0 && shift)
		r = incus_map_set(&devs.items[0].props, "shift", shift);
	if (r == 0 && ro)
		r = incus_map_set(&devs.items[0].props, "readonly", "true");
	if (r == 0)
		r = incus_instance_patch(c, argv[optind], NULL, &devs, &err);
	else
		r = coi_error_oom(&err);
	incus_devices_clear(&devs);
	return r < 0 ? cmd_fail(&err) : EXIT_OK;
}

/* clang-format off */
static const struct subcmd subcmds[] = {
	{ "launch",  .run = cmd_launch },
	{ "start",   .run = cmd_state },
	{ "stop",    .run = cmd_state },
	{ "delete",  .run = cmd_state },
	{ "exec",    .run = cmd_exec },
	{ "list",    .run = cmd_list },
	{ "info",    .run = cmd_info },
	{ "exists",  .run = cmd_probe },
	{ "running", .run = cmd_probe },
	{ "mount",   .run = cmd_mount },
};
/* clang-format on */

static int run(int argc, char **argv)
{
	const struct subcmd_table t = {
	        .verb = &verb_container,
	        .subs = subcmds,
	        .n = ELEMENTSOF(subcmds),
	};

	return subcmd_dispatch(&t, argc, argv);
}

const struct verb verb_container = {
        .name = "container",
        .run = run,
        .summary = "low-level container operations (launch, exec, list, ...)",
        .usage = "Usage: coi container SUBCOMMAND ...\n"
                 "\n"
                 "  launch IMAGE NAME [--ephemeral] [-s POOL] [-c KEY=VALUE]... [-p PROFILE]...\n"
                 "  start NAME\n"
                 "  stop NAME [--force] [--timeout S]\n"
                 "  delete NAME [--force]\n"
                 "  exec NAME [--user UID] [--group GID] [--env K=V]... [--cwd DIR] [-t]\n"
                 "       [--capture [--format json|raw]] -- COMMAND...\n"
                 "                     exits with the command's exit status\n"
                 "  list [--json|--format json] [--prefix P]\n"
                 "  info NAME [--json]\n"
                 "  exists NAME        exit 0 if the container exists, 1 if not, 2 on error\n"
                 "  running NAME       exit 0 if it is running, 1 if not, 2 on error\n"
                 "  mount NAME DEVICE SOURCE PATH [--shift[=BOOL]] [--readonly]",
};
