/*
 * walletdb.h — a wallet's file: an SQLite database (Debian's
 * libsqlite3), DATADIR/wallets/NAME/wallet.dat.
 *
 * Tables:
 *   meta(name TEXT PRIMARY KEY, value BLOB)   seed, key counters, settxfee
 *   keys(h160 BLOB PRIMARY KEY, chain, idx, secret, label, time)
 *   txs(txid BLOB PRIMARY KEY, raw, time, from_me, fee, comment)
 *
 * Every change the wallet makes is one SQLite transaction (walletdb_begin
 * .. walletdb_commit) in rollback-journal mode with synchronous=FULL, so a
 * key handed out or a transaction sent is on disk before the RPC replies,
 * and a crash leaves the file as it was before or after a change, never
 * between. Confirmation state is not stored: loading a wallet rescans the
 * chain.
 *
 * Functions return 0 (or a count) on success and -1 with "why" in err.
 */
#ifndef MR_WALLETDB_H
#define MR_WALLETDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WALLETDB_LABEL_MAX 128   /* labels and comments, NUL included */
#define WALLETDB_SCHEMA_VERSION 1

struct walletdb;

/*
 * Open the database at path. With create the file must not exist and is
 * made with the schema; without, it must exist, be an SQLite database and
 * carry our schema version (a corrupt or foreign file is an error, and is
 * left untouched).
 */
struct walletdb *walletdb_open(const char *path, bool create, char *err, size_t errlen);
void walletdb_close(struct walletdb *db);   /* accepts NULL */

/* One atomic change. Commit is durable when it returns 0; rollback
 * discards (and never fails in a way the caller can act on). */
int walletdb_begin(struct walletdb *db, char *err, size_t errlen);
int walletdb_commit(struct walletdb *db, char *err, size_t errlen);
void walletdb_rollback(struct walletdb *db);

/* meta: get returns 1 (found; *len set, at most cap bytes copied), 0
 * (absent) or -1. */
int walletdb_put_meta(struct walletdb *db, const char *name, const void *val, size_t len,
		      char *err, size_t errlen);
int walletdb_get_meta(struct walletdb *db, const char *name, void *out, size_t cap,
		      size_t *len, char *err, size_t errlen);
/* An int64 in meta, stored as 8 little-endian bytes. get: 1, 0 or -1. */
int walletdb_put_i64(struct walletdb *db, const char *name, int64_t v, char *err,
		     size_t errlen);
int walletdb_get_i64(struct walletdb *db, const char *name, int64_t *v, char *err,
		     size_t errlen);

struct walletdb_key {
	uint8_t h160[20];
	uint32_t chain;           /* 0 receive, 1 change */
	uint32_t index;
	uint8_t secret[32];
	char label[WALLETDB_LABEL_MAX];
	int64_t time;
};

struct walletdb_tx {
	uint8_t txid[32];
	const uint8_t *raw;       /* serialized transaction */
	size_t raw_len;
	int64_t time;             /* when the wallet first saw it */
	bool from_me;             /* created by this wallet */
	int64_t fee;              /* from_me: the fee paid; else 0 */
	char comment[WALLETDB_LABEL_MAX];
};

/* Insert or replace. */
int walletdb_put_key(struct walletdb *db, const struct walletdb_key *k, char *err,
		     size_t errlen);
int walletdb_put_tx(struct walletdb *db, const struct walletdb_tx *t, char *err,
		    size_t errlen);

/* Visit every row (keys by chain and index, transactions by time then
 * txid). A callback returning non-zero stops the walk, which then
 * returns -1 with err as the callback filled it. */
typedef int (*walletdb_key_fn)(void *ctx, const struct walletdb_key *k, char *err,
			       size_t errlen);
typedef int (*walletdb_tx_fn)(void *ctx, const struct walletdb_tx *t, char *err,
			      size_t errlen);
int walletdb_load_keys(struct walletdb *db, walletdb_key_fn cb, void *ctx, char *err,
		       size_t errlen);
int walletdb_load_txs(struct walletdb *db, walletdb_tx_fn cb, void *ctx, char *err,
		      size_t errlen);

#endif
