/*
 * db.h — a small layer over LevelDB's C API (Debian's
 * libleveldb-dev): open, get, atomic batches, prefix iteration. Both the
 * chainstate (coins) and the block store use it.
 *
 * Errors are returned with LevelDB's message in the caller's buffer; the
 * caller logs them. A corrupt or unreadable database fails db_open with
 * that message rather than crashing.
 */
#ifndef MR_DB_H
#define MR_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_batch;

/* Table files LevelDB keeps open per database (its max_open_files)... */
#define DB_MAX_OPEN_FILES 64
/* ...and every descriptor one open database may hold: those, its LOCK,
 * LOG, MANIFEST and write-ahead log, and one for a compaction's output. */
#define DB_FDS (DB_MAX_OPEN_FILES + 6)

/* Open (creating if missing) the database in directory `path` with a
 * block cache of cache_bytes. NULL with the reason in err. */
struct db *db_open(const char *path, size_t cache_bytes, char *err, size_t errlen);

/* Close. Accepts NULL. */
void db_close(struct db *d);

/*
 * Read key. Returns 1 and a malloc'd copy in *val / *vlen (caller frees),
 * 0 if the key is absent, -1 on a read error (message in err).
 */
int db_get(struct db *d, const void *key, size_t klen, uint8_t **val, size_t *vlen,
	   char *err, size_t errlen);

/* A batch of puts and deletes written atomically by db_write. */
struct db_batch *db_batch_new(void);
void db_batch_free(struct db_batch *b);
void db_batch_put(struct db_batch *b, const void *key, size_t klen, const void *val,
		  size_t vlen);
void db_batch_delete(struct db_batch *b, const void *key, size_t klen);

/* Write the batch; with sync the call returns only once it is on disk.
 * Returns 0 or -1 with the reason in err. */
int db_write(struct db *d, struct db_batch *b, bool sync, char *err, size_t errlen);

/*
 * Call cb for every key starting with `prefix` (plen bytes), in key order,
 * until cb returns non-zero. Returns cb's non-zero value, 0 when all were
 * visited, or -1 on an iterator error (message in err).
 */
typedef int (*db_visit_fn)(void *ctx, const uint8_t *key, size_t klen,
			   const uint8_t *val, size_t vlen);
int db_foreach(struct db *d, const void *prefix, size_t plen, db_visit_fn cb, void *ctx,
	       char *err, size_t errlen);

#endif
