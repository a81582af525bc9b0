/*
 * test_coins.c — the coins cache's DIRTY/FRESH bookkeeping against a real
 * LevelDB in a temporary directory: what a flush writes, what it deletes,
 * what it never needs to touch, and uncaching.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coins.h"
#include "db.h"
#include "script.h"
#include "unit.h"

static struct db *temp_db(char dir[64])
{
	char err[256];

	if (!unit_tmpdir(dir, 64, "coins"))
		return NULL;
	return db_open(dir, 1 << 20, err, sizeof(err));
}

static struct outpoint op(uint8_t tag, uint32_t n)
{
	struct outpoint o;

	memset(&o, 0, sizeof(o));
	memset(o.txid, tag, 32);
	o.n = n;
	return o;
}

static struct coin make_coin(int64_t value, uint32_t height)
{
	struct coin c = { value, malloc(SCRIPT_P2PKH_LEN), SCRIPT_P2PKH_LEN, height, false };
	uint8_t h[20] = { 7 };

	script_p2pkh(h, c.script);
	return c;
}

static int count_cb(void *ctx, const struct outpoint *o, const struct coin *c)
{
	(void)o;
	(void)c;
	++*(int *)ctx;
	return 0;
}

static int db_coins(struct db *db)
{
	char err[256];
	int n = 0;

	return coins_db_foreach(db, count_cb, &n, err, sizeof(err)) == 0 ? n : -1;
}

UNIT_TEST(coins_fresh_coin_spent_before_flush_never_reaches_disk)
{
	char dir[64], err[256];
	struct db *db = temp_db(dir);
	struct coins_cache *c = coins_cache_new(db, 1 << 20);
	struct outpoint a = op(1, 0);
	struct coin coin = make_coin(500, 3), out;

	REQUIRE(db && c);
	CHECK_EQ_INT(coins_add(c, &a, &coin, false), 0);
	CHECK(coin.script == NULL); /* moved in */
	CHECK_EQ_INT((int)coins_cache_count(c), 1);
	CHECK_EQ_INT(coins_spend(c, &a, &out), 0);
	CHECK_EQ_INT((int)out.value, 500);
	coin_clear(&out);
	/* FRESH + spent: forgotten at once, nothing to delete on disk. */
	CHECK_EQ_INT((int)coins_cache_count(c), 0);
	CHECK(coins_get(c, &a) == NULL);
	CHECK_EQ_INT(coins_flush(c, COINS_FLUSH_ALWAYS, false, err, sizeof(err)), 0);
	CHECK_EQ_INT(db_coins(db), 0);
	coins_cache_free(c);
	db_close(db);
	unit_rmtree(dir);
}

UNIT_TEST(coins_flush_writes_dirty_and_deletes_spent)
{
	char dir[64], err[256];
	struct db *db = temp_db(dir);
	struct coins_cache *c = coins_cache_new(db, 1 << 20);
	struct outpoint a = op(1, 0), b = op(1, 1), d = op(2, 0);
	struct coin ca = make_coin(100, 1), cb = make_coin(200, 1), cd = make_coin(300, 2);
	uint8_t best[32] = { 9 }, got[32];

	REQUIRE(db && c);
	coins_add(c, &a, &ca, false);
	coins_add(c, &b, &cb, false);
	coins_add(c, &d, &cd, false);
	coins_set_best_block(c, best);
	CHECK_EQ_INT(coins_flush(c, COINS_FLUSH_ALWAYS, false, err, sizeof(err)), 0);
	CHECK_EQ_INT(db_coins(db), 3);
	CHECK_EQ_INT(coins_db_best_block(db, got, err, sizeof(err)), 1);
	CHECK(memcmp(got, best, 32) == 0);
	/* Kept after a non-erasing flush, now clean: spending marks DIRTY and
	 * the next flush deletes the record. */
	CHECK_EQ_INT((int)coins_cache_count(c), 3);
	CHECK_EQ_INT(coins_spend(c, &b, NULL), 0);
	CHECK_EQ_INT((int)coins_cache_count(c), 3); /* spent, kept until written */
	CHECK_EQ_INT(coins_flush(c, COINS_FLUSH_ALWAYS, true, err, sizeof(err)), 0);
	CHECK_EQ_INT(db_coins(db), 2);
	CHECK_EQ_INT((int)coins_cache_count(c), 0); /* erased */
	/* Read back through an empty cache. */
	const struct coin *back = coins_get(c, &d);
	CHECK(back && back->value == 300 && back->height == 2 && !back->coinbase);
	CHECK(coins_get(c, &b) == NULL);
	CHECK(!coins_cache_failed(c));
	coins_cache_free(c);
	db_close(db);
	unit_rmtree(dir);
}

UNIT_TEST(coins_overwriting_an_unspent_coin_is_refused)
{
	char dir[64];
	struct db *db = temp_db(dir);
	struct coins_cache *c = coins_cache_new(db, 1 << 20);
	struct outpoint a = op(3, 0);
	struct coin c1 = make_coin(1, 1), c2 = make_coin(2, 1), c3 = make_coin(3, 1);

	REQUIRE(db && c);
	CHECK_EQ_INT(coins_add(c, &a, &c1, false), 0);
	CHECK_EQ_INT(coins_add(c, &a, &c2, false), -1);
	coin_clear(&c2);
	CHECK_EQ_INT(coins_add(c, &a, &c3, true), 0); /* undo restores may overwrite */
	CHECK_EQ_INT((int)coins_get(c, &a)->value, 3);
	coins_cache_free(c);
	db_close(db);
	unit_rmtree(dir);
}

UNIT_TEST(coins_uncache_drops_only_unmodified_entries)
{
	char dir[64], err[256];
	struct db *db = temp_db(dir);
	struct coins_cache *c = coins_cache_new(db, 1 << 20);
	struct outpoint a = op(4, 0), b = op(4, 1);
	struct coin ca = make_coin(10, 5), cb = make_coin(20, 5);

	REQUIRE(db && c);
	coins_add(c, &a, &ca, false);
	coins_flush(c, COINS_FLUSH_ALWAYS, true, err, sizeof(err));
	CHECK(!coins_in_cache(c, &a));
	CHECK(coins_get(c, &a) != NULL); /* loaded from disk: clean */
	CHECK(coins_in_cache(c, &a));
	coins_uncache(c, &a);
	CHECK(!coins_in_cache(c, &a));
	coins_add(c, &b, &cb, false); /* FRESH + DIRTY: must stay */
	coins_uncache(c, &b);
	CHECK(coins_in_cache(c, &b));
	coins_cache_free(c);
	db_close(db);
	unit_rmtree(dir);
}

UNIT_TEST(coins_usage_follows_entries)
{
	char dir[64];
	struct db *db = temp_db(dir);
	struct coins_cache *c = coins_cache_new(db, 1 << 20);
	size_t empty = coins_cache_usage(c);

	REQUIRE(db && c);
	for (uint32_t i = 0; i < 5000; i++) { /* grows the table too */
		struct outpoint o = op(5, i);
		struct coin k = make_coin(i, 1);
		CHECK_EQ_INT(coins_add(c, &o, &k, false), 0);
	}
	CHECK_EQ_INT((int)coins_cache_count(c), 5000);
	CHECK(coins_cache_usage(c) >= empty + 5000 * SCRIPT_P2PKH_LEN);
	for (uint32_t i = 0; i < 5000; i += 7) {
		struct outpoint o = op(5, i);
		CHECK(coins_get(c, &o) && coins_get(c, &o)->value == (int64_t)i);
	}
	coins_cache_free(c);
	db_close(db);
	unit_rmtree(dir);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(coins_free_functions_accept_null)
{
	coins_cache_free(NULL);
	coin_clear(NULL);
	db_batch_free(NULL);
}
