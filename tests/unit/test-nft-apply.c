/* SPDX-License-Identifier: MIT */
/* test-nft-apply.c: real nftables. Applies generated batches to scratch tables
 * (ip/bridge coi_t_<pid>) through libnftables and through an exec'd nft, and checks boot block,
 * apply, the DNS filter's redirect and sets, stale purge, open mode, remove and purge-orphans by
 * reading the tables back.
 * The veths named here need not exist (an iifname match is by name) and no packet is sent.
 * Skips (77) when not root; deletes its tables at the end. It runs in a network namespace of its
 * own where it can make one: an empty ruleset to read back, not the host's (which other sessions
 * and tests fill: listing it took seconds per step), and nothing left on the host if it dies. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netpolicy/netpolicy.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

static char table[NET_TABLE_MAX + 1];
static const struct net_nft lib = {.backend = NET_BACKEND_LIBNFTABLES};
static char *nft_argv[] = {"nft", NULL};
static const struct net_nft ex = {.backend = NET_BACKEND_EXEC, .argv = nft_argv};

#define CA "coi-t-netpolicy-a"
#define CB "coi-t-netpolicy-b"
#define CC "coi-t-netpolicy-c"

static struct in_addr A(const char *s) {
	struct in_addr a = {0};

	(void)inet_pton(AF_INET, s, &a);
	return a;
}

static struct net_target
target(const char *name, const char *veth, const char *ip)
{
	return (struct net_target){.table = table,
	                           .container = name,
	                           .veth = veth,
	                           .ipv4 = A(ip),
	                           .gateway = A("10.250.0.1"),
	                           .prefix = 24,
	                           .log_group = 3};
}

/* `nft list <what>` as text ("" when it fails). */
static char *COI_PRINTF(1, 2) list(const char *fmt, ...)
{
	struct buf out = BUF_INIT(1 << 20);
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (net_nft_run(&lib, cmd, false, &out, NULL) < 0)
		buf_reset(&out);
	return buf_steal(&out);
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A file's text ("" when it cannot be read). */
static char *list_file(const char *path)
{
	struct buf out = BUF_INIT(1 << 20);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];

	while (f && fgets(line, sizeof(line), f))
		(void)buf_puts(&out, line);
	return buf_steal(&out);
}

static char **owners(void)
{
	struct net_state st = {0};
	char **o;

	if (net_nft_read_state(&lib, table, &st, NULL) < 0)
		return NULL;
	o = net_state_owners(&st);
	net_state_release(&st);
	return o;
}

static void test_boot_then_apply(void)
{
	struct net_target t = target(CA, "coitnpa0", "0.0.0.0");
	struct net_policy p;
	struct coi_error err = {0};
	_cleanup_free_ char *br = NULL, *br2 = NULL, *ip = NULL, *fwd = NULL;

	CHECK(netpolicy_boot_block(&lib, &t, &err) == 0);
	if (err.code)
		printf("# %s\n", err.msg);
	br = list("list table bridge %s", table);
	CHECK(strstr(br, "iifname \"coitnpa0\" jump br-" CA " comment \"coi:" CA "\"") != NULL);
	CHECK(strstr(br, "drop comment") != NULL);
	CHECK(strstr(br, "udp dport 67 accept") != NULL);

	net_policy_init(&p);
	t.ipv4 = A("10.250.0.2");
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	if (err.code)
		printf("# %s\n", err.msg);
	br2 = list("list table bridge %s", table);
	CHECK(strstr(br2, "ip saddr 10.250.0.2 accept") != NULL); /* boot block replaced */
	CHECK(strstr(br2, "255.255.255.255 udp dport 67") != NULL);
	CHECK(count(br2, "jump br-" CA) == 1);
	ip = list("list chain ip %s ct-%s", table, CA);
	CHECK(strstr(ip, "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } log prefix "
	                 "\"coi-deny:" CA " \" group 3 reject with icmp admin-prohibited") != NULL);
	CHECK(strstr(ip, "ip daddr 10.250.0.1 udp dport 67 accept") != NULL);
	CHECK(strstr(ip, "ip daddr 10.250.0.1 accept") ==
	      NULL); /* the host: DHCP, DNS, ping only */
	fwd = list("list table ip %s", table);
	CHECK(count(fwd, "ip saddr 10.250.0.2 jump ct-" CA) == 2); /* forward and input */
	CHECK(strstr(fwd, "hook forward priority filter + 10; policy accept;") != NULL);
	net_policy_release(&p);
}

/* With the DNS filter: the redirect, the sets the filter fills (and renews), kept across a
 * second apply. */
static void test_dns_sets(void)
{
	struct net_target t = target(CA, "coitnpa0", "10.250.0.2");
	struct net_set_elem e[3] = {{0, A("93.184.216.34"), 70, false},
	                            {0, A("93.184.216.35"), 70, false},
	                            {1, A("93.184.216.36"), 3600, false}};
	struct net_policy p;
	struct coi_error err = {0};
	_cleanup_free_ char *ip = NULL, *set = NULL, *set2 = NULL, *nat = NULL, *set3 = NULL;

	t.dns_port = 5399;
	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	CHECK(net_policy_add_dest(&p, "example.com:443", NULL) == 0);
	CHECK(net_policy_add_dest(&p, "*.example.org", NULL) == 0);
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	if (err.code)
		printf("# %s\n", err.msg);
	ip = list("list chain ip %s ct-%s", table, CA);
	CHECK(strstr(ip, "ip daddr @d0-" CA " meta l4proto { tcp, udp } th dport 443 accept"));
	CHECK(strstr(ip, "ip daddr @d1-" CA " meta l4proto { tcp, udp } accept"));
	CHECK(strstr(ip, "ip daddr 10.250.0.1 meta l4proto { tcp, udp } th dport 5399 accept"));
	nat = list("list chain ip %s dstnat", table);
	CHECK(strstr(nat, "ip saddr 10.250.0.2 meta l4proto { tcp, udp } th dport 53 dnat to "
	                  "10.250.0.1:5399"));
	CHECK(netpolicy_set_elems(&lib, table, CA, e, 3, &err) == 0);
	set = list("list set ip %s d0-%s", table, CA);
	CHECK(strstr(set, "93.184.216.34 timeout 1m10s") && strstr(set, "93.184.216.35"));
	/* renewed: deleted and added in one go; an entry to renew that is gone is added */
	e[0].timeout = 300;
	e[0].renew = true;
	CHECK(netpolicy_set_elems(&lib, table, CA, e, 1, &err) == 0);
	e[2] = (struct net_set_elem){1, A("93.184.216.37"), 60, true};
	CHECK(netpolicy_set_elems(&lib, table, CA, e + 2, 1, &err) == 0);
	/* applied again (the same session's rules): what the filter put in stays */
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	set2 = list("list set ip %s d0-%s", table, CA);
	CHECK(strstr(set2, "93.184.216.34 timeout 5m") && strstr(set2, "93.184.216.35"));
	set3 = list("list set ip %s d1-%s", table, CA);
	CHECK(strstr(set3, "93.184.216.37 timeout 1m"));
	/* a container name that is not one never reaches nft */
	CHECK(netpolicy_set_elems(&lib, table, "x\" }", e, 1, &err) == -EINVAL);
	net_policy_release(&p);
}

/* The largest allowlist the model admits goes in as one batch, and out again. */
static void test_large_allowlist(void)
{
	struct net_target t = target(CA, "coitnpa0", "10.250.0.2");
	struct net_policy p;
	struct coi_error err = {0};
	_cleanup_free_ char *ip = NULL;
	char entry[48];

	t.dns_port = 5399;
	net_policy_init(&p);
	p.mode = NET_MODE_ALLOWLIST;
	for (size_t i = 0; i < NET_ALLOWLIST_MAX; i++) {
		if (i % 8 == 0) /* 64 names, each with other ports: 64 sets */
			(void)snprintf(entry, sizeof(entry), "h%zu.example.com:%zu", i, 1000 + i);
		else
			(void)snprintf(entry, sizeof(entry), "93.%zu.%zu.0/24:443", i / 256,
			               i % 256);
		CHECK(net_policy_add_dest(&p, entry, NULL) == 0);
	}
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	if (err.code)
		printf("# %s\n", err.msg);
	ip = list("list chain ip %s ct-%s", table, CA);
	CHECK(count(ip, "th dport 443 accept") == NET_ALLOWLIST_MAX - NET_ALLOWLIST_MAX / 8);
	CHECK(count(ip, "ip daddr @d") == 2 * NET_ALLOWLIST_MAX / 8);
	CHECK(strstr(ip, "93.1.255.0/24") != NULL);
	net_policy_release(&p);
}

static void test_stale_ip_purged(void)
{
	/* b gets a's IPv4 (a died without cleaning up): a's rules go in b's batch */
	struct net_target t = target(CB, "coitnpb0", "10.250.0.2");
	struct net_policy p;
	struct coi_error err = {0};
	_cleanup_strv_free_ char **o = NULL;
	_cleanup_free_ char *all = NULL;

	net_policy_init(&p);
	CHECK(netpolicy_boot_block(&lib, &t, &err) == 0);
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	if (err.code)
		printf("# %s\n", err.msg);
	o = owners();
	CHECK(o && strv_length(o) == 1 && strcmp(o[0], CB) == 0);
	all = list("list table ip %s", table);
	CHECK(strstr(all, CA) == NULL);
	net_policy_release(&p);
}

static void test_open_mode(void)
{
	struct net_target t = target(CC, "coitnpc0", "10.250.0.4");
	struct net_policy p;
	struct coi_error err = {0};
	_cleanup_free_ char *br = NULL, *ip = NULL;

	net_policy_init(&p);
	p.mode = NET_MODE_OPEN;
	CHECK(netpolicy_boot_block(&lib, &t, &err) == 0);
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	br = list("list table bridge %s", table);
	CHECK(strstr(br, CC) == NULL); /* no L2 filter, the boot block is gone */
	CHECK(strstr(br, "jump br-" CB) != NULL);
	ip = list("list chain ip %s ct-%s", table, CC);
	CHECK(count(ip, "accept comment") == 1);
	/* [monitoring.nft]: the kernel takes the log rules (test_remove removes them with the rest)
	 */
	p.watch.enabled = true;
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	free(ip);
	ip = list("list chain ip %s ct-%s", table, CC);
	CHECK(count(ip, "log prefix \"coi-dns:" CC " \" group 3") == 1);
	CHECK(count(ip, "log prefix \"coi-new:" CC " \" group 3") == 1);
	CHECK(count(ip, "limit rate 100/second") == 2);
	CHECK(count(ip, "accept comment") == 1);
	/* the credential proxy: the container's HTTPS to the gateway goes to its port, accepted */
	t.proxy_port = 40123;
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	free(ip);
	ip = list("list chain ip %s dstnat", table);
	CHECK(count(ip, "ip saddr 10.250.0.4 ip daddr 10.250.0.1 tcp dport 443 dnat to "
	                "10.250.0.1:40123 comment \"coi:" CC "\"") == 1);
	CHECK(strstr(ip, "type nat hook prerouting priority dstnat") != NULL);
	free(ip);
	ip = list("list chain ip %s ct-%s", table, CC);
	CHECK(count(ip, "ip daddr 10.250.0.1 tcp dport 40123 accept") == 1);
	/* applied again (a refresh): still one redirect */
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	free(ip);
	ip = list("list chain ip %s dstnat", table);
	CHECK(count(ip, "dnat to") == 1);
	/* and with the DNS filter: its redirect too (test_remove removes both) */
	t.dns_port = 5399;
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	free(ip);
	ip = list("list chain ip %s dstnat", table);
	CHECK(count(ip, "dnat to 10.250.0.1:5399 comment \"coi:" CC "\"") == 1);
	CHECK(count(ip, "dnat to") == 2);
	net_policy_release(&p);
}

static void test_purge_orphans(void)
{
	char *live[] = {CC, "coi-t-netpolicy-z", NULL};
	struct coi_error err = {0};
	_cleanup_strv_free_ char **o = NULL;

	CHECK(netpolicy_purge_orphans(&lib, table, live, &err) == 1);
	o = owners();
	CHECK(o && strv_length(o) == 1 && strcmp(o[0], CC) == 0);
	CHECK(netpolicy_purge_orphans(&lib, table, live, &err) == 0);
}

static void test_remove(void)
{
	struct coi_error err = {0};
	_cleanup_strv_free_ char **o = NULL;
	_cleanup_free_ char *all = NULL;

	CHECK(netpolicy_remove(&lib, table, CC, &err) == 0);
	CHECK(netpolicy_remove(&lib, table, CC, &err) == 0); /* again: nothing to do */
	o = owners();
	CHECK(o && strv_length(o) == 0);
	all = list("list table ip %s", table);
	CHECK(strstr(all, "chain forward") != NULL && strstr(all, "coi:") == NULL);
	CHECK(strstr(all, "dnat to") == NULL); /* the proxy's redirect went with the rest */
	CHECK(strstr(all, "chain dstnat") != NULL && strstr(all, "set d") == NULL);
	CHECK(netpolicy_remove(&lib, "coi_t_nonexistent", CC, &err) == 0);
}

static void test_exec_backend(void)
{
	struct net_target t = target(CA, "coitnpa0", "10.250.0.9");
	struct net_policy p;
	struct net_state st = {0};
	struct coi_error err = {0};

	net_policy_init(&p);
	CHECK(netpolicy_boot_block(&ex, &t, &err) == 0);
	CHECK(netpolicy_apply(&ex, &t, &p, &err) == 0);
	if (err.code)
		printf("# %s\n", err.msg);
	CHECK(net_nft_read_state(&ex, table, &st, &err) == 0);
	CHECK(st.n_rules == 3 && st.n_chains == 2);
	net_state_release(&st);
	CHECK(netpolicy_remove(&ex, table, CA, &err) == 0);
	CHECK(net_nft_read_state(&ex, table, &st, &err) == 0);
	CHECK(st.n_rules == 0 && st.n_chains == 0 && st.have_ip);
	net_state_release(&st);
	net_policy_release(&p);
}

/* The state is read with one listing per table where both exist, not with `list tables` (which
 * makes nft fetch every table's chains, sets and rules, the host's others too); a missing table
 * still reads as absent. Seen through an exec'd nft that logs its arguments. */
static void test_read_state_listings(void)
{
	char logf[] = "/tmp/coi-t-nft-log-XXXXXX";
	char *argv[] = {"sh", "-c", "echo \"$*\" >>\"$0\"; exec nft \"$@\"", logf, NULL};
	struct net_nft logged = {.backend = NET_BACKEND_EXEC, .argv = argv};
	struct net_target t = target(CB, "coitnpb0", "10.250.0.12");
	struct net_policy p;
	struct net_state st = {0};
	struct coi_error err = {0};
	_cleanup_free_ char *calls = NULL;
	int fd = mkstemp(logf);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	net_policy_init(&p);
	CHECK(netpolicy_apply(&lib, &t, &p, &err) == 0);
	CHECK(net_nft_read_state(&logged, table, &st, &err) == 0);
	CHECK(st.have_ip && st.have_bridge && st.n_rules == 3 && st.n_chains == 2);
	net_state_release(&st);
	calls = list_file(logf);
	CHECK(count(calls, "\n") == 2 && strstr(calls, "list tables") == NULL);
	CHECK(strstr(calls, "list table ip ") && strstr(calls, "list table bridge "));
	CHECK(net_nft_read_state(&logged, "coi_t_nonexistent", &st, &err) == 0);
	CHECK(!st.have_ip && !st.have_bridge && st.n_rules == 0 && st.n_chains == 0);
	free(calls);
	calls = list_file(logf);
	CHECK(strstr(calls, "list tables") != NULL);
	CHECK(netpolicy_remove(&lib, table, CB, &err) == 0);
	(void)unlink(logf);
	net_policy_release(&p);
}

/* This process's netfilter netlink sockets: how many, and how many close-on-exec. */
static unsigned nft_sockets(unsigned *cloexec)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	*cloexec = 0;
	while (d && (de = readdir(d))) {
		int fd = atoi(de->d_name), proto = 0;
		socklen_t len = sizeof(proto);

		if (de->d_name[0] == '.' || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 ||
		    proto != NETLINK_NETFILTER)
			continue;
		n++;
		*cloexec += (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	}
	if (d)
		closedir(d);
	return n;
}

/* The operations keep their two libnftables contexts (closing a socket after a batch waits an
 * RCU grace period in the kernel), close-on-exec; a forked child makes its own and leaves the
 * parent's working. */
static void test_kept_contexts(void)
{
	struct net_target t = target(CB, "coitnpb0", "0.0.0.0");
	struct net_state st = {0};
	struct coi_error err = {0};
	unsigned cloexec, n;
	int status = -1;
	pid_t pid;

	CHECK(netpolicy_boot_block(&lib, &t, &err) == 0);
	CHECK(net_nft_read_state(&lib, table, &st, &err) == 0);
	net_state_release(&st);
	n = nft_sockets(&cloexec);
	CHECK(n == 2 && cloexec == 2);
	CHECK(netpolicy_remove(&lib, table, CB, &err) == 0);
	CHECK(netpolicy_boot_block(&lib, &t, &err) == 0);
	CHECK(nft_sockets(&cloexec) == n); /* the same two, not one more per operation */
	pid = fork();
	if (pid == 0) {
		struct net_state cst = {0};
		bool ok = net_nft_read_state(&lib, table, &cst, NULL) == 0 && cst.n_chains == 1 &&
		          netpolicy_remove(&lib, table, CB, NULL) == 0 &&
		          netpolicy_boot_block(&lib, &t, NULL) == 0;

		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	CHECK(net_nft_read_state(&lib, table, &st, &err) == 0 && st.n_chains == 1);
	net_state_release(&st);
	CHECK(netpolicy_remove(&lib, table, CB, &err) == 0);
	CHECK(nft_sockets(&cloexec) == n && cloexec == n);
}

static void test_errors_carry_nft_text(void)
{
	char *missing_argv[] = {"/nonexistent/nft", NULL};
	struct net_nft missing = {.backend = NET_BACKEND_EXEC, .argv = missing_argv};
	char *false_argv[] = {"sh", "-c", "cat >/dev/null; echo 'Error: denied' >&2; exit 1", NULL};
	struct net_nft fails = {.backend = NET_BACKEND_EXEC, .argv = false_argv};
	char *slow_argv[] = {"sh", "-c", "sleep 5", NULL};
	struct net_nft slow = {.backend = NET_BACKEND_EXEC, .argv = slow_argv, .timeout_sec = 1};
	struct coi_error err = {0};

	CHECK(net_nft_run(&lib, "add rule ip coi_t_nonexistent nochain accept", false, NULL,
	                  &err) == -EPROTO);
	CHECK(strstr(err.msg, "No such file or directory") != NULL);
	CHECK(net_nft_run(&ex, "bogus command", false, NULL, &err) == -EPROTO);
	CHECK(strstr(err.msg, "syntax error") != NULL);
	CHECK(net_nft_run(&missing, "list tables", false, NULL, &err) < 0);
	CHECK(net_nft_probe(&missing, &err) < 0);
	CHECK(net_nft_probe(&lib, &err) == 0);
	CHECK(net_nft_probe(&ex, &err) == 0);
	CHECK(net_have_cap_net_admin()); /* root: the automatic choice is libnftables */
	if (access("/usr/bin/sudo", X_OK) == 0) {
		struct net_nft via_sudo = {.backend = NET_BACKEND_EXEC}; /* sudo -n nft */

		CHECK(net_nft_probe(&via_sudo, &err) == 0);
	}
	CHECK(net_nft_run(&fails, "list tables", false, NULL, &err) == -EPROTO);
	CHECK_STREQ(err.msg, "nft failed: Error: denied");
	CHECK(net_nft_run(&slow, "", false, NULL, &err) == -ETIMEDOUT);
}

static void cleanup(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "delete table ip %s", table);
	(void)net_nft_run(&lib, cmd, false, NULL, NULL);
	(void)snprintf(cmd, sizeof(cmd), "delete table bridge %s", table);
	(void)net_nft_run(&lib, cmd, false, NULL, NULL);
}

/* Scratch tables of earlier runs that died before their cleanup (killed, crashed): their pid
 * is gone. Left alone, they would pile up in the host's ruleset. */
static void sweep_stale(void)
{
	_cleanup_free_ char *tables = list("list tables");
	char fam[16], name[64], cmd[160];

	for (char *line = tables; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		int pid;

		if (sscanf(line, "table %15s coi_t_%d", fam, &pid) != 2 || pid <= 1 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		(void)snprintf(name, sizeof(name), "coi_t_%d", pid);
		(void)snprintf(cmd, sizeof(cmd), "delete table %s %s", fam, name);
		(void)net_nft_run(&lib, cmd, false, NULL, NULL);
	}
}

int main(void)
{
	_cleanup_free_ char *tables = NULL;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root for nftables\n");
		return 77;
	}
	(void)snprintf(table, sizeof(table), "coi_t_%d", (int)getpid());
	if (unshare(CLONE_NEWNET) < 0)
		sweep_stale(); /* on the host's ruleset after all */
	RUN(test_boot_then_apply);
	RUN(test_dns_sets);
	RUN(test_large_allowlist);
	RUN(test_stale_ip_purged);
	RUN(test_open_mode);
	RUN(test_purge_orphans);
	RUN(test_remove);
	RUN(test_exec_backend);
	RUN(test_read_state_listings);
	RUN(test_kept_contexts);
	RUN(test_errors_carry_nft_text);
	cleanup();
	tables = list("list tables");
	CHECK(strstr(tables, table) == NULL);
	return tap_done();
}
