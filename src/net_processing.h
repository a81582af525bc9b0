/*
 * net_processing.h — what the node does with each P2P message: the
 * connection manager's handler (struct net_events, net.h). This file
 * handles the connection itself: the version/verack handshake, ping/pong,
 * addr/getaddr, sendheaders and feefilter. Block and transaction messages
 * (inv, getdata, notfound, getheaders, headers, block, tx) go, after the
 * handshake, to the sync layer above through struct net_processing_sync
 * (net_chain.h fills it in), so dependencies point one way: net_chain ->
 * net_processing -> net. Unknown message types are ignored.
 *
 * Every payload is decoded by the wire layer (msg.h) before it is acted
 * on. What a payload that does not decode, or exceeds its limit, gets is
 * Bitcoin Core's answer (doc/p2p.md, "Misbehaviour"): most are dropped;
 * oversized inv/getdata/addr/headers make the peer misbehaving
 * (net_misbehaving) with the wire layer's reason string.
 */
#ifndef MR_NET_PROCESSING_H
#define MR_NET_PROCESSING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "net_download.h"

#define NP_PING_INTERVAL_US (120LL * 1000000)
#define NP_PING_TIMEOUT_US (20LL * 60 * 1000000)
#define NP_ADDR_FETCH_LIFETIME_US (120LL * 1000000)
#define NP_SERVICES 0x409ULL
#define NP_MIN_PEER_VERSION 31800
/* addr rate limit (Bitcoin Core's): a token per entry, 0.1 tokens a second,
 * at most 1000 held; a peer starts with 1000 (doc/p2p.md says why) and
 * gets 1000 more when we send it getaddr. */
#define NP_ADDR_RATE_PER_S 0.1
#define NP_ADDR_TOKENS_MAX 1000.0
/* addr times (Bitcoin Core's): one before 1973 or more than 10 minutes
 * ahead is taken as 5 days ago. */
#define NP_ADDR_FUTURE_S 600
#define NP_ADDR_PENALTY_S (5 * 24 * 3600)

/* Per-peer protocol state (getpeerinfo reads it; net_chain.c keeps its
 * sync state here too). */
struct net_processing_peer {
	bool got_version, got_verack; /* sent ours: p->local_nonce != 0 */
	int32_t version;          /* the peer's protocol version; 0 until known */
	uint64_t services;
	char subver[257];         /* printable characters only */
	int32_t startingheight;
	bool relaytxes;
	bool sendheaders;         /* the peer asked for headers announcements */
	int64_t feefilter;        /* sat/kvB the peer asked for */
	uint64_t ping_nonce;      /* outstanding ping; 0: none */
	int64_t ping_start_us;    /* monotonic */
	int64_t next_ping_us;     /* monotonic; 0: as soon as possible */
	int64_t pingtime_us;      /* last round trip; -1 unmeasured */
	bool getaddr_answered;    /* getaddr is answered once per connection */
	struct dl_peer dl;        /* block download (net_chain.c) */
	/* getdata entries not served yet (owned; net_chain.c serves them as
	 * the send buffer allows, reading nothing else meanwhile). */
	struct msg_inv_entry *getdata;
	size_t getdata_n, getdata_next;
	double addr_tokens;       /* addr entries we will still process */
	int64_t addr_tokens_us;   /* monotonic: when they were last topped up */
	uint64_t addr_rate_limited; /* entries ignored for want of tokens */
	uint64_t lowwork_headers; /* new headers it sent below the anti-DoS work */
};

/*
 * What message handling asks of the layer above it, block and transaction
 * sync (net_chain.h fills one in): the same shape as struct net_events,
 * one level up. Every callback gets `ctx`; each may close the peer.
 */
struct net_processing_sync {
	void *ctx;
	/* Our active tip's height: version's start_height. */
	int32_t (*height)(void *ctx);
	/* The handshake completed (version and verack): start syncing. */
	void (*handshake_done)(void *ctx, struct peer *p);
	/* A handshaken peer is closing: what was asked of it goes to others. */
	void (*closed)(void *ctx, struct peer *p);
	/* Periodic work for a handshaken peer. */
	void (*tick)(void *ctx, struct peer *p, int64_t now_us);
	/* A message after the handshake that is not the connection's own
	 * (inv, getdata, notfound, getheaders, headers, block, tx). Returns
	 * false if it is no message type it knows. */
	bool (*message)(void *ctx, struct peer *p, const char *command,
			const uint8_t *payload, size_t len);
	/* The send buffer drained while getdata entries wait. */
	void (*send_more)(void *ctx, struct peer *p);
};

struct net_processing;

/* Message handling for the peers of `cm`, passing sync messages to `sync`
 * (copied; its ctx must outlive this). NULL when out of memory. */
struct net_processing *net_processing_new(struct connman *cm,
					  const struct net_processing_sync *sync);

/* Free it, after net_free (peers hold state it set up). Accepts
 * NULL. */
void net_processing_free(struct net_processing *np);

/* The callbacks to hand net_start. */
struct net_events net_processing_events(struct net_processing *np);

/* A peer's protocol state (the peer of a connection manager started with
 * net_processing_events). */
struct net_processing_peer *net_processing_peer(const struct peer *p);

/*
 * A payload the wire layer would not decode, with its reason: what Bitcoin
 * Core does (doc/p2p.md, "Misbehaviour") — drop it, disconnect, or mark the
 * peer misbehaving. net_chain.c uses it for the messages it decodes.
 */
void net_processing_bad_payload(struct peer *p, const char *command, const char *reason);

/* Ping every handshaken peer at the next tick (the `ping` RPC). */
void net_processing_ping_all(struct net_processing *np);

#endif
