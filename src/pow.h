/*
 * pow.h — proof of work: compact targets (nBits), whether a hash meets
 * one, and the work a block with a given nBits proves (chain work).
 */
#ifndef MR_POW_H
#define MR_POW_H

#include <stdbool.h>
#include <stdint.h>

#include "u256.h"

/*
 * Decode nBits into a 256-bit target. Returns 0, or -1 if the target is
 * negative, zero or overflows 256 bits (such bits are invalid).
 */
int pow_target_from_bits(uint32_t bits, u256 *target);

/* The compact form of target (inverse of pow_target_from_bits, rounding down). */
uint32_t pow_target_to_bits(const u256 *target);

/* True if the hash, read as a little-endian 256-bit number, is <= target. */
bool pow_hash_meets_target(const uint8_t hash[32], const u256 *target);

/* Work a block with this target proves: 2^256 / (target + 1). */
void pow_work_from_bits(uint32_t bits, u256 *work);

#endif
