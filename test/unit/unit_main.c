/*
 * unit_main.c — runs every UNIT_TEST linked into the binary, in name order,
 * optionally only those whose name contains argv[1]. Prints one line per
 * failing test and ends with "N passed, N failed".
 */
#include "unit.h"

#include <ftw.h>
#include <stdlib.h>

static struct unit_test *tests;
int unit_failed_now;
jmp_buf unit_stop;

void unit_register(struct unit_test *t)
{
	struct unit_test **p = &tests;

	while (*p && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

char *unit_tmpdir(char *buf, size_t cap, const char *tag)
{
	int n = snprintf(buf, cap, "/tmp/mr_unit_%s_XXXXXX", tag);

	if (n < 0 || (size_t)n >= cap || !mkdtemp(buf)) {
		fprintf(stderr, "  unit_tmpdir: cannot make /tmp/mr_unit_%s_XXXXXX\n", tag);
		return NULL;
	}
	return buf;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "  unit_rmtree: cannot remove %s\n", path);
	return 0; /* go on: remove what can be removed */
}

void unit_rmtree(const char *dir)
{
	if (dir && *dir)
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Run t; a REQUIRE that fails comes back here through unit_stop. */
static void run_one(const struct unit_test *t)
{
	if (setjmp(unit_stop) == 0)
		t->fn();
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	for (struct unit_test *t = tests; t; t = t->next) {
		if (filter && !strstr(t->name, filter))
			continue;
		unit_failed_now = 0;
		run_one(t);
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
