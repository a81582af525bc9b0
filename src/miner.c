/*
 * miner.c — assemble a block from a coinbase and transactions, then grind.
 */
#include "miner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "util.h"

/* Coinbase reserve in a block: header, counts and a generous coinbase. */
#define COINBASE_RESERVE 1000

static uint64_t extra_nonce;

static int make_coinbase(struct tx *cb, int32_t height, int64_t value, const uint8_t *spk,
			 size_t spk_len)
{
	uint8_t sig[16];
	size_t n = 0;

	n = chainstate_height_push(height, sig);
	sig[n++] = 8;
	extra_nonce++;
	memcpy(sig + n, &extra_nonce, 8);
	n += 8;
	memset(cb, 0, sizeof(*cb));
	cb->version = 1;
	cb->n_in = cb->n_out = 1;
	cb->vin = calloc(1, sizeof(*cb->vin));
	cb->vout = calloc(1, sizeof(*cb->vout));
	if (!cb->vin || !cb->vout)
		return -1;
	cb->vin[0].prevout.n = UINT32_MAX;
	cb->vin[0].sequence = UINT32_MAX;
	cb->vin[0].script_sig = malloc(n);
	cb->vout[0].script_pubkey = malloc(spk_len ? spk_len : 1);
	if (!cb->vin[0].script_sig || !cb->vout[0].script_pubkey)
		return -1;
	memcpy(cb->vin[0].script_sig, sig, n);
	cb->vin[0].script_sig_len = n;
	memcpy(cb->vout[0].script_pubkey, spk, spk_len);
	cb->vout[0].script_pubkey_len = spk_len;
	cb->vout[0].value = value;
	tx_finalize(cb);
	return 0;
}

/* Fee of t: inputs from the chain's coins or an earlier tx of the list. */
struct fee_ctx {
	struct coins_cache *coins;
	const struct tx *txs;
	size_t n;
};

static int64_t input_value(struct fee_ctx *f, const struct outpoint *op)
{
	for (size_t i = 0; i < f->n; i++)
		if (memcmp(f->txs[i].txid, op->txid, 32) == 0)
			return op->n < f->txs[i].n_out ? f->txs[i].vout[op->n].value : -1;
	const struct coin *c = coins_get(f->coins, op);
	return c ? c->value : -1;
}

static int sum_fees(struct chainstate *cs, const struct tx *txs, size_t n, int64_t *fees,
		    char reason[CHAIN_REASON_MAX])
{
	struct fee_ctx f = { chainstate_coins(cs), txs, n };

	*fees = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t in = 0;
		for (size_t j = 0; j < txs[i].n_in; j++) {
			int64_t v = input_value(&f, &txs[i].vin[j].prevout);
			if (v < 0) {
				snprintf(reason, CHAIN_REASON_MAX, "bad-txns-inputs-missingorspent");
				return -1;
			}
			in += v;
		}
		int64_t out = tx_value_out(&txs[i]);
		if (out < 0 || in < out) {
			snprintf(reason, CHAIN_REASON_MAX, "bad-txns-in-belowout");
			return -1;
		}
		*fees += in - out;
	}
	return 0;
}

static void grind(struct block *b)
{
	u256 target;

	pow_target_from_bits(b->header.bits, &target);
	for (;;) {
		block_header_hash(&b->header, b->hash);
		if (pow_hash_meets_target(b->hash, &target))
			return;
		if (++b->header.nonce == 0)
			b->header.time++;
	}
}

int miner_create_block(struct chainstate *cs, struct mempool *mp, const uint8_t *spk,
		       size_t spk_len, const struct tx *txs, size_t n, struct block *out,
		       char reason[CHAIN_REASON_MAX])
{
	const struct block_index *tip = chainstate_tip(cs);
	const struct mempool_entry **sel = NULL;
	int32_t height = tip->height + 1;
	int64_t fees = 0;
	size_t k = n;

	memset(out, 0, sizeof(*out));
	if (!txs && mp)
		k = mempool_select_for_block(mp, MAX_BLOCK_SIZE - COINBASE_RESERVE, &sel);
	out->txs = calloc(k + 1, sizeof(*out->txs));
	if (!out->txs)
		goto oom;
	out->n_tx = 1;
	for (size_t i = 0; i < k; i++) {
		if (tx_copy(&out->txs[i + 1], txs ? &txs[i] : &sel[i]->tx) < 0)
			goto oom;
		out->n_tx++;
		fees += txs ? 0 : sel[i]->fee;
	}
	free(sel);
	sel = NULL;
	if (txs && sum_fees(cs, out->txs + 1, n, &fees, reason) < 0) {
		block_clear(out);
		return -1;
	}
	if (make_coinbase(&out->txs[0], height, chainstate_subsidy(height) + fees, spk, spk_len) < 0)
		goto oom;
	out->header.version = 1;
	memcpy(out->header.prev_block, tip->hash, 32);
	int64_t now = util_time_s();
	out->header.time = (uint32_t)(now > tip->mtp ? now : tip->mtp + 1);
	out->header.bits = CHAIN_POW_BITS;
	block_merkle_root(out, out->header.merkle_root, NULL);
	grind(out);
	block_finalize(out);
	return 0;
oom:
	free(sel);
	block_clear(out);
	snprintf(reason, CHAIN_REASON_MAX, "out of memory");
	return -1;
}
