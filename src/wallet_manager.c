/*
 * wallet_manager.c — the loaded wallets (wallet_manager.h).
 */
#include "wallet_manager.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

struct wallet_manager {
	char dir[4096];              /* DATADIR/wallets */
	struct chainstate *cs;
	struct mempool *mp;
	struct wallet_options opts;
	struct wallet_relay relay;
	struct wallet *w[WALLET_MAX_LOADED];
	size_t n;
};

/* ---- Forwarding chain and mempool changes ------------------------------ */

static void block_connected_cb(void *ctx, const struct block *b, const struct block_index *bi)
{
	struct wallet_manager *m = ctx;

	for (size_t i = 0; i < m->n; i++)
		wallet_block_connected(m->w[i], b, bi);
}

static void block_disconnected_cb(void *ctx, const struct block *b,
				  const struct block_index *bi)
{
	struct wallet_manager *m = ctx;

	for (size_t i = 0; i < m->n; i++)
		wallet_block_disconnected(m->w[i], b, bi);
}

static void tx_added_cb(void *ctx, const struct mempool_entry *e)
{
	struct wallet_manager *m = ctx;

	for (size_t i = 0; i < m->n; i++)
		wallet_tx_added(m->w[i], e);
}

static void tx_removed_cb(void *ctx, const struct mempool_entry *e, const char *reason)
{
	struct wallet_manager *m = ctx;

	for (size_t i = 0; i < m->n; i++)
		wallet_tx_removed(m->w[i], e, reason);
}

/* ---- The set ------------------------------------------------------------ */

struct wallet_manager *wallet_manager_new(struct chainstate *cs, struct mempool *mp,
					  const char *datadir, const struct wallet_options *o,
					  const struct wallet_relay *relay)
{
	struct wallet_manager *m = calloc(1, sizeof(*m));
	struct chain_listener cl = { block_connected_cb, block_disconnected_cb, NULL };
	struct mempool_listener ml = { tx_added_cb, tx_removed_cb, NULL };

	if (!m)
		return NULL;
	m->cs = cs;
	m->mp = mp;
	m->opts = *o;
	if (relay)
		m->relay = *relay;
	snprintf(m->dir, sizeof(m->dir), "%s/wallets", datadir);
	cl.ctx = ml.ctx = m;
	chainstate_listen(cs, &cl);
	mempool_listen(mp, &ml);
	return m;
}

size_t wallet_manager_resubmit(struct wallet_manager *m, bool relay_all)
{
	size_t n = 0;

	for (size_t i = 0; m && i < m->n; i++)
		n += wallet_resubmit(m->w[i], relay_all);
	return n;
}

void wallet_manager_free(struct wallet_manager *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		wallet_free(m->w[i]);
	m->n = 0;
	free(m);
}

/* The index of the loaded wallet NAME, or -1. */
static long index_of(const struct wallet_manager *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(wallet_name(m->w[i]), name) == 0)
			return (long)i;
	return -1;
}

struct wallet *wallet_manager_find(const struct wallet_manager *m, const char *name)
{
	long i = index_of(m, name);

	return i < 0 ? NULL : m->w[i];
}

size_t wallet_manager_count(const struct wallet_manager *m)
{
	return m->n;
}

struct wallet *wallet_manager_get(const struct wallet_manager *m, size_t i)
{
	return i < m->n ? m->w[i] : NULL;
}

/* Fill err and return kind. */
static enum wallet_err fail(enum wallet_err kind, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum wallet_err fail(enum wallet_err kind, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return kind;
}

enum wallet_err wallet_manager_load(struct wallet_manager *m, const char *name, bool create,
				    char *err, size_t errlen)
{
	char dir[4200];
	struct stat st;
	struct wallet *w;

	if (!util_name_valid(name, WALLET_NAME_MAX))
		return fail(WALLET_ERR_INVALID_PARAMETER, err, errlen,
			    "Invalid wallet name '%s': use 1 to %d of A-Z a-z 0-9 _ . -, "
			    "not starting with '.'", name, WALLET_NAME_MAX - 1);
	if (index_of(m, name) >= 0)
		return fail(WALLET_ERR_ALREADY_LOADED, err, errlen,
			    "Wallet \"%s\" is already loaded.", name);
	if (m->n == WALLET_MAX_LOADED)
		return fail(WALLET_ERR_FAILED, err, errlen, "Too many wallets loaded (at most %d)",
			    WALLET_MAX_LOADED);
	snprintf(dir, sizeof(dir), "%s/%s", m->dir, name);
	if (create) {
		if ((mkdir(m->dir, 0700) < 0 && errno != EEXIST) ||
		    (mkdir(dir, 0700) < 0 && errno != EEXIST))
			return fail(WALLET_ERR_FAILED, err, errlen, "Cannot create %s: %s", dir,
				    strerror(errno));
	} else if (stat(dir, &st) < 0) {
		return fail(WALLET_ERR_NOT_FOUND, err, errlen,
			    "Wallet file verification failed. Failed to load database "
			    "path '%s'. Path does not exist.", dir);
	}
	w = wallet_new(name, dir, create, m->cs, m->mp, &m->opts, &m->relay, err, errlen);
	if (!w)
		return create && strstr(err, "already exists") ? WALLET_ERR_ALREADY_EXISTS
							       : WALLET_ERR_FAILED;
	m->w[m->n++] = w;
	log_printf("wallet %s: %s, %zu keys, %zu transactions", name,
		   create ? "created" : "loaded", wallet_key_count(w), wallet_tx_count(w));
	return WALLET_OK;
}

int wallet_manager_unload(struct wallet_manager *m, const char *name)
{
	long i = index_of(m, name);

	if (i < 0)
		return -1;
	log_printf("wallet %s: unloaded", name);
	wallet_free(m->w[i]);
	m->w[i] = m->w[--m->n];
	return 0;
}
