/* The compiled-away site: the same code as site_plain (trace_cost.c), built
 * with -DTRACE_DISABLE (see bench/build.mk). */
#include "trace.h"
#include "trace_cost.h"

#if TRACE_ENABLED
#error "trace_cost_off.c must be compiled with -DTRACE_DISABLE"
#endif

/* The same work without any tracepoint, in this translation unit too, so
 * both are addressed the same way by the compiler. */
__attribute__((noinline)) void site_off_baseline(long a, long b, long c, long d,
						 long e, long f)
{
	RECORD(a, b, c, d, e, f);
}

__attribute__((noinline)) void site_off(long a, long b, long c, long d, long e,
					long f)
{
	TRACE6(bench, off, a, b, c, d, e, f);
	RECORD(a, b, c, d, e, f);
}
