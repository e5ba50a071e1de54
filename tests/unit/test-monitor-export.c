/* SPDX-License-Identifier: MIT */
/* The exporter: the exported copy, the syslog datagram (to a socket this test binds), the
 * on_finding command and webhook (to an HTTP server this test runs on loopback), their time
 * limit and queue, the Prometheus text. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/audit-chain.h"
#include "monitor/audit.h"
#include "monitor/export.h"
#include "monitor/loop.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

static char dir[] = "/tmp/coi-test-export-XXXXXX";

static const char line[] =
        "{\"id\":\"x\",\"level\":\"high\",\"title\":\"t\",\"evidence\":{\"process\":{\"pid\":1}},"
        "\"seq\":7,\"prev\":\"" AUDIT_GENESIS "\"}";
static const struct audit_link link7 = {.seq = 7, .hash = AUDIT_GENESIS};

static struct threat finding(enum threat_level l, enum threat_action a)
{
	struct threat t = {.level = l, .action = a, .category = "c", .title = "t"};

	threat_init(&t);
	return t;
}

static char *in_dir(const char *name)
{
	char *p = path_join(dir, name);

	CHECK(p != NULL);
	return p;
}

static void test_json(void)
{
	_cleanup_free_ char *s = export_json(line, "coi-x-1", "ab");
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *m = NULL;
	struct tm tm = {.tm_year = 126, .tm_mon = 11, .tm_mday = 6, .tm_hour = 9, .tm_min = 5};

	CHECK(s && json_parse(s, strlen(s), &j, NULL) == 0);
	CHECK_STREQ(json_get_str(j, "container"), "coi-x-1");
	CHECK_STREQ(json_get_str(j, "hash"), "ab");
	CHECK(json_get_int(j, "seq", 0) == 7 && json_get_path(j, "evidence.process"));
	CHECK(export_json("not json", "c", "h") == NULL);
	m = export_syslog_message(THREAT_CRITICAL, "{}", mktime(&tm), 42);
	CHECK_STREQ(m, "<10>Dec  6 09:05:00 coi[42]: {}"); /* user.crit */
	free(m);
	m = export_syslog_message(THREAT_INFO, "{}", mktime(&tm), 42);
	CHECK(m && strncmp(m, "<14>", 4) == 0); /* user.info */
}

static int bind_dgram(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static void test_syslog(void)
{
	_cleanup_free_ char *sock = in_dir("log.sock");
	struct export_opts o = {
	        .container = "coi-x-1", .min_level = THREAT_WARNING, .syslog_socket = sock};
	_cleanup_(exporter_freep) struct exporter *x = NULL;
	_cleanup_buf_ struct buf m = BUF_INIT(1 << 16);
	struct threat t;
	char got[65536];
	ssize_t n;
	int fd;

	/* no receiver yet: the record is counted as failed, nothing waits */
	CHECK(exporter_new(&o, NULL, &x, NULL) == 0 && x);
	t = finding(THREAT_HIGH, ACTION_PAUSED);
	exporter_record(&t, line, &link7, x);
	fd = bind_dgram(sock);
	exporter_record(&t, line, &link7, x);
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	CHECK(n > 0);
	got[n > 0 ? n : 0] = 0;
	CHECK(strncmp(got, "<11>", 4) == 0 && strstr(got, " coi["));
	CHECK(strstr(got, "]: {\"id\":\"x\"") && strstr(got, "\"container\":\"coi-x-1\""));
	/* below the level, and repeats: not sent */
	t = finding(THREAT_INFO, ACTION_LOGGED);
	exporter_record(&t, line, &link7, x);
	t = finding(THREAT_HIGH, ACTION_DEDUPLICATED);
	exporter_record(&t, line, &link7, x);
	CHECK(recv(fd, got, sizeof(got), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	CHECK(exporter_metrics_text(x, &m) == 0);
	CHECK(strstr(buf_str(&m), "kind=\"syslog\",result=\"ok\"} 1\n") != NULL);
	CHECK(strstr(buf_str(&m), "kind=\"syslog\",result=\"failed\"} 1\n") != NULL);
	close(fd);
}

static char *slurp(const char *path)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 20);

	return read_file(path, &b, NULL) < 0 ? NULL : buf_steal(&b);
}

static void test_command(void)
{
	_cleanup_free_ char *out = in_dir("cmd.out"), *cmd = NULL, *got = NULL;
	struct export_opts o = {.container = "coi-x-1", .min_level = THREAT_WARNING};
	struct exporter *x = NULL;
	struct threat t = finding(THREAT_HIGH, ACTION_PAUSED);

	CHECK(asprintf(&cmd,
	               "{ cat; echo \"$COI_CONTAINER $COI_FINDING_LEVEL $COI_FINDING_SEQ\"; } "
	               ">%s",
	               out) > 0);
	o.command = cmd;
	CHECK(exporter_new(&o, NULL, &x, NULL) == 0);
	exporter_record(&t, line, &link7, x);
	x = exporter_free(x); /* waits for the command */
	got = slurp(out);
	CHECK(got && strstr(got, "{\"id\":\"x\"") && strstr(got, "\"hash\":\"" AUDIT_GENESIS "\""));
	CHECK(got && strstr(got, "}\ncoi-x-1 high 7\n"));
}

static int on_quit(struct loop *l, int fd, uint32_t ev, void *u)
{
	loop_exit(l, 0);
	return 0;
}

/* A command that does not end is killed at its deadline; beyond the queue, records are dropped;
 * the loop never waits for either. */
static void test_command_limits(void)
{
	struct export_opts o = {.container = "coi-x-1",
	                        .min_level = THREAT_WARNING,
	                        .command = "sleep 30",
	                        .timeout_s = 1};
	_cleanup_buf_ struct buf m = BUF_INIT(1 << 16);
	struct exporter *x = NULL;
	struct loop *l = NULL;
	struct threat t = finding(THREAT_WARNING, ACTION_ALERTED);
	struct timespec a, b;

	CHECK(loop_new(&l) == 0);
	CHECK(exporter_new(&o, l, &x, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < EXPORT_MAX_CHILDREN + EXPORT_QUEUE_MAX + 3; i++)
		exporter_record(&t, line, &link7, x);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(b.tv_sec - a.tv_sec < 2); /* 39 records, no waiting */
	CHECK(loop_add_timer(l, 1600, on_quit, NULL) == 0);
	CHECK(loop_run(l) == 0);
	CHECK(exporter_metrics_text(x, &m) == 0);
	CHECK(strstr(buf_str(&m), "kind=\"command\",result=\"timeout\"} 4\n") != NULL);
	CHECK(strstr(buf_str(&m), "kind=\"command\",result=\"dropped\"} 3\n") != NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	x = exporter_free(x); /* the queue's commands get one more deadline, then are killed */
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(b.tv_sec - a.tv_sec <= 2);
	loop_free(l);
}

/* An HTTP server for one request: the body goes to path. Returns its port; *pid is the child. */
static int http_server(const char *path, pid_t *ret_pid)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	pid = fork();
	if (pid == 0) {
		char req[65536];
		size_t have = 0;
		int c;
		FILE *f;

		alarm(10);
		c = accept(fd, NULL, NULL);
		for (ssize_t n; c >= 0 && have < sizeof(req) - 1 &&
		                (n = read(c, req + have, sizeof(req) - 1 - have)) > 0;) {
			char *body, *cl;

			have += (size_t)n;
			req[have] = 0;
			body = strstr(req, "\r\n\r\n");
			cl = strcasestr(req, "Content-Length:");
			if (body && cl && strlen(body + 4) >= strtoul(cl + 15, NULL, 10))
				break;
		}
		f = fopen(path, "w");
		if (f) {
			fputs(req, f);
			fclose(f);
		}
		if (c >= 0)
			(void)!write(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 47);
		_exit(0);
	}
	close(fd);
	*ret_pid = pid;
	return ntohs(sa.sin_port);
}

static void test_webhook(void)
{
	_cleanup_free_ char *out = in_dir("hook.req"), *url = NULL, *got = NULL;
	struct export_opts o = {.container = "coi-x-1", .min_level = THREAT_HIGH};
	struct exporter *x = NULL;
	struct threat t = finding(THREAT_CRITICAL, ACTION_KILLED);
	pid_t srv;
	int port = http_server(out, &srv);

	CHECK(asprintf(&url, "http://127.0.0.1:%d/hook", port) > 0);
	o.url = url;
	CHECK(exporter_new(&o, NULL, &x, NULL) == 0);
	exporter_record(&t, line, &link7, x);
	x = exporter_free(x);
	CHECK(waitpid(srv, NULL, 0) == srv);
	got = slurp(out);
	CHECK(got && strncmp(got, "POST /hook HTTP/1.1\r\n", 21) == 0);
	CHECK(got && strcasestr(got, "\r\nContent-Type: application/json\r\n"));
	CHECK(got && strstr(got, "\r\n\r\n{\"id\":\"x\"") &&
	      strstr(got, "\"container\":\"coi-x-1\""));
}

static void test_metrics_file(void)
{
	_cleanup_free_ char *mdir = in_dir("metrics"), *file = NULL, *got = NULL;
	struct export_opts o = {
	        .container = "coi-x-1", .min_level = THREAT_WARNING, .metrics_dir = mdir};
	struct exporter *x = NULL;
	struct threat t = finding(THREAT_HIGH, ACTION_PAUSED);
	struct stat st;

	CHECK(asprintf(&file, "%s/coi-x-1.prom", mdir) > 0);
	CHECK(exporter_new(&o, NULL, &x, NULL) == 0);
	got = slurp(file); /* written at once: the session is up */
	CHECK(got && strstr(got, "coi_monitor_up{container=\"coi-x-1\"} 1\n"));
	CHECK(got && strstr(got, "# TYPE coi_findings_total counter\n"));
	CHECK(got && strstr(got, "coi_findings_total{container=\"coi-x-1\",level=\"high\"} 0\n"));
	free(got);
	usleep(1100000);
	exporter_record(&t, line, &link7, x);
	got = slurp(file);
	CHECK(got && strstr(got, "coi_findings_total{container=\"coi-x-1\",level=\"high\"} 1\n"));
	CHECK(got && strstr(got, "coi_actions_total{container=\"coi-x-1\",action=\"paused\"} 1\n"));
	CHECK(got && strstr(got, "coi_audit_seq{container=\"coi-x-1\"} 7\n"));
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0644);
	x = exporter_free(x);
	CHECK(stat(file, &st) < 0 && errno == ENOENT); /* gone with the session */
}

static void test_nothing(void)
{
	struct export_opts o = {.container = "c"};
	struct exporter *x = (void *)1;

	CHECK(exporter_new(&o, NULL, &x, NULL) == 0 && x == NULL);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	RUN(test_json);
	RUN(test_syslog);
	RUN(test_command);
	RUN(test_command_limits);
	RUN(test_webhook);
	RUN(test_metrics_file);
	RUN(test_nothing);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
	}
	return tap_done();
}
