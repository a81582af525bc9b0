/*
 * trace_cost.h — the benchmark's sites. Each does the same work with its six
 * arguments; they differ only in the tracepoint they carry, so an
 * instruction count of each minus the baseline is the tracepoint's cost.
 */
#ifndef TRACE_COST_H
#define TRACE_COST_H

#include <stdint.h>

extern volatile uint64_t bench_sink;

/* Where the sites record their values. */
struct bench_record {
	long a1, a2, a3, a4, a5, a6;
};
extern struct bench_record bench_record;

#define RECORD(a, b, c, d, e, f)                               \
	do {                                                   \
		bench_record.a1 = a;                           \
		bench_record.a2 = b;                           \
		bench_record.a3 = c;                           \
		bench_record.a4 = d;                           \
		bench_record.a5 = e;                           \
		bench_record.a6 = f;                           \
	} while (0)

/* The first five of RECORD's stores. */
#define RECORD5(a, b, c, d, e)                                 \
	do {                                                   \
		bench_record.a1 = a;                           \
		bench_record.a2 = b;                           \
		bench_record.a3 = c;                           \
		bench_record.a4 = d;                           \
		bench_record.a5 = e;                           \
	} while (0)

void site_baseline(long a, long b, long c, long d, long e, long f);
void site_plain(long a, long b, long c, long d, long e, long f);
void site_guarded(long a, long b, long c, long d, long e, long f);
void site_handguard(long a, long b, long c, long d, long e, long f);
void site_baseline5(long a, long b, long c, long d, long e);
void site_guarded5(long a, long b, long c, long d, long e);
void site_xor_baseline(long a, long b, long c, long d, long e, long f);
void site_xor_plain(long a, long b, long c, long d, long e, long f);
/* In trace_cost_off.c, compiled with TRACE_DISABLE. */
void site_off(long a, long b, long c, long d, long e, long f);
void site_off_baseline(long a, long b, long c, long d, long e, long f);

#endif
