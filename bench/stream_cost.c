/*
 * stream_cost — what the node's tracepoint wrappers cost at the site, with
 * nobody listening, with USDT tracers attached, and with a stream client.
 * The sites are the generated wrappers the node uses (build/gen/
 * tracepoints.h): net:inbound_message (guarded, six arguments, a message
 * payload) and mempool:added (plain).
 *
 *   stream_cost count N          call every site N times (for callgrind)
 *   stream_cost hit SIZE M       print "ready", wait for a line on stdin (a
 *                                tracer is attached by then), then fire
 *                                net:inbound_message M times with a SIZE-byte
 *                                payload; print "ns_per_call X"
 *   stream_cost stream SIZE M [RATE [RING [BATCH]]]
 *                                serve the stream on a temporary socket, fork
 *                                a reader (ring of RING bytes, default 64 MiB)
 *                                that subscribes to net:*, fire M events (at
 *                                RATE per second, 0: flat out; BATCH events
 *                                per turn of the host's loop, as the node's
 *                                callbacks emit them, 0: all in one) and
 *                                print "ns_per_call X received R lost L
 *                                intact 0|1 seconds S"
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracepoints.h"
#include "tracestream.h"
#include "tracestream_client.h"

volatile uint64_t bench_sink;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The baselines do what the sites do, without a tracepoint. */
__attribute__((noinline)) void site_baseline(int64_t id, const char *addr, const char *type,
					     const char *cmd, uint64_t len, const uint8_t *p)
{
	bench_sink += (uint64_t)id + len + (uint64_t)(uintptr_t)addr +
		      (uint64_t)(uintptr_t)type + (uint64_t)(uintptr_t)cmd +
		      (uint64_t)(uintptr_t)p;
}

__attribute__((noinline)) void site_guarded(int64_t id, const char *addr, const char *type,
					    const char *cmd, uint64_t len, const uint8_t *p)
{
	trace_net_inbound_message(id, addr, type, cmd, len, p);
	bench_sink += (uint64_t)id + len + (uint64_t)(uintptr_t)addr +
		      (uint64_t)(uintptr_t)type + (uint64_t)(uintptr_t)cmd +
		      (uint64_t)(uintptr_t)p;
}

__attribute__((noinline)) void site_baseline3(const uint8_t *txid, int32_t vsize, int64_t fee)
{
	bench_sink += (uint64_t)(uintptr_t)txid + (uint64_t)vsize + (uint64_t)fee;
}

__attribute__((noinline)) void site_plain(const uint8_t *txid, int32_t vsize, int64_t fee)
{
	trace_mempool_added(txid, vsize, fee);
	bench_sink += (uint64_t)(uintptr_t)txid + (uint64_t)vsize + (uint64_t)fee;
}

/*
 * The same sites inside a function that already calls something in another
 * file, as every tracepoint site in the node does (bench_before/bench_after
 * are in stream_cost_calls.c; the node is built without LTO): the values
 * live across a call anyway, so the site adds only its gate. The leaf sites
 * above show the cost where the site alone makes a function keep a frame.
 */
void bench_before(void);
void bench_after(int64_t id, const char *addr, const char *type, const char *cmd,
		 uint64_t len, const uint8_t *p);

__attribute__((noinline)) void framed_baseline(int64_t id, const char *addr, const char *type,
					       const char *cmd, uint64_t len, const uint8_t *p)
{
	bench_before();
	bench_after(id, addr, type, cmd, len, p);
	bench_sink++;
}

__attribute__((noinline)) void framed_guarded(int64_t id, const char *addr, const char *type,
					      const char *cmd, uint64_t len, const uint8_t *p)
{
	bench_before();
	trace_net_inbound_message(id, addr, type, cmd, len, p);
	bench_after(id, addr, type, cmd, len, p);
	bench_sink++;
}

__attribute__((noinline)) void framed_baseline3(const uint8_t *txid, int32_t vsize, int64_t fee)
{
	bench_before();
	bench_after(0, NULL, NULL, NULL, (uint64_t)vsize, txid);
	bench_sink += (uint64_t)fee;
}

__attribute__((noinline)) void framed_plain(const uint8_t *txid, int32_t vsize, int64_t fee)
{
	bench_before();
	trace_mempool_added(txid, vsize, fee);
	bench_after(0, NULL, NULL, NULL, (uint64_t)vsize, txid);
	bench_sink += (uint64_t)fee;
}

static uint8_t *payload(size_t size)
{
	uint8_t *p = malloc(size ? size : 1);

	for (size_t i = 0; p && i < size; i++)
		p[i] = (uint8_t)(i * 2654435761u >> 24);
	return p;
}

static int count(long n)
{
	uint8_t txid[32] = { 1 }, msg[8] = { 2 };

	for (long i = 0; i < n; i++) {
		site_baseline(i, "127.0.0.1:8333", "inbound", "ping", 8, msg);
		site_guarded(i, "127.0.0.1:8333", "inbound", "ping", 8, msg);
		site_baseline3(txid, (int32_t)i, i);
		site_plain(txid, (int32_t)i, i);
		framed_baseline(i, "127.0.0.1:8333", "inbound", "ping", 8, msg);
		framed_guarded(i, "127.0.0.1:8333", "inbound", "ping", 8, msg);
		framed_baseline3(txid, (int32_t)i, i);
		framed_plain(txid, (int32_t)i, i);
	}
	return 0;
}

static int hit(size_t size, long m)
{
	uint8_t *p = payload(size);
	char line[16];
	uint64_t t0;

	printf("ready\n");
	fflush(stdout);
	if (!p || !fgets(line, sizeof(line), stdin))
		return 1;
	t0 = now_ns();
	for (long i = 0; i < m; i++)
		site_guarded(i, "127.0.0.1:8333", "inbound", "ping", size, p);
	printf("ns_per_call %.1f\n", (double)(now_ns() - t0) / (double)m);
	free(p);
	return 0;
}

/* ---- The stream: a one-thread poll() host, and a reader process ---------------- */

struct watch {
	int fd;
	void (*cb)(void *);
	void *arg;
	int used;
};
static struct watch watches[64];

static void *host_watch(void *h, int fd, void (*cb)(void *), void *arg)
{
	(void)h;
	for (int i = 0; i < 64; i++)
		if (!watches[i].used) {
			watches[i] = (struct watch){ fd, cb, arg, 1 };
			return &watches[i];
		}
	return NULL;
}

static void host_unwatch(void *h, void *w)
{
	(void)h;
	((struct watch *)w)->used = 0;
}

/* The library's deferred call (its defer hook): run when the host's loop
 * comes round, i.e. at the end of a batch of events. */
static void (*deferred_fn)(void *);
static void *deferred_arg;

static void host_defer(void *h, void (*fn)(void *), void *arg)
{
	(void)h;
	deferred_fn = fn;
	deferred_arg = arg;
}

static void run_deferred(void)
{
	void (*fn)(void *) = deferred_fn;

	deferred_fn = NULL;
	if (fn)
		fn(deferred_arg);
}

static void pump(int timeout_ms)
{
	struct pollfd p[64];
	struct watch *who[64];
	int n = 0;

	for (int i = 0; i < 64; i++)
		if (watches[i].used) {
			p[n] = (struct pollfd){ .fd = watches[i].fd, .events = POLLIN };
			who[n++] = &watches[i];
		}
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (p[i].revents && who[i]->used)
			who[i]->cb(who[i]->arg);
}

/* The reader: subscribe, then read until the node's counts say every event
 * was written or lost, checking each payload. Reports on `out`. */
static int reader(const char *path, size_t size, long m, size_t ring, int out)
{
	struct tracestream_client *c;
	struct tracestream_client_record r;
	uint8_t *want = payload(size);
	uint64_t written, lost, received = 0;
	int intact = 1;
	char err[256], line[128];

	c = tracestream_client_connect(path, err, sizeof(err));
	if (!c || tracestream_client_ring(c, ring, err, sizeof(err)) < 0 ||
	    tracestream_client_subscribe(c, "net:*", 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "reader: %s\n", err);
		return 1;
	}
	for (;;) {
		int rc = tracestream_client_next(c, &r, 100, err, sizeof(err));

		if (rc < 0)
			break;
		if (rc == 1 && r.kind == TRACESTREAM_CLIENT_EVENT) {
			received++;
			if (r.values[4].u != size || r.values[5].len != size ||
			    memcmp(r.values[5].ptr, want, size) != 0)
				intact = 0;
		}
		tracestream_client_totals(c, &written, &lost);
		if (rc == 0 && written + lost >= (uint64_t)m && received == written)
			break;
	}
	tracestream_client_totals(c, &written, &lost);
	snprintf(line, sizeof(line), "received %llu lost %llu intact %d\n",
		 (unsigned long long)received, (unsigned long long)lost, intact && received == written);
	if (write(out, line, strlen(line)) < 0)
		return 1;
	tracestream_client_free(c);
	free(want);
	return 0;
}

static int stream(size_t size, long m, double rate, size_t ring, long batch)
{
	char dir[] = "/tmp/mr_bench_stream_XXXXXX", path[64], result[128] = "";
	struct tracestream_config cfg = { .path = path, .ring_max = 64u << 20 };
	struct tracestream_io io = { .watch = host_watch, .unwatch = host_unwatch,
				     .defer = host_defer };
	uint8_t *p = payload(size);
	int fds[2], status;
	uint64_t t0, spent;
	pid_t pid;
	ssize_t n;
	char err[256];

	if (!p || !mkdtemp(dir) || pipe(fds) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/trace.sock", dir);
	tracepoints_stream = tracestream_new(&cfg, tracepoints_events, tracepoints_n_events, &io,
					     err, sizeof(err));
	if (!tracepoints_stream) {
		fprintf(stderr, "stream_cost: %s\n", err);
		return 1;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(reader(path, size, m, ring ? ring : 64u << 20, fds[1]));
	}
	close(fds[1]);
	while (!net_inbound_message_semaphore.half.stream)
		pump(100);
	t0 = now_ns();
	for (long i = 0; i < m; i++) {
		if (rate > 0) /* pace: event i is due at t0 + i / rate */
			while ((double)(now_ns() - t0) < (double)i * 1e9 / rate)
				;
		site_guarded(i, "127.0.0.1:8333", "inbound", "ping", size, p);
		if (batch && (i + 1) % batch == 0)
			run_deferred();
	}
	run_deferred();
	spent = now_ns() - t0;
	/* Keep serving (wake-ups are sent from emit; the socket needs nothing
	 * else) until the reader reports. */
	n = read(fds[0], result, sizeof(result) - 1);
	waitpid(pid, &status, 0);
	result[n > 0 ? n : 0] = '\0';
	result[strcspn(result, "\n")] = '\0';
	printf("ns_per_call %.1f %s seconds %.3f\n", (double)spent / (double)m, result,
	       (double)spent / 1e9);
	tracestream_free(tracepoints_stream);
	rmdir(dir);
	free(p);
	return n > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return count(atol(argv[2]));
	if (argc == 4 && strcmp(argv[1], "hit") == 0)
		return hit((size_t)atol(argv[2]), atol(argv[3]));
	if (argc >= 4 && argc <= 7 && strcmp(argv[1], "stream") == 0)
		return stream((size_t)atol(argv[2]), atol(argv[3]), argc >= 5 ? atof(argv[4]) : 0,
			      argc >= 6 ? (size_t)atol(argv[5]) : 0, argc == 7 ? atol(argv[6]) : 0);
	fprintf(stderr, "usage: stream_cost count N | hit SIZE M | stream SIZE M [RATE [RING [BATCH]]]\n");
	return 2;
}
