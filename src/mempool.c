/*
 * mempool.c — acceptance policy, replacement, limits, and keeping up with
 * the chain. Entries live in an array; lookups scan it. A regtest mempool
 * holds thousands of transactions, not millions, and every scan is linear
 * in them.
 */
#include "mempool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "coins.h"
#include "log.h"
#include "script.h"
#include "trace.h"
#include "util.h"

struct mempool {
	struct chainstate *cs;
	struct mempool_params p;
	struct mempool_entry **v;
	size_t n, cap, bytes;
	int64_t total_fee;
};

struct mempool *mempool_new(struct chainstate *cs, const struct mempool_params *p)
{
	struct mempool *mp = calloc(1, sizeof(*mp));

	if (!mp)
		return NULL;
	mp->cs = cs;
	mp->p = *p;
	return mp;
}

static void entry_free(struct mempool_entry *e)
{
	tx_clear(&e->tx);
	free(e);
}

void mempool_free(struct mempool *mp)
{
	if (!mp)
		return;
	for (size_t i = 0; i < mp->n; i++)
		entry_free(mp->v[i]);
	free(mp->v);
	free(mp);
}

static ssize_t find_index(const struct mempool *mp, const uint8_t txid[32])
{
	for (size_t i = 0; i < mp->n; i++)
		if (memcmp(mp->v[i]->tx.txid, txid, 32) == 0)
			return (ssize_t)i;
	return -1;
}

const struct mempool_entry *mempool_get(const struct mempool *mp, const uint8_t txid[32])
{
	ssize_t i = find_index(mp, txid);

	return i < 0 ? NULL : mp->v[i];
}

/* The entry spending op, or NULL. */
static struct mempool_entry *spender(const struct mempool *mp, const struct outpoint *op)
{
	for (size_t i = 0; i < mp->n; i++) {
		const struct tx *t = &mp->v[i]->tx;
		for (size_t j = 0; j < t->n_in; j++)
			if (t->vin[j].prevout.n == op->n &&
			    memcmp(t->vin[j].prevout.txid, op->txid, 32) == 0)
				return mp->v[i];
	}
	return NULL;
}

size_t mempool_count(const struct mempool *mp) { return mp->n; }
size_t mempool_bytes(const struct mempool *mp) { return mp->bytes; }
int64_t mempool_total_fee(const struct mempool *mp) { return mp->total_fee; }

size_t mempool_usage(const struct mempool *mp)
{
	size_t u = mp->cap * sizeof(*mp->v);

	for (size_t i = 0; i < mp->n; i++)
		u += sizeof(struct mempool_entry) + 2 * mp->v[i]->tx.size;
	return u;
}

void mempool_foreach(const struct mempool *mp,
		     void (*cb)(void *ctx, const struct mempool_entry *e), void *ctx)
{
	for (size_t i = 0; i < mp->n; i++)
		cb(ctx, mp->v[i]);
}

/* ---- Sets of entries ---------------------------------------------------- */

struct entry_set {
	struct mempool_entry **v;
	size_t n, cap;
};

static bool set_has(const struct entry_set *s, const struct mempool_entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == e)
			return true;
	return false;
}

static int set_add(struct entry_set *s, struct mempool_entry *e)
{
	if (set_has(s, e))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct mempool_entry **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = e;
	return 0;
}

/* Add e and everything spending its outputs, transitively. */
static int add_with_descendants(const struct mempool *mp, struct entry_set *s,
				struct mempool_entry *e)
{
	size_t from = s->n;

	if (set_has(s, e))
		return 0;
	if (set_add(s, e) < 0)
		return -1;
	for (size_t k = from; k < s->n; k++) {
		const uint8_t *txid = s->v[k]->tx.txid;
		for (size_t i = 0; i < mp->n; i++) {
			const struct tx *t = &mp->v[i]->tx;
			for (size_t j = 0; j < t->n_in; j++)
				if (memcmp(t->vin[j].prevout.txid, txid, 32) == 0 &&
				    set_add(s, mp->v[i]) < 0)
					return -1;
		}
	}
	return 0;
}

static void remove_entry(struct mempool *mp, struct mempool_entry *e, const char *reason)
{
	ssize_t i = find_index(mp, e->tx.txid);

	if (i < 0)
		return;
	TRACEPOINT(mempool, removed, e->tx.txid, reason, e->vsize, e->fee, (uint64_t)e->time);
	mp->bytes -= (size_t)e->vsize;
	mp->total_fee -= e->fee;
	mp->v[i] = mp->v[--mp->n];
	entry_free(e);
}

static void remove_set(struct mempool *mp, struct entry_set *s, const char *reason)
{
	for (size_t i = 0; i < s->n; i++)
		remove_entry(mp, s->v[i], reason);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- Acceptance --------------------------------------------------------- */

struct lookup_ctx {
	struct mempool *mp;
	const struct entry_set *replaced; /* their outputs do not count */
	struct outpoint *loaded;          /* coins brought into the cache for us */
	size_t nloaded, cap_loaded;
	struct coin tmp;                  /* a mempool parent's output */
};

static const struct coin *lookup_coin(void *ctx, const struct outpoint *op)
{
	struct lookup_ctx *l = ctx;
	ssize_t i = find_index(l->mp, op->txid);
	struct coins_cache *cc = chainstate_coins(l->mp->cs);

	if (i >= 0) {
		const struct mempool_entry *parent = l->mp->v[i];
		if (set_has(l->replaced, (struct mempool_entry *)parent) ||
		    op->n >= parent->tx.n_out)
			return NULL;
		l->tmp.value = parent->tx.vout[op->n].value;
		l->tmp.script = parent->tx.vout[op->n].script_pubkey;
		l->tmp.script_len = parent->tx.vout[op->n].script_pubkey_len;
		l->tmp.height = (uint32_t)(chainstate_height(l->mp->cs) + 1);
		l->tmp.coinbase = false;
		return &l->tmp;
	}
	if (!coins_in_cache(cc, op) && l->nloaded < l->cap_loaded)
		l->loaded[l->nloaded++] = *op;
	return coins_get(cc, op);
}

static int reject(char reason[CHAIN_REASON_MAX], const char *why)
{
	snprintf(reason, CHAIN_REASON_MAX, "%s", why);
	return -1;
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

/* The replacement rules against every transaction it would evict. */
static int check_replacement(struct mempool *mp, const struct tx *t, int64_t fee, int32_t vsize,
			     const struct entry_set *direct, const struct entry_set *all,
			     char reason[CHAIN_REASON_MAX])
{
	int64_t replaced_fees = 0;

	(void)mp;
	if (all->n > MEMPOOL_MAX_REPLACED)
		return reject(reason, "too many potential replacements");
	for (size_t i = 0; i < direct->n; i++) {
		const struct mempool_entry *e = direct->v[i];
		/* fee/vsize > e->fee/e->vsize, without division */
		if ((__int128)fee * e->vsize <= (__int128)e->fee * vsize)
			return reject(reason, "insufficient fee");
	}
	for (size_t i = 0; i < all->n; i++) {
		replaced_fees += all->v[i]->fee;
		for (size_t j = 0; j < t->n_in; j++)
			if (memcmp(t->vin[j].prevout.txid, all->v[i]->tx.txid, 32) == 0)
				return reject(reason, "bad-txns-spends-conflicting-tx");
	}
	if (fee < replaced_fees + mp->p.min_relay_feerate * vsize / 1000)
		return reject(reason, "insufficient fee");
	return 0;
}

static int insert_entry(struct mempool *mp, const struct tx *t, int64_t fee, int32_t vsize)
{
	struct mempool_entry *e = calloc(1, sizeof(*e));

	if (!e || tx_copy(&e->tx, t) < 0) {
		free(e);
		return -1;
	}
	if (mp->n == mp->cap) {
		size_t cap = mp->cap ? mp->cap * 2 : 64;
		struct mempool_entry **v = realloc(mp->v, cap * sizeof(*v));
		if (!v) {
			entry_free(e);
			return -1;
		}
		mp->v = v;
		mp->cap = cap;
	}
	e->fee = fee;
	e->vsize = vsize;
	e->time = util_time_s();
	e->height = chainstate_height(mp->cs);
	mp->v[mp->n++] = e;
	mp->bytes += (size_t)vsize;
	mp->total_fee += fee;
	TRACEPOINT(mempool, added, e->tx.txid, e->vsize, e->fee);
	return 0;
}

/* Run every check; on success fill the conflict sets, fee and vsize. */
static int check_tx(struct mempool *mp, const struct tx *t, struct lookup_ctx *l,
		    struct entry_set *direct, struct entry_set *all, int64_t *fee,
		    int32_t *vsize, char reason[CHAIN_REASON_MAX])
{
	if (find_index(mp, t->txid) >= 0)
		return reject(reason, "txn-already-in-mempool");
	if (tx_check(t, reason) < 0 || check_standard(t, reason) < 0)
		return -1;
	*vsize = tx_vsize(t);
	for (size_t i = 0; i < t->n_in; i++) {
		struct mempool_entry *c = spender(mp, &t->vin[i].prevout);
		if (c && (set_add(direct, c) < 0 || add_with_descendants(mp, all, c) < 0))
			return reject(reason, "out of memory");
	}
	if (tx_check_inputs(t, chainstate_height(mp->cs) + 1, lookup_coin, l, fee, reason) < 0)
		return -1;
	if (*fee * 1000 < mp->p.min_relay_feerate * (int64_t)*vsize)
		return reject(reason, "min relay fee not met");
	if (direct->n && check_replacement(mp, t, *fee, *vsize, direct, all, reason) < 0)
		return -1;
	return 0;
}

int mempool_accept(struct mempool *mp, const struct tx *t, bool test_only, int64_t *fee,
		   int32_t *vsize, char reason[CHAIN_REASON_MAX])
{
	struct entry_set direct = { 0 }, all = { 0 };
	struct lookup_ctx l = { mp, &all, NULL, 0, t->n_in, { 0 } };
	int64_t f = 0;
	int32_t vs = 0;
	int rc;

	l.loaded = calloc(t->n_in ? t->n_in : 1, sizeof(*l.loaded));
	if (!l.loaded)
		return reject(reason, "out of memory");
	rc = check_tx(mp, t, &l, &direct, &all, &f, &vs, reason);
	if (fee)
		*fee = f;
	if (vsize)
		*vsize = vs;
	if (rc == 0 && !test_only) {
		for (size_t i = 0; i < all.n; i++) {
			const struct mempool_entry *e = all.v[i];
			TRACEPOINT(mempool, replaced, e->tx.txid, e->vsize, e->fee, (uint64_t)e->time,
				   t->txid, vs, f);
		}
		remove_set(mp, &all, "replaced");
		if (insert_entry(mp, t, f, vs) < 0)
			rc = reject(reason, "out of memory");
	}
	if (rc < 0 && !test_only)
		TRACEPOINT(mempool, rejected, t->txid, reason);
	/* Coins we loaded only to check this transaction leave the cache again
	 * (an accepted one keeps them: a block will spend them soon). */
	if (rc < 0 || test_only)
		for (size_t i = 0; i < l.nloaded; i++)
			coins_uncache(chainstate_coins(mp->cs), &l.loaded[i]);
	free(l.loaded);
	free(direct.v);
	free(all.v);
	return rc;
}

/* ---- Following the chain ------------------------------------------------ */

void mempool_block_connected(void *arg, const struct block *b, const struct block_index *bi)
{
	struct mempool *mp = arg;
	struct entry_set conflicts = { 0 };

	(void)bi;
	for (size_t i = 1; i < b->n_tx; i++) {
		ssize_t k = find_index(mp, b->txs[i].txid);
		if (k >= 0)
			remove_entry(mp, mp->v[k], "block");
	}
	for (size_t i = 1; i < b->n_tx; i++)
		for (size_t j = 0; j < b->txs[i].n_in; j++) {
			struct mempool_entry *c = spender(mp, &b->txs[i].vin[j].prevout);
			if (c)
				add_with_descendants(mp, &conflicts, c);
		}
	remove_set(mp, &conflicts, "conflict");
}

/* After a disconnect: entries whose inputs are gone or no longer mature. */
static void remove_unspendable(struct mempool *mp)
{
	struct entry_set bad = { 0 };
	struct lookup_ctx l = { mp, &bad, NULL, 0, 0, { 0 } };
	int32_t next = chainstate_height(mp->cs) + 1;

	for (size_t i = 0; i < mp->n; i++) {
		const struct tx *t = &mp->v[i]->tx;
		for (size_t j = 0; j < t->n_in; j++) {
			const struct coin *c = lookup_coin(&l, &t->vin[j].prevout);
			if (!c || (c->coinbase && next - (int64_t)c->height < COINBASE_MATURITY)) {
				add_with_descendants(mp, &bad, mp->v[i]);
				break;
			}
		}
	}
	remove_set(mp, &bad, "reorg");
}

void mempool_block_disconnected(void *arg, const struct block *b, const struct block_index *bi)
{
	struct mempool *mp = arg;
	char reason[CHAIN_REASON_MAX];

	(void)bi;
	remove_unspendable(mp);
	/* Back into the pool, parents first as they were in the block. */
	for (size_t i = 1; i < b->n_tx; i++)
		if (mempool_accept(mp, &b->txs[i], false, NULL, NULL, reason) < 0)
			log_debug(LOG_NET, "mempool: transaction from a disconnected block dropped: %s",
				  reason);
}

/* ---- Limits ------------------------------------------------------------- */

static struct mempool_entry *lowest_feerate(const struct mempool *mp)
{
	struct mempool_entry *low = NULL;

	for (size_t i = 0; i < mp->n; i++) {
		struct mempool_entry *e = mp->v[i];
		if (!low || (__int128)e->fee * low->vsize < (__int128)low->fee * e->vsize)
			low = e;
	}
	return low;
}

void mempool_trim(struct mempool *mp, int64_t now_s)
{
	struct entry_set old = { 0 };

	for (size_t i = 0; i < mp->n; i++)
		if (now_s - mp->v[i]->time >= mp->p.expiry_s)
			add_with_descendants(mp, &old, mp->v[i]);
	remove_set(mp, &old, "expiry");
	while (mp->bytes > mp->p.max_bytes && mp->n) {
		struct entry_set s = { 0 };
		add_with_descendants(mp, &s, lowest_feerate(mp));
		remove_set(mp, &s, "sizelimit");
	}
}

/* ---- Block templates ---------------------------------------------------- */

static bool parents_selected(const struct mempool *mp, const struct mempool_entry *e,
			     const struct entry_set *sel)
{
	for (size_t j = 0; j < e->tx.n_in; j++) {
		ssize_t k = find_index(mp, e->tx.vin[j].prevout.txid);
		if (k >= 0 && !set_has(sel, mp->v[k]))
			return false;
	}
	return true;
}

size_t mempool_select_for_block(const struct mempool *mp, size_t max_bytes,
				const struct mempool_entry ***out)
{
	struct entry_set sel = { 0 };
	size_t bytes = 0;

	for (;;) {
		struct mempool_entry *best = NULL;
		for (size_t i = 0; i < mp->n; i++) {
			struct mempool_entry *e = mp->v[i];
			if (set_has(&sel, e) || bytes + e->tx.size > max_bytes ||
			    !parents_selected(mp, e, &sel))
				continue;
			if (!best || (__int128)e->fee * best->vsize > (__int128)best->fee * e->vsize)
				best = e;
		}
		if (!best || set_add(&sel, best) < 0)
			break;
		bytes += best->tx.size;
	}
	*out = (const struct mempool_entry **)sel.v;
	return sel.n;
}
