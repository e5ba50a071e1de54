/* SPDX-License-Identifier: MIT */
/* test-incus: the Incus client against fake-incusd (tests/fake-incusd/cases/) and the envelope
 * decoder on its own. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../fake-incusd/fake-incusd.h"
#include "incus/incus.h"
#include "incus/internal.h"
#include "tap.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strv.h"

static struct fake fake;

/* A client on a fresh fake serving case; NULL (and a failed check) when it cannot start. */
static struct incus_client *client_for(const char *case_name, const char *project, size_t max)
{
	struct incus_client_opts o = {.project = project, .response_max = max, .op_timeout = -1};
	struct incus_client *c = NULL;

	if (fake_start(&fake, case_name) < 0)
		return NULL;
	o.socket_path = fake.socket;
	CHECK(incus_client_new(&o, &c, NULL) == 0);
	return c;
}

static void test_envelope(void)
{
	struct coi_error err = {0};
	struct incus_envelope e;
	const char *sync = "{\"type\":\"sync\",\"status_code\":200,\"metadata\":{\"a\":1}}";
	const char *async =
	        "{\"type\":\"async\",\"status_code\":100,\"operation\":\"/1.0/operations/x\","
	        "\"metadata\":{\"id\":\"x\"}}";
	const char *error = "{\"type\":\"error\",\"error\":\"not here\",\"error_code\":404}";

	CHECK(incus_envelope_parse(200, sync, strlen(sync), &e, &err) == 0);
	CHECK(e.type == INCUS_RESP_SYNC && json_get_int(e.metadata, "a", 0) == 1);
	incus_envelope_release(&e);
	CHECK(incus_envelope_parse(202, async, strlen(async), &e, &err) == 0);
	CHECK(e.type == INCUS_RESP_ASYNC);
	CHECK_STREQ(e.operation, "/1.0/operations/x");
	incus_envelope_release(&e);
	CHECK(incus_envelope_parse(404, error, strlen(error), &e, &err) == -ENOENT);
	CHECK_STREQ(err.msg, "not here");
	incus_envelope_release(&e);
	CHECK(incus_envelope_parse(200, "{\"type\":\"async\"}", 16, &e, &err) == -EBADMSG);
	CHECK(incus_envelope_parse(200, "[]", 2, &e, &err) == -EBADMSG);
	CHECK(incus_envelope_parse(403, "nope", 4, &e, &err) == -EACCES);
	CHECK(incus_envelope_parse(409, "", 0, &e, &err) == -EEXIST);
	CHECK(incus_envelope_parse(500, "{\"type\":\"weird\"}", 16, &e, &err) == -EPROTO);
	CHECK(incus_error_to_errno(412) == -ESTALE); /* If-Match failed */
	CHECK(incus_error_to_errno(418) == -EPROTO);
}

static void test_server(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("server", NULL, 0);
	_cleanup_(incus_server_freep) struct incus_server *s = NULL;

	CHECK(c && incus_server_get(c, &s, NULL) == 0);
	CHECK(s && s->trusted);
	CHECK_STREQ(s ? s->server_version : NULL, "6.0.4");
	CHECK_STREQ(s ? s->api_version : NULL, "1.0");
	CHECK(fake_stop(&fake) == 0);
}

static void test_create(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("create", NULL, 0);
	_cleanup_strv_free_ char **profiles = NULL;
	struct incus_map cfg = {0};
	struct incus_devices devs = {0};
	struct coi_error err = {0};
	struct incus_instance_spec spec = {
	        .name = "c1",
	        .image_alias = "coi-t-tiny",
	        .ephemeral = true,
	        .start = true,
	        .storage_pool = "coi",
	        .config = &cfg,
	        .devices = &devs,
	};

	CHECK(strv_push(&profiles, "default") == 0);
	spec.profiles = profiles;
	CHECK(incus_map_set(&cfg, "boot.autostart", "false") == 0);
	CHECK(incus_devices_add(&devs, "ws", "type", "disk", "source", "/tmp", "path", "/workspace",
	                        NULL) == 0);
	CHECK(c && incus_instance_create(c, &spec, NULL, &err) == 0);
	/* the operation fails: its text reaches the caller */
	spec = (struct incus_instance_spec){.name = "c2", .image_alias = "x"};
	CHECK(incus_instance_create(c, &spec, NULL, &err) == -EPROTO);
	CHECK(strstr(err.msg, "cannot create instance 'c2'") && strstr(err.msg, "boom"));
	spec = (struct incus_instance_spec){.name = "c3", .image_alias = "nope"};
	CHECK(incus_instance_create(c, &spec, NULL, &err) == -ENOENT);
	CHECK(strstr(err.msg, "Image not found") != NULL);
	spec = (struct incus_instance_spec){.name = "c1", .image_alias = "x"};
	CHECK(incus_instance_create(c, &spec, NULL, &err) == -EEXIST);
	/* created, its start refused: the address pinned on its NIC is on another's too */
	spec = (struct incus_instance_spec){.name = "c4", .image_alias = "x", .start = true};
	CHECK(incus_instance_create(c, &spec, NULL, &err) == -EADDRINUSE);
	CHECK(strstr(err.msg, "already defined on another NIC") != NULL);
	spec.image_alias = NULL;
	CHECK(incus_instance_create(c, &spec, NULL, &err) == -EINVAL);
	incus_map_clear(&cfg);
	incus_devices_clear(&devs);
	CHECK(fake_stop(&fake) == 0);
}

static void test_get(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("get", NULL, 0);
	_cleanup_(incus_instance_freep) struct incus_instance *i = NULL, *i2 = NULL;
	_cleanup_(incus_instance_state_freep) struct incus_instance_state *st = NULL;
	struct coi_error err = {0};
	const struct incus_nic *nic;

	CHECK(c && incus_instance_get(c, "c1", &i, &err) == 0);
	if (!i)
		return;
	CHECK_STREQ(i->name, "c1");
	CHECK(i->status == INCUS_STATUS_RUNNING && !i->ephemeral);
	CHECK(strv_length(i->profiles) == 2 && strv_contains(i->profiles, "coi"));
	CHECK_STREQ(incus_map_get(&i->config, "limits.cpu"), "2");
	CHECK(incus_map_get(&i->config, "security.nesting") == NULL);
	CHECK_STREQ(incus_map_get(&i->expanded_config, "security.nesting"), "true");
	CHECK_STREQ(incus_devices_prop(&i->devices, "ws", "shift"), "true");
	CHECK_STREQ(incus_devices_prop(&i->expanded_devices, "eth0", "network"), "incusbr0");
	CHECK(incus_devices_get(&i->devices, "eth0") == NULL);
	CHECK(i->state == NULL);
	CHECK(incus_instance_get(c, "nope", &i2, &err) == -ENOENT && !i2);
	CHECK_STREQ(err.msg, "Instance not found");
	CHECK(incus_instance_exists(c, "nope", &err) == 0);
	CHECK(incus_instance_exists(c, "c1", &err) == 1);
	CHECK(incus_instance_state(c, "c1", &st, &err) == 0);
	CHECK(st && st->status == INCUS_STATUS_RUNNING && st->pid == 4242 && st->processes == 7);
	nic = incus_state_nic(st, "eth0");
	CHECK(nic != NULL);
	CHECK_STREQ(nic ? nic->ipv4 : NULL, "10.200.77.5");
	CHECK_STREQ(nic ? nic->host_name : NULL, "veth1234abcd");
	CHECK(nic && nic->ipv6 == NULL); /* only a link-local address */
	nic = incus_state_nic(st, "lo");
	CHECK(nic && !nic->host_name && !nic->ipv4);
	CHECK(fake_stop(&fake) == 0);
}

static void test_list(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("list", NULL, 0);
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL, **l2 = NULL;

	CHECK(c && incus_instance_list(c, "coi-t-", 0, &l, NULL) == 2);
	CHECK_STREQ(l ? l[0]->name : NULL, "coi-t-a");
	CHECK_STREQ(l ? l[1]->name : NULL, "coi-t-b");
	CHECK(l && l[0]->ephemeral && !l[2] && !l[0]->state);
	CHECK(incus_instance_list(c, NULL, INCUS_LIST_STATE, &l2, NULL) == 1);
	CHECK(l2 && l2[0]->state && l2[0]->state->pid == 10);
	CHECK_STREQ(l2 ? incus_state_nic(l2[0]->state, "eth0")->host_name : NULL, "vethA");
	CHECK(fake_stop(&fake) == 0);
}

static void test_state(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("state", NULL, 0);
	struct incus_map cfg = {0};
	struct incus_devices devs = {0};
	struct coi_error err = {0};

	CHECK(c && incus_instance_set_state(c, "c1", INCUS_ACTION_STOP, true, -1, &err) == 0);
	CHECK(incus_instance_set_state(c, "c1", INCUS_ACTION_START, false, 30, &err) == -EPROTO);
	CHECK(strstr(err.msg, "cannot start 'c1'") && strstr(err.msg, "forkstart"));
	CHECK(incus_instance_delete(c, "c1", true, &err) == 0);
	CHECK(incus_map_set(&cfg, "limits.memory", "1GiB") == 0);
	CHECK(incus_devices_add(&devs, "gpu", "type", "gpu", NULL) == 0);
	CHECK(incus_instance_patch(c, "c1", &cfg, &devs, &err) == 0);
	CHECK(incus_instance_copy(c, "c1/s1", "c9", true, NULL, &err) == 0);
	/* GET + PUT without the device; the PUT body is checked by the fake (a subset: the
	 * device's absence shows in the next case, where it is asked for again) */
	CHECK(incus_instance_remove_device(c, "c1", "gpu", &err) == 0);
	CHECK(incus_instance_remove_device(c, "c1", "nope", &err) == -ENOENT);
	CHECK(strstr(err.msg, "no device 'nope'") != NULL);
	CHECK(incus_instance_unset_config(c, "c1", (char *[]){"user.x", NULL}, &err) == 0);
	/* nothing to unset: no PUT */
	CHECK(incus_instance_unset_config(c, "c1", (char *[]){"user.none", NULL}, &err) == 0);
	incus_map_clear(&cfg);
	incus_devices_clear(&devs);
	CHECK(fake_stop(&fake) == 0);
}

/* The ETag of a GET, and a PATCH under If-Match: a changed instance (412) is -ESTALE, so that of
 * two claimers of a warm container one wins (session/warm.h). */
static void test_etag(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("etag", NULL, 0);
	_cleanup_(incus_instance_freep) struct incus_instance *in = NULL;
	struct incus_map cfg = {0};
	struct coi_error err = {0};
	char etag[64];

	CHECK(c && incus_instance_get_etag(c, "c1", &in, etag, sizeof(etag), &err) == 0);
	CHECK(strcmp(etag, "\"e1\"") == 0);
	CHECK(in && strcmp(incus_map_get(&in->config, "user.coi.warm"), "f") == 0);
	CHECK(incus_map_set(&cfg, "user.coi.warm", "") == 0);
	CHECK(incus_instance_patch_if(c, "c1", &cfg, etag, &err) == 0);
	CHECK(incus_instance_patch_if(c, "c1", &cfg, etag, &err) == -ESTALE);
	incus_map_clear(&cfg);
	CHECK(fake_stop(&fake) == 0);
}

static void test_exec(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("exec", NULL, 0);
	_cleanup_strv_free_ char **argv = strv_split("sh|-c|echo hi; exit 42", "|");
	_cleanup_strv_free_ char **env = NULL;
	struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	struct coi_error err = {0};
	int in[2], out[2];
	char got[64] = "";

	CHECK(strv_push(&env, "HOME=/home/code") == 0 && strv_push(&env, "A=b=c") == 0);
	incus_exec_opts_init(&o);
	o.argv = argv;
	o.env = env;
	o.uid = o.gid = 1000;
	o.cwd = "/workspace";
	/* captured: a ping, data in two messages, a barrier, a hang-up */
	setenv("TERM", "dumb", 1);
	CHECK(c && incus_exec(c, "c1", &o, &res, &err) == 0);
	if (res.exit_status != 42)
		printf("# %s\n", err.msg);
	CHECK(res.exit_status == 42);
	CHECK_STREQ(res.out, "hi\n");
	CHECK_STREQ(res.err, "");
	incus_exec_result_release(&res);
	o.env = NULL;
	o.uid = o.gid = -1;
	o.cwd = NULL;
	CHECK(incus_exec(c, "c2", &o, &res, &err) == -EPROTO);
	CHECK(strstr(err.msg, "not running") != NULL);
	/* the command is not found: the operation fails, the status is still 127 */
	o.argv = (char *[]){"nope", NULL};
	CHECK(incus_exec(c, "c1", &o, &res, &err) == 0 && res.exit_status == 127);
	CHECK_STREQ(res.err, "sh: nope: not found\n");
	incus_exec_result_release(&res);
	CHECK(incus_exec(c, "c1", &o, &res, &err) == -EPROTO);
	CHECK(strstr(err.msg, "boom") != NULL);
	/* a pty (here without a local terminal): local input to the command, its output to a fd */
	CHECK(pipe(in) == 0 && pipe(out) == 0);
	CHECK(write(in[1], "abc", 3) == 3);
	close(in[1]);
	o.argv = (char *[]){"cat", NULL};
	o.mode = INCUS_EXEC_INTERACTIVE;
	o.stdin_fd = in[0];
	o.stdout_fd = out[1];
	CHECK(incus_exec(c, "c1", &o, &res, &err) == 0 && res.exit_status == 0);
	incus_exec_result_release(&res);
	close(out[1]);
	CHECK(read(out[0], got, sizeof(got) - 1) == 9);
	CHECK_STREQ(got, "echo: abc");
	close(in[0]);
	close(out[0]);
	/* more output than the ceiling */
	o = (struct incus_exec_opts){
	        .argv = (char *[]){"big", NULL}, .uid = -1, .gid = -1, .capture_max = 15};
	CHECK(incus_exec(c, "c1", &o, &res, &err) == -E2BIG);
	CHECK(fake_stop(&fake) == 0);
	/* a bad environment entry is refused before anything is sent */
	CHECK(strv_push(&env, "=x") == 0);
	o.env = env;
	CHECK(incus_exec(c, "c1", &o, &res, &err) == -EINVAL);
}

static void on_progress(const struct incus_progress *p, void *userdata)
{
	struct buf *seen = userdata;

	buf_printf(seen, "%s|%d;", p->text, p->percent);
	if (strcmp(p->text, "5%") == 0)
		incus_interrupt(); /* as a SIGINT handler would */
}

static void test_transport(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("transport", NULL, 0);
	_cleanup_incus_client_ struct incus_client *small = NULL, *p1 = NULL, *gone = NULL;
	_cleanup_(incus_server_freep) struct incus_server *s = NULL;
	_cleanup_(incus_instance_list_freep) struct incus_instance **l = NULL;
	_cleanup_buf_ struct buf seen = BUF_INIT(4096);
	struct incus_client_opts o = {.socket_path = fake.socket, .response_max = 64};
	struct incus_wait w = {.progress = on_progress, .userdata = &seen, .timeout = -1};
	struct coi_error err = {0};

	CHECK(c && incus_server_get(c, &s, &err) == -EBADMSG);
	CHECK(incus_server_get(c, &s, &err) == -EPROTO);
	CHECK(strstr(err.msg, "HTTP 502") != NULL);
	CHECK(incus_client_new(&o, &small, NULL) == 0);
	CHECK(incus_instance_list(small, NULL, 0, &l, &err) == -E2BIG);
	o = (struct incus_client_opts){.socket_path = fake.socket, .project = "p1"};
	CHECK(incus_client_new(&o, &p1, NULL) == 0);
	CHECK(incus_server_get(p1, &s, &err) == 0 && !s->trusted);
	CHECK(incus_request(c, "PUT", "/1.0/instances/c1/state", NULL, &w, NULL, &err) == 202);
	CHECK_STREQ(buf_str(&seen), "Unpack: 45% (10MB/s)|45;publish: 80%|80;");
	/* interrupted while waiting: the operation is cancelled on the daemon */
	CHECK(incus_request(c, "PUT", "/1.0/instances/c1/state", NULL, &w, NULL, &err) ==
	      -ECANCELED);
	CHECK(incus_interrupted());
	incus_interrupt_reset();
	CHECK(fake_stop(&fake) == 0);
	/* nothing listens any more */
	o = (struct incus_client_opts){.socket_path = "/nonexistent/unix.socket"};
	CHECK(incus_client_new(&o, &gone, NULL) == 0);
	CHECK(incus_server_get(gone, &s, &err) == -EHOSTDOWN);
	CHECK(strstr(err.msg, "/nonexistent/unix.socket") != NULL);
	/* unreachable is an error, never "no such container" */
	CHECK(incus_instance_exists(gone, "c1", &err) == -EHOSTDOWN);
	CHECK(strstr(err.msg, "/nonexistent/unix.socket") != NULL);
}

/* A socket that exists but nobody accepts on: refused, named, and distinct from a 404. */
static void test_refused(void)
{
	_cleanup_incus_client_ struct incus_client *c = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct incus_client_opts o = {0};
	struct coi_error err = {0};
	char dir[] = "/tmp/coi-t-refused-XXXXXX";
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/unix.socket", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0); /* bound, no listen */
	o.socket_path = sa.sun_path;
	CHECK(incus_client_new(&o, &c, NULL) == 0);
	CHECK(incus_instance_exists(c, "c1", &err) == -ECONNREFUSED);
	CHECK(strstr(err.msg, sa.sun_path) != NULL);
	close(fd);
	(void)unlink(sa.sun_path);
	(void)rmdir(dir);
}

static void test_maps(void)
{
	struct incus_map m = {0};
	struct incus_devices d = {0};
	_cleanup_json_ json_t *j = NULL;

	CHECK(incus_map_set(&m, "a", "1") == 0 && incus_map_set(&m, "a", "2") == 0);
	CHECK(m.n == 1);
	CHECK_STREQ(incus_map_get(&m, "a"), "2");
	CHECK(incus_devices_add(&d, "x", "type", "disk", NULL) == 0);
	CHECK(incus_devices_add(&d, "x", "type", "nic", NULL) == 0);
	CHECK(d.n == 1);
	CHECK_STREQ(incus_devices_prop(&d, "x", "type"), "nic");
	j = incus_devices_to_json(&d);
	CHECK_STREQ(json_get_str(json_get_obj(j, "x"), "type"), "nic");
	incus_map_clear(&m);
	incus_devices_clear(&d);
	CHECK(incus_status_from_string("Frozen") == INCUS_STATUS_FROZEN);
	CHECK(incus_status_from_string("bogus") == INCUS_STATUS_UNKNOWN);
	CHECK_STREQ(incus_action_to_string(INCUS_ACTION_UNFREEZE), "unfreeze");
}

static void test_default_socket(void)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *d = NULL;

	unsetenv("INCUS_SOCKET");
	unsetenv("INCUS_DIR");
	d = incus_default_socket();
	CHECK_STREQ(d, "/var/lib/incus/unix.socket");
	setenv("INCUS_DIR", "/var/lib/coi-test", 1);
	a = incus_default_socket();
	CHECK_STREQ(a, "/var/lib/coi-test/unix.socket");
	setenv("INCUS_SOCKET", "/run/x.sock", 1);
	b = incus_default_socket();
	CHECK_STREQ(b, "/run/x.sock");
	unsetenv("INCUS_SOCKET");
	unsetenv("INCUS_DIR");
}

static void test_files(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("files", NULL, 0);
	_cleanup_buf_ struct buf b = BUF_INIT(1024), small = BUF_INIT(2);
	struct coi_error err = {0};
	char dir[] = "/tmp/coi-pull-XXXXXX", path[256], got[16] = "";
	struct stat st;
	FILE *f;

	CHECK(c && incus_file_write(c, "c1", "/etc/x y", "data", 4, NULL, &err) == 0);
	CHECK(incus_file_read(c, "c1", "/etc/x y", &b, &err) == 0);
	CHECK_STREQ(buf_str(&b), "data");
	CHECK(incus_file_read(c, "c1", "/etc", &b, &err) == -EISDIR);
	CHECK(incus_file_read(c, "c1", "/nope", &small, &err) == -ENOENT);
	CHECK(mkdtemp(dir) != NULL);
	/* 1 symlink and 1 bad name ("..") dropped; setuid stripped; nothing outside dir */
	CHECK(incus_file_pull(c, "c1", "/tree", dir, true, &err) == 2);
	snprintf(path, sizeof(path), "%s/tree/f", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0755);
	f = fopen(path, "r");
	CHECK(f && fgets(got, sizeof(got), f));
	if (f)
		fclose(f);
	CHECK_STREQ(got, "F!");
	snprintf(path, sizeof(path), "%s/tree/link", dir);
	CHECK(lstat(path, &st) < 0);
	snprintf(path, sizeof(path), "%s/tree/d/g", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 1);
	/* a directory of only the entry named: pulled empty, without that entry's GET; of
	 * another: pulled whole */
	snprintf(path, sizeof(path), "%s/only", dir);
	CHECK(incus_file_pull_unless(c, "c1", "/tree/d", path, "g", &err) == 0);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/only/g", dir);
	CHECK(lstat(path, &st) < 0);
	snprintf(path, sizeof(path), "%s/other", dir);
	CHECK(incus_file_pull_unless(c, "c1", "/tree/d", path, "x", &err) == 0);
	snprintf(path, sizeof(path), "%s/other/g", dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 1);
	/* below a directory known to exist: no request for it or above it */
	CHECK(incus_file_mkdir_below(c, "c1", "/home/code/.a/b", strlen("/home/code"), NULL,
	                             &err) == 0);
	CHECK(incus_file_mkdir_below(c, "c1", "/home/code", strlen("/home/code"), NULL, &err) == 0);
	CHECK(incus_file_delete(c, "c1", "/tree", &err) == 0);
	CHECK(fake_stop(&fake) == 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

static void test_images(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("images", NULL, 0);
	_cleanup_(incus_image_list_freep) struct incus_image **l = NULL;
	_cleanup_(incus_image_freep) struct incus_image *i = NULL;
	_cleanup_free_ char *fp = NULL;
	struct incus_publish_opts po = {.instance = "c1",
	                                .alias = "coi-t-pub",
	                                .description = "pub",
	                                .compression = "none"};
	struct coi_error err = {0};

	CHECK(c && incus_image_list(c, &l, &err) == 2);
	CHECK_STREQ(l ? l[0]->fingerprint : NULL, "aaaa"); /* aliased images first */
	CHECK_STREQ(l ? l[0]->description : NULL, "tiny");
	CHECK_STREQ(l ? l[0]->aliases[0] : NULL, "coi-t-tiny");
	CHECK(l && l[1]->aliases[0] == NULL && l[1]->size == 10);
	CHECK(incus_image_get(c, "coi-t-tiny", &i, &err) == 0);
	CHECK_STREQ(i ? i->fingerprint : NULL, "aaaa");
	CHECK(incus_image_alias_exists(c, "nope", &err) == 0);
	CHECK(incus_image_delete(c, "bbbb", &err) == 0);
	CHECK(incus_image_publish(c, &po, NULL, &fp, &err) == 0);
	CHECK_STREQ(fp, "cccc");
	CHECK(incus_image_alias_exists(c, "coi-t-pub", &err) == 1);
	CHECK(incus_image_alias_update(c, "coi-t-pub", "dddd", &err) == 0);
	CHECK(incus_image_alias_delete(c, "coi-t-pub", &err) == 0);
	CHECK(fake_stop(&fake) == 0);
}

static void test_snapshots(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("snapshots", NULL, 0);
	_cleanup_(incus_snapshot_list_freep) struct incus_snapshot **l = NULL;
	struct coi_error err = {0};

	CHECK(c && incus_snapshot_create(c, "c1", "s1", false, &err) == 0);
	CHECK(incus_snapshot_list(c, "c1", &l, &err) == 2);
	CHECK_STREQ(l ? l[0]->name : NULL, "s1"); /* oldest first, "c1/" stripped */
	CHECK(l && l[0]->stateful && l[0]->size == 42 && l[1]->size == -1);
	CHECK(incus_snapshot_restore(c, "c1", "s1", false, &err) == 0);
	CHECK(incus_snapshot_delete(c, "c1", "s1", &err) == 0);
	CHECK(incus_snapshot_delete(c, "c1", "zz", &err) == -ENOENT);
	CHECK(strstr(err.msg, "Snapshot not found") != NULL);
	CHECK(fake_stop(&fake) == 0);
}

static void test_events(void)
{
	_cleanup_incus_client_ struct incus_client *c = client_for("events", NULL, 0);
	_cleanup_(incus_events_freep) struct incus_events *ev = NULL;
	struct coi_error err = {0};
	struct incus_event e = {0};

	CHECK(c && incus_events_open(c, NULL, &ev, &err) == 0);
	if (!ev)
		return;
	CHECK(incus_events_fd(ev) >= 0);
	CHECK(incus_events_next(ev, 2000, &e, &err) == 0);
	CHECK_STREQ(e.type, "lifecycle");
	CHECK_STREQ(e.action, "instance-started");
	CHECK_STREQ(e.instance, "c1");
	CHECK_STREQ(e.project, "default");
	incus_event_release(&e);
	/* the binary message is skipped */
	CHECK(incus_events_next(ev, 2000, &e, &err) == 0);
	CHECK_STREQ(e.instance, "c2");
	incus_event_release(&e);
	CHECK(incus_events_next(ev, 2000, &e, &err) == 0);
	CHECK(e.instance == NULL && e.action && strcmp(e.action, "image-created") == 0);
	incus_event_release(&e);
	CHECK(incus_events_wait(ev, "c1", "instance-stopped", 2000, &err) == 0);
	CHECK(incus_events_next(ev, 2000, &e, &err) == -ECONNRESET);
	CHECK(fake_stop(&fake) == 0);
	CHECK(incus_event_parse("[]", 2, &e) == -EBADMSG);
}

int main(void)
{
	RUN(test_envelope);
	RUN(test_maps);
	RUN(test_default_socket);
	RUN(test_server);
	RUN(test_create);
	RUN(test_get);
	RUN(test_list);
	RUN(test_state);
	RUN(test_etag);
	RUN(test_exec);
	RUN(test_transport);
	RUN(test_refused);
	RUN(test_files);
	RUN(test_images);
	RUN(test_snapshots);
	RUN(test_events);
	return tap_done();
}
