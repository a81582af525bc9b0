"""lib/tracestream builds as strict C11 on POSIX, with gcc and clang, and its
portable shared-memory path (the one macOS uses) works.

Only tracestream_os.c may use what POSIX lacks; the other files are compiled
with _POSIX_C_SOURCE alone and -pedantic. TRACESTREAM_POSIX_SHM makes the
library use shm_open() instead of Linux's memfd_create(); the unit runner's
stream tests then run against that build.
"""
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import require

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "lib" / "tracestream"
STRICT = ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-pedantic"]


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("source", ["tracestream.c", "tracestream_client.c",
                                    "tracestream_os.c"])
def test_strict_posix_c11(cc, source, tmp_path):
    require(shutil.which(cc), f"{cc} is not installed")
    for extra in ([], ["-DTRACESTREAM_POSIX_SHM"]):
        out = subprocess.run([cc, *STRICT, *extra, "-I", str(LIB), "-c", str(LIB / source),
                              "-o", str(tmp_path / "x.o")], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


def test_header_compiles_as_cxx(tmp_path):
    src = tmp_path / "use.cc"
    src.write_text('#include "tracestream.h"\n#include "tracestream_client.h"\n'
                   "int main() { return tracestream_clients(nullptr) == 0 ? 0 : 1; }\n")
    out = subprocess.run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                          "-I", str(LIB), "-c", str(src), "-o", str(tmp_path / "use.o")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_unit_tests_pass_on_the_posix_shm_path(tmp_path):
    """The library's unit tests, built with TRACESTREAM_POSIX_SHM."""
    unit = ROOT / "test" / "unit"
    srcs = [unit / "unit_main.c", unit / "test_tracestream.c", LIB / "tracestream.c",
            LIB / "tracestream_os.c", LIB / "tracestream_client.c"]
    binary = tmp_path / "ts_posix"
    out = subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O1", "-Wall", "-Wextra",
                          "-Werror", "-DTRACESTREAM_POSIX_SHM", "-I", str(LIB), "-I", str(unit),
                          *map(str, srcs), "-o", str(binary), "-lpthread"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failed" in run.stdout, run.stdout
