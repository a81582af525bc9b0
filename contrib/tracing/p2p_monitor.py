#!/usr/bin/python3
"""p2p_monitor.py — live view of a moneyrocketd node's P2P peers and messages.

USAGE:
    p2p_monitor.py [--json] TARGET

Arguments:
    TARGET   the PID of a running moneyrocketd, or the path of its binary
             (then exactly one running process of that binary is traced).
    --json   no screen: print each message and connection event as one
             NDJSON line, fields named as in doc/tracing.md ("JSON field
             names"; this monitor reads no payload and no connection
             counts, so `msg`, `network` and the counts are left out).
             Needs no terminal.

Requirements: root (loading BPF programs needs CAP_BPF and CAP_PERFMON, or
CAP_SYS_ADMIN), Debian's python3-bpfcc (run with /usr/bin/python3), a
terminal at least 80x10 (the table is 80 columns wide; without a terminal
the script says so and exits 1).

Tracepoints: net:inbound_message, net:outbound_message (counts and the
recent-message list), net:inbound_connection, net:outbound_connection,
net:closed_connection (peers appear and are marked closed).

Keys:
    Up/Down or k/j   move the selection       Enter   messages of that peer
    q                back from a peer's view; quit from the table
Ctrl-C quits at any time.

The table counts only what happened since the monitor attached: a peer
that stays silent does not appear until it sends, receives or connects.
Sizes are payload bytes (without the 24-byte header). RECV and SENT count
messages, BYTES their payload bytes (k, M, G past the column's width); S is
`x` for a closed peer.

Examples:
    sudo /usr/bin/python3 contrib/tracing/p2p_monitor.py $(pidof moneyrocketd)
    sudo contrib/tracing/p2p_monitor.py src/moneyrocketd
"""
import collections
import curses
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usdt_helper import (KernelRefUSDT, StopFlag, require_root,  # noqa: E402
                         resolve_target, stop_on_signals)

PROG = "p2p_monitor.py"

PROGRAM = r"""
#include <uapi/linux/ptrace.h>

#define ADDR_LEN 69
#define CONN_LEN 21
#define TYPE_LEN 21

struct msg_event {
    u64 size;
    s64 peer_id;
    u32 inbound;
    char addr[ADDR_LEN];
    char conn_type[CONN_LEN];
    char msg_type[TYPE_LEN];
};

struct conn_event {
    s64 peer_id;
    u32 kind;               /* 0 inbound, 1 outbound, 2 closed */
    char addr[ADDR_LEN];
    char conn_type[CONN_LEN];
};

BPF_PERF_OUTPUT(msg_events);
BPF_PERF_OUTPUT(conn_events);

/* BCC ties each bpf_usdt_readarg() to the probe of the function it is
 * written in, so every probe gets its own copy of these bodies (the
 * Python side fills in FN and the constant). */
@MSG_FUNCTIONS@
@CONN_FUNCTIONS@
"""

MSG_TEMPLATE = r"""
int FN(struct pt_regs *ctx)
{
    struct msg_event e = {};
    u64 p = 0;
    e.inbound = INBOUND;
    bpf_usdt_readarg(1, ctx, &e.peer_id);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.addr, sizeof(e.addr), (void *)p);
    bpf_usdt_readarg(3, ctx, &p);
    bpf_probe_read_user_str(e.conn_type, sizeof(e.conn_type), (void *)p);
    bpf_usdt_readarg(4, ctx, &p);
    bpf_probe_read_user_str(e.msg_type, sizeof(e.msg_type), (void *)p);
    bpf_usdt_readarg(5, ctx, &e.size);
    msg_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""

CONN_TEMPLATE = r"""
int FN(struct pt_regs *ctx)
{
    struct conn_event e = {};
    u64 p = 0;
    e.kind = KIND;
    bpf_usdt_readarg(1, ctx, &e.peer_id);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e.addr, sizeof(e.addr), (void *)p);
    bpf_usdt_readarg(3, ctx, &p);
    bpf_probe_read_user_str(e.conn_type, sizeof(e.conn_type), (void *)p);
    conn_events.perf_submit(ctx, &e, sizeof(e));
    return 0;
}
"""


def program_text():
    """The BPF C program with one function per probe."""
    msgs = "".join(MSG_TEMPLATE.replace("FN", fn).replace("INBOUND", inbound)
                   for fn, inbound in (("on_inbound_message", "1"),
                                       ("on_outbound_message", "0")))
    conns = "".join(CONN_TEMPLATE.replace("FN", fn).replace("KIND", kind)
                    for fn, kind in (("on_inbound_connection", "0"),
                                     ("on_outbound_connection", "1"),
                                     ("on_closed_connection", "2")))
    return PROGRAM.replace("@MSG_FUNCTIONS@", msgs).replace("@CONN_FUNCTIONS@", conns)


PROBES = (("net:inbound_message", "on_inbound_message"),
          ("net:outbound_message", "on_outbound_message"),
          ("net:inbound_connection", "on_inbound_connection"),
          ("net:outbound_connection", "on_outbound_connection"),
          ("net:closed_connection", "on_closed_connection"))

RECENT_PER_PEER = 200   # messages kept per peer for the detail view


class Peer:
    """What the monitor has seen of one peer."""

    def __init__(self, peer_id, addr, conn_type):
        self.id = peer_id
        self.addr = addr
        self.conn_type = conn_type
        self.msgs_in = self.msgs_out = 0
        self.bytes_in = self.bytes_out = 0
        self.closed = False
        self.recent = collections.deque(maxlen=RECENT_PER_PEER)


class Monitor:
    """Peer table fed by the BPF callbacks (which only record)."""

    def __init__(self):
        self.peers = {}
        self.lost = 0

    def peer(self, peer_id, addr, conn_type):
        p = self.peers.get(peer_id)
        if p is None:
            p = self.peers[peer_id] = Peer(peer_id, addr, conn_type)
        return p

    def on_message(self, e):
        p = self.peer(e.peer_id, text(e.addr), text(e.conn_type))
        if e.inbound:
            p.msgs_in += 1
            p.bytes_in += e.size
        else:
            p.msgs_out += 1
            p.bytes_out += e.size
        p.recent.append((time.time(), "recv" if e.inbound else "send", text(e.msg_type), e.size))

    def on_connection(self, e):
        p = self.peer(e.peer_id, text(e.addr), text(e.conn_type))
        p.closed = e.kind == 2

    def sorted_peers(self):
        return [self.peers[k] for k in sorted(self.peers)]


class JsonMonitor(Monitor):
    """--json: each event printed as it is read, nothing kept."""

    CONN_EVENTS = ("net:inbound_connection", "net:outbound_connection", "net:closed_connection")

    def on_message(self, e):
        print(json.dumps({"event": "net:inbound_message" if e.inbound else "net:outbound_message",
                          "peer_id": e.peer_id, "peer_addr": text(e.addr),
                          "conn_type": text(e.conn_type), "msg_type": text(e.msg_type),
                          "msg_size": e.size}), flush=True)

    def on_connection(self, e):
        print(json.dumps({"event": self.CONN_EVENTS[e.kind], "peer_id": e.peer_id,
                          "peer_addr": text(e.addr), "conn_type": text(e.conn_type)}),
              flush=True)


def json_loop(bpf, pid):
    print(f"p2p_monitor.py: logging P2P events of pid {pid} as NDJSON; Ctrl-C to end",
          file=sys.stderr, flush=True)
    while True:
        bpf.perf_buffer_poll(timeout=200)


def text(raw):
    return bytes(raw).split(b"\0", 1)[0].decode(errors="replace")


def attach(pid, binary, monitor):
    from bcc import BPF  # Debian's python3-bpfcc
    usdt = KernelRefUSDT(pid, binary)
    for probe, fn in PROBES:
        usdt.enable_probe(probe=probe, fn_name=fn)
    bpf = usdt.load(BPF, program_text())

    def lost(count):
        monitor.lost += count

    bpf["msg_events"].open_perf_buffer(
        lambda _c, data, _s: monitor.on_message(bpf["msg_events"].event(data)),
        page_cnt=64, lost_cb=lost)
    bpf["conn_events"].open_perf_buffer(
        lambda _c, data, _s: monitor.on_connection(bpf["conn_events"].event(data)),
        page_cnt=16, lost_cb=lost)
    return bpf, usdt


def put(win, y, x, s, attr=0):
    """addnstr that ignores writes past the window's edge."""
    h, w = win.getmaxyx()
    if 0 <= y < h and x < w:
        try:
            win.addnstr(y, x, s, w - x - 1 if y == h - 1 else w - x, attr)
        except curses.error:
            pass


def fit(n, width):
    """n as text of at most `width` characters (k, M, G above that)."""
    text = str(n)
    for unit in ("k", "M", "G", "T"):
        if len(text) <= width:
            return text
        n /= 1000
        text = f"{n:.0f}{unit}"
    return text


# The table fits 80 columns: 4 + 19 + 21 + 6 + 8 + 6 + 8 + 1, a space
# between each. Addresses longer than 21 (IPv6) are cut here and shown whole
# in the peer's view.
TABLE_HEAD = (f"{'PEER':>4} {'CONN TYPE':<19} {'ADDRESS':<21} {'RECV':>6} {'BYTES':>8} "
              f"{'SENT':>6} {'BYTES':>8} S")


def table_row(p):
    return (f"{p.id:>4} {p.conn_type:<19.19} {p.addr:<21.21} {fit(p.msgs_in, 6):>6} "
            f"{fit(p.bytes_in, 8):>8} {fit(p.msgs_out, 6):>6} {fit(p.bytes_out, 8):>8} "
            f"{'x' if p.closed else ' '}")


def draw_table(win, monitor, pid, selected):
    win.erase()
    peers = monitor.sorted_peers()
    put(win, 0, 0, f"P2P peers of moneyrocketd pid {pid}  "
                   f"(j/k: move  Enter: messages  q: quit)", curses.A_BOLD)
    put(win, 1, 0, TABLE_HEAD, curses.A_UNDERLINE)
    for row, p in enumerate(peers):
        put(win, 2 + row, 0, table_row(p), curses.A_REVERSE if row == selected else 0)
    if not peers:
        put(win, 2, 0, "waiting for P2P messages...")
    status(win, monitor)
    win.refresh()


def draw_peer(win, monitor, peer):
    win.erase()
    put(win, 0, 0, f"Peer {peer.id} {peer.addr} ({peer.conn_type}"
                   f"{', closed' if peer.closed else ''})  q: back", curses.A_BOLD)
    put(win, 1, 0, f"{'TIME':<15} {'DIR':<4} {'MSG TYPE':<12} {'SIZE':>10}", curses.A_UNDERLINE)
    h, _ = win.getmaxyx()
    rows = list(peer.recent)[-(max(h - 3, 1)):]
    for i, (t, direction, msg_type, size) in enumerate(rows):
        stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"
        put(win, 2 + i, 0, f"{stamp:<15} {direction:<4} {msg_type:<12} {size:>10}")
    status(win, monitor)
    win.refresh()


def status(win, monitor):
    if monitor.lost:
        h, _ = win.getmaxyx()
        put(win, h - 1, 0, f"WARNING: {monitor.lost} events lost (buffers full)", curses.A_BOLD)


def ui(stdscr, bpf, monitor, pid, flag):
    curses.curs_set(0)
    stdscr.timeout(100)  # getch waits at most 100 ms, then we poll BPF again
    selected = 0
    viewing = None       # peer id shown in detail, or None for the table
    while not flag.stop:
        bpf.perf_buffer_poll(timeout=10)
        peers = monitor.sorted_peers()
        selected = min(selected, max(len(peers) - 1, 0))
        if viewing is None:
            draw_table(stdscr, monitor, pid, selected)
        else:
            draw_peer(stdscr, monitor, monitor.peers[viewing])
        key = stdscr.getch()
        if key in (ord("q"), ord("Q")):
            if viewing is None:
                return
            viewing = None
        elif viewing is None and key in (curses.KEY_UP, ord("k")):
            selected = max(selected - 1, 0)
        elif viewing is None and key in (curses.KEY_DOWN, ord("j")):
            selected = min(selected + 1, max(len(peers) - 1, 0))
        elif viewing is None and key in (curses.KEY_ENTER, 10, 13) and peers:
            viewing = peers[selected].id


def main():
    as_json = "--json" in sys.argv[1:]
    if as_json:
        sys.argv.remove("--json")
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 1)
    require_root(PROG)
    if not as_json and not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.exit(f"{PROG}: needs a terminal (stdin and stdout) for its live table; "
                 f"to log messages to a file use log_p2p_traffic.bt or log_raw_p2p_msgs.py, "
                 f"or --json")
    pid, binary = resolve_target(PROG, sys.argv[1])
    monitor = JsonMonitor() if as_json else Monitor()
    bpf, usdt = attach(pid, binary, monitor)
    try:
        if as_json:
            json_loop(bpf, pid)
        else:
            curses.wrapper(ui, bpf, monitor, pid, StopFlag())
    except KeyboardInterrupt:
        pass
    finally:
        usdt.close()
        bpf.cleanup()
    if monitor.lost:
        print(f"p2p_monitor.py: {monitor.lost} events were lost", file=sys.stderr)


if __name__ == "__main__":
    # Before anything else: a shell starts background jobs with SIGINT
    # ignored, and a signal while BCC compiles must end the script cleanly
    # too (the kernel lowers the semaphores when we exit).
    stop_on_signals()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
