/*
 * walletdb.c — the wallet's SQLite file (walletdb.h).
 */
#include "walletdb.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct walletdb {
	sqlite3 *db;
	char path[4096];
};

static const char schema[] =
	"CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE keys (h160 BLOB PRIMARY KEY, chain INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, secret BLOB NOT NULL, label TEXT NOT NULL,"
	" time INTEGER NOT NULL);"
	"CREATE TABLE txs (txid BLOB PRIMARY KEY, raw BLOB NOT NULL,"
	" time INTEGER NOT NULL, from_me INTEGER NOT NULL, fee INTEGER NOT NULL,"
	" comment TEXT NOT NULL);";

/* "what: sqlite's message" into err; returns -1. */
static int db_fail(struct walletdb *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
	return -1;
}

static int exec(struct walletdb *db, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, sql, err, errlen);
	return 0;
}

/* Create the schema and stamp the version, in one transaction. */
static int db_create(struct walletdb *db, char *err, size_t errlen)
{
	if (walletdb_begin(db, err, errlen) < 0)
		return -1;
	if (exec(db, schema, err, errlen) < 0 ||
	    walletdb_put_i64(db, "version", WALLETDB_SCHEMA_VERSION, err, errlen) < 0) {
		walletdb_rollback(db);
		return -1;
	}
	return walletdb_commit(db, err, errlen);
}

/* An existing file must be ours: reading the version also makes SQLite
 * look at the header, so a foreign file fails here ("file is not a
 * database"). */
static int db_check(struct walletdb *db, char *err, size_t errlen)
{
	int64_t v;
	int rc = walletdb_get_i64(db, "version", &v, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0 || v != WALLETDB_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: not a moneyrocket wallet (schema version %s)",
			 db->path, rc == 0 ? "missing" : "unknown");
		return -1;
	}
	return 0;
}

struct walletdb *walletdb_open(const char *path, bool create, char *err, size_t errlen)
{
	struct walletdb *db = calloc(1, sizeof(*db));
	struct stat st;
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);

	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	util_strlcpy(db->path, path, sizeof(db->path));
	if (create && stat(path, &st) == 0) {
		snprintf(err, errlen, "%s already exists", path);
		free(db);
		return NULL;
	}
	if (!create && stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(db);
		return NULL;
	}
	if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 db->db ? sqlite3_errmsg(db->db) : "out of memory");
		walletdb_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db->db, 1);
	if (exec(db, "PRAGMA synchronous=FULL", err, errlen) < 0 ||
	    (create ? db_create(db, err, errlen) : db_check(db, err, errlen)) < 0) {
		walletdb_close(db);
		if (create)
			unlink(path);
		return NULL;
	}
	return db;
}

void walletdb_close(struct walletdb *db)
{
	if (!db)
		return;
	sqlite3_close(db->db);
	free(db);
}

int walletdb_begin(struct walletdb *db, char *err, size_t errlen)
{
	return exec(db, "BEGIN IMMEDIATE", err, errlen);
}

int walletdb_commit(struct walletdb *db, char *err, size_t errlen)
{
	return exec(db, "COMMIT", err, errlen);
}

void walletdb_rollback(struct walletdb *db)
{
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Prepare sql, or fill err. */
static sqlite3_stmt *prepare(struct walletdb *db, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, sql, err, errlen);
		return NULL;
	}
	return st;
}

/* Step a statement that returns no rows, then finalize it. */
static int step_done(struct walletdb *db, sqlite3_stmt *st, const char *what, char *err,
		     size_t errlen)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, what, err, errlen);

	sqlite3_finalize(st);
	return rc;
}

int walletdb_put_meta(struct walletdb *db, const char *name, const void *val, size_t len,
		      char *err, size_t errlen)
{
	sqlite3_stmt *st = prepare(db, "INSERT OR REPLACE INTO meta VALUES (?, ?)", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	return step_done(db, st, "write meta", err, errlen);
}

int walletdb_get_meta(struct walletdb *db, const char *name, void *out, size_t cap,
		      size_t *len, char *err, size_t errlen)
{
	sqlite3_stmt *st = prepare(db, "SELECT value FROM meta WHERE name = ?", err, errlen);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		*len = n;
		if (n)
			memcpy(out, sqlite3_column_blob(st, 0), n < cap ? n : cap);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = db_fail(db, "read meta", err, errlen);
	}
	sqlite3_finalize(st);
	return rc;
}

int walletdb_put_i64(struct walletdb *db, const char *name, int64_t v, char *err,
		     size_t errlen)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)v >> (8 * i));
	return walletdb_put_meta(db, name, b, sizeof(b), err, errlen);
}

int walletdb_get_i64(struct walletdb *db, const char *name, int64_t *v, char *err,
		     size_t errlen)
{
	uint8_t b[8];
	size_t len = 0;
	uint64_t u = 0;
	int rc = walletdb_get_meta(db, name, b, sizeof(b), &len, err, errlen);

	if (rc <= 0)
		return rc;
	if (len != sizeof(b)) {
		snprintf(err, errlen, "%s: meta '%s' has %zu bytes, not 8", db->path, name, len);
		return -1;
	}
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)b[i] << (8 * i);
	*v = (int64_t)u;
	return 1;
}

int walletdb_put_key(struct walletdb *db, const struct walletdb_key *k, char *err,
		     size_t errlen)
{
	sqlite3_stmt *st = prepare(db, "INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?, ?, ?)",
				   err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, k->h160, 20, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, k->chain);
	sqlite3_bind_int64(st, 3, k->index);
	sqlite3_bind_blob(st, 4, k->secret, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, k->label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, k->time);
	return step_done(db, st, "write key", err, errlen);
}

int walletdb_put_tx(struct walletdb *db, const struct walletdb_tx *t, char *err,
		    size_t errlen)
{
	sqlite3_stmt *st = prepare(db, "INSERT OR REPLACE INTO txs VALUES (?, ?, ?, ?, ?, ?)",
				   err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, t->txid, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, t->raw, (int)t->raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t->time);
	sqlite3_bind_int(st, 4, t->from_me);
	sqlite3_bind_int64(st, 5, t->fee);
	sqlite3_bind_text(st, 6, t->comment, -1, SQLITE_STATIC);
	return step_done(db, st, "write transaction", err, errlen);
}

/* A blob column of exactly n bytes into out; -1 if it is another size
 * (a damaged row). */
static int column_fixed(sqlite3_stmt *st, int col, void *out, size_t n)
{
	if ((size_t)sqlite3_column_bytes(st, col) != n)
		return -1;
	memcpy(out, sqlite3_column_blob(st, col), n);
	return 0;
}

static void column_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	util_strlcpy(out, s ? (const char *)s : "", cap);
}

int walletdb_load_keys(struct walletdb *db, walletdb_key_fn cb, void *ctx, char *err,
		       size_t errlen)
{
	sqlite3_stmt *st = prepare(db, "SELECT h160, chain, idx, secret, label, time FROM keys "
				   "ORDER BY chain, idx", err, errlen);
	int rc, n = 0;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct walletdb_key k = { .chain = (uint32_t)sqlite3_column_int64(st, 1),
					  .index = (uint32_t)sqlite3_column_int64(st, 2),
					  .time = sqlite3_column_int64(st, 5) };

		column_text(st, 4, k.label, sizeof(k.label));
		if (column_fixed(st, 0, k.h160, 20) < 0 || column_fixed(st, 3, k.secret, 32) < 0) {
			snprintf(err, errlen, "%s: a key row is damaged", db->path);
			sqlite3_finalize(st);
			return -1;
		}
		if (cb(ctx, &k, err, errlen) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		n = db_fail(db, "read keys", err, errlen);
	sqlite3_finalize(st);
	return n;
}

int walletdb_load_txs(struct walletdb *db, walletdb_tx_fn cb, void *ctx, char *err,
		      size_t errlen)
{
	sqlite3_stmt *st = prepare(db, "SELECT txid, raw, time, from_me, fee, comment FROM txs "
				   "ORDER BY time, txid", err, errlen);
	int rc, n = 0;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct walletdb_tx t = { .raw = sqlite3_column_blob(st, 1),
					 .raw_len = (size_t)sqlite3_column_bytes(st, 1),
					 .time = sqlite3_column_int64(st, 2),
					 .from_me = sqlite3_column_int(st, 3) != 0,
					 .fee = sqlite3_column_int64(st, 4) };

		column_text(st, 5, t.comment, sizeof(t.comment));
		if (column_fixed(st, 0, t.txid, 32) < 0) {
			snprintf(err, errlen, "%s: a transaction row is damaged", db->path);
			sqlite3_finalize(st);
			return -1;
		}
		if (cb(ctx, &t, err, errlen) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		n = db_fail(db, "read transactions", err, errlen);
	sqlite3_finalize(st);
	return n;
}
