/* SPDX-License-Identifier: MIT */
/* context.h: the sandbox context the agent reads, and the environment file (see context.c). */
#pragma once

struct buf;
struct session;
struct session_opts;

/* ~/SANDBOX_CONTEXT.md for this session. */
int context_render(const struct session *s, struct buf *out);
/* ~/SANDBOX_CONTEXT.json: the same facts for programs ([tool] context_json), in the original's
 * schema (schema_version 1) with coi's additions (hidden_paths, limits.processes and root_disk).
 * Lists are [] when empty, never null. */
int context_render_json(const struct session *s, struct buf *out);
/* existing (may be NULL) with coi's marked block replaced by block, or block appended. */
int context_merge_block(const char *existing, const char *block, struct buf *out);
/* "export NAME='value'" lines for the forwarded and fixed variables. */
int context_env_file(const struct session_opts *o, struct buf *out);
