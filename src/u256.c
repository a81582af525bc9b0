/*
 * u256.c — 256-bit unsigned arithmetic for targets and chain work.
 */
#include "u256.h"

#include <stdio.h>

#include "hash.h"

void u256_shl(u256 *a, unsigned s)
{
	while (s >= 64) {
		a->w[3] = a->w[2]; a->w[2] = a->w[1]; a->w[1] = a->w[0]; a->w[0] = 0;
		s -= 64;
	}
	if (s) {
		for (int i = 3; i > 0; i--)
			a->w[i] = (a->w[i] << s) | (a->w[i - 1] >> (64 - s));
		a->w[0] <<= s;
	}
}

void u256_shr1(u256 *a)
{
	for (int i = 0; i < 3; i++)
		a->w[i] = (a->w[i] >> 1) | (a->w[i + 1] << 63);
	a->w[3] >>= 1;
}

int u256_bits(const u256 *a)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i])
			return i * 64 + 64 - __builtin_clzll(a->w[i]);
	return 0;
}

bool u256_is_zero(const u256 *a)
{
	return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

void u256_sub(u256 *a, const u256 *b)
{
	unsigned borrow = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t bi = b->w[i] + borrow;
		unsigned nb = (bi < borrow) || (a->w[i] < bi);
		a->w[i] -= bi;
		borrow = nb;
	}
}

void u256_add(u256 *a, const u256 *b)
{
	unsigned carry = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t s = a->w[i] + b->w[i];
		unsigned c1 = s < a->w[i];
		uint64_t t = s + carry;
		unsigned c2 = t < s;
		a->w[i] = t;
		carry = c1 | c2;
	}
}

int u256_cmp(const u256 *a, const u256 *b)
{
	for (int i = 3; i >= 0; i--) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

void u256_hex(const u256 *a, char out[65])
{
	for (int i = 3; i >= 0; i--)
		snprintf(out + (3 - i) * 16, 17, "%016llx", (unsigned long long)a->w[i]);
}

int u256_from_hex(const char *hex, u256 *a)
{
	uint8_t be[32];

	if (hash_hex_decode(hex, be, 32) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = (v << 8) | be[(3 - i) * 8 + j];
		a->w[i] = v;
	}
	return 0;
}
