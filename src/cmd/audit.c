/* SPDX-License-Identifier: MIT */
/* coi audit: print a container's audit log (~/.coi/audit/NAME.jsonl), or every log when no
 * container is named; --follow keeps printing new lines (inotify, no polling). */
#include "monitor/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cmd/cmd.h"
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
		printf("%.*s\n", (int)len, line);
		return;
	}
	ev = json_get_obj(j, "evidence");
	kind = "";
	json_object_foreach(ev, key, v)
		kind = key;
	printf("%s%.19s  %-8s %-12s %-18s %s: %s\n", prefix, json_get_str(j, "timestamp") ?: "",
	       json_get_str(j, "level") ?: "", json_get_str(j, "action") ?: "", kind,
	       json_get_str(j, "title") ?: "", json_get_str(j, "description") ?: "");
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

static int show_all(bool json)
{
	_cleanup_free_ char *dir = coi_dir(), *adir = NULL;
	struct dirent **list = NULL;
	int n;

	adir = dir ? path_join(dir, "audit") : NULL;
	if (!adir)
		return cmd_failf("out of memory");
	n = scandir(adir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(list[i]->d_name);

		if (len > 6 && strcmp(list[i]->d_name + len - 6, ".jsonl") == 0) {
			list[i]->d_name[len - 6] = 0;
			(void)show(list[i]->d_name, json, false, !json);
		}
		free(list[i]);
	}
	free(list);
	return EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"follow", no_argument, NULL, 'f'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	bool follow = false, json = false;
	const char *name;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "fjh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cmd_help(&verb_audit);
		default:
			return cmd_usage_error(&verb_audit, "invalid option");
		}
	}
	name = optind < argc ? argv[optind++] : secure_getenv("COI_CONTAINER");
	if (optind < argc)
		return cmd_usage_error(&verb_audit, "unexpected argument '%s'", argv[optind]);
	if (!name || !*name) {
		if (follow)
			return cmd_usage_error(&verb_audit, "--follow needs a container NAME");
		return show_all(json);
	}
	return show(name, json, follow, false);
}

const struct verb verb_audit = {
        .name = "audit",
        .run = run,
        .summary = "print a container's security audit log",
        .usage = "Usage: coi audit [NAME] [--follow] [--json]\n"
                 "\n"
                 "Print the monitor's findings for NAME (default $COI_CONTAINER; without either,\n"
                 "every container's), from ~/.coi/audit/NAME.jsonl.\n"
                 "\n"
                 "  -f, --follow   keep printing new findings as they are written\n"
                 "      --json     print the raw JSON lines",
};
