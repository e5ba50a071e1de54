/* SPDX-License-Identifier: MIT */
/* filewatch.c: a container's credential and persistence files, watched from the host with
 * fanotify (sources.h). Marks are inode marks, made through /proc/<init>/root with
 * openat2(RESOLVE_IN_ROOT):
 *  - credentials: each file that exists (so a hard link elsewhere is watched too) and, with
 *    FAN_EVENT_ON_CHILD, the directories that hold them (a key written later is watched from
 *    its first open). Keys and tokens get permission events: the open waits until the monitor
 *    has judged it, and is refused when the finding pauses or kills the container.
 *  - persistence (shell startup files, cron, systemd units, authorized_keys, ld.so.preload):
 *    FAN_CLOSE_WRITE on the directories that hold them; what a write added is read from the
 *    event's own descriptor and compared with the content seen before. A file replaced by a
 *    rename (sed -i) is caught by the next rescan's comparison, without the writer's pid.
 * Files that appear later are marked by filewatch_rescan(). The reader never opens a file
 * that has a permission mark: it would wait for its own verdict. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor/sources.h"
#include "util/cleanup.h"

#define HOMES_MAX   32   /* /home/<user> directories looked at */
#define DIR_ENTRIES 512  /* entries marked per credential directory */
#define WS_ENTRIES  8000 /* workspace entries looked at per scan */
#define WS_DEPTH    4
#define EVENT_BUF   16384
#define MARKED_MAX  1024 /* files remembered by inode, so a hard link is judged as the file */
#define SNAP_MAX    64   /* persistence files whose content is kept */
#define SNAP_BYTES  (64u << 10)
#define ADDED_BYTES 4096 /* what a write added, as reported */

struct marked {
	dev_t dev;
	ino_t ino;
	char *path; /* inside the container */
};

/* A persistence file's content as last seen, to tell what a write added. */
struct snap {
	char *path;
	char *text; /* NULL: not seen yet (every line of its first version is new) */
};

struct file_watch {
	int fan;
	int root; /* O_PATH of the container's root */
	bool perm;
	char *workspace;       /* inside the container, e.g. "/workspace"; NULL: none */
	char prefix[PATH_MAX]; /* the root as the kernel prints it for us ("" for "/") */
	unsigned marks;
	struct marked marked[MARKED_MAX];
	size_t n_marked;
	struct snap snaps[SNAP_MAX];
	size_t n_snaps;
	int ino; /* inotify on the directories above the watched ones (-EBADF: none) */
};

enum spec_kind { SPEC_CRED, SPEC_PERSIST };

/* A directory (ON_CHILD: the files in it) or a file, under each home ("~/") or absolute. */
struct spec {
	const char *path;
	bool dir;
	enum spec_kind kind;
};

/* clang-format off */
static const struct spec specs[] = {
	{ "~/.ssh", true, SPEC_CRED },
	{ "~/.aws", true, SPEC_CRED },
	{ "~/.aws/sso/cache", true, SPEC_CRED },
	{ "~/.azure", true, SPEC_CRED },
	{ "~/.config/gcloud", true, SPEC_CRED },
	{ "~/.config/gcloud/legacy_credentials", true, SPEC_CRED },
	{ "~/.gnupg/private-keys-v1.d", true, SPEC_CRED },
	{ "~/.password-store", true, SPEC_CRED },
	{ "~/.local/share/keyrings", true, SPEC_CRED },
	{ "~/.config/google-chrome/Default", true, SPEC_CRED },
	{ "~/.config/chromium/Default", true, SPEC_CRED },
	{ "~/.config/BraveSoftware/Brave-Browser/Default", true, SPEC_CRED },
	{ "~/.mozilla/firefox", true, SPEC_CRED }, /* and each profile directory below */
	{ "~/.git-credentials", false, SPEC_CRED },
	{ "~/.config/git/credentials", false, SPEC_CRED },
	{ "~/.kube/config", false, SPEC_CRED },
	{ "~/.docker/config.json", false, SPEC_CRED },
	{ "~/.gnupg/secring.gpg", false, SPEC_CRED },
	{ "~/.config/gh/hosts.yml", false, SPEC_CRED },
	{ "~/.claude/.credentials.json", false, SPEC_CRED },
	{ "~/.codex/auth.json", false, SPEC_CRED },
	{ "~/.local/share/opencode/auth.json", false, SPEC_CRED },
	{ "~/.gemini/oauth_creds.json", false, SPEC_CRED },
	{ "~/.vault-token", false, SPEC_CRED },
	{ "~/.netrc", false, SPEC_CRED },
	{ "~/.npmrc", false, SPEC_CRED },
	{ "~/.pypirc", false, SPEC_CRED },
	{ "~/.pgpass", false, SPEC_CRED },
	{ "~/.env", false, SPEC_CRED },
	{ "/etc/shadow", false, SPEC_CRED },
	{ "/etc/gshadow", false, SPEC_CRED },
	{ "/etc/ssh", true, SPEC_CRED },
	/* persistence: the directories whose files are written, judged by name (rules.h) */
	{ "~", true, SPEC_PERSIST },
	{ "~/.ssh", true, SPEC_PERSIST }, /* authorized_keys, rc */
	{ "~/.config/fish", true, SPEC_PERSIST },
	{ "~/.config/systemd/user", true, SPEC_PERSIST },
	{ "~/.config/autostart", true, SPEC_PERSIST },
	{ "/etc", true, SPEC_PERSIST },
	{ "/etc/profile.d", true, SPEC_PERSIST },
	{ "/etc/cron.d", true, SPEC_PERSIST },
	{ "/etc/cron.hourly", true, SPEC_PERSIST },
	{ "/etc/cron.daily", true, SPEC_PERSIST },
	{ "/var/spool/cron/crontabs", true, SPEC_PERSIST },
	{ "/etc/systemd/system", true, SPEC_PERSIST },
	{ "/etc/sudoers.d", true, SPEC_PERSIST },
	{ "/etc/ld.so.conf.d", true, SPEC_PERSIST },
};
/* clang-format on */

typedef bool (*event_fn)(const struct file_event *ev, void *userdata);

static int open_in_root(const struct file_watch *w, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};

	return (int)syscall(SYS_openat2, w->root, path, &how, sizeof(how));
}

/* Marks the inode open on fd (an O_PATH fd: fanotify_mark resolves the magic link). */
static int mark_fd(struct file_watch *w, int fd, uint64_t mask)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (fanotify_mark(w->fan, FAN_MARK_ADD, mask, AT_FDCWD, self) < 0)
		return -errno;
	w->marks++;
	return 0;
}

static const char *remembered(const struct file_watch *w, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < w->n_marked; i++)
		if (w->marked[i].dev == dev && w->marked[i].ino == ino)
			return w->marked[i].path;
	return NULL;
}

static void remember(struct file_watch *w, const struct stat *st, const char *path)
{
	char *p;

	if (w->n_marked >= MARKED_MAX || remembered(w, st->st_dev, st->st_ino) ||
	    !(p = strdup(path)))
		return;
	w->marked[w->n_marked++] = (struct marked){st->st_dev, st->st_ino, p};
}

static uint64_t open_mask(const struct file_watch *w)
{
	return w->perm ? FAN_OPEN_PERM : FAN_OPEN;
}

/* A credential file: a permission mark (for keys and tokens) or a notification (.env). */
static int mark_cred_file(struct file_watch *w, const char *path)
{
	_cleanup_close_ int fd = open_in_root(w, path, O_PATH | O_NOFOLLOW);
	enum cred_file k = rules_cred_file(path);
	struct stat st;

	if (k == CRED_FILE_NONE || fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	remember(w, &st, path);
	return mark_fd(w, fd, k == CRED_FILE_ENV ? FAN_OPEN : open_mask(w));
}

static int mark_dir(struct file_watch *w, const char *path, uint64_t mask)
{
	_cleanup_close_ int fd = open_in_root(w, path, O_PATH | O_DIRECTORY);

	if (fd < 0)
		return -ENOENT;
	return mark_fd(w, fd, mask | FAN_EVENT_ON_CHILD);
}

/* ---- persistence snapshots --------------------------------------------------------------- */

static struct snap *snap_find(struct file_watch *w, const char *path, bool create)
{
	for (size_t i = 0; i < w->n_snaps; i++)
		if (strcmp(w->snaps[i].path, path) == 0)
			return &w->snaps[i];
	if (!create || w->n_snaps >= SNAP_MAX)
		return NULL;
	w->snaps[w->n_snaps].path = strdup(path);
	w->snaps[w->n_snaps].text = NULL;
	return w->snaps[w->n_snaps].path ? &w->snaps[w->n_snaps++] : NULL;
}

/* Up to SNAP_BYTES of fd from its start, NUL-terminated; NULL on failure. */
static char *read_fd(int fd)
{
	char *t = malloc(SNAP_BYTES + 1);
	size_t len = 0;
	ssize_t n;

	if (!t)
		return NULL;
	while (len < SNAP_BYTES && (n = pread(fd, t + len, SNAP_BYTES - len, (off_t)len)) > 0)
		len += (size_t)n;
	t[len] = 0;
	return t;
}

/* The lines of now that were not in before, into out ("" when none). */
static void added_lines(const char *before, const char *now, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (const char *l = now; *l && len + 1 < size; l = strchrnul(l, '\n'), l += !!*l) {
		size_t n = strcspn(l, "\n");
		bool old = false;

		if (n == 0)
			continue;
		for (const char *b = before; b && *b && !old; b = strchrnul(b, '\n'), b += !!*b)
			old = strcspn(b, "\n") == n && strncmp(b, l, n) == 0;
		if (old)
			continue;
		len += (size_t)snprintf(out + len, size - len, "%.*s\n", (int)n, l);
		if (len >= size)
			len = size - 1;
	}
}

/* New content of a persistence file: what it added since the last look, the snapshot updated.
 * Returns false when nothing was added. */
static bool snap_update(struct file_watch *w, const char *path, int fd, char *added, size_t size)
{
	struct snap *s = snap_find(w, path, true);
	char *now = read_fd(fd);

	added[0] = 0;
	if (!now)
		return false;
	added_lines(s ? s->text : NULL, now, added, size);
	if (s) {
		free(s->text);
		s->text = now;
	} else {
		free(now);
	}
	return added[0] != 0;
}

/* Whether this process may open path itself: never a file that may carry a permission mark
 * (it would wait for its own verdict). */
static bool may_open(const char *path)
{
	return !strstr(path, "/.ssh/") && strncmp(path, "/etc/ssh/", 9) != 0 &&
	       rules_cred_file(path) == CRED_FILE_NONE;
}

/* The first look at a persistence file: its content as it is. */
static void snap_take(struct file_watch *w, const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	struct snap *s;

	if (rules_persist_file(path) == PERSIST_NONE || !may_open(path) ||
	    (s = snap_find(w, path, false)))
		return;
	fd = open_in_root(w, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0 && (s = snap_find(w, path, true)))
		s->text = read_fd(fd);
}

/* ---- marking ----------------------------------------------------------------------------- */

/* A credential directory: the directory (new files) and each credential file in it (hard
 * links); firefox's profiles are a level further down. */
static void mark_cred_dir(struct file_watch *w, const char *path, int depth)
{
	_cleanup_close_ int fd = open_in_root(w, path, O_RDONLY | O_DIRECTORY);
	DIR *d;
	struct dirent *e;

	if (fd < 0 || mark_dir(w, path, open_mask(w)) < 0)
		return;
	d = fdopendir(TAKE_FD(fd));
	for (int i = 0; d && i < DIR_ENTRIES && (e = readdir(d)); i++) {
		char child[PATH_MAX];

		if (e->d_name[0] == '.' ||
		    snprintf(child, sizeof(child), "%s/%s", path, e->d_name) >= (int)sizeof(child))
			continue;
		if (e->d_type == DT_REG)
			(void)mark_cred_file(w, child);
		else if (e->d_type == DT_DIR && depth == 0 && strstr(path, "/.mozilla/firefox"))
			mark_cred_dir(w, child, depth + 1);
	}
	if (d)
		closedir(d);
}

/* A persistence file first seen by a rescan (moved in, or written before the directory was
 * watched): reported with all its lines as added, pid 0. */
static void persist_new(struct file_watch *w, const char *path, event_fn cb, void *userdata)
{
	_cleanup_close_ int fd = -EBADF;
	char added[ADDED_BYTES];

	if (!may_open(path) || snap_find(w, path, false))
		return;
	fd = open_in_root(w, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0 && snap_update(w, path, fd, added, sizeof(added)))
		(void)cb(
		        &(struct file_event){
		                .path = path, .opened = path, .written = true, .added = added},
		        userdata);
}

/* A persistence directory: FAN_CLOSE_WRITE of its files; the content of those whose name
 * counts, for comparison (taken at the first scan; a later scan reports the new ones). */
static void mark_persist_dir(struct file_watch *w, const char *path, event_fn cb, void *userdata)
{
	_cleanup_close_ int fd = open_in_root(w, path, O_RDONLY | O_DIRECTORY);
	DIR *d;
	struct dirent *e;

	if (fd < 0 || mark_dir(w, path, FAN_CLOSE_WRITE) < 0)
		return;
	d = fdopendir(TAKE_FD(fd));
	for (int i = 0; d && i < DIR_ENTRIES && (e = readdir(d)); i++) {
		char child[PATH_MAX];
		int n = snprintf(child, sizeof(child), "%s/%s", path, e->d_name);

		if (e->d_type != DT_REG || n >= (int)sizeof(child) ||
		    rules_persist_file(child) == PERSIST_NONE)
			continue;
		if (cb)
			persist_new(w, child, cb, userdata);
		else
			snap_take(w, child);
	}
	if (d)
		closedir(d);
}

static void mark_spec(struct file_watch *w, const struct spec *s, const char *home, event_fn cb,
                      void *userdata)
{
	char path[PATH_MAX];

	if (s->path[0] == '~') {
		if (!home ||
		    snprintf(path, sizeof(path), "%s%s", home, s->path + 1) >= (int)sizeof(path))
			return;
	} else {
		snprintf(path, sizeof(path), "%s", s->path);
	}
	if (s->kind == SPEC_PERSIST)
		mark_persist_dir(w, path, cb, userdata);
	else if (s->dir)
		mark_cred_dir(w, path, 0);
	else
		(void)mark_cred_file(w, path);
}

/* The directories a watched one may appear in: for "~/.config/gcloud/legacy_credentials", the
 * home, ~/.config and ~/.config/gcloud. inotify tells when anything is created or moved into
 * them, and the watch is rescanned, so credentials written after the session began (copied in by
 * coi, or a login) are marked before their first use. */
static void watch_parents(struct file_watch *w, const char *home)
{
	for (size_t i = 0; w->ino >= 0 && i < ELEMENTSOF(specs); i++) {
		char path[PATH_MAX];
		const char *rel = specs[i].path;

		if ((rel[0] == '~') != (home != NULL))
			continue;
		if (snprintf(path, sizeof(path), "%s%s", home ? home : "", home ? rel + 1 : rel) >=
		    (int)sizeof(path))
			continue;
		/* each ancestor below the home (or /), and the directory itself */
		for (char *slash = path + (home ? strlen(home) : 0); slash;
		     slash = *slash ? strchr(slash + 1, '/') : NULL) {
			char saved = *slash;
			_cleanup_close_ int fd = -EBADF;
			char self[64];

			*slash = 0;
			fd = open_in_root(w, *path ? path : "/", O_PATH | O_DIRECTORY);
			*slash = saved;
			if (fd < 0)
				break;
			snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
			(void)inotify_add_watch(w->ino, self, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
		}
		if (specs[i].dir) {
			_cleanup_close_ int fd = open_in_root(w, path, O_PATH | O_DIRECTORY);
			char self[64];

			snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
			if (fd >= 0)
				(void)inotify_add_watch(w->ino, self,
				                        IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
		}
	}
}

/* The homes: /root and /home/<each>. */
static void each_home(struct file_watch *w, event_fn cb, void *userdata)
{
	_cleanup_close_ int fd = open_in_root(w, "/home", O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(TAKE_FD(fd)) : NULL;
	struct dirent *e;

	for (size_t i = 0; i < ELEMENTSOF(specs); i++)
		if (specs[i].path[0] == '~')
			mark_spec(w, &specs[i], "/root", cb, userdata);
	watch_parents(w, "/root");
	for (int n = 0; d && n < HOMES_MAX && (e = readdir(d));) {
		char home[300];

		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		snprintf(home, sizeof(home), "/home/%s", e->d_name);
		for (size_t i = 0; i < ELEMENTSOF(specs); i++)
			if (specs[i].path[0] == '~')
				mark_spec(w, &specs[i], home, cb, userdata);
		watch_parents(w, home);
		n++;
	}
	if (d)
		closedir(d);
}

static bool skip_dir(const char *name)
{
	static const char *const heavy[] = {"node_modules", ".git",   "target", "vendor",
	                                    "dist",         "build",  ".venv",  "venv",
	                                    "__pycache__",  ".cache", ".next",  NULL};

	for (size_t i = 0; heavy[i]; i++)
		if (strcmp(name, heavy[i]) == 0)
			return true;
	return false;
}

/* The project's own secrets (.env files, private keys), a bounded walk that skips dependency and
 * build trees. */
static void scan_workspace(struct file_watch *w, const char *dir, int depth, int *budget)
{
	_cleanup_close_ int fd = open_in_root(w, dir, O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(TAKE_FD(fd)) : NULL;
	struct dirent *e;

	while (d && *budget > 0 && (e = readdir(d))) {
		char path[PATH_MAX];

		(*budget)--;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (e->d_type == DT_DIR && depth < WS_DEPTH && !skip_dir(e->d_name))
			scan_workspace(w, path, depth + 1, budget);
		else if (e->d_type == DT_REG && rules_cred_file(path) != CRED_FILE_NONE)
			(void)mark_cred_file(w, path);
	}
	if (d)
		closedir(d);
}

/* cb NULL: the first scan (the persistence files are taken as they are); else a rescan, which
 * reports persistence files it sees for the first time. */
static void scan(struct file_watch *w, event_fn cb, void *userdata)
{
	int budget = WS_ENTRIES;

	each_home(w, cb, userdata);
	for (size_t i = 0; i < ELEMENTSOF(specs); i++)
		if (specs[i].path[0] == '/')
			mark_spec(w, &specs[i], NULL, cb, userdata);
	watch_parents(w, NULL);
	if (w->workspace)
		scan_workspace(w, w->workspace, 0, &budget);
}

/* Persistence files changed since their snapshot without a write event of their own (replaced
 * by a rename): reported with pid 0. */
static void compare_snaps(struct file_watch *w, event_fn cb, void *userdata)
{
	for (size_t i = 0; i < w->n_snaps; i++) {
		_cleanup_close_ int fd = -EBADF;
		char added[ADDED_BYTES];

		if (!may_open(w->snaps[i].path))
			continue;
		fd = open_in_root(w, w->snaps[i].path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0 && snap_update(w, w->snaps[i].path, fd, added, sizeof(added)))
			(void)cb(&(struct file_event){.path = w->snaps[i].path,
			                              .opened = w->snaps[i].path,
			                              .written = true,
			                              .added = added},
			         userdata);
	}
}

int filewatch_rescan(struct file_watch *w, bool (*cb)(const struct file_event *ev, void *userdata),
                     void *userdata)
{
	unsigned before = w->marks;

	if (cb)
		compare_snaps(w, cb, userdata);
	scan(w, cb, userdata);
	return (int)(w->marks - before);
}

int filewatch_open(const char *root, const char *workspace, bool perm, struct file_watch **ret)
{
	struct file_watch *w = calloc(1, sizeof(*w));
	unsigned cls = perm ? FAN_CLASS_CONTENT : FAN_CLASS_NOTIF;
	char self[64];
	ssize_t n;
	int r;

	if (!w)
		return -ENOMEM;
	w->perm = perm;
	w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ino < 0)
		w->ino = -EBADF; /* then rescans alone find new files */
	w->root = open(root, O_PATH | O_CLOEXEC | O_DIRECTORY);
	w->fan =
	        fanotify_init(cls | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (w->root < 0 || w->fan < 0) {
		r = -errno;
		filewatch_free(w);
		return r;
	}
	if (workspace && !(w->workspace = strdup(workspace))) {
		filewatch_free(w);
		return -ENOMEM;
	}
	/* A container's root reads as "/" (its mounts are not in our tree: the kernel prints
	 * their paths from their own root); another directory as itself. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", w->root);
	n = readlink(self, w->prefix, sizeof(w->prefix) - 1);
	w->prefix[n > 1 ? n : 0] = 0;
	scan(w, NULL, NULL);
	*ret = w;
	return 0;
}

struct file_watch *filewatch_free(struct file_watch *w)
{
	if (!w)
		return NULL;
	if (w->fan >= 0)
		close(w->fan);
	if (w->ino >= 0)
		close(w->ino);
	if (w->root >= 0)
		close(w->root);
	free(w->workspace);
	for (size_t i = 0; i < w->n_marked; i++)
		free(w->marked[i].path);
	for (size_t i = 0; i < w->n_snaps; i++) {
		free(w->snaps[i].path);
		free(w->snaps[i].text);
	}
	free(w);
	return NULL;
}

int filewatch_fd(const struct file_watch *w)
{
	return w->fan;
}

int filewatch_inotify_fd(const struct file_watch *w)
{
	return w->ino;
}

int filewatch_changed(struct file_watch *w)
{
	char buf[4096] __attribute__((aligned(8)));
	int n = 0;

	for (int i = 0; i < 64 && read(w->ino, buf, sizeof(buf)) > 0; i++)
		n++;
	return n;
}

unsigned filewatch_marks(const struct file_watch *w)
{
	return w->marks;
}

/* One event: an open (judged by the callback, and answered when it waits for a verdict), and
 * for a write of a persistence file, what it added (read from the event's own descriptor). */
static void one_event(struct file_watch *w, const struct fanotify_event_metadata *m,
                      bool (*cb)(const struct file_event *ev, void *userdata), void *userdata)
{
	char self[64], path[PATH_MAX] = "", added[ADDED_BYTES] = "";
	struct file_event ev = {.pid = m->pid, .perm = m->mask & FAN_OPEN_PERM};
	bool allow = true, mine = m->pid == getpid();
	struct stat st;
	ssize_t n;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", m->fd);
	n = readlink(self, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = 0;
	if (w->prefix[0] && strncmp(path, w->prefix, strlen(w->prefix)) == 0)
		memmove(path, path + strlen(w->prefix), strlen(path + strlen(w->prefix)) + 1);
	ev.path = ev.opened = path;
	if (fstat(m->fd, &st) == 0 && remembered(w, st.st_dev, st.st_ino))
		ev.path = remembered(w, st.st_dev, st.st_ino); /* a hard link is the file */
	if ((m->mask & (FAN_OPEN | FAN_OPEN_PERM)) && !mine) {
		char head[256];
		ssize_t k = pread(m->fd, head, sizeof(head) - 1, 0);

		/* what a file in ~/.ssh is: a key says so in its first line */
		head[k > 0 ? k : 0] = 0;
		ev.private_key = k > 0 && strstr(head, "PRIVATE KEY");
		allow = cb(&ev, userdata);
	}
	if (ev.perm) {
		struct fanotify_response r = {.fd = m->fd,
		                              .response = allow ? FAN_ALLOW : FAN_DENY};

		/* if this fails the open stays blocked until our fd closes */
		(void)!write(w->fan, &r, sizeof(r));
	}
	if ((m->mask & FAN_CLOSE_WRITE) && !mine && rules_persist_file(path) != PERSIST_NONE &&
	    snap_update(w, path, m->fd, added, sizeof(added))) {
		ev.path = path;
		ev.perm = false;
		ev.written = true;
		ev.added = added;
		(void)cb(&ev, userdata);
	}
}

int filewatch_read(struct file_watch *w, bool (*cb)(const struct file_event *ev, void *userdata),
                   void *userdata)
{
	char buf[EVENT_BUF] __attribute__((aligned(8)));
	int count = 0;

	for (int round = 0; round < 16; round++) {
		ssize_t len = read(w->fan, buf, sizeof(buf));
		const struct fanotify_event_metadata *m = (const void *)buf;

		if (len <= 0)
			return len < 0 && errno != EAGAIN ? -errno : count;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION)
				return -EPROTO;
			if (m->fd < 0) /* FAN_NOFD: a queue overflow */
				continue;
			count++;
			one_event(w, m, cb, userdata);
			close(m->fd);
		}
	}
	return count;
}
