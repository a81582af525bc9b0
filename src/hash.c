/*
 * hash.c — SHA-256 through libcrypto's EVP interface.
 */
#include "hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Value of one hex digit, or -1. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hash_hex_decode(const char *hex, uint8_t *out, size_t len)
{
	/* strnlen: never read further than one past the digits we want. */
	if (strnlen(hex, 2 * len + 1) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int hash_from_hex_reversed(const char *hex, uint8_t out[HASH_SIZE])
{
	uint8_t display[HASH_SIZE];

	if (hash_hex_decode(hex, display, HASH_SIZE) != 0)
		return -1;
	for (size_t i = 0; i < HASH_SIZE; i++)
		out[i] = display[HASH_SIZE - 1 - i];
	return 0;
}
