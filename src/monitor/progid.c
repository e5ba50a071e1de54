/* SPDX-License-Identifier: MIT */
/* progid.c: the container's shells and interpreters, known by file and by ELF build-id, and the
 * class of a process's binary (progid.h). Everything is read through /proc/<init>/root with
 * openat2(RESOLVE_IN_ROOT), so a symlink the agent plants cannot lead the scan outside the
 * container. */
#include "monitor/progid.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

#define KNOWN_MAX      128
#define CACHE_SIZE     512   /* files seen, by (dev, ino) hash */
#define HEAD_MAX       65536 /* the build-id note lies in the first pages of a binary */
#define DIR_MAX        4096  /* entries read per directory */
#define MULTI_CHUNK    (64 * 1024)
#define MULTI_SCAN_MAX (16 * 1024 * 1024)

struct known {
	uint8_t id[PROGID_BUILD_ID_MAX];
	int id_len; /* 0: no build-id, matched by file only */
	dev_t dev;
	ino_t ino;
	enum prog_class cls;
	char name[32];
};

struct cached {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	off_t size;
	int known; /* index into known[], -1: not one of them */
	bool used;
};

struct progid {
	struct known known[KNOWN_MAX];
	size_t n;
	struct {
		dev_t dev;
		ino_t ino;
		bool set, is;
	} multi_seen; /* the last file read for a banner: busybox's hundreds of links are one */
	struct cached cache[CACHE_SIZE];
};

/* ---- ELF ----------------------------------------------------------------------------------- */

/* The build-id among the notes in img[off, off + size). */
static int notes_build_id(const uint8_t *img, size_t off, size_t size, size_t align, uint8_t *out)
{
	size_t end = off + size;

	while (off + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr nh;
		size_t name_at, desc_at, next;

		memcpy(&nh, img + off, sizeof(nh));
		name_at = off + sizeof(nh);
		desc_at = name_at + ((nh.n_namesz + align - 1) & ~(align - 1));
		next = desc_at + ((nh.n_descsz + align - 1) & ~(align - 1));
		if (nh.n_namesz > end || nh.n_descsz > end || desc_at > end || next > end ||
		    desc_at < name_at || next < desc_at)
			return -ENOENT;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp(img + name_at, "GNU", 4) == 0 && nh.n_descsz > 0 &&
		    nh.n_descsz <= PROGID_BUILD_ID_MAX) {
			memcpy(out, img + desc_at, nh.n_descsz);
			return (int)nh.n_descsz;
		}
		off = next;
	}
	return -ENOENT;
}

int elf_build_id(const uint8_t *img, size_t len, uint8_t out[static PROGID_BUILD_ID_MAX])
{
	bool is64;
	uint64_t phoff;
	size_t phentsize, phnum;

	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (img[EI_DATA] != ELFDATA2LSB ||
	    (img[EI_CLASS] != ELFCLASS64 && img[EI_CLASS] != ELFCLASS32))
		return -ENOENT; /* only the little-endian ones this host runs */
	is64 = img[EI_CLASS] == ELFCLASS64;
	if (is64) {
		Elf64_Ehdr eh;

		if (len < sizeof(eh))
			return -ENOEXEC;
		memcpy(&eh, img, sizeof(eh));
		phoff = eh.e_phoff, phentsize = eh.e_phentsize, phnum = eh.e_phnum;
	} else {
		Elf32_Ehdr eh;

		if (len < sizeof(eh))
			return -ENOEXEC;
		memcpy(&eh, img, sizeof(eh));
		phoff = eh.e_phoff, phentsize = eh.e_phentsize, phnum = eh.e_phnum;
	}
	if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum > 256 ||
	    phoff > len || phnum * phentsize > len - phoff)
		return -ENOENT;
	for (size_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		uint64_t off, size, align;
		uint32_t type;
		int r;

		if (is64) {
			Elf64_Phdr p;

			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, size = p.p_filesz, align = p.p_align;
		} else {
			Elf32_Phdr p;

			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, size = p.p_filesz, align = p.p_align;
		}
		if (type != PT_NOTE || off > len || size > len - off)
			continue;
		r = notes_build_id(img, (size_t)off, (size_t)size, align == 8 ? 8 : 4, out);
		if (r > 0)
			return r;
	}
	return -ENOENT;
}

/* ---- the container's binaries -------------------------------------------------------------- */

static int file_build_id(int fd, uint8_t *out)
{
	_cleanup_free_ uint8_t *head = malloc(HEAD_MAX);
	ssize_t n;

	if (!head)
		return -ENOMEM;
	n = pread(fd, head, HEAD_MAX, 0);
	if (n < 0)
		return -errno;
	return elf_build_id(head, (size_t)n, out);
}

static int find_known(const struct progid *p, dev_t dev, ino_t ino, const uint8_t *id, int id_len)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->known[i].dev == dev && p->known[i].ino == ino)
			return (int)i;
	for (size_t i = 0; id_len > 0 && i < p->n; i++)
		if (p->known[i].id_len == id_len && memcmp(p->known[i].id, id, (size_t)id_len) == 0)
			return (int)i;
	return -1;
}

/* Adds the binary open on fd as a program of class cls named name. A file already known under a
 * name of another class is a multi-call binary (busybox's /bin/ash, /bin/sh and /bin/busybox are
 * one file): every program, so PROG_UNKNOWN, and the name each process runs as decides. Which of
 * its names a directory lists first must not matter (a squashfs lists ash before busybox). */
static void learn(struct progid *p, int fd, enum prog_class cls, const char *name)
{
	struct stat st;
	struct known k = {.cls = cls};
	int i;

	if (p->n >= KNOWN_MAX || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	k.dev = st.st_dev;
	k.ino = st.st_ino;
	k.id_len = file_build_id(fd, k.id);
	if (k.id_len < 0)
		k.id_len = 0;
	i = find_known(p, k.dev, k.ino, k.id, k.id_len);
	if (i >= 0) {
		if (p->known[i].cls != cls)
			p->known[i].cls = PROG_UNKNOWN;
		if (cls == PROG_UNKNOWN)
			snprintf(p->known[i].name, sizeof(p->known[i].name), "%s", name);
		return;
	}
	snprintf(k.name, sizeof(k.name), "%s", name);
	p->known[p->n++] = k;
}

/* Whether the file is busybox or toybox by its contents: their version banner, within the first
 * MULTI_SCAN_MAX bytes (busybox is 2 MB; both banners sit in its read-only data). */
static bool multi_call_file(int fd)
{
	static const char *const banners[] = {"BusyBox v", "Toybox "};
	_cleanup_free_ char *buf = malloc(MULTI_CHUNK + 16);
	size_t keep = 0;

	if (!buf)
		return false;
	for (off_t off = 0; off < MULTI_SCAN_MAX;) {
		ssize_t n = pread(fd, buf + keep, MULTI_CHUNK, off);

		if (n <= 0)
			return false;
		size_t total = keep + (size_t)n;

		for (size_t i = 0; i < ELEMENTSOF(banners); i++)
			if (memmem(buf, total, banners[i], strlen(banners[i])))
				return true;
		off += n;
		/* a banner across two chunks: the last bytes of this one lead the next */
		keep = total < 15 ? total : 15;
		memmove(buf, buf + total - keep, keep);
	}
	return false;
}

static bool multi_call_cached(struct progid *p, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (!p->multi_seen.set || p->multi_seen.dev != st.st_dev ||
	    p->multi_seen.ino != st.st_ino) {
		p->multi_seen.dev = st.st_dev;
		p->multi_seen.ino = st.st_ino;
		p->multi_seen.is = multi_call_file(fd);
		p->multi_seen.set = true;
	}
	return p->multi_seen.is;
}

/* An entry named as a multi-call binary, or a symbolic link to one (/bin/sh -> busybox where
 * busybox itself lies outside the directories scanned); name gets the binary's own name. */
static bool multi_call(int dfd, const struct dirent *e, char name[static 32])
{
	char target[256];
	ssize_t n;

	if (prog_multi_call_name(e->d_name)) {
		snprintf(name, 32, "%.31s", e->d_name);
		return true;
	}
	if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
		return false;
	n = readlinkat(dfd, e->d_name, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = 0;
	if (!prog_multi_call_name(target))
		return false;
	snprintf(name, 32, "%.31s", strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	return true;
}

/* A shell, an interpreter, a credential file's owner, or a multi-call binary (all of them). */
static bool worth_learning(enum prog_class cls, bool multi, const char *name)
{
	return multi || cls != PROG_OTHER || rules_cred_owner_name(name);
}

static void scan_dir(struct progid *p, int root, const char *dir)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_DIRECTORY,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int dfd = (int)syscall(SYS_openat2, root, dir, &how, sizeof(how));
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *e;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	for (int i = 0; i < DIR_MAX && (e = readdir(d)); i++) {
		enum prog_class cls = prog_class_of_name(e->d_name);
		char path[512], multi_name[32];
		bool multi;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		multi = multi_call(dirfd(d), e, multi_name);
		if (!worth_learning(cls, multi, e->d_name))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
		fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (fd < 0)
			continue;
		/* a name is no proof: /usr/local/bin/busybox -> /bin/bash, planted by the agent in
		 * a persistent container, would make bash a multi-call binary judged by the name it
		 * runs as (a renamed bash, no shell); the file must say it is one */
		if (multi && !multi_call_cached(p, fd))
			multi = false;
		/* a multi-call binary is every program: its name decides (PROG_UNKNOWN) */
		if (worth_learning(cls, multi, e->d_name))
			learn(p, fd, multi ? PROG_UNKNOWN : cls, multi ? multi_name : e->d_name);
		close(fd);
	}
	closedir(d);
}

int progid_new_at(int root, struct progid **ret)
{
	/* /usr/lib/git-core: git's own programs (its HTTP transport runs credential helpers) */
	static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin",
	                                   "/usr/sbin",      "/sbin",    "/usr/lib/git-core"};
	struct progid *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; root >= 0 && i < ELEMENTSOF(dirs); i++)
		scan_dir(p, root, dirs[i]);
	*ret = p;
	return 0;
}

int progid_new(pid_t init_pid, struct progid **ret)
{
	_cleanup_close_ int root = -EBADF;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/root", (int)init_pid);
	root = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
	return progid_new_at(root, ret);
}

struct progid *progid_free(struct progid *p)
{
	free(p);
	return NULL;
}

const void *progid_bytes(const struct progid *p, size_t *ret_len)
{
	*ret_len = sizeof(*p); /* flat: no pointer in it */
	return p;
}

static bool known_valid(const struct known *k)
{
	return k->id_len >= 0 && k->id_len <= PROGID_BUILD_ID_MAX &&
	       (unsigned)k->cls <= PROG_INTERP && memchr(k->name, 0, sizeof(k->name));
}

int progid_from_bytes(const void *data, size_t len, struct progid **ret)
{
	_cleanup_free_ struct progid *p = NULL;

	if (len != sizeof(*p))
		return -EBADMSG;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p, data, sizeof(*p));
	if (p->n > KNOWN_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < p->n; i++)
		if (!known_valid(&p->known[i]))
			return -EBADMSG;
	/* the lookups are this monitor's own to make */
	memset(&p->multi_seen, 0, sizeof(p->multi_seen));
	memset(p->cache, 0, sizeof(p->cache));
	*ret = TAKE_PTR(p);
	return 0;
}

size_t progid_known_count(const struct progid *p)
{
	return p ? p->n : 0;
}

/* ---- a process ----------------------------------------------------------------------------- */

static struct cached *cache_slot(struct progid *p, const struct stat *st)
{
	uint64_t h = ((uint64_t)st->st_dev * 1000003u) ^ (uint64_t)st->st_ino;

	return &p->cache[h % CACHE_SIZE];
}

/* The known binary (index) of the file open on fd, through the cache. */
static int lookup(struct progid *p, int fd, const struct stat *st)
{
	struct cached *c = cache_slot(p, st);
	int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	uint8_t id[PROGID_BUILD_ID_MAX];
	int id_len;

	if (c->used && c->dev == st->st_dev && c->ino == st->st_ino && c->mtime_ns == mtime &&
	    c->size == st->st_size)
		return c->known;
	id_len = file_build_id(fd, id);
	*c = (struct cached){.dev = st->st_dev,
	                     .ino = st->st_ino,
	                     .mtime_ns = mtime,
	                     .size = st->st_size,
	                     .known = find_known(p, st->st_dev, st->st_ino, id, id_len),
	                     .used = true};
	return c->known;
}

enum prog_class progid_of_pid(struct progid *p, pid_t pid, char *name, size_t size)
{
	_cleanup_close_ int fd = -EBADF;
	char path[64], exe[256] = "";
	const struct known *k;
	struct stat st;
	ssize_t n;
	int i;

	if (size)
		name[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return PROG_UNKNOWN;
	i = lookup(p, fd, &st);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (i < 0) {
		const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
		enum prog_class cls = prog_class_of_name(base);

		/* A shell or interpreter installed after the scan (an apt install): learn it from
		 * its system path, so that later copies of it are known too. */
		if (cls != PROG_OTHER &&
		    (strncmp(exe, "/usr/", 5) == 0 || strncmp(exe, "/bin/", 5) == 0)) {
			learn(p, fd, cls, base);
			cache_slot(p, &st)->used = false;
			i = lookup(p, fd, &st);
		}
		if (i < 0)
			return PROG_UNKNOWN;
	}
	k = &p->known[i];
	if (k->dev == st.st_dev && k->ino == st.st_ino)
		snprintf(name, size, "%s", k->name);
	else
		snprintf(name, size, "%s, copied to %s", k->name, exe[0] ? exe : "?");
	return k->cls;
}
