/*
 * base58check.h — Base58Check = Base58(payload || first 4 bytes of
 * SHA256d(payload)), the text form of addresses and WIF keys.
 */
#ifndef MR_BASE58CHECK_H
#define MR_BASE58CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Base58Check of `len` payload bytes into out (cap bytes). Returns 0, or
 * -1 if out is too small. */
int base58check_encode(const uint8_t *payload, size_t len, char *out, size_t cap);

/* Decode Base58Check text into out (cap bytes); returns the payload length,
 * or -1 for a bad character, a bad checksum or a payload over cap. */
int base58check_decode(const char *text, uint8_t *out, size_t cap);

#endif
