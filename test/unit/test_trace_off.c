/*
 * Unit tests for include/trace.h compiled away (TRACE_DISABLE): no argument
 * expression is evaluated, TRACEPOINT_ACTIVE is constant false, and every
 * macro still compiles as a statement.
 */
#define TRACE_DISABLE 1
#include "trace.h"
#include "unit.h"

TRACEPOINT_SEMAPHORE(unit_off, guarded);

static int evaluations_off;

static int count_evaluation_off(void)
{
	return ++evaluations_off;
}

UNIT_TEST(trace_off_reports_disabled)
{
	CHECK_EQ_INT(TRACE_ENABLED, 0);
	CHECK_EQ_INT(TRACEPOINT_ACTIVE(unit_off, guarded), 0);
}

UNIT_TEST(trace_off_evaluates_no_argument)
{
	int only_traced = 5; /* must not raise -Wunused-variable */

	evaluations_off = 0;
	TRACE(unit_off, zero);
	TRACE1(unit_off, one, count_evaluation_off());
	TRACEPOINT(unit_off, six, count_evaluation_off(), 2, 3, 4, 5, only_traced);
	TRACE12(unit_off, twelve, count_evaluation_off(), 2, 3, 4, 5, 6, 7, 8,
		9, 10, 11, count_evaluation_off());
	TRACEPOINT_GUARDED(unit_off, guarded, count_evaluation_off());
	if (1)
		TRACEPOINT(unit_off, in_if, count_evaluation_off());
	else
		TRACE(unit_off, in_else);
	CHECK_EQ_INT(evaluations_off, 0);
}
