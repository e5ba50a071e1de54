/* SPDX-License-Identifier: MIT */
/* result.h: one check's result and the check itself (status, category, message, fix), what the
 * report (health.h) is made of and what the check files (internal.h) fill. Self-contained, so
 * health.h and internal.h both build on it without including each other. */
#pragma once

enum health_status {
	HEALTH_OK,
	HEALTH_WARNING,
	HEALTH_FAILED,
	_HEALTH_STATUS_MAX,
};

enum health_category {
	HEALTH_CAT_SYSTEM,
	HEALTH_CAT_INCUS,
	HEALTH_CAT_SECURITY,
	HEALTH_CAT_IMAGE,
	HEALTH_CAT_NETWORK,
	HEALTH_CAT_MONITORING,
	HEALTH_CAT_STORAGE,
	HEALTH_CAT_CONFIG,
	HEALTH_CAT_STATUS,
	_HEALTH_CAT_MAX,
};

/* "ok", "warning", "failed" */
const char *health_status_to_string(enum health_status s);
/* Overall: "healthy", "degraded", "unhealthy" */
const char *health_overall_to_string(enum health_status s);
/* "system", "incus", "security", "image", "network", "monitoring", "storage", "configuration",
 * "status" */
const char *health_category_to_string(enum health_category c);

#define HEALTH_MESSAGE_MAX 512
#define HEALTH_FIX_MAX     512
#define HEALTH_DETAIL_MAX  2048

struct health_result {
	const char *id; /* static: the table's */
	enum health_category category;
	enum health_status status;
	char message[HEALTH_MESSAGE_MAX];
	char fix[HEALTH_FIX_MAX];       /* "" when nothing needs fixing */
	char detail[HEALTH_DETAIL_MAX]; /* extra lines for -v, "" when none */
};

struct health_ctx;

struct health_check {
	const char *id;
	enum health_category category;
	void (*fn)(struct health_ctx *ctx, struct health_result *res);
};
