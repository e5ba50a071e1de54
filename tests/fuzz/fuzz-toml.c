/* SPDX-License-Identifier: MIT */
/* fuzz-toml: the TOML reader on arbitrary bytes. It must reject or accept without crashing,
 * leaking or tripping a sanitizer, within its limits. */
#include <stddef.h>
#include <stdint.h>

#include "config/toml.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_limits lim = TOML_LIMITS_DEFAULT;
	struct toml_value *doc = NULL;
	struct coi_error err = {0};

	lim.max_size = 1 << 16;
	if (toml_parse((const char *)data, size, "fuzz", &lim, &doc, &err) == 0) {
		(void)toml_table_get(doc, "network");
		toml_free(doc);
	}
	return 0;
}
