#!/usr/bin/python3
"""log_coin_selection.py — one block per transaction a moneyrocketd wallet
builds: the wallet, each attempt's coin selection (algorithm, target,
waste, selected value), its fee and change position, and whether the
avoid-partial-spends (APS) attempt was made and used.

USAGE:
    sudo contrib/tracing/log_coin_selection.py TARGET

Arguments:
    TARGET   the PID of a running moneyrocketd, or the path of its binary
             (then exactly one running process of that binary is traced).

Requirements: root, Debian's python3-bpfcc (run it with /usr/bin/python3,
which has the bcc module), kernel headers for BCC's compiler.

Tracepoints: coin_selection:selected_coins, normal_create_tx_internal,
attempting_aps_create_tx, aps_create_tx_internal (doc/tracing.md).

Why BCC and not bpftrace: whether a first attempt is followed by an APS
attempt is known only when the next event arrives (or does not), so the
block is printed from user space once a transaction's events are complete:
at aps_create_tx_internal, at a failed first attempt, or 0.2 s after a
successful first attempt with nothing after it. Amounts are satoshis.

Example output:
    wallet "aps_used"
      attempt  algorithm      target     waste    selected      fee  change
      normal   knapsack    150000880     5120   200000000     6760       1
      aps      bnb         150000880     5120   200000000     6760       0
      result: sent the APS transaction (its fee is within -maxapsfee)

With --json, stdout is NDJSON: one object per event as it fires, fields
named as in doc/tracing.md ("JSON field names"); the start line goes to
stderr.

Ctrl-C or SIGTERM ends it.

Examples:
    sudo contrib/tracing/log_coin_selection.py $(pidof moneyrocketd)
    sudo contrib/tracing/log_coin_selection.py src/moneyrocketd
    sudo contrib/tracing/log_coin_selection.py --json src/moneyrocketd
"""
import argparse
import json
import os
import sys
import time

# The helper module sits next to this script (also when tests load it).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usdt_helper import (KernelRefUSDT, StopFlag, require_root,  # noqa: E402
                         resolve_target, stop_on_signals)

PROG = "log_coin_selection.py"

PROGRAM = r"""
#include <uapi/linux/ptrace.h>

struct cs_event {
    u32 kind;      /* 0 selected, 1 normal, 2 attempting APS, 3 APS done */
    u32 pid;
    char wallet[65];
    char algo[16];
    s64 a[4];
};

/* One ring buffer for all CPUs keeps the events in the order they fired
 * (per-CPU perf buffers do not), and the blocks below depend on that order. */
BPF_RINGBUF_OUTPUT(events, 16);
BPF_ARRAY(lost, u64, 1);

static inline void submit(struct cs_event *e)
{
    int zero = 0;
    u64 *n;

    if (events.ringbuf_output(e, sizeof(*e), 0) == 0)
        return;
    n = lost.lookup(&zero);
    if (n)
        __sync_fetch_and_add(n, 1);
}

int trace_selected(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    s64 x = 0;
    e.pid = bpf_get_current_pid_tgid();
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user_str(e.wallet, sizeof(e.wallet), (void *)p);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.algo, sizeof(e.algo), (void *)p);
    bpf_usdt_readarg(3, ctx, &x); e.a[0] = x;
    bpf_usdt_readarg(4, ctx, &x); e.a[1] = x;
    bpf_usdt_readarg(5, ctx, &x); e.a[2] = x;
    submit(&e);
    return 0;
}

int trace_normal(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    u8 ok = 0;
    s64 fee = 0;
    s32 pos = 0;
    e.kind = 1;
    e.pid = bpf_get_current_pid_tgid();
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user_str(e.wallet, sizeof(e.wallet), (void *)p);
    bpf_usdt_readarg(2, ctx, &ok); e.a[0] = ok;
    bpf_usdt_readarg(3, ctx, &fee); e.a[1] = fee;
    bpf_usdt_readarg(4, ctx, &pos); e.a[2] = pos;
    submit(&e);
    return 0;
}

int trace_attempting(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    e.kind = 2;
    e.pid = bpf_get_current_pid_tgid();
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user_str(e.wallet, sizeof(e.wallet), (void *)p);
    submit(&e);
    return 0;
}

int trace_aps(struct pt_regs *ctx)
{
    struct cs_event e = {};
    u64 p = 0;
    u8 use = 0, ok = 0;
    s64 fee = 0;
    s32 pos = 0;
    e.kind = 3;
    e.pid = bpf_get_current_pid_tgid();
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user_str(e.wallet, sizeof(e.wallet), (void *)p);
    bpf_usdt_readarg(2, ctx, &use); e.a[0] = use;
    bpf_usdt_readarg(3, ctx, &ok); e.a[1] = ok;
    bpf_usdt_readarg(4, ctx, &fee); e.a[2] = fee;
    bpf_usdt_readarg(5, ctx, &pos); e.a[3] = pos;
    submit(&e);
    return 0;
}
"""

PROBES = (("coin_selection:selected_coins", "trace_selected"),
          ("coin_selection:normal_create_tx_internal", "trace_normal"),
          ("coin_selection:attempting_aps_create_tx", "trace_attempting"),
          ("coin_selection:aps_create_tx_internal", "trace_aps"))
SETTLE_S = 0.2   # a first attempt with nothing after it for this long is complete


class Transaction:
    """The events of one transaction being built, printed as a block."""

    def __init__(self, wallet):
        self.wallet = wallet
        self.rows = []          # [attempt, selection or None, created or None]
        self.selection = None   # the last selected_coins not yet claimed
        self.result = None
        self.done_at = None

    def row(self, attempt, ok, fee, pos):
        self.rows.append((attempt, self.selection, ok, fee, pos))
        self.selection = None

    def lines(self):
        out = [f'wallet "{self.wallet}"',
               "  attempt  algorithm      target     waste    selected      fee  change"]
        for attempt, sel, ok, fee, pos in self.rows:
            algo, target, waste, value = sel if sel else ("-", "-", "-", "-")
            created = (f"{fee:>8} {pos if pos >= 0 else 'none':>7}" if ok
                       else f"{'failed':>8} {'-':>7}")
            out.append(f"  {attempt:<8} {algo:<11} {target:>9} {waste:>9} {value:>11} "
                       f"{created}")
        out.append(f"  result: {self.result}")
        return out


class Logger:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.pending = {}       # wallet name -> Transaction

    def on_event(self, kind, wallet, algo, a):
        t = self.pending.get(wallet)
        if kind == 0:
            if t is None or t.done_at is not None:
                self.flush(wallet)
                t = self.pending[wallet] = Transaction(wallet)
            t.selection = (algo, a[0], a[1], a[2])
        elif kind == 1:
            if t is None or t.done_at is not None:
                self.flush(wallet)
                t = self.pending[wallet] = Transaction(wallet)
            t.row("normal", bool(a[0]), a[1], a[2])
            if a[0]:
                t.result = "sent the first attempt's transaction (no APS attempt)"
                t.done_at = time.monotonic()
            else:
                t.result = "failed (no transaction)"
                self.flush(wallet)
        elif kind == 2 and t is not None:
            t.done_at = None
        elif kind == 3 and t is not None:
            use, ok, fee, pos = bool(a[0]), bool(a[1]), a[2], a[3]
            t.row("aps", ok, fee, pos)
            if use:
                t.result = "sent the APS transaction (its fee is within -maxapsfee)"
            elif ok:
                t.result = "sent the first attempt's transaction (APS fee above -maxapsfee)"
            else:
                t.result = "sent the first attempt's transaction (APS attempt failed)"
            self.flush(wallet)

    def flush(self, wallet=None, settled_only=False):
        now = time.monotonic()
        for name in [wallet] if wallet else list(self.pending):
            t = self.pending.get(name)
            if not t or (settled_only and (t.done_at is None or now - t.done_at < SETTLE_S)):
                continue
            if t.rows:
                print("\n".join(t.lines()) + "\n", file=self.out, flush=True)
            del self.pending[name]


EVENTS = ["coin_selection:selected_coins", "coin_selection:normal_create_tx_internal",
          "coin_selection:attempting_aps_create_tx", "coin_selection:aps_create_tx_internal"]


def json_event(kind, wallet, algo, a):
    """--json: one event as an NDJSON line."""
    fields = [{"algorithm": algo, "target": a[0], "waste": a[1], "selected_value": a[2]},
              {"success": bool(a[0]), "fee": a[1], "change_pos": a[2]},
              {},
              {"use_aps": bool(a[0]), "success": bool(a[1]), "fee": a[2], "change_pos": a[3]}]
    print(json.dumps({"event": EVENTS[kind], "wallet_name": wallet, **fields[kind]}),
          flush=True)


def lost_events(bpf):
    """Events the BPF side could not put in the full ring buffer."""
    table = bpf["lost"]
    return int(table[table.Key(0)].value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", help="PID of moneyrocketd, or the path of its binary")
    ap.add_argument("--json", action="store_true", help="print NDJSON, one object per event")
    args = ap.parse_args()
    require_root(PROG)
    pid, binary = resolve_target(PROG, args.target)
    from bcc import BPF  # Debian's python3-bpfcc

    usdt = KernelRefUSDT(pid, binary)
    for probe, fn in PROBES:
        usdt.enable_probe(probe=probe, fn_name=fn)
    bpf = usdt.load(BPF, PROGRAM)
    log = Logger()
    reported = 0

    def on_event(_ctx, data, _size):
        e = bpf["events"].event(data)
        event = (e.kind, e.wallet.decode(errors="replace"), e.algo.decode(errors="replace"),
                 list(e.a))
        if args.json:
            json_event(*event)
        else:
            log.on_event(*event)

    def warn_lost():
        nonlocal reported
        n = lost_events(bpf)
        if n > reported:
            print(f"warning: lost {n - reported} events (ring buffer full; raise its "
                  f"page count in BPF_RINGBUF_OUTPUT)", file=sys.stderr)
            reported = n

    bpf["events"].open_ring_buffer(on_event)
    flag = StopFlag()
    print(f"Logging coin selection of moneyrocketd pid {pid}; Ctrl-C to stop.\n",
          file=sys.stderr if args.json else sys.stdout, flush=True)
    while not flag.stop:
        bpf.ring_buffer_poll(timeout=100)
        warn_lost()
        log.flush(settled_only=True)
    log.flush()
    usdt.close()
    bpf.cleanup()
    return 0


if __name__ == "__main__":
    # Before anything else, so a signal while BCC compiles ends the script
    # cleanly too (the kernel lowers the semaphores when we exit).
    stop_on_signals()
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
