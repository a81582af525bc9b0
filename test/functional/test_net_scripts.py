"""The net scripts in contrib/tracing/ against a live node.

Each script is run the way contrib/tracing/README.md says, the node is
driven with test peers, and the script's output must show those exact peers
and messages in the README's format. Each script must refuse to run without
root and exit cleanly on Ctrl-C (SIGINT).
"""
import re
import shutil

import pytest

from conftest import ROOT, require, require_bcc, require_root, require_tool
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.tmux import Tmux
from framework.tracers import TracerProcess, bpftrace_errors
from framework.unprivileged import run_as_nobody

TRACING = ROOT / "contrib" / "tracing"
PYTHON = "/usr/bin/python3"


def bpftrace_script(name, node):
    """`bpftrace -p PID script BINARY`, as the README shows."""
    return TracerProcess(["bpftrace", "-p", str(node.pid), str(TRACING / name),
                          str(node.binary)])


def handshaken(node, peer):
    return node.wait_for_peer(lambda p: p["addr"] == peer.local_addr
                              and "verack" in p.get("msgsrecv_per_msg", {}),
                              what=f"{peer.local_addr} handshaken")


def stop_cleanly(tracer):
    code = tracer.stop()
    assert code == 0, f"exit {code} after SIGINT\n" + "\n".join(tracer.stderr())
    return code


# ---- log_p2p_traffic.bt ----------------------------------------------------

def test_log_p2p_traffic(node_factory):  # noqa: F811
    require_root()
    require_tool("bpftrace")
    (node,) = node_factory.start(1)
    bt = bpftrace_script("log_p2p_traffic.bt", node)
    try:
        bt.wait_for_line(r"Ctrl-C to end")
        bt.wait_for_line(r"^DIR\s+MSG TYPE\s+PEER\s+CONN TYPE\s+ADDRESS\s+SIZE$")
        peer = netpeer.connect(node)
        sent_version, got_version = peer.handshake()
        peer.send_msg("ping", netpeer.ping_payload(42))
        peer.wait_for_msg("pong")
        info = handshaken(node, peer)
        pid, addr = info["id"], re.escape(peer.local_addr)
        for direction, msg_type, size in (("recv", "version", len(sent_version)),
                                          ("send", "version", len(got_version)),
                                          ("recv", "verack", 0), ("send", "verack", 0),
                                          ("recv", "ping", 8), ("send", "pong", 8)):
            bt.wait_for_line(rf"^{direction} {msg_type}\s+{pid} inbound\s+{addr}\s+{size}$")
    finally:
        stop_cleanly(bt)
    out = bt.output()
    assert "Totals (messages, payload bytes) by direction:" in out
    recv_lines = [l for l in out if l.startswith("recv ")]
    assert f"@msgs[recv]: {len(recv_lines)}" in out
    assert not bpftrace_errors(bt.stderr()), bt.stderr()


# ---- log_p2p_connections.bt -------------------------------------------------

def test_log_p2p_connections(node_factory):  # noqa: F811
    require_root()
    require_tool("bpftrace")
    (node,) = node_factory.start(1, [["-maxconnections=14"]])  # 3 inbound slots
    bt = bpftrace_script("log_p2p_connections.bt", node)
    listener = netpeer.Listener()
    peers = []
    try:
        bt.wait_for_line(r"Ctrl-C to end")
        # INBOUND, then MISBEHAVING and CLOSED for the same peer.
        bad = netpeer.connect(node)
        bad.handshake()
        info = handshaken(node, bad)
        bt.wait_for_line(rf"^INBOUND     peer={info['id']} addr={re.escape(bad.local_addr)} "
                         rf"conn_type=inbound network=0 inbound_now=1$")
        # An inv over 50,000 entries: misbehaviour (Bitcoin Core's policy).
        bad.send_msg("inv", netpeer.compact_size(50001) + b"\x01\0\0\0" * 9 * 50001)
        bt.wait_for_line(rf'^MISBEHAVING peer={info["id"]} reason="inv message size = 50001"$')
        bt.wait_for_line(rf"^CLOSED      peer={info['id']} addr={re.escape(bad.local_addr)} "
                         rf"conn_type=inbound network=0 established={info['conntime']}$")

        # OUTBOUND: a manual connection to a listening test peer.
        node.addnode(listener.addr, "onetry")
        out = node.wait_for_peer(lambda p: p["addr"] == listener.addr, what="manual peer")
        bt.wait_for_line(rf"^OUTBOUND    peer={out['id']} addr={re.escape(listener.addr)} "
                         rf"conn_type=manual network=0 outbound_now=1$")

        # EVICTED: three inbound slots, all in 127.1.0.0/16, then a fourth peer.
        for i in range(3):
            p = netpeer.connect(node, source_ip=f"127.1.0.{i + 1}", answer_pings=False)
            p.handshake()
            handshaken(node, p)
            peers.append(p)
        before = {p["id"]: p for p in node.getpeerinfo()}
        newcomer = netpeer.connect(node, source_ip="127.3.0.1", answer_pings=False)
        peers.append(newcomer)
        newcomer.handshake()
        line = bt.wait_for_line(r"^EVICTED     ")
        m = re.match(r"^EVICTED     peer=(\d+) addr=(\S+) conn_type=inbound network=0 "
                     r"established=(\d+)$", line)
        assert m, line
        victim = before[int(m.group(1))]
        assert m.group(2) == victim["addr"] and int(m.group(3)) == victim["conntime"]
        bt.wait_for_line(rf"^CLOSED      peer={victim['id']} ")
    finally:
        stop_cleanly(bt)
        listener.close()
        for p in peers:
            p.close()
    assert not bpftrace_errors(bt.stderr()), bt.stderr()


# ---- p2p_monitor.py -----------------------------------------------------------

def test_p2p_monitor(node_factory, tmp_path):  # noqa: F811
    require_bcc()
    require_tool("tmux")
    (node,) = node_factory.start(1)
    log = tmp_path / "monitor.stderr"
    tmux = Tmux(f"mrmon{node.pid}",
                f"{PYTHON} {TRACING / 'p2p_monitor.py'} {node.pid} 2>{log}", tmp_path)
    peers = []
    try:
        tmux.wait_screen(rf"P2P peers of moneyrocketd pid {node.pid}")
        for _ in range(2):
            p = netpeer.connect(node)
            p.handshake()
            p.send_msg("ping", netpeer.ping_payload(5))
            p.wait_for_msg("pong")
            peers.append(p)
        infos = [handshaken(node, p) for p in peers]
        # A row per peer: id, conn type, address, then counts of messages
        # (version, verack, ping in; version, verack, pong out at least).
        # The screen refreshes on its own clock, so a row can first appear
        # with only some of the messages counted: wait for the full counts.
        for info in infos:
            row = re.compile(rf"^\s*{info['id']} inbound\s+{re.escape(info['addr'])}\s+"
                             rf"(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", re.M)

            def counted(row=row):
                m = row.search(tmux.screen())
                if m and int(m.group(1)) >= 3 and int(m.group(3)) >= 3:
                    return m
                return None
            m = wait_until(counted, 60, what=f"peer {info['id']} row with 3+ messages each way")
            msgs_in, bytes_in, msgs_out, bytes_out = map(int, m.groups())
            assert bytes_in >= len(peers[0].sent_version) and bytes_out > 0
        # Move to the second row and open it.
        tmux.keys("j")
        tmux.keys("Enter")
        tmux.wait_screen(rf"^Peer {infos[1]['id']} {re.escape(infos[1]['addr'])} \(inbound")
        screen = tmux.screen()
        assert re.search(r"recv version\s+\d+", screen), screen
        assert re.search(r"send version\s+\d+", screen), screen
        assert re.search(r"recv ping\s+8$", screen, re.M), screen
        assert re.search(r"send pong\s+8$", screen, re.M), screen
        # Up with k on the table after going back, then the first peer's view.
        tmux.keys("q")
        tmux.wait_screen(r"P2P peers of moneyrocketd")
        tmux.keys("k")
        tmux.keys("Enter")
        tmux.wait_screen(rf"^Peer {infos[0]['id']} ")
        tmux.keys("q")
        tmux.wait_screen(r"P2P peers of moneyrocketd")
        tmux.keys("q")
        status = wait_until(tmux.exit_status, 30, what="monitor exits on q")
        assert status == "0", (status, log.read_text())
    finally:
        tmux.kill()
        for p in peers:
            p.close()


def test_p2p_monitor_ctrl_c(node_factory, tmp_path):  # noqa: F811
    require_bcc()
    require_tool("tmux")
    (node,) = node_factory.start(1)
    tmux = Tmux(f"mrmonc{node.pid}", f"{PYTHON} {TRACING / 'p2p_monitor.py'} {node.pid}",
                tmp_path)
    try:
        tmux.wait_screen(r"P2P peers of moneyrocketd")
        tmux.keys("C-c")
        status = wait_until(tmux.exit_status, 30, what="monitor exits on Ctrl-C")
        assert status == "0", status
    finally:
        tmux.kill()


# ---- log_raw_p2p_msgs.py ------------------------------------------------------

def raw_script(node, *args):
    return TracerProcess([PYTHON, str(TRACING / "log_raw_p2p_msgs.py")] + list(args)
                         + [str(node.pid)])


def hex_after(lines, header):
    """Payload bytes printed under the header line `header`."""
    i = lines.index(header)
    data = b""
    for line in lines[i + 1:]:
        m = re.match(r"^  ([0-9a-f]{4})  ([0-9a-f ]+)$", line)
        if not m:
            break
        assert int(m.group(1), 16) == len(data)
        data += bytes.fromhex(m.group(2).replace(" ", ""))
    return data


def test_log_raw_p2p_msgs(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    script = raw_script(node)
    try:
        script.wait_for_line(r"Ctrl-C to end")
        peer = netpeer.connect(node)
        sent, got = peer.handshake()
        info = handshaken(node, peer)
        recv_header = (f"recv 'version' from peer {info['id']} (inbound, {peer.local_addr}): "
                       f"{len(sent)} bytes")
        send_header = (f"send 'version' to peer {info['id']} (inbound, {peer.local_addr}): "
                       f"{len(got)} bytes")
        script.wait_for_line("^" + re.escape(send_header) + "$")
        script.wait_for_line("^" + re.escape(recv_header) + "$")
        script.wait_for_line(r"^send 'verack' to peer ")
        wait_until(lambda: hex_after(script.output(), recv_header) == sent,
                   what="version payload printed in full")
        assert hex_after(script.output(), send_header) == got
    finally:
        stop_cleanly(script)
    assert re.match(r"^\d+ messages logged, 0 lost\.$", script.output()[-1])


def test_log_raw_p2p_msgs_cut_short(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    script = raw_script(node, "--max-bytes", "16")
    try:
        script.wait_for_line(r"Ctrl-C to end")
        peer = netpeer.connect(node)
        sent, _ = peer.handshake()
        script.wait_for_line(rf"^  \.\.\. cut short: 16 of {len(sent)} bytes captured")
        header = next(l for l in script.output() if l.startswith("recv 'version'"))
        assert hex_after(script.output(), header) == sent[:16]
    finally:
        stop_cleanly(script)


def test_log_raw_p2p_msgs_reports_lost(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    # One page of ring buffer cannot hold an 8000-byte message.
    script = raw_script(node, "--buffer-pages", "1")
    try:
        script.wait_for_line(r"Ctrl-C to end")
        peer = netpeer.connect(node)
        peer.handshake()
        peer.send_msg("bigjunk", b"\x00" * 8000)   # unknown type: ignored by the node
        peer.send_msg("ping", netpeer.ping_payload(9))
        peer.wait_for_msg("pong")
        script.wait_for_line(r"^WARNING: 1 messages lost: ring buffer full")
        script.wait_for_line(r"^send 'pong' to peer ")
    finally:
        stop_cleanly(script)
    assert re.match(r"^\d+ messages logged, 1 lost\.$", script.output()[-1])


# ---- refusing to run without root -----------------------------------------------

@pytest.mark.parametrize("cmd,needle", [
    (["bpftrace", TRACING / "log_p2p_traffic.bt", "/bin/true"], "root"),
    (["bpftrace", TRACING / "log_p2p_connections.bt", "/bin/true"], "root"),
    ([PYTHON, TRACING / "p2p_monitor.py", "1"], "must be run as root"),
    ([PYTHON, TRACING / "log_raw_p2p_msgs.py", "1"], "must be run as root"),
], ids=["log_p2p_traffic", "log_p2p_connections", "p2p_monitor", "log_raw_p2p_msgs"])
def test_scripts_refuse_without_root(cmd, needle):
    require_root()   # to switch to an unprivileged user
    require(shutil.which("setpriv") is not None, "setpriv (util-linux) missing")
    if cmd[0] == "bpftrace":
        require_tool("bpftrace")
    # The script is run from a readable copy: the checkout may sit in a
    # directory nobody else can enter (framework/unprivileged.py).
    proc = run_as_nobody(cmd, cmd[1])
    assert proc.returncode != 0
    assert needle in proc.stderr, proc.stderr


def test_scripts_have_usage_headers():
    for name in ("log_p2p_traffic.bt", "log_p2p_connections.bt", "p2p_monitor.py",
                 "log_raw_p2p_msgs.py"):
        head = (TRACING / name).read_text()[:3000]
        for word in ("USAGE", "Arguments", "Requirements", "Examples"):
            assert word in head, (name, word)
    assert (TRACING / "p2p_monitor.py").read_text().startswith("#!/usr/bin/python3\n")


# ---- Ctrl-C while a BCC script is still compiling and attaching --------------------

# The monitors are left out: they want a terminal before they load bcc, and
# their tmux tests cover Ctrl-C.
@pytest.mark.parametrize("name", ["log_raw_p2p_msgs.py", "log_utxocache_flush.py",
                                  "log_coin_selection.py"])
def test_bcc_script_ctrl_c_before_attach(node_factory, name):  # noqa: F811
    """Ctrl-C during BCC's compile: exit 130, no traceback."""
    require_bcc()
    (node,) = node_factory.start(1)
    script = TracerProcess([PYTHON, TRACING / name, node.pid])
    try:
        # `bcc` imported means main() is running and BCC is about to compile,
        # which takes seconds: the signal lands before the tracing loop.
        wait_until(lambda: any("bcc" in m for m in open(f"/proc/{script.proc.pid}/maps")),
                   30, what=f"{name} loading bcc")
        code = script.stop()
    finally:
        script.kill()
    assert not any("Ctrl-C to" in l for l in script.output()), "attached before the signal"
    assert code == 130, (code, script.stderr())
    assert not any("Traceback" in l for l in script.stderr()), script.stderr()
