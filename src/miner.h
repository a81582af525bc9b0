/*
 * miner.h — block assembly and proof-of-work grinding for
 * generatetoaddress / generateblock.
 *
 * The coinbase pays the subsidy plus the fees of the included
 * transactions to the given scriptPubKey; its scriptSig is the BIP34
 * height push followed by an 8-byte extra nonce, so every coinbase is
 * unique. With the regtest target about every second header hash meets
 * the target.
 */
#ifndef MR_MINER_H
#define MR_MINER_H

#include <stddef.h>
#include <stdint.h>

#include "mempool.h"
#include "chainstate.h"

/*
 * Build a block on the tip paying to spk: with txs (n of them, in order)
 * when txs is not NULL, else the best of the mempool (mp may be NULL for
 * none). Fees are looked up through the chain and mempool. Then grind the
 * nonce. Returns 0 (out filled; caller clears), or -1 with the reason.
 */
int miner_create_block(struct chainstate *cs, struct mempool *mp, const uint8_t *spk,
		       size_t spk_len, const struct tx *txs, size_t n, struct block *out,
		       char reason[CHAIN_REASON_MAX]);

#endif
