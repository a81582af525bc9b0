/*
 * hash.h — SHA-256 and Bitcoin's double SHA-256, over OpenSSL's libcrypto.
 */
#ifndef MR_HASH_H
#define MR_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SIZE 32

/* out = SHA256(data). Never fails for in-memory input (aborts only if
 * libcrypto cannot allocate a digest context, which is not recoverable). */
void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SIZE]);

/* out = SHA256(SHA256(data)): txids, block hashes, message checksums. */
void hash_sha256d(const void *data, size_t len, uint8_t out[HASH_SIZE]);

/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes, NUL-terminated).
 * Never fails. */
void hash_hex(const uint8_t *bytes, size_t len, char *out);

/* Hex of a 32-byte hash in display order: Bitcoin shows hashes byte-reversed
 * from how they are stored and serialized. `out` holds 65 bytes. */
void hash_hex_reversed(const uint8_t hash[HASH_SIZE], char out[2 * HASH_SIZE + 1]);

/*
 * Parse exactly 2*len hex digits (either case) into `out`. Returns 0, or -1
 * for a wrong length or a non-hex character (out is then unspecified).
 */
int hash_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Parse a 64-digit display-order hash (as hash_hex_reversed prints it) back
 * into serialized order. Returns 0 or -1 as hash_hex_decode. */
int hash_from_hex_reversed(const char *hex, uint8_t out[HASH_SIZE]);

#endif
