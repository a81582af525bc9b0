/*
 * net.h — the connection manager ("connman"): listening sockets, inbound
 * and outbound connections on libevent bufferevents, connection slots,
 * eviction, discouragement, message framing, per-peer statistics, message
 * logging, and the seven net:* tracepoints.
 *
 * Message content is not its business: the connection manager hands each
 * complete, checksummed message to a handler through a table of callbacks
 * (struct net_events, Bitcoin Core's NetEventsInterface) and offers
 * net_send. It knows nothing of what the messages mean; net_processing.h
 * is the node's handler, and a unit test can be another.
 *
 * Lifetime: a peer struct lives from the connection attempt until the event
 * loop runs after its close; code that closes a peer may keep using the
 * pointer until its callback returns (peer->closed tells).
 */
#ifndef MR_NET_H
#define MR_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "netaddr.h"

struct event_base;
struct bufferevent;
struct addrman;
struct msglog_peer;

/* Outbound slots (Bitcoin's): full-relay, block-relay-only, feeler. */
#define NET_MAX_OUTBOUND_FULL_RELAY 8
#define NET_MAX_BLOCK_RELAY 2
#define NET_MAX_FEELER 1
#define NET_OUTBOUND_SLOTS \
	(NET_MAX_OUTBOUND_FULL_RELAY + NET_MAX_BLOCK_RELAY + NET_MAX_FEELER)
/* Manual connections (-connect, -addnode, addnode RPC) open at once. */
#define NET_MAX_MANUAL 8

enum conn_type {
	CONN_INBOUND,
	CONN_OUTBOUND_FULL_RELAY,
	CONN_BLOCK_RELAY,
	CONN_FEELER,
	CONN_MANUAL,
	CONN_ADDR_FETCH,
};

/* "inbound", "outbound-full-relay", "block-relay-only", "feeler", "manual",
 * "addr-fetch" (the contract's strings). Static storage. */
const char *net_conn_type_name(enum conn_type t);

/* Per-message-type statistics: known types, then "*other*". */
#define NET_MSGTYPES 16
/* The name of statistics slot i (0 <= i < NET_MSGTYPES). */
const char *net_msgtype_name(int i);

struct peer_stats {
	uint64_t bytes_sent[NET_MSGTYPES], bytes_recv[NET_MSGTYPES];
	uint64_t msgs_sent[NET_MSGTYPES], msgs_recv[NET_MSGTYPES];
};

struct peer {
	int64_t id;                 /* 0 until established; never reused */
	struct connman *cm;
	struct bufferevent *bev;
	struct netaddr addr;
	char addr_str[NETADDR_STRLEN];     /* "ip:port" / "[v6]:port" */
	char addrbind_str[NETADDR_STRLEN]; /* our end of the socket */
	enum conn_type type;
	enum net_network network;
	uint64_t netgroup;
	bool established;           /* TCP connected, tracepoint fired */
	bool closed;
	bool paused;                /* send buffer full: not reading */
	int64_t conntime;           /* unix seconds */
	int64_t connected_us;       /* monotonic */
	int64_t lastsend, lastrecv; /* unix seconds, 0 never */
	uint64_t bytessent, bytesrecv;
	struct peer_stats stats;
	struct msglog_peer *msglog; /* NULL unless -logmessages */
	void *handler;              /* the net_events handler's per-peer state */
	/* Set by the handler, read by the connection manager (as Core's
	 * CNode fields are): the handshake is complete (handshake timeout,
	 * ticks); our version's nonce (self-connection check); the lowest
	 * ping and the last novel block, transaction or address (eviction). */
	bool handshake_done;
	uint64_t local_nonce;       /* 0: no version sent */
	int64_t minping_us;         /* -1 unmeasured */
	int64_t last_useful_us;     /* monotonic; 0 never */
	bool manual_persistent;     /* from -connect/-addnode/addnode add */
	bool noban;                 /* -whitelist: never discouraged or evicted */
	bool prefer_evict;          /* connected from a discouraged address */
	size_t inbuf;               /* bytes received, not yet a whole message */
	int64_t partial_since_us;   /* monotonic: when they began arriving; 0 */
	struct peer *next;
};

struct connman;

/*
 * What the connection manager asks of message handling. Every callback
 * gets `ctx` and runs on the event loop; a callback may close the peer
 * (net_close) and the connection manager checks p->closed afterwards.
 */
struct net_events {
	void *ctx;
	/* A connection attempt begins: set up p->handler. Returns 0, or -1
	 * (out of memory) and the connection is not made. */
	int (*peer_new)(void *ctx, struct peer *p);
	/* The peer struct is about to be freed: free p->handler. */
	void (*peer_free)(void *ctx, struct peer *p);
	/* TCP is up and net:*_connection has fired (outbound: speak first). */
	void (*established)(void *ctx, struct peer *p);
	/* An established connection is closing: release what was asked of
	 * it. */
	void (*closed)(void *ctx, struct peer *p);
	/* One complete, checksummed message (payload non-NULL even if len
	 * is 0). */
	void (*message)(void *ctx, struct peer *p, const char *command,
			const uint8_t *payload, size_t len);
	/* True while the peer's earlier requests are still being answered:
	 * no further message is read from it meanwhile (as Core does). */
	bool (*busy)(void *ctx, const struct peer *p);
	/* The peer's send buffer drained: answer more of what it asked. */
	void (*send_more)(void *ctx, struct peer *p);
	/* Periodic work for a peer whose handshake is done (every 250 ms). */
	void (*tick)(void *ctx, struct peer *p, int64_t now_us);
};

/*
 * A connection manager for `cfg` (which must outlive it) in `base`. Opens
 * nothing yet. Returns NULL with the reason in err.
 */
struct connman *net_new(struct event_base *base, const struct config *cfg,
			char *err, size_t errlen);

/*
 * Listen (unless -listen=0), queue -connect/-addnode/-seednode peers and
 * start the periodic timer; every peer's messages go to `events` (copied;
 * its ctx must outlive the connections). Returns 0, or -1 with the reason
 * in err (e.g. no listening socket could be bound).
 */
int net_start(struct connman *cm, const struct net_events *events, char *err,
	      size_t errlen);

/* Close every connection (closed_connection fires for each established
 * one) and stop listening and connecting. Idempotent. */
void net_stop(struct connman *cm);

/* Free everything; call after net_stop. Accepts NULL. */
void net_free(struct connman *cm);

/* The first established peer (then peer->next; skip !established). */
struct peer *net_peers(struct connman *cm);

/* Established connections: inbound (`inbound` true) or not. */
uint64_t net_count(const struct connman *cm, bool inbound);

/* The address table (owned by connman). */
struct addrman *net_addrman(struct connman *cm);

/* The configuration the node runs with. */
const struct config *net_config(const struct connman *cm);

/*
 * Send one message: frames it, queues it on the socket, counts it, fires
 * net:outbound_message and logs it with -logmessages. A closed peer
 * ignores it. Returns 0, or -1 if the peer is closed or memory ran out
 * (then the peer is disconnected).
 */
int net_send(struct peer *p, const char *command, const uint8_t *payload, size_t len);

/* Bytes queued for the peer and not yet taken by its socket. */
size_t net_send_queued(const struct peer *p);

/* All peers' partial messages together may hold this much (doc/p2p.md). */
#define NET_RECV_BUDGET (32 * 1024 * 1024)

/* Above this many queued bytes, a peer's requests wait (net_send_queued). */
#define NET_SEND_BUFFER_MAX (4 * 1024 * 1024)

/*
 * The peer broke a protocol rule: fires net:misbehaving_connection with
 * `reason` and logs it, then does what Bitcoin Core's
 * MaybeDiscourageAndDisconnect does: a -whitelist (noban) or manual peer
 * is kept (a warning is logged); a local peer (127.0.0.0/8, 0.0.0.0/8,
 * ::1) is disconnected but not discouraged; any other peer's IP is
 * discouraged (-discouragetime) and every connection from it closed.
 */
void net_misbehaving(struct peer *p, const char *reason);

/* Close the connection now (fires net:closed_connection if established);
 * `why` is logged with -debug=net. Safe to call twice. */
void net_close(struct peer *p, const char *why);

/* True for Core's IsLocal() addresses: 127.0.0.0/8, 0.0.0.0/8, ::1. */
bool net_is_local(const struct netaddr *a);

/* True if a matches a -whitelist entry (IP or IP/prefix). */
bool net_whitelisted(const struct connman *cm, const struct netaddr *a);

/* The established peer with this id, or NULL. */
struct peer *net_find_id(struct connman *cm, int64_t id);

/* The established peer connected to this exact "ip:port", or NULL. */
struct peer *net_find_addr(struct connman *cm, const struct netaddr *a);

/* True if `nonce` is the version nonce of one of our own outbound
 * connections (a connection to ourselves). */
bool net_is_local_nonce(const struct connman *cm, uint64_t nonce);

/* Why net_addnode failed (rpc_net.c turns these into RPC codes). */
enum net_err {
	NET_OK = 0,
	NET_ERR_PARAM,          /* a bad address or command */
	NET_ERR_ALREADY_ADDED,  /* "add": already in the list */
	NET_ERR_NOT_ADDED,      /* "remove": not in the list */
	NET_ERR_CONNECT,        /* "onetry": no slot, or connect() failed */
	NET_ERR_NOMEM,
};

/*
 * addnode: "add" keeps a manual connection to addr (error if already in
 * the list), "remove" forgets it (error if absent; an open connection
 * stays), "onetry" opens one connection now. Returns NET_OK, or an
 * error with a message in err.
 */
enum net_err net_addnode(struct connman *cm, const char *addr,
			     const char *command, char *err, size_t errlen);

#endif
