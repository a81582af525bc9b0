"""Static checks of include/trace.h: the notes each build of the test program carries.

For every arity 0..12, plain and variadic, built with gcc and clang as C and C++, the
binary has exactly the expected stapsdt notes (provider, name, argument count, size and
signedness); only the guarded probe has a semaphore, and it lies in `.probes`. Compiled
away, there is no `.note.stapsdt` and no argument expression is evaluated.
"""
import re
import subprocess

import pytest

from conftest import BUILD, require_built, run
from framework.probes_program import (ENABLED_VARIANTS, PROBE_NAMES, ProbesProgram,
                                      expected_args)

HEADER_BUILD = BUILD / "test" / "header"


def read_notes(binary):
    """Parse `readelf -n` into {name: [(provider, semaphore, [(size, signed)])]}."""
    out = run(["readelf", "-n", "--wide", str(binary)]).stdout
    notes = {}
    for block in out.split("stapsdt")[1:]:
        provider = re.search(r"Provider: (\S+)", block)
        if not provider:
            continue
        name = re.search(r"Name: (\S+)", block).group(1)
        sem = int(re.search(r"Semaphore: (0x[0-9a-f]+)", block).group(1), 16)
        argline = re.search(r"Arguments:(.*)", block).group(1)
        args = [(abs(int(m)), m.startswith("-"))
                for m in re.findall(r"(?:^|\s)(-?\d+)@", argline)]
        notes.setdefault(name, []).append((provider.group(1), sem, args))
    return notes


def section_range(binary, section):
    out = run(["readelf", "-S", "--wide", str(binary)]).stdout
    for line in out.splitlines():
        fields = line.replace("[ ", "[").split()
        if section in fields:
            i = fields.index(section)
            addr, size = int(fields[i + 2], 16), int(fields[i + 4], 16)
            return addr, addr + size
    return None


@pytest.mark.parametrize("variant", ENABLED_VARIANTS)
def test_notes_match_the_table(variant):
    binary = require_built(HEADER_BUILD / variant)
    notes = read_notes(binary)
    assert sorted(notes) == sorted(PROBE_NAMES)
    probes = section_range(binary, ".probes")
    assert probes is not None, "no .probes section"
    for name, sites in notes.items():
        assert len(sites) == 1, f"{name} at {len(sites)} sites"
        provider, sem, args = sites[0]
        assert provider == "test"
        if name == "guarded":
            assert args == [(8, True), (8, False)]
            assert probes[0] <= sem < probes[1], f"semaphore {sem:#x} not in .probes"
        else:
            assert sem == 0, f"{name} has a semaphore"
            assert args == [(size, signed) for _, size, signed, _ in expected_args(name)], name


@pytest.mark.parametrize("name", ["probes-off", "probes-off-gcc-cxx", "probes-off-clang-c",
                                  "probes-off-clang-cxx"])
def test_compiled_away_has_no_notes_and_evaluates_nothing(name):
    binary = require_built(HEADER_BUILD / name)
    sections = run(["readelf", "-S", "--wide", str(binary)]).stdout
    assert ".note.stapsdt" not in sections
    assert ".probes" not in sections
    with ProbesProgram(binary) as prog:
        assert prog.sem() == 0
        assert prog.fire() == 0
        assert prog.fire() == 0


def test_enabled_build_does_not_evaluate_guarded_args_unattached():
    binary = require_built(HEADER_BUILD / "probes-gcc-c")
    with ProbesProgram(binary) as prog:
        assert prog.sem() == 0
        assert prog.fire() == 0


def test_std_matrix_compiled():
    # Built by `make`: every compiler x standard x on/off, -Wall -Wextra -Werror -pedantic.
    require_built(HEADER_BUILD / "stdmatrix.stamp")


# A translation unit that needs nothing but trace.h, so it also builds with -nostdinc.
NO_SDT_SOURCE = """
#include "trace.h"
TRACEPOINT_SEMAPHORE(nosdt, guarded);
static int evaluations;
static int count(void) { return ++evaluations; }
#ifdef __cplusplus
extern "C"
#endif
int nosdt_run(void);
int nosdt_run(void)
{
    TRACE(nosdt, zero);
    TRACEPOINT(nosdt, three, count(), 2, 3);
    TRACEPOINT_GUARDED(nosdt, guarded, count());
    return TRACE_ENABLED * 100 + TRACEPOINT_ACTIVE(nosdt, guarded) * 10 + evaluations;
}
"""
NO_SDT_MAIN = """
int nosdt_run(void);
int main(void) { return nosdt_run(); }
"""


@pytest.mark.parametrize("compiler", ["gcc", "clang", "g++", "clang++"])
@pytest.mark.parametrize("how", ["sdt.h missing", "sdt.h without STAP_PROBE"])
def test_header_compiles_away_without_usable_sdt_h(tmp_path, compiler, how):
    from conftest import ROOT
    src = tmp_path / "nosdt.c"
    src.write_text(NO_SDT_SOURCE)
    obj = tmp_path / "nosdt.o"
    lang = ["-x", "c++", "-std=c++11"] if compiler.endswith("++") else ["-std=c99"]
    flags = [*lang, "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", f"-I{ROOT}/include"]
    if how == "sdt.h missing":
        flags.append("-nostdinc")   # hides /usr/include and with it sys/sdt.h
    else:
        # A sys/sdt.h like FreeBSD's or macOS's: present, but no systemtap macros.
        (tmp_path / "sys").mkdir()
        (tmp_path / "sys" / "sdt.h").write_text("#define SDT_PROBE_DEFINE(x)\n")
        flags.append(f"-I{tmp_path}")
    run([compiler, *flags, "-c", "-o", str(obj), str(src)])
    sections = run(["readelf", "-S", "--wide", str(obj)]).stdout
    assert ".note.stapsdt" not in sections and ".probes" not in sections
    main = tmp_path / "main.c"
    main.write_text(NO_SDT_MAIN)
    exe = tmp_path / "nosdt"
    run(["gcc", "-o", str(exe), str(main), str(obj)] +
        (["-lstdc++"] if compiler.endswith("++") else []))
    # TRACE_ENABLED 0, TRACEPOINT_ACTIVE 0, and no argument was evaluated.
    assert subprocess.run([str(exe)]).returncode == 0
