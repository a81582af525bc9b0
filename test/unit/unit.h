/*
 * unit.h — a minimal unit-test framework.
 *
 * UNIT_TEST(name) { ... } defines and registers a test; CHECK(cond) records
 * a failure (with file and line) and goes on; CHECK_EQ_INT and CHECK_EQ_STR
 * print both values. The runner (unit_main.c) runs every registered test
 * and ends with the line "N passed, N failed". Its exit status is 0 only if
 * nothing failed.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
/* Set by CHECK when the running test fails. */
extern int unit_failed_now;

#define UNIT_TEST(name)                                                    \
	static void unit_fn_##name(void);                                  \
	static struct unit_test unit_t_##name = { #name, unit_fn_##name,   \
						  NULL };                  \
	__attribute__((constructor)) static void unit_reg_##name(void)    \
	{                                                                  \
		unit_register(&unit_t_##name);                             \
	}                                                                  \
	static void unit_fn_##name(void)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n",     \
				__FILE__, __LINE__, #cond);                \
			unit_failed_now = 1;                               \
		}                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                 \
	do {                                                               \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b); \
		if (unit_a_ != unit_b_) {                                  \
			fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, unit_a_, unit_b_); \
			unit_failed_now = 1;                               \
		}                                                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                 \
	do {                                                               \
		const char *unit_a_ = (a), *unit_b_ = (b);                 \
		if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) { \
			fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b,                \
				unit_a_ ? unit_a_ : "(null)",              \
				unit_b_ ? unit_b_ : "(null)");             \
			unit_failed_now = 1;                               \
		}                                                          \
	} while (0)

#endif
