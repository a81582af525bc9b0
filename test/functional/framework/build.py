"""Where make put what the functional tests run.

The top Makefile is the one place that knows the build paths. `make
functional` passes them to pytest in the environment (its TEST_ENV); when
pytest is run by hand, the first use asks `make test-env`, which prints the
same KEY=VALUE lines. Nothing here guesses or parses makefiles.

    MONEYROCKET_BUILD_DIR   build/ (test programs, benchmarks, libbpf tools)
    MONEYROCKET_DAEMON      src/moneyrocketd
    MONEYROCKET_CLI         src/moneyrocket-cli
    MONEYROCKET_DAEMON_SAN  the ASan/UBSan moneyrocketd
    MONEYROCKET_CLI_SAN     the ASan/UBSan moneyrocket-cli
    MONEYROCKET_WIRE_SRCS   the wire layer's sources (make's WIRE_SRCS), comma-separated
"""
import functools
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
KEYS = ("MONEYROCKET_BUILD_DIR", "MONEYROCKET_DAEMON", "MONEYROCKET_CLI",
        "MONEYROCKET_DAEMON_SAN", "MONEYROCKET_CLI_SAN", "MONEYROCKET_WIRE_SRCS")


@functools.lru_cache(maxsize=None)
def _from_make():
    proc = subprocess.run(["make", "--no-print-directory", "-s", "-C", str(ROOT), "test-env"],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"`make test-env` failed in {ROOT}: {proc.stderr.strip()}")
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    missing = [k for k in KEYS if k not in env]
    if missing:
        raise RuntimeError(f"`make test-env` did not print {', '.join(missing)}")
    return env


def path(key):
    """The build path `key` (one of KEYS): from the environment, else from make."""
    if key not in KEYS:
        raise KeyError(key)
    value = os.environ.get(key) or _from_make()[key]
    return Path(value)


def sources(key):
    """A list of source files make names under `key` (comma-separated)."""
    value = os.environ.get(key) or _from_make()[key]
    return [Path(p) for p in value.split(",") if p]

