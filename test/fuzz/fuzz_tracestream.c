/*
 * fuzz_tracestream.c — the tracepoint stream's command parser, as a local
 * client reaches it: the input is what a client writes on DATADIR/trace.sock
 * (lines such as "ring 65536", "subscribe net:*", or anything else), sent
 * over a real Unix socket to a real lib/tracestream server serving the
 * node's 20 tracepoints. Between chunks the server handles what arrived and
 * fires an event of every tracepoint, so subscriptions and rings made by the
 * input are written to as well. Whatever the input, the server must neither
 * crash nor leave a subscriber counted after the client has gone.
 */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "tracepoints.h"
#include "tracestream.h"

#define MAX_WATCH 8

struct watch {
	int fd;
	void (*cb)(void *);
	void *arg;
	int used;
};

static struct watch watches[MAX_WATCH];
static struct tracestream *ts;
static char sock_path[108];

static void *watch_fd(void *host, int fd, void (*cb)(void *), void *arg)
{
	(void)host;
	for (int i = 0; i < MAX_WATCH; i++)
		if (!watches[i].used) {
			watches[i] = (struct watch){ fd, cb, arg, 1 };
			return &watches[i];
		}
	return NULL;
}

static void unwatch_fd(void *host, void *w)
{
	(void)host;
	((struct watch *)w)->used = 0;
}

/* Handle whatever is ready, once. */
static void pump(void)
{
	struct pollfd p[MAX_WATCH];
	struct watch *who[MAX_WATCH];
	int n = 0;

	for (int i = 0; i < MAX_WATCH; i++)
		if (watches[i].used) {
			p[n] = (struct pollfd){ .fd = watches[i].fd, .events = POLLIN };
			who[n++] = &watches[i];
		}
	if (poll(p, (nfds_t)n, 0) <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (p[i].revents && who[i]->used && who[i]->fd == p[i].fd)
			who[i]->cb(who[i]->arg);
}

/* One firing of every tracepoint, through the node's own wrappers. */
static void fire_all(void)
{
	static const uint8_t h[32] = { 1 }, msg[40] = { 2 };

	trace_net_inbound_message(1, "127.0.0.1:1", "inbound", "ping", sizeof(msg), msg);
	trace_net_outbound_message(1, "127.0.0.1:1", "inbound", "pong", sizeof(msg), msg);
	trace_net_inbound_connection(1, "127.0.0.1:1", "inbound", 0, 1);
	trace_net_outbound_connection(2, "127.0.0.1:2", "manual", 0, 1);
	trace_net_closed_connection(1, "127.0.0.1:1", "inbound", 0, 1);
	trace_net_evicted_inbound_connection(1, "127.0.0.1:1", "inbound", 0, 1);
	trace_net_misbehaving_connection(1, "fuzz");
	trace_validation_block_connected(h, 1, 1, 0, 0, 5);
	trace_utxocache_flush(5, 3, 10, 1000, false);
	trace_utxocache_add(h, 0, 1, 50, true);
	trace_utxocache_spent(h, 0, 1, 50, true);
	trace_utxocache_uncache(h, 0, 1, 50, false);
	trace_coin_selection_selected_coins("w", "bnb", 10, 0, 20);
	trace_coin_selection_normal_create_tx_internal("w", true, 1, -1);
	trace_coin_selection_attempting_aps_create_tx("w");
	trace_coin_selection_aps_create_tx_internal("w", false, true, 1, 0);
	trace_mempool_added(h, 100, 1000);
	trace_mempool_removed(h, "block", 100, 1000, 5);
	trace_mempool_replaced(h, 100, 1000, 5, h, 120, 2000);
	trace_mempool_rejected(h, "insufficient fee");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tracestream_config cfg = { .path = sock_path, .max_clients = 4,
					  .ring_default = 64u << 10, .ring_max = 1u << 20 };
	struct tracestream_io io = { .watch = watch_fd, .unwatch = unwatch_fd };
	char err[256];

	(void)argc;
	(void)argv;
	snprintf(sock_path, sizeof(sock_path), "%s/trace.sock", fuzz_tmpdir("tracestream"));
	ts = tracestream_new(&cfg, tracepoints_events, tracepoints_n_events, &io, err,
			     sizeof(err));
	FUZZ_ASSERT(ts != NULL);
	tracepoints_stream = ts;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char sink[4096];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	FUZZ_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	/* In chunks of up to 64 bytes, handled one by one. */
	for (size_t off = 0; off < size; off += 64) {
		size_t n = size - off < 64 ? size - off : 64;

		if (send(fd, data + off, n, MSG_NOSIGNAL) < 0)
			break;
		for (int i = 0; i < 4; i++)
			pump();
		fire_all();
		while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	close(fd);
	for (int i = 0; i < 8 && tracestream_clients(ts) > 0; i++)
		pump();
	FUZZ_ASSERT(tracestream_clients(ts) == 0);
	for (unsigned e = 0; e < tracepoints_n_events; e++)
		FUZZ_ASSERT(*tracepoints_events[e].subscribers == 0);
	return 0;
}
