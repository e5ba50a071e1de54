/* SPDX-License-Identifier: MIT */
/* credproxy.c: the session's side of the credential proxy (credproxy.h). */
#include "session/credproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress/child.h"
#include "egress/proxy.h"
#include "egress/secret.h"
#include "egress/source.h"
#include "egress/wire.h"
#include "incus/incus.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/strv.h"

#define TEXT_MAX (4u << 20)

int credproxy_prepare(const struct egress_set *set, const int64_t *expires, struct in_addr gateway,
                      struct credproxy_handoff *ret, struct coi_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = gateway};
	int r = egress_listen(&sa, &ret->port, err);

	if (r < 0)
		return coi_error_prefix(err, "the credential proxy's socket on the bridge");
	ret->listen_fd = r;
	return egress_wire_memfd(set, expires, &ret->memfd, err);
}

void credproxy_handoff_close(struct credproxy_handoff *h)
{
	closep(&h->memfd);
	closep(&h->listen_fd);
	h->memfd = h->listen_fd = -EBADF;
}

int credproxy_supervisor_args(const struct credproxy_handoff *h, char ***argv)
{
	if (h->memfd < 0)
		return 0;
	return strv_push(argv, "--egress-fd") < 0 || strv_push(argv, "3") < 0 ||
	                       strv_push(argv, "--egress-listen-fd") < 0 || strv_push(argv, "4") < 0
	               ? -ENOMEM
	               : 0;
}

int credproxy_child_fds(const struct credproxy_handoff *h)
{
	int a, b;

	if (h->memfd < 0)
		return 0;
	/* out of the way of 3 and 4 first: either may be one of them already */
	a = fcntl(h->memfd, F_DUPFD, 10);
	b = fcntl(h->listen_fd, F_DUPFD, 10);
	if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0)
		return -errno;
	(void)close(a);
	(void)close(b);
	return 0;
}

/* ---- text blocks between markers ---------------------------------------------------------- */

/* text without the lines from begin to end (inclusive), into out. */
static int without_block(const char *text, const char *begin, const char *end, struct buf *out)
{
	bool inside = false;
	int r = 0;

	for (const char *l = text; *l && r >= 0;) {
		const char *nl = strchrnul(l, '\n');
		size_t n = (size_t)(nl - l);

		if (n == strlen(begin) && strncmp(l, begin, n) == 0)
			inside = true;
		else if (!inside)
			r = buf_append(out, l, n + (*nl ? 1 : 0));
		else if (n == strlen(end) && strncmp(l, end, n) == 0)
			inside = false;
		l = *nl ? nl + 1 : nl;
	}
	return r;
}

/* Replaces (or adds) the block in a file inside the container: first, or last. */
static int put_block(const struct credproxy_target *t, const char *path, const char *block,
                     bool first, struct coi_error *err)
{
	_cleanup_buf_ struct buf old = BUF_INIT(TEXT_MAX), rest = BUF_INIT(TEXT_MAX),
	                         out = BUF_INIT(2 * TEXT_MAX);
	struct incus_file_attrs a = {.uid = 0, .gid = 0, .mode = 0644};
	const char *begin = first ? CREDPROXY_HOSTS_BEGIN : "# coi:begin proxy-ca";
	const char *end = first ? CREDPROXY_HOSTS_END : "# coi:end proxy-ca";
	int r = incus_file_read(t->client, t->container, path, &old, err);

	if (r < 0 && r != -ENOENT)
		return r;
	if (without_block(buf_str(&old), begin, end, &rest) < 0)
		return coi_error_oom(err);
	if (rest.len && rest.data[rest.len - 1] != '\n' && buf_putc(&rest, '\n') < 0)
		return coi_error_oom(err);
	r = first ? buf_printf(&out, "%s\n%s%s\n%s", begin, block, end, buf_str(&rest))
	          : buf_printf(&out, "%s%s\n%s%s\n", buf_str(&rest), begin, block, end);
	if (r < 0)
		return coi_error_oom(err);
	return incus_file_write(t->client, t->container, path, out.data, out.len, &a, err);
}

/* ---- what goes inside --------------------------------------------------------------------- */

/* Every secret's host to the bridge's address, ahead of any other line. */
static int write_hosts(const struct credproxy_target *t, const struct egress_set *set,
                       struct coi_error *err)
{
	_cleanup_strv_free_ char **hosts = egress_set_hosts(set);
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 16);
	char gw[INET_ADDRSTRLEN];

	if (!hosts || !inet_ntop(AF_INET, &t->gateway, gw, sizeof(gw)))
		return coi_error_oom(err);
	strv_foreach(h, hosts)
		if (buf_printf(&b, "%s %s\n", gw, *h) < 0)
			return coi_error_oom(err);
	return put_block(t, "/etc/hosts", buf_str(&b), true, err);
}

/* The CA the supervisor's proxy published, in the system bundle and a file of its own. */
static int write_ca(const struct credproxy_target *t, struct coi_error *err)
{
	_cleanup_free_ char *path = egress_child_ca_path(t->container);
	_cleanup_buf_ struct buf pem = BUF_INIT(1u << 16);
	struct incus_file_attrs a = {.uid = 0, .gid = 0, .mode = 0644};
	struct incus_file_attrs d = {.uid = 0, .gid = 0, .mode = 0755};
	int r;

	if (!path)
		return coi_error_oom(err);
	r = read_file(path, &pem, err);
	if (r < 0)
		return coi_error_prefix(err, "the credential proxy's CA");
	r = incus_file_mkdir_p(t->client, t->container, "/usr/local/share/ca-certificates", &d,
	                       err);
	if (r >= 0)
		r = incus_file_write(t->client, t->container, CREDPROXY_CA_INSIDE, pem.data,
		                     pem.len, &a, err);
	if (r >= 0)
		r = put_block(t, CREDPROXY_BUNDLE_INSIDE, buf_str(&pem), false, err);
	return r;
}

static int write_home(const struct credproxy_target *t, const char *rel, const char *text, int mode,
                      struct coi_error *err)
{
	_cleanup_free_ char *path = NULL, *dir = NULL;
	struct incus_file_attrs a = {.uid = t->code_uid, .gid = t->code_uid, .mode = mode};
	struct incus_file_attrs d = {.uid = t->code_uid, .gid = t->code_uid, .mode = 0700};
	int r;

	if (asprintf(&path, "/home/%s/%s", t->code_user, rel) < 0 || !(dir = strdup(path)))
		return coi_error_oom(err);
	*strrchr(dir, '/') = '\0';
	r = incus_file_mkdir_p(t->client, t->container, dir, &d, err);
	if (r >= 0)
		r = incus_file_write(t->client, t->container, path, text, strlen(text), &a, err);
	return r;
}

/* An agent's login file, holding placeholders where the tokens were. */
static int write_login(const struct credproxy_target *t, const struct egress_secret *sec,
                       struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(EGRESS_FILE_MAX * 2);
	int r = egress_container_file(sec, &b, err);

	return r < 0 ? r : write_home(t, sec->container_file, buf_str(&b), 0600, err);
}

/* git asks its credential helper for these hosts; the helper answers with the placeholder, and
 * the proxy puts the token into the Basic credentials git sends. */
static int write_git(const struct credproxy_target *t, const struct egress_set *set,
                     struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1u << 16);
	int r = buf_puts(&b, "# coi: the session's credential proxy puts the real token in\n");

	for (size_t i = 0; r >= 0 && i < set->n; i++) {
		if (!set->v[i].git)
			continue;
		strv_foreach(h, set->v[i].hosts)
			if (r >= 0)
				r = buf_printf(
				        &b,
				        "[credential \"https://%s\"]\n\thelper =\n\thelper = "
				        "\"!f() { test \\\"$1\\\" = get && echo "
				        "username=x-access-token && echo password=%s; }; f\"\n",
				        *h, set->v[i].placeholder);
	}
	if (r < 0)
		return coi_error_oom(err);
	return write_home(t, ".config/git/config", buf_str(&b), 0644, err);
}

int credproxy_inside(const struct credproxy_target *t, const struct egress_set *set,
                     struct coi_error *err)
{
	bool git = false;
	int r;

	if (!set)
		return 0;
	r = write_ca(t, err);
	if (r >= 0)
		r = write_hosts(t, set, err);
	for (size_t i = 0; r >= 0 && i < set->n; i++) {
		git = git || set->v[i].git;
		if (set->v[i].container_file)
			r = write_login(t, &set->v[i], err);
	}
	if (r >= 0 && git)
		r = write_git(t, set, err);
	return r < 0 ? coi_error_prefix(err, "[[secrets]]") : 0;
}
