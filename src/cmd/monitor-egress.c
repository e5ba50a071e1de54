/* SPDX-License-Identifier: MIT */
/* monitor-egress.c: the session's supervisor starts the credential proxy (egress/child.h) in a
 * child process and listens to its refusals (monitor/proxyrec.h). The child gets the secrets'
 * memfd and the listening socket the session handed over; it stops when the supervisor's end of
 * a pipe closes, so it never outlives the supervisor. The supervisor is ready only once the
 * proxy is (its CA published). */
#include "cmd/monitor-egress.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "egress/child.h"
#include "monitor/audit.h"
#include "monitor/monitor.h"
#include "util/error.h"
#include "util/proc.h"

#define READY_TIMEOUT_MS 10000

/* A report as a finding: its strings live here until the next one. */
static struct {
	struct egress_report rep;
	char desc[900];
} last;

static int read_report(int fd, struct threat *t, char *key, size_t key_size, void *userdata)
{
	struct egress_report *r = &last.rep;
	ssize_t n = recv(fd, r, sizeof(*r), MSG_DONTWAIT);
	bool wrong_host;

	(void)userdata;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*r))
		return 0;
	r->secret[sizeof(r->secret) - 1] = r->host[sizeof(r->host) - 1] = '\0';
	r->where[sizeof(r->where) - 1] = r->method[sizeof(r->method) - 1] = '\0';
	r->target[sizeof(r->target) - 1] = '\0';
	wrong_host = r->status == 403;
	if (wrong_host)
		(void)snprintf(last.desc, sizeof(last.desc),
		               "the placeholder of secret '%s' was sent to %s (%s of %s %s); the "
		               "proxy refused the request and sent nothing",
		               r->secret, r->host, r->where, r->method, r->target);
	else
		(void)snprintf(last.desc, sizeof(last.desc),
		               "a request to %s named another site (%s of %s %s); refused", r->host,
		               r->where, r->method, r->target);
	*t = (struct threat){
	        .level = wrong_host ? THREAT_HIGH : THREAT_WARNING,
	        .category = "network",
	        .title = wrong_host ? "Secret placeholder sent to another host"
	                            : "Request fronting another site",
	        .rule = wrong_host ? "egress-placeholder" : "egress-fronting",
	        .description = last.desc,
	        .kind = EVIDENCE_NETWORK,
	        .ev.network = {.protocol = "https",
	                       .remote_host = r->host,
	                       .reason = r->where,
	                       .suspect_reason = wrong_host ? r->secret : NULL},
	};
	(void)snprintf(key, key_size, "%s %s %s", t->rule, r->secret, r->host);
	return 1;
}

static void child_ready(void *userdata)
{
	int *fd = userdata;
	char ok = 0;

	if (write(*fd, &ok, 1) != 1)
		_exit(1);
}

static int child_main(const char *container, int secrets_fd, int listen_fd, int report_fd,
                      int stop_fd, int ready_fd)
{
	_cleanup_free_ char *ca = egress_child_ca_path(container);
	struct coi_error err = {0};

	(void)prctl(PR_SET_NAME, "coi-proxy");
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (egress_child_run(
	            &(struct egress_child_opts){
	                    .container = container,
	                    .secrets_fd = secrets_fd,
	                    .listen_fd = listen_fd,
	                    .report_fd = report_fd,
	                    .stop_fd = stop_fd,
	                    .ca_out = ca,
	                    .cafile = secure_getenv("COI_EGRESS_CAFILE"),
	                    .connect_to = secure_getenv("COI_EGRESS_CONNECT_TO"),
	                    .ready = child_ready,
	                    .userdata = &ready_fd,
	            },
	            &err) < 0) {
		fprintf(stderr, "coi: the credential proxy: %s\n", coi_error_message(&err));
		return 1;
	}
	return 0;
}

int monitor_egress_start(const char *container, int secrets_fd, int listen_fd,
                         struct monitor_opts *mo, struct coi_error *err)
{
	int sp[2], stop[2], ready[2];
	struct pollfd p;
	pid_t pid;
	char ok;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    pipe2(stop, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		return coi_error_errno(err, errno, "cannot set up the credential proxy");
	pid = fork();
	if (pid < 0)
		return coi_error_errno(err, errno, "cannot start the credential proxy");
	if (pid == 0) {
		close(sp[0]);
		close(stop[1]);
		close(ready[0]);
		_exit(child_main(container, secrets_fd, listen_fd, sp[1], stop[0], ready[1]));
	}
	close(sp[1]);
	close(stop[0]); /* stop[1] stays open for the supervisor's life: its end stops the child */
	close(ready[1]);
	close(secrets_fd);
	close(listen_fd);
	p = (struct pollfd){.fd = ready[0], .events = POLLIN};
	if (poll(&p, 1, READY_TIMEOUT_MS) != 1 || read(ready[0], &ok, 1) != 1) {
		close(ready[0]);
		return coi_error_set(err, -EIO, "the credential proxy did not start");
	}
	close(ready[0]);
	mo->egress_fd = sp[0];
	mo->egress_pidfd = proc_pidfd_open(pid);
	mo->egress_read = read_report;
	return 0;
}

void monitor_egress_stopped(const char *container)
{
	_cleanup_free_ char *ca = egress_child_ca_path(container);

	if (ca)
		(void)unlink(ca);
}
