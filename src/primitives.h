/*
 * primitives.h — transactions and blocks in Bitcoin's serialization:
 * txid, 80-byte header, merkle root, compact targets (nBits), proof of
 * work and chain work.
 *
 * Hashes are stored in serialized (internal) byte order; RPC shows them
 * reversed (hash_hex_reversed). Work is a 256-bit integer kept as a
 * little-endian array of four uint64 words, enough for any chain.
 *
 * Decoders never read past their input and never trust a count: a count
 * larger than the bytes left could hold is rejected before allocating.
 */
#ifndef MR_PRIMITIVES_H
#define MR_PRIMITIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block_header.h"
#include "ser.h"

#define COIN 100000000LL
#define MAX_MONEY (21000000LL * COIN)
#define MAX_BLOCK_SIZE 1000000            /* serialized bytes */
#define MAX_BLOCK_SIGOPS 20000
#define MAX_SCRIPT_SIZE 10000
#define MAX_TX_IO 100000                   /* inputs or outputs per tx */

struct outpoint {
	uint8_t txid[32];
	uint32_t n;
};

struct txin {
	struct outpoint prevout;
	uint8_t *script_sig; /* owned */
	size_t script_sig_len;
	uint32_t sequence;
};

struct txout {
	int64_t value;
	uint8_t *script_pubkey; /* owned */
	size_t script_pubkey_len;
};

struct tx {
	int32_t version;
	size_t n_in, n_out;
	struct txin *vin;   /* owned */
	struct txout *vout; /* owned */
	uint32_t locktime;
	uint8_t txid[32];   /* set by tx_decode / tx_finalize */
	size_t size;        /* serialized bytes; set likewise */
};

/* Free what t owns and zero it. Accepts NULL. */
void tx_clear(struct tx *t);

/* Deep copy src into dst (dst uninitialised). Returns 0 or -1 (no memory;
 * dst is then cleared). */
int tx_copy(struct tx *dst, const struct tx *src);

/* Append the serialization of t. */
void tx_encode(struct wbuf *w, const struct tx *t);

/* Compute t->txid and t->size from its fields (after building one). */
void tx_finalize(struct tx *t);

/*
 * Read one transaction from r into t (t uninitialised), setting txid and
 * size. Returns 0, or -1 with r->err set (truncated, malformed, a count or
 * script over the limits) and t cleared.
 */
int tx_decode(struct rbuf *r, struct tx *t);

/* A whole buffer as exactly one transaction (no trailing bytes). */
int tx_decode_bytes(const uint8_t *p, size_t len, struct tx *t);

/* A coinbase has one input whose prevout is null (zero txid, n = ~0). */
bool tx_is_coinbase(const struct tx *t);

/* Sum of output values; -1 if one is negative, over MAX_MONEY, or the sum
 * is. */
int64_t tx_value_out(const struct tx *t);

/* Virtual size: without witnesses, the serialized size. */
static inline int32_t tx_vsize(const struct tx *t) { return (int32_t)t->size; }

struct block {
	struct block_header header;
	size_t n_tx;
	struct tx *txs; /* owned */
	uint8_t hash[32];   /* set by block_decode / block_finalize */
	size_t size;        /* serialized bytes */
};

void block_clear(struct block *b);
void block_encode(struct wbuf *w, const struct block *b);
/* Compute hash and size (after building or changing the header). */
void block_finalize(struct block *b);
/* A whole buffer as one block (no trailing bytes). Returns 0 or -1. */
int block_decode_bytes(const uint8_t *p, size_t len, struct block *b);

/*
 * Merkle root of the block's txids (Bitcoin's: an odd level duplicates its
 * last hash). *mutated is set if two identical hashes were paired on some
 * level (CVE-2012-2459), which makes a block invalid. Zero for no tx.
 */
void block_merkle_root(const struct block *b, uint8_t root[32], bool *mutated);
void block_compute_merkle_root(const uint8_t (*hashes)[32], size_t n, uint8_t root[32], bool *mutated);

/* ---- Compact targets and work ---------------------------------------- */

typedef struct { uint64_t w[4]; } u256; /* w[0] least significant */

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

void u256_add(u256 *a, const u256 *b);                /* a += b (mod 2^256) */
int u256_cmp(const u256 *a, const u256 *b);           /* -1, 0, 1 */
/* Big-endian hex, 64 digits (as Bitcoin's chainwork). */
void u256_hex(const u256 *a, char out[65]);
/* Parse what u256_hex prints. Returns 0 or -1. */
int u256_from_hex(const char *hex, u256 *a);

#endif
