/* SPDX-License-Identifier: MIT */
/* forward.c: what crosses the container boundary on purpose, and nothing more.
 *
 * - Sockets: an Incus proxy device per socket, listening on a unix socket in the container (the
 *   code user's, mode 0600) and connecting to the host's socket. Only the socket crosses: the
 *   agent can talk to the service, never read what stands behind it (the SSH agent's keys).
 * - Ports: a proxy device per port with bind=host, listening on the host (loopback unless a
 *   [[ports.map]] entry names another address) and connecting to the container's 127.0.0.1.
 *   Userspace forwarding, no NAT: the network policy is untouched. Automatic ports come from a
 *   10-port block per (workspace, slot), the original's formula, so a workspace keeps its
 *   numbers from one session to the next; busy ones are skipped. Pinned ports are bind-probed
 *   before anything is created, so a busy one is a clear error, not a half-made container.
 * - Credentials: copied with the file API, never mounted, so nothing in the container leads back
 *   to the host file.
 *
 * Device names are fixed ("ssh-agent", "coi-socket-N", "coi-port-NAME", "coi-port-pool-N") so a
 * persistent container's devices of an earlier session can be found and removed. */
#include "session/forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incus/incus.h"
#include "session/state.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define CREDENTIAL_MAX (1u << 20)

uint16_t forward_port_block(const char *hash, int slot)
{
	char four[5] = {0};

	memcpy(four, hash, 4);
	return (uint16_t)(FORWARD_PORT_BASE + (strtoul(four, NULL, 16) % 400) * 100 +
	                  (unsigned long)(slot - 1) * FORWARD_PORT_BLOCK);
}

int forward_port_free(const char *listen, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	_cleanup_close_ int fd = -EBADF;
	int one = 1;

	if (inet_pton(AF_INET, listen, &a.sin_addr) != 1)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* as the daemon's listener will: a port in TIME_WAIT is free */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return 1;
	/* a privileged port: only the daemon can tell; let it */
	return errno == EACCES ? 1 : 0;
}

static bool path_inside(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(p, dir, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

static int env_add(struct session_opts *o, const char *name, const char *value)
{
	struct session_env *e = reallocarray(o->env, o->n_env + 1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	o->env = e;
	e[o->n_env].name = strdup(name);
	e[o->n_env].value = strdup(value);
	if (!e[o->n_env].name || !e[o->n_env].value) {
		free(e[o->n_env].name);
		free(e[o->n_env].value);
		return -ENOMEM;
	}
	o->n_env++;
	return 0;
}

/* --- Before anything is created --- */

static int check_sockets(struct session *s, struct coi_error *err)
{
	struct session_opts *o = s->opts;

	for (size_t i = 0; i < o->n_sockets; i++) {
		const struct session_socket *k = &o->sockets[i];
		struct stat st;

		if (stat(k->host, &st) < 0)
			return coi_error_errno(err, errno, "[[sockets]]: cannot use '%s'", k->host);
		if (!S_ISSOCK(st.st_mode))
			return coi_error_set(err, -ENOTSOCK,
			                     "[[sockets]]: '%s' is not a unix socket", k->host);
		if (path_inside(k->container, s->container_workspace))
			return coi_error_set(err, -EINVAL,
			                     "[[sockets]]: '%s' lies in the workspace; choose a "
			                     "path outside '%s'",
			                     k->container, s->container_workspace);
		if (k->env && env_add(o, k->env, k->container) < 0)
			return coi_error_oom(err);
	}
	return 0;
}

static int check_credentials(struct session *s, struct coi_error *err)
{
	struct session_opts *o = s->opts;

	for (size_t i = 0; i < o->n_creds; i++) {
		const struct session_credential *c = &o->creds[i];
		_cleanup_close_ int fd = open(c->host, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		struct stat st;

		if (fd < 0)
			return coi_error_errno(err, errno, "[[credentials]]: cannot read '%s'",
			                       c->host);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CREDENTIAL_MAX)
			return coi_error_set(
			        err, -EINVAL,
			        "[[credentials]]: '%s' is not a regular file of at most "
			        "1 MiB",
			        c->host);
		if (path_inside(c->container, s->container_workspace))
			return coi_error_set(
			        err, -EINVAL,
			        "[[credentials]]: '%s' lies in the workspace, which is "
			        "the host's; choose a path outside '%s'",
			        c->container, s->container_workspace);
	}
	return 0;
}

static bool port_taken(const struct session_opts *o, uint16_t port)
{
	for (size_t i = 0; i < o->n_ports; i++)
		if (o->ports[i].host == port)
			return true;
	return false;
}

static int add_pool_ports(struct session_opts *o)
{
	struct session_port *p =
	        reallocarray(o->ports, o->n_ports + (size_t)o->port_pool + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	o->ports = p;
	/* pool ports first: they take the first numbers of the block */
	memmove(p + o->port_pool, p, o->n_ports * sizeof(*p));
	for (int i = 0; i < o->port_pool; i++) {
		p[i] = (struct session_port){.listen = strdup("127.0.0.1")};
		o->n_ports++;
		if (!p[i].listen)
			return -ENOMEM;
	}
	o->port_pool = 0;
	return 0;
}

static int pick_auto_ports(struct session *s, size_t n_auto, struct coi_error *err)
{
	struct session_opts *o = s->opts;
	uint16_t base;
	unsigned next = 0;

	if (s->slot < 1 || s->slot > FORWARD_PORT_BLOCK)
		return coi_error_set(err, -ERANGE,
		                     "[ports]: automatic host ports need a slot from 1 to %d (this "
		                     "is slot %d); set 'host' in each [[ports.map]] entry",
		                     FORWARD_PORT_BLOCK, s->slot);
	if (n_auto > FORWARD_PORT_BLOCK)
		return coi_error_set(err, -ERANGE,
		                     "[ports]: %zu automatic ports (pool and [[ports.map]] entries "
		                     "without 'host'); at most %d: set 'host' for some",
		                     n_auto, FORWARD_PORT_BLOCK);
	base = forward_port_block(s->hash, s->slot);
	for (size_t i = 0; i < o->n_ports; i++) {
		struct session_port *p = &o->ports[i];

		while (!p->host && next < FORWARD_PORT_BLOCK) {
			uint16_t cand = (uint16_t)(base + next++);

			if (!port_taken(o, cand) && forward_port_free(p->listen, cand) > 0)
				p->host = cand;
		}
		if (!p->host)
			return coi_error_set(
			        err, -EADDRINUSE,
			        "[ports]: no free port left in %u-%u, this slot's block; "
			        "free one or set 'host'",
			        base, base + FORWARD_PORT_BLOCK - 1);
		if (!p->name)
			p->container = p->host; /* identity-mapped */
	}
	return 0;
}

static int plan_ports(struct session *s, struct coi_error *err)
{
	struct session_opts *o = s->opts;
	size_t n_auto = (size_t)o->port_pool;
	int r;

	for (size_t i = 0; i < o->n_ports; i++) {
		const struct session_port *p = &o->ports[i];

		if (!p->host) {
			n_auto++;
			continue;
		}
		r = forward_port_free(p->listen, p->host);
		if (r < 0)
			return coi_error_errno(err, r, "[ports]: cannot probe port %u", p->host);
		if (r == 0)
			return coi_error_set(
			        err, -EADDRINUSE,
			        "[ports]: host port %s:%u ([[ports.map]] \"%s\") is already "
			        "in use; free it or change 'host'",
			        p->listen, p->host, p->name);
	}
	if (add_pool_ports(o) < 0)
		return coi_error_oom(err);
	return n_auto ? pick_auto_ports(s, n_auto, err) : 0;
}

static int ports_env(struct session_opts *o)
{
	_cleanup_buf_ struct buf pool = BUF_INIT(256);
	char n[8];

	for (size_t i = 0; i < o->n_ports; i++) {
		const struct session_port *p = &o->ports[i];

		(void)snprintf(n, sizeof(n), "%u", p->host);
		if (!p->name && buf_printf(&pool, "%s%s", pool.len ? " " : "", n) < 0)
			return -ENOMEM;
		if (p->name && env_add(o, p->env, n) < 0)
			return -ENOMEM;
	}
	return pool.len ? env_add(o, "COI_PORTS", buf_str(&pool)) : 0;
}

int forward_prepare(struct session *s, struct coi_error *err)
{
	int r = check_sockets(s, err);

	if (r >= 0)
		r = check_credentials(s, err);
	if (r >= 0)
		r = plan_ports(s, err);
	if (r >= 0 && ports_env(s->opts) < 0)
		r = coi_error_oom(err);
	return r;
}

/* --- Devices --- */

static bool is_forward_device(const char *name)
{
	return strcmp(name, "ssh-agent") == 0 || strncmp(name, "coi-socket-", 11) == 0 ||
	       strncmp(name, "coi-port-", 9) == 0;
}

int forward_mkdirs(struct session *s, const char *dir, struct coi_error *err)
{
	struct incus_file_attrs a = {
	        .uid = s->opts->code_uid, .gid = s->opts->code_uid, .mode = 0700};

	return incus_file_mkdir_p(s->client, s->name, dir, &a, err);
}

static int add_socket(struct session *s, struct incus_devices *d, size_t i, struct coi_error *err)
{
	const struct session_socket *k = &s->opts->sockets[i];
	_cleanup_free_ char *connect = NULL, *listen = NULL, *uid = NULL, *dir = NULL, *dev = NULL;
	char *slash;
	int r;

	dir = strdup(k->container);
	if (!dir)
		return coi_error_oom(err);
	slash = strrchr(dir, '/');
	*slash = '\0';
	r = forward_mkdirs(s, *dir ? dir : "/", err);
	if (r < 0)
		return r;
	if (s->reused) /* a socket file left by the last session of this container */
		(void)incus_file_delete(s->client, s->name, k->container, NULL);
	if ((k->device ? !(dev = strdup(k->device)) : asprintf(&dev, "coi-socket-%zu", i) < 0) ||
	    asprintf(&connect, "unix:%s", k->host) < 0 ||
	    asprintf(&listen, "unix:%s", k->container) < 0 ||
	    asprintf(&uid, "%lld", (long long)s->opts->code_uid) < 0 ||
	    incus_devices_add(d, dev, "type", "proxy", "connect", connect, "listen", listen, "bind",
	                      "container", "uid", uid, "gid", uid, "mode", "0600", NULL) < 0)
		return coi_error_oom(err);
	return 0;
}

static int add_port(struct incus_devices *d, const struct session_port *p, size_t i)
{
	_cleanup_free_ char *dev = NULL, *connect = NULL, *listen = NULL;

	if ((p->name ? asprintf(&dev, "coi-port-%s", p->name)
	             : asprintf(&dev, "coi-port-pool-%zu", i)) < 0 ||
	    asprintf(&listen, "tcp:%s:%u", p->listen, p->host) < 0 ||
	    asprintf(&connect, "tcp:127.0.0.1:%u", p->container) < 0)
		return -ENOMEM;
	return incus_devices_add(d, dev, "type", "proxy", "bind", "host", "listen", listen,
	                         "connect", connect, NULL);
}

int forward_devices_add(struct session *s, struct coi_error *err)
{
	struct incus_devices d = {0};
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->opts->n_sockets; i++)
		r = add_socket(s, &d, i, err);
	for (size_t i = 0; r >= 0 && i < s->opts->n_ports; i++)
		if (add_port(&d, &s->opts->ports[i], i) < 0)
			r = coi_error_oom(err);
	if (r >= 0 && d.n > 0)
		r = incus_instance_patch(s->client, s->name, NULL, &d, err);
	incus_devices_clear(&d);
	return r < 0 ? coi_error_prefix(err, "forwarding sockets and ports") : 0;
}

int forward_devices_remove(struct session *s, struct coi_error *err)
{
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	int r = incus_instance_get(s->client, s->name, &in, err);

	if (r == -ENOENT)
		return 0;
	for (size_t i = 0; r >= 0 && i < in->devices.n; i++) {
		if (!is_forward_device(in->devices.items[i].name))
			continue;
		r = incus_instance_remove_device(s->client, s->name, in->devices.items[i].name,
		                                 err);
		if (r == -ENOENT)
			r = 0;
	}
	return r;
}

/* --- Credentials --- */

int forward_copy_credentials(struct session *s, struct coi_error *err)
{
	for (size_t i = 0; i < s->opts->n_creds; i++) {
		const struct session_credential *c = &s->opts->creds[i];
		struct incus_file_attrs a = {
		        .uid = s->opts->code_uid, .gid = s->opts->code_uid, .mode = c->mode};
		_cleanup_buf_ struct buf b = BUF_INIT(CREDENTIAL_MAX);
		_cleanup_free_ char *dir = strdup(c->container);
		int r;

		if (!dir)
			return coi_error_oom(err);
		*strrchr(dir, '/') = '\0';
		r = read_file(c->host, &b, err);
		if (r >= 0)
			r = forward_mkdirs(s, *dir ? dir : "/", err);
		if (r >= 0)
			r = incus_file_write(s->client, s->name, c->container, buf_str(&b), b.len,
			                     &a, err);
		if (r < 0)
			return coi_error_prefix(err, "[[credentials]] '%s'", c->host);
	}
	return 0;
}
