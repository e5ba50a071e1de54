/* SPDX-License-Identifier: MIT */
/* The max_duration deadline of a supervisor (monitor/deadline.h) against fake-incusd: it takes
 * the instance's identity (volatile.uuid, init pid) when armed, and at the deadline ends the
 * session only when the container is still that instance; warn-only records it. The fake's
 * init pid is 1, which lives. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fake-incusd/fake-incusd.h"
#include "incus/incus.h"
#include "monitor/audit.h"
#include "monitor/monitor.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"

static int expired, alerted;
static enum threat_action last_action;
static char expired_uuid[64];

static int handed_over(const char *container, void *u)
{
	(void)container;
	(void)u;
	return 1;
}

static int expire(const char *container, const char *uuid, int pidfd, void *u,
                  struct coi_error *err)
{
	(void)container;
	(void)pidfd;
	(void)u;
	(void)err;
	expired++;
	snprintf(expired_uuid, sizeof(expired_uuid), "%s", uuid);
	return 1;
}

static void alert(const struct threat *t, void *u)
{
	(void)u;
	alerted++;
	last_action = t->action;
}

static void test_deadline(void)
{
	_cleanup_(incus_client_freep) struct incus_client *c = NULL;
	_cleanup_buf_ struct buf log = BUF_INIT(1 << 20);
	_cleanup_free_ char *path = NULL;
	struct incus_client_opts co = {0};
	struct monitor_opts o;
	struct coi_error err = {0};
	struct fake fake;
	char home[] = "/tmp/coi-t-deadline-XXXXXX";

	if (!mkdtemp(home) || fake_start(&fake, "deadline") < 0) {
		CHECK(!"fake-incusd starts");
		return;
	}
	setenv("COI_HOME", home, 1);
	co.socket_path = fake.socket;
	CHECK(incus_client_new(&co, &c, NULL) == 0);
	monitor_opts_default(&o);
	o.container = "c1";
	o.client = c;
	o.max_duration_s = 1;
	o.handed_over = handed_over;
	o.expire = expire;
	o.alert = alert;

	/* the same instance at the deadline: it is ended, and the audit log says why */
	CHECK(monitor_deadline_run(&o, &err) == 0);
	CHECK(expired == 1 && strcmp(expired_uuid, "u-1") == 0);
	CHECK(alerted == 1 && last_action == ACTION_KILLED);
	CHECK(audit_path("c1", &path, NULL) == 0 && read_file(path, &log, NULL) >= 0);
	CHECK(strstr(buf_str(&log), "\"title\":\"Session time limit reached\"") != NULL);

	/* by then another instance has the name (a later session): nothing is done */
	CHECK(monitor_deadline_run(&o, &err) == 0);
	CHECK(expired == 1 && alerted == 1);

	/* auto_stop = false: only recorded */
	o.duration_warn_only = true;
	CHECK(monitor_deadline_run(&o, &err) == 0);
	CHECK(expired == 1 && alerted == 2 && last_action == ACTION_ALERTED);

	/* the instance changed while the deadline was being armed: refused */
	CHECK(monitor_deadline_run(&o, &err) == -ESRCH);
	CHECK(strstr(err.msg, "changed") != NULL);

	CHECK(fake_stop(&fake) == 0);
	buf_reset(&log);
	(void)unlink(path);
	free(path);
	path = NULL;
	if (asprintf(&path, "%s/audit", home) > 0)
		(void)rmdir(path);
	(void)rmdir(home);
}

int main(void)
{
	RUN(test_deadline);
	return tap_done();
}
