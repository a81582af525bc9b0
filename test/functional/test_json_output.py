"""--json: the tools print NDJSON, one object per event, fields named as in
doc/tracing.md ("JSON field names"), checked against the node's RPC.

p2pstat's rows equal getpeerinfo; log_raw_p2p_msgs.py's messages carry the
test peer's ping payload and its getpeerinfo id and address; on one node,
log_utxocache_flush.py, log_coin_selection.py and mempool_monitor.py report
a flush, a payment's coin selection and its mempool entry and removal as
getcoinscacheinfo, gettransaction and getmempoolentry give them.
"""
import json
import re

from conftest import BUILD, ROOT, require_bcc, require_built, require_root
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.tracers import TracerProcess
from framework.wallet_scenarios import ALGOS, FEE_RATE, NODE_ARGS, analyse

P2PSTAT = BUILD / "contrib" / "tracing" / "libbpf" / "p2pstat"
TRACING = ROOT / "contrib" / "tracing"
PY = "/usr/bin/python3"


def objects(tool):
    """Every stdout line parsed as JSON: --json output holds nothing else."""
    return [json.loads(l) for l in tool.output()]


def wait_stderr(tool, pattern, timeout_s=120):
    rx = re.compile(pattern)

    def seen():
        if tool.proc.poll() is not None:
            raise AssertionError(f"{tool.cmd} exited {tool.proc.returncode}: {tool.stderr()}")
        return any(rx.search(l) for l in tool.stderr())
    wait_until(seen, timeout_s, what=f"{pattern!r} on stderr")


def handshaken(node, peer):
    return node.wait_for_peer(lambda p: p["addr"] == peer.local_addr
                              and "verack" in p.get("msgsrecv_per_msg", {}),
                              what=f"{peer.local_addr} handshaken")


def test_p2pstat_json_rows_equal_getpeerinfo(node_factory):  # noqa: F811
    require_root()
    require_built(P2PSTAT)
    (node,) = node_factory.start(1)
    tool = TracerProcess([P2PSTAT, "--json", str(node.pid)])
    wait_stderr(tool, r"^Tracing P2P messages of pid ")
    peer = netpeer.connect(node)
    try:
        peer.handshake()
        for nonce in range(3):
            peer.send_msg("ping", netpeer.ping_payload(nonce))
            peer.wait_for_msg("pong", lambda p, nonce=nonce: p == netpeer.ping_payload(nonce))
        info = handshaken(node, peer)
        wait_until(lambda: node.peer_by_id(info["id"])["msgsrecv_per_msg"].get("ping") == 3, 30)
        assert tool.stop() == 0, tool.stderr()
        info = node.peer_by_id(info["id"])
    finally:
        peer.close()
        tool.kill()
    rows = objects(tool)
    assert rows and all(r["event"] == "p2pstat:row" and re.fullmatch(r"\d\d:\d\d:\d\d", r["time"])
                        for r in rows)
    got = {(r["direction"], r["msg_type"]): (r["msgs"], r["bytes"]) for r in rows}
    expected = {}
    for direction, side in (("in", "recv"), ("out", "sent")):
        for t, n in info[f"msgs{side}_per_msg"].items():
            expected[(direction, t)] = (n, info[f"bytes{side}_per_msg"][t] - 24 * n)
    assert got == expected
    assert {(r["peer_id"], r["conn_type"], r["peer_addr"]) for r in rows} == \
        {(info["id"], "inbound", info["addr"])}


def test_log_raw_p2p_msgs_json(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    tool = TracerProcess([PY, TRACING / "log_raw_p2p_msgs.py", "--json", str(node.pid)])
    wait_stderr(tool, r"^Logging raw P2P messages of pid ")
    peer = netpeer.connect(node)
    nonce = netpeer.ping_payload(0x1122334455667788)
    try:
        peer.handshake()
        peer.send_msg("ping", nonce)
        peer.wait_for_msg("pong", lambda p: p == nonce)
        info = handshaken(node, peer)

        def pong_seen():
            return [o for o in objects(tool) if o["event"] == "net:outbound_message"
                    and o["msg_type"] == "pong" and o["msg"] == nonce.hex()]
        wait_until(pong_seen, 30, what="the pong in the JSON output")
        assert tool.stop() == 0, tool.stderr()
    finally:
        peer.close()
        tool.kill()
    msgs = objects(tool)
    ping = [o for o in msgs if o["event"] == "net:inbound_message" and o["msg_type"] == "ping"
            and o["msg"] == nonce.hex()]
    assert len(ping) == 1
    assert ping[0] == {"event": "net:inbound_message", "peer_id": info["id"],
                       "peer_addr": info["addr"], "conn_type": "inbound", "msg_type": "ping",
                       "msg_size": 8, "msg": nonce.hex(), "captured": 8}
    version = [o for o in msgs if o["event"] == "net:inbound_message"
               and o["msg_type"] == "version"]
    assert [bytes.fromhex(o["msg"]) for o in version] == [peer.sent_version]
    assert any(re.match(r"^\d+ messages logged, 0 lost\.$", l) for l in tool.stderr())


def test_chain_wallet_mempool_json(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1, extra_args=[NODE_ARGS])
    node.createwallet("alice")
    alice = node.wallet_rpc("alice")
    node.generatetoaddress(101, alice.getnewaddress())
    tools = {
        "flush": TracerProcess([PY, TRACING / "log_utxocache_flush.py", "--json",
                                str(node.pid)]),
        "coins": TracerProcess([PY, TRACING / "log_coin_selection.py", "--json",
                                str(node.pid)]),
        "mempool": TracerProcess([PY, TRACING / "mempool_monitor.py", "--json",
                                  str(node.pid)]),
    }
    try:
        wait_stderr(tools["flush"], r"^Logging utxocache flushes of moneyrocketd pid ")
        wait_stderr(tools["coins"], r"^Logging coin selection of moneyrocketd pid ")
        wait_stderr(tools["mempool"], r"^mempool_monitor.py: logging mempool events of pid ")
        cache = node.getcoinscacheinfo()
        node.gettxoutsetinfo()          # an ALWAYS flush
        to = node.wallet_rpc("alice").getnewaddress()
        txid = alice.sendtoaddress(to, 1, "", FEE_RATE)
        entry = node.getmempoolentry(txid)
        paid = analyse(alice, txid, to)
        node.generatetoaddress(1, to)

        def removed():
            return [o for o in objects(tools["mempool"]) if o["event"] == "mempool:removed"]
        wait_until(removed, 30, what="mempool:removed in the JSON output")
        wait_until(lambda: any(o["event"] == "coin_selection:normal_create_tx_internal"
                               for o in objects(tools["coins"])), 30, what="coin selection")
        for t in tools.values():
            assert t.stop() == 0, t.stderr()
    finally:
        for t in tools.values():
            t.kill()
    flush = [o for o in objects(tools["flush"]) if o["mode"] == "ALWAYS"]
    assert flush[0]["event"] == "utxocache:flush"
    assert (flush[0]["coins_count"], flush[0]["coins_mem_usage"],
            flush[0]["is_flush_for_prune"]) == (cache["entries"], cache["usage"], False)
    assert flush[0]["duration_us"] >= 0
    coins = objects(tools["coins"])
    sel = [o for o in coins if o["event"] == "coin_selection:selected_coins"]
    normal = [o for o in coins if o["event"] == "coin_selection:normal_create_tx_internal"]
    assert sel[0]["wallet_name"] == "alice" and sel[0]["algorithm"] in ALGOS
    assert sel[0]["selected_value"] == paid["in_value"]
    assert normal == [{"event": "coin_selection:normal_create_tx_internal",
                       "wallet_name": "alice", "success": True, "fee": paid["fee"],
                       "change_pos": paid["change_pos"]}]
    events = objects(tools["mempool"])
    assert [o["event"] for o in events] == ["mempool:added", "mempool:removed"]
    assert events[0] == {"event": "mempool:added", "txid": txid, "vsize": entry["vsize"],
                         "fee": entry["fee_sat"]}
    assert events[1] == {"event": "mempool:removed", "txid": txid, "reason": "block",
                         "vsize": entry["vsize"], "fee": entry["fee_sat"],
                         "entry_time": entry["time"]}


def test_p2p_monitor_json(node_factory):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    tool = TracerProcess([PY, TRACING / "p2p_monitor.py", "--json", str(node.pid)])
    wait_stderr(tool, r"^p2p_monitor.py: logging P2P events of pid ")
    peer = netpeer.connect(node)
    try:
        peer.handshake()
        peer.send_msg("ping", netpeer.ping_payload(5))
        peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(5))
        info = handshaken(node, peer)
        node.disconnectnode("", info["id"])
        peer.wait_closed()
        wait_until(lambda: any(o["event"] == "net:closed_connection" for o in objects(tool)),
                   30, what="net:closed_connection in the JSON output")
        assert tool.stop() == 0, tool.stderr()
    finally:
        peer.close()
        tool.kill()
    events = objects(tool)
    who = {"peer_id": info["id"], "peer_addr": info["addr"], "conn_type": "inbound"}
    conns = [o for o in events if o["event"].endswith("_connection")]
    assert conns == [{"event": "net:inbound_connection", **who},
                     {"event": "net:closed_connection", **who}]
    msgs = [o for o in events if o["event"].endswith("_message")]
    assert {"event": "net:inbound_message", **who, "msg_type": "ping", "msg_size": 8} in msgs
    assert {"event": "net:outbound_message", **who, "msg_type": "pong", "msg_size": 8} in msgs
    # Per type, the counts getpeerinfo gave just before the disconnect.
    got = {}
    for o in msgs:
        key = ("recv" if o["event"] == "net:inbound_message" else "sent", o["msg_type"])
        got[key] = got.get(key, 0) + 1
    for side in ("recv", "sent"):
        for t, n in info[f"msgs{side}_per_msg"].items():
            assert got.get((side, t), 0) >= n, (side, t, got)
