/*
 * wallet_send.c — building, signing and sending a payment (wallet.h's
 * wallet_send), in the shape of Bitcoin Core's CreateTransaction:
 *
 *   1. a first attempt with the wallet's grouping (-avoidpartialspends);
 *   2. if that did not group by address and the wallet has more than one
 *      spendable coin on some address, a second, "optimistic" attempt
 *      that does, used if its fee is at most -maxapsfee higher.
 *
 * Each attempt selects coins (wallet_select.h over coinselection.h: the
 * least-waste result of BnB, CoinGrinder, Knapsack and SRD), adds change only when it is worth
 * more than its cost, at a random position, signs, and settles the fee
 * on the signed transaction's real size.
 *
 * Tracepoints: coin_selection:selected_coins (in wallet_select.c),
 * normal_create_tx_internal,
 * attempting_aps_create_tx, aps_create_tx_internal (doc/tracing.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "tracepoints.h"
#include "util.h"
#include "wallet.h"
#include "wallet_select.h"

/* Bitcoin's -maxtxfee default: a larger fee is refused as a mistake. */
#define WALLET_MAX_TX_FEE (COIN / 10)
/* version, locktime, and one-byte input and output counts */
#define TX_OVERHEAD_BYTES 10

/* One attempt's outcome. */
struct attempt {
	struct tx tx;
	int64_t fee;
	int32_t change_pos;
	const char *algo;
};

static int fail(struct wallet_error *e, enum wallet_err kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct wallet_error *e, enum wallet_err kind, const char *fmt, ...)
{
	va_list ap;

	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

struct coin_list {
	struct cs_coin *v;
	size_t n, cap;
	const struct cs_params *p;
	bool oom;
};

static void collect_cb(void *ctx, const struct wallet_coin *c)
{
	struct coin_list *l = ctx;
	struct outpoint op;

	if (!c->spendable || l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct cs_coin *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	memcpy(op.txid, c->wtx->tx.txid, 32);
	op.n = c->n;
	coinselection_coin_init(&l->v[l->n++], &op, c->value, CS_P2PKH_INPUT_BYTES, c->h160, c->depth, l->p);
}

/* The spendable coins, priced under p. 0, or -1 (no memory). */
static int available_coins(const struct wallet *w, const struct cs_params *p,
			   struct coin_list *l)
{
	memset(l, 0, sizeof(*l));
	l->p = p;
	wallet_foreach_coin(w, collect_cb, l);
	if (l->oom) {
		free(l->v);
		return -1;
	}
	return 0;
}

static int cmp_h160(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

/* True if two spendable coins pay the same address: only then can
 * grouping by address change the selection. */
static bool has_reused_address(const struct wallet *w)
{
	struct cs_params p = { 0 };
	struct coin_list l;
	uint8_t (*h)[20];
	bool reused = false;

	if (available_coins(w, &p, &l) < 0 || !(h = malloc((l.n + 1) * sizeof(*h)))) {
		free(l.v);
		return false;
	}
	for (size_t i = 0; i < l.n; i++)
		memcpy(h[i], l.v[i].dest, 20);
	qsort(h, l.n, sizeof(*h), cmp_h160);
	for (size_t i = 1; i < l.n && !reused; i++)
		reused = memcmp(h[i - 1], h[i], 20) == 0;
	free(h);
	free(l.v);
	return reused;
}

/* Append an output paying to h160. 0 or -1. */
static int add_output(struct tx *t, const uint8_t h160[20], int64_t value)
{
	struct txout *o = &t->vout[t->n_out];

	o->script_pubkey = malloc(SCRIPT_P2PKH_LEN);
	if (!o->script_pubkey)
		return -1;
	script_p2pkh(h160, o->script_pubkey);
	o->script_pubkey_len = SCRIPT_P2PKH_LEN;
	o->value = value;
	t->n_out++;
	return 0;
}

/* Inputs from the selected groups, in random order (the order of coins
 * must not tell which output paid whom). */
static int add_inputs(struct tx *t, const struct coin_list *l, const struct cs_group *g,
		      const struct cs_result *r, struct cs_rng *rng)
{
	t->vin = calloc(r->n_inputs, sizeof(*t->vin));
	if (!t->vin)
		return -1;
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct cs_group *gr = &g[r->groups[i]];

		for (size_t j = 0; j < gr->n_coins; j++) {
			struct txin *in = &t->vin[t->n_in++];

			in->prevout = l->v[gr->coins[j]].op;
			in->sequence = 0xfffffffd;
		}
	}
	for (size_t i = t->n_in; i > 1; i--) {
		size_t j = (size_t)coinselection_rng_below(rng, i);
		struct txin tmp = t->vin[i - 1];

		t->vin[i - 1] = t->vin[j];
		t->vin[j] = tmp;
	}
	return 0;
}

/* Recipients in order, the change (if any) at a random position. */
static int add_outputs(struct tx *t, const struct wallet_send_request *req,
		       const struct key *change_key, int64_t change, struct cs_rng *rng,
		       int32_t *change_pos)
{
	size_t n = req->n_to + (change > 0);

	t->vout = calloc(n, sizeof(*t->vout));
	if (!t->vout)
		return -1;
	*change_pos = change > 0 ? (int32_t)coinselection_rng_below(rng, n) : -1;
	for (size_t i = 0, k = 0; i < n; i++) {
		if ((int32_t)i == *change_pos) {
			if (add_output(t, change_key->h160, change) < 0)
				return -1;
		} else if (add_output(t, req->to[k].h160, req->to[k].amount) < 0) {
			return -1;
		} else {
			k++;
		}
	}
	return 0;
}

static int sign_all(const struct wallet *w, struct tx *t)
{
	for (size_t i = 0; i < t->n_in; i++) {
		const struct wallet_tx *prev = wallet_get_tx(w, t->vin[i].prevout.txid);
		uint8_t h160[20];
		const struct key *k;

		if (!prev || !script_is_p2pkh(prev->tx.vout[t->vin[i].prevout.n].script_pubkey,
					      prev->tx.vout[t->vin[i].prevout.n].script_pubkey_len,
					      h160) ||
		    !(k = wallet_key(w, h160, NULL, NULL)) || key_sign_p2pkh_input(k, t, i) < 0)
			return -1;
	}
	return 0;
}

/*
 * Sign, then settle the fee on the real size: the selection priced each
 * input at its largest size, so the signed transaction needs at most the
 * fee reserved; with change, the difference goes back to the change and
 * the transaction is signed again. A new digest can make a signature a
 * byte shorter or longer, so after the first round any fee that covers
 * the size is accepted (at most one vbyte's fee above it), and a fee
 * short of it takes from the change again. Returns the fee, or -1.
 */
static int64_t sign_and_settle(const struct wallet *w, struct tx *t, int64_t feerate,
			       int64_t in_value, int32_t change_pos)
{
	for (int round = 0; round < 4; round++) {
		int64_t fee, need;

		if (sign_all(w, t) < 0)
			return -1;
		fee = in_value - tx_value_out(t);
		need = coinselection_fee(feerate, tx_vsize(t));
		if (fee == need || (fee > need && (round > 0 || change_pos < 0)))
			return fee;
		if (change_pos < 0)
			return -1;
		t->vout[change_pos].value += fee - need;
	}
	return -1;
}

/*
 * One CreateTransactionInternal: select (grouping by address or not),
 * build, sign. Fires coin_selection:selected_coins on a selection.
 * Returns 0 with *a filled, or -1 with *e.
 */
static int create_tx(struct wallet *w, const struct wallet_send_request *req, int64_t feerate,
		     bool avoid_partial, const struct key *change_key, struct attempt *a,
		     struct wallet_error *e)
{
	const struct wallet_options *o = wallet_opts(w);
	struct cs_rng rng;
	struct cs_params p;
	struct coin_list l;
	struct cs_group *g = NULL;
	struct cs_result r = { 0 };
	size_t ng = 0;
	int64_t total = 0, target;
	int rc = -1, st;

	for (size_t i = 0; i < req->n_to; i++)
		total += req->to[i].amount;
	coinselection_rng_seed(&rng, util_random_u64());
	coinselection_params_init(&p, feerate, o->long_term_feerate, o->discard_feerate, total,
				  MEMPOOL_MAX_TX_SIZE - TX_OVERHEAD_BYTES - 1000, &rng);
	target = total + coinselection_fee(feerate, TX_OVERHEAD_BYTES + (int64_t)req->n_to *
					   CS_P2PKH_OUTPUT_BYTES);
	if (available_coins(w, &p, &l) < 0)
		return fail(e, WALLET_ERR_FAILED, "out of memory");
	st = wallet_select_coins(wallet_name(w), l.v, l.n, avoid_partial, target, &p, &rng, &g,
				 &ng, &r);
	if (st == CS_INSUFFICIENT) {
		fail(e, WALLET_ERR_INSUFFICIENT_FUNDS, "Insufficient funds");
		goto out;
	}
	if (st != CS_OK) {
		fail(e, WALLET_ERR_FAILED, "%s", st == CS_NO_SOLUTION ?
		     "The inputs size exceeds the maximum weight. Please try sending a smaller "
		     "amount or manually consolidating your wallet's UTXOs" : "out of memory");
		goto out;
	}
	memset(&a->tx, 0, sizeof(a->tx));
	a->tx.version = 2;
	a->algo = coinselection_algo_name(r.algo);
	if (add_inputs(&a->tx, &l, g, &r, &rng) < 0 ||
	    add_outputs(&a->tx, req, change_key, r.change, &rng, &a->change_pos) < 0) {
		fail(e, WALLET_ERR_FAILED, "out of memory");
		tx_clear(&a->tx);
		goto out;
	}
	a->fee = sign_and_settle(w, &a->tx, feerate, r.selected_value, a->change_pos);
	if (a->fee < 0) {
		fail(e, WALLET_ERR_FAILED, "Signing transaction failed");
		tx_clear(&a->tx);
		goto out;
	}
	rc = 0;
out:
	coinselection_result_free(&r);
	coinselection_groups_free(g, ng);
	free(l.v);
	return rc;
}

/* The fee rate of a request, or -1 with *e. */
static int64_t request_feerate(const struct wallet *w, const struct wallet_send_request *req,
			       struct wallet_error *e)
{
	int64_t rate = req->feerate ? req->feerate :
		       wallet_feerate(w) ? wallet_feerate(w) : wallet_opts(w)->fallback_feerate;

	if (rate < wallet_opts(w)->min_relay_feerate) {
		fail(e, WALLET_ERR_FAILED, "Fee rate (%.3f sat/vB) is lower than the minimum relay "
		     "fee rate (%.3f sat/vB)", rate / 1000.0,
		     wallet_opts(w)->min_relay_feerate / 1000.0);
		return -1;
	}
	return rate;
}

static int check_request(const struct wallet_send_request *req, struct wallet_error *e)
{
	int64_t total = 0;
	int64_t dust = coinselection_fee(CS_DUST_RELAY_FEERATE, CS_P2PKH_OUTPUT_BYTES + CS_P2PKH_INPUT_BYTES);

	if (req->n_to == 0)
		return fail(e, WALLET_ERR_INVALID_PARAMETER, "No recipients");
	for (size_t i = 0; i < req->n_to; i++) {
		if (req->to[i].amount <= 0 || req->to[i].amount > MAX_MONEY)
			return fail(e, WALLET_ERR_INVALID_AMOUNT, "Invalid amount for send");
		if (req->to[i].amount < dust)
			return fail(e, WALLET_ERR_FAILED, "Transaction amount too small");
		total += req->to[i].amount;
		if (total > MAX_MONEY)
			return fail(e, WALLET_ERR_INVALID_AMOUNT, "Invalid amount for send");
	}
	return 0;
}

int wallet_send(struct wallet *w, const struct wallet_send_request *req,
		struct wallet_send_result *res, struct wallet_error *e)
{
	const struct wallet_options *o = wallet_opts(w);
	struct attempt a1, a2, *use = &a1;
	struct key change;
	int64_t feerate;
	bool ok, ok2, use_aps = false;
	char why[CHAIN_REASON_MAX + 64];

	if (check_request(req, e) < 0 || (feerate = request_feerate(w, req, e)) < 0)
		return -1;
	if (wallet_peek_change(w, &change) < 0)
		return fail(e, WALLET_ERR_FAILED, "cannot derive a change key");
	ok = create_tx(w, req, feerate, o->avoid_partial_spends, &change, &a1, e) == 0;
	trace_coin_selection_normal_create_tx_internal(wallet_name(w), ok, ok ? a1.fee : 0,
						       ok ? a1.change_pos : -1);
	if (!ok)
		return -1;
	if (a1.fee > 0 && o->max_aps_fee > -1 && !o->avoid_partial_spends &&
	    has_reused_address(w)) {
		struct wallet_error e2;

		trace_coin_selection_attempting_aps_create_tx(wallet_name(w));
		/* The same change key: a second attempt must not use up another. */
		ok2 = create_tx(w, req, feerate, true, &change, &a2, &e2) == 0;
		use_aps = ok2 && a2.fee <= a1.fee + o->max_aps_fee;
		trace_coin_selection_aps_create_tx_internal(wallet_name(w), use_aps, ok2,
							    ok2 ? a2.fee : 0,
							    ok2 ? a2.change_pos : -1);
		if (use_aps) {
			tx_clear(&a1.tx);
			use = &a2;
		} else if (ok2) {
			tx_clear(&a2.tx);
		}
	}
	if (use->fee > WALLET_MAX_TX_FEE) {
		tx_clear(&use->tx);
		return fail(e, WALLET_ERR_FAILED,
			    "Fee exceeds maximum configured by user (maxtxfee)");
	}
	if (wallet_commit_tx(w, &use->tx, use->fee, req->comment, why, sizeof(why)) < 0) {
		tx_clear(&use->tx);
		return fail(e, WALLET_ERR_REJECTED, "Transaction rejected: %s", why);
	}
	memcpy(res->txid, use->tx.txid, 32);
	res->fee = use->fee;
	res->change_pos = use->change_pos;
	res->aps_used = use_aps;
	res->algo = use->algo;
	tx_clear(&use->tx);
	return 0;
}
