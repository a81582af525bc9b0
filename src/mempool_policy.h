/*
 * mempool_policy.h — the arithmetic of the mempool's policy (mempool.h),
 * factored out of mempool.c so it can be tested on its own. Internal to
 * the mempool and its unit tests (test/unit/test_mempool.c).
 *
 * Fee rates compare as fee / vsize without division (128-bit products),
 * so no rounding decides anything.
 */
#ifndef MR_MEMPOOL_POLICY_H
#define MR_MEMPOOL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mempool.h"

/*
 * The fee a rate of feerate sat per 1000 vbytes asks of vsize vbytes:
 * feerate * vsize / 1000 rounded down, but at least 1 sat when both are
 * positive (Bitcoin's CFeeRate::GetFee). 0 for a non-positive rate or size.
 */
int64_t mempool_policy_min_fee(int64_t feerate, int32_t vsize);

/* Compare fee_a/vsize_a with fee_b/vsize_b: -1, 0 or 1. Sizes must be
 * positive. */
int mempool_policy_feerate_cmp(int64_t fee_a, int32_t vsize_a, int64_t fee_b, int32_t vsize_b);

/*
 * The replacement rules for a transaction paying fee for vsize that would
 * evict n_replaced transactions (the conflicts and all their descendants)
 * paying replaced_fees in total, the highest fee rate among them being
 * top_fee / top_vsize:
 *   - at most MEMPOOL_MAX_REPLACED, else "txn-mempool-conflict";
 *   - a fee rate strictly higher than each (so than the top one), else
 *     "insufficient fee";
 *   - fee >= replaced_fees + mempool_policy_min_fee(min_relay_feerate,
 *     vsize), else "insufficient fee".
 * Returns 0, or -1 with the reason. n_replaced == 0 always passes.
 */
int mempool_policy_check_replacement(int64_t fee, int32_t vsize, size_t n_replaced,
				     int64_t replaced_fees, int64_t top_fee, int32_t top_vsize,
				     int64_t min_relay_feerate, char reason[CHAIN_REASON_MAX]);

/* An entry from entry_time has expired at now_s when it is older than
 * expiry_s: now_s - entry_time > expiry_s (Bitcoin's Expire). */
bool mempool_policy_expired(int64_t entry_time, int64_t now_s, int64_t expiry_s);

/*
 * Size-limit order: negative if a is evicted before b. Lowest fee rate
 * first; at equal rates the newer entry (later time) first; then txid, so
 * the order is total.
 */
int mempool_policy_evict_cmp(const struct mempool_entry *a, const struct mempool_entry *b);

/*
 * Block-template order among entries whose in-mempool parents are already
 * chosen: negative if a is taken before b. Highest fee rate first; at
 * equal rates the older entry first; then txid.
 */
int mempool_policy_select_cmp(const struct mempool_entry *a, const struct mempool_entry *b);

#endif
