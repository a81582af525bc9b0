/*
 * hash.c — SHA-256 through libcrypto's EVP interface.
 */
#include "hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SIZE])
{
	unsigned int outlen = HASH_SIZE;

	/* EVP_Digest only fails on allocation failure of its context. */
	if (!EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL)) {
		fprintf(stderr, "hash: EVP_Digest(sha256) failed\n");
		abort();
	}
}

void hash_sha256d(const void *data, size_t len, uint8_t out[HASH_SIZE])
{
	uint8_t first[HASH_SIZE];

	hash_sha256(data, len, first);
	hash_sha256(first, sizeof(first), out);
}

void hash_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void hash_hex_reversed(const uint8_t hash[HASH_SIZE], char out[2 * HASH_SIZE + 1])
{
	uint8_t reversed[HASH_SIZE];

	for (size_t i = 0; i < HASH_SIZE; i++)
		reversed[i] = hash[HASH_SIZE - 1 - i];
	hash_hex(reversed, HASH_SIZE, out);
}
