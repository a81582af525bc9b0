/*
 * coins.h — the UTXO set: an in-memory cache of coins over the on-disk
 * chainstate (LevelDB, DATADIR/chainstate).
 *
 * Each cache entry remembers whether it differs from the database (DIRTY)
 * and whether the database has never seen it (FRESH). A FRESH coin that is
 * spent is simply forgotten; a flush writes only DIRTY entries, deleting
 * spent ones, and writes the best-block hash in the same atomic batch, so
 * the database always describes the UTXO set as of exactly that block.
 *
 * Tracepoints: utxocache:add, utxocache:spent, utxocache:uncache (per
 * coin) and utxocache:flush (per flush that writes).
 *
 * On disk: key 'C' || txid || n (4 bytes, big-endian so a txid's outputs
 * sort together) -> CompactSize(height * 2 + coinbase) || value (8 LE) ||
 * CompactSize(script length) || script; key 'B' -> best block hash.
 */
#ifndef MR_COINS_H
#define MR_COINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coin.h"
#include "tx.h"

struct db;

/* Flush modes, numbered as the utxocache:flush tracepoint reports them. */
enum coins_flush_mode {
	COINS_FLUSH_NONE = 0,
	COINS_FLUSH_IF_NEEDED = 1,
	COINS_FLUSH_PERIODIC = 2,
	COINS_FLUSH_ALWAYS = 3,
};

/* "NONE", "IF_NEEDED", "PERIODIC", "ALWAYS" ("?" otherwise). */
const char *coins_flush_mode_name(uint32_t mode);

struct coins_cache;

/* A cache over db (which must outlive it) using at most limit_bytes
 * before coins_flush(IF_NEEDED) writes. NULL if out of memory. */
struct coins_cache *coins_cache_new(struct db *db, size_t limit_bytes);

/* Free the cache without writing anything. Accepts NULL. */
void coins_cache_free(struct coins_cache *c);

/*
 * Read the best block the database describes into hash. Returns 1, 0 for
 * a new (empty) database, -1 on a read error (message in err).
 */
int coins_db_best_block(struct db *db, uint8_t hash[32], char *err, size_t errlen);

/*
 * The unspent coin at op, loading it from the database into the cache if
 * needed. NULL if there is none (or a read error, which is logged and
 * sets coins_cache_failed). The pointer is valid until the next call that
 * changes the cache.
 */
const struct coin *coins_get(struct coins_cache *c, const struct outpoint *op);

/* True if op is in the cache (spent or not) without touching the disk. */
bool coins_in_cache(const struct coins_cache *c, const struct outpoint *op);

/*
 * Add a coin (moved in: *coin is zeroed). Unless possible_overwrite, an
 * unspent coin already at op is a logic error (returns -1, nothing
 * changes). Fires utxocache:add. Returns 0 or -1 (no memory).
 */
int coins_add(struct coins_cache *c, const struct outpoint *op, struct coin *coin,
	      bool possible_overwrite);

/*
 * Spend the coin at op; when moved_out is not NULL the coin is moved there
 * (for undo data). Fires utxocache:spent. Returns 0, or -1 if there is no
 * unspent coin at op.
 */
int coins_spend(struct coins_cache *c, const struct outpoint *op, struct coin *moved_out);

/*
 * Drop op from the cache if it is there unmodified (neither DIRTY nor
 * FRESH), as after a lookup for a transaction that was then rejected.
 * Fires utxocache:uncache when it drops one.
 */
void coins_uncache(struct coins_cache *c, const struct outpoint *op);

/* The block the cache's coins correspond to (after connecting it). */
void coins_set_best_block(struct coins_cache *c, const uint8_t hash[32]);
void coins_get_best_block(const struct coins_cache *c, uint8_t hash[32]);

/* Entries in the cache (spent ones included) and its memory use. */
size_t coins_cache_count(const struct coins_cache *c);
size_t coins_cache_usage(const struct coins_cache *c);
size_t coins_cache_limit(const struct coins_cache *c);

/*
 * Write every DIRTY entry and the best block in one atomic, synced batch,
 * then empty the cache (erase) or just clear the flags. `mode` is only
 * reported (utxocache:flush fires after the write with the duration, the
 * mode, the entries and memory before the flush). Returns 0, or -1 with
 * the reason in err (the cache is unchanged, so nothing is lost).
 */
int coins_flush(struct coins_cache *c, uint32_t mode, bool erase, char *err, size_t errlen);

/* True once a database read failed: the node must stop rather than treat
 * a coin it could not read as missing. */
bool coins_cache_failed(const struct coins_cache *c);

/*
 * Visit every unspent coin of the flushed database in key order (the
 * caller flushes first). cb returns non-zero to stop. Returns 0, cb's
 * value, or -1 on a read or decode error.
 */
typedef int (*coins_visit_fn)(void *ctx, const struct outpoint *op, const struct coin *coin);
int coins_db_foreach(struct db *db, coins_visit_fn cb, void *ctx, char *err, size_t errlen);

#endif
