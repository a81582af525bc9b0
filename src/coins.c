/*
 * coins.c — the coins cache (a hash map keyed by outpoint) and its LevelDB
 * chainstate.
 */
#include "coins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "hashmap.h"
#include "log.h"
#include "tracepoints.h"
#include "util.h"

#define DIRTY 1u
#define FRESH 2u

#define KEY_COIN 'C'
#define KEY_BEST 'B'
#define COIN_KEY_LEN 37

/* Accounted per entry besides its script: the struct plus malloc's
 * bookkeeping, so usage tracks what the process really holds. */
#define ENTRY_OVERHEAD (sizeof(struct entry) + 16)

struct entry {
	struct outpoint op;   /* the key */
	struct coin coin;     /* value < 0: spent */
	unsigned flags;
	struct hashmap_node node;
};

struct coins_cache {
	struct db *db;
	struct hashmap *map;  /* outpoint -> struct entry */
	size_t script_bytes, limit;
	uint8_t best[32];
	bool failed;
};

const char *coins_flush_mode_name(uint32_t mode)
{
	static const char *const names[] = { "NONE", "IF_NEEDED", "PERIODIC", "ALWAYS" };

	return mode < 4 ? names[mode] : "?";
}

/* ---- Tracepoints ------------------------------------------------------ */

static void trace_coin(int what, const struct outpoint *op, const struct coin *c)
{
	/* The arguments are already at hand: no semaphore needed. */
	if (what == 0)
		trace_utxocache_add(op->txid, op->n, c->height, c->value, c->coinbase);
	else if (what == 1)
		trace_utxocache_spent(op->txid, op->n, c->height, c->value, c->coinbase);
	else
		trace_utxocache_uncache(op->txid, op->n, c->height, c->value, c->coinbase);
}

/* ---- The table -------------------------------------------------------- */

struct coins_cache *coins_cache_new(struct db *db, size_t limit_bytes)
{
	struct coins_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->db = db;
	c->limit = limit_bytes;
	c->map = hashmap_new(HASHMAP_KEY_OFFSET(struct entry, node, op), sizeof(struct outpoint),
			     1024);
	if (!c->map) {
		free(c);
		return NULL;
	}
	return c;
}

static void free_entry(struct entry *e)
{
	coin_clear(&e->coin);
	free(e);
}

void coins_cache_free(struct coins_cache *c)
{
	struct hashmap_iter it;
	struct hashmap_node *n;

	if (!c)
		return;
	hashmap_iter_init(&it, c->map);
	while ((n = hashmap_iter_next(&it)))
		free_entry(HASHMAP_ENTRY(n, struct entry, node));
	hashmap_free(c->map);
	free(c);
}

/* The cached entry for op, or NULL. */
static struct entry *find(const struct coins_cache *c, const struct outpoint *op)
{
	struct hashmap_node *n = hashmap_find(c->map, op);

	return n ? HASHMAP_ENTRY(n, struct entry, node) : NULL;
}

static struct entry *insert(struct coins_cache *c, const struct outpoint *op)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->op = *op;
	e->coin.value = -1;
	hashmap_add(c->map, &e->node);
	return e;
}

static void set_coin(struct coins_cache *c, struct entry *e, struct coin *coin)
{
	c->script_bytes -= e->coin.value >= 0 ? e->coin.script_len : 0;
	coin_clear(&e->coin);
	e->coin = *coin;
	memset(coin, 0, sizeof(*coin));
	c->script_bytes += e->coin.script_len;
}

static void remove_entry(struct coins_cache *c, struct entry *e)
{
	hashmap_remove(c->map, &e->node);
	if (e->coin.value >= 0)
		c->script_bytes -= e->coin.script_len;
	free_entry(e);
}

/* ---- Database reads --------------------------------------------------- */

static void coin_key(const struct outpoint *op, uint8_t key[COIN_KEY_LEN])
{
	key[0] = KEY_COIN;
	memcpy(key + 1, op->txid, 32);
	key[33] = (uint8_t)(op->n >> 24);
	key[34] = (uint8_t)(op->n >> 16);
	key[35] = (uint8_t)(op->n >> 8);
	key[36] = (uint8_t)op->n;
}

/* 1 found (coin filled), 0 absent, -1 error. */
static int db_read_coin(struct coins_cache *c, const struct outpoint *op, struct coin *coin)
{
	uint8_t key[COIN_KEY_LEN], *val = NULL;
	size_t vlen = 0;
	char err[256];
	struct rbuf r;
	int rc;

	coin_key(op, key);
	rc = db_get(c->db, key, sizeof(key), &val, &vlen, err, sizeof(err));
	if (rc < 0) {
		log_printf("coins: database read failed: %s", err);
		return -1;
	}
	if (rc == 0)
		return 0;
	ser_read_init(&r, val, vlen);
	rc = coin_decode(&r, coin) == 0 && ser_read_done(&r) ? 1 : -1;
	if (rc < 0)
		log_printf("coins: corrupt coin record in the chainstate database");
	free(val);
	return rc;
}

int coins_db_best_block(struct db *db, uint8_t hash[32], char *err, size_t errlen)
{
	uint8_t key = KEY_BEST, *val = NULL;
	size_t vlen = 0;
	int rc = db_get(db, &key, 1, &val, &vlen, err, errlen);

	if (rc <= 0)
		return rc;
	if (vlen != 32) {
		free(val);
		snprintf(err, errlen, "corrupt best-block record (%zu bytes)", vlen);
		return -1;
	}
	memcpy(hash, val, 32);
	free(val);
	return 1;
}

/* The entry for op, fetched from the database if not cached; NULL if
 * neither has it. */
static struct entry *fetch(struct coins_cache *c, const struct outpoint *op)
{
	struct entry *e = find(c, op);
	struct coin coin;
	int rc;

	if (e)
		return e;
	rc = db_read_coin(c, op, &coin);
	if (rc <= 0) {
		if (rc < 0)
			c->failed = true;
		return NULL;
	}
	e = insert(c, op);
	if (!e) {
		coin_clear(&coin);
		c->failed = true;
		return NULL;
	}
	set_coin(c, e, &coin);
	return e;
}

const struct coin *coins_get(struct coins_cache *c, const struct outpoint *op)
{
	struct entry *e = fetch(c, op);

	return e && e->coin.value >= 0 ? &e->coin : NULL;
}

bool coins_in_cache(const struct coins_cache *c, const struct outpoint *op)
{
	return find(c, op) != NULL;
}

/* ---- Changes ---------------------------------------------------------- */

int coins_add(struct coins_cache *c, const struct outpoint *op, struct coin *coin,
	      bool possible_overwrite)
{
	struct entry *e = find(c, op);
	bool fresh = false;

	if (!e) {
		e = insert(c, op);
		if (!e)
			return -1;
		e->flags = 0;
	}
	if (!possible_overwrite) {
		if (e->coin.value >= 0)
			return -1;
		/* Spent but never written: the database does not have it. */
		fresh = !(e->flags & DIRTY);
	}
	set_coin(c, e, coin);
	e->flags |= DIRTY | (fresh ? FRESH : 0);
	trace_coin(0, op, &e->coin);
	return 0;
}

int coins_spend(struct coins_cache *c, const struct outpoint *op, struct coin *moved_out)
{
	struct entry *e = fetch(c, op);

	if (!e || e->coin.value < 0)
		return -1;
	trace_coin(1, op, &e->coin);
	if (moved_out) {
		*moved_out = e->coin;
		c->script_bytes -= e->coin.script_len;
		memset(&e->coin, 0, sizeof(e->coin));
	} else {
		c->script_bytes -= e->coin.script_len;
		coin_clear(&e->coin);
	}
	e->coin.value = -1;
	if (e->flags & FRESH)
		remove_entry(c, e);
	else
		e->flags |= DIRTY;
	return 0;
}

void coins_uncache(struct coins_cache *c, const struct outpoint *op)
{
	struct entry *e = find(c, op);

	if (!e || e->flags)
		return;
	if (e->coin.value >= 0)
		trace_coin(2, op, &e->coin);
	remove_entry(c, e);
}

void coins_set_best_block(struct coins_cache *c, const uint8_t hash[32])
{
	memcpy(c->best, hash, 32);
}

void coins_get_best_block(const struct coins_cache *c, uint8_t hash[32])
{
	memcpy(hash, c->best, 32);
}

size_t coins_cache_count(const struct coins_cache *c)
{
	return hashmap_count(c->map);
}

size_t coins_cache_usage(const struct coins_cache *c)
{
	return hashmap_count(c->map) * ENTRY_OVERHEAD + c->script_bytes +
	       hashmap_buckets(c->map) * sizeof(void *);
}

size_t coins_cache_limit(const struct coins_cache *c)
{
	return c->limit;
}

bool coins_cache_failed(const struct coins_cache *c)
{
	return c->failed;
}

/* ---- Flushing --------------------------------------------------------- */

/* Put every dirty entry into b. Returns 0 or -1 (no memory). */
static int batch_dirty(struct coins_cache *c, struct db_batch *b)
{
	struct hashmap_iter it;
	struct hashmap_node *n;
	struct wbuf w;

	ser_write_init(&w);
	hashmap_iter_init(&it, c->map);
	while ((n = hashmap_iter_next(&it))) {
		struct entry *e = HASHMAP_ENTRY(n, struct entry, node);
		uint8_t key[COIN_KEY_LEN];

		if (!(e->flags & DIRTY))
			continue;
		coin_key(&e->op, key);
		if (e->coin.value < 0) {
			if (!(e->flags & FRESH))
				db_batch_delete(b, key, sizeof(key));
			continue;
		}
		ser_write_reset(&w);
		coin_encode(&w, &e->coin);
		if (w.oom)
			break;
		db_batch_put(b, key, sizeof(key), w.data, w.len);
	}
	int rc = w.oom ? -1 : 0;
	ser_write_free(&w);
	return rc;
}

/* After a successful write: drop everything (erase) or only spent
 * entries, and clear the flags of the rest. */
static void after_write(struct coins_cache *c, bool erase)
{
	struct hashmap_iter it;
	struct hashmap_node *n;

	hashmap_iter_init(&it, c->map);
	while ((n = hashmap_iter_next(&it))) {
		struct entry *e = HASHMAP_ENTRY(n, struct entry, node);

		if (erase || e->coin.value < 0)
			remove_entry(c, e);
		else
			e->flags = 0;
	}
}

int coins_flush(struct coins_cache *c, uint32_t mode, bool erase, char *err, size_t errlen)
{
	int64_t start = util_mono_us();
	uint64_t coins_before = hashmap_count(c->map), usage_before = coins_cache_usage(c);
	struct db_batch *b = db_batch_new();
	uint8_t best_key = KEY_BEST;
	int rc;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (batch_dirty(c, b) < 0) {
		db_batch_free(b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db_batch_put(b, &best_key, 1, c->best, 32);
	rc = db_write(c->db, b, true, err, errlen);
	db_batch_free(b);
	if (rc < 0)
		return -1;
	after_write(c, erase);
	int64_t duration = util_mono_us() - start;
	trace_utxocache_flush(duration, mode, coins_before, usage_before, false);
	return 0;
}

/* ---- Iteration -------------------------------------------------------- */

struct visit {
	coins_visit_fn cb;
	void *ctx;
	bool bad;
};

static int visit_cb(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct visit *v = ctx;
	struct outpoint op;
	struct coin coin;
	struct rbuf r;
	int rc;

	if (klen != COIN_KEY_LEN) {
		v->bad = true;
		return -1;
	}
	memcpy(op.txid, key + 1, 32);
	op.n = (uint32_t)key[33] << 24 | (uint32_t)key[34] << 16 | (uint32_t)key[35] << 8 | key[36];
	ser_read_init(&r, val, vlen);
	if (coin_decode(&r, &coin) < 0 || !ser_read_done(&r)) {
		coin_clear(&coin);
		v->bad = true;
		return -1;
	}
	rc = v->cb(v->ctx, &op, &coin);
	coin_clear(&coin);
	return rc;
}

int coins_db_foreach(struct db *db, coins_visit_fn cb, void *ctx, char *err, size_t errlen)
{
	struct visit v = { cb, ctx, false };
	uint8_t prefix = KEY_COIN;
	int rc = db_foreach(db, &prefix, 1, visit_cb, &v, err, errlen);

	if (v.bad) {
		snprintf(err, errlen, "corrupt coin record in the chainstate database");
		return -1;
	}
	return rc;
}
