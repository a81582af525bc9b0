"""The libbpf tool (CO-RE, BPF_USDT, ring buffer) reads every argument exactly.

test/header/libbpf/usdt_args attaches one BPF_USDT program per arity to all 27 probes of
the header test program (test:args0..12, test:vargs0..12, test:guarded) and prints one
line per hit, each argument decoded by its documented type from the full 64-bit value
BPF_USDT returned (so a wrong sign or zero extension shows). These tests compare the
tool's whole output with the argument table of test/header/tracepoints.md, and check the
guarded probe's semaphore goes 0 -> >0 -> 0 with the tool's lifetime.
"""
import signal
import subprocess
import threading
import time

import pytest

from conftest import BUILD, require_built, require_root, require_tool
from framework.probes_program import (ENABLED_VARIANTS, PROBE_NAMES, ProbesProgram,
                                      expected_args)

TOOL = BUILD / "test" / "header" / "libbpf" / "usdt_args"
HEADER = ["attached", "PROBE ARGUMENTS"]


def expected_line(name, evals):
    """The line usdt_args must print for one hit of probe `name`."""
    if name == "guarded":
        return f'guarded a1={evals} a2="guarded"'
    parts = [name]
    for k, (typ, _size, _signed, value) in enumerate(expected_args(name), start=1):
        if typ == "char*":
            parts.append(f'a{k}="{value}"')
        elif typ == "u8*":
            parts.append(f"a{k}={value.hex()}")
        else:
            parts.append(f"a{k}={int(value)}")
    return " ".join(parts)


class Tool:
    """usdt_args running against one process; stdout and stderr collected by threads."""

    def __init__(self, pid, binary):
        self.proc = subprocess.Popen([str(TOOL), "-p", str(pid), "-b", str(binary)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = []
        self.errors = []
        self._threads = [threading.Thread(target=self._collect, args=(f, into), daemon=True)
                         for f, into in ((self.proc.stdout, self.lines),
                                         (self.proc.stderr, self.errors))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _collect(stream, into):
        for line in stream:
            into.append(line.rstrip("\n"))

    def report(self):
        return ("stdout:\n" + "\n".join(self.lines) + "\nstderr:\n" + "\n".join(self.errors))

    def wait_for(self, predicate, what, timeout=60):
        """Poll until predicate(lines) holds; fail early if the tool exits."""
        deadline = time.monotonic() + timeout
        while not predicate(list(self.lines)):
            if self.proc.poll() is not None:
                for t in self._threads:
                    t.join(timeout=5)
                if predicate(list(self.lines)):
                    return
                raise AssertionError(f"usdt_args exited {self.proc.returncode} before "
                                     f"{what}\n{self.report()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout}s\n{self.report()}")
            time.sleep(0.05)

    def stop(self, timeout=30):
        """SIGINT, wait for exit; returns the exit code once all output is collected."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"usdt_args ignored SIGINT for {timeout}s\n{self.report()}")
        for t in self._threads:
            t.join(timeout=5)
        return self.proc.returncode


@pytest.mark.parametrize("variant", ENABLED_VARIANTS)
def test_libbpf_tool_reads_every_argument(variant):
    require_root()
    require_tool("bpftool")
    require_built(TOOL)
    binary = require_built(BUILD / "test" / "header" / variant)
    with ProbesProgram(binary) as prog:
        assert prog.sem() == 0, "semaphore raised before any tracer attached"
        tool = Tool(prog.pid, binary)
        try:
            tool.wait_for(lambda lines: "attached" in lines, "'attached'")
            prog.wait_sem(lambda v: v > 0)
            evals = prog.fire()
            assert evals == 1, "guarded argument evaluated once per fire while attached"
            want = HEADER + [expected_line(name, evals) for name in PROBE_NAMES]
            tool.wait_for(lambda lines: len(lines) >= len(want),
                          f"{len(PROBE_NAMES)} event lines")
        finally:
            rc = tool.stop()
        assert rc == 0, tool.report()
        # The whole output, in firing order: every argument of all 27 probes, exactly,
        # and nothing else (no duplicate or stray events).
        assert tool.lines == want, tool.report()
        assert not any("lost" in line for line in tool.errors), tool.report()
        prog.wait_sem(lambda v: v == 0)
        assert prog.fire() == evals, "guarded argument evaluated after the tool detached"


def test_libbpf_tool_fails_on_a_binary_without_probes():
    """Attaching to the compiled-away build fails with one error line; never 'attached'."""
    require_root()
    require_built(TOOL)
    binary = require_built(BUILD / "test" / "header" / "probes-off")
    with ProbesProgram(binary) as prog:
        tool = Tool(prog.pid, binary)
        try:
            tool.proc.wait(timeout=60)
        finally:
            rc = tool.stop()
        assert rc == 1, tool.report()
        assert "attached" not in tool.lines, tool.report()
        assert any(line.startswith("usdt_args: attaching test:args0 in ")
                   for line in tool.errors), tool.report()
        assert prog.sem() == 0


@pytest.mark.parametrize("args, message", [
    ([], "-p PID and -b BINARY are required"),
    (["-p", "1"], "-p PID and -b BINARY are required"),
    (["-b", "/bin/true"], "-p PID and -b BINARY are required"),
    (["-p", "12x", "-b", "/bin/true"], "invalid PID: 12x"),
    (["-p", "0", "-b", "/bin/true"], "invalid PID: 0"),
])
def test_libbpf_tool_rejects_bad_options(args, message):
    require_built(TOOL)
    proc = subprocess.run([str(TOOL)] + args, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert proc.stdout == ""


def test_libbpf_tool_help_has_examples():
    require_built(TOOL)
    proc = subprocess.run([str(TOOL), "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert "EXAMPLES:" in proc.stdout and "-p, --pid=PID" in proc.stdout
