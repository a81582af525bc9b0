/*
 * net_chain.c — headers-first sync, block download and announcement,
 * transaction relay.
 */
#include "net_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net_processing.h"
#include "ser.h"
#include "util.h"

static struct {
	struct chainstate *cs;
	struct mempool *mp;
	struct connman *cm;
	u256 min_work;      /* -minimumchainwork */
} nc;

/*
 * Blocks asked for and not yet received, one peer per block (Bitcoin's
 * mapBlocksInFlight), so that two peers announcing the same block do not
 * both send it. A direct-mapped table: a collision forgets the older
 * request, which costs at most one duplicate download. A request stops
 * holding a block back once its peer has gone or after BLOCK_STALL_US,
 * so a peer that never answers delays the block, never loses it.
 */
#define INFLIGHT_SLOTS 4096            /* a power of two, > MSG_MAX_HEADERS */
#define BLOCK_STALL_US (10 * 1000000LL)

static struct inflight {
	uint8_t hash[32];
	int64_t peer;
	int64_t since_us;
	bool used;
} inflight[INFLIGHT_SLOTS];

static struct inflight *inflight_slot(const uint8_t hash[32])
{
	uint32_t h;

	memcpy(&h, hash, sizeof(h));   /* block hashes are uniform */
	return &inflight[h & (INFLIGHT_SLOTS - 1)];
}

/* True if another peer that is still connected was asked for the block
 * less than BLOCK_STALL_US ago. */
static bool inflight_elsewhere(const uint8_t hash[32], const struct peer *p)
{
	const struct inflight *f = inflight_slot(hash);

	return f->used && f->peer != p->id && memcmp(f->hash, hash, 32) == 0 &&
	       util_mono_us() - f->since_us < BLOCK_STALL_US && connman_find_id(nc.cm, f->peer);
}

static void inflight_set(const uint8_t hash[32], const struct peer *p)
{
	struct inflight *f = inflight_slot(hash);

	memcpy(f->hash, hash, 32);
	f->peer = p->id;
	f->since_us = util_mono_us();
	f->used = true;
}

static void inflight_done(const uint8_t hash[32])
{
	struct inflight *f = inflight_slot(hash);

	if (memcmp(f->hash, hash, 32) == 0)
		f->used = false;
}

static void send_wbuf(struct peer *p, const char *command, struct wbuf *w)
{
	if (!w->oom)
		net_send(p, command, w->data, w->len);
	else
		log_printf("net: peer=%lld %s: out of memory, not sent", (long long)p->id, command);
	wbuf_free(w);
}

static void send_getheaders(struct peer *p)
{
	struct msg_getheaders *g = calloc(1, sizeof(*g));
	struct wbuf w;

	if (!g)
		return;
	g->version = 70016;
	g->count = chainstate_locator(nc.cs, g->locator, MSG_MAX_LOCATOR);
	wbuf_init(&w);
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
	wbuf_init(&w);
	msg_inv_encode(&w, &e, 1);
	send_wbuf(p, command, &w);
}

/* Rules a peer can break on purpose; other failures (unknown parent, a
 * block from the future, our own store errors) are not its fault. */
static bool punishable(const char *reason)
{
	return strncmp(reason, "bad-", 4) == 0 || strcmp(reason, "high-hash") == 0 ||
	       strncmp(reason, "mandatory-", 10) == 0 || strcmp(reason, "duplicate-invalid") == 0;
}

static void announce_block_cb(void *ctx, const struct block *b, const struct block_index *bi)
{
	(void)ctx;
	(void)b;
	for (struct peer *p = connman_peers(nc.cm); p; p = p->next) {
		if (!p->established || p->closed || !np_handshake_done(p) || p->type == CONN_FEELER)
			continue;
		if (p->np->sendheaders) {
			struct wbuf w;
			wbuf_init(&w);
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
	const char *hex = nc.cm ? connman_config(nc.cm)->minimumchainwork : "";
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
	min_work_init();
	chainstate_listen(cs, &l);
}

void netchain_on_handshake(struct peer *p)
{
	if (nc.cs && p->type != CONN_FEELER)
		send_getheaders(p);
}

void netchain_relay_tx(const uint8_t txid[32], const struct peer *from)
{
	if (!nc.cm)
		return;
	for (struct peer *p = connman_peers(nc.cm); p; p = p->next) {
		if (p == from || !p->established || p->closed || !np_handshake_done(p) ||
		    !p->np->relaytxes || p->type == CONN_BLOCK_RELAY || p->type == CONN_FEELER)
			continue;
		send_inv(p, "inv", MSG_INV_TX, txid);
	}
}

void netchain_on_inv(struct peer *p, const struct msg_inv *inv)
{
	struct msg_inv_entry *want;
	size_t n = 0;
	bool unknown_block = false;

	if (!nc.cs)
		return;
	want = calloc(inv->count ? inv->count : 1, sizeof(*want));
	if (!want)
		return;
	for (uint64_t i = 0; i < inv->count; i++) {
		const struct msg_inv_entry *e = &inv->entries[i];
		uint32_t type = e->type & ~MSG_INV_WITNESS_FLAG;
		if (type == MSG_INV_BLOCK && !chainstate_lookup(nc.cs, e->hash))
			unknown_block = true;
		else if (type == MSG_INV_TX && p->type != CONN_BLOCK_RELAY &&
			 !mempool_get(nc.mp, e->hash))
			want[n++] = *e;
	}
	if (n) {
		struct wbuf w;
		wbuf_init(&w);
		msg_inv_encode(&w, want, n);
		send_wbuf(p, "getdata", &w);
	}
	free(want);
	/* Blocks are fetched headers first: the headers say where they go. */
	if (unknown_block)
		send_getheaders(p);
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
	wbuf_init(&w);
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
		wbuf_init(&w);
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
	struct msg_block_header *out;
	size_t n = 0;
	struct wbuf w;

	if (!nc.cs) {
		wbuf_init(&w);
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
	wbuf_init(&w);
	msg_headers_encode(&w, out, n);
	send_wbuf(p, "headers", &w);
	free(out);
}

/* Ask for the blocks we lack on the way to `target`, oldest first, except
 * those another peer is already sending. */
static void request_blocks(struct peer *p, const struct block_index *target)
{
	struct msg_inv_entry *want;
	size_t n = 0, cap = MSG_MAX_HEADERS;
	const struct block_index *bi;
	struct wbuf w;

	want = calloc(cap, sizeof(*want));
	if (!want)
		return;
	for (bi = target; bi && !chainstate_contains(nc.cs, bi); bi = bi->prev)
		;
	/* bi is the fork; walk up from it. */
	for (int32_t h = (bi ? bi->height : -1) + 1; h <= target->height && n < cap; h++) {
		const struct block_index *x = chainstate_ancestor(target, h);
		if ((x->status & BLOCK_HAVE_DATA) || inflight_elsewhere(x->hash, p))
			continue;
		want[n].type = MSG_INV_BLOCK;
		memcpy(want[n].hash, x->hash, 32);
		inflight_set(x->hash, p);
		n++;
	}
	if (n) {
		wbuf_init(&w);
		msg_inv_encode(&w, want, n);
		send_wbuf(p, "getdata", &w);
	}
	free(want);
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
	work_from_bits(tip->header.bits, &per_block);
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

		work_from_bits(h->headers[i].bits, &w);
		u256_add(&work, &w);
		msg_block_header_hash(&h->headers[i], hash);
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
	for (uint64_t i = 0; i < h->count; i++) {
		if (chainstate_accept_header(nc.cs, &h->headers[i], &last, reason) < 0) {
			if (strcmp(reason, "prev-blk-not-found") == 0) {
				/* An announcement that does not connect: catch up. */
				send_getheaders(p);
			} else if (punishable(reason) || strcmp(reason, "time-too-old") == 0) {
				char why[MSG_REASON_MAX];
				snprintf(why, sizeof(why), "invalid header: %.90s", reason);
				net_misbehaving(p, why);
			}
			return;
		}
	}
	request_blocks(p, last);
	if (h->count == MSG_MAX_HEADERS)
		send_getheaders(p);
}

void netchain_on_block(struct peer *p, const uint8_t *payload, size_t len)
{
	char reason[CHAIN_REASON_MAX];
	struct block b;
	bool is_new;

	if (block_decode_bytes(payload, len, &b) < 0) {
		net_misbehaving(p, "malformed block message");
		return;
	}
	if (!nc.cs) {
		block_clear(&b);
		return;
	}
	inflight_done(b.hash);
	if (chainstate_process_block(nc.cs, &b, &is_new, reason) < 0) {
		if (strcmp(reason, "prev-blk-not-found") == 0) {
			send_getheaders(p);
		} else if (punishable(reason)) {
			char why[MSG_REASON_MAX];
			snprintf(why, sizeof(why), "invalid block: %.90s", reason);
			net_misbehaving(p, why);
		} else {
			log_printf("net: peer=%lld block not accepted: %s", (long long)p->id, reason);
		}
	} else if (is_new) {
		p->np->last_useful_us = util_mono_us();
	}
	block_clear(&b);
}

void netchain_on_tx(struct peer *p, const uint8_t *payload, size_t len)
{
	char reason[CHAIN_REASON_MAX];
	struct tx t;

	if (tx_decode_bytes(payload, len, &t) < 0) {
		net_misbehaving(p, "malformed tx message");
		return;
	}
	if (nc.mp && mempool_accept(nc.mp, &t, false, NULL, NULL, reason) == 0) {
		p->np->last_useful_us = util_mono_us();
		netchain_relay_tx(t.txid, p);
	} else if (nc.mp) {
		log_debug(LOG_NET, "net: peer=%lld tx rejected: %s", (long long)p->id, reason);
	}
	tx_clear(&t);
}
