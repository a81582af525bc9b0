#!/usr/bin/python3
"""Print what a tracepoint costs: instructions unattached, nanoseconds attached.

USAGE: trace_cost.py BUILD_DIR      (BUILD_DIR holds trace_cost and trace_cost-clang)

(a) Instructions added per call, counted by valgrind's callgrind (deterministic): each
    site's self instruction count minus that of a baseline site doing the same work
    without a tracepoint, divided by the number of calls; for the gcc and the clang
    build. Then what objdump shows each site adds to its baseline.
(b) Nanoseconds per hit of bench:plain with nothing attached, with an empty BPF program
    attached (BCC) and with bpftrace counting hits, next to a getppid() system call
    measured in the same run. (b) needs root; without it the section says so and stops.
"""
import collections
import difflib
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time

CALLS = 200_000              # (a): calls per site under callgrind
HITS_ATTACHED = 1_000_000    # (b): probe hits per attached run (~0.6 s each)
HITS_UNATTACHED = 50_000_000
SYSCALLS = 2_000_000
RUNS = 3                     # (b): each figure is the median of this many runs
ATTACH_TIMEOUT = 60          # seconds a tracer may take to report it is attached

SHORT = {"site_plain": "TRACE6", "site_guarded": "TRACEPOINT_GUARDED",
         "site_off": "compiled away", "site_handguard": "ref: if (flag) by hand",
         "site_guarded5": "ref: guarded, 5 params"}
COMPILERS = (("gcc", "trace_cost"), ("clang", "trace_cost-clang"))

Site = collections.namedtuple("Site", "label site baseline target")
SITES = [
    Site("TRACE6, unattached", "site_plain", "site_baseline", ("==", 1)),
    Site("TRACEPOINT_GUARDED (6 args), unattached", "site_guarded", "site_baseline",
         ("<=", 3)),
    Site("compiled away (TRACE_DISABLE)", "site_off", "site_off_baseline", ("==", 0)),
    # For reference, no target: the same guard written by hand, no tracepoint.
    Site("ref: if (volatile flag) by hand, no probe", "site_handguard", "site_baseline",
         None),
    # For reference, no target: a guarded site in a five-parameter function.
    Site("ref: TRACEPOINT_GUARDED, 5 args, 5 params", "site_guarded5", "site_baseline5",
         None),
    # For reference, no target: the work overwrites the probe's argument registers.
    Site("ref: TRACE6, work consumes the arg regs", "site_xor_plain", "site_xor_baseline",
         None),
]


# ---- (a) instructions ------------------------------------------------------------

def callgrind_ir(binary):
    """Self instruction counts of the site_* functions, from one callgrind run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        binary, "count", str(CALLS)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = subprocess.run(["callgrind_annotate", "--auto=no", out], check=True,
                              capture_output=True, text=True).stdout
    # One row per (source file, function): the instructions a site inlines
    # from trace.h (the semaphore test) are listed under trace.h, so add up
    # each function's rows.
    counts = collections.Counter()
    for m in re.finditer(r"^\s*([\d,]+) \([ \d.]+%\)\s+\S+:(site_\w+)(?: \[|$)", text, re.M):
        counts[m.group(2)] += int(m.group(1).replace(",", ""))
    missing = {s for row in SITES for s in (row.site, row.baseline)} - counts.keys()
    if missing:
        raise RuntimeError(f"callgrind_annotate shows no count for {sorted(missing)} "
                           f"in {binary}")
    return counts


def verdict(added, target):
    if target is None:
        return "-"
    op, want = target
    ok = added == want if op == "==" else added <= want
    return f"{'PASS' if ok else 'FAIL'} ({op} {want})"


def instruction_table(build):
    print("(a) Instructions added per call by an unattached site: valgrind --tool=callgrind,")
    print(f"    {CALLS:,} calls per site, self instructions minus the same work "
          "without a tracepoint")
    print(f"  {'compiler':<9}{'site':<43}{'instr/call':>10}  target")
    results = []
    for compiler, name in COMPILERS:
        counts = callgrind_ir(os.path.join(build, name))
        for row in SITES:
            added = (counts[row.site] - counts[row.baseline]) / CALLS
            v = verdict(added, row.target)
            results.append(v)
            print(f"  {compiler:<9}{row.label:<43}{added:>10g}  {v}")
    failed = sum(r.startswith("FAIL") for r in results)
    met = sum(r.startswith("PASS") for r in results)
    print(f"  targets met: {met} of {met + failed}"
          + ("" if not failed else "  (see bench/README.md, 'Reading the figures')"))


def symbols(binary):
    """Address -> name of every symbol in the binary, to name rip-relative operands."""
    out = subprocess.run(["nm", binary], check=True, capture_output=True,
                         text=True).stdout
    names = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            addr, name = int(parts[0], 16), parts[2]
            # Several names can share an address (the semaphore starts .probes,
            # where the linker also puts __TMC_END__): prefer the program's own.
            if addr not in names or names[addr].startswith("_"):
                names[addr] = name
    return names


def function_code(binary, func, names):
    """(hot path up to the first ret, out-of-line block after it) of func, normalised:
    no addresses, rip-relative operands by symbol, branch targets by meaning."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={func}",
                          binary], check=True, capture_output=True, text=True).stdout
    insns = []
    for m in re.finditer(r"^\s*([0-9a-f]+):\t(.*)$", out, re.M):
        insns.append((int(m.group(1), 16), m.group(2).strip()))
    ret_at = next(i for i, (_, text) in enumerate(insns) if text == "ret")
    ret_addr = insns[ret_at][0]

    def norm(text):
        m = re.match(r"(.*?)\s+# ([0-9a-f]+) <([^>]+)>$", text)
        if m:  # rip-relative: name the object by its exact symbol when there is one
            name = names.get(int(m.group(2), 16), m.group(3))
            text = re.sub(r"-?0x[0-9a-f]+\(%rip\)", f"{name}(%rip)", m.group(1))
        m = re.match(r"(j\w+)\s+([0-9a-f]+) <[^>]+>$", text)
        if m:
            where = "out of line" if int(m.group(2), 16) > ret_addr else "back"
            text = f"{m.group(1)} <{where}>"
        return re.sub(r"\s+", " ", text)

    hot = [norm(t) for _, t in insns[:ret_at + 1]]
    cold = []
    for _, text in insns[ret_at + 1:]:  # the unlikely block ends with its jmp back
        if re.match(r"(nop\w*\s+\S|xchg\s+%ax,%ax|data16|cs nop)", text):
            continue  # alignment padding; a bare `nop` is the probe
        cold.append(norm(text))
        if text.startswith("jmp"):
            break
    else:
        cold = []  # only alignment padding after ret
    return hot, cold


def disassembly(build):
    print()
    print("    Disassembly (objdump -d): what each site's hot path adds (+) to or takes (-)")
    print("    from its baseline's; the out-of-line block runs only while attached")
    for compiler, name in COMPILERS:
        binary = os.path.join(build, name)
        names = symbols(binary)
        for row in SITES[:5]:
            hot, cold = function_code(binary, row.site, names)
            base, _ = function_code(binary, row.baseline, names)
            diff = [d[0] + " " + d[2:] for d in difflib.ndiff(base, hot)
                    if d[0] in "+-"]
            lines = diff or ["(same instructions as the baseline)"]
            if cold:
                lines.append("out of line: " + "; ".join(cold))
            head = f"  {compiler:<9}{SHORT[row.site]:<24}"
            for line in lines:
                print(f"{head}{line}")
                head = " " * len(head)


# ---- (b) nanoseconds attached ----------------------------------------------------

def parse_elapsed(line):
    m = re.match(r"elapsed_ns (\d+) ns_per_call ([\d.]+)$", line.strip())
    if not m:
        raise RuntimeError(f"trace_cost printed {line!r}")
    return int(m.group(1)), float(m.group(2))


class LoopRun:
    """`trace_cost loop M`: prints "waiting", times M hits of bench:plain once it reads
    a line on stdin. The driver sends that line after the tracer reports it is attached."""

    def __init__(self, binary, hits):
        self.hits = hits
        self.proc = subprocess.Popen([binary, "loop", str(hits)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "waiting":
            self.proc.kill()
            raise RuntimeError(f"trace_cost loop printed {line!r}, expected 'waiting'")

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        result = parse_elapsed(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return result

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for_line(proc, text, timeout=ATTACH_TIMEOUT):
    """Read proc's output until a line contains text; fail after timeout seconds."""
    seen = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if text in line:
                return
    raise RuntimeError(f"tracer did not print {text!r} within {timeout} s:\n"
                       + "".join(seen))


def with_bpftrace(binary):
    """bpftrace counting hits. BEGIN runs after every probe is attached, so its line is
    the attach signal. The final count must equal the hits made."""
    run = LoopRun(binary, HITS_ATTACHED)
    script = ('BEGIN { printf("attached\\n"); } '
              f'usdt:{binary}:bench:plain {{ @hits = count(); }}')
    tracer = subprocess.Popen(["bpftrace", "-p", str(run.proc.pid), "-e", script],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_line(tracer, "attached")
        result = run.go()
        tracer.send_signal(signal.SIGINT)
        out = tracer.communicate(timeout=30)[0]
    finally:
        run.close()
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait()
    hits = re.search(r"@hits: (\d+)", out)
    if not hits or int(hits.group(1)) != HITS_ATTACHED:
        raise RuntimeError(f"bpftrace counted {hits and hits.group(1)} hits, "
                           f"expected {HITS_ATTACHED}:\n{out}")
    return result


def with_empty_bpf(binary):
    """A BPF program that only returns 0, attached to bench:plain the way the project's
    BCC scripts attach (contrib/tracing/usdt_helper.py: BCC compiles, the uprobe is
    opened with the kernel's reference counter). load() returns once it is attached."""
    from bcc import BPF  # Debian's python3-bpfcc (/usr/bin/python3)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "contrib", "tracing"))
    from usdt_helper import KernelRefUSDT
    run = LoopRun(binary, HITS_ATTACHED)
    bpf = usdt = None
    try:
        usdt = KernelRefUSDT(run.proc.pid, binary)
        usdt.enable_probe("bench:plain", "empty")
        bpf = usdt.load(BPF, "int empty(struct pt_regs *ctx) { return 0; }")
        return run.go()
    finally:
        run.close()
        if usdt is not None:
            usdt.close()
        if bpf is not None:  # not `if bpf`: a BPF object is falsy when it has no maps
            bpf.cleanup()


def syscall_run(binary):
    out = subprocess.run([binary, "syscall", str(SYSCALLS)], check=True,
                         capture_output=True, text=True).stdout
    return parse_elapsed(out)


def median_run(measure):
    """Run measure() RUNS times; the (elapsed_ns, ns_per_call) of the median run."""
    results = sorted((measure() for _ in range(RUNS)), key=lambda r: r[1])
    return results[len(results) // 2]


def unattached_run(binary):
    run = LoopRun(binary, HITS_UNATTACHED)
    try:
        return run.go()
    finally:
        run.close()


def attached_table(build):
    binary = os.path.abspath(os.path.join(build, "trace_cost"))
    print()
    print("(b) Nanoseconds per hit of bench:plain (TRACE6), gcc build, CLOCK_MONOTONIC,")
    print(f"    median of {RUNS} runs each")
    if os.geteuid() != 0:
        print(f"  (b) skipped: not running as root (euid {os.geteuid()}); attaching "
              "uprobes and BPF programs needs root. Run `sudo make bench`.")
        return
    unattached = median_run(lambda: unattached_run(binary))
    rows = [("probe not attached (reference)", HITS_UNATTACHED, unattached, False),
            ("empty BPF program attached (BCC)", HITS_ATTACHED,
             median_run(lambda: with_empty_bpf(binary)), True),
            ("bpftrace counting hits (@ = count())", HITS_ATTACHED,
             median_run(lambda: with_bpftrace(binary)), True)]
    # The same site as a 5-byte nop (TRACE_NOP5, built with -mno-red-zone):
    # Linux 6.18 runs its uprobe as a call into a trampoline, not an int3 trap.
    nop5 = os.path.abspath(os.path.join(build, "trace_cost-nop5"))
    if os.path.exists(nop5):
        rows += [("5-byte site: empty BPF program (BCC)", HITS_ATTACHED,
                  median_run(lambda: with_empty_bpf(nop5)), True),
                 ("5-byte site: bpftrace counting hits", HITS_ATTACHED,
                  median_run(lambda: with_bpftrace(nop5)), True)]
    rows.append(("getppid() system call, no probe", SYSCALLS,
                 median_run(lambda: syscall_run(binary)), False))
    print(f"  {'case':<40}{'calls':>12}{'elapsed ms':>12}{'ns/call':>10}"
          f"{'added ns/hit':>14}")
    for label, calls, (elapsed_ns, per_call), attached in rows:
        added = f"{per_call - unattached[1]:.1f}" if attached else "-"
        print(f"  {label:<40}{calls:>12,}{elapsed_ns / 1e6:>12.1f}{per_call:>10.1f}"
              f"{added:>14}")
    print("  added ns/hit = attached ns/call - unattached ns/call "
          "= (attached - unattached)/M")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    instruction_table(sys.argv[1])
    disassembly(sys.argv[1])
    attached_table(sys.argv[1])


if __name__ == "__main__":
    main()
