/* SPDX-License-Identifier: MIT */
/* build.c: the build pipeline. base -> build container coi-build-<stamp> -> push the recipe and
 * its inputs -> run it as root with its output streamed -> stop -> publish as ALIAS-<stamp> with
 * the recipe hash -> repoint ALIAS -> prune old versions. The build container is deleted on every
 * exit path (build_undo()); ALIAS moves only after a successful publish. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "image/image-internal.h"
#include "incus/incus.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"

#define BUILD_DIR    "/var/lib/coi-build" /* not /tmp: systemd empties it at boot */
#define CA_DIR       "/usr/local/share/ca-certificates"
#define READY_TRIES  80 /* x 250 ms: the container's exec API answers ~0.3 s after start */
#define STOP_TIMEOUT 60
#define OP_WAIT      300 /* seconds to wait for a create still running on the daemon */

void build_progress(struct build_ctx *b, enum image_phase phase, int percent, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	b->phase = phase;
	if (!b->opts->progress)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	b->opts->progress(phase, text, percent, b->opts->userdata);
}

void build_incus_progress(const struct incus_progress *p, void *userdata)
{
	struct build_ctx *b = userdata;

	build_progress(b, b->phase, p->percent, "%s", p->text ? p->text : "");
}

static double now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void image_build_result_release(struct image_build_result *r)
{
	if (!r)
		return;
	free(r->fingerprint);
	free(r->version_alias);
	free(r->base);
	free(r->leftover);
	*r = (struct image_build_result){0};
}

/* ---- the build container -------------------------------------------------------------------- */

/* Creating from an image server has no typed wrapper in the client: POST it ourselves. */
static int create_from_remote(struct build_ctx *b, struct incus_wait *w)
{
	_cleanup_json_ json_t *body = NULL;
	json_t *devices;

	body = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s}, s:b}", "name", b->container,
	                 "source", "type", "image", "mode", "pull", "server", b->remote->url,
	                 "protocol", b->remote->protocol, "alias", b->base_alias, "config",
	                 "boot.autostart", "false", "start", 1);
	if (!body)
		return coi_error_oom(b->err);
	if (b->opts->storage_pool) {
		devices = json_pack("{s:{s:s, s:s, s:s}}", "root", "type", "disk", "path", "/",
		                    "pool", b->opts->storage_pool);
		if (!devices || json_object_set_new(body, "devices", devices) < 0)
			return coi_error_oom(b->err);
	}
	return incus_request(b->c, "POST", "/1.0/instances", body, w, NULL, b->err);
}

static int launch(struct build_ctx *b)
{
	struct incus_map config = {0};
	struct incus_wait w = {.progress = build_incus_progress, .userdata = b};
	struct incus_instance_spec spec = {
	        .name = b->container,
	        .image_alias = b->base_alias,
	        .description = "coi image build (deleted when the build ends)",
	        .start = true,
	        .config = &config,
	        .storage_pool = b->opts->storage_pool,
	};
	int r;

	build_progress(b, IMAGE_PHASE_LAUNCH, -1, "launching build container '%s' from '%s%s%s'",
	               b->container, b->remote ? b->remote->name : "", b->remote ? ":" : "",
	               b->base_alias);
	if (incus_map_set(&config, "boot.autostart", "false") < 0) {
		incus_map_clear(&config);
		return coi_error_oom(b->err);
	}
	/* From here on the container may exist: build_undo() deletes it, even after a failed
	 * create. */
	b->container_made = true;
	r = b->remote ? create_from_remote(b, &w) : incus_instance_create(b->c, &spec, &w, b->err);
	incus_map_clear(&config);
	if (r < 0) {
		b->create_failed = true;
		return coi_error_prefix(b->err, "launching '%s'", b->container);
	}
	/* Network: the build container needs open egress (apt, npm). coi adds no rules for it
	 * today; when the network-policy module lands, open the container here (mode "open"). */
	return 0;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (fd >= 0 && n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Runs argv as root with output to log_fd (stream) or captured; returns the exit status. A
 * client without streaming exec gets the command captured, and its output written afterwards. */
static int run_in(struct build_ctx *b, char *const *argv, char *const *env, bool stream)
{
	_cleanup_(incus_exec_result_release) struct incus_exec_result res = {0};
	struct incus_exec_opts o;
	int r;

	incus_exec_opts_init(&o);
	o.argv = argv;
	o.env = env;
	o.cwd = "/root";
	o.capture_max = 64u << 20;
	if (stream) {
		o.mode = INCUS_EXEC_STREAM;
		o.stdin_fd = -1;
		o.stdout_fd = b->log_fd;
		o.stderr_fd = b->log_fd;
		r = incus_exec(b->c, b->container, &o, &res, b->err);
		if (r != -EOPNOTSUPP)
			return r < 0 ? r : res.exit_status;
		log_debug("image: no streaming exec in this client: the output comes at the end");
		o.mode = INCUS_EXEC_CAPTURE;
	}
	r = incus_exec(b->c, b->container, &o, &res, b->err);
	if (r < 0)
		return r;
	if (stream) {
		write_all(b->log_fd, res.out, res.out_len);
		write_all(b->log_fd, res.err, res.err_len);
	}
	return res.exit_status;
}

/* Waits until the container runs commands and systemd has finished booting (no polling of the
 * boot itself: 'systemctl is-system-running --wait' blocks until it is up). */
static int wait_ready(struct build_ctx *b)
{
	char *const wait[] = {"systemctl", "is-system-running", "--wait", NULL};
	int r = -EAGAIN;

	build_progress(b, IMAGE_PHASE_LAUNCH, -1, "waiting for the container to boot");
	for (int i = 0; i < READY_TRIES && r < 0; i++) {
		if (incus_interrupted())
			return coi_error_set(b->err, -ECANCELED, "interrupted");
		r = run_in(b, wait, NULL, false);
		if (r < 0)
			(void)usleep(250 * 1000);
	}
	if (r < 0)
		return coi_error_prefix(b->err, "the build container does not run commands");
	/* A status of 1 means "degraded": some unit failed. The build may still work; go on. */
	return 0;
}

static int push_inputs(struct build_ctx *b)
{
	struct incus_file_attrs dir = {.uid = 0, .gid = 0, .mode = 0700};
	struct incus_file_attrs exe = {.uid = 0, .gid = 0, .mode = 0755};
	struct image_recipe script = image_recipe_get(IMAGE_RECIPE_BUILD);
	struct image_recipe dummy = image_recipe_get(IMAGE_RECIPE_DUMMY);
	glob_t g = {0};
	int r;

	build_progress(b, IMAGE_PHASE_PUSH, -1, "pushing the recipe to %s", BUILD_DIR);
	if (b->opts->script) {
		script.data = b->opts->script;
		script.len = strlen(b->opts->script);
	}
	if ((r = incus_file_mkdir(b->c, b->container, BUILD_DIR, &dir, b->err)) < 0 ||
	    (r = incus_file_mkdir(b->c, b->container, BUILD_DIR "/ca", &dir, b->err)) < 0 ||
	    (r = incus_file_write(b->c, b->container, BUILD_DIR "/build.sh", script.data,
	                          script.len, &exe, b->err)) < 0 ||
	    (r = incus_file_write(b->c, b->container, BUILD_DIR "/dummy", dummy.data, dummy.len,
	                          &exe, b->err)) < 0)
		return coi_error_prefix(b->err, "pushing the recipe");
	/* The host's extra CAs (a TLS-intercepting proxy): without them npm fails in the container.
	 */
	if (glob(CA_DIR "/*.crt", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && r >= 0; i++) {
			_cleanup_free_ char *dst =
			        path_join(BUILD_DIR "/ca", path_basename(g.gl_pathv[i]));

			r = dst ? incus_file_push(b->c, b->container, g.gl_pathv[i], dst, false,
			                          NULL, b->err)
			        : coi_error_oom(b->err);
		}
	}
	globfree(&g);
	return r < 0 ? coi_error_prefix(b->err, "pushing the host's CA certificates") : 0;
}

/* The recipe runs under a small wrapper. Incus forwards the user's Ctrl-C to the process it
 * started, and a bash running a script only acts on it once its current command (apt, npm) has
 * finished; the wrapper puts the script in its own process group (set -m) and ends all of it at
 * once, with status 130. */
static const char recipe_wrapper[] =
        "set -m\n"
        "exec 3>&2 2>/dev/null\n" /* job notices ("Terminated") to /dev/null, the script's to 3 */
        "/bin/bash " BUILD_DIR "/build.sh 2>&3 3>&- &\n"
        "pid=$!\n"
        "trap 'kill -TERM -- -$pid 2>/dev/null; wait $pid; exit 130' INT TERM HUP\n"
        "wait $pid\n";

static int run_recipe(struct build_ctx *b)
{
	char *const argv[] = {"/bin/bash", "-c", (char *)recipe_wrapper, NULL};
	_cleanup_strv_free_ char **env = NULL;
	_cleanup_free_ char *agents = NULL;
	char *e;
	int r;

	if (asprintf(&e, "COI_AGENTS=%s",
	             b->opts->agents ? b->opts->agents : IMAGE_DEFAULT_AGENTS) < 0 ||
	    strv_consume(&env, e) < 0 || strv_push(&env, "COI_BUILD_DIR=" BUILD_DIR) < 0 ||
	    strv_push(&env, "HOME=/root") < 0 ||
	    asprintf(&e, "COI_RECIPE_HASH=%s", b->res->recipe) < 0 || strv_consume(&env, e) < 0)
		return coi_error_oom(b->err);
	if (b->opts->apt_mirror && (asprintf(&e, "COI_APT_MIRROR=%s", b->opts->apt_mirror) < 0 ||
	                            strv_consume(&env, e) < 0))
		return coi_error_oom(b->err);
	build_progress(b, IMAGE_PHASE_SCRIPT, -1, "running the %s as root (output follows)",
	               b->opts->script ? "custom build script" : "build recipe");
	r = run_in(b, argv, env, true);
	if (r < 0)
		return incus_interrupted() ? coi_error_set(b->err, -ECANCELED, "interrupted")
		                           : coi_error_prefix(b->err, "running the build script");
	if (r == 130 || incus_interrupted())
		return coi_error_set(b->err, -ECANCELED, "interrupted");
	if (r != 0)
		return coi_error_set(b->err, -EIO, "the build script failed with status %d", r);
	return 0;
}

static int stop(struct build_ctx *b)
{
	int r;

	build_progress(b, IMAGE_PHASE_STOP, -1, "stopping '%s'", b->container);
	r = incus_instance_set_state(b->c, b->container, INCUS_ACTION_STOP, false, STOP_TIMEOUT,
	                             NULL);
	if (r < 0)
		r = incus_instance_set_state(b->c, b->container, INCUS_ACTION_STOP, true, -1,
		                             b->err);
	return r < 0 ? coi_error_prefix(b->err, "stopping '%s'", b->container) : 0;
}

static int publish(struct build_ctx *b, const char *alias)
{
	struct incus_publish_opts p = {
	        .instance = b->container,
	        .compression = b->opts->compression,
	};
	struct incus_wait w = {.progress = build_incus_progress, .userdata = b};
	_cleanup_free_ char *desc = NULL;
	int r;

	if (asprintf(&b->res->version_alias, "%s-%s", alias, b->stamp) < 0 ||
	    asprintf(&desc, "coi sandbox image %s (recipe %s)", b->stamp, b->res->recipe) < 0)
		return coi_error_oom(b->err);
	p.alias = b->res->version_alias;
	p.description = desc;
	/* The daemon's default (gzip) takes minutes for 2.6 GB; zstd (level 3) 30 s. It needs the
	 * zstd program on the daemon's host: check for it when the daemon is this host. */
	if (!p.compression && !incus_client_is_remote(b->c) && access("/usr/bin/zstd", X_OK) == 0)
		p.compression = "zstd";
	if (incus_map_set(&p.properties, "description", desc) < 0 ||
	    incus_map_set(&p.properties, IMAGE_RECIPE_PROPERTY, b->res->recipe) < 0 ||
	    incus_map_set(&p.properties, "coi.agents",
	                  b->opts->agents ? b->opts->agents : IMAGE_DEFAULT_AGENTS) < 0 ||
	    incus_map_set(&p.properties, "coi.base", b->base_alias) < 0 ||
	    incus_map_set(&p.properties, "coi.built", b->stamp) < 0) {
		incus_map_clear(&p.properties);
		return coi_error_oom(b->err);
	}
	build_progress(b, IMAGE_PHASE_PUBLISH, -1, "publishing as '%s'", p.alias);
	r = incus_image_publish(b->c, &p, &w, &b->res->fingerprint, b->err);
	incus_map_clear(&p.properties);
	if (r < 0)
		return coi_error_prefix(b->err, "publishing '%s'", b->container);
	b->published = true;
	return 0;
}

static int repoint(struct build_ctx *b, const char *alias)
{
	int r;

	build_progress(b, IMAGE_PHASE_ALIAS, -1, "pointing '%s' at %.12s", alias,
	               b->res->fingerprint);
	r = incus_image_alias_exists(b->c, alias, b->err);
	if (r > 0)
		r = incus_image_alias_update(b->c, alias, b->res->fingerprint, b->err);
	else if (r == 0)
		r = incus_image_alias_create(b->c, alias, b->res->fingerprint, "coi sandbox image",
		                             b->err);
	if (r < 0)
		return coi_error_prefix(b->err, "pointing '%s' at the new image", alias);
	b->repointed = true;
	return 0;
}

/* Unpacks the new image into the storage pool now (on btrfs or zfs the first container of an image
 * builds the image's volume, ~15 s for 2.6 GB; later ones are snapshots of it, ~1 s), so the first
 * session does not pay for it: the build container makes way for an unstarted container of the new
 * image, which build_undo() deletes (the image volume stays). Failures here only cost that time. */
static void warm(struct build_ctx *b)
{
	struct incus_wait w = {.progress = build_incus_progress, .userdata = b};
	struct incus_instance_spec spec = {
	        .name = b->container,
	        .image_fingerprint = b->res->fingerprint,
	        .storage_pool = b->opts->storage_pool,
	};

	build_progress(b, IMAGE_PHASE_CLEANUP, -1,
	               "preparing the image in the storage pool (later launches take a second)");
	if (incus_instance_delete(b->c, b->container, true, NULL) < 0)
		return;
	if (incus_instance_create(b->c, &spec, &w, NULL) < 0) {
		b->create_failed = true; /* build_undo() waits for it, then deletes it */
		log_debug("image: preparing the image in the pool failed, ignoring");
	}
}

/* Waits for the daemon's running operations on the build container. A create cut short by an
 * interrupt is not cancelled on the daemon (creation cannot be), so the container can appear
 * after the client gave up on it: deleting before it has would leave it behind. */
static void wait_container_ops(struct build_ctx *b)
{
	_cleanup_json_ json_t *md = NULL;
	_cleanup_free_ char *needle = NULL;
	json_t *op, *res;
	size_t i, j;

	if (asprintf(&needle, "/1.0/instances/%s", b->container) < 0 ||
	    incus_request(b->c, "GET", "/1.0/operations?recursion=1", NULL, NULL, &md, NULL) < 0)
		return;
	json_array_foreach(json_get_arr(md, "running"), i, op) {
		const char *id = json_get_str(op, "id"), *what = json_get_str(op, "description");

		if (!id || !what || !strstr(what, "Creating"))
			continue; /* an exec, say, ends with the container */
		json_array_foreach(json_get_arr(json_get_obj(op, "resources"), "instances"), j,
		                   res) {
			_cleanup_free_ char *path = NULL;
			_cleanup_json_ json_t *done = NULL;

			if (!json_is_string(res) || strcmp(json_string_value(res), needle) != 0 ||
			    asprintf(&path, "/1.0/operations/%s/wait?timeout=%d", id, OP_WAIT) < 0)
				continue;
			log_debug("image: waiting for operation %s on '%s'", id, b->container);
			(void)incus_request(b->c, "GET", path, NULL, NULL, &done, NULL);
			break;
		}
	}
}

/* Deletes the build container, whatever happened before (an interrupt included), and a version
 * published by a build that then failed (the alias still names the previous image). */
static void build_undo(struct build_ctx *b)
{
	struct coi_error e = {0};

	incus_interrupt_reset(); /* the clean-up itself must not be cancelled */
	if (b->published && !b->repointed && b->res->fingerprint &&
	    incus_image_delete(b->c, b->res->fingerprint, NULL) == 0)
		log_debug("image: deleted the unused new version %.12s", b->res->fingerprint);
	if (!b->container_made)
		return;
	build_progress(b, IMAGE_PHASE_CLEANUP, -1, "deleting build container '%s'", b->container);
	if (b->create_failed)
		wait_container_ops(b);
	if (incus_instance_delete(b->c, b->container, true, &e) < 0 && e.code != -ENOENT &&
	    asprintf(&b->res->leftover,
	             "cannot delete build container '%s': %s; delete it with 'incus delete -f %s'",
	             b->container, coi_error_message(&e), b->container) < 0)
		b->res->leftover = NULL;
	b->container_made = false;
}

/* ---- the pipeline --------------------------------------------------------------------------- */

/* Up to date when ALIAS already carries this recipe hash. */
static int up_to_date(struct build_ctx *b, const char *alias)
{
	_cleanup_(incus_image_freep) struct incus_image *img = NULL;
	_cleanup_free_ char *have = NULL;
	int r;

	r = image_property(b->c, alias, IMAGE_RECIPE_PROPERTY, &have, b->err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!have || strcmp(have, b->res->recipe) != 0)
		return 0;
	if (incus_image_get(b->c, alias, &img, b->err) < 0)
		return b->err ? b->err->code : -EIO;
	b->res->fingerprint = strdup(img->fingerprint);
	b->res->size = img->size;
	return b->res->fingerprint ? 1 : coi_error_oom(b->err);
}

static int64_t image_size(struct incus_client *c, const char *fingerprint)
{
	_cleanup_(incus_image_freep) struct incus_image *img = NULL;

	return incus_image_get(c, fingerprint, &img, NULL) == 0 ? img->size : -1;
}

/* The version stamp, and the build container's name: coi-build-STAMP-XXXX, the suffix random so
 * two builds started in the same second (another alias, another user) do not collide. */
static void make_stamp(struct build_ctx *b)
{
	time_t t = time(NULL);
	unsigned short rnd = 0;
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)strftime(b->stamp, sizeof(b->stamp), "%Y%m%d-%H%M%S", &tm);
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (unsigned short)getpid();
	(void)snprintf(b->container, sizeof(b->container), IMAGE_BUILD_PREFIX "%s-%04x", b->stamp,
	               rnd);
}

static int build_steps(struct build_ctx *b, const char *alias)
{
	double t;
	int r;

	t = now();
	r = build_resolve_base(b);
	if (r < 0)
		return r;
	b->res->base_seconds = now() - t;
	b->res->base = b->remote ? NULL : strdup(b->base_alias);
	if (b->remote && asprintf(&b->res->base, "%s:%s", b->remote->name, b->base_alias) < 0)
		b->res->base = NULL;
	if (!b->res->base)
		return coi_error_oom(b->err);
	if ((r = launch(b)) < 0 || (r = wait_ready(b)) < 0 || (r = push_inputs(b)) < 0 ||
	    (r = run_recipe(b)) < 0 || (r = stop(b)) < 0 || (r = publish(b, alias)) < 0 ||
	    (r = repoint(b, alias)) < 0)
		return r;
	warm(b);
	return 0;
}

int image_build(struct incus_client *c, const struct image_build_opts *opts,
                struct image_build_result *ret, struct coi_error *err)
{
	const char *alias = opts->alias ? opts->alias : IMAGE_DEFAULT_ALIAS;
	const char *cache = opts->cache_dir ? opts->cache_dir : secure_getenv("COI_IMAGE_CACHE");
	struct image_build_result res = {0};
	struct build_ctx b = {
	        .c = c,
	        .opts = opts,
	        .res = &res,
	        .err = err,
	        .cache = cache && *cache ? cache : IMAGE_DEFAULT_CACHE,
	        .log_fd = opts->log_fd,
	};
	_cleanup_strv_free_ char **deleted = NULL;
	double t0 = now();
	int r;

	r = image_recipe_hash(opts->agents, opts->script, res.recipe);
	if (r < 0)
		return coi_error_errno(err, r, "cannot hash the recipe");
	if (!opts->force) {
		build_progress(&b, IMAGE_PHASE_CHECK, -1, "recipe %s", res.recipe);
		r = up_to_date(&b, alias);
		if (r < 0) {
			image_build_result_release(&res);
			return r;
		}
		if (r > 0) {
			res.skipped = true;
			*ret = res;
			return 0;
		}
	}
	make_stamp(&b);
	r = build_steps(&b, alias);
	build_undo(&b);
	if (r < 0) {
		char *leftover = TAKE_PTR(res.leftover);

		free(b.base_alias);
		image_build_result_release(&res);
		*ret = (struct image_build_result){.leftover = leftover};
		return r;
	}
	res.size = image_size(c, res.fingerprint);
	build_progress(&b, IMAGE_PHASE_CLEANUP, -1, "keeping the newest %d version(s)",
	               opts->keep > 0 ? opts->keep : IMAGE_DEFAULT_KEEP);
	r = image_cleanup(c, alias, opts->keep > 0 ? opts->keep : IMAGE_DEFAULT_KEEP, &deleted,
	                  NULL);
	res.pruned = r > 0 ? r : 0;
	if (r < 0)
		log_debug("image: pruning old versions failed, ignoring");
	res.total_seconds = now() - t0;
	free(b.base_alias);
	*ret = res;
	return 0;
}
