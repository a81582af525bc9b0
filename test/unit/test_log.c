/*
 * Unit tests for src/log.c's rate limiting (log_limited): the lines an
 * outsider can make us write over and over.
 */
#include "log.h"
#include "unit.h"

UNIT_TEST(log_limited_writes_five_a_window_then_counts)
{
	struct log_limit lim = { 0 };
	int written = 0;

	for (int i = 0; i < 12; i++)
		written += log_limited(&lim, "unit: repeated line %d", i);
	CHECK_EQ_INT(written, LOG_LIMIT_LINES);
	CHECK_EQ_INT((int)lim.printed, LOG_LIMIT_LINES);
	CHECK_EQ_INT((int)lim.suppressed, 12 - LOG_LIMIT_LINES);
	/* A new window: the next line is written and carries the count. */
	lim.window_start_s -= LOG_LIMIT_WINDOW_S;
	CHECK(log_limited(&lim, "unit: after the window"));
	CHECK_EQ_INT((int)lim.suppressed, 0);
	CHECK_EQ_INT((int)lim.printed, 1);
}
