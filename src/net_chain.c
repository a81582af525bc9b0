/*
 * net_chain.c — headers-first sync, block download and announcement,
 * transaction relay.
 */
#include "net_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net_download.h"
#include "net_processing.h"
#include "net_txrequest.h"
#include "ser.h"
#include "util.h"

static struct {
	struct chainstate *cs;
	struct mempool *mp;
	struct connman *cm;
	u256 min_work;      /* -minimumchainwork */
} nc;

/*
 * Transactions we rejected since the last block: not asked for again when
 * another peer announces them (Core's m_lazy_recent_rejects, also reset
 * when the tip changes). Direct-mapped: a collision only forgets a reject.
 */
#define REJECT_SLOTS 4096
static struct {
	uint8_t txid[REJECT_SLOTS][32];
	bool used[REJECT_SLOTS];
} rejects;

static size_t reject_slot(const uint8_t txid[32])
{
	uint32_t h;

	memcpy(&h, txid, sizeof(h));
	return h & (REJECT_SLOTS - 1);
}

static void reject_add(const uint8_t txid[32])
{
	size_t i = reject_slot(txid);

	memcpy(rejects.txid[i], txid, 32);
	rejects.used[i] = true;
}

static bool reject_known(const uint8_t txid[32])
{
	size_t i = reject_slot(txid);

	return rejects.used[i] && memcmp(rejects.txid[i], txid, 32) == 0;
}

static void send_wbuf(struct peer *p, const char *command, struct wbuf *w)
{
	if (!w->oom)
		net_send(p, command, w->data, w->len);
	else
		log_printf("net: peer=%lld %s: out of memory, not sent", (long long)p->id, command);
	ser_write_free(w);
}

static void send_getheaders(struct peer *p)
{
	struct msg_getheaders *g = calloc(1, sizeof(*g));
	struct wbuf w;

	if (!g)
		return;
	g->version = 70016;
	g->count = chainstate_locator(nc.cs, g->locator, MSG_MAX_LOCATOR);
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
	const struct block_index *best = p->np->dl.best_known;

	return best && best->height >= bi->height && chainstate_ancestor(best, bi->height) == bi;
}

static void announce_block_cb(void *ctx, const struct block *b, const struct block_index *bi)
{
	(void)ctx;
	(void)b;
	/* The tip moved: a rejected transaction may be valid now (Core). */
	memset(rejects.used, 0, sizeof(rejects.used));
	for (struct peer *p = net_peers(nc.cm); p; p = p->next) {
		if (!p->established || p->closed || !np_handshake_done(p) ||
		    p->type == CONN_FEELER || peer_has_block(p, bi))
			continue;
		if (p->np->sendheaders) {
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
static void min_work_init(void)
{
	const char *hex = nc.cm ? net_config(nc.cm)->minimumchainwork : "";
	char padded[65];
	size_t n = strlen(hex);

	memset(&nc.min_work, 0, sizeof(nc.min_work));
	if (!n || n > 64)
		return;
	memset(padded, '0', 64 - n);
	memcpy(padded + 64 - n, hex, n + 1);
	if (u256_from_hex(padded, &nc.min_work) < 0)
		memset(&nc.min_work, 0, sizeof(nc.min_work));
}

void netchain_init(struct chainstate *cs, struct mempool *mp, struct connman *cm)
{
	struct chain_listener l = { announce_block_cb, NULL, NULL };

	nc.cs = cs;
	nc.mp = mp;
	nc.cm = cm;
	net_download_init(cs);
	min_work_init();
	chainstate_listen(cs, &l);
}

void netchain_shutdown(void)
{
	net_download_shutdown();
	net_txrequest_shutdown();
}

int32_t netchain_height(void)
{
	return nc.cs ? chainstate_height(nc.cs) : 0;
}

void netchain_on_handshake(struct peer *p)
{
	net_download_peer_init(&p->np->dl, p->id);
	if (nc.cs && p->type != CONN_FEELER)
		send_getheaders(p);
}

void netchain_on_closed(struct peer *p)
{
	net_download_peer_gone(&p->np->dl);
	net_txrequest_peer_gone(p->id);
}

void netchain_relay_tx(const uint8_t txid[32], const struct peer *from)
{
	if (!nc.cm)
		return;
	for (struct peer *p = net_peers(nc.cm); p; p = p->next) {
		if (p == from || !p->established || p->closed || !np_handshake_done(p) ||
		    !p->np->relaytxes || p->type == CONN_BLOCK_RELAY || p->type == CONN_FEELER)
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
static void request_blocks(struct peer *p)
{
	uint8_t want[DL_MAX_PER_PEER][32];
	size_t n;

	if (!nc.cs || p->closed || p->type == CONN_FEELER)
		return;
	n = net_download_next_blocks(&p->np->dl, util_mono_us(), want, DL_MAX_PER_PEER);
	if (!send_getdata(p, MSG_INV_BLOCK, (const uint8_t (*)[32])want, n)) {
		/* Not asked after all: free for the next try, here or elsewhere. */
		for (size_t i = 0; i < n; i++)
			net_download_block_done(&p->np->dl, want[i]);
	}
}

/* Ask the peer for the transactions whose turn has come (net_txrequest.h). */
static void request_txs(struct peer *p, int64_t now_us)
{
	enum { BATCH = 1000 };
	uint8_t (*want)[32];
	size_t n;

	if (!nc.mp || p->closed || !net_txrequest_count(p->id))
		return;
	want = malloc(BATCH * sizeof(*want));
	if (!want)
		return;
	do {
		n = net_txrequest_next(p->id, now_us, want, BATCH);
		send_getdata(p, MSG_INV_TX, (const uint8_t (*)[32])want, n);
	} while (n == BATCH && !p->closed);
	free(want);
}

void netchain_on_inv(struct peer *p, const struct msg_inv *inv)
{
	int64_t now = util_mono_us();
	bool unknown_block = false;

	if (!nc.cs)
		return;
	for (uint64_t i = 0; i < inv->count; i++) {
		const struct msg_inv_entry *e = &inv->entries[i];
		uint32_t type = e->type & ~MSG_INV_WITNESS_FLAG;
		if (type == MSG_INV_BLOCK) {
			const struct block_index *bi = chainstate_lookup(nc.cs, e->hash);
			if (bi)
				net_download_peer_has(&p->np->dl, bi);
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
			if (!mempool_get(nc.mp, e->hash) && !reject_known(e->hash))
				net_txrequest_announced(p->id, e->hash, p->type != CONN_INBOUND, now);
		}
	}
	request_txs(p, now);
	request_blocks(p);
	/* Blocks are fetched headers first: the headers say where they go. */
	if (unknown_block)
		send_getheaders(p);
}

void netchain_on_notfound(struct peer *p, const struct msg_inv *inv)
{
	for (uint64_t i = 0; i < inv->count; i++) {
		const struct msg_inv_entry *e = &inv->entries[i];
		if ((e->type & ~MSG_INV_WITNESS_FLAG) == MSG_INV_TX)
			net_txrequest_notfound(p->id, e->hash);
	}
}

void netchain_tick(struct peer *p, int64_t now_us)
{
	int64_t timeout_s = net_config(p->cm)->blockdownloadtimeout;

	if (net_download_peer_timed_out(&p->np->dl, now_us, timeout_s * 1000000)) {
		/* Core disconnects a peer that does not deliver a block it was
		 * asked for in time; its blocks go to others. */
		log_printf("net: peer=%lld (%s) did not send a requested block in %llds; disconnecting",
			   (long long)p->id, p->addr_str, (long long)timeout_s);
		net_close(p, "block download timeout");
		return;
	}
	request_blocks(p);
	request_txs(p, now_us);
}

/* Send the block, or add it to `missing`. */
static void serve_block(struct peer *p, const struct msg_inv_entry *e,
			struct msg_inv_entry *missing, size_t *nmissing)
{
	const struct block_index *bi = chainstate_lookup(nc.cs, e->hash);
	uint8_t *data;
	size_t len;

	if (bi && chainstate_read_block_bytes(nc.cs, bi, &data, &len) == 0) {
		net_send(p, "block", data, len);
		free(data);
	} else {
		missing[(*nmissing)++] = *e;
	}
}

static void serve_tx(struct peer *p, const struct msg_inv_entry *e,
		     struct msg_inv_entry *missing, size_t *nmissing)
{
	const struct mempool_entry *me = mempool_get(nc.mp, e->hash);
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

/* A slot of the duplicate filter: 0 is empty, else the entry's index + 1. */
static uint64_t entry_key(const struct msg_inv_entry *e)
{
	uint64_t k;

	memcpy(&k, e->hash, sizeof(k));      /* hashes are uniform */
	return k ^ (e->type & ~MSG_INV_WITNESS_FLAG);
}

static bool same_entry(const struct msg_inv_entry *a, const struct msg_inv_entry *b)
{
	return (a->type & ~MSG_INV_WITNESS_FLAG) == (b->type & ~MSG_INV_WITNESS_FLAG) &&
	       memcmp(a->hash, b->hash, 32) == 0;
}

/*
 * Copy inv's entries without repeats, in order, to *out (malloc'd). One
 * getdata naming a block 5,000 times is one block to send, not 5,000.
 * Returns how many, or -1 when out of memory.
 */
static long getdata_unique(const struct msg_inv *inv, struct msg_inv_entry **out)
{
	size_t cap = 16, n = 0;
	uint32_t *slots;

	while (cap < 2 * inv->count)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	*out = malloc(inv->count * sizeof(**out));
	if (!slots || !*out) {
		free(slots);
		free(*out);
		return -1;
	}
	for (uint64_t i = 0; i < inv->count; i++) {
		size_t s = entry_key(&inv->entries[i]) & (cap - 1);

		while (slots[s] && !same_entry(&(*out)[slots[s] - 1], &inv->entries[i]))
			s = (s + 1) & (cap - 1);
		if (!slots[s]) {
			(*out)[n] = inv->entries[i];
			slots[s] = (uint32_t)++n;
		}
	}
	free(slots);
	return (long)n;
}

/* Answer queued entries while the peer's send buffer has room; notfound
 * for those we lack. */
void netchain_getdata_continue(struct peer *p)
{
	struct np_peer_state *s = p->np;
	struct msg_inv_entry *missing = malloc((s->getdata_n - s->getdata_next) * sizeof(*missing));
	size_t nmissing = 0;

	if (!missing)
		return;
	while (s->getdata_next < s->getdata_n && !p->closed &&
	       net_send_queued(p) < NET_SEND_BUFFER_MAX) {
		const struct msg_inv_entry *e = &s->getdata[s->getdata_next++];
		uint32_t type = e->type & ~MSG_INV_WITNESS_FLAG;

		if (nc.cs && type == MSG_INV_BLOCK)
			serve_block(p, e, missing, &nmissing);
		else if (nc.mp && type == MSG_INV_TX)
			serve_tx(p, e, missing, &nmissing);
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

void netchain_on_getdata(struct peer *p, const struct msg_inv *inv)
{
	struct np_peer_state *s = p->np;
	struct msg_inv_entry *unique;
	long n = getdata_unique(inv, &unique);

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
	netchain_getdata_continue(p);
}

void netchain_on_getheaders(struct peer *p, const struct msg_getheaders *g)
{
	const struct block_index *fork;
	struct block_header *out;
	size_t n = 0;
	struct wbuf w;

	if (!nc.cs) {
		ser_write_init(&w);
		msg_headers_encode(&w, NULL, 0);
		send_wbuf(p, "headers", &w);
		return;
	}
	out = malloc(MSG_MAX_HEADERS * sizeof(*out));
	if (!out)
		return;
	fork = chainstate_find_fork(nc.cs, (const uint8_t (*)[32])g->locator,
				    (size_t)(g->count < MSG_MAX_LOCATOR ? g->count : MSG_MAX_LOCATOR));
	for (int32_t h = fork->height + 1; n < MSG_MAX_HEADERS; h++) {
		const struct block_index *bi = chainstate_at(nc.cs, h);
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

static void process_block(struct peer *p, const struct block *b, const uint8_t *bytes,
			  size_t len);

/* Process the kept blocks whose parent is now known (net_download.h). */
static void process_orphans(struct peer *p)
{
	uint8_t *bytes;
	size_t len;
	int64_t from;

	while (!p->closed && net_download_orphan_take_ready(&bytes, &len, &from)) {
		struct block b;
		struct peer *src = net_find_id(nc.cm, from);

		if (block_decode_bytes(bytes, len, &b) == 0) {
			log_debug(LOG_NET, "net: processing orphan block from peer=%lld",
				  (long long)from);
			process_block(src && !src->closed ? src : p, &b, bytes, len);
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
static bool work_enough(const u256 *work)
{
	const struct block_index *tip = chainstate_tip(nc.cs);
	u256 have = *work, per_block;

	if (u256_cmp(work, &nc.min_work) < 0)
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
static bool headers_work_ok(struct peer *p, const struct msg_headers *h)
{
	static struct log_limit lowwork_log;
	const struct block_index *prev = chainstate_lookup(nc.cs, h->headers[0].prev_block);
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
		fresh += chainstate_lookup(nc.cs, hash) == NULL;
	}
	if (!fresh || work_enough(&work))
		return true;
	p->np->lowwork_headers += fresh;
	if (p->np->lowwork_headers <= HEADERS_LOWWORK_PER_PEER)
		return true;
	log_limited(&lowwork_log, "net: peer=%lld sent %llu headers of chains with too little work (below -minimumchainwork or more than %d blocks below our tip; at most %d); disconnecting",
		    (long long)p->id, (unsigned long long)p->np->lowwork_headers,
		    HEADERS_ANTIDOS_BLOCKS, HEADERS_LOWWORK_PER_PEER);
	net_close(p, "low-work headers");
	return false;
}

void netchain_on_headers(struct peer *p, const struct msg_headers *h)
{
	const struct block_index *last = NULL;
	char reason[CHAIN_REASON_MAX];

	if (!nc.cs || h->count == 0 || !headers_work_ok(p, h))
		return;
	if (!headers_continuous(h)) {
		net_misbehaving(p, "non-continuous headers sequence");
		return;
	}
	for (uint64_t i = 0; i < h->count; i++) {
		if (chainstate_accept_header(nc.cs, &h->headers[i], &last, reason) < 0) {
			if (strcmp(reason, "prev-blk-not-found") == 0) {
				/* An announcement that does not connect: catch up. */
				send_getheaders(p);
			} else if (block_punishable(p, reason)) {
				char why[MSG_REASON_MAX];
				snprintf(why, sizeof(why), "invalid header: %.90s", reason);
				net_misbehaving(p, why);
			}
			return;
		}
	}
	net_download_peer_has(&p->np->dl, last);
	request_blocks(p);
	if (h->count == MSG_MAX_HEADERS)
		send_getheaders(p);
	process_orphans(p);
}

/* A block whose parent we do not know: keep it, and ask the peer for the
 * headers that lead to it (doc/p2p.md: Core would drop it). */
static void keep_orphan(struct peer *p, const struct block *b, const uint8_t *bytes,
			size_t len)
{
	int rc = net_download_orphan_add(b->hash, b->header.prev_block, bytes, len, p->id);

	if (rc < 0)
		log_printf("net: peer=%lld orphan block not kept: out of memory",
			   (long long)p->id);
	else if (rc == 0)
		log_debug(LOG_NET, "net: peer=%lld block with unknown parent kept (%zu kept)",
			  (long long)p->id, net_download_orphan_count());
	send_getheaders(p);
}

static void process_block(struct peer *p, const struct block *b, const uint8_t *bytes,
			  size_t len)
{
	char reason[CHAIN_REASON_MAX];
	bool is_new;
	int rc = chainstate_process_block(nc.cs, b, &is_new, reason);

	/* Received and processed: no longer in flight, from anyone. */
	net_download_block_done(&p->np->dl, b->hash);
	if (rc < 0) {
		if (strcmp(reason, "prev-blk-not-found") == 0) {
			keep_orphan(p, b, bytes, len);
		} else if (block_punishable(p, reason)) {
			char why[MSG_REASON_MAX];
			snprintf(why, sizeof(why), "invalid block: %.90s", reason);
			net_misbehaving(p, why);
		} else {
			log_printf("net: peer=%lld block not accepted: %s", (long long)p->id, reason);
		}
		return;
	}
	net_download_peer_has(&p->np->dl, chainstate_lookup(nc.cs, b->hash));
	if (is_new)
		p->np->last_useful_us = util_mono_us();
}

void netchain_on_block(struct peer *p, const uint8_t *payload, size_t len)
{
	struct block b;

	if (block_decode_bytes(payload, len, &b) < 0) {
		/* Core: a message that does not deserialize is dropped. */
		log_debug(LOG_NET, "net: peer=%lld malformed block message dropped",
			  (long long)p->id);
		return;
	}
	if (!nc.cs) {
		block_clear(&b);
		return;
	}
	process_block(p, &b, payload, len);
	block_clear(&b);
	if (p->closed)
		return;
	process_orphans(p);
	request_blocks(p);
}

void netchain_on_tx(struct peer *p, const uint8_t *payload, size_t len)
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
	net_txrequest_forget(t.txid);
	if (nc.mp && mempool_accept(nc.mp, &t, false, NULL, NULL, reason) == 0) {
		p->np->last_useful_us = util_mono_us();
		netchain_relay_tx(t.txid, p);
	} else if (nc.mp) {
		log_debug(LOG_NET, "net: peer=%lld tx rejected: %s", (long long)p->id, reason);
		reject_add(t.txid);
		if (tx_punishable(reason)) {
			char why[MSG_REASON_MAX];
			snprintf(why, sizeof(why), "invalid transaction: %.90s", reason);
			net_misbehaving(p, why);
		}
	}
	tx_clear(&t);
}
