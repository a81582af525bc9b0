"""Shared pytest set-up for the functional tests.

Tests that need BPF call `require(...)`: outside CI a missing tracer or
privilege skips the test with the reason printed (pytest -ra shows it);
with CI=true it fails the test, because on our machines these tests must run.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"

# Helpers in test/functional/framework are importable as `framework.x`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from framework import build  # noqa: E402  (needs the path above)

BUILD = build.path("MONEYROCKET_BUILD_DIR")


def require(condition, reason):
    """Skip (outside CI) or fail (CI=true) unless `condition` holds."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required for this test under CI=true: {reason}")
    pytest.skip(reason)


def require_root():
    require(os.geteuid() == 0, "needs root to load BPF programs")
    require(Path("/sys/kernel/tracing/uprobe_events").exists()
            or Path("/sys/kernel/debug/tracing/uprobe_events").exists(),
            "tracefs is not mounted (run scripts/setup-deps.sh)")


def require_tool(name):
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed (run scripts/setup-deps.sh)")
    return path


def require_bcc():
    require_root()
    try:
        import bcc  # noqa: F401  (Debian's python3-bpfcc)
    except ImportError:
        require(False, "python bcc module missing: run tests with /usr/bin/python3 "
                       "and install python3-bpfcc")


def require_built(path):
    path = Path(path)
    require(path.exists(), f"{path} is not built (run make)")
    return path


@pytest.fixture
def tmp_workdir(tmp_path):
    return tmp_path


def run(cmd, **kw):
    """subprocess.run with text output, raising on failure with the output shown."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    proc = subprocess.run(cmd, **kw)
    if proc.returncode != 0 and kw.get("check", True):
        raise AssertionError(f"{cmd} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc
