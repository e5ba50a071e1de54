/* SPDX-License-Identifier: MIT */
/* rules.c: the rule table and its predicates. Process rules read a struct cmdline (cmdline.h);
 * every predicate is pure. A predicate fills the hit's pattern and reason and returns true. */
#include "monitor/rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "monitor/cmdline.h"
#include "monitor/rules-internal.h"
#include "util/cleanup.h"
#include "util/strv.h"

static const char *const level_names[_THREAT_LEVEL_MAX] = {"info", "warning", "high", "critical"};

const char *threat_level_to_string(enum threat_level l)
{
	return l >= 0 && l < _THREAT_LEVEL_MAX ? level_names[l] : "unknown";
}

int threat_level_from_string(const char *s)
{
	for (int i = 0; i < _THREAT_LEVEL_MAX; i++)
		if (s && strcasecmp(s, level_names[i]) == 0)
			return i;
	return -EINVAL;
}

void rules_config_default(struct rules_config *c)
{
	*c = (struct rules_config){
	        .read_threshold_mb = 50,
	        .read_rate_mb_s = 10,
	        .write_threshold_mb = 50,
	        .write_rate_mb_s = 10,
	        .max_processes = 1000,
	        .spawn_threshold = 200,
	        .tmp_warn_percent = 80,
	        .oneliners = ONELINER_CRITICAL,
	        .dns_per_minute = 100,
	};
}

bool rules_hit(struct rule_hit *h, const char *pattern, const char *reason)
{
	snprintf(h->pattern, sizeof(h->pattern), "%s", pattern ? pattern : "");
	snprintf(h->reason, sizeof(h->reason), "%s", reason ? reason : "");
	return true;
}

bool rules_hitf(struct rule_hit *h, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->pattern, sizeof(h->pattern), fmt, ap);
	va_end(ap);
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
	return true;
}

/* ---- program classes ----------------------------------------------------------------------- */

bool rules_in_list(const char *prog, const char *const *list)
{
	return strv_contains((char *const *)list, prog);
}

const char *const rules_shells[] = {"sh",   "bash", "dash", "ash",  "zsh", "ksh",
                                    "mksh", "fish", "csh",  "tcsh", NULL};
static const char *const netcats[] = {"nc",         "ncat",   "netcat", "nc.traditional",
                                      "nc.openbsd", "pwncat", NULL};

static bool is_prefix_num(const char *prog, const char *stem)
{
	size_t n = strlen(stem);

	return strncmp(prog, stem, n) == 0 && strspn(prog + n, "0123456789.") == strlen(prog + n);
}

enum interp rules_interp_of(const char *prog)
{
	if (is_prefix_num(prog, "python") || strcmp(prog, "pypy3") == 0)
		return INTERP_PYTHON;
	if (is_prefix_num(prog, "perl"))
		return INTERP_PERL;
	if (is_prefix_num(prog, "ruby"))
		return INTERP_RUBY;
	if (is_prefix_num(prog, "php"))
		return INTERP_PHP;
	if (strcmp(prog, "node") == 0 || strcmp(prog, "nodejs") == 0 || strcmp(prog, "bun") == 0 ||
	    strcmp(prog, "deno") == 0)
		return INTERP_NODE;
	if (is_prefix_num(prog, "lua") || strcmp(prog, "luajit") == 0)
		return INTERP_LUA;
	if (strcmp(prog, "awk") == 0 || strcmp(prog, "gawk") == 0 || strcmp(prog, "mawk") == 0 ||
	    strcmp(prog, "nawk") == 0)
		return INTERP_AWK;
	return INTERP_NONE;
}

/* The inline program of an interpreter (`python -c CODE`, `perl -e CODE`, `awk 'PROG' f`), or
 * NULL. */
const char *rules_interp_code(const struct simple_cmd *c, enum interp k)
{
	static const char *const flags[] = {
	        [INTERP_PYTHON] = "c", [INTERP_PERL] = "eE", [INTERP_RUBY] = "e",
	        [INTERP_PHP] = "r",    [INTERP_NODE] = "ep", [INTERP_LUA] = "e",
	};
	char *const *a = c->argv;

	if (k == INTERP_NONE)
		return NULL;
	for (size_t i = 1; a[i]; i++) {
		const char *w = a[i];

		if (k == INTERP_AWK) {
			if (strcmp(w, "-f") == 0 || strcmp(w, "-v") == 0 || strcmp(w, "-F") == 0) {
				i++;
				if (!a[i])
					return NULL;
				continue;
			}
			if (w[0] != '-')
				return w;
			continue;
		}
		if (k == INTERP_NODE && (strcmp(w, "--eval") == 0 || strcmp(w, "--print") == 0 ||
		                         strcmp(w, "eval") == 0))
			return a[i + 1];
		if (w[0] == '-' && w[1] && w[1] != '-') {
			/* A cluster: `-le CODE`, `-eCODE`; -M, -I, -r, -m, -W take the rest. */
			for (const char *f = w + 1; *f; f++) {
				if (strchr(flags[k], *f))
					return f[1] ? f + 1 : a[i + 1];
				if (strchr("MmIrWX", *f))
					break;
			}
			continue;
		}
		if (w[0] != '-' && !(k == INTERP_NODE && strcmp(w, "eval") == 0))
			return NULL; /* a script file: its code is not on the command line */
	}
	return NULL;
}

bool rules_contains(const char *s, const char *const *needles, bool icase, const char **ret_found)
{
	for (size_t i = 0; s && needles[i]; i++)
		if (icase ? strcasestr(s, needles[i]) : strstr(s, needles[i])) {
			if (ret_found)
				*ret_found = needles[i];
			return true;
		}
	return false;
}

static bool is_local_host(const char *h, size_t len)
{
	static const char *const local[] = {"localhost", "127.", "0.0.0.0", "::1", "[::1]", NULL};

	for (size_t i = 0; local[i]; i++)
		if (strncmp(h, local[i], strlen(local[i])) == 0 && len >= strlen(local[i]))
			return true;
	return false;
}

/* ---- reverse shells ------------------------------------------------------------------------ */

static bool r_devtcp(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i < cl->n; i++)
		strv_foreach(r, cl->cmds[i].redirs) {
			const char *t = *r + strspn(*r, "<>"), *host, *end;

			if (strncmp(t, "/dev/tcp/", 9) != 0 && strncmp(t, "/dev/udp/", 9) != 0)
				continue;
			host = t + 9;
			end = strchrnul(host, '/');
			if (!is_local_host(host, (size_t)(end - host)))
				return rules_hitf(h, "redirection to a network socket", "%s", *r);
		}
	return false;
}

static bool r_netcat(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];

		if (!rules_in_list(cmd_prog(c), netcats))
			continue;
		for (size_t j = 1; c->argv[j]; j++) {
			const char *w = c->argv[j];

			if (strcmp(w, "--exec") == 0 || strcmp(w, "--sh-exec") == 0 ||
			    strcmp(w, "--lua-exec") == 0 ||
			    (w[0] == '-' && w[1] != '-' && strpbrk(w + 1, "ec")))
				return rules_hitf(h, "netcat runs a program on the connection",
				                  "%s %s", cmd_prog(c), w);
		}
	}
	return false;
}

static bool is_net_client(const struct simple_cmd *c)
{
	const char *p = cmd_prog(c);

	if (rules_in_list(p, netcats) || strcmp(p, "telnet") == 0 || strcmp(p, "socat") == 0)
		return true;
	return strcmp(p, "openssl") == 0 && c->argv[1] && strcmp(c->argv[1], "s_client") == 0;
}

static bool r_pipe(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *a = &cl->cmds[i];

		if (!rules_in_list(cmd_prog(a), rules_shells) || (!a->piped_in && !a->piped_out))
			continue;
		for (size_t j = 0; j < cl->n; j++) {
			const struct simple_cmd *b = &cl->cmds[j];

			if (j != i && b->pipeline == a->pipeline && is_net_client(b))
				return rules_hitf(h, "a shell is piped to a network client",
				                  "%s | %s", cmd_prog(a), cmd_prog(b));
		}
	}
	return false;
}

static bool r_socat(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];

		if (strcmp(cmd_prog(c), "socat") != 0)
			continue;
		for (size_t j = 1; c->argv[j]; j++) {
			const char *w = c->argv[j] + strspn(c->argv[j], "'\"");

			if (strncasecmp(w, "exec:", 5) == 0 || strncasecmp(w, "system:", 7) == 0)
				return rules_hitf(h, "socat connects a program to a socket",
				                  "socat %.*s", (int)strcspn(w, ":") + 1, w);
		}
	}
	return false;
}

static bool r_oneliner(const struct cmdline *cl, const struct rules_config *cfg, struct rule_hit *h)
{
	static const char *const sock[] = {"socket",           "Socket",         "fsockopen",
	                                   "net.connect",      "require('net')", "require(\"net\")",
	                                   "node:net",         "/inet/tcp",      "/inet/udp",
	                                   "createConnection", "TcpClient",      NULL};
	static const char *const spawn[] = {
	        "dup2",      "pty.spawn",  "subprocess", "/bin/sh",       "/bin/bash",
	        "sh -i",     "bash -i",    "exec(",      "exec ",         "execSync",
	        "system",    "popen",      "spawn(",     "child_process", "os.execute",
	        "proc_open", "shell_exec", "passthru",   "execve",        "|&",
	        "cmd.exe",   NULL};

	if (cfg->oneliners == ONELINER_OFF)
		return false;
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		enum interp k = rules_interp_of(cmd_prog(c));
		const char *code, *s = NULL, *x = NULL;
		bool mod = false;

		if (k == INTERP_NONE || !(code = rules_interp_code(c, k)))
			continue;
		for (size_t j = 1; c->argv[j]; j++) /* ruby -rsocket, perl -MIO::Socket */
			if (strncmp(c->argv[j], "-rsocket", 8) == 0 || strstr(c->argv[j], "Socket"))
				mod = true;
		if (k == INTERP_AWK ? rules_contains(code, sock + 7, false, &s)
		                    : ((mod || rules_contains(code, sock, false, &s)) &&
		                       rules_contains(code, spawn, false, &x))) {
			h->level = cfg->oneliners == ONELINER_WARN ? THREAT_WARNING : h->level;
			return rules_hitf(h,
			                  "an interpreter one-liner connects a shell to a socket",
			                  "%s %s%s%s", cmd_prog(c), s ? s : "socket",
			                  x ? " + " : "", x ? x : "");
		}
	}
	return false;
}

/* ---- what the kernel says: sockets where a shell reads and writes ------------------------ */

/* The class of p's program: by its binary when known, else by the name it was started as. */
enum prog_class prog_class_of_name(const char *name)
{
	const char *base;

	if (!name)
		return PROG_OTHER;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	base += base[0] == '-'; /* a login shell: "-bash" */
	if (rules_in_list(base, rules_shells))
		return PROG_SHELL;
	return rules_interp_of(base) != INTERP_NONE ? PROG_INTERP : PROG_OTHER;
}

bool prog_multi_call_name(const char *name)
{
	const char *base;

	if (!name)
		return false;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	/* busybox runs as itself any name that starts with "busybox" (busybox-x86_64) */
	return strncmp(base, "busybox", 7) == 0 || strcmp(base, "toybox") == 0;
}

const char *prog_run_name(char *const *argv)
{
	if (!argv || !argv[0])
		return NULL;
	return prog_multi_call_name(argv[0]) && argv[1] ? argv[1] : argv[0];
}

static enum prog_class class_of(const struct proc_obs *p)
{
	if (p->cls != PROG_UNKNOWN)
		return p->cls;
	return prog_class_of_name(prog_run_name(p->argv));
}

static bool is_commander(enum prog_class c)
{
	return c == PROG_SHELL || c == PROG_INTERP;
}

/* An identity (progid) that is git itself ("git", or "git, copied to ..." for Debian's second
 * copy in /usr/lib/git-core), or its HTTP transport: git-remote-https runs the credential
 * helper, a shell (coi's own for a [[secrets]] github token), while curl's connection is open. */
static bool is_git(const char *id)
{
	static const char *const names[] = {"git", "git-remote-http", "git-remote-https"};

	for (size_t i = 0; id && i < ELEMENTSOF(names); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(id, names[i], n) == 0 && (!id[n] || id[n] == ','))
			return true;
	}
	return false;
}

static const char *prog_name(const struct proc_obs *p, const struct cmdline *cl)
{
	if (p->identity && *p->identity)
		return p->identity;
	return cl->n ? cmd_prog(&cl->cmds[0]) : "?";
}

/* Options of shells and interpreters that take the next word as their value. */
static bool takes_value(const char *w, enum prog_class c)
{
	static const char *const shell_opts[] = {"-o",       "+o",          "-O", "+O",
	                                         "--rcfile", "--init-file", NULL};
	static const char *const interp_opts[] = {"-W",       "-X",       "-r", "--require",
	                                          "--import", "--loader", NULL};

	return rules_in_list(w, c == PROG_SHELL ? shell_opts : interp_opts);
}

/* Does the program read its commands from standard input, as a shell or a REPL does (`sh`,
 * `sh -i`, `bash -s`, `python3 -`), rather than from -c/-e code or a script file? */
static bool reads_commands(const struct proc_obs *p, enum prog_class c)
{
	if (!p->argv || !p->argv[0])
		return false;
	for (size_t i = 1; p->argv[i]; i++) {
		const char *w = p->argv[i];

		if (strcmp(w, "-") == 0 || strcmp(w, "-s") == 0 || strcmp(w, "--") == 0)
			return strcmp(w, "--") != 0 || !p->argv[i + 1];
		if (w[0] != '-' && w[0] != '+')
			return false; /* a script file, or a command word */
		if (w[1] != '-' && strpbrk(w + 1, c == PROG_SHELL ? "c" : "cemEp"))
			return false; /* -c CODE, perl -e, node -e/-p, python -m (below) */
		if (strcmp(w, "-m") == 0 || strncmp(w, "--eval", 6) == 0 ||
		    strncmp(w, "--print", 7) == 0)
			return false;
		if (takes_value(w, c) && p->argv[i + 1])
			i++;
	}
	return true;
}

bool rules_own_code(char *const *argv, const char *cwd)
{
	static const char *const writable[] = {"/tmp/",  "/var/tmp/", "/dev/shm/",  "/workspace",
	                                       "/home/", "/root/",    "/run/user/", NULL};
	const char *script = NULL;

	if (!argv || !argv[0])
		return false;
	/* a title the program set itself (npm's "npm install ..."): an installed program's */
	if (prog_class_of_name(argv[0]) != PROG_INTERP || strchr(argv[0], ' '))
		return false;
	for (size_t i = 1; argv[i] && !script; i++) {
		const char *w = argv[i];

		if (!*w)
			continue;
		if (strcmp(w, "-m") == 0)
			return false; /* an installed module */
		if (strcmp(w, "-") == 0 || (w[0] == '-' && w[1] != '-' && strpbrk(w + 1, "ceE")))
			return true; /* inline code, or its input */
		if (w[0] == '-') {
			if (takes_value(w, PROG_INTERP) && argv[i + 1])
				i++;
			continue;
		}
		script = w;
	}
	if (!script)
		return true; /* a REPL reading its input */
	if (script[0] != '/')
		script = cwd ? cwd : "/";
	/* an installed dependency's script (an npm install script fetching a prebuilt binary,
	 * then running tar with sh -c, its keep-alive connection still open) is not the
	 * session's own code */
	if (strstr(script, "/node_modules/") || strstr(script, "/site-packages/") ||
	    strstr(script, "/dist-packages/"))
		return false;
	for (size_t i = 0; writable[i]; i++)
		if (strncmp(script, writable[i], strlen(writable[i])) == 0)
			return true;
	return false;
}

static const char *const stdio_names[] = {"stdin", "stdout", "stderr"};

/* A program that reads its standard input from a connection to another machine is a reverse
 * (or bind) shell, or an implant's, whatever its name: nothing an agent runs takes its input
 * from the network through its standard streams. A shell or interpreter with a socket on any of
 * them is one too (on the loopback, the attacker's relay may run inside). */
static bool r_stdio(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	enum prog_class c = class_of(p);

	for (int fd = 0; fd < 3; fd++) {
		enum peer_kind k = p->socks.stdio[fd];

		if ((fd == 0 && k == PEER_REMOTE) || (k != PEER_NONE && is_commander(c)))
			return rules_hitf(
			        h,
			        is_commander(c)
			                ? "a shell's standard input/output is a network socket"
			                : "its standard input is a connection to another machine",
			        "%s %s=%s", prog_name(p, cl), stdio_names[fd],
			        p->socks.peer[0] ? p->socks.peer : "<socket>");
	}
	return false;
}

/* The process that started p is a shell or an interpreter holding a connection. */
static bool parent_commander_connected(const struct proc_obs *p)
{
	enum prog_class pc = p->parent_obs.cls;

	if (pc == PROG_UNKNOWN)
		pc = prog_class_of_name(p->parent_obs.comm);
	return p->parent_obs.socks.remote > 0 && is_commander(pc);
}

/* A shell that holds a connection and runs each command with its output sent into it (`exec
 * 5<>/dev/tcp/...; while read l <&5; do $l >&5; done`): a reverse shell whose commands come
 * one at a time. */
static bool r_fdloop(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	if ((p->socks.stdio[1] != PEER_REMOTE && p->socks.stdio[2] != PEER_REMOTE) ||
	    !parent_commander_connected(p))
		return false;
	return rules_hitf(h, "a shell holding a connection runs commands whose output goes into it",
	                  "%s<%s stdout=%s", prog_name(p, cl),
	                  p->parent_obs.comm ? p->parent_obs.comm : "?", p->socks.peer);
}

/* Output written straight into a connection (`cat file >/dev/tcp/host/port`): data leaving
 * outside any client program. git's pack-objects does the same for a push over git://. */
static bool r_stdout(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	const char *id = p->identity ? p->identity : "";

	if (p->socks.stdio[1] != PEER_REMOTE && p->socks.stdio[2] != PEER_REMOTE)
		return false;
	if (is_commander(class_of(p)) || p->socks.stdio[0] == PEER_REMOTE ||
	    parent_commander_connected(p) || is_git(id))
		return false; /* the rule above, or git's own push */
	return rules_hitf(h, "its output goes straight into a connection to another machine",
	                  "%s stdout=%s", prog_name(p, cl), p->socks.peer);
}

/* A shell or interpreter that starts out holding a connection (`exec 3<>/dev/tcp/...; exec
 * sh`, or an implant that connects, then execs a shell on another descriptor). */
static bool r_sockfd(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	/* git holds its connection while it runs hooks (a push over git:// runs pre-push, coi's own
	 * dispatcher among them, with the socket open): a shell git starts inherits it. git by its
	 * binary, not its name; a hook that makes the connection its streams is revshell-stdio. */
	if (!is_commander(class_of(p)) || p->socks.remote == 0 || is_git(p->parent_obs.identity))
		return false;
	return rules_hitf(h, "a shell starts holding a network connection", "%s fd=%s",
	                  prog_name(p, cl), p->socks.peer);
}

/* A shell started by a process whose standard streams are a connection (python's
 * `os.dup2(s.fileno(), 0..2); pty.spawn("sh")`). */
static bool r_parent_stdio(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	const struct sock_facts *ps = &p->parent_obs.socks;

	if (!is_commander(class_of(p)) ||
	    (ps->stdio[0] != PEER_REMOTE && ps->stdio[1] != PEER_REMOTE))
		return false;
	return rules_hitf(h,
	                  "its parent's standard input/output is a connection to another machine",
	                  "%s<%s %s", prog_name(p, cl),
	                  p->parent_obs.comm ? p->parent_obs.comm : "?", ps->peer);
}

/* Connect, then exec: a shell or interpreter that reads commands from its input, started by a
 * process that holds a connection to another machine, is that process relaying commands from
 * the network (python's socket + subprocess.Popen(["sh"], stdin=PIPE, ...)). HIGH, not
 * CRITICAL: an agent that keeps one shell fed through a pipe while it talks to its model looks
 * the same (the agents coi ships run each command with -c). */
static bool r_relay(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	enum prog_class c = class_of(p);

	if (!is_commander(c) || p->parent_obs.socks.remote == 0 || !reads_commands(p, c))
		return false;
	return rules_hitf(
	        h, "a process connected to another machine starts a shell that reads its input",
	        "%s<%s %s", prog_name(p, cl), p->parent_obs.comm ? p->parent_obs.comm : "?",
	        p->parent_obs.socks.peer);
}

/* The same, one command at a time: a script of the session's own (in /tmp, the workspace, a
 * home, or -c code) that holds a connection to another machine runs `sh -c CMD` (python's
 * subprocess.run(cmd, shell=True) on what the socket said). The agent itself, an installed
 * program, does the same with its model's connection and is not judged by this. */
static bool r_cmdrelay(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	if (class_of(p) != PROG_SHELL || p->parent_obs.socks.remote == 0 ||
	    p->parent_obs.cls != PROG_INTERP || !p->parent_obs.own_code ||
	    reads_commands(p, PROG_SHELL))
		return false;
	return rules_hitf(h, "a script connected to another machine runs shell commands",
	                  "%s<%s %s", prog_name(p, cl),
	                  p->parent_obs.comm ? p->parent_obs.comm : "?", p->parent_obs.socks.peer);
}

static bool r_powershell(const struct cmdline *cl, struct rule_hit *h)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		const char *p = cmd_prog(c);

		if (strcasecmp(p, "pwsh") != 0 && strncasecmp(p, "powershell", 10) != 0)
			continue;
		strv_foreach(w, c->argv)
			if (strcasestr(*w, "Net.Sockets"))
				return rules_hit(h, "powershell System.Net.Sockets",
				                 "powershell opens a raw socket");
	}
	return false;
}

/* ---- escape probes ------------------------------------------------------------------------ */

/* Programs that reach for the kernel past the container: mounts, namespaces, modules, devices,
 * capabilities. Coi's seccomp filter and Incus' refuse what matters; the attempt is the sign. */
static bool r_escape(const struct proc_obs *p, const struct cmdline *cl, struct rule_hit *h)
{
	static const char *const always[] = {"umount",     "unshare",     "nsenter",  "chroot",
	                                     "pivot_root", "switch_root", "insmod",   "rmmod",
	                                     "kexec",      "debugfs",     "capsh",    "setcap",
	                                     "bpftool",    "losetup",     "modprobe", NULL};

	for (size_t i = 0; i < cl->n; i++) {
		const struct simple_cmd *c = &cl->cmds[i];
		const char *prog = cmd_prog(c);
		size_t n = strv_length(c->argv);

		/* `mount` alone lists the mounts; `mknod NAME p` makes a fifo */
		if ((rules_in_list(prog, always) && n > 1 &&
		     !(strcmp(prog, "modprobe") == 0 && strcmp(c->argv[1], "--help") == 0)) ||
		    (strcmp(prog, "mount") == 0 && n > 1 && strcmp(c->argv[1], "-l") != 0 &&
		     strcmp(c->argv[1], "--help") != 0) ||
		    (strcmp(prog, "mknod") == 0 && n > 2 && strcmp(c->argv[n - 1], "p") != 0 &&
		     strcmp(c->argv[2], "p") != 0))
			return rules_hitf(
			        h,
			        "a program reaches past the container (mounts, namespaces, "
			        "modules, devices)",
			        "%s %s", prog, c->argv[1]);
	}
	if (p->own_userns)
		return rules_hitf(h, "a process runs in a user namespace of its own", "%s <userns>",
		                  prog_name(p, cl));
	return false;
}

/* ---- the table ----------------------------------------------------------------------------- */

#define ADAPT(name, call)                                                    \
	static bool name(const struct proc_obs *p, const struct cmdline *cl, \
	                 const struct rules_config *cfg, struct rule_hit *h) \
	{                                                                    \
		(void)p;                                                     \
		(void)cfg;                                                   \
		return call;                                                 \
	}
ADAPT(m_devtcp, r_devtcp(cl, h))
ADAPT(m_netcat, r_netcat(cl, h))
ADAPT(m_pipe, r_pipe(cl, h))
ADAPT(m_socat, r_socat(cl, h))
ADAPT(m_oneliner, r_oneliner(cl, cfg, h))
ADAPT(m_stdio, r_stdio(p, cl, h))
ADAPT(m_stdout, r_stdout(p, cl, h))
ADAPT(m_fdloop, r_fdloop(p, cl, h))
ADAPT(m_sockfd, r_sockfd(p, cl, h))
ADAPT(m_parent_stdio, r_parent_stdio(p, cl, h))
ADAPT(m_relay, r_relay(p, cl, h))
ADAPT(m_cmdrelay, r_cmdrelay(p, cl, h))
ADAPT(m_powershell, r_powershell(cl, h))
ADAPT(m_escape, r_escape(p, cl, h))
ADAPT(m_proc_environ, rules_proc_environ(cl, h))
ADAPT(m_env_dump_grep, rules_env_dump_grep(cl, h))
ADAPT(m_env_secret_read, rules_env_secret_read(cl, h))
ADAPT(m_cred_strong, rules_cred(cl, CRED_STRONG, h))
ADAPT(m_cred_weak, rules_cred(cl, CRED_WEAK, h))
ADAPT(m_cred_env, rules_cred(cl, CRED_ENV, h))
ADAPT(m_cred_search, rules_cred_search(cl, h))

/* clang-format off */
static const struct rule table[] = {
	{ "revshell-devtcp",     THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_devtcp },
	{ "revshell-netcat",     THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_netcat },
	{ "revshell-pipe",       THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_pipe },
	{ "revshell-socat",      THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_socat },
	{ "revshell-oneliner",   THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_oneliner },
	{ "revshell-stdio",      THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_stdio },
	{ "net-stdout",          THREAT_WARNING,  "network",     "Data written straight into a connection", RULE_PROCESS, m_stdout },
	{ "revshell-fdloop",     THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_fdloop },
	{ "revshell-sockfd",     THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_sockfd },
	{ "revshell-parent",     THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_parent_stdio },
	{ "revshell-relay",      THREAT_HIGH,     "process",     "Reverse shell detected", RULE_PROCESS, m_relay },
	{ "revshell-cmdrelay",   THREAT_HIGH,     "process",     "Reverse shell detected", RULE_PROCESS, m_cmdrelay },
	{ "revshell-powershell", THREAT_CRITICAL, "process",     "Reverse shell detected", RULE_PROCESS, m_powershell },
	{ "escape-probe",        THREAT_WARNING,  "escape",      "Container escape probe", RULE_PROCESS, m_escape },
	{ "env-proc-environ",    THREAT_HIGH,     "environment", "Process environment read detected", RULE_PROCESS, m_proc_environ },
	{ "env-dump-grep",       THREAT_WARNING,  "environment", "Environment variable scanning detected", RULE_PROCESS, m_env_dump_grep },
	{ "env-secret-read",     THREAT_WARNING,  "environment", "Environment variable scanning detected", RULE_PROCESS, m_env_secret_read },
	{ "cred-file-read",      THREAT_HIGH,     "credential_access", "Credential file access detected", RULE_PROCESS, m_cred_strong },
	{ "cred-secrets-read",   THREAT_WARNING,  "credential_access", "Secrets file access detected", RULE_PROCESS, m_cred_weak },
	{ "cred-env-read",       THREAT_INFO,     "credential_access", "Secrets file read", RULE_PROCESS, m_cred_env },
	{ "cred-open",           THREAT_HIGH,     "credential_access", "Credential file access detected", RULE_FILE, NULL },
	{ "cred-open-secrets",   THREAT_WARNING,  "credential_access", "Secrets file access detected", RULE_FILE, NULL },
	{ "cred-open-env",       THREAT_INFO,     "credential_access", "Secrets file opened", RULE_FILE, NULL },
	{ "persist-backdoor",    THREAT_HIGH,     "persistence", "Backdoor planted in a file that runs later", RULE_FILE, NULL },
	{ "persist-preload",     THREAT_HIGH,     "persistence", "Library preload configured", RULE_FILE, NULL },
	{ "persist-schedule",    THREAT_WARNING,  "persistence", "Scheduled task or service added", RULE_FILE, NULL },
	{ "persist-access",      THREAT_WARNING,  "persistence", "Login access changed", RULE_FILE, NULL },
	{ "persist-startup",     THREAT_INFO,     "persistence", "Shell startup file changed", RULE_FILE, NULL },
	{ "cred-search",         THREAT_WARNING,  "credential_access", "Credential search detected", RULE_PROCESS, m_cred_search },
	{ "net-metadata",        THREAT_CRITICAL, "network",     "Unexpected network connection", RULE_CONNECTION, NULL },
	{ "net-metadata-refused", THREAT_WARNING, "network",     "Metadata address refused", RULE_CONNECTION, NULL },
	{ "net-c2-port",         THREAT_CRITICAL, "network",     "Unexpected network connection", RULE_CONNECTION, NULL },
	{ "net-private",         THREAT_HIGH,     "network",     "Unexpected network connection", RULE_CONNECTION, NULL },
	{ "net-private-refused", THREAT_WARNING,  "network",     "Private network address refused", RULE_CONNECTION, NULL },
	{ "net-refused",         THREAT_WARNING,  "network",     "Connection to a refused destination", RULE_CONNECTION, NULL },
	{ "io-read",             THREAT_INFO,     "filesystem",  "Large workspace read detected", RULE_IO, NULL },
	{ "io-write",            THREAT_INFO,     "filesystem",  "Large workspace write detected", RULE_IO, NULL },
	{ "proc-count",          THREAT_WARNING,  "process",     "Process count spike detected", RULE_PROC_COUNT, NULL },
	{ "proc-spawn",          THREAT_WARNING,  "process",     "Process spawn rate spike detected", RULE_PROC_COUNT, NULL },
	{ "proc-forkbomb",       THREAT_HIGH,     "process",     "Fork bomb detected", RULE_PROC_COUNT, NULL },
	{ "cpu-miner",           THREAT_WARNING,  "process",     "Crypto-miner-like CPU use detected", RULE_PROC_COUNT, NULL },
	{ "disk-tmp",            THREAT_WARNING,  "filesystem",  "Low disk space on /tmp", RULE_DISK, NULL },
	{ "net-egress",          THREAT_HIGH,     "network",     "Data exfiltration suspected", RULE_CONNECTION, NULL },
	{ "net-conn-bytes",      THREAT_WARNING,  "network",     "Large upload detected", RULE_CONNECTION, NULL },
	{ "dns-rate",            THREAT_HIGH,     "network",     "DNS query rate spike detected", RULE_DNS, NULL },
};
/* clang-format on */

const struct rule *rules_table(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(table);
	return table;
}

const struct rule *rules_find(const char *id)
{
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(table[i].id, id) == 0)
			return &table[i];
	return NULL;
}

size_t rules_match_process(const struct proc_obs *p, const struct rules_config *cfg,
                           struct rule_hit *hits, size_t max)
{
	struct cmdline cl = {0};
	size_t n = 0;

	if (cmdline_from_argv(p->argv, &cl) < 0)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(table) && n < max; i++) {
		const struct rule *r = &table[i];
		struct rule_hit *h = &hits[n];
		bool m = false;

		if (r->kind != RULE_PROCESS)
			continue;
		*h = (struct rule_hit){.rule = r, .level = r->level};
		m = r->match(p, &cl, cfg, h);
		n += m;
	}
	if (cfg->extra && n < max)
		n += cfg->extra(cfg->extra_set, p, &cl, hits + n, max - n);
	cmdline_release(&cl);
	return n;
}
