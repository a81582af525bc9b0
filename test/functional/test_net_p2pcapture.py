"""contrib/tracing/libbpf/p2pcapture against a live node.

p2pcapture writes what the node's own -logmessages writes (the same
records in the same order, times aside), so message-logging-parser.py reads
it; 4,000,000-byte messages arrive byte for byte; and when the ring buffer
is full, every lost message is counted, in-band on stderr and in the
summary, so captured + lost equals what the node handled.
"""
import json
import os
import re
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUILD, ROOT, require_built, require_root
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import connect_nodes, wait_until
from framework.tracers import TracerProcess

P2PCAPTURE = BUILD / "contrib" / "tracing" / "libbpf" / "p2pcapture"
PARSER = ROOT / "contrib" / "message-logging" / "message-logging-parser.py"
RECORD = struct.Struct("<Q12sI")
SUMMARY = re.compile(r"^captured (\d+) messages \((\d+) payload bytes\) from (\d+) peers; "
                     r"lost (\d+) messages \((\d+) bytes\)")
LOST_LINE = re.compile(r"^p2pcapture: lost (\d+) messages ")
BIG = 4_000_000


def records(path):
    """[(time µs, msgtype, payload)] of one message-log file."""
    data, out, off = Path(path).read_bytes(), [], 0
    while off < len(data):
        t, mtype, n = RECORD.unpack_from(data, off)
        off += RECORD.size
        out.append((t, mtype.rstrip(b"\0").decode(), data[off:off + n]))
        off += n
    assert off == len(data), f"{path}: cut record at the end"
    return out


def log_files(root):
    """{(peer dir, file name): records} under a message_logging-style tree."""
    return {(p.parent.name, p.name): records(p) for p in Path(root).glob("*/msgs_*.dat")}


def start(node, outdir, *args):
    require_root()
    require_built(P2PCAPTURE)
    tool = TracerProcess([P2PCAPTURE, "-o", outdir, *args, str(node.pid)])
    started = r"^Capturing P2P messages of pid \d+ .*Hit Ctrl-C to end\.$"
    if "--json" in args:   # the start line goes to stderr
        wait_until(lambda: any(re.match(started, l) for l in tool.stderr()), 60,
                   what="p2pcapture started")
    else:
        tool.wait_for_line(started)
    return tool


def summary(tool):
    """[captured, bytes, peers, lost, lost bytes], from the text or the JSON summary."""
    last = tool.output()[-1]
    if last.startswith("{"):
        s = json.loads(last)
        assert s["event"] == "p2pcapture:summary", s
        return [s["messages"], s["bytes"], s["peers"], s["lost"], s["lost_bytes"]]
    m = SUMMARY.match(last)
    assert m, tool.output()
    return [int(x) for x in m.groups()]


def send_big(peer, payloads):
    for p in payloads:
        peer.send_msg("blob", p)
    # The node answers in order: once this pong is back, the blobs were handled.
    peer.send_msg("ping", netpeer.ping_payload(77))
    peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(77), timeout_s=120)


def test_capture_equals_node_message_log(node_factory, tmp_path):  # noqa: F811
    node, other = node_factory.start(2)
    tool = start(node, tmp_path / "cap")
    blobs = [os.urandom(BIG) for _ in range(3)]
    peer = None
    try:
        connect_nodes(node, other)
        node.createwallet("w")
        node.generatetoaddress(3, node.wallet_rpc("w").getnewaddress())
        wait_until(lambda: other.getblockcount() == 3, 60, what="blocks relayed")
        peer = netpeer.connect(node)
        peer.handshake()
        send_big(peer, blobs)
        assert tool.stop() == 0, tool.stderr()
    finally:
        if peer:
            peer.close()
        tool.kill()
    captured, nbytes, peers, lost, lost_bytes = summary(tool)
    assert (lost, lost_bytes, peers) == (0, 0, 2)
    assert tool.stderr() == []
    cap = log_files(tmp_path / "cap")
    mine = log_files(node.datadir / "message_logging")
    assert set(cap) == set(mine) and len(cap) == 4, (sorted(cap), sorted(mine))
    assert sum(len(r) for r in cap.values()) == captured
    assert sum(len(p) for r in cap.values() for _, _, p in r) == nbytes
    for key, recs in cap.items():
        # The node may have logged more after the capture stopped.
        node_recs = mine[key][:len(recs)]
        assert [(t, p) for _, t, p in recs] == [(t, p) for _, t, p in node_recs], key
        for (tc, _, _), (tn, _, _) in zip(recs, node_recs):
            assert abs(tc - tn) < 2_000_000, (key, tc, tn)
    got = [p for _, t, p in cap[(peer.local_addr.replace(":", "_"), "msgs_recv.dat")]
           if t == "blob"]
    assert got == blobs
    # The parser reads the capture as it reads the node's log.
    proc = subprocess.run([sys.executable, str(PARSER), str(tmp_path / "cap"), "-o",
                           str(tmp_path / "cap.json")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    parsed = (tmp_path / "cap.json").read_text()
    assert parsed.count('"msgtype": "blob"') == 3 and parsed.count('"msgtype": "block"') >= 3


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_capture_counts_every_loss(node_factory, tmp_path, as_json):  # noqa: F811
    (node,) = node_factory.start(1)
    # An 8 MiB ring holds two 4,000,000-byte messages; the reader is stopped
    # while six arrive, so at least four are lost.
    tool = start(node, tmp_path / "cap", "-b", "8", *(["--json"] if as_json else []))
    peer = netpeer.connect(node)
    try:
        peer.handshake()
        netpeer_addr = peer.local_addr.replace(":", "_")
        tool.proc.send_signal(signal.SIGSTOP)
        try:
            send_big(peer, [bytes([i]) * BIG for i in range(6)])
        finally:
            tool.proc.send_signal(signal.SIGCONT)
        before = log_files(node.datadir / "message_logging")
        assert tool.stop() == 0, tool.stderr()
        after = log_files(node.datadir / "message_logging")
    finally:
        peer.close()
        tool.kill()
    captured, _, _, lost, lost_bytes = summary(tool)
    handled_lo = sum(len(r) for r in before.values())
    handled_hi = sum(len(r) for r in after.values())
    assert lost >= 4 and lost_bytes >= 4 * BIG, (lost, lost_bytes)
    assert handled_lo <= captured + lost <= handled_hi, (captured, lost, handled_lo, handled_hi)
    # In-band: the lines on stderr (objects on stdout with --json) add up to
    # the summary's count.
    if as_json:
        gaps = [json.loads(l) for l in tool.output()[:-1]]
        assert gaps and all(g["event"] == "p2pcapture:lost" for g in gaps), gaps
        assert sum(g["messages"] for g in gaps) == lost == gaps[-1]["lost_total"]
    else:
        assert sum(int(LOST_LINE.match(l).group(1)) for l in tool.stderr()) == lost, \
            tool.stderr()
    cap = log_files(tmp_path / "cap")
    assert sum(len(r) for r in cap.values()) == captured
    blobs = [p for _, t, p in cap[(netpeer_addr, "msgs_recv.dat")] if t == "blob"]
    assert 1 <= len(blobs) <= 2 and all(p == p[:1] * BIG for p in blobs)


@pytest.mark.parametrize("args,needle", [
    (["-b", "3", "1"], "invalid buffer size: 3"),
    (["-b", "4", "1"], "a 4 MiB buffer cannot hold a 4000000-byte message"),
    (["-m", "0", "1"], "invalid max bytes: 0"),
    (["/nonexistent/moneyrocketd"], "cannot read /nonexistent/moneyrocketd"),
    (["2147483647"], "no process 2147483647"),
], ids=["buffer-not-power-of-two", "buffer-too-small", "zero-max-bytes",
        "no-binary", "no-process"])
def test_capture_bad_arguments(args, needle, tmp_path):
    require_root()
    require_built(P2PCAPTURE)
    proc = subprocess.run([str(P2PCAPTURE), "-o", str(tmp_path / "c"), *args],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert needle in proc.stderr, proc.stderr
