/*
 * block.c — blocks: serialization, hash, merkle roots.
 */
#include "block.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

void block_clear(struct block *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->txs && i < b->n_tx; i++)
		tx_clear(&b->txs[i]);
	free(b->txs);
	memset(b, 0, sizeof(*b));
}

void block_encode(struct wbuf *w, const struct block *b)
{
	block_header_encode(w, &b->header);
	ser_write_compact(w, b->n_tx);
	for (size_t i = 0; i < b->n_tx; i++)
		tx_encode(w, &b->txs[i]);
}

void block_finalize(struct block *b)
{
	struct wbuf w;

	block_header_hash(&b->header, b->hash);
	ser_write_init(&w);
	block_encode(&w, b);
	b->size = w.len;
	ser_write_free(&w);
}

int block_decode_bytes(const uint8_t *p, size_t len, struct block *b)
{
	struct rbuf r;

	memset(b, 0, sizeof(*b));
	ser_read_init(&r, p, len);
	block_header_decode(&r, &b->header);
	b->n_tx = ser_read_count(&r, 60, MAX_BLOCK_SIZE / 60);
	b->txs = calloc(b->n_tx ? b->n_tx : 1, sizeof(*b->txs));
	if (!b->txs)
		r.err = true;
	size_t done = 0;
	while (!r.err && done < b->n_tx) {
		if (tx_decode(&r, &b->txs[done]) < 0)
			break;
		done++;
	}
	if (r.err || !ser_read_done(&r)) {
		b->n_tx = done;
		block_clear(b);
		return -1;
	}
	block_header_hash(&b->header, b->hash);
	b->size = len;
	return 0;
}

void block_compute_merkle_root(const uint8_t (*hashes)[32], size_t n, uint8_t root[32],
			       bool *mutated)
{
	uint8_t (*level)[32];
	bool mut = false;

	if (mutated)
		*mutated = false;
	if (n == 0) {
		memset(root, 0, 32);
		return;
	}
	level = malloc(n * 32);
	if (!level)
		abort(); /* a block's worth of hashes; nothing sane to do */
	memcpy(level, hashes, n * 32);
	while (n > 1) {
		size_t m = 0;
		for (size_t i = 0; i < n; i += 2) {
			size_t j = i + 1 < n ? i + 1 : i;
			uint8_t pair[64];
			if (j != i && memcmp(level[i], level[j], 32) == 0)
				mut = true;
			memcpy(pair, level[i], 32);
			memcpy(pair + 32, level[j], 32);
			hash_sha256d(pair, 64, level[m++]);
		}
		n = m;
	}
	memcpy(root, level[0], 32);
	free(level);
	if (mutated)
		*mutated = mut;
}

void block_merkle_root(const struct block *b, uint8_t root[32], bool *mutated)
{
	uint8_t (*ids)[32] = malloc((b->n_tx ? b->n_tx : 1) * 32);

	if (!ids)
		abort();
	for (size_t i = 0; i < b->n_tx; i++)
		memcpy(ids[i], b->txs[i].txid, 32);
	block_compute_merkle_root((const uint8_t (*)[32])ids, b->n_tx, root, mutated);
	free(ids);
}
