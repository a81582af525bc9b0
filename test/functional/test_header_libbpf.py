"""The libbpf tool (CO-RE, BPF_USDT, ring buffer) reads all 12 arguments exactly.

test/header/libbpf/usdt_args attaches one BPF_USDT program per arity to every probe of
the header test program and prints each argument decoded by its documented type.
"""
import signal
import subprocess
import threading
import time

import pytest

from conftest import BUILD, require_built, require_root, require_tool
from framework.probes_program import PROBE_NAMES, ProbesProgram, expected_args

TOOL = BUILD / "test" / "header" / "libbpf" / "usdt_args"


def expected_line(name, evals):
    if name == "guarded":
        return f'guarded a1={evals} a2="guarded"'
    parts = [name]
    for k, (typ, _, _, value) in enumerate(expected_args(name), start=1):
        if typ == "char*":
            parts.append(f'a{k}="{value}"')
        elif typ == "u8*":
            parts.append(f"a{k}={value.hex()}")
        else:
            parts.append(f"a{k}={int(value)}")
    return " ".join(parts)


class Tool:
    def __init__(self, pid, binary):
        self.proc = subprocess.Popen([str(TOOL), "-p", str(pid), "-b", str(binary)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(list(self.lines)):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"usdt_args output incomplete (exit {self.proc.poll()}):\n"
                             + "\n".join(self.lines) + "\nstderr:\n"
                             + (self.proc.stderr.read() if self.proc.poll() is not None else ""))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(timeout=30) == 0, self.proc.stderr.read()


@pytest.mark.parametrize("variant", ["probes-gcc-c", "probes-clang-cxx"])
def test_libbpf_tool_reads_all_twelve_arguments(variant):
    require_root()
    require_tool("bpftool")
    require_built(TOOL)
    binary = require_built(BUILD / "test" / "header" / variant)
    with ProbesProgram(binary) as prog:
        assert prog.sem() == 0
        tool = Tool(prog.pid, binary)
        try:
            tool.wait_for(lambda lines: "attached" in lines)
            prog.wait_sem(lambda v: v > 0)
            evals = prog.fire()
            assert evals == 1
            want = [expected_line(name, evals) for name in PROBE_NAMES]
            tool.wait_for(lambda lines: len(lines) >= 1 + len(want))
        finally:
            tool.stop()
        assert tool.lines[1:] == want
        prog.wait_sem(lambda v: v == 0)
        assert prog.fire() == evals, "guarded argument evaluated after detach"
