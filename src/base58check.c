/*
 * base58check.c — Base58Check, the text form of addresses and WIF keys.
 */
#include "base58check.h"

#include <string.h>

#include "hash.h"

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Plain Base58 of n bytes into out (cap incl. NUL). Returns 0 or -1. */
static int base58_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
	uint8_t digits[128] = { 0 }; /* base-58 digits, least significant first */
	size_t ndig = 0, zeros = 0, k = 0;

	if (n > 80)
		return -1;
	while (zeros < n && p[zeros] == 0)
		zeros++;
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = p[i];
		for (size_t j = 0; j < ndig; j++) {
			carry += (unsigned)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			digits[ndig++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	if (zeros + ndig + 1 > cap)
		return -1;
	for (size_t i = 0; i < zeros; i++)
		out[k++] = '1';
	while (ndig)
		out[k++] = B58[digits[--ndig]];
	out[k] = '\0';
	return 0;
}

/* Plain Base58 decode into out; returns the byte count or -1. */
static int base58_decode(const char *s, uint8_t *out, size_t cap)
{
	uint8_t bytes[128] = { 0 }; /* least significant first */
	size_t nbytes = 0, zeros = 0, len = strlen(s);

	if (len > 150)
		return -1;
	while (s[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < len; i++) {
		const char *d = strchr(B58, s[i]);
		unsigned carry;
		if (!d || !s[i])
			return -1;
		carry = (unsigned)(d - B58);
		for (size_t j = 0; j < nbytes; j++) {
			carry += (unsigned)bytes[j] * 58;
			bytes[j] = carry & 0xff;
			carry >>= 8;
		}
		while (carry) {
			if (nbytes == sizeof(bytes))
				return -1;
			bytes[nbytes++] = carry & 0xff;
			carry >>= 8;
		}
	}
	if (zeros + nbytes > cap)
		return -1;
	memset(out, 0, zeros);
	for (size_t i = 0; i < nbytes; i++)
		out[zeros + i] = bytes[nbytes - 1 - i];
	return (int)(zeros + nbytes);
}

int base58check_encode(const uint8_t *payload, size_t len, char *out, size_t cap)
{
	uint8_t buf[84], check[32];

	if (len > 80)
		return -1;
	memcpy(buf, payload, len);
	hash_sha256d(payload, len, check);
	memcpy(buf + len, check, 4);
	return base58_encode(buf, len + 4, out, cap);
}

int base58check_decode(const char *text, uint8_t *out, size_t cap)
{
	uint8_t buf[100], check[32];
	int n = base58_decode(text, buf, sizeof(buf));

	if (n < 4)
		return -1;
	hash_sha256d(buf, (size_t)n - 4, check);
	if (memcmp(check, buf + n - 4, 4) != 0 || (size_t)n - 4 > cap)
		return -1;
	memcpy(out, buf, (size_t)n - 4);
	return n - 4;
}
