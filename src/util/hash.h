/* SPDX-License-Identifier: MIT */
/* hash.h: SHA-256 as lower-case hex (container names, trust pins, image recipe keys). */
#pragma once

#include <stddef.h>

#define SHA256_HEX_LEN 64

/* out must hold SHA256_HEX_LEN + 1 bytes. Returns 0 or -EIO. */
int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
