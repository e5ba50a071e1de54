/* SPDX-License-Identifier: MIT */
/* fuzz-incus-envelope.c: arbitrary daemon responses against the decoders at the Incus boundary.
 *
 * Input: two bytes of HTTP status (big endian, taken modulo 600), then a body. The body goes
 * through the envelope decoder; a decoded metadata object through the instance decoder (and each
 * entry of a metadata array, as a list); the body also through the event decoder. No crash, no
 * leak, no read past the input. */
#include <stdint.h>
#include <stdlib.h>

#include "incus/incus.h"
#include "incus/internal.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct incus_envelope e = {0};
	struct incus_event ev;
	struct coi_error err = {0};
	long status;
	size_t i;
	json_t *v;

	if (size < 2 || size > 65536)
		return 0;
	status = ((long)data[0] << 8 | data[1]) % 600;
	data += 2;
	size -= 2;
	if (incus_envelope_parse(status, (const char *)data, size, &e, &err) == 0) {
		struct incus_instance *inst = NULL;

		if (json_is_object(e.metadata) && incus_instance_from_json(e.metadata, &inst) == 0)
			incus_instance_free(inst);
		json_array_foreach(e.metadata, i, v) {
			inst = NULL;
			if (incus_instance_from_json(v, &inst) == 0)
				incus_instance_free(inst);
		}
	}
	incus_envelope_release(&e);
	if (incus_event_parse((const char *)data, size, &ev) == 0)
		incus_event_release(&ev);
	return 0;
}
