/*
 * unit.h — a minimal unit-test framework.
 *
 * UNIT_TEST(name) { ... } defines and registers a test; CHECK(cond) records
 * a failure (with file and line) and goes on; CHECK_EQ_INT and CHECK_EQ_STR
 * print both values. REQUIRE(cond) records a failure and stops the test
 * there (from a helper too), for a condition the rest of the test depends
 * on, such as a pointer it is about to dereference; what the test had
 * allocated leaks, which only ever happens in a test that already failed.
 * The runner (unit_main.c) runs every registered test and ends with the
 * line "N passed, N failed". Its exit status is 0 only if nothing failed.
 *
 * unit_tmpdir and unit_rmtree give a test its own scratch directory.
 */
#ifndef UNIT_H
#define UNIT_H

#include <setjmp.h>
#include <stddef.h>
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
/* Where REQUIRE jumps to: the runner, which goes on with the next test. */
extern jmp_buf unit_stop;

/*
 * A new, empty directory /tmp/mr_unit_<tag>_XXXXXX, mode 0700, its path in
 * buf (cap bytes). Returns buf, or NULL (with a line on stderr) if it
 * cannot be made.
 */
char *unit_tmpdir(char *buf, size_t cap, const char *tag);

/* Remove dir and everything below it, without a shell. Accepts NULL and
 * a directory that is already gone. */
void unit_rmtree(const char *dir);

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

#define REQUIRE(cond)                                                      \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "  %s:%d: REQUIRE(%s) failed, test stopped\n", \
				__FILE__, __LINE__, #cond);                \
			unit_failed_now = 1;                               \
			longjmp(unit_stop, 1);                             \
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
