/*
 * redzone.c — the red-zone stress test for trace.h's 5-byte sites.
 *
 * leaf() is a leaf function that keeps 12 live values in a volatile array
 * across a tracepoint. Compiled with the red zone (the x86-64 default), a
 * leaf keeps such locals below %rsp without moving it; a kernel that runs a
 * uprobe on a 5-byte nop as a call (Linux 6.18) pushes its return address
 * right there. With -mno-red-zone the array sits above %rsp, out of reach.
 *
 * Usage: redzone N — calls leaf() N times, then prints
 * "hits=N corrupted=M" (M calls found a value changed) and exits 0.
 */
#include "trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define VALUES 12

__attribute__((noinline)) static long leaf(int64_t seed)
{
	volatile int64_t v[VALUES];
	long bad = 0;
	int i;

	for (i = 0; i < VALUES; i++)
		v[i] = seed * 31 + i;
	TRACEPOINT(stress, hit, seed);
	for (i = 0; i < VALUES; i++)
		bad += v[i] != seed * 31 + i;
	return bad;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	long corrupted = 0;
	long i;

	for (i = 0; i < n; i++)
		corrupted += leaf(i) != 0;
	printf("hits=%ld corrupted=%ld\n", n, corrupted);
	return 0;
}
