/* SPDX-License-Identifier: MIT */
/* log.h: diagnostics on stderr, by level. The library below cmd/ logs only at debug level; a
 * failure is reported once, by the command, from its struct coi_error. The level comes from -v/-q
 * or COI_LOG_LEVEL (error, warn, info, debug). Non-fatal problems end with ", ignoring". */
#pragma once

#include "util/cleanup.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Read COI_LOG_LEVEL (secure_getenv); unknown values are ignored. */
void log_level_from_env(void);
int log_level_from_string(const char *s);

void log_msg(enum log_level level, const char *fmt, ...) COI_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Log at error level with ": strerror(-r)" appended; returns r. */
int log_error_errno(int r, const char *fmt, ...) COI_PRINTF(2, 3);

/* With COI_TIMING_DEBUG set: "coi: timing: <what> +N ms (M ms)" on stderr, since the previous
 * mark and since the first. For finding where a session start spends its time. */
void log_timing(const char *what);
