/*
 * tx_check.h — the consensus checks of a transaction, as Bitcoin Core's
 * consensus/tx_check.cpp (CheckTransaction) and tx_verify.cpp
 * (CheckTxInputs): context-free ones, and its inputs against the coins they
 * spend. Used by block validation (chainstate.c) and the mempool.
 */
#ifndef MR_TX_CHECK_H
#define MR_TX_CHECK_H

#include <stdint.h>

#include "coins.h"
#include "block.h"

#define COINBASE_MATURITY 100
#define CHAIN_REASON_MAX 118       /* reason strings, NUL included */

/*
 * Context-free checks of a transaction (Bitcoin's CheckTransaction):
 * inputs and outputs present, values in range, no duplicate inputs,
 * coinbase scriptSig 2..100 bytes, no null prevout in a non-coinbase.
 * Returns 0 or -1 with the reason.
 */
int tx_check(const struct tx *t, char reason[CHAIN_REASON_MAX]);

/*
 * Check a transaction's inputs against coins at spend height `height`:
 * present, mature, value in >= value out, scripts valid. `lookup` returns
 * the coin for an outpoint (NULL if missing). On success *fee is set.
 * Returns 0 or -1 with the reason ("bad-txns-inputs-missingorspent",
 * "bad-txns-premature-spend-of-coinbase", "bad-txns-in-belowout",
 * "mandatory-script-verify-flag-failed (<why>)").
 */
typedef const struct coin *(*coin_lookup_fn)(void *ctx, const struct outpoint *op);
int tx_check_inputs(const struct tx *t, int32_t height, coin_lookup_fn lookup, void *ctx,
		    int64_t *fee, char reason[CHAIN_REASON_MAX]);

#endif
