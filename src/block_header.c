/*
 * block_header.c — the 80-byte block header (block_header.h).
 */
#include "block_header.h"

#include <string.h>

#include "hash.h"

void block_header_encode(struct wbuf *out, const struct block_header *h)
{
	ser_write_i32(out, h->version);
	ser_write_bytes(out, h->prev_block, sizeof(h->prev_block));
	ser_write_bytes(out, h->merkle_root, sizeof(h->merkle_root));
	ser_write_u32(out, h->time);
	ser_write_u32(out, h->bits);
	ser_write_u32(out, h->nonce);
}

void block_header_decode(struct rbuf *r, struct block_header *h)
{
	h->version = ser_read_i32(r);
	ser_read_bytes(r, h->prev_block, sizeof(h->prev_block));
	ser_read_bytes(r, h->merkle_root, sizeof(h->merkle_root));
	h->time = ser_read_u32(r);
	h->bits = ser_read_u32(r);
	h->nonce = ser_read_u32(r);
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
