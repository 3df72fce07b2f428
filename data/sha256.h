/* sha256: FIPS 180-4 SHA-256, to verify the downloaded dataset. */
#ifndef MICROGPT_SHA256_H
#define MICROGPT_SHA256_H

#include <stddef.h>

/* Writes 64 lower-case hex digits and a NUL into hex_out[65]. */
void sha256_hex(const void *bytes, size_t size, char hex_out[65]);

#endif
