/* SPDX-License-Identifier: MIT */
/* monitor-files.c: the monitor's file sources (fanotify): credential files opened, persistence
 * written, the watch kept up to date as directories appear. Split from monitor.c
 * (monitor-internal.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "monitor/audit.h"
#include "monitor/monitor-internal.h"
#include "monitor/progid.h"
#include "monitor/sources.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strv.h"

/* ---- credential files (fanotify) ----------------------------------------------------------- */

/* Who opens a file, as the file rules judge it: the binary as progid knows it (a copy of ssh is
 * ssh: the name before ", copied"), else a binary in a system directory by its name; for an
 * interpreter, the installed program it runs (python3 /usr/bin/aws: "aws"; -m azure.cli; a
 * title it gave itself, "npm install": "npm"). The rules take the latter only for programs
 * that are scripts (a node script calling itself ssh is not ssh). */
static void opener_facts(struct monitor *m, pid_t pid, struct open_obs *o, char *prog,
                         size_t prog_size, char *script, size_t script_size)
{
	char exe[PATH_MAX] = "", path[64];
	enum prog_class cls =
	        m->progid ? progid_of_pid(m->progid, pid, prog, prog_size) : PROG_UNKNOWN;
	_cleanup_strv_free_ char **argv = NULL;
	ssize_t n;

	if (cls != PROG_UNKNOWN) {
		prog[strcspn(prog, ",")] = 0;
		o->program = prog;
	} else {
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		if (strncmp(exe, "/usr/", 5) == 0 || strncmp(exe, "/bin/", 5) == 0 ||
		    strncmp(exe, "/sbin/", 6) == 0 || strncmp(exe, "/opt/", 5) == 0) {
			snprintf(prog, prog_size, "%s", strrchr(exe, '/') + 1);
			o->program = prog;
		}
	}
	if (cls != PROG_INTERP || proc_argv(pid, &argv) < 0)
		return;
	for (size_t i = 1; argv[i]; i++) {
		const char *w = argv[i];

		if (strcmp(w, "-m") == 0 && argv[i + 1]) {
			snprintf(script, script_size, "%s", argv[i + 1]);
			o->script = script;
			return;
		}
		if (!*w || w[0] == '-')
			continue;
		if (strncmp(w, "/usr/", 5) == 0 || strncmp(w, "/opt/", 5) == 0) {
			snprintf(script, script_size, "%s", strrchr(w, '/') + 1);
			o->script = script;
			o->installed = true;
			return;
		}
		break;
	}
	/* A title the program set itself (npm's "npm install", padded with blanks): its first
	 * word. */
	if (prog_class_of_name(argv[0]) == PROG_OTHER) {
		const char *t = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

		snprintf(script, script_size, "%.*s", (int)strcspn(t, " "), t);
		o->script = script;
	}
}

/* A finding about a file: the process, the file, how it was seen. */
static void respond_file(struct monitor *m, const struct rule_hit *h, const struct file_event *ev,
                         const char *cmd, const char *how, const char *more)
{
	struct threat t;
	char desc[512];

	monitor_threat_from_hit(&t, h, desc, sizeof(desc));
	t.kind = EVIDENCE_PROCESS;
	t.ev.process.pid = ev->pid;
	t.ev.process.command = cmd;
	t.ev.process.user = "";
	t.ev.process.pattern = ev->path;
	t.ev.process.indicators[0] = h->reason;
	t.ev.process.indicators[1] = how;
	t.ev.process.indicators[2] = more;
	monitor_respond(m, &t, ev->path, clock_mono_ns());
}

/* A credential file opened: judged by what it is and which program opened it. Returns whether
 * the open may go on (a permission event waits for this). */
static bool on_open(struct monitor *m, const struct file_event *ev)
{
	struct rule_hit hits[RULES_MAX_HITS];
	char prog[320] = "", script[256] = "", comm[17] = "";
	struct open_obs o = {.pid = ev->pid, .path = ev->path, .private_key = ev->private_key};
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *cmd = NULL;
	bool allow = true;
	size_t n;

	opener_facts(m, ev->pid, &o, prog, sizeof(prog), script, sizeof(script));
	o.comm = proc_comm(ev->pid, comm) == 0 ? comm : NULL;
	o.packaging = monitor_under_package_manager(ev->pid);
	n = rules_match_open(&o, &m->rules, hits, RULES_MAX_HITS);
	if (n && proc_argv(ev->pid, &argv) >= 0)
		cmd = strv_join(argv, " ");
	for (size_t i = 0; i < n && m->result != 1; i++) {
		respond_file(m, &hits[i], ev, cmd ? cmd : comm,
		             ev->perm ? "opened (fanotify, held for the verdict)"
		                      : "opened (fanotify)",
		             strstr(ev->opened, ev->path) ? NULL : ev->opened);
		if ((hits[i].level == THREAT_HIGH && m->o->auto_pause_on_high) ||
		    (hits[i].level == THREAT_CRITICAL && m->o->auto_kill_on_critical))
			allow = false; /* refused, as the container is frozen or gone */
	}
	return allow;
}

/* A file that runs later was written: judged by what it gained. */
static void on_write(struct monitor *m, const struct file_event *ev)
{
	struct rule_hit hits[RULES_MAX_HITS];
	char prog[320] = "", script[256] = "", comm[17] = "";
	struct open_obs who = {.pid = ev->pid};
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *cmd = NULL;
	size_t n;

	if (ev->pid > 0) {
		opener_facts(m, ev->pid, &who, prog, sizeof(prog), script, sizeof(script));
		if (proc_argv(ev->pid, &argv) >= 0)
			cmd = strv_join(argv, " ");
		(void)proc_comm(ev->pid, comm);
	}
	n = rules_match_write(
	        &(struct write_obs){.pid = ev->pid,
	                            .path = ev->path,
	                            .added = ev->added,
	                            .program = who.program,
	                            .packaging =
	                                    ev->pid > 0 && monitor_under_package_manager(ev->pid)},
	        &m->rules, hits, RULES_MAX_HITS);
	for (size_t i = 0; i < n && m->result != 1; i++)
		respond_file(m, &hits[i], ev,
		             cmd       ? cmd
		             : comm[0] ? comm
		                       : "?",
		             ev->pid ? "written (fanotify)"
		                     : "found changed by a rescan (replaced by a rename)",
		             ev->added);
}

static bool on_file_event(const struct file_event *ev, void *u)
{
	struct monitor *m = u;

	if (m->result == 1)
		return true;
	if (ev->pid > 0 && !monitor_pid_has(m, ev->pid) && cgroup_has_pid(&m->cg, ev->pid) != 1)
		return true; /* not the container's (the host's editor on the workspace) */
	if (ev->written) {
		on_write(m, ev);
		return true;
	}
	return on_open(m, ev);
}

void monitor_rescan_files(struct monitor *m)
{
	m->rescan_ns = clock_mono_ns();
	m->rescan_pending = false;
	(void)filewatch_rescan(m->fw, on_file_event, m);
}

/* Something was created where credential or persistence files live: look again, so a key
 * copied in after the session began is marked before its first use; at most every 50 ms (a
 * flood of new files in a home is one rescan a tick), the one that had to wait on a one-shot
 * timer. */
int monitor_on_filewatch_dirs(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;
	struct itimerspec its = {.it_value = {0, 50000000}};

	if (filewatch_changed(m->fw) <= 0)
		return 0;
	if (clock_mono_ns() - m->rescan_ns >= 50000000u) {
		monitor_rescan_files(m);
		return 0;
	}
	if (!m->rescan_pending && m->rescan_timer >= 0 &&
	    timerfd_settime(m->rescan_timer, 0, &its, NULL) == 0)
		m->rescan_pending = true;
	return 0;
}

int monitor_on_rescan_timer(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n) && m->rescan_pending)
		monitor_rescan_files(m);
	return 0;
}

int monitor_on_filewatch(struct loop *l, int fd, uint32_t events, void *u)
{
	struct monitor *m = u;

	if (filewatch_read(m->fw, on_file_event, m) < 0)
		log_debug("monitor: reading the file watch failed, ignoring");
	return 0;
}
