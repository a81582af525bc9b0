#!/usr/bin/python3
"""log_raw_p2p_msgs.py — print every P2P message of a moneyrocketd node with
its payload bytes in hex.

USAGE:
    log_raw_p2p_msgs.py [--max-bytes N] [--buffer-pages P] [--json] TARGET

Arguments:
    TARGET            the PID of a running moneyrocketd, or the path of its
                      binary (then exactly one running process of it is traced)
    --max-bytes N     copy at most N payload bytes per message (default 65536,
                      at most 4000000 — the protocol's largest payload). A
                      longer message is printed cut short and says so.
    --buffer-pages P  size of the BPF ring buffer in memory pages (a power of
                      two, default 1024 = 4 MiB). A message that finds the
                      buffer full is lost; lost messages are counted and
                      reported. Enlarge the buffer if that happens.

Requirements: root (loading BPF programs needs privileges), Debian's
python3-bpfcc (run with /usr/bin/python3).

Tracepoints: net:inbound_message, net:outbound_message.

Output: one header line per message, then the payload as hex, 32 bytes per
line with the offset in front:
    recv 'version' from peer 0 (inbound, 127.0.0.1:40770): 105 bytes
      0000  7c110100 09040000 ...
Ctrl-C ends the script and prints how many messages were seen and lost.
With --json, stdout is NDJSON instead: one object per message, fields named
as in doc/tracing.md ("JSON field names", `msg` the captured payload in hex,
plus `captured`, its length); the start line, lost-message warnings and
the totals go to stderr.

Examples:
    sudo /usr/bin/python3 contrib/tracing/log_raw_p2p_msgs.py $(pidof moneyrocketd)
    sudo contrib/tracing/log_raw_p2p_msgs.py --max-bytes 256 src/moneyrocketd
"""
import argparse
import ctypes
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from usdt_helper import (KernelRefUSDT, StopFlag, require_root,  # noqa: E402
                         resolve_target, stop_on_signals)

PROG = "log_raw_p2p_msgs.py"

MAX_PAYLOAD = 4_000_000

PROGRAM = r"""
#include <uapi/linux/ptrace.h>

#define ADDR_LEN 69
#define CONN_LEN 21
#define TYPE_LEN 21

struct msg_event {
    u64 size;           /* payload length the node reported */
    u64 captured;       /* bytes copied into data[] */
    s64 peer_id;
    u32 inbound;
    char addr[ADDR_LEN];
    char conn_type[CONN_LEN];
    char msg_type[TYPE_LEN];
    u8 data[MAX_CAPTURE];
};

/* One scratch event per CPU: too big for the 512-byte BPF stack. */
BPF_ARRAY(scratch, struct msg_event, NCPUS);
/* Messages dropped because the ring buffer was full, per CPU. */
BPF_PERCPU_ARRAY(lost, u64, 1);
BPF_RINGBUF_OUTPUT(messages, BUFFER_PAGES);

@FUNCTIONS@
"""

# BCC binds each bpf_usdt_readarg() to the probe of the function it is
# written in, so each probe gets its own copy of this body.
FUNCTION = r"""
int FN(struct pt_regs *ctx)
{
    u32 cpu = bpf_get_smp_processor_id();
    struct msg_event *e = scratch.lookup(&cpu);
    if (!e)
        return 0;
    u64 p = 0;
    e->inbound = INBOUND;
    bpf_usdt_readarg(1, ctx, &e->peer_id);
    bpf_usdt_readarg(2, ctx, &p);
    bpf_probe_read_user_str(e->addr, sizeof(e->addr), (void *)p);
    bpf_usdt_readarg(3, ctx, &p);
    bpf_probe_read_user_str(e->conn_type, sizeof(e->conn_type), (void *)p);
    bpf_usdt_readarg(4, ctx, &p);
    bpf_probe_read_user_str(e->msg_type, sizeof(e->msg_type), (void *)p);
    bpf_usdt_readarg(5, ctx, &e->size);
    bpf_usdt_readarg(6, ctx, &p);
    u64 n = e->size < MAX_CAPTURE ? e->size : MAX_CAPTURE;
    /* Keep the compiler from merging the two bounds checks, so the
     * verifier sees n bounded at the read and at the output below. */
    asm volatile("" : "+r"(n));
    if (n > MAX_CAPTURE)
        return 0;
    e->captured = n;
    if (n > 0)
        bpf_probe_read_user(e->data, n, (void *)p);
    u64 len = offsetof(struct msg_event, data) + n;
    asm volatile("" : "+r"(len));
    if (len > sizeof(*e))
        return 0;
    if (messages.ringbuf_output(e, len, 0) != 0) {
        int zero = 0;
        u64 *count = lost.lookup(&zero);
        if (count)
            (*count)++;
    }
    return 0;
}
"""


class Header(ctypes.Structure):
    """The fixed part of struct msg_event (data[] follows)."""
    _fields_ = [("size", ctypes.c_uint64), ("captured", ctypes.c_uint64),
                ("peer_id", ctypes.c_int64), ("inbound", ctypes.c_uint32),
                ("addr", ctypes.c_char * 69), ("conn_type", ctypes.c_char * 21),
                ("msg_type", ctypes.c_char * 21)]


# offsetof(struct msg_event, data): data[] (u8, alignment 1) follows msg_type.
DATA_OFFSET = Header.msg_type.offset + Header.msg_type.size


def parse_args():
    ap = argparse.ArgumentParser(
        description="Print moneyrocketd's P2P messages with their raw payload in hex.",
        epilog="Examples:\n  log_raw_p2p_msgs.py $(pidof moneyrocketd)\n"
               "  log_raw_p2p_msgs.py --max-bytes 256 src/moneyrocketd",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", help="PID of moneyrocketd, or the path of its binary")
    ap.add_argument("--max-bytes", type=int, default=65536,
                    help="payload bytes copied per message (default 65536)")
    ap.add_argument("--json", action="store_true", help="print NDJSON, one object per message")
    ap.add_argument("--buffer-pages", type=int, default=1024,
                    help="ring buffer size in pages, a power of two (default 1024)")
    args = ap.parse_args()
    if not 1 <= args.max_bytes <= MAX_PAYLOAD:
        ap.error(f"--max-bytes must be 1..{MAX_PAYLOAD}")
    if args.buffer_pages < 1 or args.buffer_pages & (args.buffer_pages - 1):
        ap.error("--buffer-pages must be a power of two")
    return args


def hex_lines(data, width=32):
    """Offset + hex in groups of 4 bytes, `width` bytes per line."""
    for off in range(0, len(data), width):
        chunk = data[off:off + width].hex()
        groups = " ".join(chunk[i:i + 8] for i in range(0, len(chunk), 8))
        yield f"  {off:04x}  {groups}"


class Printer:
    """Ring buffer callback: print each message (printing is all it does)."""

    def __init__(self, as_json=False):
        self.as_json = as_json
        self.seen = 0
        self.broken = False   # stdout closed (e.g. piped into head)

    def __call__(self, _ctx, data, size):
        try:
            self._print(data)
        except BrokenPipeError:
            self.broken = True

    def _print(self, data):
        h = Header.from_address(data)
        payload = ctypes.string_at(data + DATA_OFFSET, h.captured)
        self.seen += 1
        if self.as_json:
            self._print_json(h, payload)
            return
        direction, prep = ("recv", "from") if h.inbound else ("send", "to")
        print(f"{direction} '{h.msg_type.decode(errors='replace')}' {prep} peer {h.peer_id} "
              f"({h.conn_type.decode(errors='replace')}, {h.addr.decode(errors='replace')}): "
              f"{h.size} bytes")
        for line in hex_lines(payload):
            print(line)
        if h.captured < h.size:
            print(f"  ... cut short: {h.captured} of {h.size} bytes captured "
                  f"(raise --max-bytes)")
        sys.stdout.flush()


    @staticmethod
    def _print_json(h, payload):
        """--json: one message as an NDJSON line."""
        print(json.dumps({
            "event": "net:inbound_message" if h.inbound else "net:outbound_message",
            "peer_id": h.peer_id, "peer_addr": h.addr.decode(errors="replace"),
            "conn_type": h.conn_type.decode(errors="replace"),
            "msg_type": h.msg_type.decode(errors="replace"), "msg_size": h.size,
            "msg": payload.hex(), "captured": h.captured}), flush=True)


def lost_total(bpf):
    """Messages dropped so far, summed over CPUs."""
    table = bpf["lost"]
    return sum(int(c) for c in table.getvalue(table.Key(0)))


def main():
    args = parse_args()
    require_root(PROG)
    pid, binary = resolve_target(PROG, args.target)

    from bcc import BPF
    usdt = KernelRefUSDT(pid, binary)
    usdt.enable_probe(probe="net:inbound_message", fn_name="on_inbound_message")
    usdt.enable_probe(probe="net:outbound_message", fn_name="on_outbound_message")
    functions = "".join(FUNCTION.replace("FN", fn).replace("INBOUND", inbound)
                        for fn, inbound in (("on_inbound_message", "1"),
                                            ("on_outbound_message", "0")))
    text = (PROGRAM.replace("@FUNCTIONS@", functions)
            .replace("MAX_CAPTURE", str(args.max_bytes))
            .replace("NCPUS", str(os.cpu_count()))
            .replace("BUFFER_PAGES", str(args.buffer_pages)))
    bpf = usdt.load(BPF, text)
    printer = Printer(args.json)
    # With --json, stdout holds JSON only: everything else goes to stderr.
    info = sys.stderr if args.json else sys.stdout
    bpf["messages"].open_ring_buffer(printer)

    print(f"Logging raw P2P messages of pid {pid} ({binary}), up to {args.max_bytes} "
          f"bytes each. Ctrl-C to end.", file=info, flush=True)
    reported_lost = 0
    flag = StopFlag()   # Ctrl-C or SIGTERM: print the summary and exit 0
    while not flag.stop and not printer.broken:
        bpf.ring_buffer_poll(timeout=100)
        lost = lost_total(bpf)
        if lost > reported_lost:
            print(f"WARNING: {lost - reported_lost} messages lost: ring buffer full "
                  f"(run with a larger --buffer-pages than {args.buffer_pages})", file=info,
                  flush=True)
            reported_lost = lost
    if printer.broken:
        # Nobody reads our output any more; silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    else:
        bpf.ring_buffer_consume()
        print(f"{printer.seen} messages logged, {lost_total(bpf)} lost.", file=info, flush=True)
    usdt.close()
    bpf.cleanup()


if __name__ == "__main__":
    # Before anything else, so a signal while BCC compiles ends the script
    # cleanly too (the kernel lowers the semaphores when we exit).
    stop_on_signals()
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
