/* SPDX-License-Identifier: MIT */
/* base.c: where the image's base comes from. An image server when one answers (the daemon pulls
 * the image itself), else a base made on this host by the embedded debootstrap recipe. The local
 * base is cached twice: as files under CACHE/base-<hash>/ (so a fresh daemon re-imports it in a
 * second) and as the image alias coi-base-<distro>-<version> carrying the property coi.base=<hash>
 * (so a rebuild skips both). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image-internal.h"
#include "incus/incus.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/path.h"
#include "util/proc.h"

/* clang-format off */
static const struct image_remote remotes[] = {
	{ "images", "https://images.linuxcontainers.org", "simplestreams" },
};
/* clang-format on */

const struct image_remote *image_remote_find(const char *base, const char **ret_name)
{
	const char *colon = strchr(base, ':');

	if (!colon)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(remotes); i++) {
		if (strlen(remotes[i].name) == (size_t)(colon - base) &&
		    strncmp(base, remotes[i].name, (size_t)(colon - base)) == 0) {
			*ret_name = colon + 1;
			return &remotes[i];
		}
	}
	return NULL;
}

/* True when the image server answers within a few seconds. */
static bool remote_reachable(const struct image_remote *rm)
{
	_cleanup_free_ char *url = NULL;
	CURL *h;
	CURLcode rc;
	long code = 0;

	if (asprintf(&url, "%s/streams/v1/index.json", rm->url) < 0)
		return false;
	h = curl_easy_init();
	if (!h)
		return false;
	(void)curl_easy_setopt(h, CURLOPT_URL, url);
	(void)curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	(void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 3L);
	(void)curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
	(void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	log_debug("image: image server %s: %s (HTTP %ld)", rm->url, curl_easy_strerror(rc), code);
	return rc == CURLE_OK && code == 200;
}

/* coi-base-<ID>-<VERSION_ID> of the host (the distribution debootstrap makes). */
static int local_base_alias(char **ret)
{
	_cleanup_buf_ struct buf b = BUF_INIT(64 * 1024);
	char id[64] = "debian", ver[64] = "12";
	const char *s;

	if (read_file("/etc/os-release", &b, NULL) == 0) {
		for (s = buf_str(&b); s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
			if (strncmp(s, "ID=", 3) == 0)
				(void)sscanf(s + 3, "%63[A-Za-z0-9._-]", id);
			else if (strncmp(s, "VERSION_ID=", 11) == 0)
				(void)sscanf(s + 11 + (s[11] == '"'), "%63[A-Za-z0-9._-]", ver);
		}
	}
	return asprintf(ret, "coi-base-%s-%s", id, ver) < 0 ? -ENOMEM : 0;
}

/* The Incus fingerprint of a split image: SHA-256 over the metadata then the rootfs. */
static int split_fingerprint(const char *meta, const char *rootfs, char **ret,
                             struct coi_error *err)
{
	const char *files[] = {meta, rootfs};
	unsigned char md[EVP_MAX_MD_SIZE], chunk[1 << 16];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *hex;
	int r = 0;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		r = coi_error_set(err, -EIO, "cannot start a SHA-256");
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(files); i++) {
		_cleanup_close_ int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0) {
			r = coi_error_errno(err, errno, "cannot open '%s'", files[i]);
			break;
		}
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			(void)EVP_DigestUpdate(ctx, chunk, (size_t)n);
		if (n < 0)
			r = coi_error_errno(err, errno, "cannot read '%s'", files[i]);
	}
	if (r == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		r = coi_error_set(err, -EIO, "cannot finish a SHA-256");
	EVP_MD_CTX_free(ctx);
	if (r < 0)
		return r;
	hex = malloc(2 * mdlen + 1);
	if (!hex)
		return coi_error_oom(err);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	*ret = hex;
	return 0;
}

/* Waits for a child, forwarding an interrupt (incus_interrupt()) to its process group. */
static int wait_child(pid_t pid, int *ret_status)
{
	_cleanup_close_ int pfd = proc_pidfd_open(pid);
	bool killed = false;
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (incus_interrupted() && !killed) {
			(void)kill(-pid, SIGTERM);
			killed = true;
		}
		if (pfd >= 0)
			(void)poll(&(struct pollfd){.fd = pfd, .events = POLLIN}, 1, 250);
		else
			(void)usleep(250 * 1000);
	}
	*ret_status = status;
	return killed ? -ECANCELED : 0;
}

/* Runs the embedded base recipe: bash SCRIPT OUTDIR, output to log_fd, in its own process group. */
static int run_base_recipe(struct build_ctx *b, const char *outdir, const char *hash)
{
	struct image_recipe rc = image_recipe_get(IMAGE_RECIPE_BASE);
	_cleanup_free_ char *script = path_join(b->cache, ".base-debootstrap.sh");
	int r, status;
	pid_t pid;

	if (!script)
		return coi_error_oom(b->err);
	r = write_file_atomic(script, rc.data, rc.len, 0700, b->err);
	if (r < 0)
		return r;
	pid = fork();
	if (pid < 0)
		return coi_error_errno(b->err, errno, "cannot fork");
	if (pid == 0) {
		int fd = b->log_fd >= 0 ? b->log_fd : open("/dev/null", O_WRONLY | O_CLOEXEC);

		(void)setpgid(0, 0);
		(void)signal(SIGINT, SIG_DFL);
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGPIPE, SIG_DFL);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		(void)close(STDIN_FILENO);
		(void)setenv("COI_BASE_HASH", hash, 1);
		if (b->opts->apt_mirror)
			(void)setenv("COI_APT_MIRROR", b->opts->apt_mirror, 1);
		execl("/bin/bash", "bash", script, outdir, (char *)NULL);
		_exit(127);
	}
	r = wait_child(pid, &status);
	(void)unlink(script);
	if (r == -ECANCELED)
		return coi_error_set(b->err, r, "interrupted");
	if (r < 0)
		return coi_error_errno(b->err, r, "waiting for the base recipe");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return coi_error_set(
		        b->err, -EIO, "the base recipe failed (status %d); see its output above",
		        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* Imports OUT/meta.tar.gz + OUT/rootfs.squashfs and points alias at it. */
static int import_base(struct build_ctx *b, const char *dir, const char *alias)
{
	_cleanup_free_ char *meta = path_join(dir, "meta.tar.gz");
	_cleanup_free_ char *rootfs = path_join(dir, "rootfs.squashfs");
	_cleanup_free_ char *fp = NULL, *old = NULL;
	_cleanup_(incus_image_freep) struct incus_image *cur = NULL;
	struct incus_wait w = {.progress = build_incus_progress, .userdata = b};
	int r;

	if (!meta || !rootfs)
		return coi_error_oom(b->err);
	build_progress(b, IMAGE_PHASE_BASE, -1, "importing the base from %s", dir);
	r = incus_image_import(b->c, meta, rootfs, NULL, &w, &fp, b->err);
	if (r == -EEXIST) /* the same image, without its alias */
		r = split_fingerprint(meta, rootfs, &fp, b->err);
	if (r < 0)
		return coi_error_prefix(b->err, "importing the base image");
	if (incus_image_get(b->c, alias, &cur, NULL) == 0) {
		if (strcmp(cur->fingerprint, fp) == 0)
			return 0;
		old = strdup(cur->fingerprint);
		r = incus_image_alias_update(b->c, alias, fp, b->err);
	} else {
		r = incus_image_alias_create(b->c, alias, fp, "coi base image", b->err);
	}
	if (r < 0)
		return coi_error_prefix(b->err, "naming the base image '%s'", alias);
	if (old && incus_image_delete(b->c, old, NULL) == 0)
		log_debug("image: deleted the previous base %.12s", old);
	return 0;
}

/* The debootstrap base: alias -> cached files -> the recipe, the first that is up to date. */
static int base_debootstrap(struct build_ctx *b, char **ret_alias)
{
	_cleanup_free_ char *alias = NULL, *have = NULL, *dir = NULL, *tmp = NULL, *sq = NULL;
	char hash[IMAGE_HASH_LEN + 1];
	struct stat st;
	int r;

	if (local_base_alias(&alias) < 0 || image_base_hash(hash) < 0)
		return coi_error_oom(b->err);
	r = image_property(b->c, alias, "coi.base", &have, NULL);
	if (r == 0 && have && strcmp(have, hash) == 0) {
		build_progress(b, IMAGE_PHASE_BASE, -1, "base '%s' is up to date (%s)", alias,
		               hash);
		*ret_alias = TAKE_PTR(alias);
		return 0;
	}
	if (asprintf(&dir, "%s/base-%s", b->cache, hash) < 0 ||
	    asprintf(&tmp, "%s/base-%s.tmp", b->cache, hash) < 0 ||
	    !(sq = path_join(dir, "rootfs.squashfs")))
		return coi_error_oom(b->err);
	if (stat(sq, &st) < 0) {
		if (geteuid() != 0)
			return coi_error_set(
			        b->err, -EPERM,
			        "making the base image with debootstrap needs root: run "
			        "'sudo coi build' once (or set the base to an image server)");
		r = mkdir_p(b->cache, 0755);
		if (r < 0)
			return coi_error_errno(b->err, r, "cannot create '%s'", b->cache);
		build_progress(b, IMAGE_PHASE_BASE, -1,
		               "making the base with debootstrap (about a minute or two)");
		r = run_base_recipe(b, tmp, hash);
		if (r < 0)
			return r;
		if (rename(tmp, dir) < 0)
			return coi_error_errno(b->err, errno, "cannot rename '%s'", tmp);
	}
	r = import_base(b, dir, alias);
	if (r < 0)
		return r;
	*ret_alias = TAKE_PTR(alias);
	return 0;
}

int build_resolve_base(struct build_ctx *b)
{
	const char *base = b->opts->base, *name;
	const struct image_remote *rm;
	int r;

	if (!base || !*base)
		base = b->opts->script ? IMAGE_DEFAULT_ALIAS : "auto";
	if (strcmp(base, "auto") == 0) {
		rm = &remotes[0];
		if (remote_reachable(rm)) {
			base = "images:debian/12";
		} else {
			build_progress(b, IMAGE_PHASE_BASE, -1,
			               "image server %s unreachable: using debootstrap", rm->url);
			base = "debootstrap";
		}
	}
	if (strcmp(base, "debootstrap") == 0)
		return base_debootstrap(b, &b->base_alias);
	rm = image_remote_find(base, &name);
	if (rm) {
		b->remote = rm;
		b->base_alias = strdup(name);
		return b->base_alias ? 0 : coi_error_oom(b->err);
	}
	if (strchr(base, ':'))
		return coi_error_set(b->err, -EINVAL,
		                     "unknown image server in base '%s' (known: images:)", base);
	r = incus_image_alias_exists(b->c, base, b->err);
	if (r < 0)
		return r;
	if (r == 0)
		return coi_error_set(
		        b->err, -ENOENT, "base image '%s' not found%s", base,
		        strcmp(base, IMAGE_DEFAULT_ALIAS) == 0 ? ": run 'coi build' first" : "");
	b->base_alias = strdup(base);
	return b->base_alias ? 0 : coi_error_oom(b->err);
}
