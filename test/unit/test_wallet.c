/*
 * test_wallet.c — the wallet file (walletdb.c) on its own, then a wallet
 * over a real chainstate and mempool in a temporary directory: keys from
 * the seed, balances through maturity, a payment (fee on the real size,
 * change, tracepoint-free paths), insufficient funds and locked coins,
 * reopening (rescan gives the same state), and a block disconnected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "address.h"
#include "chainstate.h"
#include "key.h"
#include "mempool.h"
#include "miner.h"
#include "rpc.h"
#include "script.h"
#include "unit.h"
#include "util.h"
#include "wallet.h"
#include "wallet_manager.h"
#include "walletdb.h"

/* ---- walletdb ----------------------------------------------------------- */

static int count_key_cb(void *ctx, const struct walletdb_key *k, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*(int *)ctx += (int)k->index + 1;
	return 0;
}

static int check_tx_cb(void *ctx, const struct walletdb_tx *t, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (t->raw_len == 3 && memcmp(t->raw, "abc", 3) == 0 && t->fee == 77 && t->from_me &&
	    strcmp(t->comment, "hi") == 0)
		(*(int *)ctx)++;
	return 0;
}

UNIT_TEST(walletdb_roundtrip_and_errors)
{
	char dir[64], path[128], err[512];
	struct walletdb *db;
	struct walletdb_key k = { .chain = 1, .index = 4, .label = "x", .time = 5 };
	struct walletdb_tx t = { .raw = (const uint8_t *)"abc", .raw_len = 3, .time = 9,
				 .from_me = true, .fee = 77, .comment = "hi" };
	int64_t v = 0;
	int sum = 0, found = 0;
	FILE *f;

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "walletdb") != NULL);
	snprintf(path, sizeof(path), "%s/wallet.dat", dir);
	CHECK(walletdb_open(path, false, err, sizeof(err)) == NULL);   /* missing */
	db = walletdb_open(path, true, err, sizeof(err));
	REQUIRE(db != NULL);
	CHECK_EQ_INT(walletdb_get_i64(db, "nothing", &v, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_begin(db, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_put_i64(db, "n", -42, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_put_key(db, &k, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_put_tx(db, &t, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_commit(db, err, sizeof(err)), 0);
	/* A rolled-back change leaves nothing. */
	CHECK_EQ_INT(walletdb_begin(db, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_put_i64(db, "gone", 1, err, sizeof(err)), 0);
	walletdb_rollback(db);
	walletdb_close(db);
	CHECK(walletdb_open(path, true, err, sizeof(err)) == NULL);    /* exists */
	CHECK(strstr(err, "already exists") != NULL);
	db = walletdb_open(path, false, err, sizeof(err));
	REQUIRE(db != NULL);
	CHECK_EQ_INT(walletdb_get_i64(db, "n", &v, err, sizeof(err)), 1);
	CHECK_EQ_INT(v, -42);
	CHECK_EQ_INT(walletdb_get_i64(db, "gone", &v, err, sizeof(err)), 0);
	CHECK_EQ_INT(walletdb_load_keys(db, count_key_cb, &sum, err, sizeof(err)), 1);
	CHECK_EQ_INT(sum, 5);
	CHECK_EQ_INT(walletdb_load_txs(db, check_tx_cb, &found, err, sizeof(err)), 1);
	CHECK_EQ_INT(found, 1);
	walletdb_close(db);
	/* A file that is not ours: a clear error, and the file is kept. */
	f = fopen(path, "w");
	REQUIRE(f != NULL);
	for (int i = 0; i < 100; i++)
		fputs("not a database, not at all ", f);
	fclose(f);
	CHECK(walletdb_open(path, false, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a database") != NULL);
	unit_rmtree(dir);
}

/* ---- A wallet over a chain ------------------------------------------------ */

struct fixture {
	char dir[64], wdir[96];
	struct chainstate *cs;
	struct mempool *mp;
	struct wallet *w;
	struct wallet_options o;
};

/* Forward chain and mempool events to the fixture's wallet (the wallet
 * manager's job in the node). */
static void fx_connected(void *ctx, const struct block *b, const struct block_index *bi)
{
	struct fixture *f = ctx;

	if (f->w)
		wallet_block_connected(f->w, b, bi);
}

static void fx_disconnected(void *ctx, const struct block *b, const struct block_index *bi)
{
	struct fixture *f = ctx;

	if (f->w)
		wallet_block_disconnected(f->w, b, bi);
}

static void fx_added(void *ctx, const struct mempool_entry *e)
{
	struct fixture *f = ctx;

	if (f->w)
		wallet_tx_added(f->w, e);
}

static void fx_removed(void *ctx, const struct mempool_entry *e, const char *reason)
{
	struct fixture *f = ctx;

	if (f->w)
		wallet_tx_removed(f->w, e, reason);
}

static int fx_mine_to(struct fixture *f, const uint8_t h160[20], int n)
{
	uint8_t spk[SCRIPT_P2PKH_LEN];
	char reason[CHAIN_REASON_MAX];

	script_p2pkh(h160, spk);
	for (int i = 0; i < n; i++) {
		struct block b;
		bool is_new;
		int rc;

		if (miner_create_block(f->cs, f->mp, spk, sizeof(spk), NULL, 0, &b, reason) < 0)
			return -1;
		rc = chainstate_process_block(f->cs, &b, &is_new, reason);
		block_clear(&b);
		if (rc < 0) {
			fprintf(stderr, "  block: %s\n", reason);
			return -1;
		}
	}
	return 0;
}

static int fx_open(struct fixture *f)
{
	struct chain_params cp = { 8 << 20, 3600 };
	struct mempool_params mpp = { 300000000, 14 * 24 * 3600, 1000 };
	struct chain_listener ml = { mempool_block_connected, mempool_block_disconnected, NULL };
	struct chain_listener wl = { fx_connected, fx_disconnected, NULL };
	struct mempool_listener pl = { fx_added, fx_removed, NULL };
	char err[512];

	memset(f, 0, sizeof(*f));
	if (!unit_tmpdir(f->dir, sizeof(f->dir), "wallet") || key_init() < 0)
		return -1;
	snprintf(f->wdir, sizeof(f->wdir), "%s/w", f->dir);
	if (mkdir(f->wdir, 0700) < 0)
		return -1;
	f->cs = chainstate_open(f->dir, &cp, err, sizeof(err));
	f->mp = f->cs ? mempool_new(f->cs, &mpp) : NULL;
	if (!f->mp)
		return -1;
	ml.ctx = f->mp;
	wl.ctx = pl.ctx = f;
	chainstate_listen(f->cs, &ml);
	chainstate_listen(f->cs, &wl);
	mempool_listen(f->mp, &pl);
	f->o = (struct wallet_options){ 10000, 10000, 10000, 0, false, 1000 };
	f->w = wallet_new("unit", f->wdir, true, f->cs, f->mp, &f->o, NULL, err, sizeof(err));
	if (!f->w)
		fprintf(stderr, "  wallet_new: %s\n", err);
	return f->w ? 0 : -1;
}

static void fx_close(struct fixture *f)
{
	wallet_free(f->w);
	f->w = NULL;
	chainstate_close(f->cs);
	mempool_free(f->mp);
	unit_rmtree(f->dir);
}

static int reopen(struct fixture *f)
{
	char err[512];

	wallet_free(f->w);
	f->w = wallet_new("unit", f->wdir, false, f->cs, f->mp, &f->o, NULL, err, sizeof(err));
	if (!f->w)
		fprintf(stderr, "  wallet_new: %s\n", err);
	return f->w ? 0 : -1;
}

static void mine_addr(struct fixture *f, uint8_t h160[20])
{
	char addr[ADDRESS_MAX], err[256];

	CHECK_EQ_INT(wallet_new_address(f->w, 0, "mining", addr, err, sizeof(err)), 0);
	CHECK_EQ_INT(address_decode(addr, h160), 0);
}

UNIT_TEST(wallet_keys_balances_and_reopen)
{
	struct fixture f;
	struct wallet_balances b;
	uint8_t h160[20];
	char a1[ADDRESS_MAX], a2[ADDRESS_MAX], err[256];

	REQUIRE(fx_open(&f) == 0);
	mine_addr(&f, h160);
	CHECK(wallet_key(f.w, h160, NULL, NULL) != NULL);
	CHECK_EQ_INT(fx_mine_to(&f, h160, 100), 0);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 0);
	CHECK_EQ_INT(b.immature, 100 * 50 * COIN);
	CHECK_EQ_INT(fx_mine_to(&f, h160, 1), 0);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 50 * COIN);     /* the first is 101 deep */
	CHECK_EQ_INT(b.immature, 100 * 50 * COIN);
	CHECK_EQ_INT(wallet_tx_count(f.w), 101);
	/* Keys come from the seed in order: reopening continues the chain
	 * and gives the same balances from a rescan. */
	CHECK_EQ_INT(wallet_new_address(f.w, 0, "", a1, err, sizeof(err)), 0);
	CHECK_EQ_INT(reopen(&f), 0);
	if (!f.w)
		goto out;
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 50 * COIN);
	CHECK_EQ_INT(wallet_tx_count(f.w), 101);
	CHECK_EQ_INT(wallet_key_count(f.w), 2);
	CHECK_EQ_INT(wallet_new_address(f.w, 0, "", a2, err, sizeof(err)), 0);
	CHECK(strcmp(a1, a2) != 0);
	CHECK_EQ_INT(wallet_key_count(f.w), 3);
out:
	fx_close(&f);
}

UNIT_TEST(wallet_send_fee_change_and_errors)
{
	struct fixture f;
	struct wallet_balances b;
	struct key other;
	uint8_t h160[20], secret[32];
	struct wallet_recipient to;
	struct wallet_send_request req = { &to, 1, 20000, "unit" };
	struct wallet_send_result res;
	struct wallet_error e;
	const struct wallet_tx *wtx;
	struct outpoint op;

	REQUIRE(fx_open(&f) == 0);
	mine_addr(&f, h160);
	CHECK_EQ_INT(fx_mine_to(&f, h160, 102), 0);        /* two mature coinbases */
	memset(secret, 0x33, 32);
	CHECK_EQ_INT(key_from_secret(&other, secret), 0);
	memcpy(to.h160, other.h160, 20);

	/* More than the two coins: insufficient funds, nothing changes. */
	to.amount = 100 * COIN + 1;
	CHECK_EQ_INT(wallet_send(f.w, &req, &res, &e), -1);
	CHECK_EQ_INT(e.kind, WALLET_ERR_INSUFFICIENT_FUNDS);
	CHECK_EQ_INT(mempool_count(f.mp), 0);
	/* Dust and a fee rate below the relay minimum are refused. */
	to.amount = 100;
	CHECK_EQ_INT(wallet_send(f.w, &req, &res, &e), -1);
	CHECK_EQ_INT(e.kind, WALLET_ERR_FAILED);
	to.amount = COIN;
	req.feerate = 999;
	CHECK_EQ_INT(wallet_send(f.w, &req, &res, &e), -1);
	req.feerate = 20000;

	/* A payment: one coin, change back, the fee from the signed size (a
	 * vbyte more at most), in the mempool and the wallet. */
	CHECK_EQ_INT(wallet_send(f.w, &req, &res, &e), 0);
	wtx = wallet_get_tx(f.w, res.txid);
	CHECK(wtx != NULL && wtx->from_me && wtx->in_mempool);
	if (!wtx)
		goto out;
	CHECK_EQ_INT(wtx->tx.n_in, 1);
	CHECK_EQ_INT(wtx->tx.n_out, 2);
	CHECK(res.change_pos == 0 || res.change_pos == 1);
	/* 20 sat/vB of the signed size, or a vbyte more (wallet_send.c). */
	CHECK(res.fee >= 20 * (int64_t)wtx->tx.size && res.fee <= 20 * (int64_t)wtx->tx.size + 20);
	CHECK_EQ_INT(wtx->tx.vout[1 - res.change_pos].value, COIN);
	CHECK_EQ_INT(wallet_tx_debit(f.w, wtx) - wallet_tx_credit(f.w, wtx), COIN + res.fee);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 100 * COIN - COIN - res.fee);
	CHECK(mempool_get(f.mp, res.txid) != NULL);

	/* Locking the only other mature coin: a payment needing it fails. */
	memcpy(op.txid, wtx->tx.vin[0].prevout.txid, 32);
	op.n = 0;
	CHECK_EQ_INT(wallet_lock_coin(f.w, &op, true), -1);   /* spent: not lockable */
	to.amount = 60 * COIN;
	CHECK_EQ_INT(wallet_send(f.w, &req, &res, &e), 0);    /* both coins */
	CHECK_EQ_INT(wallet_get_tx(f.w, res.txid)->tx.n_in, 2);

	/* Mined: confirmed; reopened: the same, from the file and a rescan. */
	CHECK_EQ_INT(fx_mine_to(&f, other.h160, 1), 0);
	CHECK_EQ_INT(mempool_count(f.mp), 0);
	CHECK_EQ_INT(wallet_tx_depth(f.w, wallet_get_tx(f.w, res.txid)), 1);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(reopen(&f), 0);
	if (f.w) {
		struct wallet_balances b2;

		wallet_balances(f.w, &b2);
		CHECK_EQ_INT(b2.trusted, b.trusted);
		CHECK_EQ_INT(b2.immature, b.immature);
		CHECK_EQ_INT(wallet_tx_depth(f.w, wallet_get_tx(f.w, res.txid)), 1);
		CHECK(wallet_get_tx(f.w, res.txid)->from_me);
	}
out:
	fx_close(&f);
}

UNIT_TEST(wallet_follows_disconnect)
{
	struct fixture f;
	uint8_t h160[20], tip[32];
	char reason[CHAIN_REASON_MAX];
	struct wallet_balances b;

	REQUIRE(fx_open(&f) == 0);
	mine_addr(&f, h160);
	CHECK_EQ_INT(fx_mine_to(&f, h160, 101), 0);
	memcpy(tip, chainstate_tip(f.cs)->hash, 32);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 50 * COIN);
	/* The tip leaves the chain: its coinbase is conflicted (not counted),
	 * the first coinbase is 100 deep again, immature. */
	CHECK_EQ_INT(chainstate_invalidate(f.cs, tip, reason), 0);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 0);
	CHECK_EQ_INT(b.immature, 100 * 50 * COIN);
	CHECK_EQ_INT(chainstate_reconsider(f.cs, tip, reason), 0);
	wallet_balances(f.w, &b);
	CHECK_EQ_INT(b.trusted, 50 * COIN);
	fx_close(&f);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(wallet_free_functions_accept_null)
{
	wallet_free(NULL);
	wallet_manager_free(NULL);
}
