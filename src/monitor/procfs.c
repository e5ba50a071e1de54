/* SPDX-License-Identifier: MIT */
/* procfs.c: facts from /proc/<pid> and the container's cgroup, read from the host. Every read is
 * capped; a process that vanished reads as -ENOENT, which callers expect all the time. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor/sources.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strv.h"

#define CMDLINE_MAX (64u << 10)

/* Reads a small file into out (NUL-terminated); returns its length or a negative errno. */
static ssize_t read_small(const char *path, char *out, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len + 1 < size && (n = read(fd, out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	return (ssize_t)len;
}

static int read_capped(const char *path, struct buf *b)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char chunk[4096];
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) < 0)
			break; /* a huge command line: the first 64 KiB decide */
	return n < 0 ? -errno : 0;
}

int proc_argv(pid_t pid, char ***ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(CMDLINE_MAX);
	_cleanup_strv_free_ char **argv = NULL;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	r = read_capped(path, &b);
	if (r < 0)
		return r;
	if (b.len == 0)
		return -ENOENT; /* a zombie, or a kernel thread */
	for (size_t i = 0; i < b.len; i += strlen(b.data + i) + 1)
		if (strv_push(&argv, b.data + i) < 0)
			return -ENOMEM;
	*ret = TAKE_PTR(argv);
	return 0;
}

static int read_status(pid_t pid, pid_t *ppid, uid_t *uid, char comm[17])
{
	char path[64], text[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, text, sizeof(text)) < 0)
		return -ENOENT;
	if ((p = strstr(text, "Name:\t")) && comm)
		snprintf(comm, 17, "%.*s", (int)strcspn(p + 6, "\n"), p + 6);
	if ((p = strstr(text, "\nPPid:\t")) && ppid)
		*ppid = (pid_t)atoi(p + 7);
	if ((p = strstr(text, "\nUid:\t")) && uid)
		*uid = (uid_t)strtoul(p + 6, NULL, 10);
	return 0;
}

int proc_cpu(pid_t pid, double *ret_share, double *ret_seconds)
{
	char path[64], text[1024], up[64];
	unsigned long long utime, stime, start;
	const char *p;
	double uptime, hz = (double)sysconf(_SC_CLK_TCK), age;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, text, sizeof(text)) < 0 ||
	    read_small("/proc/uptime", up, sizeof(up)) < 0)
		return -ENOENT;
	p = strrchr(text, ')'); /* comm may hold spaces and parentheses */
	if (!p ||
	    sscanf(p + 2,
	           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
	           "%*d %llu",
	           &utime, &stime, &start) != 3 ||
	    sscanf(up, "%lf", &uptime) != 1 || hz <= 0)
		return -EBADMSG;
	age = uptime - (double)start / hz;
	*ret_seconds = age > 0 ? age : 0;
	*ret_share = age > 0 ? ((double)(utime + stime) / hz) / age : 0;
	return 0;
}

uint64_t proc_userns(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

int proc_exec_mark(pid_t pid, struct exec_mark *ret)
{
	char path[64], text[1024];
	const char *open_p, *close_p;
	struct exec_mark m = {0};

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, text, sizeof(text)) < 0)
		return -ENOENT;
	open_p = strchr(text, '(');
	close_p = strrchr(text, ')'); /* comm may hold spaces and parentheses */
	if (!open_p || !close_p || close_p < open_p ||
	    sscanf(close_p + 2,
	           "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d "
	           "%*u %*u %*u %*u %llu %llu %llu",
	           &m.state, &m.code, &m.code_end, &m.stack) != 4)
		return -EBADMSG;
	snprintf(m.comm, sizeof(m.comm), "%.*s", (int)(close_p - open_p - 1), open_p + 1);
	*ret = m;
	return 0;
}

/* The addresses when they could be read, the name only when not: a process can rename itself
 * (prctl, /proc/self/comm) without an exec, and one that kept renaming itself from a thread must
 * not have its facts dropped as "read across an exec" (its descriptors unjudged). A process that
 * ended between the two reads is the same program: a short `sh -c "id; echo"` that exits while it
 * is read must be judged (its addresses read as 0 once its memory is gone, before it is a
 * zombie; an exec never leaves a process without memory). */
bool exec_mark_same(const struct exec_mark *a, const struct exec_mark *b)
{
	bool b_ended = b->state == 'Z' || b->state == 'X' ||
	               ((a->code || a->stack) && !b->code && !b->code_end && !b->stack);

	if (b_ended)
		return true;
	if (a->code || a->stack || b->code || b->stack)
		return a->code == b->code && a->code_end == b->code_end && a->stack == b->stack;
	return strcmp(a->comm, b->comm) == 0;
}

int proc_parent(pid_t pid, pid_t *ret_ppid, char comm[17])
{
	return read_status(pid, ret_ppid, NULL, comm);
}

int proc_comm(pid_t pid, char comm[17])
{
	return read_status(pid, NULL, NULL, comm);
}

/* ---- sockets ------------------------------------------------------------------------------- */

#define FDS_MAX   1024 /* descriptors looked at per process */
#define SOCKS_MAX 64   /* socket inodes followed per process */

static bool hex_addr(const char *hex, bool v6, uint8_t out[16])
{
	size_t words = v6 ? 4 : 1;

	if (strlen(hex) != words * 8)
		return false;
	for (size_t w = 0; w < words; w++) {
		char part[9];
		uint32_t v;

		memcpy(part, hex + w * 8, 8);
		part[8] = 0;
		v = (uint32_t)strtoul(part, NULL, 16);
		memcpy(out + w * 4, &v, 4); /* the kernel prints each word in host order */
	}
	return true;
}

int proc_net_parse(const char *text, bool v6, bool (*cb)(const struct net_sock *s, void *userdata),
                   void *userdata)
{
	int count = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char la[33], ra[33];
		unsigned lport, rport, state;
		unsigned long inode;
		struct net_sock s = {.v6 = v6};

		if (sscanf(l,
		           " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*u %lu",
		           la, &lport, ra, &rport, &state, &inode) != 6)
			continue; /* the header, or a line cut short */
		if (!hex_addr(la, v6, s.laddr) || !hex_addr(ra, v6, s.raddr) || lport > 65535 ||
		    rport > 65535)
			continue;
		s.lport = (uint16_t)lport;
		s.rport = (uint16_t)rport;
		s.state = state;
		s.inode = inode;
		count++;
		if (cb(&s, userdata))
			break;
	}
	return count;
}

bool net_sock_loopback(const struct net_sock *s)
{
	static const uint8_t v6lo[16] = {[15] = 1}, mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (!s->v6)
		return s->raddr[0] == 127;
	if (memcmp(s->raddr, v6lo, 16) == 0)
		return true;
	return memcmp(s->raddr, mapped, 12) == 0 && s->raddr[12] == 127;
}

void net_sock_peer(const struct net_sock *s, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (s->v6 && memcmp(s->raddr, mapped, 12) == 0)
		inet_ntop(AF_INET, s->raddr + 12, a, sizeof(a));
	else
		inet_ntop(s->v6 ? AF_INET6 : AF_INET, s->raddr, a, sizeof(a));
	snprintf(out, size, strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, s->rport);
}

struct sock_find {
	unsigned long inodes[SOCKS_MAX];
	int fds[SOCKS_MAX];
	bool done[SOCKS_MAX];
	size_t n;
	struct sock_facts *f;
};

static bool sock_found(const struct net_sock *s, void *u)
{
	struct sock_find *sf = u;

	for (size_t i = 0; i < sf->n; i++) {
		enum peer_kind k;

		if (sf->done[i] || s->inode == 0 || sf->inodes[i] != s->inode)
			continue; /* inode 0: a socket no longer open (TIME_WAIT) */
		/* connected (a peer port) to an address off the loopback */
		k = s->rport && !net_sock_loopback(s) ? PEER_REMOTE : PEER_LOCAL;
		if (sf->fds[i] < 3)
			sf->f->stdio[sf->fds[i]] = k;
		if (k == PEER_REMOTE) {
			sf->f->remote++;
			if (!sf->f->peer[0] || sf->fds[i] < 3)
				net_sock_peer(s, sf->f->peer, sizeof(sf->f->peer));
		}
		sf->done[i] = true; /* each once, whichever table lists it */
	}
	return false;
}

/* The socket inodes among pid's descriptors. */
static int socket_fds(pid_t pid, struct sock_find *sf)
{
	char path[64];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	for (int i = 0; i < FDS_MAX && sf->n < SOCKS_MAX && (e = readdir(d)); i++) {
		char link[64];
		unsigned long inode;
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (sscanf(link, "socket:[%lu]", &inode) == 1) {
			sf->inodes[sf->n] = inode;
			sf->fds[sf->n++] = atoi(e->d_name);
		}
	}
	closedir(d);
	return 0;
}

int proc_socks_read(pid_t pid, struct sock_facts *ret)
{
	static const char *const tables[] = {"tcp", "tcp6", "udp", "udp6"};
	struct sock_facts f = {0};
	struct sock_find sf = {.f = &f};
	int r;

	r = socket_fds(pid, &sf);
	if (r < 0)
		return r;
	for (size_t i = 0; sf.n && i < ELEMENTSOF(tables); i++) {
		_cleanup_buf_ struct buf b = BUF_INIT(4u << 20);
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, tables[i]);
		if (read_capped(path, &b) == 0 && b.len)
			(void)proc_net_parse(buf_str(&b), i % 2 == 1, sock_found, &sf);
	}
	*ret = f;
	return 0;
}

/* The uid as the container sees it, through the process's user namespace map. */
static uid_t uid_inside(pid_t pid, uid_t host)
{
	char path[64], text[1024];
	const char *p = text;

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (read_small(path, text, sizeof(text)) < 0)
		return host;
	while (*p) {
		unsigned long in, out, count;

		if (sscanf(p, "%lu %lu %lu", &in, &out, &count) == 3 && host >= out &&
		    host - out < count)
			return (uid_t)(in + (host - out));
		p = strchrnul(p, '\n');
		p += !!*p;
	}
	return host;
}

int proc_facts_read(pid_t pid, struct proc_facts *ret)
{
	struct proc_facts f = {0};
	pid_t p;
	size_t len = 0;
	int r;

	r = proc_argv(pid, &f.argv);
	if (r == -ENOMEM)
		return r;
	if (read_status(pid, &f.ppid, &f.uid, f.comm) < 0 && !f.argv)
		return -ENOENT;
	f.uid = uid_inside(pid, f.uid);
	(void)proc_socks_read(pid, &f.socks);
	p = f.ppid;
	for (int depth = 0; depth < 3 && p > 1; depth++) {
		char comm[17] = "";
		pid_t next = 0;

		if (read_status(p, &next, NULL, comm) < 0)
			break;
		r = snprintf(f.parent + len, sizeof(f.parent) - len, "%s%s", depth ? "<" : "",
		             comm);
		if (r < 0 || (size_t)r >= sizeof(f.parent) - len)
			break;
		len += (size_t)r;
		p = next;
	}
	*ret = f;
	return 0;
}

void proc_facts_release(struct proc_facts *f)
{
	f->argv = strv_free(f->argv);
}

/* ---- cgroups ------------------------------------------------------------------------------- */

/* The path of pid in the pids hierarchy (v1) or the unified one (v2). */
static int pid_cgroup(pid_t pid, char *out, size_t size, bool *ret_v1)
{
	char path[64], text[4096], *line, *save = NULL, *v2 = NULL;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, text, sizeof(text)) < 0)
		return -ENOENT;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctrl = strchr(line, ':'), *p = ctrl ? strchr(ctrl + 1, ':') : NULL;

		if (!p)
			continue;
		if (strncmp(ctrl, ":pids:", 6) == 0) {
			snprintf(out, size, "%s", p + 1);
			*ret_v1 = true;
			return 0;
		}
		if (strncmp(line, "0::", 3) == 0)
			v2 = p + 1;
	}
	if (!v2)
		return -ENOENT;
	snprintf(out, size, "%s", v2);
	*ret_v1 = false;
	return 0;
}

int cgroup_of_init(pid_t pid, struct cgroup_ref *ret)
{
	struct cgroup_ref cg = {0};
	char path[256];
	size_t n;
	int r;

	r = pid_cgroup(pid, path, sizeof(path), &cg.v1);
	if (r < 0)
		return r;
	if (path[0] != '/' || !path[1])
		return -EMEDIUMTYPE; /* not in a container's cgroup */
	n = strcspn(path + 1, "/") + 1;
	snprintf(cg.root, sizeof(cg.root), "%.*s", (int)n, path);
	*ret = cg;
	return 0;
}

/* Another instance's payload, "/lxc.payload.OTHER" and below: the processes of another
 * container. None of them can ever move into our cgroup: moving a process (cgroup.procs, tasks,
 * or CLONE_INTO_CGROUP) needs write access to the cgroup where both meet, here the host's root,
 * with the destination inside the mover's cgroup namespace, and a container's namespace is its
 * own payload; Incus never moves a process between instances. A child starts in its parent's
 * cgroup, so a foreign process's children are foreign too. Everything else may join ours: the
 * host's own cgroups above all (`incus exec` forks in incusd's and moves its child into the
 * container before the exec), and the instances' monitors (lxc.monitor.*, host processes that
 * run hooks) are left to that rule too, they seldom exec. */
static bool other_payload(const char *path)
{
	static const char payload[] = "/lxc.payload.";

	return strncmp(path, payload, strlen(payload)) == 0 && path[strlen(payload)] &&
	       path[strlen(payload)] != '/';
}

enum cgroup_place cgroup_place(const struct cgroup_ref *cg, const char *path)
{
	size_t n = strlen(cg->root);

	if (n && strncmp(path, cg->root, n) == 0 && (path[n] == 0 || path[n] == '/'))
		return CGROUP_OURS;
	return other_payload(path) ? CGROUP_FOREIGN : CGROUP_ELSEWHERE;
}

int cgroup_place_of_pid(const struct cgroup_ref *cg, pid_t pid)
{
	char path[256];
	bool v1;

	if (pid_cgroup(pid, path, sizeof(path), &v1) < 0)
		return -ENOENT;
	return (int)cgroup_place(cg, path);
}

int cgroup_has_pid(const struct cgroup_ref *cg, pid_t pid)
{
	int r = cgroup_place_of_pid(cg, pid);

	return r < 0 ? r : r == CGROUP_OURS;
}

void cgroup_io_parse(const char *text, bool v1, uint64_t *ret_read, uint64_t *ret_write)
{
	uint64_t rd = 0, wr = 0;
	const char *p = text;

	while (p && *p) {
		const char *nl = strchrnul(p, '\n');
		char op[16];
		uint64_t v;

		if (v1) {
			if (sscanf(p, "%*u:%*u %15s %" SCNu64, op, &v) == 2) {
				if (strcmp(op, "Read") == 0)
					rd += v;
				else if (strcmp(op, "Write") == 0)
					wr += v;
			}
		} else {
			const char *r = strstr(p, "rbytes="), *w = strstr(p, "wbytes=");

			if (r && r < nl)
				rd += strtoull(r + 7, NULL, 10);
			if (w && w < nl)
				wr += strtoull(w + 7, NULL, 10);
		}
		p = *nl ? nl + 1 : NULL;
	}
	*ret_read = rd;
	*ret_write = wr;
}

struct io_sum {
	uint64_t rd, wr;
};

static int add_proc_io(pid_t pid, void *u)
{
	struct io_sum *s = u;
	char path[64], text[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if (read_small(path, text, sizeof(text)) < 0)
		return 0;
	if ((p = strstr(text, "\nread_bytes: ")))
		s->rd += strtoull(p + 13, NULL, 10);
	if ((p = strstr(text, "\nwrite_bytes: ")))
		s->wr += strtoull(p + 14, NULL, 10);
	return 0;
}

int cgroup_io(const struct cgroup_ref *cg, uint64_t *ret_read, uint64_t *ret_write)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 20);
	struct io_sum sum = {0};
	char path[512];
	uint64_t rd = 0, wr = 0;

	/* v1 blkio sees I/O submitted by the container's own tasks only: a write that reaches a
	 * loop device or btrfs through the kernel's writeback workers (buffered writes, and on
	 * btrfs direct writes that fall back to them) is never charged, while a direct read is,
	 * so the cgroup read a 40 MB dd's reads and none of its writes. There the processes' own
	 * storage I/O counters are the source, charged to the writer as it dirties the pages. */
	if (!cg->v1) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/io.stat", cg->root);
		if (read_capped(path, &b) == 0)
			cgroup_io_parse(buf_str(&b), false, &rd, &wr);
	}
	if (rd == 0 && wr == 0) {
		/* A reaped child's counts move to its parent, so the sum only drops when a process
		 * whose parent lives outside the container exits; deltas are clamped at 0. */
		if (cgroup_pids(cg, add_proc_io, &sum) < 0)
			return -ENOENT;
		rd = sum.rd;
		wr = sum.wr;
	}
	*ret_read = rd;
	*ret_write = wr;
	return 0;
}

static int walk_procs(const char *dir, unsigned depth, int (*cb)(pid_t, void *), void *u,
                      int *count)
{
	_cleanup_buf_ struct buf b = BUF_INIT(4u << 20);
	_cleanup_free_ char *procs = NULL;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (asprintf(&procs, "%s/cgroup.procs", dir) < 0)
		return -ENOMEM;
	if (read_capped(procs, &b) == 0)
		for (const char *p = buf_str(&b); *p && r >= 0; p = strchrnul(p, '\n'), p += !!*p) {
			pid_t pid = (pid_t)atoi(p);

			if (pid > 0) {
				(*count)++;
				r = cb ? cb(pid, u) : 0;
			}
		}
	if (r < 0 || depth >= 8 || !(d = opendir(dir)))
		return r;
	while (r >= 0 && (e = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", dir, e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		r = walk_procs(sub, depth + 1, cb, u, count);
	}
	closedir(d);
	return r;
}

int cgroup_pids(const struct cgroup_ref *cg, int (*cb)(pid_t pid, void *userdata), void *userdata)
{
	char dir[512];
	int count = 0, r;

	snprintf(dir, sizeof(dir), cg->v1 ? "/sys/fs/cgroup/pids%s" : "/sys/fs/cgroup%s", cg->root);
	r = walk_procs(dir, 0, cb, userdata, &count);
	return r < 0 ? r : count;
}

int cgroup_pids_refused(const struct cgroup_ref *cg, uint64_t *ret)
{
	char path[512], text[256], *p;

	snprintf(path, sizeof(path),
	         cg->v1 ? "/sys/fs/cgroup/pids%s/pids.events" : "/sys/fs/cgroup%s/pids.events",
	         cg->root);
	if (read_small(path, text, sizeof(text)) < 0)
		return -ENOENT;
	p = strstr(text, "max ");
	if (!p)
		return -EBADMSG;
	*ret = strtoull(p + 4, NULL, 10);
	return 0;
}

int cgroup_freeze(const struct cgroup_ref *cg)
{
	_cleanup_close_ int fd = -EBADF;
	char path[512];
	const char *v = cg->v1 ? "FROZEN" : "1";

	snprintf(path, sizeof(path),
	         cg->v1 ? "/sys/fs/cgroup/freezer%s/freezer.state"
	                : "/sys/fs/cgroup%s/cgroup.freeze",
	         cg->root);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return write(fd, v, strlen(v)) < 0 ? -errno : 0;
}

int container_disk(pid_t init_pid, const char *path, struct disk_obs *ret)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC | O_DIRECTORY,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	_cleanup_close_ int root = -EBADF, fd = -EBADF;
	char p[64];
	struct statfs st;

	snprintf(p, sizeof(p), "/proc/%d/root", (int)init_pid);
	root = open(p, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &st) < 0)
		return -errno;
	*ret = (struct disk_obs){
	        .path = path,
	        .total_bytes = (uint64_t)st.f_blocks * (uint64_t)st.f_bsize,
	        .used_bytes = (uint64_t)(st.f_blocks - st.f_bfree) * (uint64_t)st.f_bsize,
	};
	return 0;
}
