/* SPDX-License-Identifier: MIT */
/* saved.h: saved agent sessions, for --resume (see saved.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct coi_error;
struct incus_client;
struct incus_instance;
struct session;

/* Where a session's state comes from, for saving it without the session (coi attach). */
struct saved_source {
	const char *container;
	const char *tool;
	const char *code_user;
	const char *workspace;
	bool persistent;
};

#define SAVED_ID_MAX 37

/* ~/.coi/sessions-<tool>; newly allocated. */
char *saved_sessions_dir(const char *tool);
/* A fresh session id (a UUID). */
int saved_new_id(char ret[SAVED_ID_MAX]);
/* Pull the tool's state out of the container under id. 1 when saved, 0 when there was nothing
 * to save. */
int saved_session_save(struct session *s, const char *id, struct coi_error *err);
int saved_session_save_from(struct incus_client *c, const struct saved_source *src, const char *id,
                            struct coi_error *err);
/* The same for a session container met later (coi attach, a deadline): its tool and workspace
 * from its user.coi.* keys, a fresh id; 0 when it names no tool. */
int saved_session_save_instance(struct incus_client *c, const struct incus_instance *in,
                                struct coi_error *err);
/* Directory of saved session id, or (id NULL) of the newest one saved for workspace. */
int saved_session_find(const char *tool, const char *workspace, const char *id, char **ret_dir,
                       struct coi_error *err);
/* Push a saved state into the session's container. */
int saved_session_restore(struct session *s, const char *dir, struct coi_error *err);

/* A saved session, from its metadata.json. */
struct saved_entry {
	char *id, *tool, *workspace, *saved_at, *container;
	char *dir;
};

/* Every saved session of every tool, oldest first. */
int saved_list(struct saved_entry **ret, size_t *ret_n, struct coi_error *err);
void saved_list_release(struct saved_entry *l, size_t n);
/* Remove a saved session's directory. */
int saved_session_delete(const struct saved_entry *e);
