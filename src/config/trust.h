/* SPDX-License-Identifier: MIT */
/* trust.h: approvals of project configuration files ('coi trust'). A project's .coi/config.toml
 * (and its .coi/profiles/) come with a cloned repository; settings in them that weaken isolation
 * apply only once the user has approved the file. An approval pins the file's content by its
 * SHA-256, so any change to the file needs a new approval. Approvals live in
 * coi_dir()/trust/<sha256 of the file's absolute path>.json as {"path", "sha256", "approved_at"}.
 */
#pragma once

#include <stddef.h>

#include "util/hash.h"

struct coi_error;

enum trust_state {
	TRUST_APPROVED, /* the file still has the approved content */
	TRUST_CHANGED,  /* the file changed since it was approved */
	TRUST_MISSING,  /* the file is gone */
	_TRUST_STATE_MAX,
};

struct trust_entry {
	char *path;
	char sha256[SHA256_HEX_LEN + 1];
	char *approved_at; /* RFC 3339, UTC */
	enum trust_state state;
};

const char *trust_state_to_string(enum trust_state s);

/* Is this content of the file at path (absolute) approved? 1 yes, 0 no. Never fails: an unreadable
 * approval counts as none. */
int trust_check(const char *path, const void *data, size_t len);

/* Approve the file's current content; ret_sha256 (may be NULL) gets the pinned hash. */
int trust_approve(const char *path, char ret_sha256[SHA256_HEX_LEN + 1], struct coi_error *err);

/* Forget the approval of path: 1 when there was one, 0 when not. */
int trust_revoke(const char *path, struct coi_error *err);

/* Every approval, with the state of its file now. */
int trust_list(struct trust_entry **ret, size_t *ret_n, struct coi_error *err);
void trust_entries_free(struct trust_entry *e, size_t n);
