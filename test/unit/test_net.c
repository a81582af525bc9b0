/*
 * test_net.c — the connection manager alone, with a fake message handler.
 *
 * net.c knows message handling only through struct net_events, so these
 * tests give it a handler of their own that records what it is told. Two
 * real connection managers on one event loop talk over loopback TCP: one
 * listens, the other has it as its -connect peer. Each test runs the loop
 * until a condition holds or 10 seconds pass (no fixed sleeps). The last
 * test puts the node's own message handling (net_processing.c) on top,
 * with a fake sync layer above it in turn.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "net.h"
#include "net_chain.h"
#include "net_download.h"
#include "net_processing.h"
#include "net_txrequest.h"
#include "unit.h"
#include "util.h"

#define MAX_SEEN 8

/* What a fake handler has been told, and what it is set to do. */
struct fake {
	int peers_new, peers_freed, established, closed, ticks, send_more;
	int messages, messages_at_send_more;
	char commands[MAX_SEEN][16];
	size_t lens[MAX_SEEN];
	struct peer *last_peer;
	/* behaviour */
	bool refuse_peers;      /* peer_new fails */
	bool handshake_on_msg;  /* any message completes the handshake */
	bool busy_after_first;  /* busy from the first message until send_more */
	bool busy;
	int state_tag;          /* p->handler points at this */
};

static int fake_peer_new(void *ctx, struct peer *p)
{
	struct fake *f = ctx;

	if (f->refuse_peers)
		return -1;
	f->peers_new++;
	p->handler = &f->state_tag;
	return 0;
}

static void fake_peer_free(void *ctx, struct peer *p)
{
	struct fake *f = ctx;

	if (p->handler == &f->state_tag)
		f->peers_freed++;
}

static void fake_established(void *ctx, struct peer *p)
{
	struct fake *f = ctx;

	f->established++;
	f->last_peer = p;
}

static void fake_closed(void *ctx, struct peer *p)
{
	(void)p;
	((struct fake *)ctx)->closed++;
}

static void fake_message(void *ctx, struct peer *p, const char *command,
			 const uint8_t *payload, size_t len)
{
	struct fake *f = ctx;

	(void)payload;
	if (f->messages < MAX_SEEN) {
		util_strlcpy(f->commands[f->messages], command, sizeof(f->commands[0]));
		f->lens[f->messages] = len;
	}
	f->messages++;
	if (f->handshake_on_msg)
		p->handshake_done = true;
	if (f->busy_after_first && f->messages == 1) {
		f->busy = true;
		net_send(p, "reply", (const uint8_t *)"x", 1); /* write_cb will follow */
	}
}

static bool fake_busy(void *ctx, const struct peer *p)
{
	(void)p;
	return ((struct fake *)ctx)->busy;
}

static void fake_send_more(void *ctx, struct peer *p)
{
	struct fake *f = ctx;

	(void)p;
	if (!f->busy)
		return; /* every drained send buffer calls; only a busy one counts */
	f->send_more++;
	f->messages_at_send_more = f->messages;
	f->busy = false;
}

static void fake_tick(void *ctx, struct peer *p, int64_t now_us)
{
	(void)p;
	(void)now_us;
	((struct fake *)ctx)->ticks++;
}

static struct net_events fake_events(struct fake *f)
{
	struct net_events ev = {
		f, fake_peer_new, fake_peer_free, fake_established, fake_closed,
		fake_message, fake_busy, fake_send_more, fake_tick,
	};

	return ev;
}

/* A loopback port nobody listens on now. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A listener on 127.0.0.1:port and a node whose -connect is it. */
struct pair {
	struct event_base *base;
	char dir[256];
	struct config lcfg, ccfg;
	struct connman *listener, *connector;
	struct fake lf, cf;
};

static void set(struct config *cfg, const char *name, const char *value)
{
	char err[256];

	REQUIRE(config_set(cfg, name, value, false, err, sizeof(err)) == 0);
}

static void pair_config(struct pair *t, int port)
{
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	config_init(&t->lcfg);
	config_init(&t->ccfg);
	util_strlcpy(t->lcfg.datadir, t->dir, sizeof(t->lcfg.datadir));
	util_strlcpy(t->ccfg.datadir, t->dir, sizeof(t->ccfg.datadir));
	set(&t->lcfg, "bind", addr);
	set(&t->lcfg, "port", strchr(addr, ':') + 1);
	set(&t->lcfg, "handshaketimeout", "1");
	set(&t->ccfg, "listen", "0");
	set(&t->ccfg, "connect", addr);
}

/* Set up both sides; the test changes t->lf/t->cf before pair_start. */
static void pair_init(struct pair *t)
{
	int port = free_port();
	char err[256];

	memset(t, 0, sizeof(*t));
	REQUIRE(port > 0);
	REQUIRE(unit_tmpdir(t->dir, sizeof(t->dir), "net"));
	pair_config(t, port);
	t->base = event_base_new();
	REQUIRE(t->base);
	t->listener = net_new(t->base, &t->lcfg, err, sizeof(err));
	t->connector = net_new(t->base, &t->ccfg, err, sizeof(err));
	REQUIRE(t->listener && t->connector);
}

static void pair_start(struct pair *t)
{
	struct net_events le = fake_events(&t->lf), ce = fake_events(&t->cf);
	char err[256];

	REQUIRE(net_start(t->listener, &le, err, sizeof(err)) == 0);
	REQUIRE(net_start(t->connector, &ce, err, sizeof(err)) == 0);
}

static void pair_free(struct pair *t)
{
	net_stop(t->connector);
	net_stop(t->listener);
	net_free(t->connector);
	net_free(t->listener);
	event_base_free(t->base);
	config_free(&t->lcfg);
	config_free(&t->ccfg);
	unit_rmtree(t->dir);
}

/* Run the loop until *count reaches n or 10 s pass; true if it did. */
static bool run_until_n(struct pair *t, const int *count, int n)
{
	int64_t deadline = util_mono_us() + 10 * 1000000LL;
	struct timeval slice = { 0, 20000 };

	while (*count < n && util_mono_us() < deadline) {
		event_base_loopexit(t->base, &slice);
		event_base_dispatch(t->base);
	}
	return *count >= n;
}

static bool run_until(struct pair *t, const int *count)
{
	return run_until_n(t, count, 1);
}

UNIT_TEST(net_events_connect_message_and_close)
{
	struct pair t;
	static const uint8_t payload[] = "hello";

	pair_init(&t);
	t.lf.handshake_on_msg = true;
	pair_start(&t);
	REQUIRE(run_until(&t, &t.cf.established) && run_until(&t, &t.lf.established));
	REQUIRE(t.cf.last_peer && t.lf.last_peer);
	CHECK(t.cf.last_peer->handler == &t.cf.state_tag);
	CHECK_EQ_INT(t.cf.last_peer->type, CONN_MANUAL);
	CHECK_EQ_INT(t.lf.last_peer->type, CONN_INBOUND);
	CHECK_EQ_INT(net_count(t.listener, true), 1);

	/* A message goes through framing to the other side's handler, whole. */
	CHECK_EQ_INT(net_send(t.cf.last_peer, "greeting", payload, sizeof(payload)), 0);
	REQUIRE(run_until(&t, &t.lf.messages));
	CHECK_EQ_STR(t.lf.commands[0], "greeting");
	CHECK_EQ_INT(t.lf.lens[0], sizeof(payload));
	CHECK_EQ_INT(t.lf.last_peer->stats.msgs_recv[NET_MSGTYPES - 1], 1);

	/* The handler completed the handshake: now it gets ticks. */
	CHECK(t.lf.last_peer->handshake_done);
	REQUIRE(run_until(&t, &t.lf.ticks));
	CHECK_EQ_INT(t.cf.ticks, 0); /* the connector's handler never said so */

	/* The listener closes; both handlers hear of it once. */
	net_close(t.lf.last_peer, "test");
	REQUIRE(run_until(&t, &t.cf.closed));
	CHECK_EQ_INT(t.lf.closed, 1);
	CHECK_EQ_INT(t.cf.closed, 1);
	pair_free(&t);
	/* Every peer the handlers set up, they were asked to free. */
	CHECK_EQ_INT(t.lf.peers_freed, t.lf.peers_new);
	CHECK_EQ_INT(t.cf.peers_freed, t.cf.peers_new);
}

/* A handler that never completes the handshake: -handshaketimeout (1 s)
 * closes the connection, and it never gets a tick. */
UNIT_TEST(net_events_handshake_timeout)
{
	struct pair t;

	pair_init(&t);
	pair_start(&t);
	REQUIRE(run_until(&t, &t.lf.closed));
	CHECK_EQ_INT(t.lf.established, 1);
	CHECK_EQ_INT(t.lf.ticks, 0);
	pair_free(&t);
	CHECK_EQ_INT(t.lf.peers_freed, t.lf.peers_new);
}

/* While the handler says busy, no further message is read; send_more,
 * called when the reply has drained, lets the rest in, in order. */
UNIT_TEST(net_events_busy_holds_messages)
{
	struct pair t;
	int i;

	pair_init(&t);
	t.lf.busy_after_first = true;
	pair_start(&t);
	REQUIRE(run_until(&t, &t.cf.established) && run_until(&t, &t.lf.established));
	for (i = 0; i < 3; i++) {
		char command[12];

		snprintf(command, sizeof(command), "m%d", i);
		REQUIRE(net_send(t.cf.last_peer, command, NULL, 0) == 0);
	}
	REQUIRE(run_until(&t, &t.lf.send_more));
	CHECK_EQ_INT(t.lf.messages_at_send_more, 1); /* m1, m2 waited */
	REQUIRE(run_until_n(&t, &t.lf.messages, 3));
	CHECK_EQ_STR(t.lf.commands[0], "m0");
	CHECK_EQ_STR(t.lf.commands[2], "m2");
	pair_free(&t);
}

/* A handler that cannot set up a peer: the connection is not made, and
 * nothing else is asked of the handler for it. */
UNIT_TEST(net_events_refused_peer)
{
	struct pair t;

	pair_init(&t);
	t.lf.refuse_peers = true;
	pair_start(&t);
	/* The connector's attempt is accepted by TCP, then dropped. */
	REQUIRE(run_until(&t, &t.cf.closed) || t.cf.peers_freed > 0);
	CHECK_EQ_INT(t.lf.established, 0);
	CHECK_EQ_INT(t.lf.messages, 0);
	CHECK_EQ_INT(net_count(t.listener, true), 0);
	pair_free(&t);
}

/* Our version nonce, as the handler recorded it, identifies a connection
 * to ourselves. */
UNIT_TEST(net_events_local_nonce)
{
	struct pair t;

	pair_init(&t);
	pair_start(&t);
	REQUIRE(run_until(&t, &t.cf.established));
	CHECK(!net_is_local_nonce(t.connector, 0x1234));
	t.cf.last_peer->local_nonce = 0x1234;
	CHECK(net_is_local_nonce(t.connector, 0x1234));
	CHECK(!net_is_local_nonce(t.connector, 0));
	pair_free(&t);
}

/* Every network layer's _free takes NULL, like free() (a crash fails). */
UNIT_TEST(net_free_accepts_null)
{
	net_free(NULL);
	net_processing_free(NULL);
	net_chain_free(NULL);
	net_download_free(NULL);
	net_txrequest_free(NULL);
}

/* ---- Message handling over the connection manager ------------------------ */

/* A fake sync layer above net_processing: what it was handed. */
struct fake_sync {
	int heights, handshakes, closed, ticks, messages, unknown;
	struct peer *peer;
};

static int32_t fs_height(void *ctx)
{
	((struct fake_sync *)ctx)->heights++;
	return 7;
}

static void fs_handshake_done(void *ctx, struct peer *p)
{
	struct fake_sync *f = ctx;

	f->handshakes++;
	f->peer = p;
}

static void fs_closed(void *ctx, struct peer *p)
{
	(void)p;
	((struct fake_sync *)ctx)->closed++;
}

static void fs_tick(void *ctx, struct peer *p, int64_t now_us)
{
	(void)p;
	(void)now_us;
	((struct fake_sync *)ctx)->ticks++;
}

/* Takes "inv" (undecoded: that is the sync layer's job), knows no other. */
static bool fs_message(void *ctx, struct peer *p, const char *command,
		       const uint8_t *payload, size_t len)
{
	struct fake_sync *f = ctx;

	(void)p;
	(void)payload;
	(void)len;
	if (strcmp(command, "inv") != 0) {
		f->unknown++;
		return false;
	}
	f->messages++;
	return true;
}

static void fs_send_more(void *ctx, struct peer *p)
{
	(void)ctx;
	(void)p;
}

static struct net_processing_sync fake_sync_table(struct fake_sync *f)
{
	struct net_processing_sync s = {
		f, fs_height, fs_handshake_done, fs_closed, fs_tick, fs_message, fs_send_more,
	};

	return s;
}

/* net_processing between two real connection managers, with a fake sync
 * layer above: the version/verack handshake, start_height from the sync
 * layer, block and transaction messages handed up only after the
 * handshake, a ping measured, and the close handed up. */
UNIT_TEST(net_processing_handshake_with_a_fake_sync_layer)
{
	struct fake_sync ls = { 0 }, cs = { 0 };
	struct net_processing_sync lsync = fake_sync_table(&ls), csync = fake_sync_table(&cs);
	struct net_processing *lnp, *cnp;
	struct net_events le, ce;
	struct pair t;
	char err[256];

	pair_init(&t);
	lnp = net_processing_new(t.listener, &lsync);
	cnp = net_processing_new(t.connector, &csync);
	REQUIRE(lnp && cnp);
	le = net_processing_events(lnp);
	ce = net_processing_events(cnp);
	REQUIRE(net_start(t.listener, &le, err, sizeof(err)) == 0);
	REQUIRE(net_start(t.connector, &ce, err, sizeof(err)) == 0);
	REQUIRE(run_until(&t, &ls.handshakes) && run_until(&t, &cs.handshakes));
	CHECK(ls.peer->handshake_done && cs.peer->handshake_done);
	CHECK(cs.heights >= 1); /* the connector spoke first, with our height */
	CHECK_EQ_INT(net_processing_peer(ls.peer)->startingheight, 7);
	CHECK_EQ_INT(net_processing_peer(ls.peer)->version, MSG_PROTOCOL_VERSION);

	CHECK_EQ_INT(net_send(cs.peer, "inv", (const uint8_t *)"\0", 1), 0);
	CHECK_EQ_INT(net_send(cs.peer, "nonsense", NULL, 0), 0);
	REQUIRE(run_until(&t, &ls.unknown));
	CHECK_EQ_INT(ls.messages, 1);
	CHECK(!ls.peer->closed); /* an unknown message type is ignored */

	/* Ticks reach the sync layer; by then or soon after, the handshake's
	 * ping has come back and its round trip is measured. */
	REQUIRE(run_until(&t, &cs.ticks));
	for (int i = 0; i < 40 && cs.peer->minping_us < 0; i++)
		run_until_n(&t, &cs.ticks, cs.ticks + 1);
	CHECK(cs.peer->minping_us >= 0);
	CHECK(net_processing_peer(cs.peer)->pingtime_us >= 0);

	net_close(ls.peer, "test");
	REQUIRE(run_until(&t, &cs.closed));
	CHECK_EQ_INT(ls.closed, 1);
	pair_free(&t);
	net_processing_free(lnp);
	net_processing_free(cnp);
}
