/*
 * block.h — blocks: the 80-byte header (block_header.h) and the
 * transactions, their serialization, hash and merkle root.
 *
 * Like tx_decode, block_decode_bytes never reads past its input and never
 * trusts a count.
 */
#ifndef MR_BLOCK_H
#define MR_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block_header.h"
#include "ser.h"
#include "tx.h"

#define MAX_BLOCK_SIZE 1000000            /* serialized bytes */
#define MAX_BLOCK_SIGOPS 20000

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
/* The same over n hashes (Bitcoin Core's ComputeMerkleRoot). */
void block_compute_merkle_root(const uint8_t (*hashes)[32], size_t n, uint8_t root[32],
			       bool *mutated);

#endif
