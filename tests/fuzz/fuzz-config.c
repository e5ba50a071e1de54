/* SPDX-License-Identifier: MIT */
/* fuzz-config: a whole config file, past the TOML reader: every key's type check, conversion
 * and validation, the layering over the defaults, profiles and their inheritance, and the
 * warnings, the output and the named prompts. The input is the user's file (so every key is
 * allowed), read through a memfd; it is also checked as `coi config validate` does. Accept or
 * refuse, never crash, leak or trip a sanitizer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(const char *path)
{
	struct config_load_opts o = {.workspace = "/nonexistent/coi-fuzz", .user_file = path};
	struct coi_config *c = NULL;
	char **warnings = NULL;
	struct coi_error err = {0};

	if (config_load(&o, &c, &warnings, &err) == 0) {
		char **pp = NULL;

		if (config_protected_paths(c, &pp) == 0)
			strv_free(pp);
		/* the output, and the named prompts that need no file read */
		free(config_to_toml(c));
		for (size_t i = 0; i < c->n_prompts; i++) {
			char *text = NULL;

			if (c->prompts[i].text &&
			    config_prompt_read(&c->prompts[i], 4096, &text, &err) == 0)
				free(text);
		}
		/* never a prompt name (no leading '-'): the unknown-name message, no file read */
		(void)config_prompt_text(c, "-x", 4096, &(char *){NULL}, &err);
		config_free(c);
	}
	strv_free(warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_close_ int fd = memfd_create("coi-fuzz-config", MFD_CLOEXEC);
	char path[64];
	char **warnings = NULL;
	struct coi_error err = {0};

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)config_validate_file(path, &warnings, &err);
	strv_free(warnings);
	load(path);
	return 0;
}
