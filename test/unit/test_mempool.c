/*
 * test_mempool.c — the mempool's policy arithmetic on its own
 * (mempool_policy.h), then the mempool over a real chainstate in a
 * temporary directory, mined past coinbase maturity: acceptance and every
 * rejection reason, replacement with descendants, uncaching after a
 * rejection, block templates (parents first, best fee rate first), blocks
 * removing mined and conflicting entries, a reorganisation bringing a
 * transaction back and removing one whose coinbase input became immature,
 * expiry and the size limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chainstate.h"
#include "coins.h"
#include "key.h"
#include "mempool.h"
#include "mempool_policy.h"
#include "miner.h"
#include "script.h"
#include "unit.h"
#include "util.h"

/* ---- Policy arithmetic ---------------------------------------------------- */

UNIT_TEST(mempool_policy_min_fee)
{
	CHECK_EQ_INT(mempool_policy_min_fee(1000, 191), 191);
	CHECK_EQ_INT(mempool_policy_min_fee(1500, 191), 286); /* 286.5 rounds down */
	CHECK_EQ_INT(mempool_policy_min_fee(1, 191), 1);      /* 0.191: at least 1 */
	CHECK_EQ_INT(mempool_policy_min_fee(0, 191), 0);
	CHECK_EQ_INT(mempool_policy_min_fee(1000, 0), 0);
	CHECK_EQ_INT(mempool_policy_min_fee(INT64_MAX / 1000, 100000),
		     (int64_t)((__int128)(INT64_MAX / 1000) * 100000 / 1000));
}

UNIT_TEST(mempool_policy_feerate_cmp)
{
	CHECK_EQ_INT(mempool_policy_feerate_cmp(1000, 200, 500, 100), 0);
	CHECK_EQ_INT(mempool_policy_feerate_cmp(1001, 200, 500, 100), 1);
	CHECK_EQ_INT(mempool_policy_feerate_cmp(999, 200, 500, 100), -1);
	/* No overflow with the largest values. */
	CHECK_EQ_INT(mempool_policy_feerate_cmp(MAX_MONEY, 1, MAX_MONEY - 1, 1), 1);
	CHECK_EQ_INT(mempool_policy_feerate_cmp(MAX_MONEY, 100000, MAX_MONEY, 99999), -1);
}

UNIT_TEST(mempool_policy_replacement)
{
	char reason[CHAIN_REASON_MAX] = "";

	/* Nothing replaced: always fine. */
	CHECK_EQ_INT(mempool_policy_check_replacement(0, 200, 0, 0, 0, 1, 1000, reason), 0);
	/* Replaced: two paying 1000 + 3000, the top rate 3000/150 = 20 sat/vB.
	 * The replacement of 200 vB needs a rate above 20 (fee > 4000) and
	 * fee >= 4000 + 200 (relay fee for its own size). */
	CHECK_EQ_INT(mempool_policy_check_replacement(4000, 200, 2, 4000, 3000, 150, 1000, reason), -1);
	CHECK_EQ_STR(reason, "insufficient fee");
	CHECK_EQ_INT(mempool_policy_check_replacement(4199, 200, 2, 4000, 3000, 150, 1000, reason), -1);
	CHECK_EQ_STR(reason, "insufficient fee");
	CHECK_EQ_INT(mempool_policy_check_replacement(4200, 200, 2, 4000, 3000, 150, 1000, reason), 0);
	/* An equal fee rate is not higher. */
	CHECK_EQ_INT(mempool_policy_check_replacement(100000, 5000, 1, 10, 20, 1, 0, reason), -1);
	CHECK_EQ_STR(reason, "insufficient fee");
	CHECK_EQ_INT(mempool_policy_check_replacement(100001, 5000, 1, 10, 20, 1, 0, reason), 0);
	/* At most MEMPOOL_MAX_REPLACED. */
	CHECK_EQ_INT(mempool_policy_check_replacement(COIN, 200, MEMPOOL_MAX_REPLACED, 1000, 10, 200,
						      1000, reason), 0);
	CHECK_EQ_INT(mempool_policy_check_replacement(COIN, 200, MEMPOOL_MAX_REPLACED + 1, 1000, 10,
						      200, 1000, reason), -1);
	CHECK_EQ_STR(reason, "txn-mempool-conflict");
}

UNIT_TEST(mempool_policy_expiry_and_order)
{
	struct mempool_entry a, b;

	CHECK(!mempool_policy_expired(1000, 1000 + 3600, 3600));
	CHECK(mempool_policy_expired(1000, 1000 + 3601, 3600));
	CHECK(!mempool_policy_expired(1000, 900, 3600)); /* clock went back */

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.fee = 1000, a.vsize = 200, a.time = 10;  /* 5 sat/vB */
	b.fee = 3000, b.vsize = 300, b.time = 20;  /* 10 sat/vB */
	memset(a.tx.txid, 1, 32);
	memset(b.tx.txid, 2, 32);
	CHECK(mempool_policy_evict_cmp(&a, &b) < 0);   /* lower rate goes first */
	CHECK(mempool_policy_evict_cmp(&b, &a) > 0);
	CHECK(mempool_policy_select_cmp(&b, &a) < 0);  /* higher rate mined first */
	CHECK(mempool_policy_select_cmp(&a, &b) > 0);
	b.fee = 2000, b.vsize = 400;                   /* equal rates */
	CHECK(mempool_policy_evict_cmp(&b, &a) < 0);   /* the newer goes first */
	CHECK(mempool_policy_select_cmp(&a, &b) < 0);  /* the older is mined first */
	b.time = a.time;                               /* then by txid */
	CHECK(mempool_policy_evict_cmp(&a, &b) < 0);
	CHECK(mempool_policy_select_cmp(&a, &b) < 0);
	CHECK_EQ_INT(mempool_policy_evict_cmp(&a, &a), 0);
}

/* ---- Over a real chain ------------------------------------------------------ */

#define FX_MAX_HEIGHT 200

struct fixture {
	char dir[64];
	struct chainstate *cs;
	struct mempool *mp;
	struct key k, other;
	uint8_t spk[SCRIPT_P2PKH_LEN];
	uint8_t cb[FX_MAX_HEIGHT + 1][32]; /* coinbase txid by height */
};

/* Mine one block: the given transactions, or the mempool's best when txs
 * is NULL. Returns 0 or -1. */
static int fx_mine(struct fixture *f, const struct tx *txs, size_t n)
{
	char reason[CHAIN_REASON_MAX];
	struct block b;
	bool is_new;
	int rc;

	if (miner_create_block(f->cs, txs ? NULL : f->mp, f->spk, sizeof(f->spk), txs, n, &b,
			       reason) < 0) {
		fprintf(stderr, "  miner: %s\n", reason);
		return -1;
	}
	rc = chainstate_process_block(f->cs, &b, &is_new, reason);
	if (rc < 0)
		fprintf(stderr, "  block: %s\n", reason);
	else if (chainstate_height(f->cs) <= FX_MAX_HEIGHT)
		memcpy(f->cb[chainstate_height(f->cs)], b.txs[0].txid, 32);
	block_clear(&b);
	return rc;
}

static int fx_open(struct fixture *f, const struct mempool_params *mpp, int blocks)
{
	struct chain_params cp = { 8 << 20, 3600 };
	struct chain_listener l = { mempool_block_connected, mempool_block_disconnected, NULL };
	uint8_t secret[32];
	char err[256];

	memset(f, 0, sizeof(*f));
	if (!unit_tmpdir(f->dir, sizeof(f->dir), "mempool"))
		return -1;
	f->cs = chainstate_open(f->dir, &cp, err, sizeof(err));
	if (!f->cs) {
		fprintf(stderr, "  chainstate_open: %s\n", err);
		return -1;
	}
	f->mp = mempool_new(f->cs, mpp);
	if (!f->mp)
		return -1;
	l.ctx = f->mp;
	chainstate_listen(f->cs, &l);
	memset(secret, 0x11, 32);
	if (key_from_secret(&f->k, secret) < 0)
		return -1;
	memset(secret, 0x22, 32);
	if (key_from_secret(&f->other, secret) < 0)
		return -1;
	script_p2pkh(f->k.h160, f->spk);
	for (int i = 0; i < blocks; i++)
		if (fx_mine(f, NULL, 0) < 0)
			return -1;
	return 0;
}

static void fx_close(struct fixture *f)
{
	chainstate_close(f->cs); /* before the mempool: no more notifications */
	mempool_free(f->mp);
	unit_rmtree(f->dir);
}

static const struct mempool_params default_params = { 300000000, 14 * 24 * 3600,
						      MEMPOOL_DEFAULT_MIN_RELAY_FEERATE };

static struct outpoint op_of(const uint8_t txid[32], uint32_t n)
{
	struct outpoint o;

	memcpy(o.txid, txid, 32);
	o.n = n;
	return o;
}

/*
 * A transaction spending ins (all paying to key k) to n_out P2PKH outputs
 * of the given values (to `to`, or k's own script), signed by `signer`.
 */
static struct tx make_tx(const struct key *signer, const struct outpoint *ins, size_t n_in,
			 const int64_t *values, size_t n_out, const uint8_t *to_spk)
{
	struct tx t;
	uint8_t spk[SCRIPT_P2PKH_LEN];

	memset(&t, 0, sizeof(t));
	t.version = 1;
	script_p2pkh(signer->h160, spk);
	t.n_in = n_in;
	t.n_out = n_out;
	t.vin = calloc(n_in, sizeof(*t.vin));
	t.vout = calloc(n_out, sizeof(*t.vout));
	for (size_t i = 0; i < n_in; i++) {
		t.vin[i].prevout = ins[i];
		t.vin[i].sequence = 0xffffffffu;
	}
	for (size_t i = 0; i < n_out; i++) {
		t.vout[i].value = values[i];
		t.vout[i].script_pubkey_len = SCRIPT_P2PKH_LEN;
		t.vout[i].script_pubkey = malloc(SCRIPT_P2PKH_LEN);
		memcpy(t.vout[i].script_pubkey, to_spk ? to_spk : spk, SCRIPT_P2PKH_LEN);
	}
	tx_finalize(&t);
	for (size_t i = 0; i < n_in; i++)
		key_sign_p2pkh_input(signer, &t, i);
	return t;
}

/* One input, one output of value to ourselves. */
static struct tx spend1(struct fixture *f, const uint8_t txid[32], uint32_t n, int64_t value)
{
	struct outpoint o = op_of(txid, n);

	return make_tx(&f->k, &o, 1, &value, 1, NULL);
}

#define SUBSIDY (50 * COIN)

static int accept(struct fixture *f, const struct tx *t, char reason[CHAIN_REASON_MAX])
{
	reason[0] = 0;
	return mempool_accept(f->mp, t, false, NULL, NULL, reason);
}

UNIT_TEST(mempool_accepts_and_rejects)
{
	struct fixture f;
	char reason[CHAIN_REASON_MAX];
	int64_t fee = -1;
	int32_t vsize = -1;

	REQUIRE(fx_open(&f, &default_params, 102) == 0);
	CHECK_EQ_INT(chainstate_height(f.cs), 102);

	/* A mature coinbase spent: accepted, counted. */
	struct tx a = spend1(&f, f.cb[1], 0, SUBSIDY - 10000);
	CHECK_EQ_INT(mempool_accept(f.mp, &a, false, &fee, &vsize, reason), 0);
	CHECK_EQ_INT(fee, 10000);
	CHECK_EQ_INT(vsize, (int32_t)a.size);
	CHECK_EQ_INT(mempool_count(f.mp), 1);
	CHECK_EQ_INT(mempool_bytes(f.mp), a.size);
	CHECK_EQ_INT(mempool_total_fee(f.mp), 10000);
	CHECK(mempool_usage(f.mp) > a.size);
	const struct mempool_entry *e = mempool_get(f.mp, a.txid);
	CHECK(e && e->fee == 10000 && e->vsize == (int32_t)a.size && e->height == 102);
	CHECK(e && e->time > 0 && memcmp(e->tx.txid, a.txid, 32) == 0);

	CHECK_EQ_INT(accept(&f, &a, reason), -1);
	CHECK_EQ_STR(reason, "txn-already-in-mempool");

	/* A child of an unconfirmed parent. */
	struct tx b = spend1(&f, a.txid, 0, SUBSIDY - 20000);
	CHECK_EQ_INT(accept(&f, &b, reason), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 2);
	CHECK_EQ_INT(mempool_total_fee(f.mp), 20000);

	/* test_only: fee and size reported, nothing changes. */
	struct tx c = spend1(&f, f.cb[2], 0, SUBSIDY - 5000);
	fee = vsize = 0;
	CHECK_EQ_INT(mempool_accept(f.mp, &c, true, &fee, &vsize, reason), 0);
	CHECK_EQ_INT(fee, 5000);
	CHECK_EQ_INT(vsize, (int32_t)c.size);
	CHECK_EQ_INT(mempool_count(f.mp), 2);
	CHECK(!mempool_get(f.mp, c.txid));

	/* Below the relay fee (1 sat/vB). */
	struct tx cheap = spend1(&f, f.cb[2], 0, SUBSIDY - 100);
	CHECK_EQ_INT(accept(&f, &cheap, reason), -1);
	CHECK_EQ_STR(reason, "min relay fee not met");
	struct tx exact = spend1(&f, f.cb[2], 0, SUBSIDY - (int64_t)cheap.size);
	CHECK_EQ_INT(mempool_accept(f.mp, &exact, true, NULL, NULL, reason), 0);

	/* An immature coinbase (height 102 at spend height 103). */
	struct tx young = spend1(&f, f.cb[102], 0, SUBSIDY - 10000);
	CHECK_EQ_INT(accept(&f, &young, reason), -1);
	CHECK_EQ_STR(reason, "bad-txns-premature-spend-of-coinbase");

	/* Missing input, and a parent output that does not exist. */
	uint8_t nowhere[32];
	memset(nowhere, 0x5a, 32);
	struct tx lost = spend1(&f, nowhere, 0, COIN);
	CHECK_EQ_INT(accept(&f, &lost, reason), -1);
	CHECK_EQ_STR(reason, "bad-txns-inputs-missingorspent");
	struct tx past = spend1(&f, a.txid, 5, COIN);
	CHECK_EQ_INT(accept(&f, &past, reason), -1);
	CHECK_EQ_STR(reason, "bad-txns-inputs-missingorspent");

	/* Spending more than the input. */
	struct tx greedy = spend1(&f, f.cb[3], 0, SUBSIDY + 1);
	CHECK_EQ_INT(accept(&f, &greedy, reason), -1);
	CHECK_EQ_STR(reason, "bad-txns-in-belowout");

	/* Signed with the wrong key. */
	struct outpoint o3 = op_of(f.cb[3], 0);
	int64_t v3 = SUBSIDY - 10000;
	struct tx forged = make_tx(&f.other, &o3, 1, &v3, 1, f.spk);
	CHECK_EQ_INT(accept(&f, &forged, reason), -1);
	CHECK(strncmp(reason, "mandatory-script-verify-flag-failed", 35) == 0);

	/* A non-P2PKH output. */
	struct tx odd = spend1(&f, f.cb[3], 0, SUBSIDY - 10000);
	odd.vout[0].script_pubkey[0] = 0x51;
	tx_finalize(&odd);
	key_sign_p2pkh_input(&f.k, &odd, 0);
	CHECK_EQ_INT(accept(&f, &odd, reason), -1);
	CHECK_EQ_STR(reason, "scriptpubkey");

	/* A coinbase is never accepted. */
	struct block blk;
	char err[256];
	CHECK_EQ_INT(chainstate_read_block(f.cs, chainstate_at(f.cs, 5), &blk, err, sizeof(err)), 0);
	CHECK_EQ_INT(accept(&f, &blk.txs[0], reason), -1);
	CHECK_EQ_STR(reason, "coinbase");
	block_clear(&blk);

	CHECK_EQ_INT(mempool_count(f.mp), 2);
	CHECK_EQ_INT(mempool_total_fee(f.mp), 20000);
	CHECK_EQ_INT(mempool_bytes(f.mp), a.size + b.size);

	tx_clear(&a), tx_clear(&b), tx_clear(&c), tx_clear(&cheap), tx_clear(&exact);
	tx_clear(&young), tx_clear(&lost), tx_clear(&past), tx_clear(&greedy);
	tx_clear(&forged), tx_clear(&odd);
	fx_close(&f);
}

UNIT_TEST(mempool_uncaches_coins_of_rejected_and_test_only)
{
	struct fixture f;
	char reason[CHAIN_REASON_MAX];

	REQUIRE(fx_open(&f, &default_params, 102) == 0);
	struct coins_cache *cc = chainstate_coins(f.cs);
	struct outpoint o4 = op_of(f.cb[3], 0);
	int64_t v = SUBSIDY - 10000;
	struct tx forged = make_tx(&f.other, &o4, 1, &v, 1, f.spk);
	struct tx good = spend1(&f, f.cb[3], 0, v);

	CHECK_EQ_INT(chainstate_flush(f.cs, COINS_FLUSH_ALWAYS), 0);
	CHECK(!coins_in_cache(cc, &o4));
	CHECK_EQ_INT(accept(&f, &forged, reason), -1);
	CHECK(!coins_in_cache(cc, &o4));
	CHECK_EQ_INT(mempool_accept(f.mp, &good, true, NULL, NULL, reason), 0);
	CHECK(!coins_in_cache(cc, &o4));
	CHECK_EQ_INT(accept(&f, &good, reason), 0);
	CHECK(coins_in_cache(cc, &o4)); /* kept: a block will spend it */

	tx_clear(&forged), tx_clear(&good);
	fx_close(&f);
}

UNIT_TEST(mempool_replacement_with_descendants)
{
	struct fixture f;
	char reason[CHAIN_REASON_MAX];

	REQUIRE(fx_open(&f, &default_params, 102) == 0);
	/* a: cb1 -> two outputs, fee 10000; b: a:0 -> fee 10000. */
	struct outpoint o1 = op_of(f.cb[1], 0);
	int64_t two[2] = { COIN, SUBSIDY - COIN - 10000 };
	struct tx a = make_tx(&f.k, &o1, 1, two, 2, NULL);
	struct tx b = spend1(&f, a.txid, 0, COIN - 10000);
	CHECK_EQ_INT(accept(&f, &a, reason), 0);
	CHECK_EQ_INT(accept(&f, &b, reason), 0);

	/* Lower fee than a: refused. */
	struct tx low = spend1(&f, f.cb[1], 0, SUBSIDY - 5000);
	CHECK_EQ_INT(accept(&f, &low, reason), -1);
	CHECK_EQ_STR(reason, "insufficient fee");
	/* A higher fee rate than both, but not their fees plus its relay fee. */
	struct tx mid = spend1(&f, f.cb[1], 0, SUBSIDY - 20000);
	CHECK_EQ_INT(accept(&f, &mid, reason), -1);
	CHECK_EQ_STR(reason, "insufficient fee");
	/* Spending an output of what it replaces. */
	struct outpoint both[2] = { op_of(f.cb[1], 0), op_of(a.txid, 1) };
	int64_t big = SUBSIDY - 100000;
	struct tx self = make_tx(&f.k, both, 2, &big, 1, NULL);
	CHECK_EQ_INT(accept(&f, &self, reason), -1);
	CHECK_EQ_STR(reason, "txn-mempool-conflict");
	CHECK_EQ_INT(mempool_count(f.mp), 2);

	/* Enough: 20000 + relay fee for its size. test_only first. */
	struct tx probe = spend1(&f, f.cb[1], 0, SUBSIDY - 20000 - 191);
	int64_t need = 20000 + mempool_policy_min_fee(MEMPOOL_DEFAULT_MIN_RELAY_FEERATE,
						       (int32_t)probe.size);
	struct tx good = spend1(&f, f.cb[1], 0, SUBSIDY - need);
	struct tx short1 = spend1(&f, f.cb[1], 0, SUBSIDY - need + 1);
	CHECK_EQ_INT(good.size, probe.size);
	if (short1.size == good.size) {
		CHECK_EQ_INT(accept(&f, &short1, reason), -1);
		CHECK_EQ_STR(reason, "insufficient fee");
	}
	CHECK_EQ_INT(mempool_accept(f.mp, &good, true, NULL, NULL, reason), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 2);
	CHECK_EQ_INT(accept(&f, &good, reason), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 1);
	CHECK(!mempool_get(f.mp, a.txid));
	CHECK(!mempool_get(f.mp, b.txid));
	CHECK(mempool_get(f.mp, good.txid) != NULL);
	CHECK_EQ_INT(mempool_total_fee(f.mp), need);
	CHECK_EQ_INT(mempool_bytes(f.mp), good.size);

	tx_clear(&a), tx_clear(&b), tx_clear(&low), tx_clear(&mid), tx_clear(&self);
	tx_clear(&probe), tx_clear(&good), tx_clear(&short1);
	fx_close(&f);
}

UNIT_TEST(mempool_block_template_and_blocks)
{
	struct fixture f;
	char reason[CHAIN_REASON_MAX];
	const struct mempool_entry **sel;
	size_t n;

	REQUIRE(fx_open(&f, &default_params, 103) == 0);
	/* a (1000 sat) -> b (50000 sat, child), c (20000 sat). */
	struct tx a = spend1(&f, f.cb[1], 0, SUBSIDY - 1000);
	struct tx b = spend1(&f, a.txid, 0, SUBSIDY - 1000 - 50000);
	struct tx c = spend1(&f, f.cb[2], 0, SUBSIDY - 20000);
	CHECK_EQ_INT(accept(&f, &a, reason), 0);
	CHECK_EQ_INT(accept(&f, &b, reason), 0);
	CHECK_EQ_INT(accept(&f, &c, reason), 0);

	n = mempool_select_for_block(f.mp, MAX_BLOCK_SIZE, &sel);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK(memcmp(sel[0]->tx.txid, c.txid, 32) == 0);
		CHECK(memcmp(sel[1]->tx.txid, a.txid, 32) == 0);
		CHECK(memcmp(sel[2]->tx.txid, b.txid, 32) == 0);
	}
	free(sel);
	n = mempool_select_for_block(f.mp, c.size + a.size - 1, &sel);
	CHECK_EQ_INT(n, 1); /* a does not fit, so b cannot come either */
	free(sel);
	n = mempool_select_for_block(f.mp, 0, &sel);
	CHECK_EQ_INT(n, 0);
	free(sel);

	/* A block with a only: a goes ("block"), its child stays. */
	CHECK_EQ_INT(fx_mine(&f, &a, 1), 0);
	CHECK(!mempool_get(f.mp, a.txid));
	CHECK(mempool_get(f.mp, b.txid) != NULL);
	CHECK(mempool_get(f.mp, c.txid) != NULL);

	/* A block double-spending c's input: c goes ("conflict") with its child. */
	struct tx cc = spend1(&f, c.txid, 0, SUBSIDY - 30000);
	CHECK_EQ_INT(accept(&f, &cc, reason), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 3);
	struct tx rival = spend1(&f, f.cb[2], 0, SUBSIDY - 1);
	CHECK_EQ_INT(fx_mine(&f, &rival, 1), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 1);
	CHECK(!mempool_get(f.mp, c.txid));
	CHECK(!mempool_get(f.mp, cc.txid));

	/* Mining from the mempool empties it. */
	CHECK_EQ_INT(fx_mine(&f, NULL, 0), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 0);
	CHECK_EQ_INT(mempool_bytes(f.mp), 0);
	CHECK_EQ_INT(mempool_total_fee(f.mp), 0);

	tx_clear(&a), tx_clear(&b), tx_clear(&c), tx_clear(&cc), tx_clear(&rival);
	fx_close(&f);
}

UNIT_TEST(mempool_reorg)
{
	struct fixture f;
	char reason[CHAIN_REASON_MAX];

	REQUIRE(fx_open(&f, &default_params, 102) == 0);
	/* a mined at 103 with its child b left in the pool. */
	struct tx a = spend1(&f, f.cb[1], 0, SUBSIDY - 10000);
	struct tx b = spend1(&f, a.txid, 0, SUBSIDY - 20000);
	CHECK_EQ_INT(accept(&f, &a, reason), 0);
	CHECK_EQ_INT(fx_mine(&f, &a, 1), 0);
	CHECK_EQ_INT(chainstate_height(f.cs), 103);
	CHECK_EQ_INT(accept(&f, &b, reason), 0);
	/* m spends the coinbase of 4, mature at spend height 104 only. */
	struct tx m = spend1(&f, f.cb[4], 0, SUBSIDY - 10000);
	CHECK_EQ_INT(accept(&f, &m, reason), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 2);

	uint8_t tip[32];
	memcpy(tip, chainstate_tip(f.cs)->hash, 32);
	CHECK_EQ_INT(chainstate_invalidate(f.cs, tip, reason), 0);
	CHECK_EQ_INT(chainstate_height(f.cs), 102);
	/* a is back, b still spends it, m went ("reorg"). */
	CHECK(mempool_get(f.mp, a.txid) != NULL);
	CHECK(mempool_get(f.mp, b.txid) != NULL);
	CHECK(!mempool_get(f.mp, m.txid));
	CHECK_EQ_INT(mempool_count(f.mp), 2);
	CHECK_EQ_INT(mempool_total_fee(f.mp), 20000);

	/* Back again: a mined again, b stays. */
	CHECK_EQ_INT(chainstate_reconsider(f.cs, tip, reason), 0);
	CHECK_EQ_INT(chainstate_height(f.cs), 103);
	CHECK(!mempool_get(f.mp, a.txid));
	CHECK(mempool_get(f.mp, b.txid) != NULL);

	tx_clear(&a), tx_clear(&b), tx_clear(&m);
	fx_close(&f);
}

UNIT_TEST(mempool_expiry_and_size_limit)
{
	struct mempool_params p = default_params;
	struct fixture f;
	char reason[CHAIN_REASON_MAX];

	p.max_bytes = 300;
	p.expiry_s = 3600;
	REQUIRE(fx_open(&f, &p, 102) == 0);
	struct tx a = spend1(&f, f.cb[1], 0, SUBSIDY - 1000);
	struct tx b = spend1(&f, a.txid, 0, SUBSIDY - 1000 - 50000);
	struct tx c = spend1(&f, f.cb[2], 0, SUBSIDY - 20000);
	CHECK_EQ_INT(accept(&f, &a, reason), 0);
	CHECK_EQ_INT(accept(&f, &b, reason), 0);
	CHECK_EQ_INT(accept(&f, &c, reason), 0);
	CHECK(a.size + b.size + c.size > 300 && c.size <= 300);

	/* The lowest fee rate (a) goes with its child, though b pays most. */
	int64_t now = util_time_s();
	mempool_trim(f.mp, now);
	CHECK_EQ_INT(mempool_count(f.mp), 1);
	CHECK(mempool_get(f.mp, c.txid) != NULL);
	CHECK_EQ_INT(mempool_bytes(f.mp), c.size);

	/* Expiry: not yet at exactly expiry_s, gone after. */
	const struct mempool_entry *e = mempool_get(f.mp, c.txid);
	int64_t t0 = e ? e->time : now;
	mempool_trim(f.mp, t0 + 3600);
	CHECK_EQ_INT(mempool_count(f.mp), 1);
	mempool_trim(f.mp, t0 + 3601);
	CHECK_EQ_INT(mempool_count(f.mp), 0);
	CHECK_EQ_INT(mempool_bytes(f.mp), 0);
	CHECK_EQ_INT(mempool_total_fee(f.mp), 0);

	tx_clear(&a), tx_clear(&b), tx_clear(&c);
	fx_close(&f);
}

/* A reorganisation re-adds transactions past the size limit; the first
 * block of the new chain trims them back ("sizelimit"). */
UNIT_TEST(mempool_size_limit_after_reorg)
{
	struct mempool_params p = default_params;
	struct fixture f;
	char reason[CHAIN_REASON_MAX];
	uint8_t tip[32];

	p.max_bytes = 300;
	REQUIRE(fx_open(&f, &p, 102) == 0);
	struct tx a = spend1(&f, f.cb[1], 0, SUBSIDY - 1000);
	struct tx c = spend1(&f, f.cb[2], 0, SUBSIDY - 20000);
	struct tx both[2] = { a, c };
	CHECK_EQ_INT(fx_mine(&f, both, 2), 0);
	memcpy(tip, chainstate_tip(f.cs)->hash, 32);
	CHECK_EQ_INT(chainstate_invalidate(f.cs, tip, reason), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 2);       /* back, over the limit */
	CHECK(mempool_bytes(f.mp) > 300);
	/* The new chain's block (empty) connects: the lowest fee rate goes. */
	CHECK_EQ_INT(fx_mine(&f, both, 0), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 1);
	CHECK(mempool_get(f.mp, c.txid) != NULL);
	CHECK(!mempool_get(f.mp, a.txid));
	tx_clear(&a), tx_clear(&c);
	fx_close(&f);
}

/* Many entries: the tables grow, chains of children, removal keeps the
 * counters right. */
UNIT_TEST(mempool_many_entries)
{
	struct fixture f;
	char reason[CHAIN_REASON_MAX];
	struct tx chain[150];
	size_t n = 0;
	const struct mempool_entry **sel;

	REQUIRE(fx_open(&f, &default_params, 102) == 0);
	/* 100 outputs from one coinbase, then each spent, then a chain of 49. */
	struct outpoint o1 = op_of(f.cb[1], 0);
	int64_t vals[100];
	for (int i = 0; i < 100; i++)
		vals[i] = SUBSIDY / 100 - 1000;
	chain[n] = make_tx(&f.k, &o1, 1, vals, 100, NULL);
	CHECK_EQ_INT(accept(&f, &chain[n], reason), 0);
	n++;
	for (uint32_t i = 0; i < 100; i++, n++) {
		chain[n] = spend1(&f, chain[0].txid, i, SUBSIDY / 100 - 1000 - 1000 - i);
		CHECK_EQ_INT(accept(&f, &chain[n], reason), 0);
	}
	for (int i = 0; i < 49; i++, n++) {
		chain[n] = spend1(&f, chain[n - 1].txid, 0, chain[n - 1].vout[0].value - 1000);
		CHECK_EQ_INT(accept(&f, &chain[n], reason), 0);
	}
	CHECK_EQ_INT(mempool_count(f.mp), 150);
	size_t k = mempool_select_for_block(f.mp, MAX_BLOCK_SIZE, &sel);
	CHECK_EQ_INT(k, 150);
	if (k == 150) {
		CHECK(memcmp(sel[0]->tx.txid, chain[0].txid, 32) == 0);
		/* Every parent before its child. */
		for (size_t i = 0; i < k; i++)
			for (size_t j = 0; j < sel[i]->tx.n_in; j++)
				for (size_t q = i + 1; q < k; q++)
					CHECK(memcmp(sel[q]->tx.txid, sel[i]->tx.vin[j].prevout.txid,
						     32) != 0);
	}
	free(sel);
	/* Replacing the root takes all 150 with it: over the limit. */
	struct tx rbf = spend1(&f, f.cb[1], 0, SUBSIDY - COIN);
	CHECK_EQ_INT(accept(&f, &rbf, reason), -1);
	CHECK_EQ_STR(reason, "txn-mempool-conflict");
	/* A block with all of them. */
	CHECK_EQ_INT(fx_mine(&f, NULL, 0), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 0);
	CHECK_EQ_INT(mempool_bytes(f.mp), 0);

	for (size_t i = 0; i < n; i++)
		tx_clear(&chain[i]);
	tx_clear(&rbf);
	fx_close(&f);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(mempool_free_accepts_null)
{
	mempool_free(NULL);
}
