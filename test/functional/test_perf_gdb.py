"""perf and gdb on moneyrocketd's tracepoints, as doc/tracing.md shows them.

perf: `perf buildid-cache --add` the binary, `perf probe sdt_net:inbound_message`
(a uprobe with the semaphore's reference counter), `perf record -e ... -a`
while a test peer sends a ping, `perf script` shows the event with the peer
id and the size; `perf probe -d` removes it and uprobe_events holds nothing
of the node again.

gdb: `break -probe-stap net:inbound_message` on the running node, and
`$_probe_argN` read the same message's arguments.
"""
import os
import re
import select
import signal

from conftest import require_root, require_tool, run
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.semaphores import read_semaphores, uprobe_events_of
from framework.tracers import TracerProcess


def ping(node):
    peer = netpeer.connect(node)
    peer.handshake()
    peer.send_msg("ping", netpeer.ping_payload(99))
    peer.wait_for_msg("pong")
    info = node.wait_for_peer(lambda p: p["addr"] == peer.local_addr, what="test peer")
    return peer, info["id"]


def test_perf_probe_and_record(node_factory, tmp_path):  # noqa: F811
    require_root()
    require_tool("perf")
    (node,) = node_factory.start(1)
    # perf keeps its build-id cache under $HOME/.debug: a private one.
    env = dict(os.environ, HOME=str(tmp_path))
    data = tmp_path / "perf.data"
    run(["perf", "buildid-cache", "--add", str(node.binary)], env=env)
    added = run(["perf", "probe", "sdt_net:inbound_message"], env=env)
    try:
        assert "Added new event:" in added.stdout + added.stderr
        # System-wide (-a): perf 6.1's -p recorded no uprobe hits here. perf
        # starts with its events off (-D -1) and says "ack" once it has turned
        # them on (--control), so the test sends only once perf records.
        ctl, ack = tmp_path / "ctl", tmp_path / "ack"
        os.mkfifo(ctl)
        os.mkfifo(ack)
        record = TracerProcess(["perf", "record", "-e", "sdt_net:inbound_message", "-a",
                                "-D", "-1", "--control", f"fifo:{ctl},{ack}",
                                "-o", str(data)], env=env)
        def perf_opened_fifos():
            fds = os.listdir(f"/proc/{record.proc.pid}/fd")
            links = {os.readlink(f"/proc/{record.proc.pid}/fd/{fd}") for fd in fds}
            return {str(ctl), str(ack)} <= links
        wait_until(perf_opened_fifos, 60, what="perf opening its control fifos")
        with open(ctl, "w") as c, open(ack) as a:
            c.write("enable\n")
            c.flush()
            assert select.select([a], [], [], 60)[0], "perf did not acknowledge"
            assert a.readline().strip() == "ack"
        assert read_semaphores(node.pid, node.binary)["net:inbound_message"] > 0
        peer, peer_id = ping(node)
        # perf record ends on Ctrl-C by re-raising SIGINT once its data is written.
        assert record.stop() in (0, -signal.SIGINT), record.stderr()
        peer.close()
        script = run(["perf", "script", "-i", str(data)], env=env).stdout.splitlines()
        # One line per message received: version, verack, ping (8 bytes).
        pings = [l for l in script if re.search(rf"^\s*moneyrocketd\s+{node.pid} .*"
                                                rf"sdt_net:inbound_message: .*arg1={peer_id} "
                                                rf".*arg5=8 ", l)]
        assert pings, "\n".join(script)
    finally:
        run(["perf", "probe", "-d", "sdt_net:*"], env=env, check=False)
    assert uprobe_events_of(node.binary) == []
    assert read_semaphores(node.pid, node.binary)["net:inbound_message"] == 0


def test_gdb_break_probe_stap(node_factory):  # noqa: F811
    require_root()
    require_tool("gdb")
    (node,) = node_factory.start(1)
    gdb = TracerProcess(["gdb", "-batch", "-p", str(node.pid),
                         "-ex", "break -probe-stap net:inbound_message",
                         "-ex", "continue",
                         "-ex", "print $_probe_argc",
                         "-ex", "print $_probe_arg0",
                         "-ex", "print (char *)$_probe_arg3",
                         "-ex", "print $_probe_arg4"])
    peer = None
    try:
        wait_until(lambda: read_semaphores(node.pid, node.binary)["net:inbound_message"],
                   60, what="gdb raising the semaphore")
        peer = netpeer.connect(node, answer_pings=False)
        peer.send_msg("ping", netpeer.ping_payload(99))   # before the handshake: first message
        gdb.proc.wait(60)
        out = gdb.output()
    finally:
        if gdb.proc.poll() is None:
            gdb.proc.send_signal(signal.SIGINT)
        gdb.kill()
        if peer:
            peer.close()
    text = "\n".join(out)
    assert re.search(r"^Breakpoint 1 at 0x[0-9a-f]+$", text, re.M), text
    assert re.search(r"^\$1 = 6$", text, re.M), text
    assert re.search(r'^\$3 = 0x[0-9a-f]+ "ping"$', text, re.M), text
    assert re.search(r"^\$4 = 8$", text, re.M), text
    wait_until(lambda: not read_semaphores(node.pid, node.binary)["net:inbound_message"],
               30, what="the semaphore back at 0 after gdb detached")
