#!/usr/bin/python3
"""mempool_monitor.py — live view of what enters and leaves a moneyrocketd
node's mempool.

USAGE:
    mempool_monitor.py [--json] TARGET

Arguments:
    TARGET   the PID of a running moneyrocketd, or the path of its binary
             (then exactly one running process of that binary is traced).
    --json   no screen: print each event as one NDJSON line, fields named as
             in doc/tracing.md ("JSON field names"), in firing order; the
             start line and the totals go to stderr. Needs no terminal.

Requirements: root (loading BPF programs needs CAP_BPF and CAP_PERFMON, or
CAP_SYS_ADMIN), Debian's python3-bpfcc (run with /usr/bin/python3), a
terminal at least 80x16.

Tracepoints: mempool:added, mempool:removed, mempool:replaced,
mempool:rejected. BCC is used (not bpftrace) because mempool:replaced has
seven arguments and bpftrace 0.17 cannot read the seventh, the replacement's
fee.

Screen:
    top      per event: total since the monitor attached, and the rate per
             minute over the last minute and over the last 10 minutes (over
             the time it has run, at least a minute, until it has run 10);
             removals are split by reason.
    bottom   the event log, newest at the bottom: time, event, txid (display
             order, as RPC shows it) and details: fee (sat), vsize (vB),
             feerate, removal reason and time spent in the mempool,
             replacement txid and fees, rejection reason. It keeps the last
             2000 events. A terminal narrower than a whole line puts the
             details on the following line(s).

Keys:
    Up/Down or k/j, PgUp/PgDn   scroll the event log back and forth
    End or G                    follow the newest events again
    q                           quit
Ctrl-C quits too (exit status 0). On exit the totals are printed, and the
number of lost events if any were lost (perf buffer full: the count is also
shown at the bottom of the screen while it runs).

Event times are taken in the kernel when the tracepoint fires, and each poll's
events are sorted by it, so events handled on different CPUs are listed in
the order they happened.

Examples:
    sudo /usr/bin/python3 contrib/tracing/mempool_monitor.py $(pidof moneyrocketd)
    sudo contrib/tracing/mempool_monitor.py src/moneyrocketd
"""
import collections
import json
import curses
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usdt_helper import (KernelRefUSDT, StopFlag, require_root,  # noqa: E402
                         resolve_target, stop_on_signals)

PROG = "mempool_monitor.py"

PROGRAM = r"""
#include <uapi/linux/ptrace.h>

#define REASON_LEN 119      /* rejection reasons: max. length 118 + NUL */

/* One struct for all four tracepoints, sent through one perf buffer. */
struct mempool_event {
    u64 ktime;              /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
    u32 kind;               /* KIND_* below */
    s32 vsize;
    s64 fee;
    u64 entry_time;         /* removed, replaced: UNIX seconds */
    s32 new_vsize;          /* replaced: the replacement's */
    s64 new_fee;
    u8 txid[32];            /* internal byte order */
    u8 new_txid[32];
    char reason[REASON_LEN];
};

BPF_PERF_OUTPUT(events);

/* BCC binds each bpf_usdt_readarg() to the probe of the function it is
 * written in, so each probe has its own function. bpf_usdt_readarg wants a
 * destination of exactly the argument's size: the fields above have it. */

int trace_added(struct pt_regs *ctx)
{
    struct mempool_event e = {};
    u64 p = 0;
    e.ktime = bpf_ktime_get_ns();
    e.kind = KIND_ADDED;
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user(e.txid, sizeof(e.txid), (void *)p);
    bpf_usdt_readarg(2, ctx, &e.vsize);
    bpf_usdt_readarg(3, ctx, &e.fee);
    events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}

int trace_removed(struct pt_regs *ctx)
{
    struct mempool_event e = {};
    u64 p = 0;
    e.ktime = bpf_ktime_get_ns();
    e.kind = KIND_REMOVED;
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user(e.txid, sizeof(e.txid), (void *)p);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.reason, sizeof(e.reason), (void *)p);
    bpf_usdt_readarg(3, ctx, &e.vsize);
    bpf_usdt_readarg(4, ctx, &e.fee);
    bpf_usdt_readarg(5, ctx, &e.entry_time);
    events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}

int trace_replaced(struct pt_regs *ctx)
{
    struct mempool_event e = {};
    u64 p = 0;
    e.ktime = bpf_ktime_get_ns();
    e.kind = KIND_REPLACED;
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user(e.txid, sizeof(e.txid), (void *)p);
    bpf_usdt_readarg(2, ctx, &e.vsize);
    bpf_usdt_readarg(3, ctx, &e.fee);
    bpf_usdt_readarg(4, ctx, &e.entry_time);
    bpf_usdt_readarg(5, ctx, &p);
    bpf_probe_read_user(e.new_txid, sizeof(e.new_txid), (void *)p);
    bpf_usdt_readarg(6, ctx, &e.new_vsize);
    bpf_usdt_readarg(7, ctx, &e.new_fee);
    events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}

int trace_rejected(struct pt_regs *ctx)
{
    struct mempool_event e = {};
    u64 p = 0;
    e.ktime = bpf_ktime_get_ns();
    e.kind = KIND_REJECTED;
    bpf_usdt_readarg(1, ctx, &p);
    bpf_probe_read_user(e.txid, sizeof(e.txid), (void *)p);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.reason, sizeof(e.reason), (void *)p);
    events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""

KINDS = ("added", "removed", "replaced", "rejected")   # KIND_ADDED = 0, ...

PROBES = (("mempool:added", "trace_added"),
          ("mempool:removed", "trace_removed"),
          ("mempool:replaced", "trace_replaced"),
          ("mempool:rejected", "trace_rejected"))

LOG_LINES = 2000        # events kept for the log
RATE_WINDOW = 600       # seconds: the longer rate's window
PAGE_CNT = 64           # perf buffer pages per CPU


def program_text():
    program = PROGRAM
    for i, kind in enumerate(KINDS):
        program = program.replace("KIND_" + kind.upper(), str(i))
    return program


def text(raw):
    return bytes(raw).split(b"\0", 1)[0].decode(errors="replace")


def display_hash(raw):
    """A 32-byte hash in internal order, as RPC shows it (reversed hex)."""
    return bytes(raw)[::-1].hex()


class Event:
    """One tracepoint firing, decoded (what the log shows)."""

    def __init__(self, kind, wall, txid, details):
        self.kind = kind
        self.time = wall
        self.txid = txid
        self.details = details      # list of short strings


def feerate(fee, vsize):
    return f"{fee / vsize:.1f} sat/vB" if vsize > 0 else "- sat/vB"


def decode(e, wall):
    """Event from the BPF struct `e` that fired at UNIX time `wall`."""
    kind = KINDS[e.kind]
    txid = display_hash(e.txid)
    if kind == "added":
        details = [f"fee {e.fee} sat", f"vsize {e.vsize} vB", feerate(e.fee, e.vsize)]
    elif kind == "removed":
        age = max(int(wall) - e.entry_time, 0)
        details = [f"reason {text(e.reason)}", f"fee {e.fee} sat", f"vsize {e.vsize} vB",
                   f"in mempool {age} s"]
    elif kind == "replaced":
        details = [f"fee {e.fee} -> {e.new_fee} sat", f"vsize {e.vsize} -> {e.new_vsize} vB",
                   f"by {display_hash(e.new_txid)}"]
    else:
        details = [f"reason {text(e.reason)}"]
    return Event(kind, wall, txid, details)


class Monitor:
    """Counts, rates and the event log, fed by the BPF callback (which only
    records: an exception in a BCC callback would be lost)."""

    def __init__(self):
        self.started = time.time()
        self.totals = collections.Counter()
        self.removed_by_reason = collections.Counter()
        self.recent = {k: collections.deque() for k in KINDS}   # UNIX times
        self.log = collections.deque(maxlen=LOG_LINES)
        self.appended = 0           # events ever added to the log
        self.pending = []           # struct copies read in this poll
        self.lost = 0
        # CLOCK_MONOTONIC (bpf_ktime_get_ns) -> UNIX time
        self.mono_to_wall = time.time() - time.monotonic()

    def on_event(self, e):
        self.pending.append(e)

    def on_lost(self, count):
        self.lost += count

    def take_pending(self):
        """Move this poll's events into the counts and the log, in the order
        they fired (each CPU's buffer is read after the other)."""
        pending, self.pending = self.pending, []
        pending.sort(key=lambda e: e.ktime)
        for e in pending:
            ev = decode(e, e.ktime / 1e9 + self.mono_to_wall)
            self.totals[ev.kind] += 1
            self.recent[ev.kind].append(ev.time)
            if ev.kind == "removed":
                self.removed_by_reason[text(e.reason)] += 1
            self.log.append(ev)
            self.appended += 1
        return len(pending)

    def rates(self, kind, now):
        """(per minute over the last minute, per minute over the last 10)."""
        q = self.recent[kind]
        while q and q[0] < now - RATE_WINDOW:
            q.popleft()
        last_min = sum(1 for t in q if t >= now - 60)
        minutes = min(max(now - self.started, 60), RATE_WINDOW) / 60
        return last_min, len(q) / minutes

    def summary(self):
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(self.removed_by_reason.items()))
        return (f"added {self.totals['added']}, removed {self.totals['removed']}"
                f"{f' ({reasons})' if reasons else ''}, replaced {self.totals['replaced']}, "
                f"rejected {self.totals['rejected']}")


def attach(pid, binary, monitor):
    from bcc import BPF  # Debian's python3-bpfcc
    usdt = KernelRefUSDT(pid, binary)
    for probe, fn in PROBES:
        usdt.enable_probe(probe=probe, fn_name=fn)
    bpf = usdt.load(BPF, program_text())

    def on_event(_cpu, data, _size):
        # Copy: `data` is valid only during the call. (Look the table up
        # each time: a reference held here would outlive bpf.cleanup().)
        e = bpf["events"].event(data)
        monitor.on_event(type(e).from_buffer_copy(e))

    bpf["events"].open_perf_buffer(on_event, page_cnt=PAGE_CNT, lost_cb=monitor.on_lost)
    return bpf, usdt


def json_event(e):
    """--json: one event as an NDJSON line (doc/tracing.md, "JSON field names")."""
    kind = KINDS[e.kind]
    txid = display_hash(e.txid)
    if kind == "added":
        fields = {"txid": txid, "vsize": e.vsize, "fee": e.fee}
    elif kind == "removed":
        fields = {"txid": txid, "reason": text(e.reason), "vsize": e.vsize, "fee": e.fee,
                  "entry_time": e.entry_time}
    elif kind == "replaced":
        fields = {"replaced_txid": txid, "replaced_vsize": e.vsize, "replaced_fee": e.fee,
                  "replaced_entry_time": e.entry_time,
                  "replacement_txid": display_hash(e.new_txid),
                  "replacement_vsize": e.new_vsize, "replacement_fee": e.new_fee}
    else:
        fields = {"txid": txid, "reason": text(e.reason)}
    return json.dumps({"event": "mempool:" + kind, **fields})


def json_loop(bpf, monitor):
    """--json: no screen; each event printed as it is read, in firing order."""
    while True:
        bpf.perf_buffer_poll(timeout=200)
        events = sorted(monitor.pending, key=lambda e: e.ktime)
        monitor.take_pending()
        for e in events:
            print(json_event(e), flush=True)


def put(win, y, x, s, attr=0):
    """addnstr that ignores writes past the window's edge."""
    h, w = win.getmaxyx()
    if 0 <= y < h and x < w:
        try:
            win.addnstr(y, x, s, w - x - 1 if y == h - 1 else w - x, attr)
        except curses.error:
            pass


def event_rows(ev, width):
    """The screen lines of one log entry for a window `width` wide: one line
    when it fits, else the txid and details wrap onto indented lines."""
    t = time.strftime("%H:%M:%S", time.localtime(ev.time)) + f".{int(ev.time * 1000) % 1000:03d}"
    indent = " " * 13
    rows, line = [], f"{t} {ev.kind:<8}"
    for i, piece in enumerate([ev.txid] + ev.details):
        sep = " " if i == 0 else ("  " if i == 1 else ", ")
        if len(line) + len(sep) + len(piece) > width and line.strip() and line != indent:
            rows.append(line)
            line, sep = indent, ""
        line += sep + piece
    rows.append(line)
    return rows


def draw(win, monitor, pid, scroll):
    """Redraw everything; `scroll` is how many log entries the view is
    moved back from the newest."""
    win.erase()
    h, w = win.getmaxyx()
    now = time.time()
    put(win, 0, 0, f"Mempool of moneyrocketd pid {pid} since "
                   f"{time.strftime('%H:%M:%S', time.localtime(monitor.started))}",
        curses.A_BOLD)
    put(win, 1, 0, f"{'EVENT':<10} {'TOTAL':>8} {'/MIN 1 MIN':>11} {'/MIN 10 MIN':>12}",
        curses.A_UNDERLINE)
    for i, kind in enumerate(KINDS):
        last, ten = monitor.rates(kind, now)
        line = f"{kind:<10} {monitor.totals[kind]:>8} {last:>11} {ten:>12.1f}"
        if kind == "removed" and monitor.removed_by_reason:
            line += "   " + ", ".join(f"{r} {n}" for r, n in
                                      sorted(monitor.removed_by_reason.items()))
        put(win, 2 + i, 0, line)
    put(win, 7, 0, f"{'TIME':<12} {'EVENT':<8} {'TXID':<64}  DETAILS", curses.A_UNDERLINE)
    top, bottom = 8, h - 2          # log rows top..bottom-1; status line at h-1
    room = bottom - top
    if room > 0:
        entries = list(monitor.log)
        end = len(entries) - scroll
        rows = []
        i = end - 1
        while i >= 0 and len(rows) < room:
            rows[0:0] = event_rows(entries[i], w)
            i -= 1
        rows = rows[-room:]
        for j, row in enumerate(rows):
            put(win, top + j, 0, row)
        if not entries:
            put(win, top, 0, "waiting for mempool events...")
    status = f"{monitor.appended} events, " + (
        "newest shown" if scroll == 0 else f"{scroll} back (End: newest)") + \
        "  q: quit  arrows/j/k/PgUp/PgDn: scroll"
    if monitor.lost:
        put(win, h - 1, 0, f"{status}  WARNING: {monitor.lost} events lost (perf buffer full)",
            curses.A_BOLD)
    else:
        put(win, h - 1, 0, status)
    win.refresh()


def ui(stdscr, bpf, monitor, pid, flag):
    curses.curs_set(0)
    stdscr.timeout(100)   # getch waits at most 100 ms, then we poll BPF again
    scroll = 0            # log entries back from the newest; 0 follows
    while not flag.stop:
        bpf.perf_buffer_poll(timeout=10)
        new = monitor.take_pending()
        if scroll:        # keep the same entries in view while scrolled back
            scroll = min(scroll + new, max(len(monitor.log) - 1, 0))
        draw(stdscr, monitor, pid, scroll)
        key = stdscr.getch()
        h, _ = stdscr.getmaxyx()
        page = max(h - 10, 1)
        most = max(len(monitor.log) - 1, 0)
        if key in (ord("q"), ord("Q")):
            return
        elif key == curses.KEY_RESIZE:
            curses.update_lines_cols()
            stdscr.clear()
        elif key in (curses.KEY_UP, ord("k")):
            scroll = min(scroll + 1, most)
        elif key in (curses.KEY_DOWN, ord("j")):
            scroll = max(scroll - 1, 0)
        elif key == curses.KEY_PPAGE:
            scroll = min(scroll + page, most)
        elif key == curses.KEY_NPAGE:
            scroll = max(scroll - page, 0)
        elif key in (curses.KEY_END, ord("G")):
            scroll = 0


def main():
    as_json = "--json" in sys.argv[1:]
    if as_json:
        sys.argv.remove("--json")
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 1)
    require_root(PROG)
    if not as_json and not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.exit("mempool_monitor.py: needs a terminal (stdin and stdout)")
    pid, binary = resolve_target(PROG, sys.argv[1])
    monitor = Monitor()
    bpf, usdt = attach(pid, binary, monitor)
    try:
        if as_json:
            print(f"mempool_monitor.py: logging mempool events of pid {pid} as NDJSON; "
                  "Ctrl-C to end", file=sys.stderr, flush=True)
            json_loop(bpf, monitor)
        else:
            curses.wrapper(ui, bpf, monitor, pid, StopFlag())
    except KeyboardInterrupt:
        pass
    finally:
        usdt.close()
        bpf.cleanup()
    if as_json:
        for e in sorted(monitor.pending, key=lambda e: e.ktime):
            print(json_event(e), flush=True)
    monitor.take_pending()
    print(f"mempool_monitor.py: {monitor.summary()}", file=sys.stderr if as_json else sys.stdout)
    if monitor.lost:
        print(f"mempool_monitor.py: {monitor.lost} events were lost "
              f"(perf buffer full; raise PAGE_CNT)", file=sys.stderr)


if __name__ == "__main__":
    # Before anything else: a shell starts background jobs with SIGINT
    # ignored, and a signal while BCC compiles must end the script cleanly
    # too (the kernel lowers the semaphores when we exit).
    stop_on_signals()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
