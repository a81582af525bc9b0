"""BCC, bpftrace and libbpf on the same guarded tracepoints of one node, at once.

p2p_monitor.py (BCC), log_p2p_traffic.bt (bpftrace) and p2pstat (libbpf)
attach to one node together (the kernel raises each guarded tracepoint's
semaphore once per process, however many tracers share the probe), each tool
prints the messages a test peer exchanges with the node, and once they have
all gone every semaphore is 0 and tracefs's uprobe_events lists nothing of
the node.

Then 25 times a BCC script attaches and is killed with SIGKILL: the kernel
lowers the semaphores it raised every time (issue 14, item 10).
"""
import re
import signal

from conftest import BUILD, ROOT, require_bcc, require_built, require_tool
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.semaphores import read_semaphores, uprobe_events_of
from framework.tmux import Tmux
from framework.tracers import TracerProcess, bpftrace_errors

TRACING = ROOT / "contrib" / "tracing"
PYTHON = "/usr/bin/python3"
P2PSTAT = BUILD / "contrib" / "tracing" / "libbpf" / "p2pstat"


def all_zero(node):
    values = read_semaphores(node.pid, node.binary)
    return values if values and not any(values.values()) else None


def test_bcc_bpftrace_and_libbpf_together(node_factory, tmp_path):  # noqa: F811
    require_bcc()
    require_tool("bpftrace")
    require_tool("tmux")
    require_built(P2PSTAT)
    (node,) = node_factory.start(1)
    assert all_zero(node), read_semaphores(node.pid, node.binary)
    err = tmp_path / "monitor.stderr"
    monitor = Tmux(f"mrall{node.pid}",
                   f"{PYTHON} {TRACING / 'p2p_monitor.py'} {node.pid} 2>{err}", tmp_path,
                   width=80)
    bt = TracerProcess(["bpftrace", "-p", str(node.pid), str(TRACING / "log_p2p_traffic.bt"),
                        str(node.binary)])
    stat = TracerProcess([P2PSTAT, str(node.pid)])
    peer = None
    try:
        monitor.wait_screen(rf"P2P peers of moneyrocketd pid {node.pid}")
        bt.wait_for_line(r"^DIR\s+MSG TYPE")
        stat.wait_for_line(r"Hit Ctrl-C to end\.$")
        sems = read_semaphores(node.pid, node.binary)
        assert sems["net:inbound_message"] == sems["net:outbound_message"] == 1, sems
        # p2p_monitor.py also traces connections; bpftrace and p2pstat do not.
        assert sems["net:inbound_connection"] == 1, sems
        assert sems["net:misbehaving_connection"] == 0, sems

        peer = netpeer.connect(node)
        peer.handshake()
        peer.send_msg("ping", netpeer.ping_payload(77))
        peer.wait_for_msg("pong")
        info = node.wait_for_peer(lambda p: p["addr"] == peer.local_addr
                                  and "ping" in p.get("msgsrecv_per_msg", {}),
                                  what="the ping counted")
        pid, addr = info["id"], re.escape(peer.local_addr)
        # bpftrace: a line per message, in the README's columns.
        bt.wait_for_line(rf"^recv\s+ping\s+{pid}\s+inbound\s+{addr}\s+8$")
        bt.wait_for_line(rf"^send\s+pong\s+{pid}\s+inbound\s+{addr}\s+8$")
        # BCC: the peer's row counts version, verack and ping in, at least
        # version, verack and pong out.
        row = re.compile(rf"^\s*{pid} inbound\s+{addr}\s+(\d+)\s+\d+\s+(\d+)\s+\d+", re.M)
        wait_until(lambda: (lambda m: m and int(m.group(1)) >= 3 and int(m.group(2)) >= 3)(
            row.search(monitor.screen())), 60, what="p2p_monitor row of the peer")
        # libbpf: the ping and pong rows of its report on Ctrl-C.
        assert stat.stop() == 0, stat.stderr()
        out = stat.output()
        assert any(re.match(rf"^\s*{pid} inbound\s+{addr}\s+in\s+ping\s+1\s+8$", l)
                   for l in out), "\n".join(out)
        assert any(re.match(rf"^\s*{pid} inbound\s+{addr}\s+out\s+pong\s+1\s+8$", l)
                   for l in out), "\n".join(out)
    finally:
        monitor.keys("q")
        wait_until(monitor.exit_status, 30, what="p2p_monitor.py exits on q")
        status = monitor.exit_status()
        monitor.kill()
        bt_code = bt.stop()
        stat.kill()
        if peer:
            peer.close()
    assert status == "0", (status, err.read_text())
    assert bt_code == 0 and not bpftrace_errors(bt.stderr()), bt.stderr()
    wait_until(lambda: all_zero(node), 30, what="every semaphore back to 0")
    assert uprobe_events_of(node.binary) == []


def test_sigkilled_bcc_script_leaves_no_semaphore_raised(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    for cycle in range(25):
        script = TracerProcess([PYTHON, TRACING / "log_raw_p2p_msgs.py", node.pid])
        try:
            script.wait_for_line(r"Ctrl-C to end", timeout_s=120)
            values = read_semaphores(node.pid, node.binary)
            assert values["net:inbound_message"] == 1, (cycle, values)
            script.proc.send_signal(signal.SIGKILL)
            script.proc.wait(30)
        finally:
            script.kill()
        wait_until(lambda: all_zero(node), 30,
                   what=f"semaphores back to 0 after SIGKILL {cycle + 1}")
    assert uprobe_events_of(node.binary) == []
