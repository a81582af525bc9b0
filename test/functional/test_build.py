"""What the build tells the rest: the BPF target architecture and test paths.

The BPF side of the libbpf tools is compiled for the machine's architecture,
worked out from `uname -m` (x86_64 -> x86, aarch64 -> arm64, ...); an
unknown one stops the BPF build with a clear message. `make test-env` names
the paths the functional tests use, and they exist once `make` has run.
"""
from pathlib import Path

import pytest

from conftest import ROOT, run
from framework import build

BPF_OBJ = "build/contrib/tracing/libbpf/p2pstat.bpf.o"


def make(*args, check=True):
    return run(["make", "--no-print-directory", "-C", str(ROOT), *args], check=check)


@pytest.mark.parametrize("machine,arch", [("x86_64", "x86"), ("aarch64", "arm64"),
                                          ("ppc64le", "powerpc"), ("s390x", "s390"),
                                          ("riscv64", "riscv")])
def test_bpf_target_architecture_follows_uname(machine, arch):
    proc = make("-n", "-B", f"UNAME_M={machine}", BPF_OBJ)
    bpf = [line for line in proc.stdout.splitlines() if "-target bpf" in line]
    assert len(bpf) == 1, proc.stdout
    assert f"-D__TARGET_ARCH_{arch} " in bpf[0]
    assert bpf[0].count("__TARGET_ARCH_") == 1


def test_unknown_architecture_stops_the_bpf_build_only():
    proc = make("-n", "-B", "UNAME_M=pdp11", BPF_OBJ, check=False)
    assert proc.returncode != 0
    assert "no BPF target architecture for 'pdp11'" in proc.stderr
    # The rest of the build does not need it.
    assert make("-n", "UNAME_M=pdp11", "build/test/unit_tests").returncode == 0


def test_test_env_names_built_paths():
    proc = make("-s", "test-env")
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert set(env) == set(build.KEYS)
    for key in ("MONEYROCKET_BUILD_DIR", "MONEYROCKET_DAEMON", "MONEYROCKET_CLI",
                "MONEYROCKET_DAEMON_SAN", "MONEYROCKET_CLI_SAN"):
        path = Path(env[key])
        assert path.is_absolute() and path.exists(), (key, path)
        assert build.path(key) == path
    wire = build.sources("MONEYROCKET_WIRE_SRCS")
    assert wire and all(p.suffix == ".c" and p.exists() for p in wire)
