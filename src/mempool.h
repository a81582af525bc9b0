/*
 * mempool.h — unconfirmed transactions waiting for a block.
 *
 * Policy: a transaction is accepted if it passes tx_check and
 * tx_check_inputs against the chain plus the mempool (children of
 * unconfirmed parents are allowed), every output and every spent output is
 * P2PKH (others are "non-standard" / "scriptpubkey"), it is at most
 * MEMPOOL_MAX_TX_SIZE bytes, and it pays at least the minimum relay fee
 * rate (sat per 1000 vbytes) — "min relay fee not met".
 *
 * Replacement (in the spirit of BIP125, without signalling): a
 * transaction that spends an output an in-mempool transaction spends
 * replaces it, with all of that one's descendants, if it pays a higher
 * fee rate than each and an absolute fee at least their total fee plus
 * the relay fee for its own size; otherwise "txn-mempool-conflict" or
 * "insufficient fee". At most 100 transactions are replaced at once.
 *
 * Limits: entries older than expiry_s are removed ("expiry") at the next
 * mempool_trim; past max_bytes (sum of vsizes) the lowest fee-rate
 * entries and their descendants go ("sizelimit").
 *
 * Coins loaded into the chain's coins cache only to check a transaction
 * that is then rejected are uncached again (coins_uncache).
 *
 * Tracepoints: mempool:added, mempool:removed (reasons "expiry",
 * "sizelimit", "reorg", "block", "conflict", "replaced"),
 * mempool:replaced (once per replaced transaction, before its removed),
 * mempool:rejected.
 */
#ifndef MR_MEMPOOL_H
#define MR_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "chainstate.h"

#define MEMPOOL_MAX_TX_SIZE 100000
#define MEMPOOL_DEFAULT_MIN_RELAY_FEERATE 1000 /* sat/kvB */
#define MEMPOOL_MAX_REPLACED 100

struct mempool_entry {
	struct tx tx;
	int64_t fee;
	int32_t vsize;
	int64_t time;          /* entry time, UNIX seconds */
	int32_t height;        /* chain height when it entered */
};

struct mempool_params {
	size_t max_bytes;           /* -maxmempool (MB) in bytes */
	int64_t expiry_s;           /* -mempoolexpiry (hours) in seconds */
	int64_t min_relay_feerate;  /* sat/kvB */
};

struct mempool;

/* Told about every entry that enters or leaves (the wallet follows its
 * own transactions this way). Called after mempool:added, and before the
 * entry is freed on removal; a listener must not change the mempool. */
struct mempool_listener {
	void (*tx_added)(void *ctx, const struct mempool_entry *e);
	void (*tx_removed)(void *ctx, const struct mempool_entry *e, const char *reason);
	void *ctx;
};
#define MEMPOOL_MAX_LISTENERS 2

/* A mempool over the chain cs (which must outlive it). */
struct mempool *mempool_new(struct chainstate *cs, const struct mempool_params *p);
void mempool_free(struct mempool *mp);

/*
 * Try to accept t (copied). With test_only nothing changes (and no
 * tracepoint fires) — testmempoolaccept. *fee and *vsize are set when
 * the checks got that far (fee may be NULL). Returns 0 accepted (or would
 * be), -1 rejected with reason (at most CHAIN_REASON_MAX incl. NUL;
 * "txn-already-in-mempool" for a duplicate).
 */
int mempool_accept(struct mempool *mp, const struct tx *t, bool test_only, int64_t *fee,
		   int32_t *vsize, char reason[CHAIN_REASON_MAX]);

/* Add a listener (at most MEMPOOL_MAX_LISTENERS; more are ignored). */
void mempool_listen(struct mempool *mp, const struct mempool_listener *l);

/* Chain changes (register with chainstate_listen through these). */
void mempool_block_connected(void *mp, const struct block *b, const struct block_index *bi);
void mempool_block_disconnected(void *mp, const struct block *b, const struct block_index *bi);

/* Expire old entries and enforce the size limit (call periodically; the
 * mempool also does it itself when a block connects after a disconnect,
 * since a reorganisation re-adds transactions). now_s is UNIX time. */
void mempool_trim(struct mempool *mp, int64_t now_s);

/* Lookup; NULL if absent. Valid until the mempool changes. */
const struct mempool_entry *mempool_get(const struct mempool *mp, const uint8_t txid[32]);

size_t mempool_count(const struct mempool *mp);
size_t mempool_bytes(const struct mempool *mp);      /* sum of vsizes */
size_t mempool_usage(const struct mempool *mp);      /* memory estimate */
int64_t mempool_total_fee(const struct mempool *mp);

/* Visit every entry (any order). */
void mempool_foreach(const struct mempool *mp,
		     void (*cb)(void *ctx, const struct mempool_entry *e), void *ctx);

/*
 * Entries for a new block, parents before children, highest fee rate
 * first, at most max_bytes of transactions. Fills out (caller frees the
 * array, not the entries) and returns the count.
 */
size_t mempool_select_for_block(const struct mempool *mp, size_t max_bytes,
				const struct mempool_entry ***out);

#endif
