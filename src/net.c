/*
 * net.c — the connection manager: sockets, slots, eviction,
 * discouragement, framing, statistics and the net:* tracepoints.
 *
 * Everything runs on one libevent loop. Each connection is a bufferevent;
 * a 250 ms timer does the periodic work (handshake timeouts, the handler's
 * ticks, filling outbound slots, feelers, manual reconnects). What the
 * messages mean is the net_events handler's business (net.h).
 * Closed peers are unlinked at once and freed by a deferred "reaper" event,
 * so a callback that closes its own peer can still look at it.
 */
#include "net.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addrman.h"
#include "banman.h"
#include "log.h"
#include "msg.h"
#include "msglog.h"
#include "net_evict.h"
#include "tracepoints.h"
#include "util.h"


#define TICK_US 250000
#define CONNECT_TIMEOUT_S 5
#define OUTBOUND_RETRY_US (60LL * 1000000)  /* same address, automatic */
#define MANUAL_RETRY_US (10LL * 1000000)    /* -addnode/-connect retries */
#define SEND_BUFFER_MAX NET_SEND_BUFFER_MAX /* stop reading above this */
#define MAX_LISTENERS 16
#define LISTEN_BACKLOG 128
#define ACCEPT_BACKOFF_US 500000LL          /* after a failed accept() */

/* A peer to keep a manual connection to (-connect, -addnode, addnode add). */
struct manual_target {
	struct netaddr addr;
	char str[NETADDR_STRLEN];
	int64_t next_try_us;
	struct manual_target *next;
};

struct connman {
	struct event_base *base;
	const struct config *cfg;
	struct net_events ev;    /* the message handler (net_start) */
	struct peer *peers;      /* attempts and established, newest first */
	struct peer *graveyard;  /* closed, freed by the reaper */
	struct event *reaper;
	struct event *tick;
	int64_t next_id;
	struct evconnlistener *listeners[MAX_LISTENERS];
	struct netaddr bound[MAX_LISTENERS];
	size_t n_listeners;
	struct addrman *addrman;
	struct banman *banman;
	struct msglog *msglog;   /* NULL without -logmessages */
	struct manual_target *manual;
	int64_t next_feeler_us;
	int max_inbound, max_full, max_block, max_feeler;
	bool stopping;
	int64_t accept_resume_us;    /* listeners rest until then; 0: listening */
	struct log_limit accept_log; /* "accept failed" lines */
	size_t inbuf_total;          /* every peer's p->inbuf */
	struct log_limit recv_log;   /* drops over NET_RECV_BUDGET */
	struct log_limit stall_log;  /* drops for -recvtimeout */
};

/* ---- Names ------------------------------------------------------------- */

const char *net_conn_type_name(enum conn_type t)
{
	static const char *const names[] = {
		"inbound", "outbound-full-relay", "block-relay-only",
		"feeler",  "manual",              "addr-fetch",
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

static const char *const msgtype_names[NET_MSGTYPES] = {
	"version", "verack", "addr",     "getaddr",    "ping",    "pong",
	"sendheaders", "feefilter", "inv", "getdata", "notfound", "getheaders",
	"headers", "block", "tx", "*other*",
};

const char *net_msgtype_name(int i)
{
	return i >= 0 && i < NET_MSGTYPES ? msgtype_names[i] : "*other*";
}

static int msgtype_index(const char *command)
{
	for (int i = 0; i < NET_MSGTYPES - 1; i++) {
		if (strcmp(msgtype_names[i], command) == 0)
			return i;
	}
	return NET_MSGTYPES - 1;
}

/* ---- Peers ------------------------------------------------------------- */

static struct peer *peer_new(struct connman *cm, const struct netaddr *a,
			     enum conn_type type)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cm = cm;
	p->minping_us = -1;
	if (cm->ev.peer_new(cm->ev.ctx, p) < 0) {
		free(p);
		return NULL;
	}
	p->addr = *a;
	netaddr_format(a, p->addr_str, sizeof(p->addr_str));
	p->type = type;
	p->network = netaddr_network(a);
	p->netgroup = netaddr_group(a);
	p->next = cm->peers;
	cm->peers = p;
	return p;
}

static void peer_free(struct peer *p)
{
	p->cm->ev.peer_free(p->cm->ev.ctx, p);
	free(p);
}

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connman *cm = arg;

	(void)fd;
	(void)what;
	while (cm->graveyard) {
		struct peer *p = cm->graveyard;

		cm->graveyard = p->next;
		peer_free(p);
	}
}

static void peer_unlink(struct connman *cm, struct peer *p)
{
	for (struct peer **pp = &cm->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->next = cm->graveyard;
	cm->graveyard = p;
	event_active(cm->reaper, EV_TIMEOUT, 0);
}

struct peer *net_peers(struct connman *cm)
{
	return cm->peers;
}

uint64_t net_count(const struct connman *cm, bool inbound)
{
	uint64_t n = 0;

	for (const struct peer *p = cm->peers; p; p = p->next)
		n += p->established && (p->type == CONN_INBOUND) == inbound;
	return n;
}

/* Attempts and established connections of one type. */
static int count_type(const struct connman *cm, enum conn_type t)
{
	int n = 0;

	for (const struct peer *p = cm->peers; p; p = p->next)
		n += p->type == t;
	return n;
}

struct addrman *net_addrman(struct connman *cm)
{
	return cm->addrman;
}

const struct config *net_config(const struct connman *cm)
{
	return cm->cfg;
}

struct peer *net_find_id(struct connman *cm, int64_t id)
{
	for (struct peer *p = cm->peers; p; p = p->next) {
		if (p->established && p->id == id)
			return p;
	}
	return NULL;
}

static bool same_addr(const struct netaddr *a, const struct netaddr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

/* Any connection (attempt or established) to exactly a. */
static struct peer *find_any(struct connman *cm, const struct netaddr *a)
{
	for (struct peer *p = cm->peers; p; p = p->next) {
		if (same_addr(&p->addr, a))
			return p;
	}
	return NULL;
}

struct peer *net_find_addr(struct connman *cm, const struct netaddr *a)
{
	struct peer *p = find_any(cm, a);

	return p && p->established ? p : NULL;
}

bool net_whitelisted(const struct connman *cm, const struct netaddr *a)
{
	const struct config_list *wl = &cm->cfg->whitelist;

	for (size_t i = 0; i < wl->n; i++) {
		struct netaddr net;
		int bits;
		bool noban;

		if (netaddr_parse_whitelist(wl->items[i], &net, &bits, &noban) == 0 && noban &&
		    netaddr_in_subnet(a, &net, bits))
			return true;
	}
	return false;
}

bool net_is_local_nonce(const struct connman *cm, uint64_t nonce)
{
	for (const struct peer *p = cm->peers; p; p = p->next) {
		if (p->type != CONN_INBOUND && p->local_nonce && p->local_nonce == nonce)
			return true;
	}
	return false;
}

/* ---- Closing ----------------------------------------------------------- */

static void trace_closed(struct peer *p)
{
	trace_net_closed_connection((int64_t)p->id,
			   (const char *)p->addr_str, net_conn_type_name(p->type),
			   (uint32_t)p->network, (uint64_t)p->conntime);
}

void net_close(struct peer *p, const char *why)
{
	if (p->closed)
		return;
	p->closed = true;
	p->cm->inbuf_total -= p->inbuf;
	p->inbuf = 0;
	if (p->established) {
		p->cm->ev.closed(p->cm->ev.ctx, p); /* what was asked of it goes to others */
		trace_closed(p);
		log_debug(LOG_NET, "net: peer=%lld (%s, %s) disconnected: %s",
			  (long long)p->id, p->addr_str, net_conn_type_name(p->type), why);
	} else {
		log_debug(LOG_NET, "net: connection to %s (%s) failed: %s", p->addr_str,
			  net_conn_type_name(p->type), why);
	}
	if (p->bev) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	msglog_peer_free(p->msglog);
	p->msglog = NULL;
	peer_unlink(p->cm, p);
}

bool net_is_local(const struct netaddr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	return (netaddr_is_ipv4(a) && (a->ip[12] == 127 || a->ip[12] == 0)) ||
	       memcmp(a->ip, v6_loopback, 16) == 0;
}

/* Close every connection from a's IP (Core's DisconnectNode(addr)). */
static void close_ip(struct connman *cm, const struct netaddr *a, const char *why)
{
	struct peer *p = cm->peers, *next;

	for (; p; p = next) {
		next = p->next; /* closing p unlinks it */
		if (netaddr_same_ip(&p->addr, a))
			net_close(p, why);
	}
}

void net_misbehaving(struct peer *p, const char *reason)
{
	struct connman *cm = p->cm;
	struct netaddr addr = p->addr;
	char ip[NETADDR_STRLEN];

	if (p->closed)
		return;
	/* Fires wherever the node calls a peer misbehaving, whatever follows. */
	trace_net_misbehaving_connection((int64_t)p->id, reason);
	netaddr_format_ip(&p->addr, ip, sizeof(ip));
	if (p->noban) {
		log_printf("net: peer=%lld (%s) misbehaving: %s; not punishing whitelisted (noban) peer",
			   (long long)p->id, p->addr_str, reason);
		return;
	}
	if (p->type == CONN_MANUAL) {
		log_printf("net: peer=%lld (%s) misbehaving: %s; not punishing manually connected peer",
			   (long long)p->id, p->addr_str, reason);
		return;
	}
	if (net_is_local(&p->addr)) {
		/* Discouraging a local address would refuse every local peer. */
		log_printf("net: peer=%lld (%s) misbehaving: %s; disconnecting, not discouraging a local peer",
			   (long long)p->id, p->addr_str, reason);
		net_close(p, reason);
		return;
	}
	log_printf("net: peer=%lld (%s) misbehaving: %s; disconnecting, %s discouraged for %llds",
		   (long long)p->id, p->addr_str, reason, ip,
		   (long long)cm->cfg->discouragetime);
	if (banman_discourage(cm->banman, &addr, util_time_s(), cm->cfg->discouragetime) < 0)
		log_printf("net: cannot discourage %s: out of memory", ip);
	close_ip(cm, &addr, reason);
}

/* ---- Sending ----------------------------------------------------------- */

static void count_msg(struct peer *p, const char *command, size_t len, bool sent)
{
	int i = msgtype_index(command);
	uint64_t bytes = MSG_HEADER_SIZE + (uint64_t)len;

	if (sent) {
		p->stats.bytes_sent[i] += bytes;
		p->stats.msgs_sent[i]++;
		p->bytessent += bytes;
		p->lastsend = util_time_s();
	} else {
		p->stats.bytes_recv[i] += bytes;
		p->stats.msgs_recv[i]++;
		p->bytesrecv += bytes;
		p->lastrecv = util_time_s();
	}
}

int net_send(struct peer *p, const char *command, const uint8_t *payload, size_t len)
{
	static const uint8_t empty[1];
	const uint8_t *bytes = payload ? payload : empty;
	struct wbuf w;

	if (p->closed || !p->bev)
		return -1;
	ser_write_init(&w);
	msg_frame(&w, command, payload, len);
	if (w.oom || bufferevent_write(p->bev, w.data, w.len) < 0) {
		ser_write_free(&w);
		net_close(p, "out of memory queueing a message");
		return -1;
	}
	ser_write_free(&w);
	count_msg(p, command, len, true);
	trace_net_outbound_message((int64_t)p->id,
			   (const char *)p->addr_str, net_conn_type_name(p->type), command,
			   (uint64_t)len, bytes);
	if (p->msglog)
		msglog_write(p->msglog, true, command, bytes, len);
	log_debug(LOG_NET, "net: sending %s (%zu bytes) peer=%lld", command, len,
		  (long long)p->id);
	return 0;
}

/* ---- Receiving --------------------------------------------------------- */

/* A framing error Core's transport ends the connection for (not
 * misbehaviour: nothing is discouraged). Logged with -debug=net only, as
 * Core does: a stranger must not be able to fill the log. */
static void drop_connection(struct peer *p, const char *reason)
{
	log_debug(LOG_NET, "net: peer=%lld (%s) %s; disconnecting", (long long)p->id,
		  p->addr_str, reason);
	net_close(p, reason);
}

/* Fewer than 24 bytes so far: if they already contradict the magic, say so
 * now rather than wait for a header that a garbage sender never completes. */
static bool magic_prefix_ok(struct evbuffer *in, size_t avail)
{
	uint8_t head[4];
	size_t n = avail < 4 ? avail : 4;

	evbuffer_copyout(in, head, n);
	return memcmp(head, MSG_MAGIC, n) == 0;
}

/* Hand one complete, checksummed message to net_processing. */
static void deliver(struct peer *p, const char *command, const uint8_t *payload,
		    size_t len)
{
	static const uint8_t empty[1];
	const uint8_t *bytes = len ? payload : empty;

	count_msg(p, command, len, false);
	trace_net_inbound_message((int64_t)p->id,
			   (const char *)p->addr_str, net_conn_type_name(p->type), command,
			   (uint64_t)len, bytes);
	if (p->msglog)
		msglog_write(p->msglog, false, command, bytes, len);
	log_debug(LOG_NET, "net: received %s (%zu bytes) peer=%lld", command, len,
		  (long long)p->id);
	p->cm->ev.message(p->cm->ev.ctx, p, command, bytes, len);
}

/*
 * Take one message off the input buffer. Returns 1 if one was handled,
 * 0 if more bytes are needed, -1 if the peer was closed.
 */
static int read_one(struct peer *p)
{
	struct evbuffer *in = bufferevent_get_input(p->bev);
	size_t avail = evbuffer_get_length(in);
	char reason[MSG_REASON_MAX];
	struct msg_header hdr;
	bool bad_command;
	uint8_t *msg;
	size_t total;

	if (avail < MSG_HEADER_SIZE) {
		if (avail && !magic_prefix_ok(in, avail)) {
			drop_connection(p, "wrong network magic");
			return -1;
		}
		return 0;
	}
	/* Core's V1 transport: a wrong magic or an oversized length ends the
	 * connection; a bad command or checksum only loses the message. */
	bad_command = msg_header_parse(evbuffer_pullup(in, MSG_HEADER_SIZE), &hdr, reason) < 0;
	if (bad_command && strcmp(reason, "malformed message header") != 0) {
		drop_connection(p, reason);
		return -1;
	}
	if (hdr.length > MSG_MAX_PAYLOAD) {
		snprintf(reason, sizeof(reason), "oversized message: %u bytes", hdr.length);
		drop_connection(p, reason);
		return -1;
	}
	total = MSG_HEADER_SIZE + (size_t)hdr.length;
	if (avail < total)
		return 0;
	/* A private copy: handling the message may close the peer and free
	 * its buffers. */
	msg = malloc(total);
	if (!msg) {
		net_close(p, "out of memory reading a message");
		return -1;
	}
	evbuffer_remove(in, msg, total);
	p->partial_since_us = 0;
	if (bad_command || msg_checksum_verify(&hdr, msg + MSG_HEADER_SIZE, reason) < 0) {
		count_msg(p, "*other*", hdr.length, false);
		log_debug(LOG_NET, "net: peer=%lld %s; message dropped", (long long)p->id, reason);
	} else {
		deliver(p, hdr.command, msg + MSG_HEADER_SIZE, hdr.length);
	}
	free(msg);
	return p->closed ? -1 : 1;
}

size_t net_send_queued(const struct peer *p)
{
	return p->bev ? evbuffer_get_length(bufferevent_get_output(p->bev)) : 0;
}

static void recv_account(struct peer *p);

/* Stop reading from the peer until write_cb finds its replies taken and
 * its requests answered. */
static void pause_reads(struct peer *p, const char *why)
{
	p->paused = true;
	bufferevent_disable(p->bev, EV_READ);
	log_debug(LOG_NET, "net: peer=%lld %s, pausing reads", (long long)p->id, why);
}

/* Handle every complete message, unless our replies pile up unread or a
 * request is still being answered: then stop reading (write_cb resumes). */
static void process_input(struct peer *p)
{
	while (!p->closed && read_one(p) > 0) {
		if (net_send_queued(p) > SEND_BUFFER_MAX) {
			pause_reads(p, "send buffer full");
			return;
		}
		if (p->cm->ev.busy(p->cm->ev.ctx, p)) {
			pause_reads(p, "still answering a getdata");
			return;
		}
	}
}

/*
 * Partial receives: whatever a peer sent that is not yet a whole message
 * counts against NET_RECV_BUDGET for all peers together. Over it, the
 * peers holding the most are dropped (not discouraged: a slow link is not
 * an offence), so 40 peers starting 4 MB messages cannot hold 160 MB.
 */
static void recv_over_budget(struct connman *cm)
{
	while (cm->inbuf_total > NET_RECV_BUDGET) {
		struct peer *victim = NULL;

		for (struct peer *q = cm->peers; q; q = q->next) {
			if (!q->closed && (!victim || q->inbuf > victim->inbuf))
				victim = q;
		}
		if (!victim || !victim->inbuf)
			return;
		log_limited(&cm->recv_log, "net: peer=%lld (%s) dropped: partial messages of all peers hold %zu bytes (at most %d); it held %zu",
			    (long long)victim->id, victim->addr_str, cm->inbuf_total,
			    NET_RECV_BUDGET, victim->inbuf);
		net_close(victim, "partial messages over budget");
	}
}

/* After a read: count what stays buffered, and start its clock. */
static void recv_account(struct peer *p)
{
	struct connman *cm = p->cm;
	size_t len;

	if (p->closed || !p->bev)
		return;
	len = evbuffer_get_length(bufferevent_get_input(p->bev));
	cm->inbuf_total = cm->inbuf_total - p->inbuf + len;
	p->inbuf = len;
	if (!len)
		p->partial_since_us = 0;
	else if (!p->partial_since_us)
		p->partial_since_us = util_mono_us();
	recv_over_budget(cm);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;

	(void)bev;
	process_input(p);
	recv_account(p);
}

/* From the tick: a message begun more than -recvtimeout ago and still
 * not whole (its sender stopped, or trickles) is dropped with its peer. */
static void recv_timeouts(struct connman *cm, int64_t now)
{
	int64_t limit = cm->cfg->recvtimeout * 1000000;
	struct peer *p = cm->peers, *next;

	for (; p; p = next) {
		next = p->next; /* closing p unlinks it */
		if (p->closed || p->paused || !p->partial_since_us ||
		    now - p->partial_since_us < limit)
			continue;
		log_limited(&cm->stall_log, "net: peer=%lld (%s) dropped: a message begun %llds ago is still incomplete (%zu bytes received)",
			    (long long)p->id, p->addr_str, (long long)cm->cfg->recvtimeout,
			    p->inbuf);
		net_close(p, "message receive timeout");
	}
}

/* The send buffer drained: answer more of a pending getdata, then read
 * again once nothing is pending. */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;

	(void)bev;
	if (p->closed)
		return;
	p->cm->ev.send_more(p->cm->ev.ctx, p);
	if (!p->paused || p->closed || p->cm->ev.busy(p->cm->ev.ctx, p) ||
	    net_send_queued(p) > SEND_BUFFER_MAX)
		return;
	p->paused = false;
	bufferevent_enable(p->bev, EV_READ);
	process_input(p);
	recv_account(p);
}

/* ---- Establishing ------------------------------------------------------ */

static void fill_addrbind(struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct netaddr local;

	if (getsockname(bufferevent_getfd(p->bev), (struct sockaddr *)&ss, &len) == 0 &&
	    netaddr_from_sockaddr((struct sockaddr *)&ss, &local) == 0)
		netaddr_format(&local, p->addrbind_str, sizeof(p->addrbind_str));
	else
		util_strlcpy(p->addrbind_str, "", sizeof(p->addrbind_str));
}

static void trace_established(struct connman *cm, struct peer *p)
{
	if (p->type == CONN_INBOUND)
		trace_net_inbound_connection((int64_t)p->id,
				   (const char *)p->addr_str, net_conn_type_name(p->type),
				   (uint32_t)p->network, net_count(cm, true));
	else
		trace_net_outbound_connection((int64_t)p->id,
				   (const char *)p->addr_str, net_conn_type_name(p->type),
				   (uint32_t)p->network, net_count(cm, false));
}

/* The TCP connection is up (accepted, or our connect completed). */
static void peer_established(struct connman *cm, struct peer *p)
{
	p->id = cm->next_id++;
	p->established = true;
	p->conntime = util_time_s();
	p->connected_us = util_mono_us();
	fill_addrbind(p);
	if (cm->msglog) {
		p->msglog = msglog_peer_new(cm->msglog, p->addr_str);
		if (!p->msglog)
			log_printf("msglog: cannot log messages of %s: out of memory",
				   p->addr_str);
	}
	trace_established(cm, p);
	log_debug(LOG_NET, "net: peer=%lld connected: %s (%s), local %s", (long long)p->id,
		  p->addr_str, net_conn_type_name(p->type), p->addrbind_str);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	cm->ev.established(cm->ev.ctx, p);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;
	char why[128];

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(bev, NULL, NULL);
		peer_established(p->cm, p);
		return;
	}
	if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed by peer");
	else if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "timed out");
	else
		snprintf(why, sizeof(why), "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	net_close(p, why);
}

/* ---- Eviction and inbound ---------------------------------------------- */

/* Pick and close one inbound peer to make room. Returns true if one went. */
static bool evict_one(struct connman *cm)
{
	struct evict_candidate *c;
	struct peer **who;
	size_t n = 0, max = (size_t)net_count(cm, true);
	long victim;

	c = calloc(max ? max : 1, sizeof(*c));
	who = calloc(max ? max : 1, sizeof(*who));
	for (struct peer *p = cm->peers; c && who && p && n < max; p = p->next) {
		/* Core: noban peers are never evicted. */
		if (!p->established || p->type != CONN_INBOUND || p->noban)
			continue;
		c[n] = (struct evict_candidate){ p->id, p->connected_us, p->minping_us,
						 p->last_useful_us, p->netgroup,
						 p->prefer_evict };
		who[n++] = p;
	}
	victim = c && who ? net_evict_select(c, n) : -1;
	if (victim >= 0) {
		struct peer *p = who[victim];

		trace_net_evicted_inbound_connection((int64_t)p->id,
				   (const char *)p->addr_str, net_conn_type_name(p->type),
				   (uint32_t)p->network, (uint64_t)p->conntime);
		log_debug(LOG_NET, "net: evicting peer=%lld (%s) for a new inbound connection",
			  (long long)p->id, p->addr_str);
		net_close(p, "evicted");
	}
	free(c);
	free(who);
	return victim >= 0;
}

/*
 * Should an inbound connection from a be accepted? Makes room if needed.
 * Core: a discouraged address is refused only when the inbound slots are
 * (nearly) full; otherwise it is accepted and evicted first (*prefer_evict).
 * A whitelisted (noban) address is never refused for being discouraged.
 */
static bool inbound_admit(struct connman *cm, const struct netaddr *a, const char *str,
			  bool noban, bool *prefer_evict)
{
	uint64_t inbound = net_count(cm, true);

	*prefer_evict = false;
	if (cm->stopping)
		return false;
	if (!noban && banman_is_discouraged(cm->banman, a, util_time_s())) {
		if (inbound + 1 >= (uint64_t)cm->max_inbound) {
			log_debug(LOG_NET, "net: refused inbound from %s: discouraged", str);
			return false;
		}
		*prefer_evict = true;
	}
	if (inbound < (uint64_t)cm->max_inbound)
		return true;
	if (evict_one(cm))
		return true;
	log_debug(LOG_NET, "net: refused inbound from %s: inbound slots full, nobody to evict",
		  str);
	return false;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	struct connman *cm = arg;
	struct netaddr a;
	char str[NETADDR_STRLEN];
	bool noban, prefer_evict;
	struct peer *p;

	(void)l;
	(void)socklen;
	if (netaddr_from_sockaddr(sa, &a) < 0) {
		evutil_closesocket(fd);
		return;
	}
	netaddr_format(&a, str, sizeof(str));
	noban = net_whitelisted(cm, &a);
	if (!inbound_admit(cm, &a, str, noban, &prefer_evict)) {
		evutil_closesocket(fd);
		return;
	}
	p = peer_new(cm, &a, CONN_INBOUND);
	if (p) {
		p->noban = noban;
		p->prefer_evict = prefer_evict;
		p->bev = bufferevent_socket_new(cm->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!p || !p->bev) {
		log_printf("net: cannot accept %s: out of memory", str);
		if (p)
			net_close(p, "out of memory");
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(p->bev, read_cb, write_cb, event_cb, p);
	peer_established(cm, p);
}

/*
 * EMFILE and friends: the pending connection stays in the backlog, so
 * retrying at once spins. Rest every listener until the tick after
 * ACCEPT_BACKOFF_US, and say so in a rate-limited line.
 */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct connman *cm = arg;

	(void)l;
	log_limited(&cm->accept_log, "net: accept failed: %s; pausing accepts for %lld ms",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
		    ACCEPT_BACKOFF_US / 1000);
	for (size_t i = 0; i < cm->n_listeners; i++)
		evconnlistener_disable(cm->listeners[i]);
	cm->accept_resume_us = util_mono_us() + ACCEPT_BACKOFF_US;
}

/* From the tick: listeners resting after an accept error listen again. */
static void accept_resume(struct connman *cm, int64_t now)
{
	if (!cm->accept_resume_us || now < cm->accept_resume_us || cm->stopping)
		return;
	cm->accept_resume_us = 0;
	for (size_t i = 0; i < cm->n_listeners; i++)
		evconnlistener_enable(cm->listeners[i]);
}

/* ---- Outbound ---------------------------------------------------------- */

/* Start a connection attempt. Returns the (not yet established) peer. */
static struct peer *connect_to(struct connman *cm, const struct netaddr *a,
			       enum conn_type type)
{
	struct sockaddr_storage ss;
	socklen_t len = netaddr_to_sockaddr(a, &ss);
	struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
	struct peer *p = peer_new(cm, a, type);

	if (!p)
		return NULL;
	addrman_attempt(cm->addrman, a, util_mono_us());
	p->bev = bufferevent_socket_new(cm->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!p->bev) {
		net_close(p, "out of memory");
		return NULL;
	}
	bufferevent_setcb(p->bev, read_cb, write_cb, event_cb, p);
	bufferevent_set_timeouts(p->bev, NULL, &tv);
	log_debug(LOG_NET, "net: connecting to %s (%s)", p->addr_str, net_conn_type_name(type));
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss, (int)len) < 0) {
		net_close(p, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return NULL;
	}
	return p;
}

static bool is_loopback(const struct netaddr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	return (netaddr_is_ipv4(a) && a->ip[12] == 127) ||
	       memcmp(a->ip, v6_loopback, 16) == 0;
}

/* One of our own listening addresses (never worth connecting to). */
static bool is_local_listener(const struct connman *cm, const struct netaddr *a)
{
	static const uint8_t zero[16];
	static const uint8_t v4_zero[16] = { [10] = 0xff, [11] = 0xff };

	for (size_t i = 0; i < cm->n_listeners; i++) {
		const struct netaddr *b = &cm->bound[i];
		bool wildcard = !memcmp(b->ip, zero, 16) || !memcmp(b->ip, v4_zero, 16);

		if (b->port == a->port && (same_addr(a, b) || (wildcard && is_loopback(a))))
			return true;
	}
	return false;
}

struct outbound_filter {
	struct connman *cm;
	bool any_group; /* feelers may share a network group */
};

/* Automatic outbound candidates: not connected, not us, and (except for
 * feelers) from a network group no automatic outbound peer is in. */
static bool outbound_ok(const struct netaddr *a, void *arg)
{
	struct outbound_filter *f = arg;
	uint64_t group = netaddr_group(a);

	if (find_any(f->cm, a) || is_local_listener(f->cm, a))
		return false;
	if (f->any_group)
		return true;
	for (struct peer *p = f->cm->peers; p; p = p->next) {
		if (p->type != CONN_INBOUND && p->type != CONN_MANUAL && p->netgroup == group)
			return false;
	}
	return true;
}

/* Which automatic connection to open now, if any (Bitcoin's order:
 * full-relay, then block-relay-only, then a feeler when due). */
static bool next_outbound_type(struct connman *cm, int64_t now, enum conn_type *t)
{
	if (count_type(cm, CONN_OUTBOUND_FULL_RELAY) < cm->max_full)
		*t = CONN_OUTBOUND_FULL_RELAY;
	else if (count_type(cm, CONN_BLOCK_RELAY) < cm->max_block)
		*t = CONN_BLOCK_RELAY;
	else if (cm->max_feeler && now >= cm->next_feeler_us &&
		 count_type(cm, CONN_FEELER) < cm->max_feeler)
		*t = CONN_FEELER;
	else
		return false;
	return true;
}

static void open_automatic(struct connman *cm, int64_t now)
{
	struct outbound_filter f = { cm, false };
	enum conn_type type;
	struct netaddr a;

	if (cm->cfg->connect_only || !next_outbound_type(cm, now, &type))
		return;
	f.any_group = type == CONN_FEELER;
	if (addrman_select(cm->addrman, now, OUTBOUND_RETRY_US, outbound_ok, &f, &a) < 0)
		return;
	if (type == CONN_FEELER)
		cm->next_feeler_us = now + cm->cfg->feelerinterval * 1000000;
	connect_to(cm, &a, type);
}

/* The file-descriptor budget counts NET_MAX_MANUAL manual connections,
 * however they were asked for (-connect, -addnode, addnode add or onetry). */
static bool manual_room(const struct connman *cm)
{
	return count_type(cm, CONN_MANUAL) < NET_MAX_MANUAL;
}

static void open_manual(struct connman *cm, int64_t now)
{
	for (struct manual_target *t = cm->manual; t; t = t->next) {
		struct peer *p;

		if (now < t->next_try_us || find_any(cm, &t->addr))
			continue;
		if (!manual_room(cm))
			return;
		t->next_try_us = now + MANUAL_RETRY_US;
		p = connect_to(cm, &t->addr, CONN_MANUAL);
		if (p)
			p->manual_persistent = true;
	}
}

/* ---- Periodic work ----------------------------------------------------- */

static void handshake_timeouts(struct connman *cm, int64_t now)
{
	int64_t limit = cm->cfg->handshaketimeout * 1000000;
	struct peer *p = cm->peers, *next;

	for (; p; p = next) {
		next = p->next; /* closing p unlinks it */
		if (!p->established || p->handshake_done)
			continue;
		if (now - p->connected_us >= limit) {
			log_printf("net: peer=%lld (%s) did not complete the version handshake in %llds; disconnecting",
				   (long long)p->id, p->addr_str,
				   (long long)cm->cfg->handshaketimeout);
			net_close(p, "handshake timeout");
		}
	}
}

static void peers_tick(struct connman *cm, int64_t now)
{
	struct peer *p = cm->peers, *next;

	for (; p; p = next) {
		next = p->next;
		if (p->established && p->handshake_done && !p->closed)
			cm->ev.tick(cm->ev.ctx, p, now);
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connman *cm = arg;
	int64_t now = util_mono_us();

	(void)fd;
	(void)what;
	handshake_timeouts(cm, now);
	recv_timeouts(cm, now);
	accept_resume(cm, now);
	peers_tick(cm, now);
	open_manual(cm, now);
	open_automatic(cm, now);
}

/* ---- Manual connections ------------------------------------------------ */

static struct manual_target **manual_find(struct connman *cm, const struct netaddr *a)
{
	struct manual_target **pp = &cm->manual;

	while (*pp && !same_addr(&(*pp)->addr, a))
		pp = &(*pp)->next;
	return pp;
}

static int manual_add(struct connman *cm, const struct netaddr *a)
{
	struct manual_target **pp = manual_find(cm, a), *t;

	if (*pp)
		return 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->addr = *a;
	netaddr_format(a, t->str, sizeof(t->str));
	*pp = t;
	return 0;
}

enum net_err net_addnode(struct connman *cm, const char *addr,
			     const char *command, char *err, size_t errlen)
{
	struct netaddr a;
	struct manual_target **pp;

	if (netaddr_parse(addr, MSG_DEFAULT_PORT, &a) < 0) {
		snprintf(err, errlen, "Invalid address: %s (expected IP:PORT or [IPv6]:PORT)", addr);
		return NET_ERR_PARAM;
	}
	if (strcmp(command, "onetry") == 0) {
		if (find_any(cm, &a))
			return NET_OK;
		if (!manual_room(cm)) {
			snprintf(err, errlen, "Cannot connect to %s: already %d manual connections",
				 addr, NET_MAX_MANUAL);
			return NET_ERR_CONNECT;
		}
		if (!connect_to(cm, &a, CONN_MANUAL)) {
			snprintf(err, errlen, "Cannot connect to %s", addr);
			return NET_ERR_CONNECT;
		}
		return NET_OK;
	}
	if (strcmp(command, "add") == 0) {
		int rc = manual_add(cm, &a);

		if (rc == 0)
			return NET_OK;
		snprintf(err, errlen, rc > 0 ? "Error: Node already added" : "out of memory");
		return rc > 0 ? NET_ERR_ALREADY_ADDED : NET_ERR_NOMEM;
	}
	if (strcmp(command, "remove") == 0) {
		pp = manual_find(cm, &a);
		if (!*pp) {
			snprintf(err, errlen,
				 "Error: Node could not be removed. It has not been added previously.");
			return NET_ERR_NOT_ADDED;
		}
		struct manual_target *t = *pp;
		*pp = t->next;
		free(t);
		return NET_OK;
	}
	snprintf(err, errlen, "command must be one of: add, remove, onetry (got '%s')", command);
	return NET_ERR_PARAM;
}

/* ---- Listening --------------------------------------------------------- */

/* A non-blocking listening socket on a (IPv6 sockets are IPv6-only, so an
 * IPv4 wildcard can share the port). Returns the fd or -1 (errno set). */
static evutil_socket_t listen_socket(const struct netaddr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = netaddr_to_sockaddr(a, &ss);
	int one = 1;
	evutil_socket_t fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int listen_on(struct connman *cm, const struct netaddr *a, char *err, size_t errlen)
{
	char str[NETADDR_STRLEN];
	evutil_socket_t fd;
	struct evconnlistener *l;

	netaddr_format(a, str, sizeof(str));
	if (cm->n_listeners == MAX_LISTENERS) {
		snprintf(err, errlen, "too many -bind addresses (max %d)", MAX_LISTENERS);
		return -1;
	}
	fd = listen_socket(a);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", str, strerror(errno));
		return -1;
	}
	l = evconnlistener_new(cm->base, accept_cb, cm,
			       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l) {
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: out of memory", str);
		return -1;
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	cm->bound[cm->n_listeners] = *a;
	cm->listeners[cm->n_listeners++] = l;
	log_printf("net: listening on %s", str);
	return 0;
}

/* -bind addresses, or both wildcards (IPv6 may be unavailable: fine). */
static int listen_all(struct connman *cm, char *err, size_t errlen)
{
	const struct config *cfg = cm->cfg;
	uint16_t port = (uint16_t)cfg->port;
	struct netaddr a;
	char why[256];

	for (size_t i = 0; i < cfg->bind.n; i++) {
		if (netaddr_parse(cfg->bind.items[i], port, &a) < 0 ||
		    listen_on(cm, &a, err, errlen) < 0)
			return -1;
	}
	if (cfg->bind.n)
		return 0;
	netaddr_parse("0.0.0.0", port, &a);
	if (listen_on(cm, &a, err, errlen) < 0)
		return -1;
	netaddr_parse("[::]", port, &a);
	if (listen_on(cm, &a, why, sizeof(why)) < 0)
		log_printf("net: %s (IPv4 only)", why);
	return 0;
}

/* ---- Life cycle -------------------------------------------------------- */

/* Slots from -maxconnections (Bitcoin's arithmetic). */
static void compute_slots(struct connman *cm)
{
	int max = (int)cm->cfg->maxconnections;

	cm->max_full = max < NET_MAX_OUTBOUND_FULL_RELAY ? max : NET_MAX_OUTBOUND_FULL_RELAY;
	max -= cm->max_full;
	cm->max_block = max < NET_MAX_BLOCK_RELAY ? max : NET_MAX_BLOCK_RELAY;
	max -= cm->max_block;
	cm->max_feeler = max < NET_MAX_FEELER ? max : NET_MAX_FEELER;
	cm->max_inbound = (int)cm->cfg->maxconnections > NET_OUTBOUND_SLOTS ?
		(int)cm->cfg->maxconnections - NET_OUTBOUND_SLOTS : 0;
}

struct connman *net_new(struct event_base *base, const struct config *cfg,
			char *err, size_t errlen)
{
	struct connman *cm = calloc(1, sizeof(*cm));

	if (!cm)
		goto oom;
	cm->base = base;
	cm->cfg = cfg;
	cm->addrman = addrman_new(ADDRMAN_DEFAULT_CAPACITY);
	cm->banman = banman_new();
	cm->reaper = event_new(base, -1, 0, reaper_cb, cm);
	cm->tick = event_new(base, -1, EV_PERSIST, tick_cb, cm);
	if (cfg->logmessages)
		cm->msglog = msglog_new(cfg->datadir, MSGLOG_DEFAULT_MAX_OPEN);
	if (!cm->addrman || !cm->banman || !cm->reaper || !cm->tick ||
	    (cfg->logmessages && !cm->msglog))
		goto oom;
	compute_slots(cm);
	return cm;
oom:
	net_free(cm);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* -connect/-addnode become manual targets; -seednode addr-fetch attempts;
 * -addnode addresses are also known addresses. */
static int queue_configured(struct connman *cm, char *err, size_t errlen)
{
	const struct config *cfg = cm->cfg;
	const struct config_list *lists[] = { &cfg->connect, &cfg->addnode };
	struct netaddr a;

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			netaddr_parse(lists[l]->items[i], MSG_DEFAULT_PORT, &a);
			if (manual_add(cm, &a) < 0) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			if (l == 1)
				addrman_add(cm->addrman, &a, 0, util_time_s());
		}
	}
	for (size_t i = 0; i < cfg->seednode.n && !cfg->connect_only; i++) {
		netaddr_parse(cfg->seednode.items[i], MSG_DEFAULT_PORT, &a);
		addrman_add(cm->addrman, &a, 0, util_time_s());
		connect_to(cm, &a, CONN_ADDR_FETCH);
	}
	return 0;
}

int net_start(struct connman *cm, const struct net_events *events, char *err,
	      size_t errlen)
{
	struct timeval tv = { 0, TICK_US };

	cm->ev = *events;

	if (cm->cfg->listen && listen_all(cm, err, errlen) < 0)
		return -1;
	if (queue_configured(cm, err, errlen) < 0)
		return -1;
	cm->next_feeler_us = util_mono_us() + cm->cfg->feelerinterval * 1000000;
	event_add(cm->tick, &tv);
	event_active(cm->tick, EV_TIMEOUT, 0); /* first connections now */
	log_printf("net: %d inbound slots, outbound %d full-relay + %d block-relay-only + %d feeler%s",
		   cm->max_inbound, cm->max_full, cm->max_block, cm->max_feeler,
		   cm->cfg->connect_only ? " (automatic outbound off: -connect)" : "");
	return 0;
}

void net_stop(struct connman *cm)
{
	if (!cm || cm->stopping)
		return;
	cm->stopping = true;
	if (cm->tick)
		event_del(cm->tick);
	for (size_t i = 0; i < cm->n_listeners; i++)
		evconnlistener_free(cm->listeners[i]);
	cm->n_listeners = 0;
	while (cm->peers)
		net_close(cm->peers, "node shutting down");
	reaper_cb(-1, 0, cm);
}

void net_free(struct connman *cm)
{
	if (!cm)
		return;
	net_stop(cm);
	while (cm->manual) {
		struct manual_target *t = cm->manual;

		cm->manual = t->next;
		free(t);
	}
	if (cm->reaper)
		event_free(cm->reaper);
	if (cm->tick)
		event_free(cm->tick);
	msglog_free(cm->msglog);
	addrman_free(cm->addrman);
	banman_free(cm->banman);
	free(cm);
}
