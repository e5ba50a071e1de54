/* SPDX-License-Identifier: MIT */
/* export.c: the exporter (export.h). Nothing here waits in the monitor's loop: children are
 * watched through one SIGCHLD signalfd and one timerfd (their deadlines and the metrics' next
 * write), syslog is a non-blocking datagram socket, and the metrics file is written with a
 * rename and no fsync (it is read, not kept). */
#include "monitor/export.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/audit-chain.h"
#include "monitor/audit.h"
#include "monitor/loop.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/path.h"

enum job_kind { JOB_COMMAND, JOB_WEBHOOK, _JOB_MAX };
enum job_result { RESULT_OK, RESULT_FAILED, RESULT_TIMEOUT, RESULT_DROPPED, _RESULT_MAX };

static const char *const kind_names[_JOB_MAX] = {"command", "webhook"};
static const char *const result_names[_RESULT_MAX] = {"ok", "failed", "timeout", "dropped"};

struct job {
	enum job_kind kind;
	enum threat_level level;
	uint64_t seq;
	char *json;
};

struct child {
	pid_t pid; /* 0: free */
	enum job_kind kind;
	uint64_t deadline_ns;
	bool killed;
};

struct exporter {
	struct export_opts o;
	int syslog_fd;
	int sigchld_fd;
	int timer_fd;
	sigset_t old_mask;
	struct child children[EXPORT_MAX_CHILDREN];
	struct job queue[EXPORT_QUEUE_MAX];
	size_t q_head, q_len;
	/* the metrics */
	char *metrics_path;
	bool metrics_dirty;
	uint64_t metrics_at_ns; /* the last write */
	time_t started;
	uint64_t records, seq;
	uint64_t by_level[_THREAT_LEVEL_MAX], by_action[_ACTION_MAX];
	double last_finding; /* UTC seconds of the last WARNING or above, 0: none */
	uint64_t exports[_JOB_MAX][_RESULT_MAX];
	uint64_t syslog_sent, syslog_failed;
};

static uint64_t timeout_ns(const struct exporter *x)
{
	return (uint64_t)(x->o.timeout_s ? x->o.timeout_s : EXPORT_TIMEOUT_S) * 1000000000u;
}

/* ---- the exported copy --------------------------------------------------------------------- */

char *export_json(const char *line, const char *container, const char *hash)
{
	_cleanup_json_ json_t *o = json_loads(line, 0, NULL);

	if (!json_is_object(o) || json_object_set_new(o, "container", json_string(container)) < 0 ||
	    json_object_set_new(o, "hash", json_string(hash)) < 0)
		return NULL;
	return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

/* The copy without its evidence, for a destination with a size limit. */
static char *without_evidence(const char *json)
{
	_cleanup_json_ json_t *o = json_loads(json, 0, NULL);

	if (!json_is_object(o) || json_object_set_new(o, "evidence", json_object()) < 0 ||
	    json_object_set_new(o, "evidence_dropped", json_true()) < 0)
		return NULL;
	return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

/* ---- syslog -------------------------------------------------------------------------------- */

static int syslog_severity(enum threat_level l)
{
	static const int sev[_THREAT_LEVEL_MAX] = {
	        [THREAT_INFO] = 6, [THREAT_WARNING] = 4, [THREAT_HIGH] = 3, [THREAT_CRITICAL] = 2};

	return l >= 0 && l < _THREAT_LEVEL_MAX ? sev[l] : 6;
}

char *export_syslog_message(enum threat_level level, const char *json, time_t now, int pid)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	char *m = NULL;

	if (!localtime_r(&now, &tm))
		return NULL;
	/* facility user (1); the month in English whatever the locale, as syslog parsers expect */
	if (asprintf(&m, "<%d>%s %2d %02d:%02d:%02d coi[%d]: %s", 8 + syslog_severity(level),
	             months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, pid,
	             json) < 0)
		return NULL;
	return m;
}

static int syslog_connect(struct exporter *x)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(x->o.syslog_socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, x->o.syslog_socket);
	if (x->syslog_fd < 0)
		x->syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (x->syslog_fd < 0)
		return -errno;
	return connect(x->syslog_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

/* One datagram, never waiting: a full or absent receiver costs the message, counted. */
static void send_syslog(struct exporter *x, enum threat_level level, const char *json)
{
	_cleanup_free_ char *small = NULL, *msg = NULL;
	bool sent = false;

	if (strlen(json) > EXPORT_SYSLOG_MAX - 64 && (small = without_evidence(json)))
		json = small;
	msg = export_syslog_message(level, json, time(NULL), (int)getpid());
	/* the receiver may have restarted since: one reconnect */
	for (int i = 0; msg && i < 2 && !sent; i++) {
		if (send(x->syslog_fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			sent = true;
		else if (errno == EAGAIN || syslog_connect(x) < 0)
			break;
	}
	if (sent)
		x->syslog_sent++;
	else
		x->syslog_failed++;
}

/* ---- the metrics --------------------------------------------------------------------------- */

/* A counter with one label, every value listed (0 included, so a rate is never missing). */
static int counter_family(struct buf *b, const char *c, const char *name, const char *help,
                          const char *label, const char *const *names, const uint64_t *v, size_t n)
{
	int r = buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);

	for (size_t i = 0; i < n; i++)
		r |= buf_printf(b, "%s{container=\"%s\",%s=\"%s\"} %" PRIu64 "\n", name, c, label,
		                names[i], v[i]);
	return r;
}

int exporter_metrics_text(const struct exporter *x, struct buf *b)
{
	const char *levels[_THREAT_LEVEL_MAX], *actions[_ACTION_MAX];
	const char *c = x->o.container;
	int r = 0;

	r |= buf_printf(b,
	                "# HELP coi_monitor_up 1 while the session's monitor runs.\n"
	                "# TYPE coi_monitor_up gauge\n"
	                "coi_monitor_up{container=\"%s\"} 1\n"
	                "# HELP coi_monitor_start_time_seconds When the monitor started (Unix "
	                "time).\n"
	                "# TYPE coi_monitor_start_time_seconds gauge\n"
	                "coi_monitor_start_time_seconds{container=\"%s\"} %lld\n"
	                "# HELP coi_audit_records_total Records written to the audit log.\n"
	                "# TYPE coi_audit_records_total counter\n"
	                "coi_audit_records_total{container=\"%s\"} %" PRIu64 "\n"
	                "# HELP coi_audit_seq The seq of the last record: the head of the hash "
	                "chain.\n"
	                "# TYPE coi_audit_seq gauge\n"
	                "coi_audit_seq{container=\"%s\"} %" PRIu64 "\n",
	                c, c, (long long)x->started, c, x->records, c, x->seq);
	for (int i = 0; i < _THREAT_LEVEL_MAX; i++)
		levels[i] = threat_level_to_string(i);
	for (int i = 0; i < _ACTION_MAX; i++)
		actions[i] = threat_action_to_string(i);
	r |= counter_family(b, c, "coi_findings_total", "Records by level (repeats included).",
	                    "level", levels, x->by_level, _THREAT_LEVEL_MAX);
	r |= counter_family(b, c, "coi_actions_total", "Records by the action taken.", "action",
	                    actions, x->by_action, _ACTION_MAX);
	r |= buf_printf(b,
	                "# HELP coi_last_finding_timestamp_seconds The last finding of level "
	                "warning or above (Unix time; 0: none).\n"
	                "# TYPE coi_last_finding_timestamp_seconds gauge\n"
	                "coi_last_finding_timestamp_seconds{container=\"%s\"} %.3f\n"
	                "# HELP coi_exports_total Findings handed to on_finding, by destination "
	                "and result.\n"
	                "# TYPE coi_exports_total counter\n",
	                c, x->last_finding);
	for (int k = 0; k < _JOB_MAX; k++)
		for (int s = 0; s < _RESULT_MAX; s++)
			r |= buf_printf(
			        b,
			        "coi_exports_total{container=\"%s\",kind=\"%s\",result=\"%s\"} "
			        "%" PRIu64 "\n",
			        c, kind_names[k], result_names[s], x->exports[k][s]);
	r |= buf_printf(b,
	                "coi_exports_total{container=\"%s\",kind=\"syslog\",result=\"ok\"} %" PRIu64
	                "\n"
	                "coi_exports_total{container=\"%s\",kind=\"syslog\",result=\"failed\"} "
	                "%" PRIu64 "\n",
	                c, x->syslog_sent, c, x->syslog_failed);
	return r < 0 ? -ENOMEM : 0;
}

static void write_metrics(struct exporter *x)
{
	_cleanup_buf_ struct buf b = BUF_INIT(1 << 20);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;

	x->metrics_dirty = false;
	x->metrics_at_ns = clock_mono_ns();
	/* a name the textfile collector does not read (it takes *.prom), then renamed */
	if (exporter_metrics_text(x, &b) < 0 ||
	    asprintf(&tmp, "%s.%d.tmp", x->metrics_path, getpid()) < 0)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len ||
	    rename(tmp, x->metrics_path) < 0) {
		log_debug("monitor: cannot write '%s', ignoring", x->metrics_path);
		(void)unlink(tmp);
	}
}

/* ---- children ------------------------------------------------------------------------------ */

static int webhook_post(const char *url, const char *json, long timeout_s)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;

	if (c && h) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "coi-monitor");
		rc = curl_easy_perform(c);
		if (rc != CURLE_OK)
			fprintf(stderr, "coi: on_finding_url: %s\n", curl_easy_strerror(rc));
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return rc == CURLE_OK ? 0 : -EIO;
}

/* In the child: the record on stdin (a memfd, so nothing here waits on a reader), default
 * signals, a process group of its own (a timeout kills the whole group). */
_Noreturn static void child_main(const struct exporter *x, const struct job *j, int memfd)
{
	sigset_t none;
	char num[24];

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)setpgid(0, 0);
	if (dup2(memfd, STDIN_FILENO) < 0)
		_exit(126);
	if (j->kind == JOB_WEBHOOK)
		_exit(webhook_post(x->o.url, j->json, (long)(timeout_ns(x) / 1000000000u)) < 0 ? 1
		                                                                               : 0);
	(void)snprintf(num, sizeof(num), "%" PRIu64, j->seq);
	(void)setenv("COI_CONTAINER", x->o.container, 1);
	(void)setenv("COI_FINDING_LEVEL", threat_level_to_string(j->level), 1);
	(void)setenv("COI_FINDING_SEQ", num, 1);
	(void)unsetenv(MONITOR_ENV_ON_FINDING);
	(void)unsetenv(MONITOR_ENV_ON_FINDING_URL);
	execl("/bin/sh", "sh", "-c", x->o.command, (char *)NULL);
	_exit(127);
}

static int start_job(struct exporter *x, struct child *slot, const struct job *j)
{
	_cleanup_close_ int memfd = memfd_create("coi-finding", MFD_CLOEXEC);
	size_t len = strlen(j->json);
	pid_t pid;

	if (memfd < 0 || write(memfd, j->json, len) != (ssize_t)len || write(memfd, "\n", 1) != 1 ||
	    lseek(memfd, 0, SEEK_SET) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_main(x, j, memfd);
	*slot = (struct child){
	        .pid = pid, .kind = j->kind, .deadline_ns = clock_mono_ns() + timeout_ns(x)};
	return 0;
}

static void arm_timer(struct exporter *x);

/* Starts queued jobs while there are free slots. */
static void start_queued(struct exporter *x)
{
	for (size_t i = 0; i < EXPORT_MAX_CHILDREN && x->q_len; i++) {
		struct job *j = &x->queue[x->q_head];

		if (x->children[i].pid)
			continue;
		if (start_job(x, &x->children[i], j) < 0) {
			log_debug("monitor: cannot start the on_finding %s, ignoring",
			          kind_names[j->kind]);
			x->exports[j->kind][RESULT_FAILED]++;
			x->metrics_dirty = true;
		}
		free(j->json);
		x->q_head = (x->q_head + 1) % EXPORT_QUEUE_MAX;
		x->q_len--;
	}
	arm_timer(x);
}

static void enqueue(struct exporter *x, enum job_kind kind, const struct threat *t,
                    const struct audit_link *link, const char *json)
{
	struct job *j;

	if (x->q_len == EXPORT_QUEUE_MAX) {
		x->exports[kind][RESULT_DROPPED]++;
		log_debug("monitor: on_finding queue full, record %" PRIu64 " dropped", link->seq);
		return;
	}
	j = &x->queue[(x->q_head + x->q_len) % EXPORT_QUEUE_MAX];
	*j = (struct job){.kind = kind, .level = t->level, .seq = link->seq, .json = strdup(json)};
	if (!j->json) {
		x->exports[kind][RESULT_DROPPED]++;
		return;
	}
	x->q_len++;
}

/* Collects the children that ended (only ours: other code may wait for its own). */
static void reap(struct exporter *x, bool block)
{
	for (size_t i = 0; i < EXPORT_MAX_CHILDREN; i++) {
		struct child *ch = &x->children[i];
		siginfo_t si = {0};
		enum job_result res;

		if (!ch->pid ||
		    waitid(P_PID, (id_t)ch->pid, &si, WEXITED | (block ? 0 : WNOHANG)) < 0 ||
		    si.si_pid != ch->pid)
			continue;
		if (ch->killed)
			res = RESULT_TIMEOUT;
		else if (si.si_code == CLD_EXITED && si.si_status == 0)
			res = RESULT_OK;
		else
			res = RESULT_FAILED;
		x->exports[ch->kind][res]++;
		x->metrics_dirty = true;
		if (res != RESULT_OK)
			log_debug("monitor: on_finding %s: %s", kind_names[ch->kind],
			          result_names[res]);
		ch->pid = 0;
	}
}

static void kill_overdue(struct exporter *x, uint64_t now)
{
	for (size_t i = 0; i < EXPORT_MAX_CHILDREN; i++) {
		struct child *ch = &x->children[i];

		if (ch->pid && !ch->killed && now >= ch->deadline_ns) {
			(void)kill(-ch->pid, SIGKILL);
			(void)kill(ch->pid, SIGKILL); /* if it had not set its group yet */
			ch->killed = true;
		}
	}
}

/* One timer for the earliest of: a child's deadline, the metrics' next write. */
static void arm_timer(struct exporter *x)
{
	uint64_t next = 0, now = clock_mono_ns();
	struct itimerspec its = {0};

	for (size_t i = 0; i < EXPORT_MAX_CHILDREN; i++)
		if (x->children[i].pid && !x->children[i].killed &&
		    (!next || x->children[i].deadline_ns < next))
			next = x->children[i].deadline_ns;
	if (x->metrics_dirty && x->metrics_path) {
		uint64_t due = x->metrics_at_ns + 1000000000u;

		if (!next || due < next)
			next = due;
	}
	if (next) {
		uint64_t in = next > now ? next - now : 1;

		its.it_value.tv_sec = (time_t)(in / 1000000000u);
		its.it_value.tv_nsec = (long)(in % 1000000000u);
	}
	if (x->timer_fd >= 0)
		(void)timerfd_settime(x->timer_fd, 0, &its, NULL);
}

static void maybe_write_metrics(struct exporter *x)
{
	if (x->metrics_path && x->metrics_dirty &&
	    clock_mono_ns() - x->metrics_at_ns >= 1000000000u)
		write_metrics(x);
}

static int on_timer(struct loop *l, int fd, uint32_t events, void *u)
{
	struct exporter *x = u;
	uint64_t expiries;

	(void)l;
	(void)events;
	(void)!read(fd, &expiries, sizeof(expiries));
	kill_overdue(x, clock_mono_ns());
	maybe_write_metrics(x);
	arm_timer(x);
	return 0;
}

static int on_sigchld(struct loop *l, int fd, uint32_t events, void *u)
{
	struct exporter *x = u;
	struct signalfd_siginfo si;

	(void)l;
	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	reap(x, false);
	start_queued(x);
	maybe_write_metrics(x);
	arm_timer(x);
	return 0;
}

/* ---- the sink ------------------------------------------------------------------------------ */

void exporter_record(const struct threat *t, const char *line, const struct audit_link *link,
                     void *userdata)
{
	struct exporter *x = userdata;
	_cleanup_free_ char *json = NULL;

	x->records++;
	x->seq = link->seq;
	if (t->level >= 0 && t->level < _THREAT_LEVEL_MAX)
		x->by_level[t->level]++;
	if (t->action >= 0 && t->action < _ACTION_MAX)
		x->by_action[t->action]++;
	if (t->level >= THREAT_WARNING && t->action != ACTION_DEDUPLICATED)
		x->last_finding = (double)t->time.tv_sec + (double)t->time.tv_nsec / 1e9;
	x->metrics_dirty = true;
	if (t->action != ACTION_DEDUPLICATED && t->level >= x->o.min_level &&
	    (x->o.syslog_socket || x->o.command || x->o.url) &&
	    (json = export_json(line, x->o.container, link->hash))) {
		if (x->o.syslog_socket)
			send_syslog(x, t->level, json);
		if (x->o.command)
			enqueue(x, JOB_COMMAND, t, link, json);
		if (x->o.url)
			enqueue(x, JOB_WEBHOOK, t, link, json);
		reap(x, false);
		start_queued(x);
	}
	maybe_write_metrics(x);
	arm_timer(x);
}

/* ---- life ---------------------------------------------------------------------------------- */

static int setup_children(struct exporter *x, struct loop *loop)
{
	sigset_t chld;
	int r;

	/* blocked from before the first fork, so no exit is missed; children unblock it */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &x->old_mask) < 0)
		return -errno;
	x->sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (x->sigchld_fd < 0)
		return -errno;
	r = loop ? loop_add_fd(loop, x->sigchld_fd, false, on_sigchld, x) : 0;
	return r;
}

static int setup_metrics(struct exporter *x, struct coi_error *err)
{
	_cleanup_free_ char *file = NULL;
	int r;

	r = mkdir_p(x->o.metrics_dir, 0755);
	if (r < 0)
		return coi_error_errno(err, r, "cannot create '%s'", x->o.metrics_dir);
	if (asprintf(&file, "%s.prom", x->o.container) < 0 ||
	    !(x->metrics_path = path_join(x->o.metrics_dir, file)))
		return coi_error_oom(err);
	write_metrics(x);
	return 0;
}

int exporter_new(const struct export_opts *o, struct loop *loop, struct exporter **ret,
                 struct coi_error *err)
{
	_cleanup_(exporter_freep) struct exporter *x = NULL;
	int r;

	*ret = NULL;
	if (!o->command && !o->url && !o->syslog_socket && !o->metrics_dir)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return coi_error_oom(err);
	x->o = *o;
	x->syslog_fd = x->sigchld_fd = x->timer_fd = -EBADF;
	x->started = time(NULL);
	sigemptyset(&x->old_mask);
	if (o->syslog_socket && syslog_connect(x) < 0)
		log_debug("monitor: syslog socket '%s' not there yet, will retry",
		          o->syslog_socket);
	x->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (x->timer_fd < 0)
		return coi_error_errno(err, errno, "cannot create a timer");
	if (loop && (r = loop_add_fd(loop, x->timer_fd, false, on_timer, x)) < 0)
		return coi_error_errno(err, r, "cannot watch the exporter's timer");
	if ((o->command || o->url) && (r = setup_children(x, loop)) < 0)
		return coi_error_errno(err, r, "cannot watch the on_finding children");
	if (o->metrics_dir && (r = setup_metrics(x, err)) < 0)
		return r;
	*ret = TAKE_PTR(x);
	return 0;
}

/* At the end (the container gone, perhaps killed for the very finding being sent): queued and
 * running exports get until their deadline, then are killed. */
static void drain(struct exporter *x)
{
	uint64_t until = clock_mono_ns() + timeout_ns(x);
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		uint64_t now = clock_mono_ns();
		struct timespec wait;
		bool running = false;

		reap(x, false);
		start_queued(x);
		for (size_t i = 0; i < EXPORT_MAX_CHILDREN; i++)
			running |= x->children[i].pid != 0;
		if (!running || now >= until)
			break;
		wait.tv_sec = (time_t)((until - now) / 1000000000u);
		wait.tv_nsec = (long)((until - now) % 1000000000u);
		(void)sigtimedwait(&chld, NULL, &wait);
	}
	for (size_t i = 0; i < EXPORT_MAX_CHILDREN; i++)
		if (x->children[i].pid) {
			x->children[i].deadline_ns = 0;
			x->children[i].killed = false;
		}
	kill_overdue(x, clock_mono_ns());
	reap(x, true);
	while (x->q_len) {
		free(x->queue[x->q_head].json);
		x->exports[x->queue[x->q_head].kind][RESULT_DROPPED]++;
		x->q_head = (x->q_head + 1) % EXPORT_QUEUE_MAX;
		x->q_len--;
	}
}

struct exporter *exporter_free(struct exporter *x)
{
	if (!x)
		return NULL;
	if (x->sigchld_fd >= 0) {
		drain(x);
		close(x->sigchld_fd);
		(void)sigprocmask(SIG_SETMASK, &x->old_mask, NULL);
	}
	if (x->metrics_path)
		(void)unlink(x->metrics_path);
	free(x->metrics_path);
	if (x->syslog_fd >= 0)
		close(x->syslog_fd);
	if (x->timer_fd >= 0)
		close(x->timer_fd);
	free(x);
	return NULL;
}
