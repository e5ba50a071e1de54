/* SPDX-License-Identifier: MIT */
/* coi list: the sessions on this daemon, as a table or JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "cmd/table.h"
#include "incus/incus.h"
#include "session/fleet.h"
#include "session/saved.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

const struct verb verb_list;

/* What the network mode blocks, as the sandbox context says it. */
static json_t *network_json(const char *mode)
{
	const char *blocks = strcmp(mode, "open") == 0 ? "nothing"
	                     : strcmp(mode, "allowlist") == 0
	                             ? "everything but the allowed destinations; names not "
	                               "allowed do not resolve"
	                             : "private networks, link-local and cloud metadata, other "
	                               "containers, IPv6";

	return json_pack("{s:s, s:s}", "mode", *mode ? mode : "unknown", "blocks", blocks);
}

/* The STATUS column's word: a running session without its coi is Orphaned; a container of the
 * warm pool, no session yet, is Warm. */
static const char *entry_status(const struct fleet_entry *e)
{
	return e->warm ? "Warm" : e->orphan ? "Orphaned" : e->status;
}

static json_t *entry_json(const struct fleet_entry *e)
{
	json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s?, s:s, s:b, s:b, s:s, s:s}", "name",
	                      e->name, "workspace", e->workspace, "slot", e->slot, "mode",
	                      e->persistent ? "persistent" : "ephemeral", "status", e->status,
	                      "ipv4", e->ipv4, "image", e->image, "orphan", e->orphan, "warm",
	                      e->warm, "tool", e->tool, "created_at", e->created_at);

	json_t *ports = json_array();

	for (size_t i = 0; ports && e->ports && e->ports[i]; i++)
		if (json_array_append_new(ports, json_string(e->ports[i])) < 0)
			json_decref(TAKE_PTR(ports));
	if (!j || json_object_set_new(j, "network", network_json(e->network_mode)) < 0 ||
	    json_object_set_new(j, "ports", ports) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* --all: the saved sessions too. */
static json_t *saved_json(void)
{
	struct saved_entry *l = NULL;
	size_t n = 0;
	json_t *arr = json_array();

	if (!arr || saved_list(&l, &n, NULL) < 0)
		return arr;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "session_id", l[i].id,
		                                     "tool", l[i].tool, "workspace", l[i].workspace,
		                                     "saved_at", l[i].saved_at));
	saved_list_release(l, n);
	return arr;
}

static int print_saved_table(void)
{
	static const char *const headers[] = {"SAVED SESSION", "TOOL", "WORKSPACE", "SAVED AT",
	                                      NULL};
	struct table *t = table_new(headers);
	struct saved_entry *l = NULL;
	size_t n = 0;

	if (!t || saved_list(&l, &n, NULL) < 0) {
		table_free(t);
		return cmd_failf("cannot read the saved sessions");
	}
	for (size_t i = 0; i < n; i++) {
		const char *row[] = {l[i].id, l[i].tool, l[i].workspace, l[i].saved_at, NULL};

		(void)table_add(t, row);
	}
	printf("\n");
	if (n)
		table_print(t, stdout);
	else
		printf("no saved sessions\n");
	saved_list_release(l, n);
	table_free(t);
	return EXIT_OK;
}

static int print_json(const struct fleet *f, int all)
{
	_cleanup_json_ json_t *arr = json_array(), *top = NULL;
	_cleanup_free_ char *s = NULL;

	for (size_t i = 0; arr && i < f->n; i++)
		if (json_array_append_new(arr, entry_json(&f->items[i])) < 0)
			return cmd_failf("out of memory");
	top = arr ? json_pack("{s:O}", "active_containers", arr) : NULL;
	if (top && all)
		json_object_set_new(top, "saved_sessions", saved_json());
	s = top ? json_dumps(top, JSON_INDENT(2)) : NULL;
	if (!s)
		return cmd_failf("out of memory");
	printf("%s\n", s);
	return EXIT_OK;
}

static int print_table(const struct fleet *f)
{
	static const char *const headers[] = {"NAME",   "WORKSPACE", "SLOT", "MODE",
	                                      "STATUS", "TOOL",      "AGE",  "IPV4",
	                                      "IMAGE",  "PORTS",     NULL};
	struct table *t;
	bool any_ports = false;

	/* the PORTS column only when a session publishes one */
	for (size_t i = 0; i < f->n; i++)
		any_ports = any_ports || f->items[i].ports;
	t = table_new(any_ports
	                      ? headers
	                      : (const char *const[]){"NAME", "WORKSPACE", "SLOT", "MODE", "STATUS",
	                                              "TOOL", "AGE", "IPV4", "IMAGE", NULL});

	if (!t)
		return cmd_failf("out of memory");
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_entry *e = &f->items[i];
		_cleanup_free_ char *ports = e->ports ? strv_join(e->ports, ",") : NULL;
		char slot[16], status[64], age[16];
		const char *st = entry_status(e);
		enum output_color sc = output_status_color(st);
		const char *row[] = {e->name,
		                     e->workspace,
		                     slot,
		                     e->persistent ? "persistent" : "ephemeral",
		                     status,
		                     *e->tool ? e->tool : NULL,
		                     output_age(e->created_at, age, sizeof(age)),
		                     e->ipv4,
		                     e->image,
		                     any_ports ? (ports ? ports : "") : NULL,
		                     NULL};

		(void)snprintf(slot, sizeof(slot), "%d", e->slot);
		/* colour only on a terminal without NO_COLOR (output_color() is "" otherwise) */
		(void)snprintf(status, sizeof(status), "%s%s%s", output_color(stdout, sc),
		               st ? st : "",
		               sc == OUTPUT_RESET ? "" : output_color(stdout, OUTPUT_RESET));
		if (table_add(t, row) < 0) {
			table_free(t);
			return cmd_failf("out of memory");
		}
	}
	if (f->n == 0)
		fprintf(stderr, "coi: no sessions\n");
	else
		table_print(t, stdout);
	table_free(t);
	return EXIT_OK;
}

/* --status STATE (--running, --stopped): keep the sessions in that state, as the STATUS column
 * shows it (Orphaned included), whatever the case. */
static void filter_status(struct fleet *f, const char *want)
{
	size_t kept = 0;

	for (size_t i = 0; i < f->n; i++) {
		if (strcasecmp(entry_status(&f->items[i]), want) == 0) {
			f->items[kept++] = f->items[i];
			continue;
		}
		fleet_entry_release(&f->items[i]);
	}
	f->n = kept;
}

static const char *const statuses[] = {"running", "stopped", "frozen", "orphaned",
                                       "warm",    "error",   NULL};

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},    {"format", required_argument, NULL, 'f'},
	        {"all", no_argument, NULL, 'a'},     {"status", required_argument, NULL, 's'},
	        {"running", no_argument, NULL, 'R'}, {"stopped", no_argument, NULL, 'S'},
	        {"help", no_argument, NULL, 'h'},    {0},
	};
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	struct coi_error err = {0};
	struct fleet f = {0};
	const char *status = NULL;
	int o, json = 0, all = 0, r;

	optind = 0;
	while ((o = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'f':
			r = cmd_parse_format(&verb_list, optarg, &json);
			if (r)
				return r;
			break;
		case 's':
		case 'R':
		case 'S':
			if (status)
				return cmd_usage_error(&verb_list,
				                       "give one of --status, --running "
				                       "and --stopped");
			status = o == 'R' ? "running" : o == 'S' ? "stopped" : optarg;
			if (!strv_contains((char **)statuses, status))
				return cmd_usage_error(&verb_list,
				                       "--status takes running, stopped, frozen, "
				                       "orphaned, warm or error, not '%s'",
				                       status);
			break;
		case 'h':
			return cmd_help(&verb_list);
		default:
			return cmd_bad_option(&verb_list, argv);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&verb_list, "unexpected argument '%s'", argv[optind]);
	if (cmd_open_client(&c) != 0)
		return EXIT_FAIL;
	r = fleet_list(c, true, &f, &err);
	if (r < 0)
		return cmd_fail(&err);
	if (status)
		filter_status(&f, status);
	r = json ? print_json(&f, all) : print_table(&f);
	if (!json && all && r == EXIT_OK)
		r = print_saved_table();
	fleet_release(&f);
	return r;
}

const struct verb verb_list = {
        .name = "list",
        .run = run,
        .summary = "list sessions (containers) on this daemon",
        .usage =
                "Usage: coi list [--all] [--status STATE | --running | --stopped] [--json]\n"
                "\n"
                "List coi's containers: name, workspace, slot, mode (ephemeral or persistent),\n"
                "status, tool, age, IPv4 and image. A running ephemeral session whose coi process\n"
                "is gone is shown as Orphaned ('coi clean --orphans' removes it); a container of\n"
                "the warm pool ([container] warm), booted for the next session, as Warm.\n"
                "\n"
                "  -a, --all               the saved sessions too (coi shell --resume=ID)\n"
                "  --status running|stopped|frozen|orphaned|warm|error\n"
                "                          only the sessions in that state\n"
                "  --running, --stopped    the same as --status running, --status stopped\n"
                "  --json, --format json   JSON: {\"active_containers\": [...]}",
};
