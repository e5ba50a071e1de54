/* SPDX-License-Identifier: MIT */
/* coi selftest: prove the isolation on this machine. A throwaway session on a scratch workspace,
 * with the user's own configuration and image, attacked from inside as container root and as
 * code, one line per guarantee. Exit 0 when every guarantee holds, 1 when one fails. Everything
 * it contacts is on this machine: the bridge address, and addresses that must be refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/output.h"
#include "cmd/session-cmd.h"
#include "config/config.h"
#include "egress/secret.h"
#include "incus/incus.h"
#include "netpolicy/netpolicy.h"
#include "session/session.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

const struct verb verb_selftest;

enum verdict { PASS, FAIL, SKIP };

struct selftest {
	struct session_cmd sc;
	char ws[64];
	int failed;
};

static void report(struct selftest *t, enum verdict v, const char *id, const char *msg)
{
	static const char *const tags[] = {"PASS", "FAIL", "SKIP"};

	printf("[%s] %-22s %s\n", tags[v], id, output_safe(msg));
	fflush(stdout);
	if (v == FAIL)
		t->failed++;
}

/* Run a shell script in the session as root (the agent with sudo) or as code; its last line. */
static char *inside(struct selftest *t, bool root, const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	char *out, *nl;

	incus_exec_opts_init(&o);
	o.argv = argv;
	o.cwd = "/workspace";
	if (!root) {
		o.uid = t->sc.opts.code_uid;
		o.gid = t->sc.opts.code_uid;
	}
	if (incus_exec(t->sc.client, t->sc.session->name, &o, &res, NULL) < 0)
		return strdup("");
	out = res.out ? strdup(res.out) : strdup("");
	incus_exec_result_release(&res);
	while (out && (nl = strrchr(out, '\n')) && nl[1] == '\0')
		*nl = '\0';
	if (out && (nl = strrchr(out, '\n')))
		memmove(out, nl + 1, strlen(nl + 1) + 1);
	return out;
}

static bool said(struct selftest *t, bool root, const char *script, const char *want)
{
	_cleanup_free_ char *out = inside(t, root, script);

	return out && strcmp(out, want) == 0;
}

static void check_protected(struct selftest *t)
{
	bool code = said(t, false,
	                 "echo x >> .git/hooks/pre-commit 2>/dev/null && echo open || echo shut",
	                 "shut");
	bool root = said(t, true,
	                 "echo x >> .git/hooks/pre-commit 2>/dev/null && echo open || echo shut",
	                 "shut");
	bool rest = said(t, false, "echo ok > selftest-file && echo ok", "ok");

	report(t, code && root && rest ? PASS : FAIL, "protected-paths",
	       code && root
	               ? "a git hook cannot be changed by code or container root; the rest of "
	                 "the workspace is writable"
	               : "a git hook CAN be changed from inside ([security] protection is off?)");
	/* Nothing is written: that a mount call succeeds is the failure. */
	report(t,
	       said(t, true,
	            "mkdir -p /mnt/coi-selftest; { umount /workspace/.git/hooks || mount --bind "
	            "/workspace /mnt/coi-selftest; } 2>/dev/null && echo open || echo shut",
	            "shut")
	               ? PASS
	               : FAIL,
	       "no-unmount",
	       "container root cannot unmount the read-only overlays or bind the workspace past them");
}

static void check_host_files(struct selftest *t)
{
	/* in the user's home, beside the workspace: where a shared home or parent would show it
	 * (not /tmp, which the container has its own of anyway) */
	_cleanup_free_ char *canary = NULL, *sibling = NULL;
	char script[1024];
	struct stat st;
	int fd;

	if (asprintf(&canary, "%s/.coi-selftest-canary-%d", home_dir(), (int)getpid()) < 0 ||
	    asprintf(&sibling, "%s.canary", t->ws) < 0)
		return (void)report(t, FAIL, "host-files", "out of memory");
	fd = open(canary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "secret\n", 7) != 7 ||
	    write_file_atomic(sibling, "secret\n", 7, 0600, NULL) < 0) {
		report(t, FAIL, "host-files", "cannot write canary files in your home and /tmp");
		if (fd >= 0)
			close(fd);
		(void)unlink(canary);
		return;
	}
	close(fd);
	(void)snprintf(script, sizeof(script),
	               "cat %s %s /workspace/../%s 2>/dev/null | grep -q secret && echo visible || "
	               "echo unreadable",
	               canary, sibling, path_basename(sibling));
	report(t, said(t, true, script, "unreadable") ? PASS : FAIL, "host-files",
	       "files in your home and beside the workspace are not visible inside");
	(void)unlink(canary);
	(void)unlink(sibling);
	(void)said(t, true,
	           "cp /bin/sh /workspace/selftest-suid 2>/dev/null; chmod 4755 "
	           "/workspace/selftest-suid 2>/dev/null; echo done",
	           "done");
	{
		_cleanup_free_ char *p = path_join(t->ws, "selftest-suid");
		bool bad = p && lstat(p, &st) == 0 && st.st_uid == 0 && (st.st_mode & S_ISUID);

		report(t, bad ? FAIL : PASS, "no-setuid-root",
		       "container root cannot leave a setuid-root file in the workspace");
	}
}

/* A refused destination fails at once (reject); a timeout would mean it was let through. */
static bool refused(struct selftest *t, const char *addr)
{
	char script[512];

	(void)snprintf(script, sizeof(script),
	               "a=$(cut -d' ' -f1 /proc/uptime); timeout 3 nc -w 2 %s 80 </dev/null "
	               ">/dev/null 2>&1; b=$(cut -d' ' -f1 /proc/uptime); "
	               "awk -v a=$a -v b=$b 'BEGIN{print (b-a<1.6)?\"refused\":\"slow\"}'",
	               addr);
	return said(t, false, script, "refused");
}

/* The host side of the IPv6 block: the container's bridge chain ends in a drop. */
static bool host_drops_non_ipv4(const char *name)
{
	static const struct net_nft nft = {.backend = NET_BACKEND_AUTO};
	_cleanup_buf_ struct buf out = BUF_INIT(1u << 20);
	_cleanup_free_ char *script = NULL;

	if (asprintf(&script, "list chain bridge %s br-%s\n", NET_TABLE_DEFAULT, name) < 0 ||
	    net_nft_run(&nft, script, false, &out, NULL) < 0)
		return false;
	return strstr(buf_str(&out), "ether type arp accept") && strstr(buf_str(&out), "drop");
}

/* Allowlist: a name outside it does not resolve, at once (coi's DNS filter answers NXDOMAIN and
 * asks no one), whichever server the container asks: a name that exists, so that an answer from
 * anywhere else would show. */
static void check_dns(struct selftest *t)
{
	const struct net_policy *p = t->sc.session->opts->net;
	static const char name[] = "www.example.com";
	char script[512];

	for (size_t i = 0; p && i < p->n_allowlist; i++)
		if (net_dest_match(&p->allowlist[i], name))
			return (void)report(t, SKIP, "allowlist-dns", "www.example.com is allowed");
	(void)snprintf(
	        script, sizeof(script),
	        "a=$(cut -d' ' -f1 /proc/uptime); getent ahostsv4 %s >/dev/null 2>&1; r=$?; "
	        "b=$(cut -d' ' -f1 /proc/uptime); "
	        "awk -v a=$a -v b=$b -v r=$r 'BEGIN{print (r!=0 && b-a<1.6)?\"none\":\"x\"}'",
	        name);
	report(t, said(t, false, script, "none") ? PASS : FAIL, "allowlist-dns",
	       "a name outside the allowlist does not resolve (coi's DNS filter asks no one)");
}

/* Only destinations the policy must refuse are probed, and only ones whose packets stay on this
 * machine when refused: when the configuration lets them through, the line fails unprobed. */
static void check_network(struct selftest *t)
{
	const struct coi_config *c = t->sc.config;
	struct in_addr other = t->sc.session->gateway;
	char addr[INET_ADDRSTRLEN];

	if (c->network.mode == NET_MODE_OPEN) {
		report(t, FAIL, "private-networks",
		       "network mode is open: private networks, other "
		       "containers and cloud metadata are reachable "
		       "([network] mode)");
		return;
	}
	if (!c->network.block_metadata_endpoint)
		report(t, FAIL, "cloud-metadata", "block_metadata_endpoint is off");
	else
		report(t, refused(t, "169.254.169.254") ? PASS : FAIL, "cloud-metadata",
		       "169.254.169.254 is refused at once");
	/* another address on the bridge: a private address, and another container's */
	other.s_addr = htonl((ntohl(other.s_addr) & ~0xffu) | 0xfau);
	inet_ntop(AF_INET, &other, addr, sizeof(addr));
	if (c->network.allow_local_network_access || !c->network.block_private_networks)
		report(t, FAIL, "private-networks",
		       "private networks are allowed by the configuration");
	else
		report(t, refused(t, addr) ? PASS : FAIL, "private-networks",
		       "private addresses and other containers are refused at once");
	if (c->network.mode == NET_MODE_ALLOWLIST) {
		/* TEST-NET-1, never routed: in no allowlist, refused here before it leaves */
		report(t, refused(t, "192.0.2.1") ? PASS : FAIL, "allowlist",
		       "an address outside the allowlist is refused at once");
		check_dns(t);
	}
	/* container root can turn IPv6 back on inside; what holds is the host's bridge chain,
	 * which lets only ARP and the container's own IPv4 through */
	report(t,
	       said(t, true, "cat /proc/sys/net/ipv6/conf/all/disable_ipv6", "1") &&
	                       host_drops_non_ipv4(t->sc.session->name)
	               ? PASS
	               : FAIL,
	       "ipv6", "IPv6 is off in the container and dropped on the host");
}

static void check_posture(struct selftest *t)
{
	report(t, said(t, true, "awk '/^Seccomp:/{print $2}' /proc/self/status", "2") ? PASS : FAIL,
	       "seccomp", "processes in the container run under a seccomp filter");
	report(t, said(t, true, "awk '$1==0{print $2}' /proc/self/uid_map", "0") ? FAIL : PASS,
	       "unprivileged", "container root is not host root");
	report(t,
	       said(t, true, "test -e /dev/incus && echo present || echo absent", "absent") ? PASS
	                                                                                    : FAIL,
	       "guest-api", "the Incus guest API (/dev/incus) is not available inside");
}

/* A value as an extended regular expression that matches it but is not it: "()" after its sixth
 * character, every special character escaped. */
static int needle(struct buf *b, const char *v)
{
	int r = buf_puts(b, " -e '");

	for (size_t i = 0; r >= 0 && v[i]; i++) {
		if (i == 6)
			r = buf_puts(b, "()");
		if (r >= 0 && strchr(".[]{}()*+?^$|\\", v[i]))
			r = buf_putc(b, '\\');
		if (r >= 0)
			r = buf_putc(b, v[i]);
	}
	return r < 0 ? r : buf_putc(b, '\'');
}

/* Secrets on the host: container root finds none of the real values, in any process's
 * environment or in the files coi and the agent write. The search puts no value inside. */
static void check_secrets(struct selftest *t)
{
	const struct egress_set *set = t->sc.opts.secrets;
	_cleanup_buf_ struct buf script = BUF_INIT(1u << 20);
	int r;

	if (!set) {
		report(t, SKIP, "secrets",
		       "no secrets kept on the host ([[secrets]], forward_env)");
		return;
	}
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].value && strchr(set->v[i].value, '\'')) {
			report(t, SKIP, "secrets", "a value holds a quote; not searched");
			return;
		}
	r = buf_puts(&script, "{ for p in /proc/[0-9]*; do tr '\\0' '\\n' <\"$p/environ\"; done; "
	                      "grep -rhs '' /home /root /etc /tmp /var/tmp /run /opt /workspace; } "
	                      "2>/dev/null | grep -cE");
	for (size_t i = 0; r >= 0 && i < set->n; i++)
		if (set->v[i].value && strlen(set->v[i].value) > 6)
			r = needle(&script, set->v[i].value);
	report(t, r >= 0 && said(t, true, buf_str(&script), "0") ? PASS : FAIL, "secrets",
	       "the real values of your secrets are nowhere inside, for container root");
}

static void check_monitor(struct selftest *t)
{
	if (!t->sc.config->monitoring.enabled) {
		report(t, SKIP, "monitor",
		       "[monitoring] enabled = false: nothing watches for reverse "
		       "shells");
		return;
	}
	/* nc -e towards the bridge itself: the exec is what the monitor judges, no traffic needed
	 */
	(void)inside(t, false, "nc -e /bin/sh 127.0.0.1 9 >/dev/null 2>&1 & sleep 1; echo done");
	for (int i = 0; i < 50; i++) {
		if (incus_instance_exists(t->sc.client, t->sc.session->name, NULL) == 0) {
			report(t, PASS, "monitor",
			       "a simulated reverse shell is caught and the container "
			       "removed");
			return;
		}
		usleep(100 * 1000);
	}
	report(t, FAIL, "monitor", "a simulated reverse shell was not acted on within 5 s");
}

static int run(int argc, char **argv)
{
	struct selftest t = {0};
	struct coi_error err = {0};
	int r;

	r = session_cmd_parse(&verb_selftest, argc, argv, &t.sc);
	if (r <= 0)
		return -r;
	/* Its probes are attacks: a key searched for, /etc/gshadow read. The monitor records them,
	 * but a HIGH one must not freeze the session halfway through the checks (they would wait
	 * for ever); a CRITICAL one still removes it, which the last check shows. */
	t.sc.no_pause = true;
	strcpy(t.ws, "/tmp/coi-selftest-XXXXXX");
	if (!mkdtemp(t.ws))
		return cmd_failf("cannot create a scratch workspace: %s", strerror(errno));
	{
		char cmd[256];

		(void)snprintf(
		        cmd, sizeof(cmd),
		        "git -C %s init -q && printf '#!/bin/sh\\n' > %s/.git/hooks/pre-commit",
		        t.ws, t.ws);
		if (system(cmd) != 0)
			return cmd_failf("cannot prepare the scratch workspace (git needed)");
	}
	t.sc.workspace_arg = t.ws;
	printf("coi selftest: a throwaway session on %s with your configuration\n", t.ws);
	r = session_cmd_start(&t.sc, &err);
	if (r < 0) {
		r = session_cmd_finish(&t.sc, cmd_fail(&err));
		session_cmd_release(&t.sc);
		return r;
	}
	check_posture(&t);
	check_protected(&t);
	check_host_files(&t);
	check_network(&t);
	check_secrets(&t);
	check_monitor(&t); /* last: it may remove the container */
	r = session_cmd_finish(&t.sc, t.failed ? EXIT_FAIL : EXIT_OK);
	session_cmd_release(&t.sc);
	{
		char cmd[128];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", t.ws);
		if (system(cmd) != 0)
			fprintf(stderr, "coi: could not remove %s\n", t.ws);
	}
	printf("%s: %d guarantee(s) failed\n", t.failed ? "FAILED" : "ok", t.failed);
	return t.failed ? EXIT_FAIL : r;
}

const struct verb verb_selftest = {
        .name = "selftest",
        .run = run,
        .summary = "attack a throwaway sandbox to prove its isolation on this machine",
        .usage = "Usage: coi selftest [--image ALIAS] [--profile NAME]\n"
                 "\n"
                 "Start a throwaway session on a scratch workspace with your configuration and\n"
                 "image, and attack it from inside as code and as container root: protected\n"
                 "paths, unmounting, host files, setuid planting, cloud metadata, private\n"
                 "networks, IPv6, seccomp, the guest API, secrets kept on the host (none of\n"
                 "their values inside), and (when enabled) the monitor with a simulated\n"
                 "reverse shell. One line per guarantee; exit 1 if any fails. The probes\n"
                 "are findings in the audit log; HIGH ones do not freeze this session.\n"
                 "\n" SESSION_CMD_OPTIONS_HELP,
};
