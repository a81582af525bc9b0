/*
 * tx_check.c — consensus checks of a transaction: context-free, and its
 * inputs against the coins they spend.
 */
#include "tx_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

/* ---- Context-free checks ------------------------------------------------ */

static int fail(char reason[CHAIN_REASON_MAX], const char *why)
{
	snprintf(reason, CHAIN_REASON_MAX, "%s", why);
	return -1;
}

static int cmp_outpoint(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct outpoint));
}

int tx_check(const struct tx *t, char reason[CHAIN_REASON_MAX])
{
	if (t->n_in == 0)
		return fail(reason, "bad-txns-vin-empty");
	if (t->n_out == 0)
		return fail(reason, "bad-txns-vout-empty");
	if (t->size > MAX_BLOCK_SIZE)
		return fail(reason, "bad-txns-oversize");
	for (size_t i = 0; i < t->n_out; i++) {
		if (t->vout[i].value < 0)
			return fail(reason, "bad-txns-vout-negative");
		if (t->vout[i].value > MAX_MONEY)
			return fail(reason, "bad-txns-vout-toolarge");
	}
	if (tx_value_out(t) < 0)
		return fail(reason, "bad-txns-txouttotal-toolarge");
	/* Duplicate inputs: sort a copy of the outpoints. */
	struct outpoint *ops = malloc(t->n_in * sizeof(*ops));
	if (!ops)
		return fail(reason, "out of memory");
	for (size_t i = 0; i < t->n_in; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i] = t->vin[i].prevout;
	}
	qsort(ops, t->n_in, sizeof(*ops), cmp_outpoint);
	for (size_t i = 1; i < t->n_in; i++) {
		if (memcmp(&ops[i - 1], &ops[i], sizeof(*ops)) == 0) {
			free(ops);
			return fail(reason, "bad-txns-inputs-duplicate");
		}
	}
	free(ops);
	if (tx_is_coinbase(t)) {
		size_t n = t->vin[0].script_sig_len;
		if (n < 2 || n > 100)
			return fail(reason, "bad-cb-length");
	} else {
		static const uint8_t zero[32];
		for (size_t i = 0; i < t->n_in; i++)
			if (t->vin[i].prevout.n == UINT32_MAX &&
			    memcmp(t->vin[i].prevout.txid, zero, 32) == 0)
				return fail(reason, "bad-txns-prevout-null");
	}
	return 0;
}

int tx_check_inputs(const struct tx *t, int32_t height, coin_lookup_fn lookup, void *ctx,
		    int64_t *fee, char reason[CHAIN_REASON_MAX])
{
	int64_t in = 0, out = tx_value_out(t);

	for (size_t i = 0; i < t->n_in; i++) {
		const struct coin *c = lookup(ctx, &t->vin[i].prevout);
		char why[SCRIPT_REASON_MAX];
		if (!c)
			return fail(reason, "bad-txns-inputs-missingorspent");
		if (c->coinbase && height - (int64_t)c->height < COINBASE_MATURITY)
			return fail(reason, "bad-txns-premature-spend-of-coinbase");
		in += c->value;
		if (c->value < 0 || c->value > MAX_MONEY || in > MAX_MONEY)
			return fail(reason, "bad-txns-inputvalues-outofrange");
		if (script_verify_input(t, i, c->script, c->script_len, why) < 0) {
			snprintf(reason, CHAIN_REASON_MAX,
				 "mandatory-script-verify-flag-failed (%.78s)", why);
			return -1;
		}
	}
	if (out < 0 || in < out)
		return fail(reason, "bad-txns-in-belowout");
	*fee = in - out;
	return 0;
}
