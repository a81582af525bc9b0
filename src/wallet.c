/*
 * wallet.c — keys, transactions, chain following and balances of one
 * wallet (wallet.h). Sending is in wallet_send.c.
 */
#include "wallet.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "log.h"
#include "script.h"
#include "ser.h"
#include "util.h"

/* ---- Lookups: fixed-size byte keys to pointers (hashmap.h) ------------- */

/* Keys are HASH160s (20 bytes), txids (32) or outpoints (36); one link per
 * (key, value) pair, so a key may map to several values (spenders). */
#define LINK_KEY_MAX 36

struct wlink {
	struct hashmap_node node;
	uint8_t key[LINK_KEY_MAX];
	void *val;
};

static struct hashmap *links_new(size_t klen)
{
	return hashmap_new(HASHMAP_KEY_OFFSET(struct wlink, node, key), klen, 64);
}

/* Free the map and its links (not the values). Accepts NULL. */
static void links_free(struct hashmap *m)
{
	struct hashmap_iter it;
	struct hashmap_node *n;

	if (!m)
		return;
	hashmap_iter_init(&it, m);
	while ((n = hashmap_iter_next(&it)))
		free(HASHMAP_ENTRY(n, struct wlink, node));
	hashmap_free(m);
}

/* Add (key, val) with a key of klen bytes; duplicates allowed. 0 or -1. */
static int links_add(struct hashmap *m, size_t klen, const void *key, void *val)
{
	struct wlink *l = calloc(1, sizeof(*l));

	if (!l)
		return -1;
	memcpy(l->key, key, klen);
	l->val = val;
	hashmap_add(m, &l->node);
	return 0;
}

/* The first link with key after `from` (NULL: the first), or NULL. */
static struct wlink *links_next(const struct hashmap *m, const void *key, struct wlink *from)
{
	struct hashmap_node *n = from ? hashmap_find_next(m, &from->node) : hashmap_find(m, key);

	return n ? HASHMAP_ENTRY(n, struct wlink, node) : NULL;
}

static void *links_get(const struct hashmap *m, const void *key)
{
	struct wlink *l = links_next(m, key, NULL);

	return l ? l->val : NULL;
}

/* Remove the link holding (key, val). */
static void links_del(struct hashmap *m, const void *key, const void *val)
{
	for (struct wlink *l = links_next(m, key, NULL); l; l = links_next(m, key, l))
		if (l->val == val) {
			hashmap_remove(m, &l->node);
			free(l);
			return;
		}
}

/* ---- The wallet -------------------------------------------------------- */

struct wkey {
	struct key k;
	uint32_t chain, index;
	char label[WALLETDB_LABEL_MAX];
};

struct wallet {
	char name[WALLET_NAME_MAX];
	struct walletdb *db;
	bool in_batch;               /* a database transaction is open */
	struct chainstate *cs;
	struct mempool *mp;
	struct wallet_options opts;
	struct wallet_relay relay;   /* fn NULL: none */
	uint8_t seed[32];
	uint32_t next_index[2];
	int64_t birth_height;
	int64_t feerate;             /* settxfee, sat/kvB; 0: fallback */
	struct wkey **keys;
	size_t n_keys, cap_keys;
	struct hashmap *key_by_h160; /* h160 -> struct wkey */
	struct wallet_tx **txs;      /* in the order first seen */
	size_t n_txs, cap_txs;
	struct hashmap *tx_by_id;    /* txid -> struct wallet_tx */
	struct hashmap *spenders;    /* outpoint (36 bytes) -> struct wallet_tx */
	struct outpoint *locked;
	size_t n_locked, cap_locked;
	bool committing;             /* wallet_commit_tx relays itself */
	struct wkey pending_change;  /* wallet_peek_change's key */
	bool have_pending_change;
};

/* Room for one more element in a growing array. 0 or -1. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t nc = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, nc * size);
	if (!p)
		return -1;
	*v = p;
	*cap = nc;
	return 0;
}

static void op_key(const struct outpoint *op, uint8_t key[36])
{
	memcpy(key, op->txid, 32);
	key[32] = (uint8_t)op->n;
	key[33] = (uint8_t)(op->n >> 8);
	key[34] = (uint8_t)(op->n >> 16);
	key[35] = (uint8_t)(op->n >> 24);
}

const char *wallet_name(const struct wallet *w)
{
	return w->name;
}

const struct wallet_options *wallet_opts(const struct wallet *w)
{
	return &w->opts;
}

struct mempool *wallet_mempool(const struct wallet *w)
{
	return w->mp;
}

struct chainstate *wallet_chain(const struct wallet *w)
{
	return w->cs;
}

/* ---- Keys ---------------------------------------------------------------- */

/* The key at (chain, index) of the seed (wallet.h). */
static int derive_key(const uint8_t seed[32], uint32_t chain, uint32_t index, struct key *k)
{
	static const char tag[] = "moneyrocket wallet key";
	uint8_t msg[sizeof(tag) - 1 + 12], out[EVP_MAX_MD_SIZE];
	unsigned out_len = 0;

	memcpy(msg, tag, sizeof(tag) - 1);
	for (uint32_t counter = 0; counter < 1000; counter++) {
		uint32_t f[3] = { chain, index, counter };

		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 4; j++)
				msg[sizeof(tag) - 1 + 4 * i + j] = (uint8_t)(f[i] >> (8 * j));
		if (!HMAC(EVP_sha256(), seed, 32, msg, sizeof(msg), out, &out_len))
			return -1;
		if (key_from_secret(k, out) == 0) {
			memset(out, 0, sizeof(out));
			return 0;
		}
	}
	return -1;
}

static int add_key(struct wallet *w, const struct wkey *src)
{
	struct wkey *k;

	if (grow((void **)&w->keys, &w->cap_keys, w->n_keys, sizeof(*w->keys)) < 0 ||
	    !(k = malloc(sizeof(*k))))
		return -1;
	*k = *src;
	if (links_add(w->key_by_h160, 20, k->k.h160, k) < 0) {
		free(k);
		return -1;
	}
	w->keys[w->n_keys++] = k;
	return 0;
}

const struct key *wallet_key(const struct wallet *w, const uint8_t h160[20],
			     const char **label, uint32_t *chain)
{
	const struct wkey *k = links_get(w->key_by_h160, h160);

	if (!k)
		return NULL;
	if (label)
		*label = k->label;
	if (chain)
		*chain = k->chain;
	return &k->k;
}

/* Open a database transaction unless one is open (changes made by one
 * listener call or one rescan go in together). */
static int batch_begin(struct wallet *w, char *err, size_t errlen)
{
	if (w->in_batch)
		return 0;
	if (walletdb_begin(w->db, err, errlen) < 0)
		return -1;
	w->in_batch = true;
	return 0;
}

static int batch_commit(struct wallet *w, char *err, size_t errlen)
{
	if (!w->in_batch)
		return 0;
	w->in_batch = false;
	if (walletdb_commit(w->db, err, errlen) < 0) {
		walletdb_rollback(w->db);
		return -1;
	}
	return 0;
}

/* Store key k and the advanced counter of its chain. */
static int store_key(struct wallet *w, const struct wkey *k, char *err, size_t errlen)
{
	static const char *counter[2] = { "next_receive", "next_change" };
	struct walletdb_key row = { .chain = k->chain, .index = k->index, .time = util_time_s() };

	memcpy(row.h160, k->k.h160, 20);
	memcpy(row.secret, k->k.secret, 32);
	util_strlcpy(row.label, k->label, sizeof(row.label));
	return walletdb_put_key(w->db, &row, err, errlen) < 0 ||
	       walletdb_put_i64(w->db, counter[k->chain], k->index + 1, err, errlen) < 0 ? -1 : 0;
}

/* The next key of a chain, committed and added. */
static int next_key(struct wallet *w, uint32_t chain, const char *label, struct wkey *out,
		    char *err, size_t errlen)
{
	struct wkey k = { .chain = chain, .index = w->next_index[chain] };

	util_strlcpy(k.label, label ? label : "", sizeof(k.label));
	if (derive_key(w->seed, chain, k.index, &k.k) < 0) {
		snprintf(err, errlen, "cannot derive key %u/%u", chain, k.index);
		return -1;
	}
	if (batch_begin(w, err, errlen) < 0)
		return -1;
	if (store_key(w, &k, err, errlen) < 0 || batch_commit(w, err, errlen) < 0) {
		walletdb_rollback(w->db);
		w->in_batch = false;
		return -1;
	}
	if (add_key(w, &k) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->next_index[chain]++;
	*out = k;
	return 0;
}

int wallet_new_address(struct wallet *w, uint32_t chain, const char *label,
		       char addr[ADDRESS_MAX], char *err, size_t errlen)
{
	struct wkey k;

	if (chain > 1 || next_key(w, chain, label, &k, err, errlen) < 0)
		return -1;
	if (chain == 1)
		w->have_pending_change = false;
	address_encode(k.k.h160, addr);
	return 0;
}

int wallet_peek_change(struct wallet *w, struct key *k)
{
	if (!w->have_pending_change) {
		struct wkey *p = &w->pending_change;

		memset(p, 0, sizeof(*p));
		p->chain = 1;
		p->index = w->next_index[1];
		if (derive_key(w->seed, 1, p->index, &p->k) < 0)
			return -1;
		w->have_pending_change = true;
	}
	*k = w->pending_change.k;
	return 0;
}

size_t wallet_key_count(const struct wallet *w)
{
	return w->n_keys;
}

/* ---- Transactions ------------------------------------------------------ */

const struct wallet_tx *wallet_get_tx(const struct wallet *w, const uint8_t txid[32])
{
	return links_get(w->tx_by_id, txid);
}

size_t wallet_tx_count(const struct wallet *w)
{
	return w->n_txs;
}

/* The key an output pays to, or NULL. */
static const struct wkey *output_key(const struct wallet *w, const struct txout *o)
{
	uint8_t h160[20];

	if (!script_is_p2pkh(o->script_pubkey, o->script_pubkey_len, h160))
		return NULL;
	return links_get(w->key_by_h160, h160);
}

/* The output an input spends, if it is one of ours. */
static const struct txout *our_prevout(const struct wallet *w, const struct txin *in)
{
	const struct wallet_tx *prev = links_get(w->tx_by_id, in->prevout.txid);

	if (!prev || in->prevout.n >= prev->tx.n_out ||
	    !output_key(w, &prev->tx.vout[in->prevout.n]))
		return NULL;
	return &prev->tx.vout[in->prevout.n];
}

int64_t wallet_tx_credit(const struct wallet *w, const struct wallet_tx *wtx)
{
	int64_t sum = 0;

	for (size_t i = 0; i < wtx->tx.n_out; i++)
		if (output_key(w, &wtx->tx.vout[i]))
			sum += wtx->tx.vout[i].value;
	return sum;
}

int64_t wallet_tx_debit(const struct wallet *w, const struct wallet_tx *wtx)
{
	int64_t sum = 0;

	if (tx_is_coinbase(&wtx->tx))
		return 0;
	for (size_t i = 0; i < wtx->tx.n_in; i++) {
		const struct txout *o = our_prevout(w, &wtx->tx.vin[i]);

		if (o)
			sum += o->value;
	}
	return sum;
}

static bool relevant(const struct wallet *w, const struct tx *t)
{
	for (size_t i = 0; i < t->n_out; i++)
		if (output_key(w, &t->vout[i]))
			return true;
	if (tx_is_coinbase(t))
		return false;
	for (size_t i = 0; i < t->n_in; i++)
		if (our_prevout(w, &t->vin[i]))
			return true;
	return false;
}

int32_t wallet_tx_depth(const struct wallet *w, const struct wallet_tx *wtx)
{
	if (wtx->height >= 0)
		return chainstate_height(w->cs) - wtx->height + 1;
	if (tx_is_coinbase(&wtx->tx))
		return -1;
	/* Conflicted: another transaction spending one of its inputs is in
	 * the active chain. */
	for (size_t i = 0; i < wtx->tx.n_in; i++) {
		uint8_t key[36];

		op_key(&wtx->tx.vin[i].prevout, key);
		for (struct wlink *e = links_next(w->spenders, key, NULL); e;
		     e = links_next(w->spenders, key, e)) {
			const struct wallet_tx *other = e->val;

			if (other != wtx && other->height >= 0)
				return -1;
		}
	}
	return 0;
}

/* Spent: a transaction that is not conflicted spends it. */
static bool is_spent(const struct wallet *w, const struct outpoint *op)
{
	uint8_t key[36];

	op_key(op, key);
	for (struct wlink *e = links_next(w->spenders, key, NULL); e;
	     e = links_next(w->spenders, key, e))
		if (wallet_tx_depth(w, e->val) >= 0)
			return true;
	return false;
}

/* Add a transaction to the tables (not to the file). */
static struct wallet_tx *add_tx(struct wallet *w, const struct tx *t, int64_t time)
{
	struct wallet_tx *wtx = calloc(1, sizeof(*wtx));

	if (!wtx || grow((void **)&w->txs, &w->cap_txs, w->n_txs, sizeof(*w->txs)) < 0 ||
	    tx_copy(&wtx->tx, t) < 0) {
		free(wtx);
		return NULL;
	}
	wtx->time = time;
	wtx->height = -1;
	if (links_add(w->tx_by_id, 32, t->txid, wtx) < 0)
		goto fail;
	if (!tx_is_coinbase(t))
		for (size_t i = 0; i < t->n_in; i++) {
			uint8_t key[36];

			op_key(&t->vin[i].prevout, key);
			if (links_add(w->spenders, 36, key, wtx) < 0) {
				for (size_t j = 0; j < i; j++) {
					op_key(&t->vin[j].prevout, key);
					links_del(w->spenders, key, wtx);
				}
				links_del(w->tx_by_id, t->txid, wtx);
				goto fail;
			}
		}
	w->txs[w->n_txs++] = wtx;
	return wtx;
fail:
	tx_clear(&wtx->tx);
	free(wtx);
	return NULL;
}

static int store_tx(struct wallet *w, const struct wallet_tx *wtx, char *err, size_t errlen)
{
	struct wbuf b;
	struct walletdb_tx row = { .time = wtx->time, .from_me = wtx->from_me, .fee = wtx->fee };
	int rc;

	ser_write_init(&b);
	tx_encode(&b, &wtx->tx);
	if (b.oom) {
		ser_write_free(&b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(row.txid, wtx->tx.txid, 32);
	row.raw = b.data;
	row.raw_len = b.len;
	util_strlcpy(row.comment, wtx->comment, sizeof(row.comment));
	rc = batch_begin(w, err, errlen) < 0 ? -1 : walletdb_put_tx(w->db, &row, err, errlen);
	ser_write_free(&b);
	return rc;
}

/*
 * A transaction seen in a block (bi) or the mempool (bi NULL): add it if
 * it concerns us (stored in the open batch), and update where it is.
 * Returns it, or NULL if it does not concern us or could not be added.
 */
static struct wallet_tx *sync_tx(struct wallet *w, const struct tx *t,
				 const struct block_index *bi)
{
	struct wallet_tx *wtx = links_get(w->tx_by_id, t->txid);
	char err[256];

	if (!wtx) {
		if (!relevant(w, t))
			return NULL;
		wtx = add_tx(w, t, util_time_s());
		if (!wtx) {
			log_printf("wallet %s: cannot add a transaction: out of memory", w->name);
			return NULL;
		}
		if (store_tx(w, wtx, err, sizeof(err)) < 0)
			log_printf("wallet %s: %s", w->name, err);
	}
	if (bi) {
		wtx->height = bi->height;
		memcpy(wtx->block_hash, bi->hash, 32);
		wtx->block_time = bi->header.time;
	}
	return wtx;
}

/* End of a listener call: commit what it stored. */
static void sync_done(struct wallet *w)
{
	char err[256];

	if (batch_commit(w, err, sizeof(err)) < 0)
		log_printf("wallet %s: %s", w->name, err);
}

void wallet_block_connected(struct wallet *w, const struct block *b,
			    const struct block_index *bi)
{
	for (size_t i = 0; i < b->n_tx; i++)
		sync_tx(w, &b->txs[i], bi);
	sync_done(w);
}

void wallet_block_disconnected(struct wallet *w, const struct block *b,
			       const struct block_index *bi)
{
	(void)bi;
	for (size_t i = 0; i < b->n_tx; i++) {
		struct wallet_tx *wtx = links_get(w->tx_by_id, b->txs[i].txid);

		if (wtx)
			wtx->height = -1;
	}
}

/*
 * One of our transactions coming back to the mempool (a reorganisation
 * disconnected its block) is relayed again, as Bitcoin's wallet
 * rebroadcasts: peers may never have seen it unconfirmed.
 */
void wallet_tx_added(struct wallet *w, const struct mempool_entry *e)
{
	bool known = links_get(w->tx_by_id, e->tx.txid) != NULL;
	struct wallet_tx *wtx = sync_tx(w, &e->tx, NULL);

	if (wtx) {
		if (known && wtx->from_me && !wtx->in_mempool && !w->committing && w->relay.fn)
			w->relay.fn(w->relay.ctx, wtx->tx.txid);
		wtx->in_mempool = true;
	}
	sync_done(w);
}

void wallet_tx_removed(struct wallet *w, const struct mempool_entry *e, const char *reason)
{
	struct wallet_tx *wtx = links_get(w->tx_by_id, e->tx.txid);

	(void)reason;
	if (wtx)
		wtx->in_mempool = false;
}

void wallet_foreach_tx(const struct wallet *w,
		       void (*cb)(void *ctx, const struct wallet_tx *wtx), void *ctx)
{
	for (size_t i = 0; i < w->n_txs; i++)
		cb(ctx, w->txs[i]);
}

/* ---- Coins and balances ------------------------------------------------ */

static bool is_locked(const struct wallet *w, const struct outpoint *op)
{
	for (size_t i = 0; i < w->n_locked; i++)
		if (w->locked[i].n == op->n && memcmp(w->locked[i].txid, op->txid, 32) == 0)
			return true;
	return false;
}

/* Describe output n of wtx (known to be ours and unspent) into c. */
static void coin_describe(const struct wallet *w, const struct wallet_tx *wtx, uint32_t n,
			  int32_t depth, struct wallet_coin *c)
{
	const struct wkey *k = output_key(w, &wtx->tx.vout[n]);
	struct outpoint op;
	bool mature = !tx_is_coinbase(&wtx->tx) || depth > COINBASE_MATURITY;
	bool trusted = depth >= 1 || (depth == 0 && wtx->from_me && wtx->in_mempool);

	memcpy(op.txid, wtx->tx.txid, 32);
	op.n = n;
	c->wtx = wtx;
	c->n = n;
	c->value = wtx->tx.vout[n].value;
	c->depth = depth;
	c->locked = is_locked(w, &op);
	c->spendable = mature && trusted && !c->locked;
	c->change = k->chain == 1;
	memcpy(c->h160, k->k.h160, 20);
}

void wallet_foreach_coin(const struct wallet *w,
			 void (*cb)(void *ctx, const struct wallet_coin *c), void *ctx)
{
	for (size_t i = 0; i < w->n_txs; i++) {
		const struct wallet_tx *wtx = w->txs[i];
		int32_t depth = wallet_tx_depth(w, wtx);

		if (depth < 0)
			continue;
		for (uint32_t n = 0; n < wtx->tx.n_out; n++) {
			struct outpoint op;
			struct wallet_coin c;

			if (!output_key(w, &wtx->tx.vout[n]))
				continue;
			memcpy(op.txid, wtx->tx.txid, 32);
			op.n = n;
			if (is_spent(w, &op))
				continue;
			coin_describe(w, wtx, n, depth, &c);
			cb(ctx, &c);
		}
	}
}

static void balance_cb(void *ctx, const struct wallet_coin *c)
{
	struct wallet_balances *b = ctx;

	if (tx_is_coinbase(&c->wtx->tx) && c->depth <= COINBASE_MATURITY)
		b->immature += c->value;
	else if (c->depth >= 1 || (c->wtx->from_me && c->wtx->in_mempool))
		b->trusted += c->value;
	else if (c->wtx->in_mempool)
		b->untrusted_pending += c->value;
}

void wallet_balances(const struct wallet *w, struct wallet_balances *b)
{
	memset(b, 0, sizeof(*b));
	wallet_foreach_coin(w, balance_cb, b);
}

struct find_coin {
	const struct outpoint *op;
	bool found;
};

static void find_coin_cb(void *ctx, const struct wallet_coin *c)
{
	struct find_coin *f = ctx;

	if (c->n == f->op->n && memcmp(c->wtx->tx.txid, f->op->txid, 32) == 0)
		f->found = true;
}

int wallet_lock_coin(struct wallet *w, const struct outpoint *op, bool lock)
{
	struct find_coin f = { op, false };

	if (!lock) {
		for (size_t i = 0; i < w->n_locked; i++)
			if (w->locked[i].n == op->n && memcmp(w->locked[i].txid, op->txid, 32) == 0) {
				w->locked[i] = w->locked[--w->n_locked];
				return 0;
			}
		return -1;
	}
	wallet_foreach_coin(w, find_coin_cb, &f);
	if (!f.found || is_locked(w, op) ||
	    grow((void **)&w->locked, &w->cap_locked, w->n_locked, sizeof(*w->locked)) < 0)
		return -1;
	w->locked[w->n_locked++] = *op;
	return 0;
}

void wallet_unlock_all(struct wallet *w)
{
	w->n_locked = 0;
}

size_t wallet_locked(const struct wallet *w, struct outpoint *out, size_t max)
{
	for (size_t i = 0; i < w->n_locked && i < max; i++)
		out[i] = w->locked[i];
	return w->n_locked;
}

int wallet_set_feerate(struct wallet *w, int64_t feerate, char *err, size_t errlen)
{
	if (batch_begin(w, err, errlen) < 0)
		return -1;
	if (walletdb_put_i64(w->db, "paytxfee", feerate, err, errlen) < 0 ||
	    batch_commit(w, err, errlen) < 0) {
		walletdb_rollback(w->db);
		w->in_batch = false;
		return -1;
	}
	w->feerate = feerate;
	return 0;
}

int64_t wallet_feerate(const struct wallet *w)
{
	return w->feerate;
}

/* ---- Committing a transaction we made ---------------------------------- */

int wallet_commit_tx(struct wallet *w, const struct tx *t, int64_t fee, const char *comment,
		     char *err, size_t errlen)
{
	struct wallet_tx *wtx;
	char reason[CHAIN_REASON_MAX];
	bool uses_change = false;
	int rc;

	for (size_t i = 0; w->have_pending_change && i < t->n_out; i++) {
		uint8_t h160[20];

		if (script_is_p2pkh(t->vout[i].script_pubkey, t->vout[i].script_pubkey_len,
				    h160) && memcmp(h160, w->pending_change.k.h160, 20) == 0)
			uses_change = true;
	}
	/* The mempool must take it before anything is written: a refused
	 * transaction leaves no trace. */
	if (mempool_accept(w->mp, t, true, NULL, NULL, reason) < 0) {
		snprintf(err, errlen, "%s", reason);
		return -1;
	}
	wtx = add_tx(w, t, util_time_s());
	if (!wtx) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	wtx->from_me = true;
	wtx->fee = fee;
	util_strlcpy(wtx->comment, comment ? comment : "", sizeof(wtx->comment));
	if (batch_begin(w, err, errlen) < 0 ||
	    (uses_change && store_key(w, &w->pending_change, err, errlen) < 0) ||
	    store_tx(w, wtx, err, errlen) < 0 || batch_commit(w, err, errlen) < 0) {
		/* Not on disk: forget it, so memory and file agree. */
		walletdb_rollback(w->db);
		w->in_batch = false;
		w->n_txs--;
		for (size_t i = 0; i < t->n_in; i++) {
			uint8_t key[36];

			op_key(&t->vin[i].prevout, key);
			links_del(w->spenders, key, wtx);
		}
		links_del(w->tx_by_id, t->txid, wtx);
		tx_clear(&wtx->tx);
		free(wtx);
		return -1;
	}
	if (uses_change) {
		if (add_key(w, &w->pending_change) == 0)
			w->next_index[1]++;
		w->have_pending_change = false;
	}
	/* The mempool listener marks it in_mempool. */
	w->committing = true;
	rc = mempool_accept(w->mp, t, false, NULL, NULL, reason);
	w->committing = false;
	if (rc < 0)
		log_printf("wallet %s: stored transaction refused by the mempool: %s", w->name,
			   reason);
	else if (w->relay.fn)
		w->relay.fn(w->relay.ctx, t->txid);
	return 0;
}

/* ---- Opening, loading, rescanning -------------------------------------- */

static int load_key_cb(void *ctx, const struct walletdb_key *row, char *err, size_t errlen)
{
	struct wallet *w = ctx;
	struct wkey k = { .chain = row->chain, .index = row->index };

	if (row->chain > 1 || key_from_secret(&k.k, row->secret) < 0 ||
	    memcmp(k.k.h160, row->h160, 20) != 0) {
		snprintf(err, errlen, "wallet %s: a stored key is damaged", w->name);
		return -1;
	}
	util_strlcpy(k.label, row->label, sizeof(k.label));
	if (add_key(w, &k) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int load_tx_cb(void *ctx, const struct walletdb_tx *row, char *err, size_t errlen)
{
	struct wallet *w = ctx;
	struct tx t;
	struct wallet_tx *wtx;

	if (tx_decode_bytes(row->raw, row->raw_len, &t) < 0)
		goto damaged;
	if (memcmp(t.txid, row->txid, 32) != 0) {
		tx_clear(&t);
damaged:
		snprintf(err, errlen, "wallet %s: a stored transaction is damaged", w->name);
		return -1;
	}
	wtx = add_tx(w, &t, row->time);
	tx_clear(&t);
	if (!wtx) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	wtx->from_me = row->from_me;
	wtx->fee = row->fee;
	util_strlcpy(wtx->comment, row->comment, sizeof(wtx->comment));
	return 0;
}

/* Read the wallet's meta values and rows. */
static int load(struct wallet *w, char *err, size_t errlen)
{
	size_t len = 0;
	int64_t v;
	int rc = walletdb_get_meta(w->db, "seed", w->seed, sizeof(w->seed), &len, err, errlen);

	if (rc <= 0 || len != sizeof(w->seed)) {
		if (rc >= 0)
			snprintf(err, errlen, "wallet %s: the seed is missing or damaged", w->name);
		return -1;
	}
	if (walletdb_get_i64(w->db, "birth_height", &w->birth_height, err, errlen) < 0 ||
	    walletdb_get_i64(w->db, "paytxfee", &w->feerate, err, errlen) < 0)
		return -1;
	for (uint32_t c = 0; c < 2; c++) {
		rc = walletdb_get_i64(w->db, c ? "next_change" : "next_receive", &v, err, errlen);
		if (rc < 0)
			return -1;
		w->next_index[c] = rc ? (uint32_t)v : 0;
	}
	if (walletdb_load_keys(w->db, load_key_cb, w, err, errlen) < 0 ||
	    walletdb_load_txs(w->db, load_tx_cb, w, err, errlen) < 0)
		return -1;
	return 0;
}

/* A new wallet's seed and birth height, committed. */
static int create(struct wallet *w, char *err, size_t errlen)
{
	if (util_random_bytes(w->seed, sizeof(w->seed)) < 0) {
		snprintf(err, errlen, "no randomness for the seed");
		return -1;
	}
	w->birth_height = chainstate_height(w->cs);
	if (batch_begin(w, err, errlen) < 0)
		return -1;
	if (walletdb_put_meta(w->db, "seed", w->seed, sizeof(w->seed), err, errlen) < 0 ||
	    walletdb_put_i64(w->db, "birth_height", w->birth_height, err, errlen) < 0 ||
	    batch_commit(w, err, errlen) < 0) {
		walletdb_rollback(w->db);
		w->in_batch = false;
		return -1;
	}
	return 0;
}

/* Follow the active chain from a little before the birth height. */
static int rescan(struct wallet *w, char *err, size_t errlen)
{
	int32_t tip = chainstate_height(w->cs);
	int64_t from = w->birth_height - WALLET_RESCAN_MARGIN;

	for (int32_t h = from > 0 ? (int32_t)from : 0; h <= tip; h++) {
		const struct block_index *bi = chainstate_at(w->cs, h);
		struct block b;

		if (chainstate_read_block(w->cs, bi, &b, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < b.n_tx; i++)
			sync_tx(w, &b.txs[i], bi);
		block_clear(&b);
	}
	return batch_commit(w, err, errlen);
}

static void mempool_scan_cb(void *ctx, const struct mempool_entry *e)
{
	struct wallet_tx *wtx = sync_tx(ctx, &e->tx, NULL);

	if (wtx)
		wtx->in_mempool = true;
}

/* ---- Dependency order ---------------------------------------------------- */

/* sort_mark values during sort_by_dependency. */
enum { MARK_NONE, MARK_OPEN, MARK_PLACED };

/* The first wallet transaction `wtx` spends that is not placed yet (and
 * not being placed: a damaged file could hold a cycle), or NULL. */
static struct wallet_tx *unplaced_parent(const struct wallet *w, const struct wallet_tx *wtx)
{
	if (tx_is_coinbase(&wtx->tx))
		return NULL;
	for (size_t i = 0; i < wtx->tx.n_in; i++) {
		struct wallet_tx *p = links_get(w->tx_by_id, wtx->tx.vin[i].prevout.txid);

		if (p && p->sort_mark == MARK_NONE)
			return p;
	}
	return NULL;
}

/*
 * Reorder w->txs so each transaction comes after the wallet transactions
 * it spends, otherwise keeping the order first seen. The file orders rows
 * by a one-second time and then txid, so a child made in the same second
 * as its parent can load first; offered to the mempool in that order it
 * was refused for a missing input. Iterative (a depth-first walk with its
 * own stack), so a long chain cannot overflow the C stack. Returns 0, or
 * -1 when out of memory (the order is then left as it was).
 */
static int sort_by_dependency(struct wallet *w)
{
	struct wallet_tx **out, **stack;
	size_t n_out = 0;

	if (w->n_txs == 0)
		return 0;
	out = malloc(w->n_txs * sizeof(*out));
	stack = malloc(w->n_txs * sizeof(*stack));
	if (!out || !stack) {
		free(out);
		free(stack);
		return -1;
	}
	for (size_t i = 0; i < w->n_txs; i++)
		w->txs[i]->sort_mark = MARK_NONE;
	for (size_t i = 0; i < w->n_txs; i++) {
		size_t depth = 0;

		if (w->txs[i]->sort_mark != MARK_NONE)
			continue;
		w->txs[i]->sort_mark = MARK_OPEN;
		stack[depth++] = w->txs[i];
		while (depth) {
			struct wallet_tx *p = unplaced_parent(w, stack[depth - 1]);

			if (p) {
				p->sort_mark = MARK_OPEN;
				stack[depth++] = p;
			} else {
				out[n_out] = stack[--depth];
				out[n_out++]->sort_mark = MARK_PLACED;
			}
		}
	}
	memcpy(w->txs, out, w->n_txs * sizeof(*out));
	free(out);
	free(stack);
	return 0;
}

/* Offer our unconfirmed transactions that are not conflicted and not in
 * the mempool to it again (after a restart the mempool is empty; later, a
 * parent that got back in lets a child in too), parents before children.
 * Relays each one accepted. Returns how many were accepted. */
static size_t reaccept(struct wallet *w)
{
	size_t accepted = 0;

	if (sort_by_dependency(w) < 0)
		log_printf("wallet %s: out of memory ordering transactions; offering them "
			   "as stored", w->name);
	for (size_t i = 0; i < w->n_txs; i++) {
		struct wallet_tx *wtx = w->txs[i];
		char reason[CHAIN_REASON_MAX];

		if (wtx->in_mempool || wallet_tx_depth(w, wtx) != 0)
			continue;
		/* Refused (a conflict, a missing parent): tried again later. */
		if (mempool_accept(w->mp, &wtx->tx, false, NULL, NULL, reason) == 0) {
			wtx->in_mempool = true;
			accepted++;
			if (w->relay.fn)
				w->relay.fn(w->relay.ctx, wtx->tx.txid);
		}
	}
	return accepted;
}

size_t wallet_resubmit(struct wallet *w, bool relay_all)
{
	size_t n = 0;

	/* Announce what is already in the mempool first; reaccept announces
	 * what it gets back in. */
	for (size_t i = 0; relay_all && w->relay.fn && i < w->n_txs; i++) {
		const struct wallet_tx *wtx = w->txs[i];

		if (wtx->in_mempool && wallet_tx_depth(w, wtx) == 0) {
			w->relay.fn(w->relay.ctx, wtx->tx.txid);
			n++;
		}
	}
	return n + reaccept(w);
}

struct wallet *wallet_new(const char *name, const char *dir, bool create_new,
			  struct chainstate *cs, struct mempool *mp,
			  const struct wallet_options *o, const struct wallet_relay *relay, char *err,
			  size_t errlen)
{
	struct wallet *w = calloc(1, sizeof(*w));
	char path[4200];

	if (w) {
		w->key_by_h160 = links_new(20);
		w->tx_by_id = links_new(32);
		w->spenders = links_new(36);
	}
	if (!w || !w->key_by_h160 || !w->tx_by_id || !w->spenders) {
		snprintf(err, errlen, "out of memory");
		wallet_free(w);
		return NULL;
	}
	util_strlcpy(w->name, name, sizeof(w->name));
	w->cs = cs;
	w->mp = mp;
	w->opts = *o;
	if (relay)
		w->relay = *relay;
	snprintf(path, sizeof(path), "%s/wallet.dat", dir);
	w->db = walletdb_open(path, create_new, err, errlen);
	if (!w->db || (create_new ? create(w, err, errlen) : load(w, err, errlen)) < 0 ||
	    rescan(w, err, errlen) < 0) {
		wallet_free(w);
		return NULL;
	}
	mempool_foreach(mp, mempool_scan_cb, w);
	sync_done(w);
	reaccept(w);
	return w;
}

void wallet_free(struct wallet *w)
{
	if (!w)
		return;
	if (w->in_batch)
		walletdb_rollback(w->db);
	walletdb_close(w->db);
	for (size_t i = 0; i < w->n_keys; i++)
		free(w->keys[i]);
	for (size_t i = 0; i < w->n_txs; i++) {
		tx_clear(&w->txs[i]->tx);
		free(w->txs[i]);
	}
	free(w->keys);
	free(w->txs);
	free(w->locked);
	links_free(w->key_by_h160);
	links_free(w->tx_by_id);
	links_free(w->spenders);
	memset(w->seed, 0, sizeof(w->seed));
	free(w);
}
