#!/usr/bin/python3
"""Print what a tracepoint costs: instructions unattached, nanoseconds attached.

USAGE: trace_cost.py BUILD_DIR

Table 1 counts instructions per call with valgrind's callgrind (deterministic): each
site minus a baseline site that does the same work without a tracepoint, for the gcc
and the clang build. Table 2 times a loop of probe hits with nothing attached, with an
empty BPF program attached (BCC) and with bpftrace counting hits, next to a plain
getppid() system call measured in the same run. Table 2 needs root.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

CALLS = 200_000          # callgrind: calls per site
HITS_ATTACHED = 300_000  # attached: probe hits per run
HITS_UNATTACHED = 50_000_000
SYSCALLS = 2_000_000

SITES = [  # (label, site, baseline, target)
    ("TRACE6, unattached", "site_plain", "site_baseline", ("==", 1)),
    ("TRACEPOINT_GUARDED (6 args), unattached", "site_guarded", "site_baseline", ("<=", 3)),
    ("compiled away (TRACE_DISABLE)", "site_off", "site_off_baseline", ("==", 0)),
    ("TRACE6, work consumes the arg registers", "site_xor_plain", "site_xor_baseline", None),
]


def callgrind_ir(binary):
    """Self instruction counts per site function, from one callgrind run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        binary, "count", str(CALLS)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = subprocess.run(["callgrind_annotate", out], check=True,
                              capture_output=True, text=True).stdout
    counts = {}
    for m in re.finditer(r"^\s*([\d,]+) \([ \d.]+%\)\s+\S+:(site_\w+) \[", text, re.M):
        counts[m.group(2)] = int(m.group(1).replace(",", ""))
    return counts


def instruction_table(build):
    rows = []
    for compiler, name in (("gcc", "trace_cost"), ("clang", "trace_cost-clang")):
        counts = callgrind_ir(os.path.join(build, name))
        for label, site, base, target in SITES:
            added = (counts[site] - counts[base]) / CALLS
            verdict = "-"
            if target:
                op, want = target
                ok = added == want if op == "==" else added <= want
                verdict = f"{'PASS' if ok else 'MISS'} ({op} {want})"
            rows.append((compiler, label, f"{added:g}", verdict))
    print("Instructions added per call (valgrind --tool=callgrind, "
          f"{CALLS:,} calls per site, minus the same work without a tracepoint)")
    print(f"  {'compiler':<9}{'site':<42}{'added':>7}  target")
    for r in rows:
        print(f"  {r[0]:<9}{r[1]:<42}{r[2]:>7}  {r[3]}")
    return rows


class LoopRun:
    """`trace_cost loop M`: waits for a line on stdin, then times M probe hits."""

    def __init__(self, binary, hits):
        self.proc = subprocess.Popen([binary, "loop", str(hits)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "waiting"

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        self.proc.wait()
        return float(line.split()[1])


def wait_for_line(proc, text, timeout=60):
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        if text in line:
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"tracer never printed {text!r}")


def with_bpftrace(binary):
    run = LoopRun(binary, HITS_ATTACHED)
    script = ('BEGIN { printf("ready\\n"); } '
              f'usdt:{binary}:bench:plain {{ @hits = count(); }}')
    tracer = subprocess.Popen(["bpftrace", "-p", str(run.proc.pid), "-e", script],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_line(tracer, "ready")
    ns = run.go()
    tracer.send_signal(signal.SIGINT)
    out = tracer.communicate(timeout=30)[0]
    hits = re.search(r"@hits: (\d+)", out)
    if not hits or int(hits.group(1)) != HITS_ATTACHED:
        raise RuntimeError(f"bpftrace counted {hits and hits.group(1)} hits, "
                           f"expected {HITS_ATTACHED}:\n{out}")
    return ns


def with_empty_bpf(binary):
    from bcc import BPF, USDT  # Debian's python3-bpfcc
    run = LoopRun(binary, HITS_ATTACHED)
    usdt = USDT(pid=run.proc.pid)
    usdt.enable_probe(probe="bench:plain", fn_name="empty")
    bpf = BPF(text=b"int empty(struct pt_regs *ctx) { return 0; }", usdt_contexts=[usdt])
    ns = run.go()
    bpf.cleanup()
    return ns


def syscall_ns(binary):
    out = subprocess.run([binary, "syscall", str(SYSCALLS)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[1])


def attached_table(build):
    binary = os.path.abspath(os.path.join(build, "trace_cost"))
    print()
    print("Nanoseconds per hit of bench:plain (TRACE6), gcc build, same run")
    if os.geteuid() != 0:
        print("  skipped: attaching BPF programs needs root")
        return
    unattached = LoopRun(binary, HITS_UNATTACHED).go()
    rows = [("probe not attached", unattached),
            ("empty BPF program attached (BCC)", with_empty_bpf(binary)),
            ("bpftrace counting hits (@ = count())", with_bpftrace(binary)),
            ("plain system call, getppid() (no probe)", syscall_ns(binary))]
    print(f"  {'case':<44}{'ns/hit':>10}")
    for label, ns in rows:
        print(f"  {label:<44}{ns:>10.1f}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    instruction_table(sys.argv[1])
    attached_table(sys.argv[1])


if __name__ == "__main__":
    main()
