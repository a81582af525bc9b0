/*
 * mempool.c — acceptance policy, replacement, limits, and keeping up with
 * the chain (the policy is written down in mempool.h, its arithmetic in
 * mempool_policy.h).
 *
 * Entries are found by txid in one hash table, and every input of every
 * entry is in a second one, outpoint -> spending entry: that finds
 * conflicts (who spends this outpoint?) and children (who spends output n
 * of this txid?) without scanning the pool. A dense array of the entries
 * serves iteration; each entry knows its slot, so removal is O(inputs).
 *
 * Sets of entries (conflicts with descendants, expired, evicted, ...) are
 * gathered in a scratch array as large as the entry array and marked with
 * a fresh epoch number, so gathering never allocates and membership is
 * one comparison. Whatever is going to happen is decided first; entries
 * are removed, and tracepoints fire, only once the outcome is final.
 */
#include "mempool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coins.h"
#include "hashmap.h"
#include "log.h"
#include "mempool_policy.h"
#include "script.h"
#include "tracepoints.h"
#include "util.h"

/* One input of an entry, in the outpoint table. */
struct mp_spend {
	struct outpoint op;        /* the key */
	struct mp_entry *by;
	struct hashmap_node node;  /* in mempool.by_outpoint */
};

struct mp_entry {
	struct mempool_entry pub;  /* first: what mempool_get hands out */
	struct hashmap_node node;  /* in mempool.by_txid, keyed by pub.tx.txid */
	struct mp_spend *spends;   /* one per input */
	size_t idx;                /* slot in mempool.v */
	size_t usage;              /* memory estimate of this entry */
	uint64_t mark;             /* epoch of the last set it joined */
};

struct mempool {
	struct chainstate *cs;
	struct mempool_params p;
	struct mp_entry **v;       /* dense: v[0..n) */
	struct mp_entry **scratch; /* sets; capacity cap like v */
	size_t n, cap;
	struct hashmap *by_txid;   /* txid -> struct mp_entry */
	struct hashmap *by_outpoint; /* outpoint -> struct mp_spend (its spender) */
	size_t bytes, usage;
	int64_t total_fee;
	uint64_t epoch;
	struct mempool_listener listeners[MEMPOOL_MAX_LISTENERS];
	size_t n_listeners;
	bool reorged;              /* a block was disconnected since the last trim */
};

/* ---- Policy arithmetic (mempool_policy.h) ------------------------------- */

int64_t mempool_policy_min_fee(int64_t feerate, int32_t vsize)
{
	int64_t fee;

	if (feerate <= 0 || vsize <= 0)
		return 0;
	fee = (int64_t)((__int128)feerate * vsize / 1000);
	return fee > 0 ? fee : 1;
}

int mempool_policy_feerate_cmp(int64_t fee_a, int32_t vsize_a, int64_t fee_b, int32_t vsize_b)
{
	__int128 a = (__int128)fee_a * vsize_b, b = (__int128)fee_b * vsize_a;

	return a < b ? -1 : a > b;
}

static int reject(char reason[CHAIN_REASON_MAX], const char *why)
{
	snprintf(reason, CHAIN_REASON_MAX, "%s", why);
	return -1;
}

int mempool_policy_check_replacement(int64_t fee, int32_t vsize, size_t n_replaced,
				     int64_t replaced_fees, int64_t top_fee, int32_t top_vsize,
				     int64_t min_relay_feerate, char reason[CHAIN_REASON_MAX])
{
	if (n_replaced == 0)
		return 0;
	if (n_replaced > MEMPOOL_MAX_REPLACED)
		return reject(reason, "txn-mempool-conflict");
	if (mempool_policy_feerate_cmp(fee, vsize, top_fee, top_vsize) <= 0)
		return reject(reason, "insufficient fee");
	if ((__int128)fee < (__int128)replaced_fees + mempool_policy_min_fee(min_relay_feerate, vsize))
		return reject(reason, "insufficient fee");
	return 0;
}

bool mempool_policy_expired(int64_t entry_time, int64_t now_s, int64_t expiry_s)
{
	return (__int128)now_s - entry_time > expiry_s;
}

int mempool_policy_evict_cmp(const struct mempool_entry *a, const struct mempool_entry *b)
{
	int c = mempool_policy_feerate_cmp(a->fee, a->vsize, b->fee, b->vsize);

	if (c)
		return c;
	if (a->time != b->time)
		return a->time > b->time ? -1 : 1;
	return memcmp(a->tx.txid, b->tx.txid, 32);
}

int mempool_policy_select_cmp(const struct mempool_entry *a, const struct mempool_entry *b)
{
	int c = mempool_policy_feerate_cmp(a->fee, a->vsize, b->fee, b->vsize);

	if (c)
		return -c;
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return memcmp(a->tx.txid, b->tx.txid, 32);
}

/* ---- Lookups ------------------------------------------------------------ */

static struct mp_entry *find(const struct mempool *mp, const uint8_t txid[32])
{
	struct hashmap_node *n = hashmap_find(mp->by_txid, txid);

	return n ? HASHMAP_ENTRY(n, struct mp_entry, node) : NULL;
}

/* The entry spending op, or NULL. */
static struct mp_entry *spender(const struct mempool *mp, const struct outpoint *op)
{
	struct hashmap_node *n = hashmap_find(mp->by_outpoint, op);

	return n ? HASHMAP_ENTRY(n, struct mp_spend, node)->by : NULL;
}

static struct mp_entry *spender_of(const struct mempool *mp, const uint8_t txid[32], uint32_t n)
{
	struct outpoint op;

	memcpy(op.txid, txid, 32);
	op.n = n;
	return spender(mp, &op);
}

/* Room in both maps for one more entry with n_in inputs, the memory
 * accounted for, so linking it cannot fail. 0 or -1. */
static int reserve_maps(struct mempool *mp, size_t n_in)
{
	size_t tx_before = hashmap_buckets(mp->by_txid), op_before = hashmap_buckets(mp->by_outpoint);
	int rc = hashmap_reserve(mp->by_txid, mp->n + 1);

	if (rc == 0)
		rc = hashmap_reserve(mp->by_outpoint, hashmap_count(mp->by_outpoint) + n_in);
	/* Whatever grew stays grown, and counted. */
	mp->usage += (hashmap_buckets(mp->by_txid) - tx_before +
		      hashmap_buckets(mp->by_outpoint) - op_before) * sizeof(void *);
	return rc;
}

/* Room for `want` entries in v and scratch. 0 or -1. */
static int reserve(struct mempool *mp, size_t want)
{
	size_t cap = mp->cap ? mp->cap : 64;
	struct mp_entry **v, **s;

	if (want <= mp->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	v = realloc(mp->v, cap * sizeof(*v));
	if (!v)
		return -1;
	mp->v = v;
	s = realloc(mp->scratch, cap * sizeof(*s));
	if (!s)
		return -1; /* v is merely larger than needed */
	mp->scratch = s;
	mp->usage += 2 * (cap - mp->cap) * sizeof(*v);
	mp->cap = cap;
	return 0;
}

/* ---- Life of an entry --------------------------------------------------- */

struct mempool *mempool_new(struct chainstate *cs, const struct mempool_params *p)
{
	struct mempool *mp = calloc(1, sizeof(*mp));

	if (!mp)
		return NULL;
	mp->cs = cs;
	mp->p = *p;
	mp->by_txid = hashmap_new(HASHMAP_KEY_OFFSET(struct mp_entry, node, pub.tx.txid), 32, 64);
	mp->by_outpoint = hashmap_new(HASHMAP_KEY_OFFSET(struct mp_spend, node, op),
				      sizeof(struct outpoint), 64);
	if (!mp->by_txid || !mp->by_outpoint || reserve(mp, 64) < 0) {
		mempool_free(mp);
		return NULL;
	}
	mp->usage = sizeof(*mp) +
		    (hashmap_buckets(mp->by_txid) + hashmap_buckets(mp->by_outpoint)) * sizeof(void *) +
		    2 * mp->cap * sizeof(*mp->v);
	return mp;
}

void mempool_listen(struct mempool *mp, const struct mempool_listener *l)
{
	if (mp->n_listeners < MEMPOOL_MAX_LISTENERS)
		mp->listeners[mp->n_listeners++] = *l;
}

static void entry_free(struct mp_entry *e)
{
	if (!e)
		return;
	tx_clear(&e->pub.tx);
	free(e->spends);
	free(e);
}

void mempool_free(struct mempool *mp)
{
	if (!mp)
		return;
	for (size_t i = 0; i < mp->n; i++)
		entry_free(mp->v[i]);
	free(mp->v);
	free(mp->scratch);
	hashmap_free(mp->by_txid);
	hashmap_free(mp->by_outpoint);
	free(mp);
}

static size_t entry_usage(const struct tx *t)
{
	size_t u = sizeof(struct mp_entry) + t->n_in * (sizeof(struct txin) + sizeof(struct mp_spend)) +
		   t->n_out * sizeof(struct txout);

	for (size_t i = 0; i < t->n_in; i++)
		u += t->vin[i].script_sig_len;
	for (size_t i = 0; i < t->n_out; i++)
		u += t->vout[i].script_pubkey_len;
	return u;
}

/* A new entry for t, not yet in the pool: everything that can fail. */
static struct mp_entry *entry_new(struct mempool *mp, const struct tx *t, int64_t fee, int32_t vsize)
{
	struct mp_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->spends = calloc(t->n_in ? t->n_in : 1, sizeof(*e->spends));
	if (!e->spends || tx_copy(&e->pub.tx, t) < 0) {
		free(e->spends);
		free(e);
		return NULL;
	}
	e->pub.fee = fee;
	e->pub.vsize = vsize;
	e->pub.time = util_time_s();
	e->pub.height = chainstate_height(mp->cs);
	e->usage = entry_usage(t);
	for (size_t i = 0; i < t->n_in; i++) {
		e->spends[i].op = t->vin[i].prevout;
		e->spends[i].by = e;
	}
	return e;
}

/* Put e into the pool (room reserved by the caller) and announce it. */
static void link_entry(struct mempool *mp, struct mp_entry *e)
{
	hashmap_add(mp->by_txid, &e->node);
	for (size_t i = 0; i < e->pub.tx.n_in; i++)
		hashmap_add(mp->by_outpoint, &e->spends[i].node);
	e->idx = mp->n;
	mp->v[mp->n++] = e;
	mp->bytes += (size_t)e->pub.vsize;
	mp->total_fee += e->pub.fee;
	mp->usage += e->usage;
	trace_mempool_added(e->pub.tx.txid, e->pub.vsize, e->pub.fee);
	for (size_t i = 0; i < mp->n_listeners; i++)
		mp->listeners[i].tx_added(mp->listeners[i].ctx, &e->pub);
}

/* Take e out of the pool, announce it and free it. */
static void remove_entry(struct mempool *mp, struct mp_entry *e, const char *reason)
{
	trace_mempool_removed(e->pub.tx.txid, reason, e->pub.vsize, e->pub.fee,
			      (uint64_t)e->pub.time);
	for (size_t i = 0; i < mp->n_listeners; i++)
		mp->listeners[i].tx_removed(mp->listeners[i].ctx, &e->pub, reason);
	hashmap_remove(mp->by_txid, &e->node);
	for (size_t i = 0; i < e->pub.tx.n_in; i++)
		hashmap_remove(mp->by_outpoint, &e->spends[i].node);
	mp->v[e->idx] = mp->v[--mp->n];
	mp->v[e->idx]->idx = e->idx;
	mp->bytes -= (size_t)e->pub.vsize;
	mp->total_fee -= e->pub.fee;
	mp->usage -= e->usage;
	entry_free(e);
}

/* ---- Sets (in mp->scratch) ---------------------------------------------- */

struct eset {
	struct mp_entry **v;
	size_t n;
	uint64_t epoch;
};

static struct eset set_begin(struct mempool *mp)
{
	struct eset s = { mp->scratch, 0, ++mp->epoch };

	return s;
}

static void set_add(struct eset *s, struct mp_entry *e)
{
	if (e->mark != s->epoch) {
		e->mark = s->epoch;
		s->v[s->n++] = e; /* each entry at most once: n <= mp->n <= cap */
	}
}

/* Add every descendant of s->v[from..]. */
static void set_close(const struct mempool *mp, struct eset *s, size_t from)
{
	for (size_t k = from; k < s->n; k++) {
		const struct tx *t = &s->v[k]->pub.tx;
		for (uint32_t j = 0; j < t->n_out; j++) {
			struct mp_entry *c = spender_of(mp, t->txid, j);
			if (c)
				set_add(s, c);
		}
	}
}

static void remove_set(struct mempool *mp, struct eset *s, const char *reason)
{
	for (size_t i = 0; i < s->n; i++)
		remove_entry(mp, s->v[i], reason);
	s->n = 0;
}

/* ---- Lookups and simple accessors --------------------------------------- */

const struct mempool_entry *mempool_get(const struct mempool *mp, const uint8_t txid[32])
{
	struct mp_entry *e = find(mp, txid);

	return e ? &e->pub : NULL;
}

size_t mempool_count(const struct mempool *mp) { return mp->n; }
size_t mempool_bytes(const struct mempool *mp) { return mp->bytes; }
size_t mempool_usage(const struct mempool *mp) { return mp->usage; }
int64_t mempool_total_fee(const struct mempool *mp) { return mp->total_fee; }

void mempool_foreach(const struct mempool *mp,
		     void (*cb)(void *ctx, const struct mempool_entry *e), void *ctx)
{
	for (size_t i = 0; i < mp->n; i++)
		cb(ctx, &mp->v[i]->pub);
}

/* ---- Acceptance --------------------------------------------------------- */

struct lookup_ctx {
	struct mempool *mp;
	uint64_t replaced_epoch;   /* entries marked so are being replaced */
	bool spends_replaced;      /* an input is an output of one of them */
	struct outpoint *loaded;   /* coins brought into the cache for us */
	size_t nloaded, cap_loaded;
	struct coin tmp;           /* a mempool parent's output */
};

/*
 * The coin at op for a transaction entering the mempool: an output of an
 * in-mempool parent (at the next block's height, not coinbase), else the
 * chain's. Outpoints that other mempool entries spend are not refused
 * here: those are conflicts, which the replacement rules judge.
 */
static const struct coin *lookup_coin(void *ctx, const struct outpoint *op)
{
	struct lookup_ctx *l = ctx;
	struct mp_entry *parent = find(l->mp, op->txid);
	struct coins_cache *cc = chainstate_coins(l->mp->cs);

	if (parent) {
		const struct tx *pt = &parent->pub.tx;
		if (op->n >= pt->n_out)
			return NULL;
		if (parent->mark == l->replaced_epoch)
			l->spends_replaced = true;
		l->tmp.value = pt->vout[op->n].value;
		l->tmp.script = pt->vout[op->n].script_pubkey;
		l->tmp.script_len = pt->vout[op->n].script_pubkey_len;
		l->tmp.height = (uint32_t)(chainstate_height(l->mp->cs) + 1);
		l->tmp.coinbase = false;
		return &l->tmp;
	}
	if (!coins_in_cache(cc, op) && l->nloaded < l->cap_loaded)
		l->loaded[l->nloaded++] = *op;
	return coins_get(cc, op);
}

static int check_standard(const struct tx *t, char reason[CHAIN_REASON_MAX])
{
	if (tx_is_coinbase(t))
		return reject(reason, "coinbase");
	if (t->size > MEMPOOL_MAX_TX_SIZE)
		return reject(reason, "tx-size");
	for (size_t i = 0; i < t->n_out; i++)
		if (!script_is_p2pkh(t->vout[i].script_pubkey, t->vout[i].script_pubkey_len, NULL))
			return reject(reason, "scriptpubkey");
	return 0;
}

/* Every spent output that exists must be P2PKH (missing ones are left to
 * tx_check_inputs, which names them). */
static int check_standard_inputs(const struct tx *t, struct lookup_ctx *l,
				 char reason[CHAIN_REASON_MAX])
{
	for (size_t i = 0; i < t->n_in; i++) {
		const struct coin *c = lookup_coin(l, &t->vin[i].prevout);
		if (c && !script_is_p2pkh(c->script, c->script_len, NULL))
			return reject(reason, "non-standard");
	}
	return 0;
}

/* The conflicts of t and all their descendants, into *s. */
static void gather_conflicts(struct mempool *mp, const struct tx *t, struct eset *s)
{
	for (size_t i = 0; i < t->n_in; i++) {
		struct mp_entry *c = spender(mp, &t->vin[i].prevout);
		if (c)
			set_add(s, c);
	}
	set_close(mp, s, 0);
}

static int replacement_ok(struct mempool *mp, const struct eset *s, int64_t fee, int32_t vsize,
			  char reason[CHAIN_REASON_MAX])
{
	const struct mempool_entry *top = NULL;
	int64_t total = 0;

	if (s->n > MEMPOOL_MAX_REPLACED)
		return reject(reason, "txn-mempool-conflict");
	for (size_t i = 0; i < s->n; i++) {
		const struct mempool_entry *e = &s->v[i]->pub;
		total += e->fee;
		if (!top || mempool_policy_feerate_cmp(e->fee, e->vsize, top->fee, top->vsize) > 0)
			top = e;
	}
	return mempool_policy_check_replacement(fee, vsize, s->n, total, top ? top->fee : 0,
						top ? top->vsize : 1, mp->p.min_relay_feerate,
						reason);
}

/*
 * mempool_accept, with bypass_fee for transactions coming back from a
 * disconnected block (they need not pay the relay fee again: Bitcoin's
 * bypass_limits).
 */
static int accept_tx(struct mempool *mp, const struct tx *t, bool test_only, bool bypass_fee,
		     int64_t *fee_out, int32_t *vsize_out, char reason[CHAIN_REASON_MAX])
{
	struct lookup_ctx l;
	struct eset conflicts = { NULL, 0, 0 };
	struct mp_entry *e = NULL;
	int64_t fee = 0;
	int32_t vsize = 0;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.mp = mp;
	if (find(mp, t->txid)) {
		reject(reason, "txn-already-in-mempool");
		goto out;
	}
	if (tx_check(t, reason) < 0 || check_standard(t, reason) < 0)
		goto out;
	vsize = tx_vsize(t);
	/* Room for one more entry now, so nothing below reallocates the
	 * scratch array the conflict set lives in. */
	if (reserve(mp, mp->n + 1) < 0) {
		reject(reason, "out of memory");
		goto out;
	}
	/* Each input is looked up at most twice (standardness, then inputs). */
	l.cap_loaded = 2 * t->n_in;
	l.loaded = malloc((l.cap_loaded ? l.cap_loaded : 1) * sizeof(*l.loaded));
	if (!l.loaded) {
		reject(reason, "out of memory");
		goto out;
	}
	conflicts = set_begin(mp);
	gather_conflicts(mp, t, &conflicts);
	l.replaced_epoch = conflicts.epoch;
	if (check_standard_inputs(t, &l, reason) < 0 ||
	    tx_check_inputs(t, chainstate_height(mp->cs) + 1, lookup_coin, &l, &fee, reason) < 0)
		goto out;
	if (l.spends_replaced) {
		reject(reason, "txn-mempool-conflict");
		goto out;
	}
	if (!bypass_fee && fee < mempool_policy_min_fee(mp->p.min_relay_feerate, vsize)) {
		reject(reason, "min relay fee not met");
		goto out;
	}
	if (conflicts.n && replacement_ok(mp, &conflicts, fee, vsize, reason) < 0)
		goto out;
	if (!test_only) {
		e = entry_new(mp, t, fee, vsize);
		if (!e || reserve_maps(mp, t->n_in) < 0) {
			reject(reason, "out of memory");
			goto out;
		}
		/* Final from here on. */
		for (size_t i = 0; i < conflicts.n; i++) {
			struct mp_entry *r = conflicts.v[i];
			trace_mempool_replaced(r->pub.tx.txid, r->pub.vsize, r->pub.fee,
					       (uint64_t)r->pub.time, e->pub.tx.txid,
					       e->pub.vsize, e->pub.fee);
			remove_entry(mp, r, "replaced");
		}
		conflicts.n = 0;
		link_entry(mp, e);
		e = NULL;
	}
	rc = 0;
out:
	if (e)
		entry_free(e);
	if (fee_out)
		*fee_out = fee;
	if (vsize_out)
		*vsize_out = vsize;
	if (rc < 0 && !test_only)
		trace_mempool_rejected(t->txid, reason);
	/* Coins loaded only to check this transaction leave the cache again
	 * (an accepted one keeps them: a block will spend them soon). */
	if (rc < 0 || test_only)
		for (size_t i = 0; i < l.nloaded; i++)
			coins_uncache(chainstate_coins(mp->cs), &l.loaded[i]);
	free(l.loaded);
	return rc;
}

int mempool_accept(struct mempool *mp, const struct tx *t, bool test_only, int64_t *fee,
		   int32_t *vsize, char reason[CHAIN_REASON_MAX])
{
	return accept_tx(mp, t, test_only, false, fee, vsize, reason);
}

/* ---- Following the chain ------------------------------------------------ */

void mempool_block_connected(void *arg, const struct block *b, const struct block_index *bi)
{
	struct mempool *mp = arg;
	struct eset s;

	(void)bi;
	/* Mined: gone, but their children stay (their parent is confirmed). */
	for (size_t i = 1; i < b->n_tx; i++) {
		struct mp_entry *e = find(mp, b->txs[i].txid);
		if (e)
			remove_entry(mp, e, "block");
	}
	/* Double spends of what the block spent, with their descendants. */
	s = set_begin(mp);
	for (size_t i = 1; i < b->n_tx; i++)
		for (size_t j = 0; j < b->txs[i].n_in; j++) {
			struct mp_entry *c = spender(mp, &b->txs[i].vin[j].prevout);
			if (c)
				set_add(&s, c);
		}
	set_close(mp, &s, 0);
	remove_set(mp, &s, "conflict");
	/* A reorganisation put transactions back without the size limit:
	 * enforce it (and expiry) once the new chain's blocks connect. */
	if (mp->reorged)
		mempool_trim(mp, util_time_s());
}

/*
 * After a disconnect: entries with an input that is neither an output of
 * another entry nor an unspent coin of the chain, or a coinbase output
 * not mature at the next block's height, go with their descendants.
 */
static void remove_for_reorg(struct mempool *mp)
{
	struct coins_cache *cc = chainstate_coins(mp->cs);
	int64_t next = (int64_t)chainstate_height(mp->cs) + 1;
	struct eset s = set_begin(mp);

	for (size_t i = 0; i < mp->n; i++) {
		struct mp_entry *e = mp->v[i];
		const struct tx *t = &e->pub.tx;
		for (size_t j = 0; j < t->n_in; j++) {
			const struct outpoint *op = &t->vin[j].prevout;
			const struct mp_entry *parent = find(mp, op->txid);
			const struct coin *c;
			if (parent) {
				if (op->n < parent->pub.tx.n_out)
					continue;
				set_add(&s, e);
				break;
			}
			c = coins_get(cc, op);
			if (!c || (c->coinbase && next - (int64_t)c->height < COINBASE_MATURITY)) {
				set_add(&s, e);
				break;
			}
		}
	}
	set_close(mp, &s, 0);
	remove_set(mp, &s, "reorg");
}

void mempool_block_disconnected(void *arg, const struct block *b, const struct block_index *bi)
{
	struct mempool *mp = arg;
	char reason[CHAIN_REASON_MAX];

	(void)bi;
	/* Back into the pool through normal acceptance (added, or rejected
	 * and dropped), parents first as they were in the block. */
	for (size_t i = 1; i < b->n_tx; i++)
		if (accept_tx(mp, &b->txs[i], false, true, NULL, NULL, reason) < 0)
			log_debug(LOG_NET,
				  "mempool: transaction from a disconnected block dropped: %s",
				  reason);
	remove_for_reorg(mp);
	mp->reorged = true;
}

/* ---- Limits ------------------------------------------------------------- */

static int evict_order(const void *a, const void *b)
{
	const struct mp_entry *x = *(const struct mp_entry *const *)a;
	const struct mp_entry *y = *(const struct mp_entry *const *)b;

	return mempool_policy_evict_cmp(&x->pub, &y->pub);
}

void mempool_trim(struct mempool *mp, int64_t now_s)
{
	struct eset s;

	mp->reorged = false;
	s = set_begin(mp);
	struct mp_entry **order;
	size_t bytes;

	for (size_t i = 0; i < mp->n; i++)
		if (mempool_policy_expired(mp->v[i]->pub.time, now_s, mp->p.expiry_s))
			set_add(&s, mp->v[i]);
	set_close(mp, &s, 0);
	remove_set(mp, &s, "expiry");

	if (mp->bytes <= mp->p.max_bytes)
		return;
	/* Decide the whole eviction first: the lowest fee rates (each with its
	 * descendants) until the rest fits. Own fee rates do not change as
	 * others go, so one sorted pass suffices. */
	order = malloc(mp->n * sizeof(*order));
	s = set_begin(mp);
	bytes = mp->bytes;
	if (order) {
		memcpy(order, mp->v, mp->n * sizeof(*order));
		qsort(order, mp->n, sizeof(*order), evict_order);
	}
	for (size_t k = 0; bytes > mp->p.max_bytes && k < mp->n; k++) {
		struct mp_entry *e = order ? order[k] : NULL;
		size_t from = s.n;
		if (!order) { /* no memory to sort: scan for the lowest */
			for (size_t i = 0; i < mp->n; i++)
				if (mp->v[i]->mark != s.epoch &&
				    (!e || mempool_policy_evict_cmp(&mp->v[i]->pub, &e->pub) < 0))
					e = mp->v[i];
		}
		if (!e || e->mark == s.epoch)
			continue;
		set_add(&s, e);
		set_close(mp, &s, from);
		for (size_t i = from; i < s.n; i++)
			bytes -= (size_t)s.v[i]->pub.vsize;
	}
	free(order);
	remove_set(mp, &s, "sizelimit");
}

/* ---- Block templates ---------------------------------------------------- */

/* A binary max-heap of ready entries in mempool_policy_select_cmp order. */
static bool heap_before(const struct mp_entry *a, const struct mp_entry *b)
{
	return mempool_policy_select_cmp(&a->pub, &b->pub) < 0;
}

static void heap_push(struct mp_entry **h, size_t *n, struct mp_entry *e)
{
	size_t i = (*n)++;

	while (i > 0 && heap_before(e, h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static struct mp_entry *heap_pop(struct mp_entry **h, size_t *n)
{
	struct mp_entry *top = h[0], *last = h[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap_before(h[c + 1], h[c]))
			c++;
		if (!heap_before(h[c], last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
	return top;
}

size_t mempool_select_for_block(const struct mempool *mp, size_t max_bytes,
				const struct mempool_entry ***out)
{
	const struct mempool_entry **sel = malloc((mp->n ? mp->n : 1) * sizeof(*sel));
	size_t *waiting = calloc(mp->n ? mp->n : 1, sizeof(*waiting));
	struct mp_entry **heap = malloc((mp->n ? mp->n : 1) * sizeof(*heap));
	size_t nsel = 0, nheap = 0, bytes = 0;

	*out = NULL;
	if (!sel || !waiting || !heap) {
		free(sel);
		free(waiting);
		free(heap);
		return 0;
	}
	/* waiting[i]: inputs of v[i] that are outputs of unselected entries. */
	for (size_t i = 0; i < mp->n; i++) {
		const struct tx *t = &mp->v[i]->pub.tx;
		for (size_t j = 0; j < t->n_in; j++)
			if (find(mp, t->vin[j].prevout.txid))
				waiting[i]++;
		if (!waiting[i])
			heap_push(heap, &nheap, mp->v[i]);
	}
	/* The best ready entry that fits; one that does not fit never will,
	 * and its descendants never become ready. */
	while (nheap && bytes < max_bytes) {
		struct mp_entry *e = heap_pop(heap, &nheap);
		const struct tx *t = &e->pub.tx;
		if (t->size > max_bytes - bytes)
			continue;
		sel[nsel++] = &e->pub;
		bytes += t->size;
		for (uint32_t j = 0; j < t->n_out; j++) {
			struct mp_entry *c = spender_of(mp, t->txid, j);
			if (c && --waiting[c->idx] == 0)
				heap_push(heap, &nheap, c);
		}
	}
	free(waiting);
	free(heap);
	*out = sel;
	return nsel;
}
