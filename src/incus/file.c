/* SPDX-License-Identifier: MIT */
/* file.c: files in an instance (/1.0/instances/NAME/files?path=...). Push streams local files
 * (opened with O_NOFOLLOW) to the daemon; pull creates everything below one local directory fd
 * with openat/mkdirat and O_NOFOLLOW, drops remote symlinks and special files, and strips setuid,
 * setgid and sticky bits, so a container cannot plant anything on the host outside the target or
 * anything that would run with privileges. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incus/internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

#define FILE_MAX           (8ull << 30) /* one pulled file */
#define PULL_DEPTH_MAX     64
#define PULL_STALL_TIMEOUT 5L /* seconds without a byte: a fifo, dropped */

struct file_hdrs {
	char uid[40], gid[40], mode[40], type[40];
	char *list[6];
};

static void file_hdrs_init(struct file_hdrs *h, const struct incus_file_attrs *a, const char *type,
                           int default_mode)
{
	int mode = a && a->mode >= 0 ? a->mode : default_mode;

	snprintf(h->uid, sizeof(h->uid), "X-Incus-uid: %lld",
	         (long long)(a && a->uid >= 0 ? a->uid : 0));
	snprintf(h->gid, sizeof(h->gid), "X-Incus-gid: %lld",
	         (long long)(a && a->gid >= 0 ? a->gid : 0));
	snprintf(h->mode, sizeof(h->mode), "X-Incus-mode: %04o", (unsigned)mode & 07777);
	snprintf(h->type, sizeof(h->type), "X-Incus-type: %s", type);
	h->list[0] = h->uid;
	h->list[1] = h->gid;
	h->list[2] = h->mode;
	h->list[3] = h->type;
	h->list[4] = (char *)"X-Incus-write: overwrite";
	h->list[5] = NULL;
}

static char *files_path(struct incus_client *c, const char *name, const char *path)
{
	return incus_pathf(c, "/1.0/instances/%s/files?path=%s", name, path);
}

/* A sync envelope from a files call, or the error it carries. */
static int files_result(struct incus_http_resp *resp, struct coi_error *err)
{
	struct incus_envelope e = {0};
	int r;

	r = incus_envelope_parse(resp->status, resp->body.data, resp->body.len, &e, err);
	incus_envelope_release(&e);
	return r;
}

static int file_post(struct incus_client *c, const char *name, const char *path,
                     struct incus_http *req, struct coi_error *err)
{
	_cleanup_free_ char *p = files_path(c, name, path);
	struct incus_http_resp resp;
	int r;

	if (!p)
		return coi_error_oom(err);
	req->method = "POST";
	req->path = p;
	req->content_type = "application/octet-stream";
	r = incus_http(c, req, &resp, err);
	if (r < 0)
		return r;
	r = files_result(&resp, err);
	incus_http_resp_release(&resp);
	if (r < 0)
		return coi_error_prefix(err, "cannot write '%s' in '%s'", path, name);
	return 0;
}

int incus_file_write(struct incus_client *c, const char *name, const char *path, const void *data,
                     size_t len, const struct incus_file_attrs *attrs, struct coi_error *err)
{
	struct file_hdrs h;
	struct incus_http req;

	file_hdrs_init(&h, attrs, "file", 0644);
	incus_http_init(&req, "POST", NULL);
	req.headers = h.list;
	req.body = len ? data : "";
	req.body_len = len;
	return file_post(c, name, path, &req, err);
}

int incus_file_mkdir(struct incus_client *c, const char *name, const char *path,
                     const struct incus_file_attrs *attrs, struct coi_error *err)
{
	struct file_hdrs h;
	struct incus_http req;

	file_hdrs_init(&h, attrs, "directory", 0755);
	incus_http_init(&req, "POST", NULL);
	req.headers = h.list;
	req.body = "";
	return file_post(c, name, path, &req, err);
}

int incus_file_mkdir_below(struct incus_client *c, const char *name, const char *path, size_t there,
                           const struct incus_file_attrs *attrs, struct coi_error *err)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return coi_error_oom(err);
	if (p[0] != '/' || !p[1] || there >= strlen(p))
		return 0;
	for (char *q = p + there + 1;; q++) {
		char ch = *q;
		int r;

		if (ch != '/' && ch != '\0')
			continue;
		*q = '\0';
		r = incus_file_mkdir(c, name, p, attrs, err);
		if (r < 0 && r != -EEXIST)
			return r;
		coi_error_clear(err);
		*q = ch;
		if (!ch)
			return 0;
	}
}

int incus_file_mkdir_p(struct incus_client *c, const char *name, const char *path,
                       const struct incus_file_attrs *attrs, struct coi_error *err)
{
	return incus_file_mkdir_below(c, name, path, 0, attrs, err);
}

static int push_symlink(struct incus_client *c, const char *name, const char *path,
                        const char *target, const struct incus_file_attrs *attrs,
                        struct coi_error *err)
{
	struct file_hdrs h;
	struct incus_http req;

	file_hdrs_init(&h, attrs, "symlink", 0777);
	incus_http_init(&req, "POST", NULL);
	req.headers = h.list;
	req.body = target;
	req.body_len = strlen(target);
	return file_post(c, name, path, &req, err);
}

int incus_file_delete(struct incus_client *c, const char *name, const char *path,
                      struct coi_error *err)
{
	_cleanup_free_ char *p = files_path(c, name, path);
	int r = incus_simple(c, "DELETE", p, NULL, NULL, NULL, err);

	return r < 0 ? coi_error_prefix(err, "cannot delete '%s' in '%s'", path, name) : 0;
}

/* GET path's files endpoint: 0 with *resp the daemon's 200 answer (the caller releases it), or
 * the failure, its message saying "cannot <what> 'path' in 'name'" */
static int files_get(struct incus_client *c, const char *name, const char *path, size_t body_max,
                     const char *what, struct incus_http_resp *resp, struct coi_error *err)
{
	_cleanup_free_ char *p = files_path(c, name, path);
	struct incus_http req;
	int r;

	if (!p)
		return coi_error_oom(err);
	incus_http_init(&req, "GET", p);
	req.body_max = body_max;
	r = incus_http(c, &req, resp, err);
	if (r < 0)
		return coi_error_prefix(err, "cannot %s '%s' in '%s'", what, path, name);
	if (resp->status == 200)
		return 0;
	r = files_result(resp, err);
	incus_http_resp_release(resp);
	if (r >= 0) /* not an error envelope, yet no answer either */
		r = -EPROTO;
	if (!err || !err->code)
		return coi_error_set(err, r, "cannot %s '%s' in '%s'", what, path, name);
	return r;
}

int incus_file_read(struct incus_client *c, const char *name, const char *path, struct buf *out,
                    struct coi_error *err)
{
	struct incus_http_resp resp;
	char type[32] = "";
	int r;

	/* room for an error envelope even when out is small; out's own ceiling applies below */
	r = files_get(c, name, path, out->max - out->len > 65536 ? out->max - out->len : 65536,
	              "read", &resp, err);
	if (r < 0)
		return r;
	(void)incus_http_header(&resp, "X-Incus-type", type, sizeof(type));
	if (strcmp(type, "file") != 0)
		r = coi_error_set(err, -EISDIR, "'%s' in '%s' is not a regular file", path, name);
	else
		r = buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len);
	incus_http_resp_release(&resp);
	if (r < 0 && (!err || !err->code))
		return coi_error_set(err, r, "cannot read '%s' in '%s'", path, name);
	return r < 0 ? r : 0;
}

int incus_file_stat(struct incus_client *c, const char *name, const char *path,
                    struct incus_file_stat *ret, struct coi_error *err)
{
	struct incus_http_resp resp;
	char uid[24] = "", gid[24] = "", mode[24] = "";
	struct incus_file_stat st = {0};
	int r;

	/* a directory's listing comes along; only the headers matter */
	r = files_get(c, name, path, 1u << 20, "look at", &resp, err);
	if (r < 0)
		return r;
	if (incus_http_header(&resp, "X-Incus-type", st.type, sizeof(st.type)) < 0 ||
	    incus_http_header(&resp, "X-Incus-uid", uid, sizeof(uid)) < 0 ||
	    incus_http_header(&resp, "X-Incus-gid", gid, sizeof(gid)) < 0 ||
	    incus_http_header(&resp, "X-Incus-mode", mode, sizeof(mode)) < 0) {
		r = coi_error_set(err, -EPROTO, "the daemon did not describe '%s' in '%s'", path,
		                  name);
	} else {
		st.uid = strtoll(uid, NULL, 10);
		st.gid = strtoll(gid, NULL, 10);
		st.mode = (int)strtol(mode, NULL, 8);
		*ret = st;
	}
	incus_http_resp_release(&resp);
	return r < 0 ? r : 0;
}

/* ---- push ---- */

static int push_fd(struct incus_client *c, const char *name, const char *remote, int fd,
                   const struct stat *st, const struct incus_file_attrs *attrs,
                   struct coi_error *err)
{
	struct incus_file_attrs a = attrs ? *attrs : (struct incus_file_attrs){-1, -1, -1};
	struct file_hdrs h;
	struct incus_http req;

	if (a.mode < 0)
		a.mode = (int)(st->st_mode & 0777);
	file_hdrs_init(&h, &a, "file", 0644);
	incus_http_init(&req, "POST", NULL);
	req.headers = h.list;
	req.body_fd = fd;
	req.body_size = (uint64_t)st->st_size;
	return file_post(c, name, remote, &req, err);
}

static int push_tree(struct incus_client *c, const char *name, int dirfd, const char *remote,
                     const struct incus_file_attrs *attrs, int depth, struct coi_error *err);

static int push_entry(struct incus_client *c, const char *name, int dirfd, const char *entry,
                      const char *remote, bool recursive, const struct incus_file_attrs *attrs,
                      int depth, struct coi_error *err)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	char target[4096];
	ssize_t n;

	if (fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return coi_error_errno(err, errno, "cannot stat '%s'", entry);
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dirfd, entry, target, sizeof(target) - 1);
		if (n < 0)
			return coi_error_errno(err, errno, "cannot read link '%s'", entry);
		target[n] = '\0';
		return push_symlink(c, name, remote, target, attrs, err);
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return 0; /* sockets, fifos, devices: nothing to copy */
	if (S_ISDIR(st.st_mode) && !recursive)
		return coi_error_set(err, -EISDIR, "'%s' is a directory (use -r)", entry);
	fd = openat(dirfd, entry,
	            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", entry);
	if (S_ISREG(st.st_mode))
		return push_fd(c, name, remote, fd, &st, attrs, err);
	return push_tree(c, name, TAKE_FD(fd), remote, attrs, depth + 1, err);
}

/* Pushes the directory dirfd (taken over) as remote. */
static int push_tree(struct incus_client *c, const char *name, int dirfd, const char *remote,
                     const struct incus_file_attrs *attrs, int depth, struct coi_error *err)
{
	struct incus_file_attrs a = attrs ? *attrs : (struct incus_file_attrs){-1, -1, -1};
	DIR *d;
	struct dirent *de;
	struct stat st;
	int r = 0;

	if (depth > PULL_DEPTH_MAX) {
		close(dirfd);
		return coi_error_set(err, -ELOOP, "'%s' is nested too deeply", remote);
	}
	if (fstat(dirfd, &st) == 0 && a.mode < 0)
		a.mode = (int)(st.st_mode & 0777);
	r = incus_file_mkdir(c, name, remote, &a, err);
	d = r < 0 ? NULL : fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return r < 0 ? r : coi_error_errno(err, errno, "cannot read directory");
	}
	while (r >= 0 && (de = readdir(d)) != NULL) {
		_cleanup_free_ char *child = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = path_join(remote, de->d_name);
		r = child ? push_entry(c, name, dirfd, de->d_name, child, true, attrs, depth, err)
		          : coi_error_oom(err);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

int incus_file_push(struct incus_client *c, const char *name, const char *local, const char *remote,
                    bool recursive, const struct incus_file_attrs *attrs, struct coi_error *err)
{
	_cleanup_free_ char *dir = strdup(local), *base = strdup(path_basename(local));
	_cleanup_close_ int dfd = -EBADF;
	char *slash;

	if (!dir || !base)
		return coi_error_oom(err);
	if (remote[0] != '/')
		return coi_error_set(err, -EINVAL, "'%s' is not an absolute path", remote);
	slash = strrchr(dir, '/');
	if (slash)
		slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return coi_error_errno(err, errno, "cannot open '%s'", slash ? dir : ".");
	return push_entry(c, name, dfd, base, remote, recursive, attrs, 0, err);
}

/* ---- pull ---- */

struct pull {
	struct incus_client *c;
	const char *name;
	int dropped;
	unsigned counter;
	const char *unless_only; /* a top directory holding just this entry is pulled empty */
};

static bool safe_entry_name(const char *n)
{
	return *n && strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && !strchr(n, '/');
}

static int pull_into(struct pull *p, const char *remote, int dirfd, const char *entry, int depth,
                     bool recursive, struct coi_error *err);

static int pull_dir(struct pull *p, const char *remote, const struct incus_http_resp *resp,
                    int dirfd, const char *entry, int depth, struct coi_error *err)
{
	_cleanup_json_ json_t *list = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct incus_envelope e;
	size_t i;
	json_t *v;
	int r;

	if (depth > PULL_DEPTH_MAX)
		return coi_error_set(err, -ELOOP, "'%s' is nested too deeply", remote);
	r = incus_envelope_parse(resp->status, resp->body.data, resp->body.len, &e, err);
	if (r < 0)
		return r;
	list = TAKE_PTR(e.metadata);
	incus_envelope_release(&e);
	if (mkdirat(dirfd, entry, 0755) < 0 && errno != EEXIST)
		return coi_error_errno(err, errno, "cannot create directory '%s'", entry);
	fd = openat(dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot open directory '%s'", entry);
	if (depth == 0 && p->unless_only && json_array_size(list) == 1 &&
	    json_string_value(json_array_get(list, 0)) &&
	    strcmp(json_string_value(json_array_get(list, 0)), p->unless_only) == 0)
		return 0;
	json_array_foreach(list, i, v) {
		const char *n = json_string_value(v);
		_cleanup_free_ char *child = NULL;

		if (!n || !safe_entry_name(n)) {
			p->dropped++;
			continue;
		}
		child = path_join(remote, n);
		if (!child)
			return coi_error_oom(err);
		r = pull_into(p, child, fd, n, depth + 1, true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A fresh temporary file in dirfd: the download lands there and is renamed over entry only when
 * it turned out to be a regular file, so a failed or non-file pull leaves entry as it was. */
static int tmp_create(struct pull *p, int dirfd, char name[static 64], struct coi_error *err)
{
	int fd;

	snprintf(name, 64, ".coi-pull-%d-%u", (int)getpid(), p->counter++);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return coi_error_errno(err, errno, "cannot create a file in the target directory");
	return fd;
}

static int pull_file_done(int fd, int dirfd, const char *tmp, const char *entry, const char *mode,
                          struct coi_error *err)
{
	if (fchmod(fd, (mode_t)strtoul(mode, NULL, 8) & 0777) < 0)
		return coi_error_errno(err, errno, "cannot set the mode of '%s'", entry);
	if (renameat(dirfd, tmp, dirfd, entry) < 0)
		return coi_error_errno(err, errno, "cannot create '%s'", entry);
	return 0;
}

static int pull_into(struct pull *p, const char *remote, int dirfd, const char *entry, int depth,
                     bool recursive, struct coi_error *err)
{
	_cleanup_free_ char *path = files_path(p->c, p->name, remote);
	_cleanup_close_ int fd = -EBADF;
	struct incus_http req;
	struct incus_http_resp resp;
	char type[32] = "", mode[16] = "0644", tmp[64];
	int r;

	if (!path)
		return coi_error_oom(err);
	fd = tmp_create(p, dirfd, tmp, err);
	if (fd < 0)
		return fd;
	incus_http_init(&req, "GET", path);
	req.out_fd = fd;
	req.out_max = FILE_MAX;
	req.out_header = "X-Incus-type";
	req.out_value = "file";
	/* the daemon reports a fifo as a "file" and blocks opening it: give up on it */
	req.stall_timeout = PULL_STALL_TIMEOUT;
	r = incus_http(p->c, &req, &resp, err);
	if (r < 0)
		(void)unlinkat(dirfd, tmp, 0);
	if (r == -ETIMEDOUT && depth > 0) {
		coi_error_clear(err);
		p->dropped++;
		return 0;
	}
	if (r < 0)
		return coi_error_prefix(err, "cannot pull '%s'", remote);
	(void)incus_http_header(&resp, "X-Incus-type", type, sizeof(type));
	(void)incus_http_header(&resp, "X-Incus-mode", mode, sizeof(mode));
	if (resp.status == 200 && strcmp(type, "file") == 0)
		r = pull_file_done(fd, dirfd, tmp, entry, mode, err);
	else if (resp.status != 200 && (r = files_result(&resp, err)) < 0)
		r = coi_error_prefix(err, "cannot pull '%s' from '%s'", remote, p->name);
	else if (strcmp(type, "directory") == 0 && recursive)
		r = pull_dir(p, remote, &resp, dirfd, entry, depth, err);
	else if (strcmp(type, "directory") == 0)
		r = coi_error_set(err, -EISDIR, "'%s' is a directory (use -r)", remote);
	else
		p->dropped++; /* symlinks and anything else are not copied */
	(void)unlinkat(dirfd, tmp, 0);
	incus_http_resp_release(&resp);
	return r < 0 ? r : 0;
}

static int pull(struct pull *p, const char *remote, const char *local, bool recursive,
                struct coi_error *err)
{
	_cleanup_free_ char *dir = strdup(local), *base = NULL;
	_cleanup_close_ int dfd = -EBADF;
	struct stat st;
	char *slash;
	int r;

	if (!dir)
		return coi_error_oom(err);
	/* into an existing local directory: keep the remote name */
	if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
		dfd = open(local, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		base = strdup(path_basename(remote));
	} else {
		slash = strrchr(dir, '/');
		if (slash)
			slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
		dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		base = strdup(path_basename(local));
	}
	if (dfd < 0)
		return coi_error_errno(err, errno, "cannot open the directory of '%s'", local);
	if (!base)
		return coi_error_oom(err);
	if (!safe_entry_name(base))
		return coi_error_set(err, -EINVAL, "cannot pull to '%s'", local);
	r = pull_into(p, remote, dfd, base, 0, recursive, err);
	return r < 0 ? r : p->dropped;
}

int incus_file_pull(struct incus_client *c, const char *name, const char *remote, const char *local,
                    bool recursive, struct coi_error *err)
{
	return pull(&(struct pull){.c = c, .name = name}, remote, local, recursive, err);
}

int incus_file_pull_unless(struct incus_client *c, const char *name, const char *remote,
                           const char *local, const char *only, struct coi_error *err)
{
	return pull(&(struct pull){.c = c, .name = name, .unless_only = only}, remote, local, true,
	            err);
}
