/* SPDX-License-Identifier: MIT */
/* coi audit: print a container's audit log (~/.coi/audit/NAME.jsonl), or every log when no
 * container is named; --follow keeps printing new lines (inotify, no polling). 'coi audit verify'
 * checks the logs' hash chains (audit-chain.h). */
#include "monitor/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "monitor/audit-chain.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

const struct verb verb_audit;

static void print_line(const char *line, size_t len, bool json, const char *prefix)
{
	_cleanup_json_ json_t *j = NULL;
	json_t *ev, *v;
	const char *kind, *key;

	if (len == 0)
		return;
	if (json || json_parse(line, len, &j, NULL) < 0) {
		printf("%.*s\n", (int)len, line); /* JSON: control characters are escaped */
		return;
	}
	ev = json_get_obj(j, "evidence");
	kind = "";
	json_object_foreach(ev, key, v)
		kind = key;
	/* a description quotes what ran in the container: escaped for the terminal */
	printf("%s%.19s  %-8s %-12s %-18s %s: %s\n", prefix,
	       output_safe(json_get_str(j, "timestamp") ?: ""),
	       output_safe(json_get_str(j, "level") ?: ""),
	       output_safe(json_get_str(j, "action") ?: ""), output_safe(kind),
	       output_safe(json_get_str(j, "title") ?: ""),
	       output_safe(json_get_str(j, "description") ?: ""));
}

/* Prints the lines of fd from its current offset; returns the bytes consumed. */
static int print_from(int fd, bool json, const char *prefix)
{
	static char pending[1 << 16];
	static size_t have;
	char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\n') {
				print_line(pending, have, json, prefix);
				have = 0;
			} else if (have < sizeof(pending)) {
				pending[have++] = chunk[i];
			}
		}
	}
	fflush(stdout);
	return n < 0 ? -errno : 0;
}

static int show(const char *name, bool json, bool follow, bool with_prefix)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF, ino = -EBADF;
	struct coi_error err = {0};
	char prefix[160] = "";

	if (audit_path(name, &path, &err) < 0)
		return cmd_fail(&err);
	if (with_prefix)
		snprintf(prefix, sizeof(prefix), "%s  ", name);
	if (follow) {
		/* Watch before reading, so no line falls between the two. */
		ino = inotify_init1(IN_CLOEXEC);
		*strrchr(path, '/') = 0;
		(void)mkdir_p(path, 0700);
		if (ino < 0 || inotify_add_watch(ino, path, IN_MODIFY | IN_CREATE) < 0)
			return cmd_failf("cannot watch '%s': %s", path, strerror(errno));
		path[strlen(path)] = '/';
	}
	for (;;) {
		char evbuf[4096];

		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && (errno != ENOENT || !follow))
			return errno == ENOENT
			               ? EXIT_OK
			               : cmd_failf("cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			(void)print_from(fd, json, prefix);
		if (!follow)
			return EXIT_OK;
		if (read(ino, evbuf, sizeof(evbuf)) < 0 && errno != EINTR)
			return cmd_failf("inotify: %s", strerror(errno));
	}
}

/* Calls fn for the container of each log in ~/.coi/audit, in name order; returns the worst
 * exit code. */
static int each_log(int (*fn)(const char *name, void *userdata), void *userdata)
{
	_cleanup_free_ char *dir = coi_dir(), *adir = NULL;
	struct dirent **list = NULL;
	int n, rc = EXIT_OK;

	adir = dir ? path_join(dir, "audit") : NULL;
	if (!adir)
		return cmd_failf("out of memory");
	n = scandir(adir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(list[i]->d_name);

		if (len > 6 && strcmp(list[i]->d_name + len - 6, ".jsonl") == 0) {
			list[i]->d_name[len - 6] = 0;
			if (fn(list[i]->d_name, userdata) != EXIT_OK)
				rc = EXIT_FAIL;
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

static int show_one(const char *name, void *userdata)
{
	bool json = *(bool *)userdata;

	(void)show(name, json, false, !json);
	return EXIT_OK;
}

/* ---- verify -------------------------------------------------------------------------------- */

struct verify_opts {
	bool json;
	bool has_anchor;
	struct audit_link anchor;
};

static void verify_text(const char *name, const struct audit_verify *v, const struct verify_opts *o)
{
	if (v->problem != AUDIT_INTACT) {
		printf("%s: %s", name, audit_problem_to_string(v->problem));
		if (v->problem_line)
			printf(", line %" PRIu64, v->problem_line);
		printf(": %s", v->what);
		if (v->problems > 1)
			printf(" (%u breaks in all)", v->problems);
		printf("\n");
		return;
	}
	if (v->records == 0) {
		printf("%s: intact: no records%s\n", name,
		       v->pruned ? " (every record was pruned)" : "");
		return;
	}
	printf("%s: intact: %" PRIu64 " records (%" PRIu64 "..%" PRIu64 "), last %" PRIu64 ":%.12s",
	       name, v->records, v->first.seq, v->last.seq, v->last.seq, v->last.hash);
	if (v->pruned)
		printf(", %" PRIu64 " earlier records pruned", v->pruned);
	if (v->legacy)
		printf(", %" PRIu64 " earlier lines not chained (written by an older coi)",
		       v->legacy);
	if (o->has_anchor)
		printf(v->anchor_pruned ? ", anchor %" PRIu64 " was pruned (not checked)"
		                        : ", anchor %" PRIu64 " matches",
		       o->anchor.seq);
	printf("\n");
}

static void verify_json(const char *name, const struct audit_verify *v)
{
	_cleanup_json_ json_t *o = json_pack(
	        "{s:s, s:b, s:s, s:I, s:s, s:i, s:I, s:I, s:I, s:s, s:I, s:I, s:I}", "container",
	        name, "ok", v->problem == AUDIT_INTACT, "status",
	        audit_problem_to_string(v->problem), "line", (json_int_t)v->problem_line, "what",
	        v->what, "breaks", (int)v->problems, "records", (json_int_t)v->records, "first_seq",
	        (json_int_t)v->first.seq, "last_seq", (json_int_t)v->last.seq, "last_hash",
	        v->last.hash, "pruned", (json_int_t)v->pruned, "legacy", (json_int_t)v->legacy,
	        "lines", (json_int_t)v->lines);
	_cleanup_free_ char *s = o ? json_encode(o) : NULL;

	if (s)
		printf("%s\n", s);
}

static int verify_one(const char *name, void *userdata)
{
	const struct verify_opts *o = userdata;
	struct coi_error err = {0};
	struct audit_verify v;

	if (audit_verify_log(name, o->has_anchor ? &o->anchor : NULL, &v, &err) < 0) {
		if (err.code == -ENOENT)
			return cmd_failf("no audit log for '%s'", name);
		return cmd_fail(&err);
	}
	if (o->json)
		verify_json(name, &v);
	else
		verify_text(name, &v, o);
	fflush(stdout);
	return v.problem == AUDIT_INTACT ? EXIT_OK : EXIT_FAIL;
}

/* --format text|json into a bool; non-zero (EXIT_USAGE, said) when neither. */
static int format_json(const char *arg, bool *json)
{
	int j = 0, r = cmd_parse_format(&verb_audit, arg, &j);

	*json = j;
	return r;
}

static int run_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"anchor", required_argument, NULL, 'a'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	struct verify_opts o = {0};
	const char *name;
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'F':
			if (format_json(optarg, &o.json))
				return EXIT_USAGE;
			break;
		case 'a':
			if (audit_link_parse(optarg, &o.anchor) < 0)
				return cmd_usage_error(
				        &verb_audit,
				        "--anchor takes SEQ:HASH (a record's seq and the "
				        "64 hex digits of its hash), not '%s'",
				        optarg);
			o.has_anchor = true;
			break;
		case 'h':
			return cmd_help(&verb_audit);
		default:
			return cmd_bad_option(&verb_audit, argv);
		}
	}
	name = optind < argc ? NULL : secure_getenv("COI_CONTAINER");
	if (optind == argc && (!name || !*name)) {
		if (o.has_anchor)
			return cmd_usage_error(&verb_audit, "--anchor needs a container NAME");
		return each_log(verify_one, &o);
	}
	if (name && *name)
		return verify_one(name, &o);
	if (o.has_anchor && argc - optind > 1)
		return cmd_usage_error(&verb_audit, "--anchor takes one container NAME");
	for (; optind < argc; optind++)
		if (verify_one(argv[optind], &o) != EXIT_OK)
			rc = EXIT_FAIL;
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"follow", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},
	        {"format", required_argument, NULL, 'F'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	bool follow = false, json = false;
	const char *name;
	int c;

	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return run_verify(argc - 1, argv + 1);
	optind = 0;
	while ((c = getopt_long(argc, argv, "fjh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'j':
			json = true;
			break;
		case 'F':
			if (format_json(optarg, &json))
				return EXIT_USAGE;
			break;
		case 'h':
			return cmd_help(&verb_audit);
		default:
			return cmd_bad_option(&verb_audit, argv);
		}
	}
	name = optind < argc ? argv[optind++] : secure_getenv("COI_CONTAINER");
	if (optind < argc)
		return cmd_usage_error(&verb_audit, "unexpected argument '%s'", argv[optind]);
	if (!name || !*name) {
		if (follow)
			return cmd_usage_error(&verb_audit, "--follow needs a container NAME");
		return each_log(show_one, &json);
	}
	return show(name, json, follow, false);
}

const struct verb verb_audit = {
        .name = "audit",
        .run = run,
        .summary = "print a container's security audit log",
        .usage =
                "Usage: coi audit [NAME] [--follow] [--json | --format text|json]\n"
                "       coi audit verify [NAME...] [--anchor SEQ:HASH] [--json | --format text|json]\n"
                "\n"
                "Print the monitor's findings for NAME (default $COI_CONTAINER; without either,\n"
                "every container's), from ~/.coi/audit/NAME.jsonl.\n"
                "\n"
                "  -f, --follow   keep printing new findings as they are written\n"
                "      --json     print the raw JSON lines\n"
                "\n"
                "verify checks each log's hash chain: every record carries the hash of the one\n"
                "before it, and ~/.coi/audit/NAME.head the last one written. It reports the first\n"
                "line that was changed, removed, moved or cut from the end, and exits 1 if any.\n"
                "  --anchor SEQ:HASH  also check that record SEQ is the one exported elsewhere\n"
                "                     (syslog and on_finding copies carry seq and hash)\n"
                "  --json             one JSON object per log",
};
