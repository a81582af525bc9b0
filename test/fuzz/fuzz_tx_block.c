/*
 * fuzz_tx_block.c — transaction and block deserialization (the `tx` and
 * `block` payloads, submitblock, sendrawtransaction, the block store and
 * the wallet file all go through them).
 *
 * The first byte chooses transaction (even) or block (odd); the rest is
 * the serialization. What decodes must encode back to the same bytes, and
 * a transaction's txid must be the double SHA-256 of those bytes.
 */
#include <string.h>

#include "block.h"
#include "fuzz.h"
#include "hash.h"
#include "ser.h"

static void tx_case(const uint8_t *p, size_t len)
{
	struct tx t, copy;
	struct wbuf w;
	uint8_t txid[32];

	if (tx_decode_bytes(p, len, &t) < 0)
		return;
	ser_write_init(&w);
	tx_encode(&w, &t);
	FUZZ_ASSERT(!w.oom && w.len == len && memcmp(w.data, p, len) == 0);
	ser_write_free(&w);
	hash_sha256d(p, len, txid);
	FUZZ_ASSERT(memcmp(txid, t.txid, 32) == 0);
	FUZZ_ASSERT(tx_copy(&copy, &t) == 0);
	FUZZ_ASSERT(memcmp(copy.txid, t.txid, 32) == 0);
	tx_clear(&copy);
	(void)tx_value_out(&t);
	(void)tx_is_coinbase(&t);
	tx_clear(&t);
}

static void block_case(const uint8_t *p, size_t len)
{
	struct block b;
	struct wbuf w;
	uint8_t root[32];
	bool mutated;

	if (block_decode_bytes(p, len, &b) < 0)
		return;
	ser_write_init(&w);
	block_encode(&w, &b);
	FUZZ_ASSERT(!w.oom && w.len == len && memcmp(w.data, p, len) == 0);
	ser_write_free(&w);
	block_merkle_root(&b, root, &mutated);
	block_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		tx_case(data + 1, size - 1);
	else
		block_case(data + 1, size - 1);
	return 0;
}
