/* SPDX-License-Identifier: MIT */
#include "util/hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>

int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -EIO;
	for (unsigned int i = 0; i < n; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
