/*
 * chainstate.c — block index, block store, consensus checks, connecting
 * and disconnecting blocks, most-work chain selection.
 */
#include "chainstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "hash.h"
#include "log.h"
#include "script.h"
#include "tracepoints.h"
#include "util.h"

#define KEY_INDEX 'b'
#define KEY_DATA 'd'
#define KEY_UNDO 'u'
#define INDEX_RECORD_LEN (80 + 4 + 4 + 4 + 8)
#define MAX_LISTENERS 4
#define GENESIS_TIME 1763769600u /* 2025-11-22T00:00:00Z */
#define GENESIS_MESSAGE "moneyrocket regtest genesis: USDT all the way down"

struct chainstate {
	struct db *blocks_db, *coins_db;
	struct coins_cache *coins;
	struct chain_params params;
	struct hashmap *index;      /* hash -> struct block_index */
	uint64_t next_seq;
	struct block_index **chain; /* active chain by height */
	size_t chain_len, chain_cap;
	struct block_index *best_header;
	struct chain_listener listeners[MAX_LISTENERS];
	int nlisteners;
	int64_t last_write_us;
	char last_failure[CHAIN_REASON_MAX]; /* why the last connect failed */
};

/* ---- Consensus constants ------------------------------------------------ */

int64_t chainstate_subsidy(int32_t height)
{
	int halvings = height / CHAIN_HALVING_INTERVAL;

	return halvings >= 64 ? 0 : (50 * COIN) >> halvings;
}

size_t chainstate_height_push(int32_t h, uint8_t out[6])
{
	size_t n = 0;
	uint8_t num[5];
	uint32_t v = (uint32_t)h;

	if (h == 0) {
		out[0] = 0x00;
		return 1;
	}
	if (h >= 1 && h <= 16) {
		out[0] = (uint8_t)(0x50 + h);
		return 1;
	}
	while (v) {
		num[n++] = v & 0xff;
		v >>= 8;
	}
	if (num[n - 1] & 0x80)
		num[n++] = 0; /* keep it positive */
	out[0] = (uint8_t)n;
	memcpy(out + 1, num, n);
	return n + 1;
}

int chainstate_genesis_block(struct block *b)
{
	static const uint8_t zero_h160[20];
	struct tx *cb;
	uint8_t push[6];
	size_t plen = chainstate_height_push(0, push), mlen = strlen(GENESIS_MESSAGE);

	memset(b, 0, sizeof(*b));
	b->txs = calloc(1, sizeof(*b->txs));
	if (!b->txs)
		return -1;
	b->n_tx = 1;
	cb = &b->txs[0];
	cb->version = 1;
	cb->n_in = cb->n_out = 1;
	cb->vin = calloc(1, sizeof(*cb->vin));
	cb->vout = calloc(1, sizeof(*cb->vout));
	if (!cb->vin || !cb->vout)
		goto fail;
	cb->vin[0].prevout.n = UINT32_MAX;
	cb->vin[0].sequence = UINT32_MAX;
	cb->vin[0].script_sig_len = plen + 1 + mlen;
	cb->vin[0].script_sig = malloc(cb->vin[0].script_sig_len);
	cb->vout[0].value = 50 * COIN;
	cb->vout[0].script_pubkey_len = SCRIPT_P2PKH_LEN;
	cb->vout[0].script_pubkey = malloc(SCRIPT_P2PKH_LEN);
	if (!cb->vin[0].script_sig || !cb->vout[0].script_pubkey)
		goto fail;
	memcpy(cb->vin[0].script_sig, push, plen);
	cb->vin[0].script_sig[plen] = (uint8_t)mlen;
	memcpy(cb->vin[0].script_sig + plen + 1, GENESIS_MESSAGE, mlen);
	script_p2pkh(zero_h160, cb->vout[0].script_pubkey);
	tx_finalize(cb);
	b->header.version = 1;
	b->header.time = GENESIS_TIME;
	b->header.bits = CHAIN_POW_BITS;
	block_merkle_root(b, b->header.merkle_root, NULL);
	/* The first nonce that meets the target: fixed by the constants. */
	u256 target;
	pow_target_from_bits(CHAIN_POW_BITS, &target);
	for (;;) {
		block_header_hash(&b->header, b->hash);
		if (pow_hash_meets_target(b->hash, &target))
			break;
		b->header.nonce++;
	}
	block_finalize(b);
	return 0;
fail:
	block_clear(b);
	return -1;
}

/* ---- Block index -------------------------------------------------------- */

static struct block_index *index_find(const struct chainstate *cs, const uint8_t hash[32])
{
	struct hashmap_node *n = hashmap_find(cs->index, hash);

	return n ? HASHMAP_ENTRY(n, struct block_index, node) : NULL;
}

/* The next index entry of a walk (hashmap.h), or NULL at the end. */
static struct block_index *index_next(struct hashmap_iter *it)
{
	struct hashmap_node *n = hashmap_iter_next(it);

	return n ? HASHMAP_ENTRY(n, struct block_index, node) : NULL;
}

const struct block_index *chainstate_lookup(const struct chainstate *cs, const uint8_t hash[32])
{
	return index_find(cs, hash);
}

static int64_t compute_mtp(const struct block_index *bi)
{
	int64_t t[11];
	int n = 0;

	for (; bi && n < 11; bi = bi->prev)
		t[n++] = bi->header.time;
	for (int i = 1; i < n; i++) /* insertion sort: 11 values */
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			int64_t x = t[j]; t[j] = t[j - 1]; t[j - 1] = x;
		}
	return t[n / 2];
}

/* A new entry for header h whose parent is prev (NULL for genesis). */
static struct block_index *index_add(struct chainstate *cs, const struct block_header *h,
				     const uint8_t hash[32], struct block_index *prev)
{
	struct block_index *bi = calloc(1, sizeof(*bi));
	u256 work;

	if (!bi)
		return NULL;
	memcpy(bi->hash, hash, 32);
	bi->header = *h;
	bi->prev = prev;
	bi->height = prev ? prev->height + 1 : 0;
	pow_work_from_bits(h->bits, &work);
	if (prev)
		bi->chainwork = prev->chainwork;
	u256_add(&bi->chainwork, &work);
	bi->mtp = compute_mtp(bi);
	bi->seq = cs->next_seq++;
	hashmap_add(cs->index, &bi->node);
	if (!cs->best_header || u256_cmp(&bi->chainwork, &cs->best_header->chainwork) > 0)
		cs->best_header = bi;
	return bi;
}

size_t chainstate_index_size(const struct chainstate *cs)
{
	return hashmap_count(cs->index);
}

void chainstate_foreach_index(const struct chainstate *cs,
			      void (*cb)(void *ctx, const struct block_index *bi), void *ctx)
{
	struct hashmap_iter it;
	struct block_index *bi;

	hashmap_iter_init(&it, cs->index);
	while ((bi = index_next(&it)))
		cb(ctx, bi);
}

const struct block_index *chainstate_ancestor(const struct block_index *bi, int32_t height)
{
	if (height < 0)
		return NULL;
	while (bi && bi->height > height)
		bi = bi->prev;
	return bi;
}

/* ---- Active chain ------------------------------------------------------- */

const struct block_index *chainstate_tip(const struct chainstate *cs)
{
	return cs->chain_len ? cs->chain[cs->chain_len - 1] : NULL;
}

int32_t chainstate_height(const struct chainstate *cs)
{
	return (int32_t)cs->chain_len - 1;
}

const struct block_index *chainstate_at(const struct chainstate *cs, int32_t height)
{
	return height >= 0 && (size_t)height < cs->chain_len ? cs->chain[height] : NULL;
}

bool chainstate_contains(const struct chainstate *cs, const struct block_index *bi)
{
	return bi && chainstate_at(cs, bi->height) == bi;
}

const struct block_index *chainstate_best_header(const struct chainstate *cs)
{
	return cs->best_header;
}

struct coins_cache *chainstate_coins(struct chainstate *cs)
{
	return cs->coins;
}

int chainstate_foreach_coin(struct chainstate *cs, coins_visit_fn cb, void *ctx, char *err,
			    size_t errlen)
{
	return coins_db_foreach(cs->coins_db, cb, ctx, err, errlen);
}

int64_t chainstate_tip_mtp(const struct chainstate *cs)
{
	const struct block_index *tip = chainstate_tip(cs);

	return tip ? tip->mtp : 0;
}

static int chain_push(struct chainstate *cs, struct block_index *bi)
{
	if (cs->chain_len == cs->chain_cap) {
		size_t cap = cs->chain_cap ? cs->chain_cap * 2 : 1024;
		struct block_index **c = realloc(cs->chain, cap * sizeof(*c));
		if (!c)
			return -1;
		cs->chain = c;
		cs->chain_cap = cap;
	}
	cs->chain[cs->chain_len++] = bi;
	return 0;
}

size_t chainstate_locator(const struct chainstate *cs, uint8_t (*out)[32], size_t max)
{
	int32_t h = chainstate_height(cs), step = 1;
	size_t n = 0;

	while (h >= 0 && n < max) {
		memcpy(out[n++], cs->chain[h]->hash, 32);
		if (h == 0)
			break;
		if (n >= 10)
			step *= 2;
		h = h - step > 0 ? h - step : 0;
	}
	return n;
}

const struct block_index *chainstate_find_fork(const struct chainstate *cs,
					       const uint8_t (*locator)[32], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct block_index *bi = index_find(cs, locator[i]);
		if (bi && chainstate_contains(cs, bi))
			return bi;
	}
	return chainstate_at(cs, 0);
}

/* ---- Block store -------------------------------------------------------- */

static void store_key(uint8_t key[33], char kind, const uint8_t hash[32])
{
	key[0] = (uint8_t)kind;
	memcpy(key + 1, hash, 32);
}

static void index_record(const struct block_index *bi, struct wbuf *w)
{
	block_header_encode(w, &bi->header);
	ser_write_i32(w, bi->height);
	ser_write_u32(w, bi->status);
	ser_write_u32(w, bi->n_tx);
	ser_write_u64(w, bi->seq);
}

static void batch_index(struct db_batch *b, const struct block_index *bi)
{
	uint8_t key[33];
	struct wbuf w;

	ser_write_init(&w);
	index_record(bi, &w);
	store_key(key, KEY_INDEX, bi->hash);
	if (!w.oom)
		db_batch_put(b, key, sizeof(key), w.data, w.len);
	ser_write_free(&w);
}

/* Write the index entry (and optionally data bytes under `kind`) in one
 * batch. Returns 0 or -1 (logged). */
static int store_write(struct chainstate *cs, const struct block_index *bi, char kind,
		       const uint8_t *data, size_t len)
{
	struct db_batch *b = db_batch_new();
	char err[256];
	uint8_t key[33];
	int rc;

	if (!b)
		return -1;
	if (data) {
		store_key(key, kind, bi->hash);
		db_batch_put(b, key, sizeof(key), data, len);
	}
	batch_index(b, bi);
	rc = db_write(cs->blocks_db, b, false, err, sizeof(err));
	db_batch_free(b);
	if (rc < 0)
		log_printf("validation: block store write failed: %s", err);
	return rc;
}

static int store_read(struct chainstate *cs, char kind, const uint8_t hash[32],
		      uint8_t **data, size_t *len, char *err, size_t errlen)
{
	uint8_t key[33];
	int rc;

	store_key(key, kind, hash);
	rc = db_get(cs->blocks_db, key, sizeof(key), data, len, err, errlen);
	if (rc == 0)
		snprintf(err, errlen, "not stored");
	return rc == 1 ? 0 : -1;
}

int chainstate_read_block_bytes(struct chainstate *cs, const struct block_index *bi,
				uint8_t **data, size_t *len)
{
	char err[256];

	if (!(bi->status & BLOCK_HAVE_DATA))
		return -1;
	return store_read(cs, KEY_DATA, bi->hash, data, len, err, sizeof(err));
}

int chainstate_read_block(struct chainstate *cs, const struct block_index *bi,
			  struct block *b, char *err, size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (!(bi->status & BLOCK_HAVE_DATA)) {
		snprintf(err, errlen, "block data not available");
		return -1;
	}
	if (store_read(cs, KEY_DATA, bi->hash, &data, &len, err, errlen) < 0)
		return -1;
	rc = block_decode_bytes(data, len, b);
	free(data);
	if (rc < 0 || memcmp(b->hash, bi->hash, 32) != 0) {
		if (rc == 0)
			block_clear(b);
		snprintf(err, errlen, "stored block is corrupt");
		return -1;
	}
	return 0;
}

/* ---- Block checks ------------------------------------------------------ */

static int fail(char reason[CHAIN_REASON_MAX], const char *why)
{
	snprintf(reason, CHAIN_REASON_MAX, "%s", why);
	return -1;
}

static bool coinbase_height_ok(const struct tx *cb, int32_t height)
{
	uint8_t push[6];
	size_t n = chainstate_height_push(height, push);

	return cb->vin[0].script_sig_len >= n && memcmp(cb->vin[0].script_sig, push, n) == 0;
}

static int check_header_pow(const struct block_header *h, const uint8_t hash[32],
			    char reason[CHAIN_REASON_MAX])
{
	u256 target;

	if (h->bits != CHAIN_POW_BITS)
		return fail(reason, "bad-diffbits");
	if (pow_target_from_bits(h->bits, &target) < 0 || !pow_hash_meets_target(hash, &target))
		return fail(reason, "high-hash");
	return 0;
}

static int check_block(const struct block *b, char reason[CHAIN_REASON_MAX])
{
	uint8_t root[32];
	bool mutated;
	unsigned sigops = 0;

	if (check_header_pow(&b->header, b->hash, reason) < 0)
		return -1;
	block_merkle_root(b, root, &mutated);
	if (memcmp(root, b->header.merkle_root, 32) != 0)
		return fail(reason, "bad-txnmrklroot");
	if (mutated)
		return fail(reason, "bad-txns-duplicate");
	if (b->n_tx == 0 || b->size > MAX_BLOCK_SIZE)
		return fail(reason, "bad-blk-length");
	if (!tx_is_coinbase(&b->txs[0]))
		return fail(reason, "bad-cb-missing");
	for (size_t i = 0; i < b->n_tx; i++) {
		if (i > 0 && tx_is_coinbase(&b->txs[i]))
			return fail(reason, "bad-cb-multiple");
		if (tx_check(&b->txs[i], reason) < 0)
			return -1;
		sigops += script_tx_sigops(&b->txs[i]);
	}
	if (sigops > MAX_BLOCK_SIGOPS)
		return fail(reason, "bad-blk-sigops");
	return 0;
}

/* Rules that need the parent: height, time. */
static int check_header_context(const struct block_header *h, const struct block_index *prev,
				char reason[CHAIN_REASON_MAX])
{
	if (prev->status & (BLOCK_FAILED | BLOCK_FAILED_CHILD))
		return fail(reason, "bad-prevblk");
	if ((int64_t)h->time <= prev->mtp)
		return fail(reason, "time-too-old");
	if ((int64_t)h->time > util_time_s() + CHAIN_MAX_FUTURE_S)
		return fail(reason, "time-too-new");
	return 0;
}

int chainstate_accept_header(struct chainstate *cs, const struct block_header *h,
			     const struct block_index **out, char reason[CHAIN_REASON_MAX])
{
	uint8_t hash[32];
	struct block_index *bi, *prev;

	block_header_hash(h, hash);
	bi = index_find(cs, hash);
	if (bi) {
		*out = bi;
		if (bi->status & BLOCK_FAILED)
			return fail(reason, "duplicate-invalid");
		return 0;
	}
	if (check_header_pow(h, hash, reason) < 0)
		return -1;
	prev = index_find(cs, h->prev_block);
	if (!prev)
		return fail(reason, "prev-blk-not-found");
	if (check_header_context(h, prev, reason) < 0)
		return -1;
	bi = index_add(cs, h, hash, prev);
	if (!bi)
		return fail(reason, "out of memory");
	if (store_write(cs, bi, 0, NULL, 0) < 0)
		return fail(reason, "block store write failed");
	*out = bi;
	return 0;
}

/* ---- Connecting --------------------------------------------------------- */

/* Outpoints created or spent so far in the block being connected: slots
 * for the whole block, allocated at once, found through the hash map. */
struct view_slot {
	struct hashmap_node node;
	struct outpoint op;
	bool spent;
	struct coin coin; /* script borrowed from the block's tx */
};

struct block_view {
	struct view_slot *slots;
	size_t n, cap;
	struct hashmap *map;
	struct coins_cache *coins;
};

static struct view_slot *view_find(const struct block_view *v, const struct outpoint *op)
{
	struct hashmap_node *n = hashmap_find(v->map, op);

	return n ? HASHMAP_ENTRY(n, struct view_slot, node) : NULL;
}

static const struct coin *view_lookup(void *ctx, const struct outpoint *op)
{
	struct block_view *v = ctx;
	struct view_slot *s = view_find(v, op);

	if (s)
		return s->spent ? NULL : &s->coin;
	return coins_get(v->coins, op);
}

static void view_mark(struct block_view *v, const struct outpoint *op, bool spent,
		      const struct coin *coin)
{
	struct view_slot *s = view_find(v, op);

	if (!s) {
		s = &v->slots[v->n++]; /* cap counts every input and output */
		s->op = *op;
		hashmap_add(v->map, &s->node);
	}
	s->spent = spent;
	if (coin)
		s->coin = *coin;
}

static struct outpoint make_outpoint(const uint8_t txid[32], uint32_t n)
{
	struct outpoint op;

	memset(&op, 0, sizeof(op));
	memcpy(op.txid, txid, 32);
	op.n = n;
	return op;
}

struct connect_stats {
	int64_t fees;
	int32_t inputs;
	uint64_t sigops; /* coinbase excluded */
};

/* Check every transaction's inputs against the coins plus what the block
 * itself creates and spends, without changing the cache. */
static int check_block_inputs(struct chainstate *cs, const struct block *b, int32_t height,
			      struct connect_stats *st, char reason[CHAIN_REASON_MAX])
{
	size_t n = 1;
	struct block_view v;
	int rc = 0;

	for (size_t i = 0; i < b->n_tx; i++)
		n += b->txs[i].n_in + b->txs[i].n_out;
	v.n = 0;
	v.cap = n;
	v.slots = malloc(n * sizeof(*v.slots));
	v.map = hashmap_new(HASHMAP_KEY_OFFSET(struct view_slot, node, op), sizeof(struct outpoint),
			    n);
	v.coins = cs->coins;
	if (!v.slots || !v.map) {
		free(v.slots);
		hashmap_free(v.map);
		return fail(reason, "out of memory");
	}
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < b->n_tx && rc == 0; i++) {
		const struct tx *t = &b->txs[i];
		if (i > 0) {
			int64_t fee;
			rc = tx_check_inputs(t, height, view_lookup, &v, &fee, reason);
			if (rc < 0)
				break;
			st->fees += fee;
			st->inputs += (int32_t)t->n_in;
			st->sigops += script_tx_sigops(t);
			for (size_t j = 0; j < t->n_in; j++)
				view_mark(&v, &t->vin[j].prevout, true, NULL);
		}
		for (size_t j = 0; j < t->n_out; j++) {
			struct outpoint op = make_outpoint(t->txid, (uint32_t)j);
			struct coin c = { t->vout[j].value, t->vout[j].script_pubkey,
					  t->vout[j].script_pubkey_len, (uint32_t)height, i == 0 };
			view_mark(&v, &op, false, &c);
		}
	}
	hashmap_free(v.map);
	free(v.slots);
	if (rc == 0 && tx_value_out(&b->txs[0]) > chainstate_subsidy(height) + st->fees)
		rc = fail(reason, "bad-cb-amount");
	if (coins_cache_failed(cs->coins))
		rc = fail(reason, "coins database read failed");
	return rc;
}

/* Apply a checked block to the cache, writing its undo data to w. */
static void apply_block(struct chainstate *cs, const struct block *b, int32_t height,
			struct wbuf *undo)
{
	ser_write_compact(undo, b->n_tx - 1);
	for (size_t i = 0; i < b->n_tx; i++) {
		const struct tx *t = &b->txs[i];
		if (i > 0) {
			ser_write_compact(undo, t->n_in);
			for (size_t j = 0; j < t->n_in; j++) {
				struct coin spent;
				if (coins_spend(cs->coins, &t->vin[j].prevout, &spent) < 0)
					abort(); /* checked just before: cannot happen */
				coin_encode(undo, &spent);
				coin_clear(&spent);
			}
		}
		for (size_t j = 0; j < t->n_out; j++) {
			struct outpoint op = make_outpoint(t->txid, (uint32_t)j);
			struct coin c = { t->vout[j].value, NULL, t->vout[j].script_pubkey_len,
					  (uint32_t)height, i == 0 };
			c.script = malloc(c.script_len ? c.script_len : 1);
			if (!c.script)
				abort(); /* a half-applied block must not be flushed */
			memcpy(c.script, t->vout[j].script_pubkey, c.script_len);
			if (coins_add(cs->coins, &op, &c, i == 0) < 0)
				abort();
		}
	}
}

static void notify(struct chainstate *cs, const struct block *b, const struct block_index *bi,
		   bool connected)
{
	for (int i = 0; i < cs->nlisteners; i++) {
		const struct chain_listener *l = &cs->listeners[i];
		if (connected && l->block_connected)
			l->block_connected(l->ctx, b, bi);
		else if (!connected && l->block_disconnected)
			l->block_disconnected(l->ctx, b, bi);
	}
}

/* Connect bi (child of the tip). Returns 0, or -1 with the reason in
 * cs->last_failure: the block is invalid (marked FAILED) or could not be
 * read (not marked). */
static int connect_tip(struct chainstate *cs, struct block_index *bi)
{
	int64_t start;
	uint64_t micros;
	struct connect_stats st;
	struct block b;
	struct wbuf undo;
	char err[256];

	if (chainstate_read_block(cs, bi, &b, err, sizeof(err)) < 0) {
		snprintf(cs->last_failure, sizeof(cs->last_failure), "%.100s", err);
		log_printf("validation: cannot read block %d: %s", bi->height, err);
		return -1;
	}
	/* validation:block_connected's duration is the connecting itself
	 * (doc/tracing.md): checks, coins, undo data, the new tip. Reading the
	 * block before and telling listeners after are not part of it. */
	start = util_mono_us();
	if (bi->height > 0) {
		if (!coinbase_height_ok(&b.txs[0], bi->height) ||
		    check_block_inputs(cs, &b, bi->height, &st, cs->last_failure) < 0) {
			if (!coinbase_height_ok(&b.txs[0], bi->height))
				fail(cs->last_failure, "bad-cb-height");
			if (!coins_cache_failed(cs->coins)) {
				bi->status |= BLOCK_FAILED;
				store_write(cs, bi, 0, NULL, 0);
			}
			block_clear(&b);
			return -1;
		}
		ser_write_init(&undo);
		apply_block(cs, &b, bi->height, &undo);
		if (undo.oom)
			abort();
		bi->status |= BLOCK_HAVE_UNDO;
		if (store_write(cs, bi, KEY_UNDO, undo.data, undo.len) < 0)
			abort(); /* the chainstate must never get ahead of undo data */
		ser_write_free(&undo);
	} else {
		memset(&st, 0, sizeof(st)); /* genesis outputs are not spendable */
	}
	coins_set_best_block(cs->coins, bi->hash);
	if (chain_push(cs, bi) < 0)
		abort();
	micros = (uint64_t)(util_mono_us() - start);
	trace_validation_block_connected(bi->hash, bi->height, (uint64_t)b.n_tx, st.inputs,
					 st.sigops, micros);
	notify(cs, &b, bi, true);
	block_clear(&b);
	return 0;
}

static int read_undo(struct chainstate *cs, const struct block_index *bi, uint8_t **data,
		     size_t *len)
{
	char err[256];

	if (store_read(cs, KEY_UNDO, bi->hash, data, len, err, sizeof(err)) < 0) {
		log_printf("validation: undo data of block %d unreadable: %s", bi->height, err);
		return -1;
	}
	return 0;
}

/* Undo the tip. Returns 0 or -1 (block or undo data unreadable). */
static int disconnect_tip(struct chainstate *cs)
{
	struct block_index *bi = cs->chain[cs->chain_len - 1];
	struct block b;
	uint8_t *undo_data;
	size_t undo_len;
	struct rbuf r;
	char err[256];

	if (chainstate_read_block(cs, bi, &b, err, sizeof(err)) < 0) {
		log_printf("validation: cannot read block %d to disconnect: %s", bi->height, err);
		return -1;
	}
	if (read_undo(cs, bi, &undo_data, &undo_len) < 0) {
		block_clear(&b);
		return -1;
	}
	/* Undo records are per tx in block order; index them first so we
	 * can restore in reverse. */
	ser_read_init(&r, undo_data, undo_len);
	uint64_t ntx = ser_read_compact(&r, b.n_tx);
	if (ntx + 1 != b.n_tx)
		r.err = true;
	size_t *starts = calloc(b.n_tx ? b.n_tx : 1, sizeof(*starts));
	for (size_t i = 1; starts && !r.err && i < b.n_tx; i++) {
		starts[i] = r.pos;
		uint64_t nin = ser_read_compact(&r, b.txs[i].n_in);
		if (nin != b.txs[i].n_in)
			r.err = true;
		for (uint64_t j = 0; !r.err && j < nin; j++) {
			struct coin c;
			if (coin_decode(&r, &c) == 0)
				coin_clear(&c);
		}
	}
	if (!starts || r.err) {
		log_printf("validation: undo data of block %d is corrupt", bi->height);
		free(starts);
		free(undo_data);
		block_clear(&b);
		return -1;
	}
	for (size_t i = b.n_tx; i-- > 0;) {
		const struct tx *t = &b.txs[i];
		for (size_t j = 0; j < t->n_out; j++) {
			struct outpoint op = make_outpoint(t->txid, (uint32_t)j);
			coins_spend(cs->coins, &op, NULL);
		}
		if (i == 0)
			break;
		struct rbuf ur;
		ser_read_init(&ur, undo_data, undo_len);
		ur.pos = starts[i];
		ser_read_compact(&ur, t->n_in);
		for (size_t j = 0; j < t->n_in; j++) {
			struct coin c;
			if (coin_decode(&ur, &c) < 0 ||
			    coins_add(cs->coins, &t->vin[j].prevout, &c, true) < 0)
				abort(); /* decoded fine above */
		}
	}
	free(starts);
	free(undo_data);
	cs->chain_len--;
	coins_set_best_block(cs->coins, bi->prev->hash);
	notify(cs, &b, bi, false);
	block_clear(&b);
	return 0;
}

/* ---- Chain selection ---------------------------------------------------- */

/* Can bi become the tip: its data and its ancestors' (down to the active
 * chain) all stored, none invalid? Marks descendants of invalid blocks. */
static bool is_candidate(struct chainstate *cs, struct block_index *bi)
{
	for (struct block_index *p = bi; p && !chainstate_contains(cs, p); p = p->prev) {
		if (p->status & (BLOCK_FAILED | BLOCK_FAILED_CHILD)) {
			if (p != bi)
				bi->status |= BLOCK_FAILED_CHILD;
			return false;
		}
		if (!(p->status & BLOCK_HAVE_DATA))
			return false;
	}
	return true;
}

static struct block_index *find_best_candidate(struct chainstate *cs)
{
	struct block_index *best = (struct block_index *)chainstate_tip(cs), *bi;
	struct hashmap_iter it;

	hashmap_iter_init(&it, cs->index);
	while ((bi = index_next(&it))) {
		int c = best ? u256_cmp(&bi->chainwork, &best->chainwork) : 1;
		if (c < 0 || (c == 0 && bi->seq >= best->seq) || bi == best)
			continue;
		if (chainstate_contains(cs, bi) || !is_candidate(cs, bi))
			continue;
		/* Equal work: only a block that arrived earlier than the
		 * tip could win, and then the tip would have been it. */
		if (c == 0 && best == chainstate_tip(cs))
			continue;
		best = bi;
	}
	return best;
}

static void maybe_flush(struct chainstate *cs)
{
	chainstate_flush(cs, COINS_FLUSH_IF_NEEDED);
	chainstate_flush(cs, COINS_FLUSH_PERIODIC);
}

/* Move to the most-work valid chain. Returns 0, or -1 if a store read
 * failed (the chain stays where it got to). */
static int activate_best_chain(struct chainstate *cs)
{
	for (;;) {
		struct block_index *best = find_best_candidate(cs);
		const struct block_index *tip = chainstate_tip(cs);
		if (!best || best == tip)
			return 0;
		if (tip && u256_cmp(&best->chainwork, &tip->chainwork) <= 0)
			return 0;
		/* Back to the fork, then forward along best. */
		while (chainstate_tip(cs) && !chainstate_contains(cs, chainstate_ancestor(best,
						chainstate_height(cs))))
			if (disconnect_tip(cs) < 0)
				return -1;
		int32_t from = chainstate_height(cs) + 1;
		bool failed = false;
		for (int32_t h = from; h <= best->height && !failed; h++) {
			struct block_index *bi =
				(struct block_index *)chainstate_ancestor(best, h);
			if (connect_tip(cs, bi) < 0) {
				if (!(bi->status & BLOCK_FAILED))
					return -1; /* unreadable, not invalid */
				log_printf("validation: block %d invalid: %s", bi->height,
					   cs->last_failure);
				failed = true;
			}
			maybe_flush(cs);
		}
	}
}

int chainstate_process_block(struct chainstate *cs, const struct block *b, bool *is_new,
			     char reason[CHAIN_REASON_MAX])
{
	const struct block_index *cbi;
	struct block_index *bi;
	struct wbuf w;
	int rc;

	*is_new = false;
	bi = index_find(cs, b->hash);
	if (bi && (bi->status & BLOCK_FAILED))
		return fail(reason, "duplicate-invalid");
	if (bi && (bi->status & BLOCK_HAVE_DATA))
		return 0;
	if (check_block(b, reason) < 0)
		return -1;
	if (!bi) {
		if (chainstate_accept_header(cs, &b->header, &cbi, reason) < 0)
			return -1;
		bi = (struct block_index *)cbi;
	}
	if (bi->prev && !coinbase_height_ok(&b->txs[0], bi->height)) {
		bi->status |= BLOCK_FAILED;
		store_write(cs, bi, 0, NULL, 0);
		return fail(reason, "bad-cb-height");
	}
	ser_write_init(&w);
	block_encode(&w, b);
	if (w.oom) {
		ser_write_free(&w);
		return fail(reason, "out of memory");
	}
	bi->status |= BLOCK_HAVE_DATA;
	bi->n_tx = (uint32_t)b->n_tx;
	rc = store_write(cs, bi, KEY_DATA, w.data, w.len);
	ser_write_free(&w);
	if (rc < 0) {
		bi->status &= ~BLOCK_HAVE_DATA;
		return fail(reason, "block store write failed");
	}
	*is_new = true;
	if (activate_best_chain(cs) < 0)
		return fail(reason, "block store read failed");
	if (bi->status & BLOCK_FAILED)
		return fail(reason, cs->last_failure);
	return 0;
}

static void mark_descendants(struct chainstate *cs, const struct block_index *root,
			     uint32_t set, uint32_t clear)
{
	struct hashmap_iter it;
	struct block_index *bi;

	hashmap_iter_init(&it, cs->index);
	while ((bi = index_next(&it)))
		if (bi != root && chainstate_ancestor(bi, root->height) == root) {
			uint32_t old = bi->status;
			bi->status = (bi->status | set) & ~clear;
			if (bi->status != old)
				store_write(cs, bi, 0, NULL, 0);
		}
}

int chainstate_invalidate(struct chainstate *cs, const uint8_t hash[32],
			  char reason[CHAIN_REASON_MAX])
{
	struct block_index *bi = index_find(cs, hash);

	if (!bi)
		return fail(reason, "Block not found");
	if (!bi->prev)
		return fail(reason, "Cannot invalidate the genesis block");
	while (chainstate_contains(cs, bi))
		if (disconnect_tip(cs) < 0)
			return fail(reason, "block store read failed");
	bi->status |= BLOCK_FAILED;
	store_write(cs, bi, 0, NULL, 0);
	mark_descendants(cs, bi, BLOCK_FAILED_CHILD, 0);
	if (activate_best_chain(cs) < 0)
		return fail(reason, "block store read failed");
	return 0;
}

int chainstate_reconsider(struct chainstate *cs, const uint8_t hash[32],
			  char reason[CHAIN_REASON_MAX])
{
	struct block_index *bi = index_find(cs, hash);

	if (!bi)
		return fail(reason, "Block not found");
	for (struct block_index *p = bi; p; p = p->prev) {
		if (p->status & (BLOCK_FAILED | BLOCK_FAILED_CHILD)) {
			p->status &= ~(BLOCK_FAILED | BLOCK_FAILED_CHILD);
			store_write(cs, p, 0, NULL, 0);
		}
	}
	mark_descendants(cs, bi, 0, BLOCK_FAILED | BLOCK_FAILED_CHILD);
	if (activate_best_chain(cs) < 0)
		return fail(reason, "block store read failed");
	return 0;
}

/* ---- Flushing ----------------------------------------------------------- */

int chainstate_flush(struct chainstate *cs, uint32_t mode)
{
	char err[256];
	bool erase = false;
	int64_t now = util_mono_us();

	switch (mode) {
	case COINS_FLUSH_IF_NEEDED:
		if (coins_cache_usage(cs->coins) <= coins_cache_limit(cs->coins))
			return 0;
		erase = true; /* over the limit: give the memory back */
		break;
	case COINS_FLUSH_PERIODIC:
		if (now - cs->last_write_us < cs->params.flush_interval_s * 1000000)
			return 0;
		break;
	case COINS_FLUSH_ALWAYS:
		erase = true; /* as Bitcoin's full flush: the cache starts empty */
		break;
	default:
		return 0;
	}
	if (coins_flush(cs->coins, mode, erase, err, sizeof(err)) < 0) {
		log_printf("validation: chainstate flush (%s) failed: %s",
			   coins_flush_mode_name(mode), err);
		return -1;
	}
	cs->last_write_us = now;
	return 0;
}

/* ---- Opening ------------------------------------------------------------ */

static int cmp_height(const void *a, const void *b)
{
	const struct block_index *x = *(struct block_index *const *)a;
	const struct block_index *y = *(struct block_index *const *)b;

	return (x->height > y->height) - (x->height < y->height);
}

struct loaded {
	struct block_index **v;
	size_t n, cap;
	bool bad;
};

static int load_record(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
		       size_t vlen)
{
	struct loaded *l = ctx;
	struct block_index *bi;
	struct rbuf r;

	if (klen != 33 || vlen != INDEX_RECORD_LEN) {
		l->bad = true;
		return 1;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct block_index **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->bad = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	bi = calloc(1, sizeof(*bi));
	if (!bi) {
		l->bad = true;
		return 1;
	}
	memcpy(bi->hash, key + 1, 32);
	ser_read_init(&r, val, vlen);
	bi->header.version = ser_read_i32(&r);
	ser_read_bytes(&r, bi->header.prev_block, 32);
	ser_read_bytes(&r, bi->header.merkle_root, 32);
	bi->header.time = ser_read_u32(&r);
	bi->header.bits = ser_read_u32(&r);
	bi->header.nonce = ser_read_u32(&r);
	bi->height = ser_read_i32(&r);
	bi->status = ser_read_u32(&r);
	bi->n_tx = ser_read_u32(&r);
	bi->seq = ser_read_u64(&r);
	l->v[l->n++] = bi;
	return 0;
}

/* Rebuild the index from the store: entries in height order so each
 * parent is linked (and its work known) before its children. */
static int load_index(struct chainstate *cs, char *err, size_t errlen)
{
	struct loaded l = { 0 };
	uint8_t prefix = KEY_INDEX;
	int rc = db_foreach(cs->blocks_db, &prefix, 1, load_record, &l, err, errlen);

	if (rc < 0 || l.bad) {
		if (l.bad)
			snprintf(err, errlen, "corrupt block index record");
		rc = -1;
		goto out;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_height);
	for (size_t i = 0; i < l.n; i++) {
		struct block_index *src = l.v[i], *prev = NULL, *bi;
		uint8_t hash[32];
		block_header_hash(&src->header, hash);
		if (memcmp(hash, src->hash, 32) != 0) {
			snprintf(err, errlen, "block index entry does not match its header");
			rc = -1;
			goto out;
		}
		if (src->height > 0 && !(prev = index_find(cs, src->header.prev_block))) {
			snprintf(err, errlen, "block index entry at height %d has no parent",
				 src->height);
			rc = -1;
			goto out;
		}
		bi = index_add(cs, &src->header, src->hash, prev);
		if (!bi) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			goto out;
		}
		bi->status = src->status;
		bi->n_tx = src->n_tx;
		bi->seq = src->seq;
		if (bi->seq >= cs->next_seq)
			cs->next_seq = bi->seq + 1;
	}
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}

/* A fresh store: the genesis block, stored and connected. */
static int init_genesis(struct chainstate *cs, char *err, size_t errlen)
{
	struct block g;
	struct block_index *bi;
	struct wbuf w;
	int rc;

	if (chainstate_genesis_block(&g) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bi = index_add(cs, &g.header, g.hash, NULL);
	ser_write_init(&w);
	block_encode(&w, &g);
	rc = bi && !w.oom ? 0 : -1;
	if (rc == 0) {
		bi->status = BLOCK_HAVE_DATA;
		bi->n_tx = 1;
		rc = store_write(cs, bi, KEY_DATA, w.data, w.len);
	}
	ser_write_free(&w);
	block_clear(&g);
	if (rc == 0)
		rc = connect_tip(cs, bi);
	if (rc < 0)
		snprintf(err, errlen, "cannot store the genesis block");
	return rc;
}

/* Rebuild the active chain from the chainstate's best block. */
static int restore_tip(struct chainstate *cs, const uint8_t best[32], char *err, size_t errlen)
{
	struct block_index *bi = index_find(cs, best);

	if (!bi) {
		snprintf(err, errlen, "the chainstate's best block is not in the block index");
		return -1;
	}
	cs->chain_len = 0;
	for (int32_t h = 0; h <= bi->height; h++)
		if (chain_push(cs, (struct block_index *)chainstate_ancestor(bi, h)) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	coins_set_best_block(cs->coins, best);
	return 0;
}

static struct db *open_db(const char *datadir, const char *name, size_t cache,
			  char *err, size_t errlen)
{
	char path[4096], why[512];
	struct db *d;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	d = db_open(path, cache, why, sizeof(why));
	if (!d)
		snprintf(err, errlen, "cannot open %s: %s", path, why);
	return d;
}

/* Free the index, the active chain and cs itself. */
static void free_index(struct chainstate *cs)
{
	struct hashmap_iter it;
	struct block_index *bi;

	if (cs->index) {
		hashmap_iter_init(&it, cs->index);
		while ((bi = index_next(&it)))
			free(bi); /* the walk has already stepped past it */
		hashmap_free(cs->index);
	}
	free(cs->chain);
	free(cs);
}

struct chainstate *chainstate_open(const char *datadir, const struct chain_params *p,
				   char *err, size_t errlen)
{
	struct chainstate *cs = calloc(1, sizeof(*cs));
	uint8_t best[32];
	int rc;

	if (!cs) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cs->params = *p;
	/* Small to start: it doubles as it fills, and find_best_candidate
	 * walks every bucket once per block, so empty ones cost. */
	cs->index = hashmap_new(HASHMAP_KEY_OFFSET(struct block_index, node, hash), 32, 64);
	cs->blocks_db = open_db(datadir, "blocks", 8 << 20, err, errlen);
	cs->coins_db = cs->blocks_db ? open_db(datadir, "chainstate", 8 << 20, err, errlen) : NULL;
	if (!cs->index || !cs->coins_db)
		goto fail;
	cs->coins = coins_cache_new(cs->coins_db, (size_t)p->dbcache_bytes);
	if (!cs->coins || load_index(cs, err, errlen) < 0)
		goto fail;
	rc = coins_db_best_block(cs->coins_db, best, err, errlen);
	if (rc < 0)
		goto fail;
	if (rc == 0 && hashmap_count(cs->index) == 0) {
		if (init_genesis(cs, err, errlen) < 0)
			goto fail;
	} else if (rc == 0) {
		/* Blocks but no chainstate (crashed before its first flush):
		 * start from genesis and reconnect what is stored. */
		const struct block_index *g = NULL, *bi;
		struct hashmap_iter it;

		hashmap_iter_init(&it, cs->index);
		while (!g && (bi = index_next(&it)))
			if (!bi->prev)
				g = bi;
		if (!g || restore_tip(cs, g->hash, err, errlen) < 0)
			goto fail;
	} else if (restore_tip(cs, best, err, errlen) < 0) {
		goto fail;
	}
	cs->last_write_us = util_mono_us();
	if (activate_best_chain(cs) < 0) {
		snprintf(err, errlen, "cannot read stored blocks to reach the best chain");
		goto fail;
	}
	return cs;
fail:
	coins_cache_free(cs->coins);
	db_close(cs->coins_db);
	db_close(cs->blocks_db);
	free_index(cs);
	return NULL;
}

void chainstate_listen(struct chainstate *cs, const struct chain_listener *l)
{
	if (cs->nlisteners < MAX_LISTENERS)
		cs->listeners[cs->nlisteners++] = *l;
}

void chainstate_close(struct chainstate *cs)
{
	if (!cs)
		return;
	chainstate_flush(cs, COINS_FLUSH_ALWAYS);
	coins_cache_free(cs->coins);
	cs->coins = NULL;
	db_close(cs->coins_db);
	db_close(cs->blocks_db);
	free_index(cs);
}
