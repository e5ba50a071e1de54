/* SPDX-License-Identifier: MIT */
/* Durations in the configuration: parsed once by the config into whole seconds. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "tap.h"
#include "util/error.h"
#include "util/strv.h"

static char dir[] = "/tmp/coi-test-duration-XXXXXX";

static void test_seconds(void)
{
	/* clang-format off */
	static const struct { const char *s; int64_t secs; } good[] = {
		{ "45s", 45 }, { "90m", 5400 }, { "2h", 7200 }, { "1h30m", 5400 }, { "1.5h", 5400 },
		{ "2h0m1s", 7201 }, { "250ms", 1 }, { "1500ms", 2 }, { "1\xC2\xB5s", 1 }, { "0", 0 },
		{ "", 0 }, { "0s", 0 },
	};
	static const char *const bad[] = {
		"90", "h", "1x", "-1s", ".5s", "1h30", "1 h", "1h ", "1e3s", "0x10s", "s30",
	};
	/* clang-format on */
	int64_t secs;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		secs = -1;
		CHECK(config_duration_seconds(good[i].s, &secs) == 0);
		if (secs != good[i].secs)
			printf("# '%s': %lld seconds, expected %lld\n", good[i].s, (long long)secs,
			       (long long)good[i].secs);
		CHECK(secs == good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		secs = 42;
		CHECK(config_duration_seconds(bad[i], &secs) == -EINVAL);
		CHECK(secs == 42); /* untouched on failure */
	}
	CHECK(config_duration_seconds("3000000h", &secs) == -ERANGE); /* > 292 years */
	CHECK(config_duration_seconds("2000000h", &secs) == 0);
	CHECK(secs == 2000000LL * 3600);
}

static char *write_config(const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(path, "w");
	if (!f) {
		free(path);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_loaded(void)
{
	_cleanup_free_ char *path =
	        write_config("good.toml", "[limits.runtime]\nmax_duration = \"1h30m\"\n");
	struct coi_config *c = NULL;
	char **warnings = NULL;
	struct coi_error err = {0};

	CHECK(path != NULL);
	CHECK(config_load(&(struct config_load_opts){.workspace = dir, .user_file = path}, &c,
	                  &warnings, &err) == 0);
	if (!c) {
		printf("# %s\n", err.msg);
		return;
	}
	CHECK_STREQ(c->limits.runtime.max_duration, "1h30m"); /* kept for display */
	CHECK(c->limits.runtime.max_duration_sec == 5400);
	CHECK(c->defaults.env_command_timeout_sec == 30); /* the built-in "30s" */
	config_free(c);
	strv_free(warnings);

	/* unset: no cap */
	CHECK(config_new_default(&c, &err) == 0);
	CHECK(c->limits.runtime.max_duration == NULL);
	CHECK(c->limits.runtime.max_duration_sec == 0);
	config_free(c);
}

static void test_rejected(void)
{
	_cleanup_free_ char *path =
	        write_config("bad.toml", "[limits.runtime]\nmax_duration = \"90\"\n");
	_cleanup_free_ char *where = NULL;
	char **warnings = NULL;
	struct coi_error err = {0};

	CHECK(path != NULL);
	CHECK(config_validate_file(path, &warnings, &err) == -EINVAL);
	CHECK(asprintf(&where, "%s:2:", path) > 0);
	CHECK(where && strncmp(err.msg, where, strlen(where)) == 0);
	CHECK(strstr(err.msg, "limits.runtime.max_duration") != NULL);
	printf("# %s\n", err.msg);
	strv_free(warnings);
}

/* Every duration key has its seconds field. */
static void test_keys(void)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (k[i].type == CONFIG_DURATION)
			CHECK(k[i].offset_n != 0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	setenv("COI_HOME", dir, 1);
	RUN(test_seconds);
	RUN(test_loaded);
	RUN(test_rejected);
	RUN(test_keys);
	{
		char *rm = NULL;

		if (asprintf(&rm, "rm -rf '%s'", dir) > 0 && system(rm) != 0)
			printf("# cannot remove %s\n", dir);
		free(rm);
	}
	return tap_done();
}
