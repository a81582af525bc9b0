/*
 * p2p_events — a load generator for the capture benchmark: fires
 * net:inbound_message and net:outbound_message in turn, with the node's
 * argument layout (doc/tracing.md), as
 * fast as asked, so a capture tool can be driven past the rate the node
 * itself reaches on this machine (its P2P handling is the limit there).
 *
 * USAGE: p2p_events COUNT SIZE [RATE]
 *   COUNT events with a SIZE-byte payload (byte i is i*7+message number,
 *   so a capture can be checked byte for byte); RATE events a second
 *   (paced in batches of 1,000), or as fast as possible without it.
 * With P2P_EVENTS_WAIT=1 in the environment it prints "ready PID" and
 * waits for a line on stdin first, so a tracer can attach by PID.
 * Prints: events N size S seconds T rate R
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracepoints.h" /* the node's own wrappers, semaphores and all */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(unsigned char *buf, uint64_t size, uint64_t n)
{
	for (uint64_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 7 + n);
}

int main(int argc, char **argv)
{
	uint64_t count, size, rate;
	unsigned char *buf;
	double start, end;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: p2p_events COUNT SIZE [RATE]\n");
		return 2;
	}
	count = strtoull(argv[1], NULL, 10);
	size = strtoull(argv[2], NULL, 10);
	rate = argc == 4 ? strtoull(argv[3], NULL, 10) : 0;
	if (size > 4000000) {
		fprintf(stderr, "p2p_events: SIZE is at most 4000000\n");
		return 2;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		return 1;
	fill(buf, size, 0);
	if (getenv("P2P_EVENTS_WAIT")) {
		char line[16];

		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	start = now();
	for (uint64_t n = 0; n < count; n++) {
		/* Large payloads differ per message, so a mixed-up capture shows. */
		if (size > 4096)
			fill(buf, size, n);
		if (n % 2 == 0)
			trace_net_inbound_message((int64_t)(n % 8), "127.0.0.1:28444", "inbound",
						  "ping", size, buf);
		else
			trace_net_outbound_message((int64_t)(n % 8), "127.0.0.1:28444", "inbound",
						   "pong", size, buf);
		if (rate && n % 1000 == 999)
			while (now() - start < (double)(n + 1) / (double)rate)
				;
	}
	end = now();
	printf("events %llu size %llu seconds %.6f rate %.0f\n", (unsigned long long)count,
	       (unsigned long long)size, end - start, (double)count / (end - start));
	free(buf);
	return 0;
}
