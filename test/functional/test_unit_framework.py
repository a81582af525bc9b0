"""The unit-test framework itself (test/unit/unit.h, unit_main.c).

A small runner is compiled from the framework and a test file written here:
REQUIRE must stop the failing test at once (nothing after it runs, even
from a helper), CHECK must record and go on, the next test must still run,
the summary and exit status must count the failures, and unit_tmpdir /
unit_rmtree must make and remove a private directory tree.
"""
import shutil

from conftest import ROOT, require, run

TESTS_C = r'''
#include <stdio.h>
#include <sys/stat.h>
#include "unit.h"

static void must_be_positive(int x)
{
	REQUIRE(x > 0);
	puts("helper went on");
}

UNIT_TEST(a_require_stops)
{
	int *p = NULL;

	CHECK(1 == 2);
	puts("after check");
	REQUIRE(p != NULL);
	printf("dereferenced %d\n", *p);
}

UNIT_TEST(b_require_in_helper_stops)
{
	must_be_positive(-1);
	puts("test went on");
}

UNIT_TEST(c_next_test_runs)
{
	REQUIRE(1);
	puts("c ran");
}

UNIT_TEST(d_tmpdir)
{
	char dir[64], sub[96], file[128];
	struct stat st;
	FILE *f;

	REQUIRE(unit_tmpdir(dir, sizeof(dir), "fw") != NULL);
	REQUIRE(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	REQUIRE(mkdir(sub, 0700) == 0);
	snprintf(file, sizeof(file), "%s/a/f", dir);
	f = fopen(file, "w");
	REQUIRE(f != NULL);
	fclose(f);
	unit_rmtree(dir);
	CHECK(stat(dir, &st) != 0);
	unit_rmtree(dir);   /* already gone: fine */
	unit_rmtree(NULL);
	CHECK(unit_tmpdir(dir, 10, "fw") == NULL); /* does not fit */
	puts("d ran");
}
'''


def test_require_stops_only_the_failing_test(tmp_path):
    cc = shutil.which("gcc")
    require(cc is not None, "gcc is not installed (run scripts/setup-deps.sh)")
    src = tmp_path / "fw_tests.c"
    src.write_text(TESTS_C)
    exe = tmp_path / "fw_runner"
    run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
         f"-I{ROOT / 'test' / 'unit'}", "-o", str(exe), str(src),
         str(ROOT / "test" / "unit" / "unit_main.c")])
    proc = run([str(exe)], check=False)
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 1, (out, err)
    assert "after check" in out                 # CHECK goes on
    assert "dereferenced" not in out            # REQUIRE stops
    assert "helper went on" not in out and "test went on" not in out
    assert "c ran" in out and "d ran" in out    # later tests still run
    assert out.strip().endswith("2 passed, 2 failed"), out
    assert "REQUIRE(p != NULL) failed, test stopped" in err
    assert "REQUIRE(x > 0) failed, test stopped" in err
    assert "FAIL a_require_stops" in err and "FAIL b_require_in_helper_stops" in err
    assert "FAIL c_next_test_runs" not in err and "FAIL d_tmpdir" not in err
    assert "unit_tmpdir: cannot make" in err    # the one that did not fit
