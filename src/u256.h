/*
 * u256.h — 256-bit unsigned integers, enough for any target or chain
 * work: a little-endian array of four uint64 words.
 */
#ifndef MR_U256_H
#define MR_U256_H

#include <stdbool.h>
#include <stdint.h>

typedef struct { uint64_t w[4]; } u256; /* w[0] least significant */

void u256_add(u256 *a, const u256 *b);                /* a += b (mod 2^256) */
int u256_cmp(const u256 *a, const u256 *b);           /* -1, 0, 1 */
/* Big-endian hex, 64 digits (as Bitcoin's chainwork). */
void u256_hex(const u256 *a, char out[65]);
/* Parse what u256_hex prints. Returns 0 or -1. */
int u256_from_hex(const char *hex, u256 *a);
void u256_shl(u256 *a, unsigned s);                   /* a <<= s (s < 256) */
void u256_shr1(u256 *a);                              /* a >>= 1 */
int u256_bits(const u256 *a);                         /* bit length; 0 for 0 */
bool u256_is_zero(const u256 *a);
void u256_sub(u256 *a, const u256 *b);                /* a -= b (mod 2^256) */

#endif
