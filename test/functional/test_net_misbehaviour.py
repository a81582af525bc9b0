"""What follows a misbehaving peer (doc/p2p.md, "Misbehaviour"), as in
Bitcoin Core's MaybeDiscourageAndDisconnect: net:misbehaving_connection
always fires with the reason; then a -whitelist (noban) peer and a manual
connection are kept, a local peer (127.0.0.0/8) is disconnected but not
discouraged, and any other peer is discouraged and every connection from
its IP closed. A discouraged IP may still connect while inbound slots are
free (it is evicted first); with the slots nearly full it is refused.

Non-local peers connect from this machine's first non-loopback IPv4
address to the node on 127.0.0.1.
"""
import json
import subprocess

from conftest import require, require_bcc
from framework import chain_scenarios as sc
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.tracers import NetTracer


def non_loopback_ipv4():
    """This machine's first IPv4 address outside 127.0.0.0/8, or None."""
    try:
        out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for link in json.loads(out):
        for a in link.get("addr_info", []):
            if not a["local"].startswith("127."):
                return a["local"]
    return None


def inv_50001():
    return netpeer.compact_size(50001) + (b"\x01\0\0\0" + b"\x22" * 32) * 50001


def traced(node_factory, args=()):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1, [list(args)])
    return node, NetTracer(node.binary, node.pid)


def inbound_id(tracer, peer):
    return tracer.wait_for("inbound_connection", addr=peer.local_addr)[0]["peer_id"]


def still_connected(peer, nonce):
    peer.send_msg("ping", netpeer.ping_payload(nonce))
    peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(nonce))


def test_non_local_peer_discouraged_and_all_its_connections_closed(node_factory):  # noqa: F811
    ip = non_loopback_ipv4()
    require(ip is not None, "no non-loopback IPv4 address on this machine")
    # 2 inbound slots: a discouraged IP is refused once one is taken.
    node, tracer = traced(node_factory, ["-maxconnections=13"])
    try:
        a = netpeer.connect(node, source_ip=ip)
        b = netpeer.connect(node, source_ip=ip)
        a.handshake()
        b.handshake()
        a_id = inbound_id(tracer, a)
        a.send_msg("inv", inv_50001())
        e = tracer.wait_for("misbehaving_connection", peer_id=a_id)[0]
        assert e["reason"] == "inv message size = 50001"
        a.wait_closed()
        b.wait_closed()   # Core closes every connection from the IP
        node.wait_for_log(f"{ip} discouraged for 86400s")
        # A local peer is not affected ...
        d = netpeer.connect(node)
        d.handshake()
        # ... and with it, the slots are nearly full: the IP is refused.
        c = netpeer.connect(node, source_ip=ip)
        c.wait_closed()
        node.wait_for_log(f"refused inbound from {c.local_addr}: discouraged")
        assert not node.peer(lambda p: p["addr"].startswith(ip + ":"))
        still_connected(d, 1)
        d.close()
    finally:
        tracer.close()


def test_discouraged_ip_accepted_while_inbound_slots_free(node_factory):  # noqa: F811
    ip = non_loopback_ipv4()
    require(ip is not None, "no non-loopback IPv4 address on this machine")
    # 3 inbound slots: refused only once 2 are taken (inbound + 1 >= 3).
    node, tracer = traced(node_factory, ["-maxconnections=14"])
    try:
        a = netpeer.connect(node, source_ip=ip)
        a.handshake()
        a.send_msg("inv", inv_50001())
        tracer.wait_for("misbehaving_connection", peer_id=inbound_id(tracer, a))
        a.wait_closed()
        back = netpeer.connect(node, source_ip=ip)
        back.handshake()
        still_connected(back, 2)
        local = netpeer.connect(node)
        local.handshake()
        late = netpeer.connect(node, source_ip=ip)
        late.wait_closed()   # now 2 of 3 slots are taken: refused
        node.wait_for_log(f"refused inbound from {late.local_addr}: discouraged")
        still_connected(back, 3)
        for p in (back, local):
            p.close()
    finally:
        tracer.close()


def test_whitelisted_peer_not_punished(node_factory):  # noqa: F811
    ip = non_loopback_ipv4()
    require(ip is not None, "no non-loopback IPv4 address on this machine")
    node, tracer = traced(node_factory, [f"-whitelist=noban@{ip}/32"])
    try:
        peer = netpeer.connect(node, source_ip=ip)
        peer.handshake()
        peer_id = inbound_id(tracer, peer)
        peer.send_msg("inv", inv_50001())
        e = tracer.wait_for("misbehaving_connection", peer_id=peer_id)[0]
        assert e["reason"] == "inv message size = 50001"
        node.wait_for_log("not punishing whitelisted (noban) peer")
        still_connected(peer, 4)
        tracer.drain()
        assert not tracer.select("closed_connection", peer_id=peer_id)
        peer.close()
    finally:
        tracer.close()


def test_manual_peer_not_punished(node_factory):  # noqa: F811
    node, tracer = traced(node_factory)
    listener = netpeer.Listener()
    try:
        node.addnode(listener.addr, "onetry")
        conn = listener.wait_for_connection()
        conn.wait_for_msg("verack")
        conn.wait_for_msg("ping")   # the node's handshake is done
        peer_id = tracer.wait_for("outbound_connection", addr=listener.addr)[0]["peer_id"]
        conn.send_msg("inv", inv_50001())
        e = tracer.wait_for("misbehaving_connection", peer_id=peer_id)[0]
        assert e["reason"] == "inv message size = 50001"
        node.wait_for_log("not punishing manually connected peer")
        still_connected(conn, 5)
        assert node.peer(lambda p: p["addr"] == listener.addr)["connection_type"] == "manual"
    finally:
        listener.close()
        tracer.close()


def test_transaction_failing_signature_check_is_misbehaviour(node_factory):  # noqa: F811
    """Core: a consensus failure (TX_CONSENSUS) is misbehaviour."""
    node, tracer = traced(node_factory)
    try:
        w = sc.Wallet(node)
        node.generatetoaddress(101, w.addr)
        good = bytes.fromhex(w.spend(sc.coinbase_txid(node, 1), 0, sc.SUBSIDY - 100_000))
        # Flip one byte inside the DER signature (it starts after the
        # version, input count, outpoint, script length and push length).
        k = 4 + 1 + 36 + 1 + 1 + 10
        bad = good[:k] + bytes([good[k] ^ 0x01]) + good[k + 1:]
        peer = netpeer.connect(node)
        peer.handshake()
        peer_id = inbound_id(tracer, peer)
        peer.send_msg("tx", bad)
        e = tracer.wait_for("misbehaving_connection", peer_id=peer_id)[0]
        assert e["reason"].startswith("invalid transaction: mandatory-script-verify-flag-failed"), e
        peer.wait_closed()
        assert not node.getrawmempool()
        # The valid one is still welcome from a new connection.
        again = netpeer.connect(node, source_ip=peer.local_addr.rsplit(":", 1)[0])
        again.handshake()
        again.send_msg("tx", good)
        wait_until(lambda: len(node.getrawmempool()) == 1, 30, what="good tx accepted")
        again.close()
    finally:
        tracer.close()
