/*
 * block_header.h — the 80-byte block header: its fields, serialization and
 * hash. It sits below both users: block.h (a block is a header and
 * transactions) and the wire layer (msg.h: headers messages), so neither
 * depends on the other for it.
 */
#ifndef MR_BLOCK_HEADER_H
#define MR_BLOCK_HEADER_H

#include <stdint.h>

#include "ser.h"

#define BLOCK_HEADER_SIZE 80

/* Hashes are in serialized (not display) order. */
struct block_header {
	int32_t version;
	uint8_t prev_block[32];
	uint8_t merkle_root[32];
	uint32_t time;
	uint32_t bits;
	uint32_t nonce;
};

/* The 80 serialized bytes of a header. */
void block_header_encode(struct wbuf *out, const struct block_header *h);
/* Read 80 bytes into h; a short input sets r's error flag (ser.h). */
void block_header_decode(struct rbuf *r, struct block_header *h);
/* The block hash: SHA256d of the 80 bytes (display with hash_hex_reversed). */
void block_header_hash(const struct block_header *h, uint8_t out[32]);

#endif
