#!/usr/bin/python3
"""log_utxocache_flush.py — one line per coins-cache flush of moneyrocketd.

USAGE:
    log_utxocache_flush.py [--json] TARGET

Arguments:
    TARGET   the PID of a running moneyrocketd, or the path of its binary
             (then exactly one running process of that binary is traced).

Requirements: root (loading BPF programs needs privileges), Debian's
python3-bpfcc (run with /usr/bin/python3).

Tracepoint: utxocache:flush (duration µs int64, mode uint32, coins before
uint64, memory before uint64, pruning bool).

Output, one line per flush: the duration in ms, the mode's name (NONE,
IF_NEEDED, PERIODIC, ALWAYS), the coins and the memory (kB) the cache held
before the flush, and whether pruning caused it. With --json, one NDJSON
object per flush instead, fields named as in doc/tracing.md ("JSON field
names"), and the start lines go to stderr. Lost events (perf buffer
full) are reported on stderr as they happen and counted on exit. Ctrl-C (or
SIGTERM) ends it with status 0.

Examples:
    sudo /usr/bin/python3 contrib/tracing/log_utxocache_flush.py $(pidof moneyrocketd)
    sudo contrib/tracing/log_utxocache_flush.py src/moneyrocketd
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usdt_helper import (KernelRefUSDT, StopFlag, require_root,  # noqa: E402
                         resolve_target, stop_on_signals)

PROG = "log_utxocache_flush.py"
MODES = ["NONE", "IF_NEEDED", "PERIODIC", "ALWAYS"]

PROGRAM = r"""
#include <uapi/linux/ptrace.h>

struct flush_event {
    s64 duration;
    u32 mode;
    u64 coins;
    u64 memory;
    u8 pruning;
};

BPF_PERF_OUTPUT(flushes);

int trace_flush(struct pt_regs *ctx)
{
    struct flush_event e = {};
    bpf_usdt_readarg(1, ctx, &e.duration);
    bpf_usdt_readarg(2, ctx, &e.mode);
    bpf_usdt_readarg(3, ctx, &e.coins);
    bpf_usdt_readarg(4, ctx, &e.memory);
    bpf_usdt_readarg(5, ctx, &e.pruning);
    flushes.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""


def json_flush(e, mode):
    """--json: one flush as an NDJSON line."""
    print(json.dumps({"event": "utxocache:flush", "duration_us": e.duration, "mode": mode,
                      "coins_count": e.coins, "coins_mem_usage": e.memory,
                      "is_flush_for_prune": bool(e.pruning)}), flush=True)


def main():
    as_json = "--json" in sys.argv[1:]
    if as_json:
        sys.argv.remove("--json")
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 1)
    require_root(PROG)
    from bcc import BPF  # Debian's python3-bpfcc
    pid, binary = resolve_target(PROG, sys.argv[1])
    usdt = KernelRefUSDT(pid, binary)
    usdt.enable_probe(probe="utxocache:flush", fn_name="trace_flush")
    bpf = usdt.load(BPF, PROGRAM)
    lost = [0]

    def on_flush(_cpu, data, _size):
        e = bpf["flushes"].event(data)
        mode = MODES[e.mode] if e.mode < len(MODES) else str(e.mode)
        if as_json:
            json_flush(e, mode)
            return
        print(f"{e.duration / 1000:>10.2f} {mode:<10} {e.coins:>12} {e.memory / 1024:>12.1f} "
              f"{'yes' if e.pruning else 'no':>8}", flush=True)

    def on_lost(count):
        lost[0] += count
        print(f"WARNING: {count} flush events lost", file=sys.stderr)

    bpf["flushes"].open_perf_buffer(on_flush, lost_cb=on_lost)
    head = sys.stderr if as_json else sys.stdout
    print(f"Logging utxocache flushes of moneyrocketd pid {pid}. Ctrl-C to end...", file=head,
          flush=True)
    print(f"{'DURATION ms':>10} {'MODE':<10} {'COINS':>12} {'MEMORY kB':>12} {'PRUNING':>8}",
          file=head, flush=True)
    flag = StopFlag()
    while not flag.stop:
        bpf.perf_buffer_poll(timeout=200)
    usdt.close()
    bpf.cleanup()
    if lost[0]:
        print(f"log_utxocache_flush.py: {lost[0]} events were lost", file=sys.stderr)


if __name__ == "__main__":
    # Before anything else: a shell starts background jobs with SIGINT
    # ignored, and a signal while BCC compiles must end the script cleanly
    # too (the kernel lowers the semaphores when we exit).
    stop_on_signals()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
