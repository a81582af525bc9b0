"""The tracepoint stream as a service: who may connect, what it sends, and
what a hostile or slow client can do to the node (nothing beyond the
documented bound).

The node and the clients run as `nobody` when the tests run as root
(framework/stream.py); the tests that switch between users need root.
"""
import hashlib
import os
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import ROOT, require
from framework import netpeer
from framework.node import wait_until
from framework.stream import (OTHER_USER, UNPRIVILEGED, StreamTracer, client_cmd,
                              parse_event, programs, trace_socket,  # noqa: F401
                              unprivileged_nodes)
from framework.unprivileged import as_user, user_ids
from framework.tracers import TracerProcess

TRACE_EVENTS = ROOT / "src" / "trace-events"


@pytest.fixture
def nodes(request, programs):  # noqa: F811
    with unprivileged_nodes(request, programs, "mr_stream_svc_") as ns:
        yield ns


def run_client(programs, node, *args, user=UNPRIVILEGED, client="c", timeout_s=60):
    return subprocess.run(client_cmd(programs, node, list(args), client, user=user),
                          capture_output=True, text=True, timeout=timeout_s)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def rpc_answers_within(node, seconds):
    start = time.monotonic()
    node.getblockcount()
    return time.monotonic() - start < seconds


def test_socket_is_the_nodes_users_only(nodes, programs):
    (node,) = nodes.start(1)
    path = trace_socket(node)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    if os.geteuid() == 0:
        assert st.st_uid == user_ids(UNPRIVILEGED)[0]
    node.wait_for_log(f"tracestream: serving 20 tracepoints on {path}")


def test_list_prints_the_schema_of_src_trace_events(nodes, programs):
    (node,) = nodes.start(1)
    out = run_client(programs, node, "--list")
    assert out.returncode == 0, out.stderr
    listed = re.findall(r"^(\w+:\w+)  ", out.stdout, re.M)
    with open(TRACE_EVENTS) as f:
        declared = re.findall(r"^(\w+:\w+)", f.read(), re.M)
    assert listed == declared and len(listed) == 20
    assert "    bytes[@4]    msg (length: msg_size)" in out.stdout
    assert "    string[68]   peer_addr" in out.stdout
    # The Python module reads the same schema.
    py = subprocess.run(as_user(UNPRIVILEGED) + [
        "/usr/bin/python3", "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import moneyrocket_trace as m;"
        "s = m.TraceStream(path=sys.argv[2]).schema;"
        "print(len(s), s['mempool:replaced'].fields)",
        str(programs.dir), str(trace_socket(node))], capture_output=True, text=True, timeout=30)
    assert py.returncode == 0, py.stderr
    assert py.stdout.startswith("20 [bytes[32] replaced_txid, int32 replaced_vsize"), py.stdout


def test_another_users_client_is_refused(nodes, programs):
    require(os.geteuid() == 0, "switching users needs root")
    (node,) = nodes.start(1)
    other = run_client(programs, node, "--list", user=OTHER_USER)
    assert other.returncode == 1
    assert "Permission denied" in other.stderr, other.stderr
    # root may open any file, so the node also checks the peer's uid.
    mine = subprocess.run([str(programs.trace), f"-tracesocket={trace_socket(node)}", "--list"],
                          capture_output=True, text=True, timeout=30)
    assert mine.returncode == 1
    assert "refused by the node: connection from another user" in mine.stderr, mine.stderr
    node.wait_for_log("tracestream: refused 1 client(s): connection from another user")


def test_tracesocket_options(nodes, programs, tmp_path):
    off, elsewhere = nodes.start(2, [["-notracesocket"], ["-tracesocket=0"]])
    for node in (off, elsewhere):
        assert not trace_socket(node).exists()
    custom = nodes.add([f"-tracesocket={nodes.basedir}/custom.sock"])
    custom.wait_for_rpc()
    out = subprocess.run(as_user(UNPRIVILEGED) + [str(programs.trace),
                                                  f"-tracesocket={nodes.basedir}/custom.sock",
                                                  "--list"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "validation:block_connected" in out.stdout
    bad = nodes.add([f"-tracesocket={nodes.basedir}/no/such/dir/t.sock"], start=False)
    bad.start(wait=False)
    assert bad.process.wait(timeout=30) == 1
    assert "-tracesocket:" in bad.stderr_text() and "No such file or directory" in \
        bad.stderr_text()


def test_four_megabyte_message_arrives_intact(nodes, programs):
    (node,) = nodes.start(1)
    tracer = StreamTracer(programs, node, ["net:inbound_message"], net_style=True)
    peer = netpeer.connect(node)
    peer.handshake()
    payload = bytes((i * 2654435761 >> 13) & 0xFF for i in range(4_000_000))
    peer.send_msg("bigjunk", payload)
    (e,) = tracer.wait_for("inbound_message", msg_type="bigjunk", timeout_s=60)
    assert e["size"] == 4_000_000
    assert hashlib.sha256(e["data"]).digest() == hashlib.sha256(payload).digest()
    code, err = tracer.close()
    assert code == 0, err
    assert tracer.lost == 0


def test_a_stopped_reader_loses_exactly_counted_events(nodes, programs):
    """A client that stops reading (SIGSTOP) loses what its ring cannot
    hold; the loss arrives in-band and received + lost is every event."""
    (node,) = nodes.start(1)
    addr = _burn_address(node)
    tracer = TracerProcess(client_cmd(programs, node, ["validation:block_connected"],
                                      extra=["--ring", "65536"]))
    wait_until(lambda: any("subscribed" in l for l in tracer.stderr()), 30)
    os.kill(tracer.proc.pid, signal.SIGSTOP)
    try:
        n = 1500
        node.generatetoaddress(n, addr)
    finally:
        os.kill(tracer.proc.pid, signal.SIGCONT)

    # The loss is delivered in-band with the next event that fits: mine one
    # more block once the reader has caught up.
    wait_until(lambda: len(tracer.output()) >= 744, 60, what="the ring drained")
    node.generatetoaddress(1, addr)
    n += 1

    def settled():
        evs = [parse_event(l) for l in tracer.output()]
        got = [e for e in evs if e["stream_event"] == "validation:block_connected"]
        lost = sum(e["lost"] for e in evs if e["stream_event"] == "tracestream:lost")
        return (evs, got, lost) if got and got[-1]["height"] == n else None
    evs, got, lost = wait_until(settled, 60, what="every block accounted for")
    assert lost > 0 and len(got) + lost == n, (len(got), lost)
    seqs = [e["seq"] for e in evs]
    assert seqs == sorted(seqs) and seqs[-1] == n
    heights = [e["height"] for e in got]
    assert heights == sorted(heights)
    assert tracer.stop() == 0
    summary = tracer.stderr()[-1]
    assert summary == f"moneyrocket-trace: {len(got)} events received, {lost} lost", summary
    node.wait_for_log(f"events written, {lost} lost)")


def _burn_address(node):
    node.createwallet("burn")
    return node.wallet_rpc("burn").getnewaddress()


def test_hostile_clients_never_stall_the_node(nodes, programs):
    """Garbage, a thousand connections, subscribe-and-vanish, a reader that
    never reads and a client killed mid-stream: the node keeps answering,
    refuses what it must, says so in its log, and keeps serving others."""
    (node,) = nodes.start(1)
    path = str(trace_socket(node))
    rss_before = rss_kib(node.pid)
    good = StreamTracer(programs, node, ["validation:block_connected"])

    def raw(user_data=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        if user_data:
            s.sendall(user_data)
        return s
    # The node's user is nobody: the raw clients below connect as nobody too.
    if os.geteuid() == 0:
        pid = os.fork()
        if pid == 0:  # the child: misbehave as nobody, then exit
            code = 0
            try:
                uid, gid = user_ids(UNPRIVILEGED)
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                _misbehave(raw)
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            os._exit(code)
        assert os.waitpid(pid, 0)[1] == 0
    else:
        _misbehave(raw)
    assert rpc_answers_within(node, 5)
    node.wait_for_log("dropped: unknown command")
    node.wait_for_log("refused")
    # A client that subscribes and is killed while events flow.
    victim = TracerProcess(client_cmd(programs, node, ["*"]))
    wait_until(lambda: any("subscribed" in l for l in victim.stderr()), 30)
    addr = _burn_address(node)
    node.generatetoaddress(50, addr)
    victim.kill()
    node.generatetoaddress(50, addr)
    good.wait_for("validation:block_connected", count=100)
    assert [e["height"] for e in good.select("validation:block_connected")] == \
        list(range(1, 101))
    code, err = good.close()
    assert code == 0 and good.lost == 0, err
    wait_until(lambda: "tracestream: client" in node.debug_log_text(), 10)
    assert rpc_answers_within(node, 5)
    # Rings live in shared memory the node maps: its RSS stays far from
    # 1000 clients' worth of anything.
    assert rss_kib(node.pid) < rss_before + 64 * 1024


def _misbehave(raw):
    held = []
    s = raw(b"\x00\xffgarbage\n")
    s.settimeout(10)
    assert b"error unknown command" in _read_all(s)
    s = raw(b"x" * 512)  # a line that never ends (512: the longest allowed)
    s.settimeout(10)
    assert b"error line too long" in _read_all(s)
    # Subscribe and never read: the ring fills, the node does not care.
    for _ in range(4):
        held.append(raw(b"subscribe *\n"))
    # A thousand connections: at most 16 clients, the rest refused.
    refused = 0
    for _ in range(1000):
        try:
            c = raw()
        except OSError:
            refused += 1
            continue
        c.settimeout(10)
        head = c.recv(64)
        if head.startswith(b"error too many clients"):
            refused += 1
            c.close()
        else:
            held.append(c)
        if len(held) > 40:
            break
    assert refused > 0
    for c in held:
        c.close()


def _read_all(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data
        if not chunk:
            return data
        data += chunk
