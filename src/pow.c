/*
 * pow.c — proof of work: compact targets (nBits), the hash check, and the
 * work a block proves.
 */
#include "pow.h"

#include <string.h>

int pow_target_from_bits(uint32_t bits, u256 *target)
{
	unsigned size = bits >> 24;
	uint32_t mant = bits & 0x007fffff;

	memset(target, 0, sizeof(*target));
	if (bits & 0x00800000)
		return -1; /* negative */
	if (size <= 3) {
		target->w[0] = mant >> (8 * (3 - size));
	} else {
		if (mant && (size > 34 || (mant > 0xff && size > 33) || (mant > 0xffff && size > 32)))
			return -1; /* overflow */
		target->w[0] = mant;
		u256_shl(target, 8 * (size - 3));
	}
	return u256_is_zero(target) ? -1 : 0;
}

uint32_t pow_target_to_bits(const u256 *target)
{
	unsigned size = (unsigned)(u256_bits(target) + 7) / 8;
	uint64_t mant;

	if (size <= 3) {
		mant = target->w[0] << (8 * (3 - size));
	} else {
		u256 t = *target;
		for (unsigned i = 0; i < 8 * (size - 3); i++)
			u256_shr1(&t);
		mant = t.w[0];
	}
	if (mant & 0x00800000) { /* keep the sign bit clear */
		mant >>= 8;
		size++;
	}
	return (uint32_t)(mant | (uint64_t)size << 24);
}

bool pow_hash_meets_target(const uint8_t hash[32], const u256 *target)
{
	u256 h;

	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 7; j >= 0; j--)
			v = (v << 8) | hash[i * 8 + j];
		h.w[i] = v;
	}
	return u256_cmp(&h, target) <= 0;
}

/*
 * 2^256 / (t + 1) == (~t / (t + 1)) + 1, which stays within 256 bits.
 * Long division, bit by bit: work is computed once per header.
 */
void pow_work_from_bits(uint32_t bits, u256 *work)
{
	u256 t, num, den, q = { { 0 } }, rem = { { 0 } };
	static const u256 one = { { 1, 0, 0, 0 } };

	memset(work, 0, sizeof(*work));
	if (pow_target_from_bits(bits, &t) < 0)
		return;
	for (int i = 0; i < 4; i++)
		num.w[i] = ~t.w[i];
	den = t;
	u256_add(&den, &one);
	if (u256_is_zero(&den)) { /* t was 2^256-1 */
		*work = one;
		return;
	}
	for (int bit = 255; bit >= 0; bit--) {
		u256_shl(&rem, 1);
		rem.w[0] |= (num.w[bit / 64] >> (bit % 64)) & 1;
		u256_shl(&q, 1);
		if (u256_cmp(&rem, &den) >= 0) {
			u256_sub(&rem, &den);
			q.w[0] |= 1;
		}
	}
	u256_add(&q, &one);
	*work = q;
}
