/*
 * chainstate.h — the chain: block index, block store, consensus checks,
 * connecting and disconnecting blocks against the coins cache, and
 * following the chain with the most work (reorganising when needed).
 *
 * Consensus (regtest-like): every block has nBits CHAIN_POW_BITS (no
 * retargeting), so mining takes a few hashes; the subsidy is 50 coins
 * halving every CHAIN_HALVING_INTERVAL blocks; coinbase outputs mature
 * after COINBASE_MATURITY blocks; the coinbase's scriptSig starts with
 * its block height (BIP34) so coinbase txids are unique.
 *
 * Storage: DATADIR/blocks is a LevelDB holding the block index ('b'),
 * block data ('d') and undo data ('u'); DATADIR/chainstate holds the
 * coins (coins.h). Blocks and undo data are written before the chainstate
 * that depends on them, so after a crash the chainstate's best block is
 * always one the index knows, and start-up replays from there.
 *
 * Tracepoint: validation:block_connected.
 */
#ifndef MR_CHAINSTATE_H
#define MR_CHAINSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "coins.h"
#include "hashmap.h"
#include "tx_check.h"
#include "pow.h"

#define CHAIN_POW_BITS 0x207fffffu
#define CHAIN_HALVING_INTERVAL 150
#define CHAIN_MAX_FUTURE_S (2 * 60 * 60)

/* block_index.status bits */
#define BLOCK_HAVE_DATA 1u
#define BLOCK_HAVE_UNDO 2u
#define BLOCK_FAILED 4u          /* invalid itself */
#define BLOCK_FAILED_CHILD 8u    /* descends from an invalid block */

struct block_index {
	uint8_t hash[32];
	struct block_header header;
	struct block_index *prev;
	int32_t height;
	u256 chainwork;
	uint32_t status;
	uint32_t n_tx;             /* 0 until the data is known */
	uint64_t seq;              /* arrival order: ties go to the first */
	int64_t mtp;               /* median time past of the 11 up to here */
	struct hashmap_node node;  /* in the index, keyed by hash */
};

struct chain_params {
	int64_t dbcache_bytes;     /* coins cache limit (-dbcache MiB) */
	int64_t flush_interval_s;  /* PERIODIC flush (-flushinterval) */
};

/* Told about every change of the active chain, in order. */
struct chain_listener {
	void (*block_connected)(void *ctx, const struct block *b, const struct block_index *bi);
	void (*block_disconnected)(void *ctx, const struct block *b,
				   const struct block_index *bi);
	void *ctx;
};

struct chainstate;

/*
 * Open (or create) the block store and chainstate in datadir, load the
 * index, set the tip to the chainstate's best block and connect any
 * stored blocks with more work. NULL with the reason in err (corrupt or
 * unreadable databases included).
 */
struct chainstate *chainstate_open(const char *datadir, const struct chain_params *p,
				   char *err, size_t errlen);

/* Flush (ALWAYS) and close. Accepts NULL. */
void chainstate_close(struct chainstate *cs);

/* Add a listener (at most 4). */
void chainstate_listen(struct chainstate *cs, const struct chain_listener *l);

/* The genesis block, built from constants. Caller clears it. */
int chainstate_genesis_block(struct block *b);

/* The BIP34 push of a height that starts every coinbase scriptSig (OP_0,
 * OP_1..OP_16, or a minimal little-endian number). Returns its length (at
 * most 6). */
size_t chainstate_height_push(int32_t height, uint8_t out[6]);

/* Block subsidy at a height. */
int64_t chainstate_subsidy(int32_t height);

/* Active chain. */
const struct block_index *chainstate_tip(const struct chainstate *cs);
int32_t chainstate_height(const struct chainstate *cs);
const struct block_index *chainstate_at(const struct chainstate *cs, int32_t height);
bool chainstate_contains(const struct chainstate *cs, const struct block_index *bi);
/* Best header known (may be ahead of the tip while syncing). */
const struct block_index *chainstate_best_header(const struct chainstate *cs);

/* Index lookup by hash; NULL if unknown. */
const struct block_index *chainstate_lookup(const struct chainstate *cs, const uint8_t hash[32]);

struct coins_cache *chainstate_coins(struct chainstate *cs);

/* Visit every coin of the chainstate database (flush first to see the
 * cache's changes). As coins_db_foreach. */
int chainstate_foreach_coin(struct chainstate *cs, coins_visit_fn cb, void *ctx, char *err,
			    size_t errlen);

/*
 * Read a stored block. Returns 0, or -1 (not stored, or unreadable: the
 * reason in err). Caller clears b.
 */
int chainstate_read_block(struct chainstate *cs, const struct block_index *bi,
			  struct block *b, char *err, size_t errlen);

/* The raw serialized bytes of a stored block (malloc'd; caller frees). */
int chainstate_read_block_bytes(struct chainstate *cs, const struct block_index *bi,
				uint8_t **data, size_t *len);

/*
 * Accept a header: proof of work, known and valid parent, time rules.
 * *out is the index entry (new or already known). Returns 0, or -1 with
 * a reason ("prev-blk-not-found", "high-hash", "bad-diffbits",
 * "time-too-old", "time-too-new", "bad-prevblk").
 */
int chainstate_accept_header(struct chainstate *cs, const struct block_header *h,
			     const struct block_index **out, char reason[CHAIN_REASON_MAX]);

/*
 * Process a full block: check it, store it, and move the active chain to
 * the most-work valid chain. *is_new is set if the block was not stored
 * before. Returns 0 if the block is valid as far as known (connected,
 * stored as a side branch, or a duplicate), -1 with a reason if it is
 * invalid ("bad-txnmrklroot", "bad-cb-missing", "bad-txns-inputs-
 * missingorspent", "bad-blk-sigops", ...) or cannot be placed
 * ("prev-blk-not-found").
 */
int chainstate_process_block(struct chainstate *cs, const struct block *b, bool *is_new,
			     char reason[CHAIN_REASON_MAX]);

/* invalidateblock / reconsiderblock. Return 0 or -1 (unknown block,
 * genesis, or a store error: the reason in reason). */
int chainstate_invalidate(struct chainstate *cs, const uint8_t hash[32],
			  char reason[CHAIN_REASON_MAX]);
int chainstate_reconsider(struct chainstate *cs, const uint8_t hash[32],
			  char reason[CHAIN_REASON_MAX]);

/*
 * Flush the coins cache in the given mode (coins.h): NONE does nothing,
 * IF_NEEDED writes if the cache is over its limit, PERIODIC if the last
 * write is older than flush_interval_s, ALWAYS always. Returns 0 or -1.
 */
int chainstate_flush(struct chainstate *cs, uint32_t mode);

/* The median time past the next block must exceed. */
int64_t chainstate_tip_mtp(const struct chainstate *cs);

/* The block locator of the active tip (hashes at exponentially growing
 * depths, genesis last). Returns the count written (at most max). */
size_t chainstate_locator(const struct chainstate *cs, uint8_t (*out)[32], size_t max);

/* The first active-chain block the locator shares with us (genesis if
 * none). */
const struct block_index *chainstate_find_fork(const struct chainstate *cs,
					       const uint8_t (*locator)[32], size_t n);

/* The next index on the path from `from` towards `to`'s chain: used to
 * fetch blocks along the best header chain. NULL if none. */
const struct block_index *chainstate_ancestor(const struct block_index *bi, int32_t height);

/* Number of index entries (getchaintips-style scans). */
size_t chainstate_index_size(const struct chainstate *cs);

/* Visit every index entry. */
void chainstate_foreach_index(const struct chainstate *cs,
			      void (*cb)(void *ctx, const struct block_index *bi), void *ctx);

#endif
