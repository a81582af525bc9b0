/*
 * unit_main.c — runs every UNIT_TEST linked into the binary, in name order,
 * optionally only those whose name contains argv[1]. Prints one line per
 * failing test and ends with "N passed, N failed".
 */
#include "unit.h"

#include <stdlib.h>

static struct unit_test *tests;
int unit_failed_now;

void unit_register(struct unit_test *t)
{
	struct unit_test **p = &tests;

	while (*p && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	for (struct unit_test *t = tests; t; t = t->next) {
		if (filter && !strstr(t->name, filter))
			continue;
		unit_failed_now = 0;
		t->fn();
		if (unit_failed_now) {
			fprintf(stderr, "FAIL %s\n", t->name);
			failed++;
		} else {
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
