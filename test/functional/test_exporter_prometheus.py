"""moneyrocket-exporter scraped by a real Prometheus.

Three nodes, each with its own exporter (-p PID), scraped by Debian's
prometheus with the rules of contrib/tracing/prometheus. The nodes mine,
relay and pay; Prometheus's HTTP API must then give, per node, what the
node's RPC says: blocks connected, chain height, messages and payload bytes
per direction and type (getpeerinfo), connections, and the mempool events
the test caused. promtool accepts the exporter's output and the rules, and
a ping flood fires the flood alert for the flooded node only.
"""
import collections
import shutil
import subprocess

import pytest

from conftest import ROOT, require, require_built, require_root, require_tool
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import JSONRPCError, connect_nodes, wait_until
from framework.prometheus import EXPORTER, RULES, Exporter, Prometheus
from framework.unprivileged import run_as_nobody

RULES_TEST = RULES.parent / "moneyrocket.rules.test.yml"
UNIT = ROOT / "contrib" / "init" / "moneyrocket-exporter.service"


def rpc_messages(node):
    """{(direction, msg type): (messages, payload bytes)} summed over getpeerinfo;
    getpeerinfo counts the 24-byte header of each message, the exporter does not."""
    out = collections.Counter()
    for p in node.getpeerinfo():
        for direction, side in (("in", "recv"), ("out", "sent")):
            for t, n in p[f"msgs{side}_per_msg"].items():
                out[(direction, t, "msgs")] += n
                out[(direction, t, "bytes")] += p[f"bytes{side}_per_msg"][t] - 24 * n
    return {k: v for k, v in out.items() if v}


def prom_by(prom, expr, *labels):
    """{tuple of label values: value} of an instant query, zeros left out."""
    return {tuple(m.get(l, "") for l in labels): v for m, v in prom.query(expr) if v}


def prom_messages(prom, instance):
    out = {}
    for name, what in (("moneyrocket_p2p_messages_total", "msgs"),
                       ("moneyrocket_p2p_message_bytes_total", "bytes")):
        for (d, t), v in prom_by(prom, f'{name}{{instance="{instance}"}}',
                                 "direction", "msg_type").items():
            out[(d, t, what)] = v
    return out


def rpc_connections(node):
    out = collections.Counter()
    for p in node.getpeerinfo():
        event = "inbound" if p["inbound"] else "outbound"
        out[(event, p["connection_type"])] += 1
    return dict(out)


def same_tip(nodes):
    wait_until(lambda: len({n.getbestblockhash() for n in nodes}) == 1, 120, what="same tip")


def flood(peer, n, batch=1000):
    """n pings from `peer`, sent in batches of framed messages; returns once
    the node answered the last one."""
    for start in range(0, n, batch):
        peer.send_raw(b"".join(netpeer.frame("ping", netpeer.ping_payload(start + i))
                               for i in range(batch)))
        last = netpeer.ping_payload(start + batch - 1)
        peer.wait_for_msg("pong", lambda p, last=last: p == last, timeout_s=60)


def requirements():
    require_root()
    require_built(EXPORTER)
    require_tool("prometheus")
    require_tool("promtool")


def test_prometheus_matches_rpc_and_fires_flood_alert(node_factory, tmp_path):  # noqa: F811
    requirements()
    nodes = node_factory.start(3)
    exporters, prom, peer = [], None, None
    try:
        for n in nodes:
            exporters.append(Exporter("-p", n.pid))
            exporters[-1].wait_traced(n.pid)
        prom = Prometheus(tmp_path / "prometheus", [e.addr for e in exporters], [RULES])
        instances = [e.addr for e in exporters]
        wait_until(lambda: set(prom.targets_up().values()) == {"up"}, 60, what="targets up")

        # Mine, relay, pay: node0 mines 101 blocks to alice, alice pays bob on
        # node2 (relayed through node1), one more block confirms it.
        connect_nodes(nodes[0], nodes[1])
        connect_nodes(nodes[1], nodes[2])
        nodes[0].createwallet("alice")
        nodes[2].createwallet("bob")
        alice, bob = nodes[0].wallet_rpc("alice"), nodes[2].wallet_rpc("bob")
        mine_to = alice.getnewaddress()
        nodes[0].generatetoaddress(101, mine_to)
        same_tip(nodes)
        txid = alice.sendtoaddress(bob.getnewaddress(), 5)
        wait_until(lambda: all(txid in n.getrawmempool() for n in nodes), 60, what="tx relayed")
        tx_hex = alice.gettransaction(txid)["hex"]
        nodes[0].generatetoaddress(1, mine_to)
        same_tip(nodes)
        # The confirmed payment sent again: one rejection, on node0.
        with pytest.raises(JSONRPCError) as rejected:
            nodes[0].sendrawtransaction(tx_hex)
        reject_reason = rejected.value.message.split(" (")[0]
        height = nodes[0].getblockcount()
        assert height == 102

        # Prometheus, once it has scraped the final counts, equals RPC.
        def settled():
            for node, inst in zip(nodes, instances):
                if prom_messages(prom, inst) != rpc_messages(node):
                    return False
                if prom_by(prom, f'moneyrocket_p2p_connections_total{{instance="{inst}"}}',
                           "event", "conn_type") != rpc_connections(node):
                    return False
                if prom_by(prom, f'moneyrocket_blocks_connected_total{{instance="{inst}"}}',
                           "pid") != {(str(node.pid),): height}:
                    return False
            return True
        wait_until(settled, 90, interval=0.5, what="Prometheus values equal to RPC")
        for node, inst in zip(nodes, instances):
            q = f'{{instance="{inst}"}}'
            assert prom_by(prom, "moneyrocket_chain_height" + q, "pid", "port") == \
                {(str(node.pid), str(node.p2p_port)): node.getblockcount()}
            assert prom_by(prom, "moneyrocket_block_connect_seconds_count" + q) == {(): height}
            mempool = prom_by(prom, "moneyrocket_mempool_events_total" + q, "event", "reason")
            expected = {("added", ""): 1, ("removed", "block"): 1}
            if node is nodes[0]:
                expected[("rejected", reject_reason)] = 1
            assert mempool == expected, (node.index, mempool, reject_reason)
            # Every block's coinbase added a coin; the payment spent one.
            coins = prom_by(prom, "moneyrocket_utxocache_coins_total" + q, "event")
            assert coins[("add",)] >= height + 2 and coins[("spent",)] >= 1, coins
        algos = prom_by(prom, f'moneyrocket_coin_selection_total{{instance="{instances[0]}"}}',
                        "algorithm")
        assert algos and set(a for (a,) in algos) <= {"bnb", "coingrinder", "knapsack", "srd"}
        assert prom_by(prom, "moneyrocket_exporter_lost_events_total") == {}
        assert prom_by(prom, "sum(moneyrocket_exporter_nodes)") == {(): 3}

        # promtool accepts what each exporter serves.
        for e in exporters:
            check = subprocess.run(["promtool", "check", "metrics"], input=e.metrics_text(),
                                   capture_output=True, text=True, timeout=60)
            assert check.returncode == 0, check.stdout + check.stderr

        # A ping flood on node2 fires MoneyrocketPeerFlood for node2 alone.
        peer = netpeer.connect(nodes[2])
        peer.handshake()
        flood(peer, 12000)

        def flood_alerts():
            return [a for a in prom.alerts() if a["labels"]["alertname"] == "MoneyrocketPeerFlood"
                    and a["state"] == "firing"]
        firing = wait_until(flood_alerts, 90, interval=0.5, what="MoneyrocketPeerFlood firing")
        assert [(a["labels"]["instance"], a["labels"]["pid"]) for a in firing] == \
            [(instances[2], str(nodes[2].pid))], firing
        assert "messages/s" in firing[0]["annotations"]["summary"]
    finally:
        if peer:
            peer.close()
        if prom:
            prom.stop()
        for e in exporters:
            e.kill()
    for e in exporters:
        assert e.proc.stderr() == [], e.proc.stderr()


@pytest.mark.parametrize("mode", ["all", "binary"])
def test_exporter_picks_up_and_drops_nodes(node_factory, mode):  # noqa: F811
    requirements()
    node = node_factory.add(start=False)
    exporter = Exporter(*([] if mode == "all" else [node.binary]))
    try:
        node.start()
        exporter.wait_traced(node.pid)
        labels = frozenset({"pid": str(node.pid), "port": str(node.p2p_port)}.items())
        # With the binary attached from the start, the genesis block a new
        # node connects at start-up counts too.
        (before,) = exporter.samples("moneyrocket_blocks_connected_total",
                                     pid=node.pid).values()
        assert before == (1 if mode == "binary" else 0)
        node.createwallet("w")
        node.generatetoaddress(3, node.wallet_rpc("w").getnewaddress())
        wait_until(lambda: exporter.samples("moneyrocket_blocks_connected_total",
                                            pid=node.pid) == {labels: before + 3},
                   30, what="three blocks exported")
        first = node.pid
        assert node.stop() == 0
        exporter.proc.wait_for_line(rf"^node {first}: gone$", 30)
        text = exporter.metrics_text()
        assert f'pid="{first}"' not in text
        # A node started again (a new process) is picked up; its count starts at 0.
        node.start()
        exporter.wait_traced(node.pid)
        assert exporter.samples("moneyrocket_blocks_connected_total", pid=node.pid) == \
            {frozenset({"pid": str(node.pid), "port": str(node.p2p_port)}.items()): 0}
        assert exporter.stop() == 0
    finally:
        exporter.kill()
    # Without a target it also traces whatever other nodes run on the host,
    # and may find them held by someone's BCC script: only ours must be clean.
    assert [l for l in exporter.proc.stderr() if str(node.binary) in l] == [], \
        exporter.proc.stderr()


def test_rules_check_and_unit_tests():
    promtool = require_tool("promtool")
    for cmd in (["check", "rules", RULES], ["test", "rules", RULES_TEST]):
        proc = subprocess.run([promtool, *map(str, cmd)], capture_output=True, text=True,
                              timeout=120, cwd=RULES.parent)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "SUCCESS" in proc.stdout


def test_systemd_unit_verifies(tmp_path):
    analyze = require_tool("systemd-analyze")
    require_built(EXPORTER)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/moneyrocket-exporter",
                                             str(EXPORTER)))
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


@pytest.mark.parametrize("args,needle", [
    (["-p", "2147483647"], "no process 2147483647"),
    (["-p", "x"], "invalid PID: x"),
    (["/nonexistent/moneyrocketd"], "cannot read /nonexistent/moneyrocketd"),
    (["--listen", "localhost"], "--listen wants ADDR:PORT"),
    (["--listen", "300.1.1.1:80"], "--listen 300.1.1.1:80"),
], ids=["no-process", "bad-pid", "no-binary", "listen-no-port", "listen-bad-addr"])
def test_exporter_bad_arguments(args, needle):
    require_root()
    require_built(EXPORTER)
    proc = subprocess.run([str(EXPORTER), *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert needle in proc.stderr, proc.stderr


def test_exporter_port_in_use():
    requirements()
    first = Exporter("/bin/true")
    try:
        proc = subprocess.run([str(EXPORTER), "--listen", first.addr, "/bin/true"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1
        assert f"cannot listen on {first.addr}" in proc.stderr, proc.stderr
    finally:
        first.kill()


def test_exporter_refuses_without_privileges():
    require_root()   # to switch to an unprivileged user
    require_built(EXPORTER)
    require(shutil.which("setpriv") is not None, "setpriv (util-linux) missing")
    proc = run_as_nobody([EXPORTER], EXPORTER, timeout_s=30)
    assert proc.returncode == 1
    assert "needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)" in proc.stderr, proc.stderr


def test_exporter_and_a_bcc_script_trace_one_node_together(node_factory):  # noqa: F811
    """The BCC scripts hand their semaphores to the kernel's reference
    counter (contrib/tracing/usdt_helper.py), as libbpf does, so a BCC script
    holding the node's tracepoints no longer keeps the exporter off: both
    trace the node at once, and the exporter counts every block."""
    requirements()
    from conftest import require_bcc
    from framework.tracers import TracerProcess
    require_bcc()
    (node,) = node_factory.start(1)
    bcc = TracerProcess(["/usr/bin/python3", ROOT / "contrib" / "tracing" /
                         "log_utxocache_flush.py", str(node.pid)])
    exporter = None
    try:
        bcc.wait_for_line(r"^Logging utxocache flushes")
        exporter = Exporter("-p", node.pid)
        exporter.wait_traced(node.pid, 30)
        assert not any("not tracing" in l for l in exporter.proc.stderr()), \
            exporter.proc.stderr()
        node.createwallet("w")
        node.generatetoaddress(2, node.wallet_rpc("w").getnewaddress())
        wait_until(lambda: list(exporter.samples("moneyrocket_blocks_connected_total",
                                                 pid=node.pid).values()) == [2], 30,
                   what="two blocks exported")
        assert bcc.proc.poll() is None, bcc.stderr()
        assert bcc.stop() == 0
    finally:
        bcc.kill()
        if exporter:
            exporter.kill()
