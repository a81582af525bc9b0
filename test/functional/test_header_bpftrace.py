"""bpftrace attached to the header test program reads every argument it can.

bpftrace 0.17 reads arg0..arg5 on x86-64, so each probe is checked up to its sixth
argument: integers of every width and sign, C strings with str() and the 32-byte buffer
with buf(). The guarded probe's semaphore is 0 before attach, above 0 while attached and
0 after detach; its argument is evaluated only while attached.
"""
import signal
import subprocess
import threading
import time

import pytest

from conftest import BUILD, require_built, require_root, require_tool
from framework.probes_program import PROBE_NAMES, ProbesProgram, expected_args

BPFTRACE_MAX_ARGS = 6


def arg_expr(i, typ):
    """bpftrace format and expression for argument i of the given documented type."""
    if typ == "char*":
        return "%s", f"str(arg{i})"
    if typ == "u8*":
        return "%r", f"buf(arg{i}, 32)"
    return "%lld", f"arg{i}"


def build_script(binary):
    # bpftrace runs BEGIN once every probe is attached: our "ready" signal.
    blocks = ['BEGIN { printf("ready\\n"); }']
    for name in PROBE_NAMES:
        if name == "guarded":
            fmt, exprs = ["%lld", "%s"], ["arg0", "str(arg1)"]
        else:
            args = expected_args(name)[:BPFTRACE_MAX_ARGS]
            pairs = [arg_expr(i, typ) for i, (typ, _, _, _) in enumerate(args)]
            fmt, exprs = [p[0] for p in pairs], [p[1] for p in pairs]
        printf_args = "".join(", " + e for e in exprs)
        blocks.append(f'usdt:{binary}:test:{name} {{ printf("{name}|{"|".join(fmt)}\\n"'
                      f'{printf_args}); }}')
    return "\n".join(blocks) + "\n"


def expected_line(name, evals):
    if name == "guarded":
        return f"guarded|{evals}|guarded"
    values = []
    for typ, size, signed, value in expected_args(name)[:BPFTRACE_MAX_ARGS]:
        if typ == "u8*":
            values.append("".join(f"\\x{b:02x}" for b in value))
        elif typ == "uint64":
            # bpftrace prints 64-bit values through %lld as signed.
            values.append(str(value - (1 << 64) if value >= 1 << 63 else value))
        else:
            values.append(str(value))
    return name + "|" + "|".join(values)


class Bpftrace:
    """bpftrace running a script against one pid, its output collected on a thread."""

    def __init__(self, script, pid):
        self.proc = subprocess.Popen(["bpftrace", "-p", str(pid), "-e", script],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(list(self.lines)):
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("bpftrace output incomplete:\n" + "\n".join(self.lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)


@pytest.mark.parametrize("variant", ["probes-gcc-c", "probes-clang-cxx"])
def test_bpftrace_reads_every_argument(variant):
    require_root()
    require_tool("bpftrace")
    binary = require_built(BUILD / "test" / "header" / variant)
    with ProbesProgram(binary) as prog:
        assert prog.sem() == 0
        evals_before = prog.fire()
        assert evals_before == 0
        tracer = Bpftrace(build_script(binary), prog.pid)
        try:
            tracer.wait_for(lambda lines: "ready" in lines)
            prog.wait_sem(lambda v: v > 0)
            evals = prog.fire()
            assert evals == evals_before + 1
            want = [expected_line(name, evals) for name in PROBE_NAMES]
            tracer.wait_for(lambda lines: all(w in lines for w in want))
            got = [l for l in tracer.lines if "|" in l]
            assert got == want, "\n".join(got)
        finally:
            tracer.stop()
        prog.wait_sem(lambda v: v == 0)
        assert prog.fire() == evals, "guarded argument evaluated after detach"
