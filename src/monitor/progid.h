/* SPDX-License-Identifier: MIT */
/* progid.h: what program a container process runs, judged by its binary rather than by the
 * name it was started under (ARCHITECTURE.md decision 12). The container's own shells and
 * interpreters are found once, when the monitor attaches; a process is then matched by the file
 * behind /proc/<pid>/exe (the same inode), or by the ELF build-id of that file, which a copy
 * keeps whatever it is called and whatever bytes are appended to it. A binary with neither (a
 * stripped build-id), or one that is several programs (a multi-call busybox, whichever of its
 * names the scan meets first), is PROG_UNKNOWN and the rules fall back to the name it runs as.
 * Results are cached per file (device, inode, mtime, size), so a build's thousands of execs of the
 * same compiler cost one fstat each. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor/rules.h"

#define PROGID_BUILD_ID_MAX 32 /* sha1 (20) is usual; md5/uuid (16) and sha256 (32) exist */

/* The NT_GNU_BUILD_ID of an ELF image (its first bytes: the program headers and the notes they
 * point to must lie within len). Returns its length, -ENOEXEC when img is not ELF, -ENOENT when
 * it has no build-id within len. Pure, fuzzed. */
int elf_build_id(const uint8_t *img, size_t len, uint8_t out[static PROGID_BUILD_ID_MAX]);

struct progid;

/* Scans the container whose init is init_pid (its root, seen from the host). */
int progid_new(pid_t init_pid, struct progid **ret);
/* The same for a root open on the directory fd root (tests: a tree of their own). */
int progid_new_at(int root, struct progid **ret);
struct progid *progid_free(struct progid *p);

/* The programs known are the shells and interpreters (rules.h prog_class_of_name) and the
 * owners of credential files (rules_cred_owner_name: ssh, git-credential-store, sudo, ...),
 * class PROG_OTHER, so that the file watch tells ssh from a copy of cat named ssh. */

/* The class of the program pid runs now; name gets what it is ("bash"), or, for a copy
 * elsewhere or under another name, "bash, copied to PATH". PROG_UNKNOWN (name "") when the
 * binary is not a known one or pid is gone. */
enum prog_class progid_of_pid(struct progid *p, pid_t pid, char *name, size_t size);

/* The scan as bytes, kept for a later monitor of the same container (monitor/prescan.h), and
 * back: progid_from_bytes() takes only what this build's progid_bytes() gave, whole (-EBADMSG
 * otherwise: another length, a count, a build-id length or a class out of range, a name not
 * ended). What processes were looked up is not kept. */
const void *progid_bytes(const struct progid *p, size_t *ret_len);
int progid_from_bytes(const void *data, size_t len, struct progid **ret);

/* How many known binaries the scan found (tests, debug logs). */
size_t progid_known_count(const struct progid *p);
