/*
 * probes.c — the test program for include/trace.h.
 *
 * Carries `test:args0`..`test:args12` (TRACE0..TRACE12),
 * `test:vargs0`..`test:vargs12` (variadic TRACEPOINT) and `test:guarded`
 * (TRACEPOINT_GUARDED), each argument a known value of a known C type, so
 * tests can check what readelf shows and what bpftrace, BCC and libbpf read.
 * Compiles as C and as C++, with tracing on or compiled away.
 *
 * Protocol: prints "ready pid=<pid>", then answers one line per command
 * read from stdin:
 *   sem   -> "sem <value of test_guarded_semaphore>"
 *   fire  -> fires every probe once, in the order above, then
 *            "fired evals=<times the guarded argument was evaluated>"
 *   quit  -> exits 0
 * The argument table is in test/header/tracepoints.md.
 */
#include "trace.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TRACEPOINT_SEMAPHORE(test, guarded);

/* Read through a volatile object so the compiler cannot fold the values
 * into immediates: tracers must also handle register and memory operands. */
struct probe_values {
	int64_t a1;
	const char *a2;
	uint32_t a3;
	const uint8_t *a4;
	bool a5;
	int32_t a6;
	uint64_t a7;
	int16_t a8;
	uint16_t a9;
	int8_t a10;
	uint8_t a11;
	const char *a12;
};

static const uint8_t bytes32[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static volatile struct probe_values values = {
	-1234567890123LL, "hello, tracer", 4000000000U, bytes32, true, -42,
	UINT64_MAX, -1234, 65000, -7, 200, "the twelfth argument",
};

static int64_t evals;

/* The guarded site's side-effecting argument. */
static int64_t count_evaluation(void)
{
	return ++evals;
}

static void fire_plain(const struct probe_values *v)
{
	TRACE0(test, args0);
	TRACE1(test, args1, v->a1);
	TRACE2(test, args2, v->a1, v->a2);
	TRACE3(test, args3, v->a1, v->a2, v->a3);
	TRACE4(test, args4, v->a1, v->a2, v->a3, v->a4);
	TRACE5(test, args5, v->a1, v->a2, v->a3, v->a4, v->a5);
	TRACE6(test, args6, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6);
	TRACE7(test, args7, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6, v->a7);
	TRACE8(test, args8, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6, v->a7,
	       v->a8);
	TRACE9(test, args9, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6, v->a7,
	       v->a8, v->a9);
	TRACE10(test, args10, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6, v->a7,
		v->a8, v->a9, v->a10);
	TRACE11(test, args11, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6, v->a7,
		v->a8, v->a9, v->a10, v->a11);
	TRACE12(test, args12, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6, v->a7,
		v->a8, v->a9, v->a10, v->a11, v->a12);
}

static void fire_variadic(const struct probe_values *v)
{
	TRACEPOINT(test, vargs0);
	TRACEPOINT(test, vargs1, v->a1);
	TRACEPOINT(test, vargs2, v->a1, v->a2);
	TRACEPOINT(test, vargs3, v->a1, v->a2, v->a3);
	TRACEPOINT(test, vargs4, v->a1, v->a2, v->a3, v->a4);
	TRACEPOINT(test, vargs5, v->a1, v->a2, v->a3, v->a4, v->a5);
	TRACEPOINT(test, vargs6, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6);
	TRACEPOINT(test, vargs7, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6,
		   v->a7);
	TRACEPOINT(test, vargs8, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6,
		   v->a7, v->a8);
	TRACEPOINT(test, vargs9, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6,
		   v->a7, v->a8, v->a9);
	TRACEPOINT(test, vargs10, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6,
		   v->a7, v->a8, v->a9, v->a10);
	TRACEPOINT(test, vargs11, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6,
		   v->a7, v->a8, v->a9, v->a10, v->a11);
	TRACEPOINT(test, vargs12, v->a1, v->a2, v->a3, v->a4, v->a5, v->a6,
		   v->a7, v->a8, v->a9, v->a10, v->a11, v->a12);
}

static void fire(void)
{
	struct probe_values v;

	/* One volatile read per field, then probes read the plain copy. */
	v.a1 = values.a1;
	v.a2 = values.a2;
	v.a3 = values.a3;
	v.a4 = values.a4;
	v.a5 = values.a5;
	v.a6 = values.a6;
	v.a7 = values.a7;
	v.a8 = values.a8;
	v.a9 = values.a9;
	v.a10 = values.a10;
	v.a11 = values.a11;
	v.a12 = values.a12;
	fire_plain(&v);
	fire_variadic(&v);
	TRACEPOINT_GUARDED(test, guarded, count_evaluation(), "guarded");
}

static unsigned semaphore_value(void)
{
#if TRACE_ENABLED
	return test_guarded_semaphore;
#else
	return 0;
#endif
}

int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%ld\n", (long)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "sem") == 0) {
			printf("sem %u\n", semaphore_value());
		} else if (strcmp(line, "fire") == 0) {
			fire();
			printf("fired evals=%lld\n", (long long)evals);
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			printf("error unknown command '%s'\n", line);
		}
	}
	return 0;
}
