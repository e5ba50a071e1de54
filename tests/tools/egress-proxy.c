/* SPDX-License-Identifier: MIT */
/* egress-proxy: the credential proxy (egress/proxy.h) on its own, for tests and benchmarks,
 * without a session: secrets and values from the command line, a listening socket of its own.
 *
 *   egress-proxy --listen ADDR:PORT --ca-out FILE [--cafile FILE] [--connect-to name=addr:port,..]
 *                [--port N] [--findings FILE] [--lifetime SECS] [--child]
 *                --secret NAME --host H [--host H2] [--header X] [--format F] [--basic-user U]
 *                    --placeholder P (--value V | --env E | --file F [--field X]
 *                    [--refresh-url U --refresh-token-field T --expires-field E
 *                     --client-id C])  [--secret ...]
 *
 * --child runs it as the session's supervisor does (egress/child.h): the values are read from
 * their sources here, handed over in a sealed memfd, and renewed by the proxy process when they
 * expire; refusals arrive as reports over a socket.
 *
 * Writes the session CA's certificate to --ca-out, prints "port N" once it accepts, appends one
 * line per refused request to --findings, and stops on SIGTERM, or after --lifetime seconds
 * (default 300). On exit it prints its counters ("stats connections=... requests=...") and its
 * peak memory ("rss_kb=..."). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "egress/ca.h"
#include "egress/child.h"
#include "egress/httpreq.h"
#include "egress/proxy.h"
#include "egress/secret.h"
#include "egress/source.h"
#include "egress/wire.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv.h"

static const char *findings_path;

static void usage(void)
{
	fprintf(stderr, "usage: egress-proxy --listen ADDR:PORT --ca-out FILE --secret NAME --host "
	                "H --placeholder P --value V [...]\n");
	exit(2);
}

static void on_finding(void *u, const char *host, const struct egress_finding *f)
{
	FILE *out = findings_path ? fopen(findings_path, "ae") : NULL;

	(void)u;
	if (!out)
		return;
	fprintf(out, "host=%s status=%u secret=%s where=%s method=%s target=%s\n", host,
	        egress_verdict_status(f->verdict), f->secret ? f->secret : "-", f->where, f->method,
	        f->target);
	fclose(out);
}

static void on_ready(void *u)
{
	printf("port %u\n", *(uint16_t *)u);
	fflush(stdout);
}

static long rss_peak_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static int set_field(struct egress_secret *s, const char *opt, const char *v)
{
	static const struct {
		const char *opt;
		size_t off;
		enum egress_source_kind kind;
	} fields[] = {
	        {"--header", offsetof(struct egress_secret, header), 0},
	        {"--format", offsetof(struct egress_secret, format), 0},
	        {"--basic-user", offsetof(struct egress_secret, basic_user), 0},
	        {"--placeholder", offsetof(struct egress_secret, placeholder), 0},
	        {"--value", offsetof(struct egress_secret, value), 0},
	        {"--env", offsetof(struct egress_secret, source.env), EGRESS_SOURCE_ENV},
	        {"--file", offsetof(struct egress_secret, source.file), EGRESS_SOURCE_FILE},
	        {"--field", offsetof(struct egress_secret, source.field), 0},
	        {"--refresh-url", offsetof(struct egress_secret, refresh.url), 0},
	        {"--refresh-token-field", offsetof(struct egress_secret, refresh.token_field), 0},
	        {"--expires-field", offsetof(struct egress_secret, refresh.expires_field), 0},
	        {"--client-id", offsetof(struct egress_secret, refresh.client_id), 0},
	};
	char **field = NULL;

	if (strcmp(opt, "--host") == 0)
		return strv_push(&s->hosts, v);
	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		if (strcmp(opt, fields[i].opt) == 0) {
			field = (char **)((char *)s + fields[i].off);
			if (fields[i].kind)
				s->source.kind = fields[i].kind;
		}
	if (!field)
		return -EINVAL;
	free(*field);
	*field = strdup(v);
	return *field ? 0 : -ENOMEM;
}

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* --child: the proxy in a process of its own, as the supervisor runs it; this one writes the
 * reports to --findings until SIGTERM, then stops it. */
static int run_child(struct egress_set *set, const char *ca_out, const char *cafile,
                     const char *connect_to, int listen_fd, uint16_t *port)
{
	int64_t exp[EGRESS_SECRETS_MAX] = {0};
	struct coi_error err = {0};
	struct sigaction sa = {.sa_handler = on_term};
	struct egress_report rep;
	int sp[2], stop[2], memfd, status = 0;
	pid_t pid;

	for (size_t i = 0; i < set->n; i++)
		if (!set->v[i].value && set->v[i].source.kind != EGRESS_SOURCE_NONE &&
		    egress_source_load(&set->v[i], &exp[i], &err) < 0) {
			fprintf(stderr, "egress-proxy: %s\n", err.msg);
			return 1;
		}
	if (egress_wire_memfd(set, exp, &memfd, &err) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    pipe2(stop, O_CLOEXEC) < 0) {
		fprintf(stderr, "egress-proxy: cannot set up the child: %s\n", err.msg);
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		close(sp[0]);
		close(stop[1]);
		_exit(egress_child_run(&(struct egress_child_opts){.container = "test",
		                                                   .secrets_fd = memfd,
		                                                   .listen_fd = listen_fd,
		                                                   .report_fd = sp[1],
		                                                   .stop_fd = stop[0],
		                                                   .ca_out = ca_out,
		                                                   .cafile = cafile,
		                                                   .connect_to = connect_to,
		                                                   .ready = on_ready,
		                                                   .userdata = port},
		                       &err) < 0
		              ? (fprintf(stderr, "egress-proxy: %s\n", err.msg), 1)
		              : 0);
	}
	close(sp[1]);
	close(stop[0]);
	close(listen_fd);
	sigaction(SIGTERM, &sa, NULL);
	while (!stopping && recv(sp[0], &rep, sizeof(rep), 0) == (ssize_t)sizeof(rep)) {
		FILE *out = findings_path ? fopen(findings_path, "ae") : NULL;

		if (out) {
			fprintf(out, "host=%s status=%u secret=%s where=%s method=%s target=%s\n",
			        rep.host, rep.status, rep.secret[0] ? rep.secret : "-", rep.where,
			        rep.method, rep.target);
			fclose(out);
		}
	}
	close(stop[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	struct egress_set set = {.v = calloc(EGRESS_SECRETS_MAX, sizeof(struct egress_secret))};
	struct egress_connect_to ct[EGRESS_CONNECT_TO_MAX];
	struct egress_proxy_opts o = {.stop_fd = -1, .connect_to = ct};
	const char *listen_spec = NULL, *ca_out = NULL;
	_cleanup_buf_ struct buf pem = BUF_INIT(1 << 16);
	_cleanup_strv_free_ char **hosts = NULL;
	struct egress_ca *ca = NULL;
	struct egress_stats st = {0};
	struct coi_error err = {0};
	struct sockaddr_in sa;
	uint16_t port = 0;
	unsigned lifetime = 300;
	const char *connect_to = NULL;
	bool child = false;
	FILE *f;
	int r;

	log_level_from_env();
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *v = i + 1 < argc ? argv[++i] : NULL;

		if (strcmp(opt, "--child") == 0) {
			child = true;
			i--;
			continue;
		}
		if (!v || !set.v)
			usage();
		if (strcmp(opt, "--listen") == 0)
			listen_spec = v;
		else if (strcmp(opt, "--ca-out") == 0)
			ca_out = v;
		else if (strcmp(opt, "--cafile") == 0)
			o.cafile = v;
		else if (strcmp(opt, "--port") == 0)
			o.port = (uint16_t)atoi(v);
		else if (strcmp(opt, "--findings") == 0)
			findings_path = v;
		else if (strcmp(opt, "--lifetime") == 0)
			lifetime = (unsigned)atoi(v);
		else if (strcmp(opt, "--connect-to") == 0) {
			connect_to = v;
			r = egress_connect_to_parse(v, ct, EGRESS_CONNECT_TO_MAX, &err);
			if (r < 0) {
				fprintf(stderr, "egress-proxy: %s\n", err.msg);
				return 2;
			}
			o.n_connect_to = (size_t)r;
		} else if (strcmp(opt, "--secret") == 0) {
			if (set.n == EGRESS_SECRETS_MAX)
				usage();
			set.v[set.n++].name = strdup(v);
		} else if (set.n == 0 || set_field(&set.v[set.n - 1], opt, v) < 0) {
			usage();
		}
	}
	if (!listen_spec || !ca_out || set.n == 0)
		usage();
	for (size_t i = 0; i < set.n; i++)
		if (egress_secret_check(&set.v[i], &err) < 0) {
			fprintf(stderr, "egress-proxy: %s\n", err.msg);
			return 2;
		}
	if (child) {
		if (egress_addr_parse(listen_spec, &sa, &err) < 0 ||
		    (o.listen_fd = egress_listen(&sa, &port, &err)) < 0) {
			fprintf(stderr, "egress-proxy: %s\n", err.msg);
			return 1;
		}
		alarm(lifetime);
		r = run_child(&set, ca_out, o.cafile, connect_to, o.listen_fd, &port);
		egress_set_release(&set);
		return r;
	}
	hosts = egress_set_hosts(&set);
	if (!hosts || egress_ca_new(hosts, "test proxy", &ca, &err) < 0 ||
	    egress_ca_pem(ca, &pem) < 0) {
		fprintf(stderr, "egress-proxy: cannot make the CA: %s\n", err.msg);
		return 1;
	}
	f = fopen(ca_out, "we");
	if (!f || fwrite(pem.data, 1, pem.len, f) != pem.len || fclose(f) != 0) {
		perror("egress-proxy: --ca-out");
		return 1;
	}
	if (egress_addr_parse(listen_spec, &sa, &err) < 0 ||
	    (o.listen_fd = egress_listen(&sa, &port, &err)) < 0) {
		fprintf(stderr, "egress-proxy: %s\n", err.msg);
		return 1;
	}
	o.set = &set;
	o.ca = ca;
	o.finding = on_finding;
	o.ready = on_ready;
	o.userdata = &port;
	alarm(lifetime); /* SIGALRM's default action ends the run */
	r = egress_proxy_run(&o, &st, &err);
	if (r < 0)
		fprintf(stderr, "egress-proxy: %s\n", err.msg);
	printf("stats connections=%lu refused_handshakes=%lu requests=%lu injected=%lu refused=%lu "
	       "rss_kb=%ld\n",
	       st.connections, st.refused_handshakes, st.requests, st.injected, st.refused,
	       rss_peak_kb());
	egress_ca_free(ca);
	egress_set_release(&set);
	return r < 0 ? 1 : 0;
}
