/*
 * trace_cost — what a tracepoint costs.
 *
 *   trace_cost count N    call every site N times (run under callgrind to
 *                         count instructions per site)
 *   trace_cost loop M     print "waiting", wait for a line on stdin (the
 *                         driver sends it once a tracer is attached), then
 *                         hit the plain probe bench:plain M times and print
 *                         "elapsed_ns <total> ns_per_call <x>"
 *   trace_cost syscall M  make M getppid system calls, print the same line
 */
#include "trace.h"
#include "trace_cost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The guarded sites below define their own semaphores (implicit form). */

volatile uint64_t bench_sink;
struct bench_record bench_record;

/*
 * The measured sites record their six values, as code next to a tracepoint
 * typically uses the values the tracepoint reports, and put the tracepoint
 * where those values already sit in registers.
 */
__attribute__((noinline)) void site_baseline(long a, long b, long c, long d,
					     long e, long f)
{
	RECORD(a, b, c, d, e, f);
}

__attribute__((noinline)) void site_plain(long a, long b, long c, long d, long e,
					  long f)
{
	TRACE6(bench, plain, a, b, c, d, e, f);
	RECORD(a, b, c, d, e, f);
}

__attribute__((noinline)) void site_guarded(long a, long b, long c, long d,
					    long e, long f)
{
	TRACEPOINT_GUARDED(bench, guarded, a, b, c, d, e, f);
	RECORD(a, b, c, d, e, f);
}

/*
 * For reference, not a target: the same guard written by hand, with no
 * tracepoint behind it. It tells what a guarded site costs because of the
 * branch itself (and the compiler's register allocation around any branch)
 * rather than because of the probe's operands.
 */
volatile unsigned short bench_flag;

__attribute__((noinline)) void site_handguard(long a, long b, long c, long d,
					      long e, long f)
{
	if (__builtin_expect(bench_flag > 0, 0))
		bench_sink++;
	RECORD(a, b, c, d, e, f);
}

/*
 * For reference, not a target: the guarded site with five parameters. In a
 * six-parameter function gcc adds a register move around any conditional
 * branch; with one argument register free it does not.
 */
__attribute__((noinline)) void site_baseline5(long a, long b, long c, long d,
					      long e)
{
	RECORD5(a, b, c, d, e);
}

__attribute__((noinline)) void site_guarded5(long a, long b, long c, long d,
					     long e)
{
	TRACEPOINT_GUARDED(bench, guarded5, a, b, c, d, e);
	RECORD5(a, b, c, d, e);
}

/*
 * For the record, not a target: when the work consumes the argument
 * registers (an xor chain into one of them), the compiler keeps the probe's
 * operand alive with one register move more than without the probe.
 */
__attribute__((noinline)) void site_xor_baseline(long a, long b, long c, long d,
						 long e, long f)
{
	bench_sink += (uint64_t)(a ^ b ^ c ^ d ^ e ^ f);
}

__attribute__((noinline)) void site_xor_plain(long a, long b, long c, long d,
					      long e, long f)
{
	TRACE6(bench, xor_plain, a, b, c, d, e, f);
	bench_sink += (uint64_t)(a ^ b ^ c ^ d ^ e ^ f);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The driver reads both: the raw total and the per-call figure. */
static void print_elapsed(double ns, long calls)
{
	printf("elapsed_ns %.0f ns_per_call %.3f\n", ns, ns / (double)calls);
	fflush(stdout);
}

static void count_sites(long n)
{
	for (long i = 0; i < n; i++) {
		site_baseline(i, 1, 2, 3, 4, 5);
		site_plain(i, 1, 2, 3, 4, 5);
		site_guarded(i, 1, 2, 3, 4, 5);
		site_handguard(i, 1, 2, 3, 4, 5);
		site_baseline5(i, 1, 2, 3, 4);
		site_guarded5(i, 1, 2, 3, 4);
		site_off(i, 1, 2, 3, 4, 5);
		site_off_baseline(i, 1, 2, 3, 4, 5);
		site_xor_baseline(i, 1, 2, 3, 4, 5);
		site_xor_plain(i, 1, 2, 3, 4, 5);
	}
}

static int loop_plain(long m)
{
	char line[16];
	double t0;

	printf("waiting\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "trace_cost: loop: stdin closed before the go line\n");
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < m; i++)
		site_plain(i, 1, 2, 3, 4, 5);
	print_elapsed(now_ns() - t0, m);
	return 0;
}

static void loop_syscall(long m)
{
	double t0 = now_ns();

	for (long i = 0; i < m; i++)
		bench_sink += (uint64_t)syscall(SYS_getppid);
	print_elapsed(now_ns() - t0, m);
}

int main(int argc, char **argv)
{
	long n;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: trace_cost count|loop|syscall N\n");
		return 2;
	}
	if (strcmp(argv[1], "count") == 0)
		count_sites(n);
	else if (strcmp(argv[1], "loop") == 0)
		return loop_plain(n);
	else if (strcmp(argv[1], "syscall") == 0)
		loop_syscall(n);
	else {
		fprintf(stderr, "trace_cost: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
