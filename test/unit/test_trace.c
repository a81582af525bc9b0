/*
 * Unit tests for include/trace.h with tracing compiled in: argument
 * counting, and that an unattached guarded site evaluates nothing. The
 * probes here are real; the functional tests attach tracers to them.
 */
#include "trace.h"
#include "unit.h"

#include <stdint.h>

TRACEPOINT_SEMAPHORE(unit, guarded);

static int evaluations;

static int64_t count_evaluation(void)
{
	return ++evaluations;
}

UNIT_TEST(trace_enabled_where_sdt_exists)
{
	CHECK_EQ_INT(TRACE_ENABLED, 1);
}

UNIT_TEST(trace_argc_counts_0_to_12)
{
	CHECK_EQ_INT(_TRACE_ARGC(c, e), 0);
	CHECK_EQ_INT(_TRACE_ARGC(c, e, 1), 1);
	CHECK_EQ_INT(_TRACE_ARGC(c, e, 1, 2, 3, 4, 5, 6), 6);
	CHECK_EQ_INT(_TRACE_ARGC(c, e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 12);
}

UNIT_TEST(trace_plain_sites_evaluate_their_arguments)
{
	evaluations = 0;
	TRACEPOINT(unit, plain, count_evaluation());
	TRACE2(unit, plain2, count_evaluation(), count_evaluation());
	CHECK_EQ_INT(evaluations, 3);
}

UNIT_TEST(trace_unattached_guarded_site_evaluates_nothing)
{
	evaluations = 0;
	CHECK(!TRACEPOINT_ACTIVE(unit, guarded));
	TRACEPOINT_GUARDED(unit, guarded, count_evaluation(), count_evaluation());
	CHECK_EQ_INT(evaluations, 0);
}

UNIT_TEST(trace_semaphore_is_two_bytes)
{
	CHECK_EQ_INT(sizeof(unit_guarded_semaphore), 2);
}
