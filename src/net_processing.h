/*
 * net_processing.h — what the node does with each P2P message. This file
 * handles the connection itself: the version/verack handshake, ping/pong,
 * addr/getaddr, sendheaders, feefilter, and decoding inv/getdata/notfound/
 * getheaders/headers. Blocks and transactions (inv, getdata, notfound,
 * getheaders, headers, block, tx) are acted on by net_chain.h. Unknown
 * message types are ignored.
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

/* Per-peer protocol state (getpeerinfo and eviction read it). */
struct np_peer_state {
	bool got_version, got_verack, sent_version;
	int32_t version;          /* the peer's protocol version; 0 until known */
	uint64_t services;
	char subver[257];         /* printable characters only */
	int32_t startingheight;
	bool relaytxes;
	bool sendheaders;         /* the peer asked for headers announcements */
	int64_t feefilter;        /* sat/kvB the peer asked for */
	uint64_t local_nonce;     /* the nonce in the version we sent */
	uint64_t ping_nonce;      /* outstanding ping; 0: none */
	int64_t ping_start_us;    /* monotonic */
	int64_t next_ping_us;     /* monotonic; 0: as soon as possible */
	int64_t pingtime_us;      /* last round trip; -1 unmeasured */
	int64_t minping_us;       /* lowest round trip; -1 unmeasured */
	int64_t last_useful_us;   /* last novel inv/headers/addr (monotonic); 0 */
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

/* Fresh state for a new connection. NULL on allocation failure. */
struct np_peer_state *np_peer_new(void);

/* Free the state. Accepts NULL. */
void np_peer_free(struct np_peer_state *s);

/* True once version and verack have both been received. */
bool np_handshake_done(const struct peer *p);

/* A connection was established: on outbound ones we speak first (version). */
void np_on_established(struct peer *p);

/*
 * Act on one complete, checksummed message. May send replies, mark the
 * peer misbehaving or close it (check p->closed afterwards).
 */
void np_process(struct peer *p, const char *command, const uint8_t *payload,
		size_t len);

/* The connection is closing (net_close): release what was asked of it. */
void np_on_closed(struct peer *p);

/* Free what message handling keeps across peers (at shutdown). */
void np_shutdown(void);

/*
 * True while the peer has requests we are still answering (a getdata
 * served a little at a time): net.c reads no further message from it
 * until np_send_more has finished them, as Bitcoin Core does.
 */
bool np_busy(const struct peer *p);

/* The peer's send buffer has room again: answer more of what it asked. */
void np_send_more(struct peer *p);

/* Periodic work for one peer (pings, ping timeout, addr-fetch lifetime,
 * block and transaction requests). */
void np_tick(struct peer *p, int64_t now_us);

/* Ask for a ping to be sent at the next tick (the `ping` RPC). */
void np_request_ping(struct peer *p);

#endif
