/*
 * rpc_wallet.c — the wallet RPCs (rpc_wallet.h), over the wallet manager.
 * Handlers translate JSON to wallet.h calls; error codes and messages
 * follow Bitcoin Core's where it has the same command.
 */
#include "rpc_wallet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hash.h"
#include "log.h"
#include "rpc_util.h"
#include "script.h"
#include "util.h"

#define LIST_DEFAULT_COUNT 10

/* The handlers' context: where requests come from, and the wallets. */
struct wallet_rpc {
	struct rpc_dispatch *d;
	struct wallet_manager *wm;
};

/* The JSON-RPC code of a wallet failure (Bitcoin Core's codes). */
static int code_of(enum wallet_err kind)
{
	switch (kind) {
	case WALLET_ERR_INVALID_PARAMETER: return RPC_INVALID_PARAMETER;
	case WALLET_ERR_INVALID_AMOUNT: return RPC_TYPE_ERROR;
	case WALLET_ERR_INSUFFICIENT_FUNDS: return RPC_WALLET_INSUFFICIENT_FUNDS;
	case WALLET_ERR_REJECTED: return RPC_VERIFY_REJECTED;
	case WALLET_ERR_NOT_FOUND: return RPC_WALLET_NOT_FOUND;
	case WALLET_ERR_ALREADY_LOADED: return RPC_WALLET_ALREADY_LOADED;
	case WALLET_ERR_ALREADY_EXISTS: return RPC_WALLET_ALREADY_EXISTS;
	case WALLET_OK:
	case WALLET_ERR_FAILED:
		break;
	}
	return RPC_WALLET_ERROR;
}

/*
 * The wallet a wallet RPC acts on: the URL's, or the only one loaded.
 * NULL with err filled.
 */
static struct wallet *request_wallet(struct wallet_rpc *r, struct rpc_error *err)
{
	const char *name = rpc_request_wallet(r->d);
	size_t n = wallet_manager_count(r->wm);
	struct wallet *w;

	if (name) {
		w = wallet_manager_find(r->wm, name);
		if (!w)
			rpc_fail(err, RPC_WALLET_NOT_FOUND,
				 "Requested wallet does not exist or is not loaded");
		return w;
	}
	if (n == 1)
		return wallet_manager_get(r->wm, 0);
	if (n == 0)
		rpc_fail(err, RPC_WALLET_NOT_FOUND, "No wallet is loaded. Load a wallet using "
			 "loadwallet or create a new one with createwallet.");
	else
		rpc_fail(err, RPC_WALLET_NOT_SPECIFIED, "Wallet file not specified (must request "
			 "wallet RPC through /wallet/<filename> uri-path).");
	return NULL;
}

/* ---- Parameters ---------------------------------------------------------- */

static int param_address(json_t *params, size_t i, uint8_t h160[20], struct rpc_error *err)
{
	const char *s = rpc_param_str(params, i);

	if (!s || address_decode(s, h160) < 0)
		return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Invalid address: '%s'",
				s ? s : "(not a string)");
	return 0;
}

/* An amount: a number of coins or a numeric string, > 0. */
static int param_amount(json_t *v, int64_t *sat, struct rpc_error *err)
{
	json_t *n = v;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		double d = strtod(s, &end);

		n = *s && !*end ? json_real(d) : NULL;
	}
	if (!n || rpc_util_amount_from_json(n, sat) < 0 || *sat <= 0) {
		if (n != v)
			json_decref(n);
		return rpc_fail(err, RPC_TYPE_ERROR, "Invalid amount");
	}
	if (n != v)
		json_decref(n);
	return 0;
}

/* fee_rate in sat/vB (a number > 0, may be fractional) to sat/kvB;
 * absent or null: 0. */
static int param_feerate(json_t *params, size_t i, int64_t *rate, struct rpc_error *err)
{
	json_t *v = json_array_get(params, i);

	*rate = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e6)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Invalid fee_rate: expected sat/vB, a number above 0");
	*rate = (int64_t)(json_number_value(v) * 1000 + 0.5);
	return 0;
}

static const char *opt_str(json_t *params, size_t i)
{
	const char *s = rpc_param_str(params, i);

	return s ? s : "";
}

/* ---- Wallet management -------------------------------------------------- */

static int load_or_create(struct wallet_rpc *r, json_t *params, bool create,
			  json_t **result, struct rpc_error *err)
{
	const char *name = rpc_param_str(params, 0);
	char why[512];
	enum wallet_err kind;

	if (!name)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "wallet_name must be a string");
	kind = wallet_manager_load(r->wm, name, create, why, sizeof(why));
	if (kind != WALLET_OK)
		return rpc_fail(err, code_of(kind), "%s", why);
	*result = json_pack("{s:s, s:s}", "name", name, "warning", "");
	return 0;
}

static int rpc_createwallet(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	return load_or_create(ctx, params, true, result, err);
}

static int rpc_loadwallet(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	return load_or_create(ctx, params, false, result, err);
}

static int rpc_unloadwallet(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet_rpc *r = ctx;
	const char *url = rpc_request_wallet(r->d), *arg = rpc_param_str(params, 0);
	const char *name = arg ? arg : url;

	if (url && arg && strcmp(url, arg) != 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "RPC endpoint wallet and wallet_name "
				"parameter specify different wallets");
	if (!name) {
		struct wallet *w = request_wallet(r, err);

		if (!w)
			return -1;
		name = wallet_name(w);
	}
	if (wallet_manager_unload(r->wm, name) < 0)
		return rpc_fail(err, RPC_WALLET_NOT_FOUND,
				"Requested wallet does not exist or is not loaded");
	*result = json_pack("{s:s}", "warning", "");
	return 0;
}

static int rpc_listwallets(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet_rpc *r = ctx;

	(void)params;
	(void)err;
	*result = json_array();
	for (size_t i = 0; i < wallet_manager_count(r->wm); i++)
		json_array_append_new(*result,
				      json_string(wallet_name(wallet_manager_get(r->wm, i))));
	return 0;
}

/* Set "name" and "name_sat". */
static void set_amount(json_t *o, const char *name, int64_t sat)
{
	char key[64];

	snprintf(key, sizeof(key), "%s_sat", name);
	json_object_set_new(o, name, rpc_util_amount_json(sat));
	json_object_set_new(o, key, json_integer(sat));
}

static int rpc_getwalletinfo(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	struct wallet_balances b;

	(void)params;
	if (!w)
		return -1;
	wallet_balances(w, &b);
	*result = json_object();
	json_object_set_new(*result, "walletname", json_string(wallet_name(w)));
	json_object_set_new(*result, "walletversion", json_integer(WALLETDB_SCHEMA_VERSION));
	json_object_set_new(*result, "format", json_string("sqlite"));
	set_amount(*result, "balance", b.trusted);
	set_amount(*result, "unconfirmed_balance", b.untrusted_pending);
	set_amount(*result, "immature_balance", b.immature);
	json_object_set_new(*result, "txcount", json_integer((json_int_t)wallet_tx_count(w)));
	json_object_set_new(*result, "keycount", json_integer((json_int_t)wallet_key_count(w)));
	set_amount(*result, "paytxfee", wallet_feerate(w));
	json_object_set_new(*result, "avoid_partial_spends",
			    json_boolean(wallet_opts(w)->avoid_partial_spends));
	return 0;
}

/* ---- Addresses ------------------------------------------------------------ */

static int new_address(void *ctx, json_t *params, uint32_t chain, json_t **result,
		       struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	char addr[ADDRESS_MAX], why[512];

	if (!w)
		return -1;
	if (wallet_new_address(w, chain, chain ? "" : opt_str(params, 0), addr, why,
			       sizeof(why)) < 0)
		return rpc_fail(err, RPC_WALLET_ERROR, "%s", why);
	*result = json_string(addr);
	return 0;
}

static int rpc_getnewaddress(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	return new_address(ctx, params, 0, result, err);
}

static int rpc_getrawchangeaddress(void *ctx, json_t *params, json_t **result,
				   struct rpc_error *err)
{
	return new_address(ctx, params, 1, result, err);
}

static int rpc_dumpprivkey(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	const struct key *k;
	uint8_t h160[20];
	char wif[KEY_WIF_MAX];

	if (!w || param_address(params, 0, h160, err) < 0)
		return -1;
	k = wallet_key(w, h160, NULL, NULL);
	if (!k)
		return rpc_fail(err, RPC_WALLET_ERROR, "Private key for address %s is not known",
				rpc_param_str(params, 0));
	key_to_wif(k, wif);
	*result = json_string(wif);
	return 0;
}

/* ---- Balances and coins ------------------------------------------------- */

static int rpc_getbalance(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	struct wallet_balances b;

	(void)params;
	if (!w)
		return -1;
	wallet_balances(w, &b);
	*result = rpc_util_amount_json(b.trusted);
	return 0;
}

static int rpc_getbalances(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	struct wallet_balances b;
	json_t *mine;

	(void)params;
	if (!w)
		return -1;
	wallet_balances(w, &b);
	mine = json_object();
	set_amount(mine, "trusted", b.trusted);
	set_amount(mine, "untrusted_pending", b.untrusted_pending);
	set_amount(mine, "immature", b.immature);
	*result = json_pack("{s:o}", "mine", mine);
	return 0;
}

struct unspent_ctx {
	const struct wallet *w;
	int64_t minconf, maxconf;
	json_t *out;
};

static void unspent_cb(void *ctx, const struct wallet_coin *c)
{
	struct unspent_ctx *u = ctx;
	const char *label = "";
	char addr[ADDRESS_MAX], spk[2 * SCRIPT_P2PKH_LEN + 1];
	json_t *o;
	const struct txout *txo = &c->wtx->tx.vout[c->n];
	bool mature = !tx_is_coinbase(&c->wtx->tx) || c->depth > COINBASE_MATURITY;

	if (c->locked || !mature || c->depth < u->minconf || c->depth > u->maxconf ||
	    txo->script_pubkey_len != SCRIPT_P2PKH_LEN)
		return;
	wallet_key(u->w, c->h160, &label, NULL);
	address_encode(c->h160, addr);
	o = json_object();
	json_object_set_new(o, "txid", rpc_util_hash_json(c->wtx->tx.txid));
	json_object_set_new(o, "vout", json_integer(c->n));
	json_object_set_new(o, "address", json_string(addr));
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "change", json_boolean(c->change));
	set_amount(o, "amount", c->value);
	json_object_set_new(o, "confirmations", json_integer(c->depth));
	json_object_set_new(o, "spendable", json_boolean(c->spendable));
	json_object_set_new(o, "safe", json_boolean(c->spendable));
	hash_hex(txo->script_pubkey, txo->script_pubkey_len, spk);
	json_object_set_new(o, "scriptPubKey", json_string(spk));
	json_array_append_new(u->out, o);
}

static int rpc_listunspent(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	json_t *minc = json_array_get(params, 0), *maxc = json_array_get(params, 1);
	struct unspent_ctx u = { w, 1, 9999999, NULL };

	if (!w)
		return -1;
	if ((minc && !json_is_null(minc) && !json_is_integer(minc)) ||
	    (maxc && !json_is_null(maxc) && !json_is_integer(maxc)))
		return rpc_fail(err, RPC_TYPE_ERROR, "minconf and maxconf must be integers");
	if (json_is_integer(minc))
		u.minconf = json_integer_value(minc);
	if (json_is_integer(maxc))
		u.maxconf = json_integer_value(maxc);
	u.out = json_array();
	wallet_foreach_coin(w, unspent_cb, &u);
	*result = u.out;
	return 0;
}

/* ---- Transactions ------------------------------------------------------- */

/* Fields of a transaction every listing shows. */
static void tx_fields(const struct wallet *w, const struct wallet_tx *wtx, json_t *o)
{
	int32_t depth = wallet_tx_depth(w, wtx);

	json_object_set_new(o, "confirmations", json_integer(depth));
	if (tx_is_coinbase(&wtx->tx))
		json_object_set_new(o, "generated", json_true());
	if (depth == 0)
		json_object_set_new(o, "trusted", json_boolean(wtx->from_me && wtx->in_mempool));
	if (wtx->height >= 0) {
		json_object_set_new(o, "blockhash", rpc_util_hash_json(wtx->block_hash));
		json_object_set_new(o, "blockheight", json_integer(wtx->height));
		json_object_set_new(o, "blocktime", json_integer(wtx->block_time));
	}
	json_object_set_new(o, "txid", rpc_util_hash_json(wtx->tx.txid));
	json_object_set_new(o, "time", json_integer(wtx->time));
	json_object_set_new(o, "timereceived", json_integer(wtx->time));
	if (wtx->comment[0])
		json_object_set_new(o, "comment", json_string(wtx->comment));
}

static const char *receive_category(const struct wallet *w, const struct wallet_tx *wtx)
{
	int32_t depth = wallet_tx_depth(w, wtx);

	if (!tx_is_coinbase(&wtx->tx))
		return "receive";
	if (depth < 0)
		return "orphan";
	return depth > COINBASE_MATURITY ? "generate" : "immature";
}

/*
 * One entry per output that concerns us, as Bitcoin's ListTransactions:
 * a "send" for each output of a transaction we paid for that is not our
 * change, a "receive" (or generate/immature/orphan) for each output to a
 * receiving key. with_tx adds the transaction's fields to each entry.
 */
static void tx_entries(const struct wallet *w, const struct wallet_tx *wtx, bool with_tx,
		       json_t *arr)
{
	int64_t debit = wallet_tx_debit(w, wtx);
	int64_t fee = debit > 0 ? tx_value_out(&wtx->tx) - debit : 0;

	for (uint32_t n = 0; n < wtx->tx.n_out; n++) {
		const struct txout *o = &wtx->tx.vout[n];
		uint8_t h160[20];
		uint32_t chain = 0;
		const char *label = "";
		bool p2pkh = script_is_p2pkh(o->script_pubkey, o->script_pubkey_len, h160);
		bool mine = p2pkh && wallet_key(w, h160, &label, &chain);
		char addr[ADDRESS_MAX] = "";

		if (p2pkh)
			address_encode(h160, addr);
		for (int pass = 0; pass < 2; pass++) {
			bool send = pass == 0;
			json_t *e;

			if (send ? !(debit > 0 && !(mine && chain == 1)) : !(mine && chain == 0))
				continue;
			e = json_object();
			if (*addr)
				json_object_set_new(e, "address", json_string(addr));
			json_object_set_new(e, "category", json_string(send ? "send" :
						receive_category(w, wtx)));
			set_amount(e, "amount", send ? -o->value : o->value);
			if (mine)
				json_object_set_new(e, "label", json_string(label));
			json_object_set_new(e, "vout", json_integer(n));
			if (send)
				set_amount(e, "fee", fee);
			if (with_tx)
				tx_fields(w, wtx, e);
			json_array_append_new(arr, e);
		}
	}
}

static int rpc_gettransaction(void *ctx, json_t *params, json_t **result,
			      struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	const struct wallet_tx *wtx;
	uint8_t txid[32];
	int64_t credit, debit, fee = 0;
	json_t *details;

	if (!w || rpc_util_param_hash(params, 0, txid, err) < 0)
		return -1;
	wtx = wallet_get_tx(w, txid);
	if (!wtx)
		return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY,
				"Invalid or non-wallet transaction id");
	credit = wallet_tx_credit(w, wtx);
	debit = wallet_tx_debit(w, wtx);
	if (debit > 0)
		fee = tx_value_out(&wtx->tx) - debit;
	*result = json_object();
	set_amount(*result, "amount", credit - debit - fee);
	if (debit > 0)
		set_amount(*result, "fee", fee);
	tx_fields(w, wtx, *result);
	details = json_array();
	tx_entries(w, wtx, false, details);
	json_object_set_new(*result, "details", details);
	json_object_set_new(*result, "hex", rpc_util_tx_hex_json(&wtx->tx));
	return 0;
}

struct list_ctx {
	const struct wallet *w;
	const char *label;   /* NULL: all */
	json_t *all;
};

static void list_cb(void *ctx, const struct wallet_tx *wtx)
{
	struct list_ctx *l = ctx;
	json_t *entries = json_array(), *e;
	size_t i;

	tx_entries(l->w, wtx, true, entries);
	json_array_foreach(entries, i, e) {
		const char *lab = json_string_value(json_object_get(e, "label"));

		if (!l->label || (lab && strcmp(lab, l->label) == 0))
			json_array_append(l->all, e);
	}
	json_decref(entries);
}

/* listtransactions ( "label" count skip ): the most recent `count`
 * entries after skipping `skip`, oldest first, as Bitcoin's. */
static int rpc_listtransactions(void *ctx, json_t *params, json_t **result,
				struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	const char *label = rpc_param_str(params, 0);
	json_t *jc = json_array_get(params, 1), *js = json_array_get(params, 2);
	int64_t count = LIST_DEFAULT_COUNT, skip = 0;
	struct list_ctx l;
	size_t n, from, to;

	if (!w)
		return -1;
	if ((jc && !json_is_null(jc) && !json_is_integer(jc)) ||
	    (js && !json_is_null(js) && !json_is_integer(js)))
		return rpc_fail(err, RPC_TYPE_ERROR, "count and skip must be integers");
	if (json_is_integer(jc))
		count = json_integer_value(jc);
	if (json_is_integer(js))
		skip = json_integer_value(js);
	if (count < 0 || skip < 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Negative count or skip");
	l.w = w;
	l.label = label && strcmp(label, "*") != 0 ? label : NULL;
	l.all = json_array();
	wallet_foreach_tx(w, list_cb, &l);
	n = json_array_size(l.all);
	to = (size_t)skip >= n ? 0 : n - (size_t)skip;
	from = (size_t)count >= to ? 0 : to - (size_t)count;
	*result = json_array();
	for (size_t i = from; i < to; i++)
		json_array_append(*result, json_array_get(l.all, i));
	json_decref(l.all);
	return 0;
}

/* ---- Sending -------------------------------------------------------------- */

static int send_payment(struct wallet *w, struct wallet_recipient *to, size_t n, const char *comment,
		int64_t feerate, json_t **result, struct rpc_error *err)
{
	struct wallet_send_request req = { to, n, feerate, comment };
	struct wallet_send_result res;
	struct wallet_error e;

	if (wallet_send(w, &req, &res, &e) < 0)
		return rpc_fail(err, code_of(e.kind), "%s", e.message);
	*result = rpc_util_hash_json(res.txid);
	return 0;
}

/* sendtoaddress "address" amount ( "comment" fee_rate ) */
static int rpc_sendtoaddress(void *ctx, json_t *params, json_t **result,
			     struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	struct wallet_recipient to;
	int64_t feerate;

	if (!w || param_address(params, 0, to.h160, err) < 0 ||
	    param_amount(json_array_get(params, 1), &to.amount, err) < 0 ||
	    param_feerate(params, 3, &feerate, err) < 0)
		return -1;
	return send_payment(w, &to, 1, rpc_param_str(params, 2), feerate, result, err);
}

/* sendmany "" {"address":amount,...} ( "comment" fee_rate ) */
static int rpc_sendmany(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	json_t *amounts = json_array_get(params, 1), *v;
	struct wallet_recipient *to;
	const char *addr;
	size_t n = 0;
	int64_t feerate;
	int rc = -1;

	if (!w || param_feerate(params, 3, &feerate, err) < 0)
		return -1;
	if (!json_is_object(amounts) || json_object_size(amounts) == 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"amounts must be a non-empty object {\"address\":amount,...}");
	to = calloc(json_object_size(amounts), sizeof(*to));
	if (!to)
		return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
	json_object_foreach(amounts, addr, v) {
		json_t *a = json_pack("[s]", addr);
		int bad = param_address(a, 0, to[n].h160, err);

		json_decref(a);
		if (bad < 0 || param_amount(v, &to[n].amount, err) < 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (memcmp(to[i].h160, to[n].h160, 20) == 0) {
				rpc_fail(err, RPC_INVALID_PARAMETER,
					 "Invalid parameter, duplicated address: %s", addr);
				goto out;
			}
		n++;
	}
	rc = send_payment(w, to, n, rpc_param_str(params, 2), feerate, result, err);
out:
	free(to);
	return rc;
}

/* settxfee amount: coins per 1000 vbytes; 0 goes back to -fallbackfee. */
static int rpc_settxfee(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	int64_t rate;
	char why[512];

	if (!w)
		return -1;
	if (rpc_util_amount_from_json(json_array_get(params, 0), &rate) < 0)
		return rpc_fail(err, RPC_TYPE_ERROR, "Invalid amount");
	if (rate && rate < wallet_opts(w)->min_relay_feerate)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "txfee cannot be less than min relay "
				"tx fee (%lld sat/kvB)",
				(long long)wallet_opts(w)->min_relay_feerate);
	if (wallet_set_feerate(w, rate, why, sizeof(why)) < 0)
		return rpc_fail(err, RPC_WALLET_ERROR, "%s", why);
	*result = json_true();
	return 0;
}

/* An {"txid":..,"vout":n} object. */
static int param_outpoint(json_t *o, struct outpoint *op, struct rpc_error *err)
{
	const char *txid = json_string_value(json_object_get(o, "txid"));
	json_t *vout = json_object_get(o, "vout");

	if (!txid || hash_from_hex_reversed(txid, op->txid) < 0 || !json_is_integer(vout))
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Invalid parameter, expected {\"txid\":\"hex\",\"vout\":n}");
	if (json_integer_value(vout) < 0 || json_integer_value(vout) > UINT32_MAX)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid parameter, vout cannot be "
				"negative");
	op->n = (uint32_t)json_integer_value(vout);
	return 0;
}

/* Why an outpoint cannot be locked or unlocked, as Bitcoin words it. */
static int lock_error(const struct wallet *w, const struct outpoint *op, bool lock,
		      struct rpc_error *err)
{
	const struct wallet_tx *wtx = wallet_get_tx(w, op->txid);

	if (!wtx)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid parameter, unknown transaction");
	if (op->n >= wtx->tx.n_out)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Invalid parameter, vout index out of bounds");
	if (!lock)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Invalid parameter, expected locked output");
	return rpc_fail(err, RPC_INVALID_PARAMETER,
			"Invalid parameter, expected an unspent output of this wallet that is "
			"not locked");
}

/* lockunspent unlock ( [{"txid":..,"vout":n},...] ): all or nothing. */
static int rpc_lockunspent(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	json_t *unlock = json_array_get(params, 0), *list = json_array_get(params, 1), *o;
	struct outpoint *done;
	size_t i, n_done = 0;
	int rc = 0;

	if (!w)
		return -1;
	if (!json_is_boolean(unlock))
		return rpc_fail(err, RPC_TYPE_ERROR, "unlock must be true or false");
	if (!list || json_is_null(list)) {
		if (json_is_true(unlock))
			wallet_unlock_all(w);
		*result = json_true();
		return 0;
	}
	if (!json_is_array(list))
		return rpc_fail(err, RPC_TYPE_ERROR, "transactions must be an array");
	done = calloc(json_array_size(list) + 1, sizeof(*done));
	if (!done)
		return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
	json_array_foreach(list, i, o) {
		struct outpoint op;

		if (param_outpoint(o, &op, err) < 0) {
			rc = -1;
			break;
		}
		if (wallet_lock_coin(w, &op, !json_is_true(unlock)) < 0) {
			rc = lock_error(w, &op, !json_is_true(unlock), err);
			break;
		}
		done[n_done++] = op;
	}
	/* Undo a partial change so a failure changes nothing. */
	for (size_t k = 0; rc < 0 && k < n_done; k++)
		wallet_lock_coin(w, &done[k], json_is_true(unlock));
	free(done);
	if (rc == 0)
		*result = json_true();
	return rc;
}

static int rpc_listlockunspent(void *ctx, json_t *params, json_t **result,
			       struct rpc_error *err)
{
	struct wallet *w = request_wallet(ctx, err);
	size_t n;
	struct outpoint *ops;

	(void)params;
	if (!w)
		return -1;
	n = wallet_locked(w, NULL, 0);
	ops = calloc(n + 1, sizeof(*ops));
	if (!ops)
		return rpc_fail(err, RPC_MISC_ERROR, "out of memory");
	wallet_locked(w, ops, n);
	*result = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*result, json_pack("{s:o, s:i}", "txid",
							 rpc_util_hash_json(ops[i].txid), "vout",
							 (json_int_t)ops[i].n));
	free(ops);
	return 0;
}

/* ---- Registration ---------------------------------------------------------- */

static const struct rpc_command wallet_commands[] = {
	{ "createwallet", "wallet", rpc_createwallet, 1, { "wallet_name", NULL },
	  "createwallet \"wallet_name\"",
	  "Create a wallet (DATADIR/wallets/NAME/wallet.dat) with a new seed, and load it." },
	{ "loadwallet", "wallet", rpc_loadwallet, 1, { "filename", NULL },
	  "loadwallet \"filename\"", "Load a wallet: read it, rescan, re-offer unconfirmed "
	  "transactions to the mempool." },
	{ "unloadwallet", "wallet", rpc_unloadwallet, 0, { "wallet_name", NULL },
	  "unloadwallet ( \"wallet_name\" )", "Unload the named wallet (or the URL's)." },
	{ "listwallets", "wallet", rpc_listwallets, 0, { NULL }, "listwallets",
	  "Names of the loaded wallets." },
	{ "getwalletinfo", "wallet", rpc_getwalletinfo, 0, { NULL }, "getwalletinfo",
	  "Name, balances, counts and settings of the wallet." },
	{ "getnewaddress", "wallet", rpc_getnewaddress, 0, { "label", NULL },
	  "getnewaddress ( \"label\" )",
	  "A new receiving address (P2PKH, Base58Check with a 4-byte checksum)." },
	{ "getrawchangeaddress", "wallet", rpc_getrawchangeaddress, 0, { NULL },
	  "getrawchangeaddress", "A new change address." },
	{ "dumpprivkey", "wallet", rpc_dumpprivkey, 1, { "address", NULL },
	  "dumpprivkey \"address\"", "The WIF private key of one of the wallet's addresses." },
	{ "getbalance", "wallet", rpc_getbalance, 0, { NULL }, "getbalance",
	  "The trusted balance: confirmed, mature, plus our own unconfirmed change." },
	{ "getbalances", "wallet", rpc_getbalances, 0, { NULL }, "getbalances",
	  "Trusted, untrusted pending and immature balances (coins and *_sat)." },
	{ "listunspent", "wallet", rpc_listunspent, 0, { "minconf", "maxconf", NULL },
	  "listunspent ( minconf maxconf )",
	  "Unspent, unlocked, mature outputs with minconf..maxconf confirmations (1..9999999)." },
	{ "listtransactions", "wallet", rpc_listtransactions, 0,
	  { "label", "count", "skip", NULL }, "listtransactions ( \"label\" count skip )",
	  "The most recent `count` (10) entries after `skip`, oldest first; label \"*\": all." },
	{ "gettransaction", "wallet", rpc_gettransaction, 1, { "txid", NULL },
	  "gettransaction \"txid\"",
	  "A wallet transaction: amount, fee, confirmations, details per output, hex." },
	{ "sendtoaddress", "wallet", rpc_sendtoaddress, 2,
	  { "address", "amount", "comment", "fee_rate", NULL },
	  "sendtoaddress \"address\" amount ( \"comment\" fee_rate )",
	  "Pay amount (coins) to address; fee_rate in sat/vB (default: settxfee, else "
	  "-fallbackfee). Returns the txid." },
	{ "sendmany", "wallet", rpc_sendmany, 2, { "dummy", "amounts", "comment", "fee_rate", NULL },
	  "sendmany \"\" {\"address\":amount,...} ( \"comment\" fee_rate )",
	  "Pay several addresses in one transaction. Returns the txid." },
	{ "settxfee", "wallet", rpc_settxfee, 1, { "amount", NULL }, "settxfee amount",
	  "The wallet's fee rate in coins per 1000 vbytes (0: -fallbackfee)." },
	{ "lockunspent", "wallet", rpc_lockunspent, 1, { "unlock", "transactions", NULL },
	  "lockunspent unlock ( [{\"txid\":\"hex\",\"vout\":n},...] )",
	  "Lock (false) or unlock (true) outputs for coin selection; unlock without a list "
	  "unlocks all. In memory only." },
	{ "listlockunspent", "wallet", rpc_listlockunspent, 0, { NULL }, "listlockunspent",
	  "The locked outputs." },
};

int rpc_wallet_register(struct rpc_dispatch *d, struct wallet_manager *wm)
{
	struct wallet_rpc ctx = { .d = d, .wm = wm };

	return rpc_register_copy(d, wallet_commands,
				 sizeof(wallet_commands) / sizeof(wallet_commands[0]), &ctx,
				 sizeof(ctx));
}
