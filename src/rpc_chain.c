/*
 * rpc_chain.c — blockchain, mining, raw transaction and mempool RPCs.
 * Handlers only translate between JSON and the chain/mempool APIs; every
 * parameter is checked before use and bad ones get RPC_INVALID_PARAMETER
 * (-8), bad encodings RPC_DESERIALIZATION_ERROR (-22), rejected blocks and
 * transactions RPC_VERIFY_* codes, as Bitcoin's do.
 */
#include "rpc_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "hash.h"
#include "key.h"
#include "miner.h"
#include "net_chain.h"
#include "rpc_util.h"
#include "script.h"
#include "util.h"

#define MAX_GENERATE 10000

struct chain_rpc {
	struct chainstate *cs;
	struct mempool *mp;
	struct net_chain *nc;  /* NULL: no peers to relay to */
};

/* ---- JSON --------------------------------------------------------------- */

static json_t *header_json(struct chainstate *cs, const struct block_index *bi)
{
	json_t *o = json_object();
	const struct block_index *next = chainstate_at(cs, bi->height + 1);
	char work[65], bits[9];

	json_object_set_new(o, "hash", rpc_util_hash_json(bi->hash));
	json_object_set_new(o, "confirmations",
			    json_integer(chainstate_contains(cs, bi) ?
					 chainstate_height(cs) - bi->height + 1 : -1));
	json_object_set_new(o, "height", json_integer(bi->height));
	json_object_set_new(o, "version", json_integer(bi->header.version));
	json_object_set_new(o, "merkleroot", rpc_util_hash_json(bi->header.merkle_root));
	json_object_set_new(o, "time", json_integer(bi->header.time));
	json_object_set_new(o, "mediantime", json_integer(bi->mtp));
	json_object_set_new(o, "nonce", json_integer(bi->header.nonce));
	snprintf(bits, sizeof(bits), "%08x", bi->header.bits);
	json_object_set_new(o, "bits", json_string(bits));
	u256_hex(&bi->chainwork, work);
	json_object_set_new(o, "chainwork", json_string(work));
	json_object_set_new(o, "nTx", json_integer(bi->n_tx));
	if (bi->prev)
		json_object_set_new(o, "previousblockhash", rpc_util_hash_json(bi->prev->hash));
	if (next && next->prev == bi && chainstate_contains(cs, bi))
		json_object_set_new(o, "nextblockhash", rpc_util_hash_json(next->hash));
	return o;
}

/* ---- Parameter helpers -------------------------------------------------- */

static const struct block_index *param_block(struct chain_rpc *c, json_t *params, size_t i,
					     struct rpc_error *err)
{
	uint8_t h[32];
	const struct block_index *bi;

	if (rpc_util_param_hash(params, i, h, err) < 0)
		return NULL;
	bi = chainstate_lookup(c->cs, h);
	if (!bi)
		rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Block not found");
	return bi;
}

/* An integer parameter in [lo, hi], or def when absent/null. */
static int param_int(json_t *params, size_t i, int64_t lo, int64_t hi, int64_t def,
		     int64_t *out, struct rpc_error *err)
{
	json_t *v = json_array_get(params, i);

	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"parameter %zu must be an integer from %lld to %lld", i + 1,
				(long long)lo, (long long)hi);
	*out = json_integer_value(v);
	return 0;
}

/* A verbosity/verbose parameter: booleans are 0/1. */
static int param_verbosity(json_t *params, size_t i, int64_t def, int64_t *out,
			   struct rpc_error *err)
{
	json_t *v = json_array_get(params, i);

	if (v && json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	return param_int(params, i, 0, 2, def, out, err);
}

static uint8_t *param_hex(json_t *params, size_t i, size_t *len, struct rpc_error *err)
{
	const char *s = rpc_param_str(params, i);
	size_t n = s ? strlen(s) : 1;
	uint8_t *p;

	if (!s || n % 2) {
		rpc_fail(err, RPC_DESERIALIZATION_ERROR, "parameter %zu must be hex", i + 1);
		return NULL;
	}
	p = malloc(n / 2 + 1);
	if (!p || hash_hex_decode(s, p, n / 2) < 0) {
		free(p);
		rpc_fail(err, RPC_DESERIALIZATION_ERROR, "parameter %zu must be hex", i + 1);
		return NULL;
	}
	*len = n / 2;
	return p;
}

static int param_tx(json_t *params, size_t i, struct tx *t, struct rpc_error *err)
{
	size_t len;
	uint8_t *p = param_hex(params, i, &len, err);
	int rc;

	if (!p)
		return -1;
	rc = tx_decode_bytes(p, len, t);
	free(p);
	if (rc < 0)
		return rpc_fail(err, RPC_DESERIALIZATION_ERROR, "TX decode failed");
	return 0;
}

static int param_address(json_t *params, size_t i, uint8_t spk[SCRIPT_P2PKH_LEN],
			 struct rpc_error *err)
{
	const char *s = rpc_param_str(params, i);
	uint8_t h160[20];

	if (!s || address_decode(s, h160) < 0)
		return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Invalid address: %s",
				s ? s : "(not a string)");
	script_p2pkh(h160, spk);
	return 0;
}

/* ---- Blockchain --------------------------------------------------------- */

static int rpc_getblockcount(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;

	(void)params; (void)err;
	*result = json_integer(chainstate_height(c->cs));
	return 0;
}

static int rpc_getbestblockhash(void *ctx, json_t *params, json_t **result,
				struct rpc_error *err)
{
	struct chain_rpc *c = ctx;

	(void)params; (void)err;
	*result = rpc_util_hash_json(chainstate_tip(c->cs)->hash);
	return 0;
}

static int rpc_getblockhash(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	int64_t h;

	if (param_int(params, 0, 0, INT32_MAX, -1, &h, err) < 0)
		return -1;
	if (h > chainstate_height(c->cs) || h < 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Block height out of range");
	*result = rpc_util_hash_json(chainstate_at(c->cs, (int32_t)h)->hash);
	return 0;
}

static int rpc_getblockheader(void *ctx, json_t *params, json_t **result,
			      struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	const struct block_index *bi = param_block(c, params, 0, err);
	int64_t verbose;

	if (!bi || param_verbosity(params, 1, 1, &verbose, err) < 0)
		return -1;
	if (verbose) {
		*result = header_json(c->cs, bi);
	} else {
		struct wbuf w;
		ser_write_init(&w);
		block_header_encode(&w, &bi->header);
		*result = rpc_util_hex_json(w.data, w.len);
		ser_write_free(&w);
	}
	return 0;
}

static int rpc_getblock(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	const struct block_index *bi = param_block(c, params, 0, err);
	int64_t verbosity;
	struct block b;
	char why[256];

	if (!bi || param_verbosity(params, 1, 1, &verbosity, err) < 0)
		return -1;
	if (verbosity == 0) {
		uint8_t *data;
		size_t len;
		if (chainstate_read_block_bytes(c->cs, bi, &data, &len) < 0)
			return rpc_fail(err, RPC_MISC_ERROR, "Block not available");
		*result = rpc_util_hex_json(data, len);
		free(data);
		return 0;
	}
	if (chainstate_read_block(c->cs, bi, &b, why, sizeof(why)) < 0)
		return rpc_fail(err, RPC_MISC_ERROR, "Block not available (%s)", why);
	json_t *o = header_json(c->cs, bi), *txs = json_array();
	json_object_set_new(o, "size", json_integer((json_int_t)b.size));
	for (size_t i = 0; i < b.n_tx; i++)
		json_array_append_new(txs, verbosity == 1 ? rpc_util_hash_json(b.txs[i].txid) :
					   rpc_util_tx_json(&b.txs[i]));
	json_object_set_new(o, "tx", txs);
	block_clear(&b);
	*result = o;
	return 0;
}

struct index_list {
	const struct block_index **v;
	size_t n;
};

static void collect_cb(void *ctx, const struct block_index *bi)
{
	struct index_list *l = ctx;

	l->v[l->n++] = bi;
}

static const char *tip_status(struct chainstate *cs, const struct block_index *bi)
{
	if (chainstate_contains(cs, bi))
		return "active";
	if (bi->status & (BLOCK_FAILED | BLOCK_FAILED_CHILD))
		return "invalid";
	if (!(bi->status & BLOCK_HAVE_DATA))
		return "headers-only";
	return "valid-fork";
}

/* The active tip and the heads of side branches: index entries that are
 * nobody's parent. */
static int rpc_getchaintips(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	size_t n = chainstate_index_size(c->cs);
	struct index_list l = { calloc(n ? n : 1, sizeof(*l.v)), 0 };
	bool *is_parent = calloc(n ? n : 1, sizeof(*is_parent));
	json_t *arr;

	(void)params;
	if (!l.v || !is_parent) {
		free(l.v);
		free(is_parent);
		return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
	}
	chainstate_foreach_index(c->cs, collect_cb, &l);
	for (size_t i = 0; i < l.n; i++)
		for (size_t j = 0; j < l.n; j++)
			if (l.v[j]->prev == l.v[i])
				is_parent[i] = true;
	arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		const struct block_index *bi = l.v[i], *fork = bi;
		json_t *o;
		if (is_parent[i])
			continue;
		while (fork && !chainstate_contains(c->cs, fork))
			fork = fork->prev;
		o = json_object();
		json_object_set_new(o, "height", json_integer(bi->height));
		json_object_set_new(o, "hash", rpc_util_hash_json(bi->hash));
		json_object_set_new(o, "branchlen", json_integer(fork ? bi->height - fork->height : 0));
		json_object_set_new(o, "status", json_string(tip_status(c->cs, bi)));
		json_array_append_new(arr, o);
	}
	free(l.v);
	free(is_parent);
	*result = arr;
	return 0;
}

/* ---- Mining ------------------------------------------------------------- */

/* Mine one block on the tip and process it; its hash goes to `hashes`. */
static int mine_one(struct chain_rpc *c, const uint8_t *spk, const struct tx *txs, size_t n,
		    json_t *hashes, struct rpc_error *err)
{
	char reason[CHAIN_REASON_MAX];
	struct block b;
	bool is_new;
	int rc;

	if (miner_create_block(c->cs, c->mp, spk, SCRIPT_P2PKH_LEN, txs, n, &b, reason) < 0)
		return rpc_fail(err, RPC_VERIFY_ERROR, "cannot create block: %s", reason);
	rc = chainstate_process_block(c->cs, &b, &is_new, reason);
	if (rc == 0)
		json_array_append_new(hashes, rpc_util_hash_json(b.hash));
	block_clear(&b);
	if (rc < 0)
		return rpc_fail(err, RPC_VERIFY_ERROR, "block rejected: %s", reason);
	return 0;
}

static int rpc_generatetoaddress(void *ctx, json_t *params, json_t **result,
				 struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	uint8_t spk[SCRIPT_P2PKH_LEN];
	int64_t n;
	json_t *hashes;

	if (param_int(params, 0, 0, MAX_GENERATE, -1, &n, err) < 0 ||
	    param_address(params, 1, spk, err) < 0)
		return -1;
	hashes = json_array();
	for (int64_t i = 0; i < n; i++) {
		if (mine_one(c, spk, NULL, 0, hashes, err) < 0) {
			json_decref(hashes);
			return -1;
		}
	}
	*result = hashes;
	return 0;
}

/* generateblock ADDRESS [rawtx or mempool txid, ...]: exactly these. */
static int rpc_generateblock(void *ctx, json_t *params, json_t **result,
			     struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	uint8_t spk[SCRIPT_P2PKH_LEN];
	json_t *list = json_array_get(params, 1), *hashes;
	struct tx *txs;
	size_t n;
	int rc = -1;

	if (param_address(params, 0, spk, err) < 0)
		return -1;
	if (!json_is_array(list))
		return rpc_fail(err, RPC_INVALID_PARAMETER, "transactions must be an array");
	n = json_array_size(list);
	txs = calloc(n ? n : 1, sizeof(*txs));
	if (!txs)
		return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(list, i));
		uint8_t txid[32];
		const struct mempool_entry *e;
		if (s && strlen(s) == 64 && hash_from_hex_reversed(s, txid) == 0) {
			e = c->mp ? mempool_get(c->mp, txid) : NULL;
			if (!e || tx_copy(&txs[i], &e->tx) < 0) {
				rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY,
					 "Transaction %s not in mempool.", s);
				goto out;
			}
		} else if (param_tx(list, i, &txs[i], err) < 0) {
			goto out;
		}
	}
	hashes = json_array();
	rc = mine_one(c, spk, txs, n, hashes, err);
	if (rc == 0) {
		*result = json_object();
		json_object_set_new(*result, "hash", json_incref(json_array_get(hashes, 0)));
	}
	json_decref(hashes);
out:
	for (size_t i = 0; i < n; i++)
		tx_clear(&txs[i]);
	free(txs);
	return rc;
}

/* submitblock HEX: null when accepted, else Bitcoin's result strings. */
static int rpc_submitblock(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	char reason[CHAIN_REASON_MAX];
	struct block b;
	size_t len;
	bool is_new;
	uint8_t *p = param_hex(params, 0, &len, err);
	int rc;

	if (!p)
		return -1;
	rc = block_decode_bytes(p, len, &b);
	free(p);
	if (rc < 0)
		return rpc_fail(err, RPC_DESERIALIZATION_ERROR, "Block decode failed");
	rc = chainstate_process_block(c->cs, &b, &is_new, reason);
	block_clear(&b);
	if (rc < 0)
		*result = json_string(reason);
	else
		*result = is_new ? NULL : json_string("duplicate");
	return 0;
}

/* invalidateblock and reconsiderblock: a block hash and a chain operation. */
static int block_op(void *ctx, json_t *params, json_t **result, struct rpc_error *err,
		    int (*op)(struct chainstate *, const uint8_t *, char *))
{
	struct chain_rpc *c = ctx;
	char reason[CHAIN_REASON_MAX];
	uint8_t h[32];

	if (rpc_util_param_hash(params, 0, h, err) < 0)
		return -1;
	if (op(c->cs, h, reason) < 0)
		return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "%s", reason);
	*result = NULL;
	return 0;
}

static int rpc_invalidateblock(void *ctx, json_t *params, json_t **result,
			       struct rpc_error *err)
{
	return block_op(ctx, params, result, err, chainstate_invalidate);
}

static int rpc_reconsiderblock(void *ctx, json_t *params, json_t **result,
			       struct rpc_error *err)
{
	return block_op(ctx, params, result, err, chainstate_reconsider);
}

/* ---- UTXO set ----------------------------------------------------------- */

static json_t *coin_json(struct chain_rpc *c, const struct coin *coin, bool in_mempool)
{
	json_t *o = json_object();
	const struct block_index *tip = chainstate_tip(c->cs);

	json_object_set_new(o, "bestblock", rpc_util_hash_json(tip->hash));
	json_object_set_new(o, "confirmations",
			    json_integer(in_mempool ? 0 : tip->height - (int64_t)coin->height + 1));
	json_object_set_new(o, "height", json_integer(in_mempool ? -1 : (json_int_t)coin->height));
	json_object_set_new(o, "value", rpc_util_amount_json(coin->value));
	json_object_set_new(o, "value_sat", json_integer(coin->value));
	json_object_set_new(o, "scriptPubKey", rpc_util_script_json(coin->script, coin->script_len));
	json_object_set_new(o, "coinbase", json_boolean(coin->coinbase));
	return o;
}

struct spent_probe {
	struct outpoint op;
	bool spent;
};

static void spent_cb(void *ctx, const struct mempool_entry *e)
{
	struct spent_probe *s = ctx;

	for (size_t i = 0; i < e->tx.n_in; i++)
		if (memcmp(&e->tx.vin[i].prevout, &s->op, sizeof(s->op)) == 0)
			s->spent = true;
}

/* gettxout TXID N [include_mempool=true] */
static int rpc_gettxout(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	struct spent_probe probe;
	json_t *incl = json_array_get(params, 2);
	bool include_mempool = !incl || json_is_null(incl) || json_is_true(incl);
	const struct coin *coin;
	int64_t n;

	memset(&probe, 0, sizeof(probe));
	if (rpc_util_param_hash(params, 0, probe.op.txid, err) < 0 ||
	    param_int(params, 1, 0, UINT32_MAX, -1, &n, err) < 0)
		return -1;
	probe.op.n = (uint32_t)n;
	*result = NULL;
	if (include_mempool && c->mp) {
		const struct mempool_entry *e = mempool_get(c->mp, probe.op.txid);
		mempool_foreach(c->mp, spent_cb, &probe);
		if (probe.spent)
			return 0;
		if (e && probe.op.n < e->tx.n_out) {
			struct coin mc = { e->tx.vout[n].value, e->tx.vout[n].script_pubkey,
					   e->tx.vout[n].script_pubkey_len, 0, false };
			*result = coin_json(c, &mc, true);
			return 0;
		}
	}
	coin = coins_get(chainstate_coins(c->cs), &probe.op);
	if (coin)
		*result = coin_json(c, coin, false);
	return 0;
}

struct utxo_stats {
	uint64_t txouts;
	int64_t total;
	struct wbuf w;    /* the serialized set, hashed at the end */
};

static int utxo_cb(void *ctx, const struct outpoint *op, const struct coin *coin)
{
	struct utxo_stats *s = ctx;

	s->txouts++;
	s->total += coin->value;
	ser_write_bytes(&s->w, op->txid, 32);
	ser_write_u32(&s->w, op->n);
	coin_encode(&s->w, coin);
	return s->w.oom ? -1 : 0;
}

/*
 * gettxoutsetinfo: flush (ALWAYS), then walk the database. hash_serialized
 * is SHA256d over every (txid, n, coin) in key order: two nodes with the
 * same UTXO set report the same hash.
 */
static int rpc_gettxoutsetinfo(void *ctx, json_t *params, json_t **result,
			       struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	struct utxo_stats s;
	char why[256];
	uint8_t h[32];
	const struct block_index *tip = chainstate_tip(c->cs);

	(void)params;
	if (chainstate_flush(c->cs, COINS_FLUSH_ALWAYS) < 0)
		return rpc_fail(err, RPC_MISC_ERROR, "Unable to flush the chainstate");
	memset(&s, 0, sizeof(s));
	ser_write_init(&s.w);
	if (chainstate_foreach_coin(c->cs, utxo_cb, &s, why, sizeof(why)) != 0) {
		ser_write_free(&s.w);
		return rpc_fail(err, RPC_MISC_ERROR, "Unable to read UTXO set: %s", why);
	}
	hash_sha256d(s.w.data, s.w.len, h);
	*result = json_object();
	json_object_set_new(*result, "height", json_integer(tip->height));
	json_object_set_new(*result, "bestblock", rpc_util_hash_json(tip->hash));
	json_object_set_new(*result, "txouts", json_integer((json_int_t)s.txouts));
	json_object_set_new(*result, "bogosize", json_integer((json_int_t)s.w.len));
	json_object_set_new(*result, "hash_serialized", rpc_util_hash_json(h));
	json_object_set_new(*result, "total_amount", rpc_util_amount_json(s.total));
	json_object_set_new(*result, "total_amount_sat", json_integer(s.total));
	ser_write_free(&s.w);
	return 0;
}

/* getcoinscacheinfo: the coins cache as utxocache:flush reports it. */
static int rpc_getcoinscacheinfo(void *ctx, json_t *params, json_t **result,
				 struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	struct coins_cache *cc = chainstate_coins(c->cs);

	(void)params; (void)err;
	*result = json_object();
	json_object_set_new(*result, "entries", json_integer((json_int_t)coins_cache_count(cc)));
	json_object_set_new(*result, "usage", json_integer((json_int_t)coins_cache_usage(cc)));
	json_object_set_new(*result, "limit", json_integer((json_int_t)coins_cache_limit(cc)));
	return 0;
}

/* ---- Raw transactions --------------------------------------------------- */


/* getrawtransaction TXID [verbose] [blockhash]: from the mempool, or from
 * the given block (there is no transaction index). */
static int rpc_getrawtransaction(void *ctx, json_t *params, json_t **result,
				 struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	uint8_t txid[32];
	int64_t verbose;
	const struct mempool_entry *e;
	const struct block_index *bi = NULL;
	struct block b;
	char why[256];

	if (rpc_util_param_hash(params, 0, txid, err) < 0 || param_verbosity(params, 1, 0, &verbose, err) < 0)
		return -1;
	if (json_array_size(params) > 2 && !(bi = param_block(c, params, 2, err)))
		return -1;
	if (!bi) {
		e = c->mp ? mempool_get(c->mp, txid) : NULL;
		if (!e)
			return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY,
					"No such mempool transaction. Pass the blockhash of a "
					"confirmed transaction (there is no transaction index)");
		*result = verbose ? rpc_util_tx_json(&e->tx) : rpc_util_tx_hex_json(&e->tx);
		return 0;
	}
	if (chainstate_read_block(c->cs, bi, &b, why, sizeof(why)) < 0)
		return rpc_fail(err, RPC_MISC_ERROR, "Block not available (%s)", why);
	for (size_t i = 0; i < b.n_tx; i++) {
		if (memcmp(b.txs[i].txid, txid, 32) != 0)
			continue;
		*result = verbose ? rpc_util_tx_json(&b.txs[i]) : rpc_util_tx_hex_json(&b.txs[i]);
		if (verbose) {
			json_object_set_new(*result, "blockhash", rpc_util_hash_json(bi->hash));
			json_object_set_new(*result, "confirmations",
					    json_integer(chainstate_contains(c->cs, bi) ?
							 chainstate_height(c->cs) - bi->height + 1 : 0));
		}
		block_clear(&b);
		return 0;
	}
	block_clear(&b);
	return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "No such transaction found in the provided block");
}

static int rpc_decoderawtransaction(void *ctx, json_t *params, json_t **result,
				    struct rpc_error *err)
{
	struct tx t;

	(void)ctx;
	if (param_tx(params, 0, &t, err) < 0)
		return -1;
	*result = rpc_util_tx_json(&t);
	tx_clear(&t);
	return 0;
}

/* createrawtransaction [{"txid":..,"vout":n},...] {"address":amount,...} */
static int rpc_createrawtransaction(void *ctx, json_t *params, json_t **result,
				    struct rpc_error *err)
{
	json_t *ins = json_array_get(params, 0), *outs = json_array_get(params, 1), *v;
	const char *addr;
	struct tx t;
	size_t i = 0;

	(void)ctx;
	if (!json_is_array(ins) || !json_is_object(outs))
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"expected an array of inputs and an object of outputs");
	memset(&t, 0, sizeof(t));
	t.version = 2;
	t.n_in = json_array_size(ins);
	t.n_out = json_object_size(outs);
	t.vin = calloc(t.n_in ? t.n_in : 1, sizeof(*t.vin));
	t.vout = calloc(t.n_out ? t.n_out : 1, sizeof(*t.vout));
	if (!t.vin || !t.vout)
		goto oom;
	for (i = 0; i < t.n_in; i++) {
		json_t *in = json_array_get(ins, i), *vout = json_object_get(in, "vout");
		const char *txid = json_string_value(json_object_get(in, "txid"));
		t.vin[i].sequence = UINT32_MAX - 2;
		if (!txid || hash_from_hex_reversed(txid, t.vin[i].prevout.txid) < 0 ||
		    !json_is_integer(vout) || json_integer_value(vout) < 0 ||
		    json_integer_value(vout) > UINT32_MAX) {
			tx_clear(&t);
			return rpc_fail(err, RPC_INVALID_PARAMETER,
					"input %zu needs \"txid\" (hex) and \"vout\" (integer)", i);
		}
		t.vin[i].prevout.n = (uint32_t)json_integer_value(vout);
	}
	i = 0;
	json_object_foreach(outs, addr, v) {
		uint8_t h160[20];
		t.vout[i].script_pubkey = malloc(SCRIPT_P2PKH_LEN);
		if (!t.vout[i].script_pubkey)
			goto oom;
		t.vout[i].script_pubkey_len = SCRIPT_P2PKH_LEN;
		if (address_decode(addr, h160) < 0) {
			tx_clear(&t);
			return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Invalid address: %s", addr);
		}
		if (rpc_util_amount_from_json(v, &t.vout[i].value) < 0) {
			tx_clear(&t);
			return rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid amount for %s", addr);
		}
		script_p2pkh(h160, t.vout[i].script_pubkey);
		i++;
	}
	tx_finalize(&t);
	*result = rpc_util_tx_hex_json(&t);
	tx_clear(&t);
	return 0;
oom:
	tx_clear(&t);
	return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
}

/* The scriptPubKey an input spends: chain coins, then the mempool. */
static int prev_script(struct chain_rpc *c, const struct outpoint *op, const uint8_t **spk,
		       size_t *len)
{
	const struct coin *coin = coins_get(chainstate_coins(c->cs), op);
	const struct mempool_entry *e;

	if (coin) {
		*spk = coin->script;
		*len = coin->script_len;
		return 0;
	}
	e = c->mp ? mempool_get(c->mp, op->txid) : NULL;
	if (e && op->n < e->tx.n_out) {
		*spk = e->tx.vout[op->n].script_pubkey;
		*len = e->tx.vout[op->n].script_pubkey_len;
		return 0;
	}
	return -1;
}

/* signrawtransactionwithkey HEX [WIF,...]: signs every input whose coin
 * pays to one of the keys. */
static int rpc_signrawtransactionwithkey(void *ctx, json_t *params, json_t **result,
					 struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	json_t *wifs = json_array_get(params, 1), *errors;
	struct key *keys;
	size_t nkeys;
	struct tx t;
	bool complete = true;

	if (!json_is_array(wifs))
		return rpc_fail(err, RPC_INVALID_PARAMETER, "privkeys must be an array of WIF keys");
	if (param_tx(params, 0, &t, err) < 0)
		return -1;
	nkeys = json_array_size(wifs);
	keys = calloc(nkeys ? nkeys : 1, sizeof(*keys));
	if (!keys) {
		tx_clear(&t);
		return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
	}
	for (size_t i = 0; i < nkeys; i++) {
		const char *w = json_string_value(json_array_get(wifs, i));
		if (!w || key_from_wif(&keys[i], w) < 0) {
			free(keys);
			tx_clear(&t);
			return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Invalid private key");
		}
	}
	errors = json_array();
	for (size_t i = 0; i < t.n_in; i++) {
		const uint8_t *spk;
		size_t len;
		uint8_t h160[20];
		const char *why = "Input not found or already spent";
		bool done = false;
		if (prev_script(c, &t.vin[i].prevout, &spk, &len) == 0) {
			why = "No key for this input's address";
			if (script_is_p2pkh(spk, len, h160))
				for (size_t k = 0; k < nkeys && !done; k++)
					if (memcmp(keys[k].h160, h160, 20) == 0)
						done = key_sign_p2pkh_input(&keys[k], &t, i) == 0;
		}
		if (!done) {
			json_t *e = json_object();
			complete = false;
			json_object_set_new(e, "txid", rpc_util_hash_json(t.vin[i].prevout.txid));
			json_object_set_new(e, "vout", json_integer(t.vin[i].prevout.n));
			json_object_set_new(e, "error", json_string(why));
			json_array_append_new(errors, e);
		}
	}
	*result = json_object();
	json_object_set_new(*result, "hex", rpc_util_tx_hex_json(&t));
	json_object_set_new(*result, "complete", json_boolean(complete));
	if (!complete)
		json_object_set_new(*result, "errors", errors);
	else
		json_decref(errors);
	free(keys);
	tx_clear(&t);
	return 0;
}

/* sendrawtransaction HEX: into the mempool (relay follows from there). */
static int rpc_sendrawtransaction(void *ctx, json_t *params, json_t **result,
				  struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	char reason[CHAIN_REASON_MAX];
	struct tx t;
	int rc;

	if (param_tx(params, 0, &t, err) < 0)
		return -1;
	if (!c->mp) {
		tx_clear(&t);
		return rpc_fail(err, RPC_MISC_ERROR, "no mempool");
	}
	rc = mempool_accept(c->mp, &t, false, NULL, NULL, reason);
	if (rc == 0) {
		if (c->nc)
			net_chain_relay_tx(c->nc, t.txid, NULL);
		*result = rpc_util_hash_json(t.txid);
	}
	tx_clear(&t);
	if (rc < 0)
		return rpc_fail(err, RPC_VERIFY_REJECTED, "%s", reason);
	return 0;
}

/* testmempoolaccept [HEX,...]: one result per transaction. */
static int rpc_testmempoolaccept(void *ctx, json_t *params, json_t **result,
				 struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	json_t *list = json_array_get(params, 0), *arr;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "expected an array of raw transactions");
	arr = json_array();
	for (size_t i = 0; i < json_array_size(list); i++) {
		char reason[CHAIN_REASON_MAX];
		int64_t fee = 0;
		int32_t vsize = 0;
		struct tx t;
		json_t *o;
		if (param_tx(list, i, &t, err) < 0) {
			json_decref(arr);
			return -1;
		}
		o = json_object();
		json_object_set_new(o, "txid", rpc_util_hash_json(t.txid));
		if (mempool_accept(c->mp, &t, true, &fee, &vsize, reason) == 0) {
			json_t *fees = json_object();
			json_object_set_new(o, "allowed", json_true());
			json_object_set_new(o, "vsize", json_integer(vsize));
			json_object_set_new(fees, "base", rpc_util_amount_json(fee));
			json_object_set_new(fees, "base_sat", json_integer(fee));
			json_object_set_new(o, "fees", fees);
		} else {
			json_object_set_new(o, "allowed", json_false());
			json_object_set_new(o, "reject-reason", json_string(reason));
		}
		json_array_append_new(arr, o);
		tx_clear(&t);
	}
	*result = arr;
	return 0;
}

/* ---- Mempool ------------------------------------------------------------ */

static int rpc_getmempoolinfo(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;

	(void)params; (void)err;
	*result = json_object();
	json_object_set_new(*result, "size", json_integer((json_int_t)mempool_count(c->mp)));
	json_object_set_new(*result, "bytes", json_integer((json_int_t)mempool_bytes(c->mp)));
	json_object_set_new(*result, "usage", json_integer((json_int_t)mempool_usage(c->mp)));
	json_object_set_new(*result, "total_fee", rpc_util_amount_json(mempool_total_fee(c->mp)));
	json_object_set_new(*result, "total_fee_sat", json_integer(mempool_total_fee(c->mp)));
	return 0;
}

static json_t *entry_json(const struct mempool_entry *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "vsize", json_integer(e->vsize));
	json_object_set_new(o, "fee", rpc_util_amount_json(e->fee));
	json_object_set_new(o, "fee_sat", json_integer(e->fee));
	json_object_set_new(o, "time", json_integer(e->time));
	json_object_set_new(o, "height", json_integer(e->height));
	return o;
}

struct pool_list {
	json_t *out;
	bool verbose;
};

static void pool_cb(void *ctx, const struct mempool_entry *e)
{
	struct pool_list *l = ctx;
	char hex[65];

	hash_hex_reversed(e->tx.txid, hex);
	if (l->verbose)
		json_object_set_new(l->out, hex, entry_json(e));
	else
		json_array_append_new(l->out, json_string(hex));
}

static int rpc_getrawmempool(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	int64_t verbose;
	struct pool_list l;

	if (param_verbosity(params, 0, 0, &verbose, err) < 0)
		return -1;
	l.verbose = verbose;
	l.out = verbose ? json_object() : json_array();
	mempool_foreach(c->mp, pool_cb, &l);
	*result = l.out;
	return 0;
}

static int rpc_getmempoolentry(void *ctx, json_t *params, json_t **result,
			       struct rpc_error *err)
{
	struct chain_rpc *c = ctx;
	uint8_t txid[32];
	const struct mempool_entry *e;

	if (rpc_util_param_hash(params, 0, txid, err) < 0)
		return -1;
	e = mempool_get(c->mp, txid);
	if (!e)
		return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool");
	*result = entry_json(e);
	return 0;
}

/* getnewkeypair: a fresh key with its WIF, public key and address, so
 * tests and tools can receive and sign without a wallet. */
static int rpc_getnewkeypair(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct key k;
	char wif[KEY_WIF_MAX], addr[ADDRESS_MAX];

	(void)ctx; (void)params;
	if (key_generate(&k) < 0)
		return rpc_fail(err, RPC_MISC_ERROR, "cannot generate a key");
	key_to_wif(&k, wif);
	address_encode(k.h160, addr);
	*result = json_object();
	json_object_set_new(*result, "privkey", json_string(wif));
	json_object_set_new(*result, "pubkey", rpc_util_hex_json(k.pub, sizeof(k.pub)));
	json_object_set_new(*result, "address", json_string(addr));
	memset(&k, 0, sizeof(k));
	return 0;
}

/* ---- Registration ------------------------------------------------------- */

static const struct rpc_command chain_commands[] = {
	{ "getblockcount", "blockchain", rpc_getblockcount, 0, { NULL }, "getblockcount",
	  "Height of the active chain's tip." },
	{ "getbestblockhash", "blockchain", rpc_getbestblockhash, 0, { NULL }, "getbestblockhash",
	  "Hash of the active chain's tip." },
	{ "getblockhash", "blockchain", rpc_getblockhash, 1, { "height", NULL }, "getblockhash height",
	  "Hash of the active chain's block at a height." },
	{ "getblock", "blockchain", rpc_getblock, 1, { "blockhash", "verbosity", NULL },
	  "getblock \"blockhash\" ( verbosity )",
	  "A block: hex (0), with txids (1, default) or decoded transactions (2)." },
	{ "getblockheader", "blockchain", rpc_getblockheader, 1, { "blockhash", "verbose", NULL },
	  "getblockheader \"blockhash\" ( verbose )", "A block header, as JSON or hex." },
	{ "getchaintips", "blockchain", rpc_getchaintips, 0, { NULL }, "getchaintips",
	  "The active tip and every side branch's tip with its status." },
	{ "invalidateblock", "blockchain", rpc_invalidateblock, 1, { "blockhash", NULL },
	  "invalidateblock \"blockhash\"",
	  "Mark a block and its descendants invalid and move to the best other chain." },
	{ "reconsiderblock", "blockchain", rpc_reconsiderblock, 1, { "blockhash", NULL },
	  "reconsiderblock \"blockhash\"", "Undo invalidateblock for a block and its relatives." },
	{ "gettxout", "blockchain", rpc_gettxout, 2, { "txid", "n", "include_mempool", NULL },
	  "gettxout \"txid\" n ( include_mempool )", "An unspent output, or null." },
	{ "gettxoutsetinfo", "blockchain", rpc_gettxoutsetinfo, 0, { NULL }, "gettxoutsetinfo",
	  "Statistics of the UTXO set after a flush, with a hash of its contents." },
	{ "getcoinscacheinfo", "blockchain", rpc_getcoinscacheinfo, 0, { NULL },
	  "getcoinscacheinfo", "Entries, memory use and limit of the coins cache." },
	{ "generatetoaddress", "generating", rpc_generatetoaddress, 2,
	  { "nblocks", "address", NULL }, "generatetoaddress nblocks \"address\"",
	  "Mine blocks now (with mempool transactions) paying to address." },
	{ "generateblock", "generating", rpc_generateblock, 2,
	  { "output", "transactions", NULL }, "generateblock \"address\" [\"rawtx|txid\",...]",
	  "Mine one block with exactly these transactions, in order." },
	{ "submitblock", "mining", rpc_submitblock, 1, { "hexdata", NULL }, "submitblock \"hexdata\"",
	  "Process a serialized block: null if accepted, else the reason." },
	{ "getrawtransaction", "rawtransactions", rpc_getrawtransaction, 1,
	  { "txid", "verbose", "blockhash", NULL },
	  "getrawtransaction \"txid\" ( verbose \"blockhash\" )",
	  "A mempool transaction, or one in the given block." },
	{ "decoderawtransaction", "rawtransactions", rpc_decoderawtransaction, 1,
	  { "hexstring", NULL }, "decoderawtransaction \"hexstring\"", "Decode a transaction." },
	{ "createrawtransaction", "rawtransactions", rpc_createrawtransaction, 2,
	  { "inputs", "outputs", NULL },
	  "createrawtransaction [{\"txid\":\"hex\",\"vout\":n},...] {\"address\":amount,...}",
	  "An unsigned transaction spending the inputs to the outputs." },
	{ "signrawtransactionwithkey", "rawtransactions", rpc_signrawtransactionwithkey, 2,
	  { "hexstring", "privkeys", NULL },
	  "signrawtransactionwithkey \"hexstring\" [\"privkey\",...]",
	  "Sign the inputs paying to these WIF keys." },
	{ "sendrawtransaction", "rawtransactions", rpc_sendrawtransaction, 1, { "hexstring", NULL },
	  "sendrawtransaction \"hexstring\"", "Submit a transaction to the mempool and relay it." },
	{ "testmempoolaccept", "rawtransactions", rpc_testmempoolaccept, 1, { "rawtxs", NULL },
	  "testmempoolaccept [\"rawtx\",...]", "Would the mempool accept these?" },
	{ "getmempoolinfo", "blockchain", rpc_getmempoolinfo, 0, { NULL }, "getmempoolinfo",
	  "Mempool size, bytes, memory and fees." },
	{ "getrawmempool", "blockchain", rpc_getrawmempool, 0, { "verbose", NULL },
	  "getrawmempool ( verbose )", "Txids in the mempool, or their entries." },
	{ "getmempoolentry", "blockchain", rpc_getmempoolentry, 1, { "txid", NULL },
	  "getmempoolentry \"txid\"", "A mempool entry: vsize, fee, time, height." },
	{ "getnewkeypair", "util", rpc_getnewkeypair, 0, { NULL }, "getnewkeypair",
	  "A new random key: WIF private key, public key and address (not stored)." },
};

int rpc_chain_register(struct rpc_dispatch *d, struct chainstate *cs, struct mempool *mp,
		       struct net_chain *nc)
{
	struct chain_rpc ctx = { cs, mp, nc };

	return rpc_register_copy(d, chain_commands,
				 sizeof(chain_commands) / sizeof(chain_commands[0]), &ctx,
				 sizeof(ctx));
}
