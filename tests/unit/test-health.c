/* SPDX-License-Identifier: MIT */
/* test-health: the check table, the evaluators each check rests on, the nft listing reader, the
 * report (status, exit code, JSON), and whole runs: with the daemon down and a broken config, and
 * against the fake daemon serving a privileged default profile with a raw.apparmor override, a
 * dir pool and no image. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fake-incusd/fake-incusd.h"
#include "health/health.h"
#include "health/internal.h"
#include "incus/incus.h"
#include "netpolicy/netpolicy.h"
#include "tap.h"
#include "util/path.h"
#include "util/strv.h"

#define GIB (1024ull * 1024 * 1024)

static struct health_result fresh(void)
{
	return (struct health_result){.id = "t", .status = HEALTH_OK};
}

static void test_table(void)
{
	size_t n;
	const struct health_check *c = health_checks(&n);

	CHECK(n >= 25);
	for (size_t i = 0; i < n; i++) {
		CHECK(c[i].id && c[i].fn);
		CHECK(health_category_to_string(c[i].category) != NULL);
		/* grouped: categories never go back */
		CHECK(i == 0 || c[i].category >= c[i - 1].category);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(c[i].id, c[j].id) != 0);
	}
	CHECK_STREQ(health_status_to_string(HEALTH_WARNING), "warning");
	CHECK_STREQ(health_overall_to_string(HEALTH_FAILED), "unhealthy");
	CHECK_STREQ(health_category_to_string(HEALTH_CAT_CONFIG), "configuration");
	CHECK(health_status_to_string(_HEALTH_STATUS_MAX) == NULL);
}

static void test_kernel(void)
{
	struct health_result r = fresh();

	health_eval_kernel("6.18.44-fc-v657", &r);
	CHECK(r.status == HEALTH_OK);
	r = fresh();
	health_eval_kernel("5.15.0-91-generic", &r);
	CHECK(r.status == HEALTH_OK);
	r = fresh();
	health_eval_kernel("5.10.0-28-amd64", &r);
	CHECK(r.status == HEALTH_WARNING);
	CHECK(strstr(r.message, "5.15") && strstr(r.fix, "5.15"));
	r = fresh();
	health_eval_kernel("4.19.0", &r);
	CHECK(r.status == HEALTH_WARNING);
	r = fresh();
	health_eval_kernel("weird", &r);
	CHECK(r.status == HEALTH_WARNING);
}

static void test_incus_version(void)
{
	struct health_result r = fresh();

	health_eval_incus_version("6.0.4", &r);
	CHECK(r.status == HEALTH_OK);
	r = fresh();
	health_eval_incus_version("5.21", &r);
	CHECK(r.status == HEALTH_WARNING && r.fix[0]);
	r = fresh();
	health_eval_incus_version(NULL, &r);
	CHECK(r.status == HEALTH_WARNING);
}

static void test_pool(void)
{
	struct health_result r = fresh();

	health_eval_pool("coi", "btrfs", 3 * GIB, 30 * GIB, &r);
	CHECK(r.status == HEALTH_OK && !r.fix[0]);
	CHECK(strstr(r.message, "27.0 GiB free of 30.0 GiB"));
	r = fresh();
	health_eval_pool("default", "dir", 3 * GIB, 30 * GIB, &r);
	CHECK(r.status == HEALTH_WARNING);
	CHECK(strstr(r.message, "dir") && strstr(r.fix, "btrfs"));
	r = fresh();
	health_eval_pool("coi", "btrfs", 25 * GIB, 30 * GIB, &r); /* 5 GiB free, 83 % */
	CHECK(r.status == HEALTH_WARNING);
	r = fresh();
	health_eval_pool("coi", "btrfs", 28 * GIB + 1, 30 * GIB, &r); /* < 2 GiB free */
	CHECK(r.status == HEALTH_FAILED);
	r = fresh();
	health_eval_pool("big", "zfs", 95 * 100 * GIB, 100 * 100 * GIB, &r); /* 95 % used */
	CHECK(r.status == HEALTH_FAILED);
	r = fresh();
	health_eval_pool("coi", "btrfs", 0, 0, &r); /* unknown size */
	CHECK(r.status == HEALTH_OK);
}

static void test_privileged(void)
{
	struct health_result r = fresh();
	struct incus_map m = {0};

	health_eval_privileged("default", &m, &r);
	CHECK(r.status == HEALTH_OK);
	CHECK(incus_map_set(&m, "security.privileged", "false") == 0);
	r = fresh();
	health_eval_privileged("default", &m, &r);
	CHECK(r.status == HEALTH_OK);
	CHECK(incus_map_set(&m, "security.privileged", "true") == 0);
	r = fresh();
	health_eval_privileged("default", &m, &r);
	CHECK(r.status == HEALTH_FAILED);
	CHECK_STREQ(r.fix, "incus profile unset default security.privileged");
	incus_map_clear(&m);
}

static void test_raw(void)
{
	struct health_result r = fresh();
	struct incus_map m = {0};

	CHECK(health_eval_raw("default", &m, &r) == 0);
	CHECK(r.status == HEALTH_OK);
	CHECK(incus_map_set(&m, "raw.apparmor", "deny /x,") == 0);
	CHECK(incus_map_set(&m, "limits.cpu", "1") == 0);
	CHECK(health_eval_raw("default", &m, &r) == 1);
	CHECK(r.status == HEALTH_WARNING);
	CHECK(strstr(r.message, "raw.apparmor") && strstr(r.message, "'default'"));
	CHECK_STREQ(r.fix, "incus profile unset default raw.apparmor");
	CHECK(incus_map_set(&m, "raw.lxc", "lxc.seccomp.profile=") == 0);
	CHECK(health_eval_raw("other", &m, &r) == 2);
	/* the first one found stays the headline */
	CHECK_STREQ(r.fix, "incus profile unset default raw.apparmor");
	CHECK(strstr(r.detail, "profile 'other' sets raw.lxc"));
	incus_map_clear(&m);
}

static void test_image_age(void)
{
	struct health_result r = fresh();
	int64_t t = 0;

	CHECK(health_parse_time("2026-11-28T11:13:27.661137725Z", &t) == 0);
	CHECK(t == 1795864407);
	CHECK(health_parse_time("yesterday", &t) == -EINVAL);
	health_eval_image_age("coi-default", "2026-11-28T11:13:27Z", 1795864407 + 3600, &r);
	CHECK(r.status == HEALTH_OK);
	CHECK(strstr(r.message, "0 days"));
	r = fresh();
	health_eval_image_age("coi-default", "2026-10-01T00:00:00Z", 1795864407, &r);
	CHECK(r.status == HEALTH_WARNING && strstr(r.fix, "coi build"));
	r = fresh();
	health_eval_image_age("coi-default", NULL, 1795864407, &r);
	CHECK(r.status == HEALTH_WARNING);
}

static const char nft_ip[] =
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
        "{\"table\": {\"family\": \"ip\", \"name\": \"coi\", \"handle\": 1}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"forward\", \"handle\": 1,"
        " \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 10, \"policy\": \"accept\"}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"ct-coi-aaaa1111-1\","
        " \"handle\": 2}},"
        "{\"chain\": {\"family\": \"ip\", \"table\": \"coi\", \"name\": \"ct-coi-bbbb2222-1\","
        " \"handle\": 3}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"forward\", \"handle\": 4,"
        " \"comment\": \"coi:coi-aaaa1111-1\", \"expr\": []}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"ct-coi-aaaa1111-1\","
        " \"handle\": 5, \"comment\": \"coi:coi-aaaa1111-1\", \"expr\": []}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"ct-coi-bbbb2222-1\","
        " \"handle\": 6, \"comment\": \"coi:coi-bbbb2222-1\", \"expr\": []}},"
        "{\"rule\": {\"family\": \"ip\", \"table\": \"coi\", \"chain\": \"forward\", \"handle\": 7,"
        " \"expr\": []}}]}";

static const char nft_bridge[] =
        "{\"nftables\": [{\"table\": {\"family\": \"bridge\", \"name\": \"coi\", \"handle\": 2}},"
        "{\"chain\": {\"family\": \"bridge\", \"table\": \"coi\", \"name\": \"prerouting\","
        " \"handle\": 1, \"hook\": \"prerouting\"}},"
        "{\"rule\": {\"family\": \"bridge\", \"table\": \"coi\", \"chain\": \"prerouting\","
        " \"handle\": 2, \"comment\": \"coi:coi-cccc3333-2\", \"expr\": []}},"
        "{\"table\": {\"family\": \"bridge\", \"name\": \"other\", \"handle\": 3}},"
        "{\"rule\": {\"family\": \"bridge\", \"table\": \"other\", \"chain\": \"x\","
        " \"handle\": 2, \"comment\": \"coi:coi-dddd4444-1\", \"expr\": []}}]}";

static void parse_state(struct net_state *st)
{
	struct coi_error err = {0};

	*st = (struct net_state){0};
	CHECK(net_state_parse(nft_ip, strlen(nft_ip), "coi", st, &err) == 0);
	CHECK(net_state_parse(nft_bridge, strlen(nft_bridge), "coi", st, &err) == 0);
}

static void test_nft_tables(void)
{
	struct health_result r = fresh();
	struct net_state st = {0};

	health_eval_nft_tables(&st, &r);
	CHECK(r.status == HEALTH_OK && strstr(r.message, "no coi tables"));

	parse_state(&st);
	r = fresh();
	health_eval_nft_tables(&st, &r);
	/* one rule in forward has no owner comment */
	CHECK(r.status == HEALTH_WARNING &&
	      strstr(r.message, "1 rule in coi's tables carry no owner"));
	CHECK(strstr(r.detail, "rules of 'coi-aaaa1111-1'"));
	net_state_release(&st);

	/* without it: ct-coi-bbbb2222-1 is a chain no rule jumps to */
	parse_state(&st);
	for (size_t i = 0; i < st.n_rules; i++)
		if (!st.rules[i].owner[0])
			strcpy(st.rules[i].owner, "coi-aaaa1111-1");
	r = fresh();
	health_eval_nft_tables(&st, &r);
	CHECK(r.status == HEALTH_WARNING && strstr(r.message, "ct-coi-bbbb2222-1"));
	CHECK(!strstr(r.message, "aaaa"));
	CHECK_STREQ(r.fix, "coi clean --orphans");
	net_state_release(&st);
}

static void test_orphan_rules(void)
{
	char *live[] = {"coi-aaaa1111-1", "coi-bbbb2222-1", "coi-cccc3333-2", "other", NULL};
	char *some[] = {"coi-aaaa1111-1", NULL};
	struct health_result r = fresh();
	struct net_state st;

	parse_state(&st);
	health_eval_orphan_rules(&st, live, &r);
	CHECK(r.status == HEALTH_OK);
	r = fresh();
	health_eval_orphan_rules(&st, some, &r);
	CHECK(r.status == HEALTH_WARNING);
	CHECK(strstr(r.message, "2 containers that no longer exist"));
	CHECK(strstr(r.message, "coi-bbbb2222-1") && strstr(r.message, "coi-cccc3333-2"));
	CHECK(!strstr(r.message, "dddd")); /* a rule in another table is not coi's */
	CHECK_STREQ(r.fix, "coi clean --orphans");
	net_state_release(&st);
}

static void test_report(void)
{
	struct health_result res[3] = {
	        {.id = "a", .category = HEALTH_CAT_SYSTEM, .status = HEALTH_OK, .message = "fine"},
	        {.id = "b",
	         .category = HEALTH_CAT_INCUS,
	         .status = HEALTH_WARNING,
	         .message = "hm",
	         .fix = "do x",
	         .detail = "more"},
	        {.id = "c", .category = HEALTH_CAT_STATUS, .status = HEALTH_OK, .message = "ok"},
	};
	struct health_report rep = {.results = res, .n = 3};
	json_t *j, *c;

	rep.status = health_report_status(res, 3);
	CHECK(rep.status == HEALTH_WARNING);
	CHECK(health_exit_code(HEALTH_OK) == 0);
	CHECK(health_exit_code(HEALTH_WARNING) == 1);
	CHECK(health_exit_code(HEALTH_FAILED) == 2);
	CHECK(health_report_count(&rep, HEALTH_OK) == 2);
	CHECK(health_report_status(res, 0) == HEALTH_OK);

	j = health_report_to_json(&rep, false);
	CHECK(j != NULL);
	CHECK_STREQ(json_string_value(json_object_get(j, "status")), "degraded");
	c = json_array_get(json_object_get(j, "checks"), 1);
	CHECK_STREQ(json_string_value(json_object_get(c, "id")), "b");
	CHECK_STREQ(json_string_value(json_object_get(c, "category")), "incus");
	CHECK_STREQ(json_string_value(json_object_get(c, "status")), "warning");
	CHECK_STREQ(json_string_value(json_object_get(c, "message")), "hm");
	CHECK_STREQ(json_string_value(json_object_get(c, "fix")), "do x");
	CHECK(json_object_get(c, "detail") == NULL);
	CHECK(json_integer_value(json_object_get(json_object_get(j, "summary"), "warnings")) == 1);
	json_decref(j);
	j = health_report_to_json(&rep, true);
	c = json_array_get(json_object_get(j, "checks"), 1);
	CHECK_STREQ(json_string_value(json_object_get(c, "detail")), "more");
	json_decref(j);

	res[2].status = HEALTH_FAILED;
	CHECK(health_report_status(res, 3) == HEALTH_FAILED);
}

static const struct health_result *find(const struct health_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->results[i].id, id) == 0)
			return &r->results[i];
	return NULL;
}

/* A private coi home and config for a whole run; removed by teardown(). */
static char home[64];

static void setup(const char *config_text)
{
	char path[128];
	FILE *f;

	strcpy(home, "/tmp/coi-t-health-XXXXXX");
	if (!mkdtemp(home))
		abort();
	setenv("COI_HOME", home, 1);
	(void)snprintf(path, sizeof(path), "%s/config.toml", home);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(config_text, f);
	fclose(f);
	setenv("COI_CONFIG", path, 1);
}

static void teardown(void)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", home);
	unsetenv("COI_HOME");
	unsetenv("COI_CONFIG");
}

static void test_run_daemon_down_config_broken(void)
{
	struct health_opts o = {.socket = "/nonexistent/coi-t-health.sock", .workspace = "/"};
	struct health_report rep = {0};
	struct coi_error err = {0};
	const struct health_result *r;

	setup("[container]\nimage = \"x\n");
	CHECK(health_run(&o, &rep, &err) == 0);
	CHECK(rep.status == HEALTH_FAILED);
	r = find(&rep, "incus");
	CHECK(r && r->status == HEALTH_FAILED);
	CHECK(r && strstr(r->message, "/nonexistent/coi-t-health.sock"));
	/* how to start it: the tree's script beside a coi built in its tree, else the service */
	CHECK(r && strstr(r->fix, "start incusd: ") &&
	      (strstr(r->fix, "scripts/setup-host") || strstr(r->fix, "systemctl start incus")) &&
	      strstr(r->fix, "/nonexistent/coi-t-health.sock"));
	r = find(&rep, "privileged_profile");
	CHECK(r && r->status == HEALTH_FAILED && strstr(r->fix, "'incus'"));
	r = find(&rep, "config");
	CHECK(r && r->status == HEALTH_FAILED);
	CHECK(r && strstr(r->message, "config.toml:2:"));
	/* the rest still ran, on the defaults */
	CHECK((r = find(&rep, "os")) && r->status != HEALTH_FAILED);
	CHECK((r = find(&rep, "network_mode")) && r->status == HEALTH_OK);
	CHECK((r = find(&rep, "sessions_directory")) && r->status == HEALTH_OK);
	CHECK(r && strncmp(r->message, home, strlen(home)) == 0);
	for (size_t i = 0; i < rep.n; i++)
		CHECK(rep.results[i].message[0] != '\0');
	health_report_release(&rep);
	teardown();
}

/* The fake daemon: a privileged default profile with raw.apparmor, a dir pool nearly full, a
 * bridge, no image. */
static void test_run_fake(void)
{
	struct health_opts o = {.workspace = "/", .nft_table = "coi_t_health_none"};
	struct health_report rep = {0};
	struct coi_error err = {0};
	const struct health_result *r;
	struct fake fake;

	setup("[container]\nimage = \"coi-t-missing\"\n");
	if (fake_start(&fake, "health") < 0) {
		CHECK(!"fake-incusd starts");
		teardown();
		return;
	}
	o.socket = fake.socket;
	CHECK(health_run(&o, &rep, &err) == 0);
	CHECK(rep.status == HEALTH_FAILED);
	CHECK((r = find(&rep, "incus")) && r->status == HEALTH_OK && strstr(r->message, "6.0.4"));
	CHECK((r = find(&rep, "privileged_profile")) && r->status == HEALTH_FAILED);
	CHECK(r && strcmp(r->fix, "incus profile unset default security.privileged") == 0);
	CHECK((r = find(&rep, "raw_overrides")) && r->status == HEALTH_WARNING);
	CHECK(r && strcmp(r->fix, "incus profile unset default raw.apparmor") == 0);
	CHECK((r = find(&rep, "storage_pool")) && r->status == HEALTH_WARNING);
	CHECK(r && strstr(r->message, "pool 'slow' (dir): 99.0 GiB free of 100.0 GiB"));
	CHECK(r && strstr(r->detail, "pool 'fast': btrfs"));
	CHECK((r = find(&rep, "network_bridge")) && r->status == HEALTH_OK);
	CHECK(r && strstr(r->message, "coitbr0 (10.9.8.1/24)"));
	CHECK((r = find(&rep, "image")) && r->status == HEALTH_FAILED);
	CHECK(r && strstr(r->message, "coi-t-missing") && strstr(r->fix, "coi build"));
	CHECK((r = find(&rep, "unprivileged")) && r->status == HEALTH_FAILED);
	CHECK(r && strstr(r->message, "coi-abcdef12-1"));
	CHECK((r = find(&rep, "active_containers")) && r->status == HEALTH_OK);
	CHECK(r && strstr(r->message, "1 running, 1 in all"));
	health_report_release(&rep);
	CHECK(fake_stop(&fake) == 0);
	teardown();
}

int main(void)
{
	RUN(test_table);
	RUN(test_kernel);
	RUN(test_incus_version);
	RUN(test_pool);
	RUN(test_privileged);
	RUN(test_raw);
	RUN(test_image_age);
	RUN(test_nft_tables);
	RUN(test_orphan_rules);
	RUN(test_report);
	RUN(test_run_daemon_down_config_broken);
	RUN(test_run_fake);
	return tap_done();
}
