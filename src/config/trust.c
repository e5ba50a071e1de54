/* SPDX-License-Identifier: MIT */
/* trust.c: approvals of project configuration files, pinned by content hash (see trust.h). The
 * record's file name is derived from the absolute path, so one path has at most one approval. */
#include "config/trust.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/path.h"

#define TRUST_RECORD_MAX (64 * 1024)
#define TRUST_FILE_MAX   (1 << 20)

const char *trust_state_to_string(enum trust_state s)
{
	static const char *const names[_TRUST_STATE_MAX] = {
	        [TRUST_APPROVED] = "approved",
	        [TRUST_CHANGED] = "changed",
	        [TRUST_MISSING] = "missing",
	};

	return s < _TRUST_STATE_MAX ? names[s] : "unknown";
}

static char *trust_dir(void)
{
	_cleanup_free_ char *dir = coi_dir();

	return dir ? path_join(dir, "trust") : NULL;
}

/* coi_dir()/trust/<sha256(path)>.json */
static int record_path(const char *path, char **ret, struct coi_error *err)
{
	_cleanup_free_ char *dir = trust_dir();
	char hex[SHA256_HEX_LEN + 1], name[SHA256_HEX_LEN + 8];

	if (!dir)
		return coi_error_oom(err);
	if (sha256_hex(path, strlen(path), hex) < 0)
		return coi_error_set(err, -EIO, "cannot hash '%s'", path);
	snprintf(name, sizeof(name), "%s.json", hex);
	*ret = path_join(dir, name);
	return *ret ? 0 : coi_error_oom(err);
}

static int file_sha256(const char *path, char out[SHA256_HEX_LEN + 1], struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(TRUST_FILE_MAX);
	int r = read_file(path, &b, err);

	if (r < 0)
		return r;
	if (sha256_hex(b.data, b.len, out) < 0)
		return coi_error_set(err, -EIO, "cannot hash '%s'", path);
	return 0;
}

/* Read one record; the pinned hash must look like one. */
static int record_read(const char *file, json_t **ret, struct coi_error *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(TRUST_RECORD_MAX);
	json_t *j = NULL;
	const char *sha;
	int r;

	r = read_file(file, &b, err);
	if (r < 0)
		return r;
	r = json_parse(b.data, b.len, &j, err);
	if (r < 0)
		return r;
	sha = json_get_str(j, "sha256");
	if (!json_get_str(j, "path") || !sha || strlen(sha) != SHA256_HEX_LEN) {
		json_decref(j);
		return coi_error_set(err, -EBADMSG, "'%s' is not a trust record", file);
	}
	*ret = j;
	return 0;
}

int trust_check(const char *path, const void *data, size_t len)
{
	_cleanup_free_ char *file = NULL;
	_cleanup_json_ json_t *j = NULL;
	char hex[SHA256_HEX_LEN + 1];

	if (record_path(path, &file, NULL) < 0 || record_read(file, &j, NULL) < 0)
		return 0;
	if (strcmp(json_get_str(j, "path"), path) != 0)
		return 0;
	if (sha256_hex(data, len, hex) < 0)
		return 0;
	return strcmp(json_get_str(j, "sha256"), hex) == 0;
}

int trust_approve(const char *path, char ret_sha256[SHA256_HEX_LEN + 1], struct coi_error *err)
{
	_cleanup_free_ char *abs = NULL, *file = NULL, *dir = NULL, *text = NULL;
	_cleanup_json_ json_t *j = NULL;
	char hex[SHA256_HEX_LEN + 1], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	abs = realpath(path, NULL);
	if (!abs)
		return coi_error_errno(err, errno, "cannot find '%s'", path);
	r = file_sha256(abs, hex, err);
	if (r < 0)
		return r;
	r = record_path(abs, &file, err);
	if (r < 0)
		return r;
	dir = trust_dir();
	if (!dir)
		return coi_error_oom(err);
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return coi_error_errno(err, r, "cannot create '%s'", dir);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	j = json_pack("{s:s, s:s, s:s}", "path", abs, "sha256", hex, "approved_at", when);
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (!text)
		return coi_error_oom(err);
	r = write_file_atomic(file, text, strlen(text), 0600, err);
	if (r < 0)
		return r;
	if (ret_sha256)
		memcpy(ret_sha256, hex, sizeof(hex));
	return 0;
}

int trust_revoke(const char *path, struct coi_error *err)
{
	_cleanup_free_ char *abs = NULL, *file = NULL;
	int r;

	abs = realpath(path, NULL);
	if (!abs) {
		r = path_absolute(path, &abs, err);
		if (r < 0)
			return r;
	}
	r = record_path(abs, &file, err);
	if (r < 0)
		return r;
	if (unlink(file) < 0) {
		if (errno == ENOENT)
			return 0;
		return coi_error_errno(err, errno, "cannot remove '%s'", file);
	}
	return 1;
}

void trust_entries_free(struct trust_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].path);
		free(e[i].approved_at);
	}
	free(e);
}

static int entry_add(struct trust_entry **v, size_t *n, const json_t *j)
{
	struct trust_entry *e = reallocarray(*v, *n + 1, sizeof(**v));
	struct trust_entry *ne;
	char hex[SHA256_HEX_LEN + 1];
	const char *when = json_get_str(j, "approved_at");

	if (!e)
		return -ENOMEM;
	*v = e;
	ne = &e[*n];
	*ne = (struct trust_entry){0};
	ne->path = strdup(json_get_str(j, "path"));
	ne->approved_at = strdup(when ? when : "");
	if (!ne->path || !ne->approved_at) {
		free(ne->path);
		free(ne->approved_at);
		return -ENOMEM;
	}
	memcpy(ne->sha256, json_get_str(j, "sha256"), sizeof(ne->sha256));
	if (file_sha256(ne->path, hex, NULL) < 0)
		ne->state = TRUST_MISSING;
	else
		ne->state = strcmp(hex, ne->sha256) == 0 ? TRUST_APPROVED : TRUST_CHANGED;
	(*n)++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct trust_entry *)a)->path, ((const struct trust_entry *)b)->path);
}

int trust_list(struct trust_entry **ret, size_t *ret_n, struct coi_error *err)
{
	_cleanup_free_ char *dir = trust_dir();
	struct trust_entry *v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (!dir)
		return coi_error_oom(err);
	d = opendir(dir);
	if (!d && errno != ENOENT)
		return coi_error_errno(err, errno, "cannot open '%s'", dir);
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *file = NULL;
		_cleanup_json_ json_t *j = NULL;
		size_t len = strlen(de->d_name);

		if (len != SHA256_HEX_LEN + 5 || strcmp(de->d_name + SHA256_HEX_LEN, ".json") != 0)
			continue;
		file = path_join(dir, de->d_name);
		if (!file || (record_read(file, &j, NULL) == 0 && entry_add(&v, &n, j) < 0)) {
			closedir(d);
			trust_entries_free(v, n);
			return coi_error_oom(err);
		}
	}
	if (d)
		closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), entry_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}
