/*
 * db.c — LevelDB through its C API.
 */
#include "db.h"

#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db {
	leveldb_t *db;
	leveldb_options_t *opts;
	leveldb_cache_t *cache;
	leveldb_readoptions_t *ropts;
	leveldb_writeoptions_t *wopts_sync, *wopts_async;
};

struct db_batch {
	leveldb_writebatch_t *b;
};

/* Copy a LevelDB error into err and free it. Returns -1. */
static int take_error(char *lerr, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", lerr ? lerr : "unknown LevelDB error");
	leveldb_free(lerr);
	return -1;
}

struct db *db_open(const char *path, size_t cache_bytes, char *err, size_t errlen)
{
	struct db *d = calloc(1, sizeof(*d));
	char *lerr = NULL;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->opts = leveldb_options_create();
	d->cache = leveldb_cache_create_lru(cache_bytes ? cache_bytes : 8 << 20);
	leveldb_options_set_cache(d->opts, d->cache);
	leveldb_options_set_create_if_missing(d->opts, 1);
	leveldb_options_set_paranoid_checks(d->opts, 1);
	leveldb_options_set_max_open_files(d->opts, DB_MAX_OPEN_FILES);
	d->ropts = leveldb_readoptions_create();
	leveldb_readoptions_set_verify_checksums(d->ropts, 1);
	d->wopts_sync = leveldb_writeoptions_create();
	leveldb_writeoptions_set_sync(d->wopts_sync, 1);
	d->wopts_async = leveldb_writeoptions_create();
	d->db = leveldb_open(d->opts, path, &lerr);
	if (!d->db) {
		take_error(lerr, err, errlen);
		db_close(d);
		return NULL;
	}
	return d;
}

void db_close(struct db *d)
{
	if (!d)
		return;
	if (d->db)
		leveldb_close(d->db);
	if (d->ropts)
		leveldb_readoptions_destroy(d->ropts);
	if (d->wopts_sync)
		leveldb_writeoptions_destroy(d->wopts_sync);
	if (d->wopts_async)
		leveldb_writeoptions_destroy(d->wopts_async);
	if (d->opts)
		leveldb_options_destroy(d->opts);
	if (d->cache)
		leveldb_cache_destroy(d->cache);
	free(d);
}

int db_get(struct db *d, const void *key, size_t klen, uint8_t **val, size_t *vlen,
	   char *err, size_t errlen)
{
	char *lerr = NULL;
	size_t n = 0;
	char *v = leveldb_get(d->db, d->ropts, key, klen, &n, &lerr);

	if (lerr)
		return take_error(lerr, err, errlen);
	if (!v)
		return 0;
	*val = malloc(n ? n : 1);
	if (!*val) {
		leveldb_free(v);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*val, v, n);
	*vlen = n;
	leveldb_free(v);
	return 1;
}

struct db_batch *db_batch_new(void)
{
	struct db_batch *b = calloc(1, sizeof(*b));

	if (b)
		b->b = leveldb_writebatch_create();
	return b;
}

void db_batch_free(struct db_batch *b)
{
	if (!b)
		return;
	leveldb_writebatch_destroy(b->b);
	free(b);
}

void db_batch_put(struct db_batch *b, const void *key, size_t klen, const void *val,
		  size_t vlen)
{
	leveldb_writebatch_put(b->b, key, klen, val, vlen);
}

void db_batch_delete(struct db_batch *b, const void *key, size_t klen)
{
	leveldb_writebatch_delete(b->b, key, klen);
}

int db_write(struct db *d, struct db_batch *b, bool sync, char *err, size_t errlen)
{
	char *lerr = NULL;

	leveldb_write(d->db, sync ? d->wopts_sync : d->wopts_async, b->b, &lerr);
	if (lerr)
		return take_error(lerr, err, errlen);
	return 0;
}

int db_foreach(struct db *d, const void *prefix, size_t plen, db_visit_fn cb, void *ctx,
	       char *err, size_t errlen)
{
	leveldb_iterator_t *it = leveldb_create_iterator(d->db, d->ropts);
	char *lerr = NULL;
	int rc = 0;

	for (leveldb_iter_seek(it, prefix, plen); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = leveldb_iter_key(it, &klen);
		const char *v = leveldb_iter_value(it, &vlen);
		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		rc = cb(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
		if (rc)
			break;
	}
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr)
		return take_error(lerr, err, errlen);
	return rc;
}
