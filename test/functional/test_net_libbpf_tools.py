"""contrib/tracing/libbpf/p2pstat against a live node.

p2pstat counts messages and payload bytes per peer, direction and message
type in a BPF hash map. Every row it prints must equal what getpeerinfo
reports for the messages exchanged while it ran; with -i it resets the counts
after each report, and -m keeps one message type only.
"""
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, require, require_built, require_root
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.tracers import TracerProcess
from framework.unprivileged import run_as_nobody

P2PSTAT = BUILD / "contrib" / "tracing" / "libbpf" / "p2pstat"
ROW = re.compile(r"^\s*(\d+) (\S+)\s+(\S+)\s+(in|out)\s+(\S+)\s+(\d+)\s+(\d+)$")
HEADER = re.compile(r"^\s+PEER CONN TYPE\s+ADDRESS\s+DIR MSG TYPE\s+MSGS\s+BYTES$")


def rows(lines):
    """{(peer, dir, msgtype): (msgs, bytes, conn type, addr)} summed over every report."""
    out = {}
    for line in lines:
        m = ROW.match(line)
        if m:
            peer, conn, addr, direction, msgtype, msgs, nbytes = m.groups()
            key = (int(peer), direction, msgtype)
            old = out.get(key, (0, 0, conn, addr))
            out[key] = (old[0] + int(msgs), old[1] + int(nbytes), conn, addr)
    return out


def node_counts(info):
    """getpeerinfo's per-message counts of one peer, keyed like rows(), in payload
    bytes: getpeerinfo counts each message's 24-byte header too, p2pstat does not."""
    out = {}
    for direction, side in (("in", "recv"), ("out", "sent")):
        for msgtype, msgs in info[f"msgs{side}_per_msg"].items():
            wire = info[f"bytes{side}_per_msg"][msgtype]
            out[(info["id"], direction, msgtype)] = (msgs, wire - 24 * msgs)
    return out


def start(node, *args):
    require_root()
    require_built(P2PSTAT)
    tool = TracerProcess([P2PSTAT, *args, str(node.pid)])
    tool.wait_for_line(r"^Tracing P2P messages of pid \d+ .*Hit Ctrl-C to end\.$")
    return tool


def handshaken(node, peer):
    return node.wait_for_peer(lambda p: p["addr"] == peer.local_addr
                              and "verack" in p.get("msgsrecv_per_msg", {}),
                              what=f"{peer.local_addr} handshaken")


def test_p2pstat_rows_equal_getpeerinfo(node_factory):  # noqa: F811
    (node,) = node_factory.start(1)
    tool = start(node)
    peers = [netpeer.connect(node) for _ in range(2)]
    try:
        for n, peer in enumerate(peers):
            peer.handshake()
            for nonce in range(n + 2):
                peer.send_msg("ping", netpeer.ping_payload(nonce))
                peer.wait_for_msg("pong", lambda p, nonce=nonce: p == netpeer.ping_payload(nonce))
            peer.send_msg("getaddr")
            peer.send_msg("sendheaders")
            handshaken(node, peer)
        # The peers' last messages counted: everything else came before.
        addrs = {peer.local_addr for peer in peers}

        def last_counted():
            infos = [p for p in node.getpeerinfo() if p["addr"] in addrs]
            if len(infos) == 2 and all("sendheaders" in p["msgsrecv_per_msg"] for p in infos):
                return infos
            return None
        before = {p["id"]: p for p in wait_until(last_counted, 30, what="last messages counted")}
        assert tool.stop() == 0, tool.stderr()
        after = {p["id"]: p for p in node.getpeerinfo()}
    finally:
        for peer in peers:
            peer.close()
        tool.kill()
    out = tool.output()
    assert any(HEADER.match(l) for l in out), out
    got = rows(out)
    for pid, info in before.items():
        expected = node_counts(info)
        latest = node_counts(after[pid])
        mine = {k: v for k, v in got.items() if k[0] == pid}
        assert set(mine) == set(latest), (sorted(mine), sorted(latest))
        for key, (msgs, nbytes, conn, addr) in mine.items():
            assert (conn, addr) == ("inbound", info["addr"]), key
            # Exact unless the node sent something between the two getpeerinfo calls.
            lo, hi = expected.get(key, (0, 0)), latest[key]
            assert lo[0] <= msgs <= hi[0] and lo[1] <= nbytes <= hi[1], (key, lo, msgs, nbytes, hi)
        pings = 2 + [peer.local_addr for peer in peers].index(info["addr"])
        assert mine[(pid, "in", "ping")][:2] == (pings, 8 * pings)
        assert mine[(pid, "in", "version")][1] == len(netpeer.version_payload())
    total = re.match(r"^total: (\d+) messages, (\d+) bytes$", out[-1])
    assert total, out[-1]
    assert int(total.group(1)) == sum(v[0] for v in got.values())
    assert int(total.group(2)) == sum(v[1] for v in got.values())


def test_p2pstat_interval_filter_and_reset(node_factory):  # noqa: F811
    (node,) = node_factory.start(1)
    tool = start(node, "-m", "ping", "-i", "1")
    peer = netpeer.connect(node)
    try:
        peer.handshake()
        info = handshaken(node, peer)
        for nonce in range(3):
            peer.send_msg("ping", netpeer.ping_payload(nonce))
            peer.wait_for_msg("pong", lambda p, nonce=nonce: p == netpeer.ping_payload(nonce))
        wait_until(lambda: rows(tool.output()).get((info["id"], "in", "ping"), (0,))[0] >= 3,
                   30, what="three pings reported")
        # Two more reports after the last ping: reset counts add nothing.
        reports = len(tool.find(r"^total: "))
        wait_until(lambda: len(tool.find(r"^total: ")) >= reports + 2, 30, what="two more reports")
        assert tool.stop() == 0, tool.stderr()
        node_pings = node.peer(lambda p: p["id"] == info["id"])["msgssent_per_msg"]["ping"]
    finally:
        peer.close()
        tool.kill()
    got = rows(tool.output())
    # Only pings: ours, and the node's own (one after the handshake).
    assert got == {(info["id"], "in", "ping"): (3, 24, "inbound", info["addr"]),
                   (info["id"], "out", "ping"): (node_pings, 8 * node_pings, "inbound",
                                                 info["addr"])}, got
    assert len(tool.find(r"^\d\d:\d\d:\d\d$")) == len(tool.find(r"^total: "))


def test_p2pstat_count_ends_it(node_factory):  # noqa: F811
    (node,) = node_factory.start(1)
    tool = start(node, "-i", "1", "-c", "2")
    code = tool.proc.wait(timeout=60)
    assert code == 0, tool.stderr()
    tool.stop()
    assert len(tool.find(r"^total: 0 messages, 0 bytes$")) == 2, tool.output()


@pytest.mark.parametrize("args,needle", [
    ([], "TARGET (a PID or the moneyrocketd binary) is required"),
    (["2147483647"], "no process 2147483647"),
    (["/nonexistent/moneyrocketd"], "cannot read /nonexistent/moneyrocketd"),
    (["-i", "0", "1"], "invalid interval: 0"),
    (["-c", "3", "1"], "-c needs -i"),
    (["-m", "a-very-long-message-type", "1"], "invalid message type"),
], ids=["no-target", "no-process", "no-binary", "zero-interval", "count-without-interval",
        "long-msgtype"])
def test_p2pstat_bad_arguments(args, needle):
    require_built(P2PSTAT)
    proc = subprocess.run([str(P2PSTAT), *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert needle in proc.stderr, proc.stderr


def test_p2pstat_refuses_without_root():
    require_root()   # to switch to an unprivileged user
    require_built(P2PSTAT)
    require(shutil.which("setpriv") is not None, "setpriv (util-linux) missing")
    # From a readable copy: the checkout may be in a 0700 directory.
    proc = run_as_nobody([P2PSTAT, "1"], P2PSTAT, timeout_s=30)
    assert proc.returncode == 1
    assert "must be run as root" in proc.stderr, proc.stderr
