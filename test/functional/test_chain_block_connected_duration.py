"""validation:block_connected's duration is the time to connect the block
(doc/tracing.md): not reading it from the store before, nor telling the
mempool, wallets and peers after.

bpftrace timestamps three points per block mined: the entry of
chainstate_read_block (connect_tip reads the block first), the tracepoint,
and announce_block_cb (the P2P layer's chain listener, called with the
other listeners). The tracepoint must fire before the listeners run, and
its duration must be shorter than the time since the read began; both fail
when the duration also covers the read and the notifications.
"""
import re

from conftest import require_root, require_tool
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.tracers import TracerProcess, bpftrace_errors

BLOCKS = 20

PROGRAM = """
uprobe:{bin}:chainstate_read_block {{ printf("R %llu\\n", nsecs); }}
usdt:{bin}:validation:block_connected {{ printf("C %d %llu %llu\\n", arg1, arg5, nsecs); }}
uprobe:{bin}:announce_block_cb {{ printf("N %llu\\n", nsecs); }}
"""


def test_duration_is_connecting_only(node_factory):  # noqa: F811
    require_root()
    require_tool("bpftrace")
    (node,) = node_factory.start(1)
    bt = TracerProcess(["bpftrace", "-p", str(node.pid), "-e",
                        PROGRAM.format(bin=node.binary)])
    try:
        bt.wait_for_line(r"^Attaching 3 probes", timeout_s=60)
        addr = node.getnewkeypair()["address"]
        # bpftrace says "Attaching" before its probes are live: mine one
        # block at a time until one is seen, then the measured ones.
        wait_until(lambda: node.generatetoaddress(1, addr) and bt.find(r"^C \d+ "), 60,
                   interval=0.2, what="bpftrace's probes live")
        start = node.getblockcount()
        node.generatetoaddress(BLOCKS, addr)
        bt.wait_for_line(rf"^C {start + BLOCKS} ", timeout_s=60)

        def last_announced():
            out = bt.output()
            last = next(i for i, l in enumerate(out) if l.startswith(f"C {start + BLOCKS} "))
            return any(l.startswith("N ") for l in out[last:])
        wait_until(last_announced, 30, what="the last block's announcement")
    finally:
        bt.stop()
    assert not bpftrace_errors(bt.stderr()), bt.stderr()
    events = [l.split() for l in bt.output() if re.match(r"^[RCN] \d", l)]
    connected = [k for k, e in enumerate(events) if e[0] == "C" and int(e[1]) > start]
    assert [int(events[k][1]) for k in connected] == list(range(start + 1, start + BLOCKS + 1))
    for k in connected:
        _, height, micros, at = events[k]
        reads = [int(e[1]) for e in events[:k] if e[0] == "R"]
        assert reads, f"no read of block {height} seen before it was connected"
        since_read_ns = int(at) - reads[-1]
        assert int(micros) * 1000 < since_read_ns, (height, micros, since_read_ns)
        # The listeners run after the tracepoint, not inside the duration.
        assert events[k + 1][0] == "N", (height, events[k - 2:k + 2])
