/*
 * net_processing.c — message handlers. One function per message type,
 * looked up in a table; the handshake rules are checked before the table,
 * and what the table lacks goes to the sync layer (net_processing_sync).
 */
#include "net_processing.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrman.h"
#include "hash.h"
#include "log.h"
#include "msg.h"
#include "ser.h"
#include "util.h"

/* ---- State ------------------------------------------------------------- */

struct net_processing {
	struct connman *cm;
	struct net_processing_sync sync;
	struct log_limit addr_log;  /* "entries over the rate limit" lines */
};

struct net_processing *net_processing_new(struct connman *cm,
					  const struct net_processing_sync *sync)
{
	struct net_processing *np = calloc(1, sizeof(*np));

	if (!np)
		return NULL;
	np->cm = cm;
	np->sync = *sync;
	return np;
}

void net_processing_free(struct net_processing *np)
{
	free(np);
}

struct net_processing_peer *net_processing_peer(const struct peer *p)
{
	return p->handler;
}

/* Shorter, for the handlers below. */
static struct net_processing_peer *st(const struct peer *p)
{
	return p->handler;
}

static int peer_new_cb(void *ctx, struct peer *p)
{
	struct net_processing_peer *s = calloc(1, sizeof(*s));

	(void)ctx;
	if (!s)
		return -1;
	s->pingtime_us = -1;
	s->relaytxes = true;
	s->addr_tokens = NP_ADDR_TOKENS_MAX;
	s->addr_tokens_us = util_mono_us();
	p->handler = s;
	return 0;
}

static void peer_free_cb(void *ctx, struct peer *p)
{
	struct net_processing_peer *s = p->handler;

	(void)ctx;
	if (s)
		free(s->getdata);
	free(s);
	p->handler = NULL;
}

/* A getdata is still being answered: connman reads nothing more. */
static bool busy_cb(void *ctx, const struct peer *p)
{
	(void)ctx;
	return st(p)->getdata_next < st(p)->getdata_n;
}

static void send_more_cb(void *ctx, struct peer *p)
{
	struct net_processing *np = ctx;

	if (busy_cb(ctx, p))
		np->sync.send_more(np->sync.ctx, p);
}

/* ---- Sending ----------------------------------------------------------- */

static void to_msg_netaddr(const struct netaddr *a, uint64_t services,
			   struct msg_netaddr *out)
{
	out->services = services;
	memcpy(out->ip, a->ip, 16);
	out->port = a->port;
}

/* Send a message built in w (freed here). */
static void send_wbuf(struct peer *p, const char *command, struct wbuf *w)
{
	if (w->oom)
		net_close(p, "out of memory building a message");
	else
		net_send(p, command, w->data, w->len);
	ser_write_free(w);
}

static void send_version(struct net_processing *np, struct peer *p)
{
	struct msg_version v = { 0 };
	struct netaddr none = { { 0 }, 0 };
	struct wbuf w;

	p->local_nonce = util_random_u64() | 1;
	v.version = MSG_PROTOCOL_VERSION;
	v.services = NP_SERVICES;
	v.timestamp = util_time_s();
	to_msg_netaddr(&p->addr, 0, &v.addr_recv);
	to_msg_netaddr(&none, NP_SERVICES, &v.addr_from);
	v.nonce = p->local_nonce;
	util_strlcpy(v.user_agent, MSG_USER_AGENT, sizeof(v.user_agent));
	v.start_height = np->sync.height(np->sync.ctx); /* Core: our tip's height */
	v.relay = p->type != CONN_BLOCK_RELAY;
	ser_write_init(&w);
	msg_version_encode(&w, &v);
	send_wbuf(p, "version", &w);
}

static void send_ping(struct peer *p, int64_t now)
{
	struct wbuf w;

	st(p)->ping_nonce = util_random_u64() | 1;
	st(p)->ping_start_us = now;
	st(p)->next_ping_us = now + NP_PING_INTERVAL_US;
	ser_write_init(&w);
	msg_nonce_encode(&w, st(p)->ping_nonce);
	send_wbuf(p, "ping", &w);
}

static void established_cb(void *ctx, struct peer *p)
{
	if (p->type != CONN_INBOUND)
		send_version(ctx, p);
}

void net_processing_ping_all(struct net_processing *np)
{
	for (struct peer *p = net_peers(np->cm); p; p = p->next) {
		if (p->established && p->handshake_done)
			st(p)->next_ping_us = 0;
	}
}

/* ---- Bad payloads ------------------------------------------------------ */

/*
 * A payload the wire layer would not decode, with its reason. Bitcoin
 * Core's answer (doc/p2p.md, "Misbehaviour"): a payload that does not
 * deserialize is dropped and the peer kept; inv, getdata, addr and headers
 * over their size limits make the peer misbehaving; a getheaders locator
 * over 101 entries disconnects it; an oversized notfound is ignored.
 */
void net_processing_bad_payload(struct peer *p, const char *command, const char *reason)
{
	if (strncmp(reason, "malformed ", 10) == 0 || strcmp(command, "notfound") == 0) {
		log_debug(LOG_NET, "net: peer=%lld %s: dropped", (long long)p->id, reason);
	} else if (strcmp(command, "getheaders") == 0) {
		log_debug(LOG_NET, "net: peer=%lld (%s) %s; disconnecting", (long long)p->id,
			  p->addr_str, reason);
		net_close(p, reason);
	} else {
		net_misbehaving(p, reason);
	}
}

/* ---- Handshake --------------------------------------------------------- */

/* Keep printable ASCII of the peer's user agent; the rest becomes '?'. */
static void sanitize(const char *in, char *out, size_t cap)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < cap; i++)
		out[i] = isprint((unsigned char)in[i]) ? in[i] : '?';
	out[i] = '\0';
}

static bool version_acceptable(struct peer *p, const struct msg_version *v)
{
	if (p->type == CONN_INBOUND && net_is_local_nonce(p->cm, v->nonce)) {
		log_printf("net: peer=%lld (%s): connected to self, disconnecting",
			   (long long)p->id, p->addr_str);
		net_close(p, "connected to self");
		return false;
	}
	if (v->version < NP_MIN_PEER_VERSION) {
		log_printf("net: peer=%lld (%s) uses obsolete protocol version %d; disconnecting",
			   (long long)p->id, p->addr_str, v->version);
		net_close(p, "obsolete protocol version");
		return false;
	}
	return true;
}

static void on_version(struct net_processing *np, struct peer *p, const uint8_t *payload,
		       size_t len)
{
	struct net_processing_peer *s = st(p);
	char reason[MSG_REASON_MAX];
	struct msg_version v;

	if (s->got_version) {
		/* Core: "redundant version message", ignored. */
		log_debug(LOG_NET, "net: peer=%lld duplicate version message, ignored",
			  (long long)p->id);
		return;
	}
	if (msg_version_decode(payload, len, &v, reason) < 0) {
		net_processing_bad_payload(p, "version", reason);
		return;
	}
	if (!version_acceptable(p, &v))
		return;
	s->got_version = true;
	s->version = v.version;
	s->services = v.services;
	sanitize(v.user_agent, s->subver, sizeof(s->subver));
	s->startingheight = v.start_height;
	s->relaytxes = v.relay;
	log_debug(LOG_NET, "net: peer=%lld version %d %s height %d", (long long)p->id,
		  v.version, s->subver, v.start_height);
	if (!p->local_nonce) /* we have not sent ours yet */
		send_version(np, p);
	net_send(p, "verack", NULL, 0);
}

/* After verack: announce preferences, measure latency, ask for addresses. */
static void on_handshake_done(struct net_processing *np, struct peer *p)
{
	struct wbuf w;

	p->handshake_done = true;
	log_debug(LOG_NET, "net: peer=%lld (%s, %s) handshake complete", (long long)p->id,
		  p->addr_str, net_conn_type_name(p->type));
	if (p->type != CONN_INBOUND)
		addrman_good(net_addrman(p->cm), &p->addr, util_time_s());
	if (p->type == CONN_FEELER) {
		net_close(p, "feeler handshake done");
		return;
	}
	net_send(p, "sendheaders", NULL, 0);
	if (p->type != CONN_BLOCK_RELAY) {
		ser_write_init(&w);
		msg_feefilter_encode(&w, 1000);
		send_wbuf(p, "feefilter", &w);
	}
	send_ping(p, util_mono_us());
	if (p->type == CONN_OUTBOUND_FULL_RELAY || p->type == CONN_MANUAL ||
	    p->type == CONN_ADDR_FETCH) {
		net_send(p, "getaddr", NULL, 0);
		st(p)->addr_tokens += NP_ADDR_TOKENS_MAX; /* room for the answer */
	}
	if (!p->closed)
		np->sync.handshake_done(np->sync.ctx, p);
}

static void on_verack(struct net_processing *np, struct peer *p, const uint8_t *payload,
		      size_t len)
{
	char reason[MSG_REASON_MAX];

	(void)payload;
	if (msg_empty_decode("verack", len, reason) < 0) {
		net_processing_bad_payload(p, "verack", reason);
		return;
	}
	if (st(p)->got_verack) {
		log_debug(LOG_NET, "net: peer=%lld sent a second verack, ignored", (long long)p->id);
		return;
	}
	st(p)->got_verack = true;
	on_handshake_done(np, p);
}

/* ---- Ping -------------------------------------------------------------- */

static void on_ping(struct net_processing *np, struct peer *p, const uint8_t *payload,
		    size_t len)
{
	char reason[MSG_REASON_MAX];
	uint64_t nonce;
	struct wbuf w;

	(void)np;
	if (msg_nonce_decode("ping", payload, len, &nonce, reason) < 0) {
		net_processing_bad_payload(p, "ping", reason);
		return;
	}
	ser_write_init(&w);
	msg_nonce_encode(&w, nonce);
	send_wbuf(p, "pong", &w);
}

static void on_pong(struct net_processing *np, struct peer *p, const uint8_t *payload,
		    size_t len)
{
	struct net_processing_peer *s = st(p);
	char reason[MSG_REASON_MAX];
	uint64_t nonce;
	int64_t rtt;

	(void)np;
	if (msg_nonce_decode("pong", payload, len, &nonce, reason) < 0) {
		net_processing_bad_payload(p, "pong", reason);
		return;
	}
	if (!s->ping_nonce || nonce != s->ping_nonce) {
		log_debug(LOG_NET, "net: peer=%lld pong with unexpected nonce, ignored",
			  (long long)p->id);
		return;
	}
	rtt = util_mono_us() - s->ping_start_us;
	s->ping_nonce = 0;
	s->pingtime_us = rtt;
	if (p->minping_us < 0 || rtt < p->minping_us)
		p->minping_us = rtt; /* eviction protects the fastest */
}

/* ---- Addresses --------------------------------------------------------- */

/* Bitcoin Core's clamp: a time from before 1973 or from the future never
 * ages out of the table, so it becomes "5 days ago". */
static int64_t addr_time_clamp(int64_t t, int64_t now)
{
	return t <= 100000000 || t > now + NP_ADDR_FUTURE_S ? now - NP_ADDR_PENALTY_S : t;
}

/* Top up the peer's addr tokens for the time passed; take one if there is
 * one. */
static bool addr_token_take(struct net_processing_peer *s, int64_t now_us)
{
	s->addr_tokens += (double)(now_us - s->addr_tokens_us) / 1e6 * NP_ADDR_RATE_PER_S;
	s->addr_tokens_us = now_us;
	if (s->addr_tokens > NP_ADDR_TOKENS_MAX)
		s->addr_tokens = NP_ADDR_TOKENS_MAX;
	if (s->addr_tokens < 1.0)
		return false;
	s->addr_tokens -= 1.0;
	return true;
}

static void on_addr(struct net_processing *np, struct peer *p, const uint8_t *payload,
		    size_t len)
{
	struct addrman *am = net_addrman(p->cm);
	char reason[MSG_REASON_MAX];
	struct msg_addr a;
	size_t added = 0, limited = 0;
	int64_t now = util_time_s(), now_us = util_mono_us();
	int rc = msg_addr_decode(payload, len, &a, reason);

	if (rc == MSG_ERR_NOMEM) {
		log_printf("net: peer=%lld addr: out of memory, ignored", (long long)p->id);
		return;
	}
	if (rc < 0) {
		net_processing_bad_payload(p, "addr", reason);
		return;
	}
	for (uint64_t i = 0; i < a.count && p->type != CONN_BLOCK_RELAY; i++) {
		struct netaddr na;

		if (!addr_token_take(st(p), now_us)) {
			limited++;
			continue;
		}
		memcpy(na.ip, a.entries[i].addr.ip, 16);
		na.port = a.entries[i].addr.port;
		if (addrman_add_from(am, &na, a.entries[i].addr.services,
				     addr_time_clamp(a.entries[i].time, now), &p->addr) == 1)
			added++;
	}
	msg_addr_free(&a);
	st(p)->addr_rate_limited += limited;
	if (limited)
		log_limited(&np->addr_log, "net: peer=%lld addr: %zu entries over the rate limit ignored (%llu so far)",
			    (long long)p->id, limited, (unsigned long long)st(p)->addr_rate_limited);
	if (added)
		p->last_useful_us = util_mono_us();
	log_debug(LOG_NET, "net: peer=%lld addr: %zu new addresses, %zu known",
		  (long long)p->id, added, addrman_size(am));
	if (p->type == CONN_ADDR_FETCH)
		net_close(p, "addr-fetch done");
}

static void on_getaddr(struct net_processing *np, struct peer *p, const uint8_t *payload,
		       size_t len)
{
	struct msg_addr_entry *entries;
	char reason[MSG_REASON_MAX];
	struct wbuf w;
	size_t n;

	(void)np;
	(void)payload;
	if (msg_empty_decode("getaddr", len, reason) < 0) {
		net_processing_bad_payload(p, "getaddr", reason);
		return;
	}
	/* Like Bitcoin: answer inbound peers only, and once per connection,
	 * so our address table cannot be scraped or used to fingerprint us. */
	if (p->type != CONN_INBOUND || st(p)->getaddr_answered)
		return;
	st(p)->getaddr_answered = true;
	entries = calloc(MSG_MAX_ADDR, sizeof(*entries));
	if (!entries)
		return;
	n = addrman_sample(net_addrman(p->cm), entries, MSG_MAX_ADDR);
	if (n) {
		ser_write_init(&w);
		msg_addr_encode(&w, entries, n);
		send_wbuf(p, "addr", &w);
	}
	free(entries);
}

/* ---- Small preference messages ----------------------------------------- */

static void on_sendheaders(struct net_processing *np, struct peer *p, const uint8_t *payload,
			   size_t len)
{
	char reason[MSG_REASON_MAX];

	(void)np;
	(void)payload;
	if (msg_empty_decode("sendheaders", len, reason) < 0)
		net_processing_bad_payload(p, "sendheaders", reason);
	else
		st(p)->sendheaders = true;
}

static void on_feefilter(struct net_processing *np, struct peer *p, const uint8_t *payload,
			 size_t len)
{
	char reason[MSG_REASON_MAX];
	int64_t rate;

	(void)np;
	if (msg_feefilter_decode(payload, len, &rate, reason) < 0)
		net_processing_bad_payload(p, "feefilter", reason);
	else
		st(p)->feefilter = rate;
}

/* ---- Dispatch ---------------------------------------------------------- */

typedef void (*handler_fn)(struct net_processing *np, struct peer *p, const uint8_t *payload,
			   size_t len);

static const struct {
	const char *command;
	handler_fn fn;
} handlers[] = {
	{ "version", on_version },   { "verack", on_verack },
	{ "ping", on_ping },         { "pong", on_pong },
	{ "addr", on_addr },         { "getaddr", on_getaddr },
	{ "sendheaders", on_sendheaders }, { "feefilter", on_feefilter },
};

static handler_fn find_handler(const char *command)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (strcmp(handlers[i].command, command) == 0)
			return handlers[i].fn;
	}
	return NULL;
}

static void message_cb(void *ctx, struct peer *p, const char *command,
		       const uint8_t *payload, size_t len)
{
	struct net_processing *np = ctx;
	char reason[MSG_REASON_MAX];
	handler_fn fn;

	if (!st(p)->got_version && strcmp(command, "version") != 0) {
		/* Core: ignored ("non-version message before version handshake"). */
		snprintf(reason, sizeof(reason), "message before version handshake: %s", command);
		log_debug(LOG_NET, "net: peer=%lld %s, ignored", (long long)p->id, reason);
		return;
	}
	fn = find_handler(command);
	/* Between version and verack only the handshake itself counts. */
	if (!st(p)->got_verack && fn != on_version && fn != on_verack) {
		log_debug(LOG_NET, "net: peer=%lld sent %s before verack, ignored",
			  (long long)p->id, command);
		return;
	}
	if (fn)
		fn(np, p, payload, len);
	else if (!np->sync.message(np->sync.ctx, p, command, payload, len))
		log_debug(LOG_NET, "net: peer=%lld sent unknown message type '%s', ignored",
			  (long long)p->id, command);
}

static void tick_cb(void *ctx, struct peer *p, int64_t now_us)
{
	struct net_processing *np = ctx;
	struct net_processing_peer *s = st(p);

	if (s->ping_nonce && now_us - s->ping_start_us > NP_PING_TIMEOUT_US) {
		log_printf("net: peer=%lld (%s) ping timeout; disconnecting", (long long)p->id,
			   p->addr_str);
		net_close(p, "ping timeout");
		return;
	}
	if (p->type == CONN_ADDR_FETCH && now_us - p->connected_us > NP_ADDR_FETCH_LIFETIME_US) {
		net_close(p, "addr-fetch lifetime over");
		return;
	}
	if (!s->ping_nonce && now_us >= s->next_ping_us)
		send_ping(p, now_us);
	if (!p->closed)
		np->sync.tick(np->sync.ctx, p, now_us);
}

/* Only a handshaken peer was handed to the sync layer. */
static void closed_cb(void *ctx, struct peer *p)
{
	struct net_processing *np = ctx;

	if (p->handshake_done)
		np->sync.closed(np->sync.ctx, p);
}

struct net_events net_processing_events(struct net_processing *np)
{
	struct net_events ev = {
		.ctx = np,
		.peer_new = peer_new_cb,
		.peer_free = peer_free_cb,
		.established = established_cb,
		.closed = closed_cb,
		.message = message_cb,
		.busy = busy_cb,
		.send_more = send_more_cb,
		.tick = tick_cb,
	};

	return ev;
}
