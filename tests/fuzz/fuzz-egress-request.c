/* SPDX-License-Identifier: MIT */
/* fuzz-egress-request.c: the credential proxy's request judge (egress/httpreq.h), which reads
 * whatever the container sends. The first byte picks the host and how the rest is split into
 * reads. Whatever the input: no crash; the value of a secret is asked for only on a connection
 * to one of its hosts; and nothing written out holds the placeholder of a secret for another
 * host (a refusal comes before the bytes that hold it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/httpreq.h"
#include "egress/secret.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *hosts_a[] = {"api.test", NULL}, *hosts_b[] = {"git.test", NULL};
static struct egress_secret secrets[] = {
        {.name = "a",
         .hosts = hosts_a,
         .header = "x-api-key",
         .placeholder = "sk-coiaaaa",
         .value = "VALUE-A"},
        {.name = "b",
         .hosts = hosts_b,
         .header = "Authorization",
         .format = "Basic {}",
         .basic_user = "x",
         .placeholder = "coibbbb",
         .value = "VALUE-B"},
        {.name = "c", .hosts = hosts_a, .placeholder = "coicccc", .value = "VALUE-C"},
};
static const struct egress_set set = {.v = secrets, .n = 3};
static const char *host;

static int emit(void *u, const void *d, size_t n)
{
	return buf_append(u, d, n);
}

static const char *value(void *u, size_t i)
{
	(void)u;
	if (!egress_secret_for_host(&set.v[i], host))
		abort(); /* a value asked for on another host's connection */
	return set.v[i].value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(1u << 22);
	struct egress_req_opts o = {.set = &set, .emit = emit, .value = value, .userdata = &out};
	struct egress_req *r = NULL;
	size_t step;

	if (size < 1)
		return 0;
	host = (data[0] & 1) ? "git.test" : "api.test";
	step = (size_t)(data[0] >> 1) + 1;
	o.host = host;
	if (egress_req_new(&o, &r) < 0)
		abort();
	for (size_t at = 1; at < size;) {
		size_t n = size - at < step ? size - at : step, used;

		if (egress_req_feed(r, data + at, n, &used) != 0)
			break;
		at += n;
	}
	for (size_t i = 0; i < set.n; i++)
		if (!egress_secret_for_host(&set.v[i], host) && out.data &&
		    memmem(out.data, out.len, set.v[i].placeholder, strlen(set.v[i].placeholder)))
			abort();
	egress_req_free(r);
	buf_release(&out);
	return 0;
}
