/* SPDX-License-Identifier: MIT */
/* fuzz-egress-login.c: what the credential proxy reads of a login on the host: the expiry in a
 * login file (a dotted path into JSON) and a token's own exp claim (a JWT's base64url payload
 * decoded and parsed). The input is split at its first NUL into the file's text and the token.
 * Whatever it holds: no crash, and an expiry is never negative. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress/secret.h"
#include "egress/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct egress_secret s = {0};
	const char *value;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	value = memchr(data, 0, size) ? text + strlen(text) + 1 : "";
	s.refresh.expires_field = (char *)"jwt";
	if (egress_expiry(&s, text, value) < 0 || egress_expiry(&s, text, text) < 0)
		abort();
	s.refresh.expires_field = (char *)"claudeAiOauth.expiresAt";
	if (egress_expiry(&s, text, value) < 0)
		abort();
	free(text);
	return 0;
}
