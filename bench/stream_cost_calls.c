/*
 * stream_cost_calls.c — the functions stream_cost.c's framed sites call, in
 * a file of their own so the compiler cannot see what they clobber (as for
 * the node's calls between files).
 */
#include <stdint.h>

extern volatile uint64_t bench_sink;

void bench_before(void);
void bench_after(int64_t id, const char *addr, const char *type, const char *cmd,
		 uint64_t len, const uint8_t *p);

void bench_before(void)
{
	bench_sink++;
}

void bench_after(int64_t id, const char *addr, const char *type, const char *cmd,
		 uint64_t len, const uint8_t *p)
{
	bench_sink += (uint64_t)id + len + (uint64_t)(uintptr_t)addr + (uint64_t)(uintptr_t)type +
		      (uint64_t)(uintptr_t)cmd + (uint64_t)(uintptr_t)p;
}
