/*
 * block_header.c — the 80-byte block header (block_header.h).
 */
#include "block_header.h"

#include <string.h>

#include "hash.h"

void block_header_encode(struct wbuf *out, const struct block_header *h)
{
	wbuf_i32(out, h->version);
	wbuf_bytes(out, h->prev_block, sizeof(h->prev_block));
	wbuf_bytes(out, h->merkle_root, sizeof(h->merkle_root));
	wbuf_u32(out, h->time);
	wbuf_u32(out, h->bits);
	wbuf_u32(out, h->nonce);
}

void block_header_decode(struct rbuf *r, struct block_header *h)
{
	h->version = rbuf_i32(r);
	rbuf_bytes(r, h->prev_block, sizeof(h->prev_block));
	rbuf_bytes(r, h->merkle_root, sizeof(h->merkle_root));
	h->time = rbuf_u32(r);
	h->bits = rbuf_u32(r);
	h->nonce = rbuf_u32(r);
}

void block_header_hash(const struct block_header *h, uint8_t out[32])
{
	/* Serialize on the stack: 80 bytes, no allocation to fail. */
	uint8_t raw[BLOCK_HEADER_SIZE];
	uint32_t fields[4] = { (uint32_t)h->version, h->time, h->bits, h->nonce };
	uint8_t le[4][4];

	for (int f = 0; f < 4; f++)
		for (int i = 0; i < 4; i++)
			le[f][i] = (uint8_t)(fields[f] >> (8 * i));
	memcpy(raw, le[0], 4);
	memcpy(raw + 4, h->prev_block, 32);
	memcpy(raw + 36, h->merkle_root, 32);
	memcpy(raw + 68, le[1], 4);
	memcpy(raw + 72, le[2], 4);
	memcpy(raw + 76, le[3], 4);
	hash_sha256d(raw, sizeof(raw), out);
}
