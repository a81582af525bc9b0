/*
 * net_chain.c — headers-first sync, block download and announcement,
 * transaction relay.
 */
#include "net_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "log.h"
#include "net_download.h"
#include "net_processing.h"
#include "net_txrequest.h"
#include "ser.h"
#include "util.h"

/*
 * Transactions we rejected since the last block: not asked for again when
 * another peer announces them (Core's m_lazy_recent_rejects, also reset
 * when the tip changes). Direct-mapped: a collision only forgets a reject.
 */
#define REJECT_SLOTS 4096

/*
 * "Has anyone announced this hash before?" A direct-mapped cache of recent
 * block and transaction hashes: bounded memory, no allocation; a collision
 * only makes an old hash look novel again, which merely refreshes a peer's
 * eviction protection.
 */
#define SEEN_SLOTS 16384

struct net_chain {
	struct chainstate *cs;
	struct mempool *mp;
	struct connman *cm;
	struct net_download *dl;     /* blocks in flight, orphan blocks */
	struct net_txrequest *txreq; /* transactions announced, asked for */
	u256 min_work;      /* -minimumchainwork */
	struct log_limit lowwork_log;
	struct {
		uint8_t txid[REJECT_SLOTS][32];
		bool used[REJECT_SLOTS];
	} rejects;
	uint8_t seen[SEEN_SLOTS][32];
};

/* Shorter: message handling's state of the peer, which holds ours. */
static struct net_processing_peer *st(const struct peer *p)
{
	return net_processing_peer(p);
}

static bool seen_novel(struct net_chain *nc, const uint8_t hash[32])
{
	uint32_t slot;

	memcpy(&slot, hash, sizeof(slot));
	slot %= SEEN_SLOTS;
	if (memcmp(nc->seen[slot], hash, 32) == 0)
		return false;
	memcpy(nc->seen[slot], hash, 32);
	return true;
}

static size_t reject_slot(const uint8_t txid[32])
{
	uint32_t h;

	memcpy(&h, txid, sizeof(h));
	return h & (REJECT_SLOTS - 1);
}

static void reject_add(struct net_chain *nc, const uint8_t txid[32])
{
	size_t i = reject_slot(txid);

	memcpy(nc->rejects.txid[i], txid, 32);
	nc->rejects.used[i] = true;
}

static bool reject_known(struct net_chain *nc, const uint8_t txid[32])
{
	size_t i = reject_slot(txid);

	return nc->rejects.used[i] && memcmp(nc->rejects.txid[i], txid, 32) == 0;
}

static void send_wbuf(struct peer *p, const char *command, struct wbuf *w)
{
	if (!w->oom)
		net_send(p, command, w->data, w->len);
	else
		log_printf("net: peer=%lld %s: out of memory, not sent", (long long)p->id, command);
	ser_write_free(w);
}

static void send_getheaders(struct net_chain *nc, struct peer *p)
{
	struct msg_getheaders *g = calloc(1, sizeof(*g));
	struct wbuf w;

	if (!g)
		return;
	g->version = 70016;
	g->count = chainstate_locator(nc->cs, g->locator, MSG_MAX_LOCATOR);
	ser_write_init(&w);
	msg_getheaders_encode(&w, g);
	send_wbuf(p, "getheaders", &w);
	free(g);
}

static void send_inv(struct peer *p, const char *command, uint32_t type, const uint8_t hash[32])
{
	struct msg_inv_entry e;
	struct wbuf w;

	e.type = type;
	memcpy(e.hash, hash, 32);
	ser_write_init(&w);
	msg_inv_encode(&w, &e, 1);
	send_wbuf(p, command, &w);
}

/*
 * Does this block or header failure make its sender misbehaving? As Core's
 * MaybePunishNodeForBlock: a consensus failure (bad-*, mandatory-*), bad
 * proof of work or a time too old (BLOCK_INVALID_HEADER), a parent that is
 * invalid (bad-prevblk: BLOCK_INVALID_PREV), yes; a block known to be
 * invalid (BLOCK_CACHED_INVALID) only from an outbound peer; a missing
 * parent, a time too far in the future or our own store errors, no.
 */
static bool block_punishable(const struct peer *p, const char *reason)
{
	if (strcmp(reason, "duplicate-invalid") == 0)
		return p->type != CONN_INBOUND;
	return strncmp(reason, "bad-", 4) == 0 || strcmp(reason, "high-hash") == 0 ||
	       strncmp(reason, "mandatory-", 10) == 0 || strcmp(reason, "time-too-old") == 0;
}

/*
 * Does this mempool rejection make the sender misbehaving? As Core's
 * MaybePunishNodeForTx: only TX_CONSENSUS failures (the transaction can
 * never be valid: bad-txns-*, bad-cb-*, mandatory-script-verify-flag-
 * failed, a loose coinbase); missing or immature inputs, conflicts and
 * policy (fees, standardness) are not the peer's fault.
 */
static bool tx_punishable(const char *reason)
{
	if (strcmp(reason, "bad-txns-inputs-missingorspent") == 0 ||
	    strcmp(reason, "bad-txns-premature-spend-of-coinbase") == 0)
		return false;
	return strncmp(reason, "bad-txns-", 9) == 0 || strncmp(reason, "bad-cb-", 7) == 0 ||
	       strncmp(reason, "mandatory-", 10) == 0 || strcmp(reason, "coinbase") == 0;
}

/* True if the peer is known to have bi (so announcing it is pointless). */
static bool peer_has_block(const struct peer *p, const struct block_index *bi)
{
	const struct block_index *best = st(p)->dl.best_known;

	return best && best->height >= bi->height && chainstate_ancestor(best, bi->height) == bi;
}

static void announce_block_cb(void *ctx, const struct block *b, const struct block_index *bi)
{
	struct net_chain *nc = ctx;

	(void)b;
	/* The tip moved: a rejected transaction may be valid now (Core). */
	memset(nc->rejects.used, 0, sizeof(nc->rejects.used));
	for (struct peer *p = net_peers(nc->cm); p; p = p->next) {
		if (!p->established || p->closed || !p->handshake_done ||
		    p->type == CONN_FEELER || peer_has_block(p, bi))
			continue;
		if (st(p)->sendheaders) {
			struct wbuf w;
			ser_write_init(&w);
			msg_headers_encode(&w, &bi->header, 1);
			send_wbuf(p, "headers", &w);
		} else {
			send_inv(p, "inv", MSG_INV_BLOCK, bi->hash);
		}
	}
}

/* -minimumchainwork (1 to 64 hex digits, checked by config.c) as a u256. */
static void min_work_init(struct net_chain *nc)
{
	const char *hex = nc->cm ? net_config(nc->cm)->minimumchainwork : "";
	char padded[65];
	size_t n = strlen(hex);

	memset(&nc->min_work, 0, sizeof(nc->min_work));
	if (!n || n > 64)
		return;
	memset(padded, '0', 64 - n);
	memcpy(padded + 64 - n, hex, n + 1);
	if (u256_from_hex(padded, &nc->min_work) < 0)
		memset(&nc->min_work, 0, sizeof(nc->min_work));
}

/* ---- Callbacks from message handling ------------------------------------ */

static int32_t height_cb(void *ctx)
{
	struct net_chain *nc = ctx;

	return chainstate_height(nc->cs);
}

static void handshake_done_cb(void *ctx, struct peer *p)
{
	struct net_chain *nc = ctx;

	net_download_peer_init(&st(p)->dl, p->id);
	if (p->type != CONN_FEELER)
		send_getheaders(nc, p);
}

static void closed_cb(void *ctx, struct peer *p)
{
	struct net_chain *nc = ctx;

	net_download_peer_gone(nc->dl, &st(p)->dl);
	net_txrequest_peer_gone(nc->txreq, p->id);
}

void net_chain_relay_tx(struct net_chain *nc, const uint8_t txid[32], const struct peer *from)
{
	for (struct peer *p = net_peers(nc->cm); p; p = p->next) {
		if (p == from || !p->established || p->closed || !p->handshake_done ||
		    !st(p)->relaytxes || p->type == CONN_BLOCK_RELAY || p->type == CONN_FEELER)
			continue;
		send_inv(p, "inv", MSG_INV_TX, txid);
	}
}

/* Send one getdata of `type` items (hashes in `hashes`). Returns false if
 * it could not be sent (out of memory, or the peer is closed). */
static bool send_getdata(struct peer *p, uint32_t type, const uint8_t (*hashes)[32], size_t n)
{
	struct msg_inv_entry *e;
	struct wbuf w;
	bool sent;

	if (!n || p->closed)
		return !n;
	e = calloc(n, sizeof(*e));
	if (!e)
		return false;
	for (size_t i = 0; i < n; i++) {
		e[i].type = type;
		memcpy(e[i].hash, hashes[i], 32);
	}
	ser_write_init(&w);
	msg_inv_encode(&w, e, n);
	sent = !w.oom && net_send(p, "getdata", w.data, w.len) == 0;
	if (w.oom)
		log_printf("net: peer=%lld getdata: out of memory, not sent", (long long)p->id);
	ser_write_free(&w);
	free(e);
	return sent;
}

/* Ask the peer for the blocks whose turn has come (net_download.h). */
static void request_blocks(struct net_chain *nc, struct peer *p)
{
	uint8_t want[DL_MAX_PER_PEER][32];
	size_t n;

	if (p->closed || p->type == CONN_FEELER)
		return;
	n = net_download_next_blocks(nc->dl, &st(p)->dl, util_mono_us(), want, DL_MAX_PER_PEER);
	if (!send_getdata(p, MSG_INV_BLOCK, (const uint8_t (*)[32])want, n)) {
		/* Not asked after all: free for the next try, here or elsewhere. */
		for (size_t i = 0; i < n; i++)
			net_download_block_done(nc->dl, &st(p)->dl, want[i]);
	}
}

/* Ask the peer for the transactions whose turn has come (net_txrequest.h). */
static void request_txs(struct net_chain *nc, struct peer *p, int64_t now_us)
{
	enum { BATCH = 1000 };
	uint8_t (*want)[32];
	size_t n;

	if (p->closed || !net_txrequest_count(nc->txreq, p->id))
		return;
	want = malloc(BATCH * sizeof(*want));
	if (!want)
		return;
	do {
		n = net_txrequest_next(nc->txreq, p->id, now_us, want, BATCH);
		send_getdata(p, MSG_INV_TX, (const uint8_t (*)[32])want, n);
	} while (n == BATCH && !p->closed);
	free(want);
}

static void on_inv(struct net_chain *nc, struct peer *p, const struct msg_inv *inv)
{
	int64_t now = util_mono_us();
	bool novel = false;

	for (uint64_t i = 0; i < inv->count; i++)
		novel |= seen_novel(nc, inv->entries[i].hash);
	if (novel)
		p->last_useful_us = now;
	bool unknown_block = false;

	for (uint64_t i = 0; i < inv->count; i++) {
		const struct msg_inv_entry *e = &inv->entries[i];
		uint32_t type = e->type & ~MSG_INV_WITNESS_FLAG;
		if (type == MSG_INV_BLOCK) {
			const struct block_index *bi = chainstate_lookup(nc->cs, e->hash);
			if (bi)
				net_download_peer_has(&st(p)->dl, bi);
			else
				unknown_block = true;
		} else if (type == MSG_INV_TX) {
			if (p->type == CONN_BLOCK_RELAY) {
				/* Core: a block-relay-only peer must not relay
				 * transactions; disconnect, no discouragement. */
				log_debug(LOG_NET, "net: peer=%lld (%s) sent a tx inv on a block-relay-only connection; disconnecting",
					  (long long)p->id, p->addr_str);
				net_close(p, "tx inv on a block-relay-only connection");
				return;
			}
			if (!mempool_get(nc->mp, e->hash) && !reject_known(nc, e->hash))
				net_txrequest_announced(nc->txreq, p->id, e->hash, p->type != CONN_INBOUND, now);
		}
	}
	request_txs(nc, p, now);
	request_blocks(nc, p);
	/* Blocks are fetched headers first: the headers say where they go. */
	if (unknown_block)
		send_getheaders(nc, p);
}

static void on_notfound(struct net_chain *nc, struct peer *p, const struct msg_inv *inv)
{
	for (uint64_t i = 0; i < inv->count; i++) {
		const struct msg_inv_entry *e = &inv->entries[i];
		if ((e->type & ~MSG_INV_WITNESS_FLAG) == MSG_INV_TX)
			net_txrequest_notfound(nc->txreq, p->id, e->hash);
	}
}

static void tick_cb(void *ctx, struct peer *p, int64_t now_us)
{
	struct net_chain *nc = ctx;
	int64_t timeout_s = net_config(p->cm)->blockdownloadtimeout;

	if (net_download_peer_timed_out(&st(p)->dl, now_us, timeout_s * 1000000)) {
		/* Core disconnects a peer that does not deliver a block it was
		 * asked for in time; its blocks go to others. */
		log_printf("net: peer=%lld (%s) did not send a requested block in %llds; disconnecting",
			   (long long)p->id, p->addr_str, (long long)timeout_s);
		net_close(p, "block download timeout");
		return;
	}
	request_blocks(nc, p);
	request_txs(nc, p, now_us);
}

/* Send the block, or add it to `missing`. */
static void serve_block(struct net_chain *nc, struct peer *p, const struct msg_inv_entry *e,
			struct msg_inv_entry *missing, size_t *nmissing)
{
	const struct block_index *bi = chainstate_lookup(nc->cs, e->hash);
	uint8_t *data;
	size_t len;

	if (bi && chainstate_read_block_bytes(nc->cs, bi, &data, &len) == 0) {
		net_send(p, "block", data, len);
		free(data);
	} else {
		missing[(*nmissing)++] = *e;
	}
}

static void serve_tx(struct net_chain *nc, struct peer *p, const struct msg_inv_entry *e,
		     struct msg_inv_entry *missing, size_t *nmissing)
{
	const struct mempool_entry *me = mempool_get(nc->mp, e->hash);
	struct wbuf w;

	if (!me) {
		missing[(*nmissing)++] = *e;
		return;
	}
	ser_write_init(&w);
	tx_encode(&w, &me->tx);
	send_wbuf(p, "tx", &w);
}

/* ---- getdata, served a little at a time -------------------------------- */

/* An entry of a getdata in the duplicate filter: keyed by its type
 * (witness flag cleared) and hash. */
struct getdata_seen {
	struct hashmap_node node;
	uint8_t key[4 + 32];
};

/*
 * Copy inv's entries without repeats, in order, to *out (malloc'd). One
 * getdata naming a block 5,000 times is one block to send, not 5,000.
 * Returns how many, or -1 when out of memory.
 */
static long getdata_unique(const struct msg_inv *inv, struct msg_inv_entry **out)
{
	struct getdata_seen *seen = malloc((inv->count ? inv->count : 1) * sizeof(*seen));
	struct hashmap *m = hashmap_new(HASHMAP_KEY_OFFSET(struct getdata_seen, node, key),
					sizeof(seen->key), inv->count);
	size_t n = 0;

	*out = malloc((inv->count ? inv->count : 1) * sizeof(**out));
	if (!seen || !m || !*out) {
		free(seen);
		hashmap_free(m);
		free(*out);
		return -1;
	}
	for (uint64_t i = 0; i < inv->count; i++) {
		struct getdata_seen *e = &seen[n];
		uint32_t type = inv->entries[i].type & ~MSG_INV_WITNESS_FLAG;

		memcpy(e->key, &type, 4);
		memcpy(e->key + 4, inv->entries[i].hash, 32);
		if (hashmap_find(m, e->key))
			continue;
		hashmap_add(m, &e->node);
		(*out)[n++] = inv->entries[i];
	}
	hashmap_free(m);
	free(seen);
	return (long)n;
}

/* Answer queued entries while the peer's send buffer has room; notfound
 * for those we lack. */
static void getdata_continue(struct net_chain *nc, struct peer *p)
{
	struct net_processing_peer *s = st(p);
	struct msg_inv_entry *missing = malloc((s->getdata_n - s->getdata_next) * sizeof(*missing));
	size_t nmissing = 0;

	if (!missing)
		return;
	while (s->getdata_next < s->getdata_n && !p->closed &&
	       net_send_queued(p) < NET_SEND_BUFFER_MAX) {
		const struct msg_inv_entry *e = &s->getdata[s->getdata_next++];
		uint32_t type = e->type & ~MSG_INV_WITNESS_FLAG;

		if (type == MSG_INV_BLOCK)
			serve_block(nc, p, e, missing, &nmissing);
		else if (type == MSG_INV_TX)
			serve_tx(nc, p, e, missing, &nmissing);
		else
			missing[nmissing++] = *e;
	}
	if (nmissing && !p->closed) {
		struct wbuf w;
		ser_write_init(&w);
		msg_inv_encode(&w, missing, nmissing);
		send_wbuf(p, "notfound", &w);
	}
	free(missing);
	if (!p->closed && s->getdata_next == s->getdata_n) {
		free(s->getdata);
		s->getdata = NULL;
		s->getdata_n = s->getdata_next = 0;
	}
}

/* Blocks from the store, transactions from the mempool, notfound for the
 * rest. */
static void on_getdata(struct net_chain *nc, struct peer *p, const struct msg_inv *inv)
{
	struct net_processing_peer *s = st(p);
	struct msg_inv_entry *unique;
	long n;

	if (!inv->count)
		return;
	n = getdata_unique(inv, &unique);

	if (n < 0) {
		log_printf("net: peer=%lld getdata: out of memory, ignored", (long long)p->id);
		return;
	}
	if ((uint64_t)n < inv->count)
		log_debug(LOG_NET, "net: peer=%lld getdata: %llu duplicate entries ignored",
			  (long long)p->id, (unsigned long long)(inv->count - (uint64_t)n));
	/* net.c reads nothing more while a getdata is pending, so there is
	 * never an older one here. */
	free(s->getdata);
	s->getdata = unique;
	s->getdata_n = (size_t)n;
	s->getdata_next = 0;
	getdata_continue(nc, p);
}

static void on_getheaders(struct net_chain *nc, struct peer *p,
			  const struct msg_getheaders *g)
{
	const struct block_index *fork;
	struct block_header *out;
	size_t n = 0;
	struct wbuf w;

	out = malloc(MSG_MAX_HEADERS * sizeof(*out));
	if (!out)
		return;
	fork = chainstate_find_fork(nc->cs, (const uint8_t (*)[32])g->locator,
				    (size_t)(g->count < MSG_MAX_LOCATOR ? g->count : MSG_MAX_LOCATOR));
	for (int32_t h = fork->height + 1; n < MSG_MAX_HEADERS; h++) {
		const struct block_index *bi = chainstate_at(nc->cs, h);
		if (!bi)
			break;
		out[n++] = bi->header;
		if (memcmp(bi->hash, g->stop, 32) == 0)
			break;
	}
	ser_write_init(&w);
	msg_headers_encode(&w, out, n);
	send_wbuf(p, "headers", &w);
	free(out);
}

static void process_block(struct net_chain *nc, struct peer *p, const struct block *b,
			  const uint8_t *bytes, size_t len);

/* Process the kept blocks whose parent is now known (net_download.h). */
static void process_orphans(struct net_chain *nc, struct peer *p)
{
	uint8_t *bytes;
	size_t len;
	int64_t from;

	while (!p->closed && net_download_orphan_take_ready(nc->dl, &bytes, &len, &from)) {
		struct block b;
		struct peer *src = net_find_id(nc->cm, from);

		if (block_decode_bytes(bytes, len, &b) == 0) {
			log_debug(LOG_NET, "net: processing orphan block from peer=%lld",
				  (long long)from);
			process_block(nc, src && !src->closed ? src : p, &b, bytes, len);
			block_clear(&b);
		}
		free(bytes);
	}
}

/* Core: every header in a headers message must follow the one before. */
static bool headers_continuous(const struct msg_headers *h)
{
	for (uint64_t i = 1; i < h->count; i++) {
		uint8_t prev[32];

		block_header_hash(&h->headers[i - 1], prev);
		if (memcmp(h->headers[i].prev_block, prev, 32) != 0)
			return false;
	}
	return true;
}

/* ---- Low-work headers ---------------------------------------------------- */

/*
 * Bitcoin Core's anti-DoS work threshold: a headers chain is "low-work"
 * when its total work is below -minimumchainwork (default 0, as regtest)
 * or more than HEADERS_ANTIDOS_BLOCKS blocks' work (at the tip's
 * difficulty) below our tip. Core does not store such headers at all (its
 * presync); here a peer may add HEADERS_LOWWORK_PER_PEER of them (room
 * for a reorg that deep) and is disconnected at the next (doc/p2p.md).
 */
#define HEADERS_ANTIDOS_BLOCKS 144
#define HEADERS_LOWWORK_PER_PEER 2000

/* Is `work` at least -minimumchainwork and the tip's work less
 * HEADERS_ANTIDOS_BLOCKS blocks'? */
static bool work_enough(struct net_chain *nc, const u256 *work)
{
	const struct block_index *tip = chainstate_tip(nc->cs);
	u256 have = *work, per_block;

	if (u256_cmp(work, &nc->min_work) < 0)
		return false;
	pow_work_from_bits(tip->header.bits, &per_block);
	for (int i = 0; i < HEADERS_ANTIDOS_BLOCKS; i++)
		u256_add(&have, &per_block);
	return u256_cmp(&have, &tip->chainwork) >= 0;
}

/*
 * Count the message's new headers against the peer's low-work allowance
 * when the chain they end has too little work. Returns false (the peer is
 * disconnected, the headers unstored) once the allowance is spent; true
 * otherwise, also when the first header does not connect (handled later).
 */
static bool headers_work_ok(struct net_chain *nc, struct peer *p, const struct msg_headers *h)
{
	const struct block_index *prev = chainstate_lookup(nc->cs, h->headers[0].prev_block);
	uint64_t fresh = 0;
	u256 work, w;

	if (!prev)
		return true;
	work = prev->chainwork;
	for (uint64_t i = 0; i < h->count; i++) {
		uint8_t hash[32];

		pow_work_from_bits(h->headers[i].bits, &w);
		u256_add(&work, &w);
		block_header_hash(&h->headers[i], hash);
		fresh += chainstate_lookup(nc->cs, hash) == NULL;
	}
	if (!fresh || work_enough(nc, &work))
		return true;
	st(p)->lowwork_headers += fresh;
	if (st(p)->lowwork_headers <= HEADERS_LOWWORK_PER_PEER)
		return true;
	log_limited(&nc->lowwork_log, "net: peer=%lld sent %llu headers of chains with too little work (below -minimumchainwork or more than %d blocks below our tip; at most %d); disconnecting",
		    (long long)p->id, (unsigned long long)st(p)->lowwork_headers,
		    HEADERS_ANTIDOS_BLOCKS, HEADERS_LOWWORK_PER_PEER);
	net_close(p, "low-work headers");
	return false;
}

static void on_headers(struct net_chain *nc, struct peer *p, const struct msg_headers *h)
{
	const struct block_index *last = NULL;
	char reason[CHAIN_REASON_MAX];

	if (h->count == 0 || !headers_work_ok(nc, p, h))
		return;
	if (!headers_continuous(h)) {
		net_misbehaving(p, "non-continuous headers sequence");
		return;
	}
	for (uint64_t i = 0; i < h->count; i++) {
		if (chainstate_accept_header(nc->cs, &h->headers[i], &last, reason) < 0) {
			if (strcmp(reason, "prev-blk-not-found") == 0) {
				/* An announcement that does not connect: catch up. */
				send_getheaders(nc, p);
			} else if (block_punishable(p, reason)) {
				char why[MSG_REASON_MAX];
				snprintf(why, sizeof(why), "invalid header: %.90s", reason);
				net_misbehaving(p, why);
			}
			return;
		}
	}
	net_download_peer_has(&st(p)->dl, last);
	request_blocks(nc, p);
	if (h->count == MSG_MAX_HEADERS)
		send_getheaders(nc, p);
	process_orphans(nc, p);
}

/* A block whose parent we do not know: keep it, and ask the peer for the
 * headers that lead to it (doc/p2p.md: Core would drop it). */
static void keep_orphan(struct net_chain *nc, struct peer *p, const struct block *b,
			const uint8_t *bytes, size_t len)
{
	int rc = net_download_orphan_add(nc->dl, b->hash, b->header.prev_block, bytes, len, p->id);

	if (rc < 0)
		log_printf("net: peer=%lld orphan block not kept: out of memory",
			   (long long)p->id);
	else if (rc == 0)
		log_debug(LOG_NET, "net: peer=%lld block with unknown parent kept (%zu kept)",
			  (long long)p->id, net_download_orphan_count(nc->dl));
	send_getheaders(nc, p);
}

static void process_block(struct net_chain *nc, struct peer *p, const struct block *b,
			  const uint8_t *bytes, size_t len)
{
	char reason[CHAIN_REASON_MAX];
	bool is_new;
	int rc = chainstate_process_block(nc->cs, b, &is_new, reason);

	/* Received and processed: no longer in flight, from anyone. */
	net_download_block_done(nc->dl, &st(p)->dl, b->hash);
	if (rc < 0) {
		if (strcmp(reason, "prev-blk-not-found") == 0) {
			keep_orphan(nc, p, b, bytes, len);
		} else if (block_punishable(p, reason)) {
			char why[MSG_REASON_MAX];
			snprintf(why, sizeof(why), "invalid block: %.90s", reason);
			net_misbehaving(p, why);
		} else {
			log_printf("net: peer=%lld block not accepted: %s", (long long)p->id, reason);
		}
		return;
	}
	net_download_peer_has(&st(p)->dl, chainstate_lookup(nc->cs, b->hash));
	if (is_new)
		p->last_useful_us = util_mono_us();
}

static void on_block(struct net_chain *nc, struct peer *p, const uint8_t *payload,
		     size_t len)
{
	struct block b;

	if (block_decode_bytes(payload, len, &b) < 0) {
		/* Core: a message that does not deserialize is dropped. */
		log_debug(LOG_NET, "net: peer=%lld malformed block message dropped",
			  (long long)p->id);
		return;
	}
	process_block(nc, p, &b, payload, len);
	block_clear(&b);
	if (p->closed)
		return;
	process_orphans(nc, p);
	request_blocks(nc, p);
}

static void on_tx(struct net_chain *nc, struct peer *p, const uint8_t *payload, size_t len)
{
	char reason[CHAIN_REASON_MAX];
	struct tx t;

	if (tx_decode_bytes(payload, len, &t) < 0) {
		log_debug(LOG_NET, "net: peer=%lld malformed tx message dropped", (long long)p->id);
		return;
	}
	if (p->type == CONN_BLOCK_RELAY) {
		log_debug(LOG_NET, "net: peer=%lld (%s) sent a tx on a block-relay-only connection; disconnecting",
			  (long long)p->id, p->addr_str);
		net_close(p, "tx on a block-relay-only connection");
		tx_clear(&t);
		return;
	}
	/* The answer, from whoever: nobody else needs to be asked. */
	net_txrequest_forget(nc->txreq, t.txid);
	if (mempool_accept(nc->mp, &t, false, NULL, NULL, reason) == 0) {
		p->last_useful_us = util_mono_us();
		net_chain_relay_tx(nc, t.txid, p);
	} else {
		log_debug(LOG_NET, "net: peer=%lld tx rejected: %s", (long long)p->id, reason);
		reject_add(nc, t.txid);
		if (tx_punishable(reason)) {
			char why[MSG_REASON_MAX];
			snprintf(why, sizeof(why), "invalid transaction: %.90s", reason);
			net_misbehaving(p, why);
		}
	}
	tx_clear(&t);
}

/* ---- Decoding and dispatch ---------------------------------------------- */

/* Decode inv/getdata/notfound; on failure the peer is punished (or, for
 * our own out-of-memory, left alone) and -1 returned. */
static int decode_inv(struct peer *p, const char *command, const uint8_t *payload,
		      size_t len, struct msg_inv *inv)
{
	char reason[MSG_REASON_MAX];
	int rc = msg_inv_decode(command, payload, len, inv, reason);

	if (rc == MSG_ERR_NOMEM)
		log_printf("net: peer=%lld %s: out of memory, ignored", (long long)p->id, command);
	else if (rc < 0)
		net_processing_bad_payload(p, command, reason);
	return rc < 0 ? -1 : 0;
}

static void msg_getheaders_cb(struct net_chain *nc, struct peer *p, const uint8_t *payload,
			      size_t len)
{
	char reason[MSG_REASON_MAX];
	struct msg_getheaders *g = malloc(sizeof(*g)); /* 3 KB: not on the stack */

	if (!g)
		return;
	if (msg_getheaders_decode(payload, len, g, reason) < 0)
		net_processing_bad_payload(p, "getheaders", reason);
	else
		on_getheaders(nc, p, g);
	free(g);
}

static void msg_headers_cb(struct net_chain *nc, struct peer *p, const uint8_t *payload,
			   size_t len)
{
	char reason[MSG_REASON_MAX];
	struct msg_headers h;
	bool novel = false;
	int rc = msg_headers_decode(payload, len, &h, reason);

	if (rc == MSG_ERR_NOMEM) {
		log_printf("net: peer=%lld headers: out of memory, ignored", (long long)p->id);
		return;
	}
	if (rc < 0) {
		net_processing_bad_payload(p, "headers", reason);
		return;
	}
	for (uint64_t i = 0; i < h.count; i++) {
		uint8_t hash[32];

		block_header_hash(&h.headers[i], hash);
		novel |= seen_novel(nc, hash);
	}
	if (novel)
		p->last_useful_us = util_mono_us();
	on_headers(nc, p, &h);
	msg_headers_free(&h);
}

typedef void (*msg_fn)(struct net_chain *nc, struct peer *p, const uint8_t *payload,
		       size_t len);
typedef void (*inv_fn)(struct net_chain *nc, struct peer *p, const struct msg_inv *inv);

/* Each message type's handler: of the payload, or (inv, getdata,
 * notfound) of the decoded inventory. */
static const struct {
	const char *command;
	msg_fn fn;
	inv_fn inv;
} msg_handlers[] = {
	{ "inv", NULL, on_inv },
	{ "getdata", NULL, on_getdata },
	{ "notfound", NULL, on_notfound },
	{ "getheaders", msg_getheaders_cb, NULL },
	{ "headers", msg_headers_cb, NULL },
	{ "block", on_block, NULL },
	{ "tx", on_tx, NULL },
};

static bool message_cb(void *ctx, struct peer *p, const char *command,
		       const uint8_t *payload, size_t len)
{
	for (size_t i = 0; i < sizeof(msg_handlers) / sizeof(msg_handlers[0]); i++) {
		struct msg_inv inv;

		if (strcmp(msg_handlers[i].command, command) != 0)
			continue;
		if (msg_handlers[i].fn) {
			msg_handlers[i].fn(ctx, p, payload, len);
		} else if (decode_inv(p, command, payload, len, &inv) == 0) {
			msg_handlers[i].inv(ctx, p, &inv);
			msg_inv_free(&inv);
		}
		return true;
	}
	return false;
}

static void send_more_cb(void *ctx, struct peer *p)
{
	getdata_continue(ctx, p);
}

/* ---- Life cycle ---------------------------------------------------------- */

struct net_chain *net_chain_new(struct chainstate *cs, struct mempool *mp, struct connman *cm)
{
	struct chain_listener l = { announce_block_cb, NULL, NULL };
	struct net_chain *nc = calloc(1, sizeof(*nc));

	if (!nc)
		return NULL;
	nc->cs = cs;
	nc->mp = mp;
	nc->cm = cm;
	nc->dl = net_download_new(cs);
	nc->txreq = net_txrequest_new();
	if (!nc->dl || !nc->txreq) {
		net_chain_free(nc);
		return NULL;
	}
	min_work_init(nc);
	l.ctx = nc;
	chainstate_listen(cs, &l);
	return nc;
}

void net_chain_free(struct net_chain *nc)
{
	if (!nc)
		return;
	net_download_free(nc->dl);
	net_txrequest_free(nc->txreq);
	free(nc);
}

struct net_processing_sync net_chain_sync(struct net_chain *nc)
{
	struct net_processing_sync sync = {
		.ctx = nc,
		.height = height_cb,
		.handshake_done = handshake_done_cb,
		.closed = closed_cb,
		.tick = tick_cb,
		.message = message_cb,
		.send_more = send_more_cb,
	};

	return sync;
}
