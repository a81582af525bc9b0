"""End-to-end checks of the seven `net:` tracepoints, tracer-independent.

Each `check_*` function drives a node with test peers and asserts that every
argument of the tracepoint events a tracer recorded equals what the node
reports through RPC (getpeerinfo, getnetworkinfo) and what the test peer sent
or received on the wire. The BCC and bpftrace test modules run the same
checks with their own tracer (framework.tracers.NetTracer or
BpftraceNetTracer); a tracer only records, the assertions run here after
polling.
"""
import time

from framework import netpeer
from framework.node import wait_until

HEADER_SIZE = 24
LOOPBACK_NETWORK = 0   # contract: 0 = not publicly routable, incl. loopback


def peer_info(node, peer, what="test peer in getpeerinfo"):
    """The getpeerinfo entry of an inbound test peer (matched by address)."""
    return node.wait_for_peer(lambda p: p["addr"] == peer.local_addr, what=what)


def handshaken_info(node, peer):
    """getpeerinfo entry once the node has counted the peer's verack."""
    return node.wait_for_peer(lambda p: p["addr"] == peer.local_addr
                              and "verack" in p.get("msgsrecv_per_msg", {}),
                              what=f"{peer.local_addr} handshake done")


def assert_conn_event(e, info, conn_type, value_key=None, value=None):
    """Common arguments of the connection tracepoints against getpeerinfo."""
    assert e["peer_id"] == info["id"], (e, info)
    assert e["addr"] == info["addr"], (e, info)
    assert e["conn_type"] == conn_type == info["connection_type"], (e, info)
    assert e["network"] == LOOPBACK_NETWORK == info["network_id"], (e, info)
    if value_key:
        assert e[value_key] == value, (e, value_key, value)


def messages_of(tracer, tp, peer_id):
    return [(e["msg_type"], e["data"], e["size"]) for e in tracer.select(tp, peer_id=peer_id)]


# ---- net:inbound_message / net:outbound_message -------------------------

def check_version_messages(node, tracer, max_captured):
    """Version (and every other message) in and out, byte for byte.

    `max_captured` is how many payload bytes the tracer copies per message.
    """
    peer = netpeer.connect(node)
    sent_version, received_version = peer.handshake()
    info = handshaken_info(node, peer)

    ev_in = tracer.wait_for("inbound_message", msg_type="version", peer_id=info["id"])[0]
    assert ev_in["addr"] == info["addr"] == peer.local_addr
    assert ev_in["conn_type"] == "inbound" == info["connection_type"]
    assert ev_in["size"] == len(sent_version)
    assert ev_in["size"] + HEADER_SIZE == info["bytesrecv_per_msg"]["version"]
    assert ev_in["data"] == sent_version[:max_captured]

    ev_out = tracer.wait_for("outbound_message", msg_type="version", peer_id=info["id"])[0]
    assert ev_out["addr"] == info["addr"]
    assert ev_out["conn_type"] == "inbound"
    assert ev_out["size"] == len(received_version)
    assert ev_out["size"] + HEADER_SIZE == info["bytessent_per_msg"]["version"]
    assert ev_out["data"] == received_version[:max_captured]
    # The node's version says what getpeerinfo's own fields say about it.
    decoded = netpeer.decode_version(ev_out["data"]) if len(received_version) <= max_captured \
        else None
    if decoded:
        assert decoded["version"] == node.getnetworkinfo()["protocolversion"]
        assert decoded["user_agent"] == node.getnetworkinfo()["subversion"]

    # Every message in each direction, in order, with the exact payload.
    peer.send_msg("ping", netpeer.ping_payload(0x1122334455667788))
    peer.wait_for_msg("pong", lambda payload: payload == netpeer.ping_payload(0x1122334455667788))
    tracer.wait_for("inbound_message", msg_type="ping", peer_id=info["id"])
    tracer.wait_for("outbound_message", msg_type="pong", peer_id=info["id"])
    tracer.drain()
    sent = peer.sent_messages()
    got = messages_of(tracer, "inbound_message", info["id"])
    assert [(t, p[:max_captured], len(p)) for t, p in sent] == got[:len(sent)]
    received = peer.received_messages()
    out = messages_of(tracer, "outbound_message", info["id"])
    n = min(len(received), len(out))
    assert n >= 3  # version, verack, pong at least
    assert [(t, p[:max_captured], len(p)) for t, p in received[:n]] == out[:n]

    # Per-type counts agree with getpeerinfo once traffic is quiet.
    info = node.peer(lambda p: p["id"] == ev_in["peer_id"])
    tracer.drain()
    for tp, key in (("inbound_message", "msgsrecv_per_msg"),
                    ("outbound_message", "msgssent_per_msg")):
        counted = {}
        for e in tracer.select(tp, peer_id=info["id"]):
            counted[e["msg_type"]] = counted.get(e["msg_type"], 0) + 1
        for msg_type in ("version", "verack", "ping" if tp == "inbound_message" else "pong"):
            assert counted[msg_type] == info[key][msg_type], (tp, msg_type, counted, info[key])
    peer.close()


# ---- net:inbound_connection ---------------------------------------------

def check_inbound_connections(node, tracer):
    """Two inbound connections: counts 1 then 2, loopback network 0."""
    assert node.getnetworkinfo()["connections_in"] == 0, "node must start without inbound peers"
    peers = []
    for expected_count in (1, 2):
        peer = netpeer.connect(node)
        peers.append(peer)
        peer.handshake()
        info = handshaken_info(node, peer)
        e = tracer.wait_for("inbound_connection", addr=peer.local_addr)[0]
        assert_conn_event(e, info, "inbound", "inbound_count", expected_count)
        assert node.getnetworkinfo()["connections_in"] == expected_count
    assert len(tracer.select("inbound_connection")) == 2
    for p in peers:
        p.close()


# ---- net:outbound_connection --------------------------------------------

def check_outbound_manual(node, tracer):
    """addnode onetry to a listening test peer: a `manual` connection."""
    out_before = node.getnetworkinfo()["connections_out"]
    listener = netpeer.Listener()
    try:
        node.addnode(listener.addr, "onetry")
        e = tracer.wait_for("outbound_connection", addr=listener.addr)[0]
        info = node.wait_for_peer(lambda p: p["addr"] == listener.addr, what="manual peer")
        assert_conn_event(e, info, "manual", "outbound_count", out_before + 1)
        assert info["inbound"] is False
        conn = listener.wait_for_connection()
        conn.wait_for_msg("version")
        # The node speaks first on an outbound connection: its version is the
        # first outbound message on that peer id.
        first = tracer.wait_for("outbound_message", peer_id=info["id"])[0]
        assert first["msg_type"] == "version" and first["conn_type"] == "manual"
        assert first["addr"] == listener.addr
    finally:
        listener.close()


def check_outbound_automatic(node, tracer, listeners):
    """Outbound connections the node opens by itself to addresses it learned
    from an addr message: full-relay / block-relay-only slots and a feeler.

    The listeners hold their side of the handshake, so every connection stays
    in getpeerinfo until checked. Then they answer; a feeler disconnects
    after the handshake and its closed_connection is checked too.
    """
    addrs = {l.addr: l for l in listeners}
    informer = netpeer.connect(node)
    informer.handshake()
    informer.send_msg("addr", netpeer.addr_payload(
        [(int(time.time()), l.ip, l.port) for l in listeners]))

    # Wait for a feeler: it comes after the full-relay and block-relay slots.
    feeler = tracer.wait_for("outbound_connection", lambda e: e["addr"] in addrs,
                             conn_type="feeler", timeout_s=90)[0]
    tracer.drain()
    events = [e for e in tracer.select("outbound_connection") if e["addr"] in addrs]
    kinds = {e["conn_type"] for e in events}
    assert "outbound-full-relay" in kinds, kinds
    assert kinds <= {"outbound-full-relay", "block-relay-only", "feeler"}, kinds

    infos = {p["id"]: p for p in node.getpeerinfo()}
    for e in events:
        if e["peer_id"] in infos:  # a held connection is still there
            assert_conn_event(e, infos[e["peer_id"]], e["conn_type"])
        else:  # it was dropped (e.g. handshake timeout): must have a close event
            closed = tracer.select("closed_connection", peer_id=e["peer_id"])
            assert closed and closed[0]["addr"] == e["addr"], e
    assert feeler["peer_id"] in infos, "feeler vanished before the handshake was released"
    assert feeler["network"] == LOOPBACK_NETWORK

    # outbound_count: outbound connections open at that moment, this one
    # included, replayed from the tracer's own open/close events.
    open_now = _outbound_open_before(tracer)
    for e in events:
        assert e["outbound_count"] == open_now[id(e)], (e, open_now[id(e)])

    # Let the feeler's handshake finish: the node then closes it.
    feeler_info = infos[feeler["peer_id"]]
    addrs[feeler["addr"]].release()
    closed = tracer.wait_for("closed_connection", peer_id=feeler["peer_id"], timeout_s=30)[0]
    assert_conn_event(closed, feeler_info, "feeler", "established", feeler_info["conntime"])
    informer.close()


def _outbound_open_before(tracer):
    """For each outbound_connection event: outbound peers open counting it."""
    outbound = set()
    result = {}
    for e in tracer.events:
        if e["tp"] == "outbound_connection":
            outbound.add(e["peer_id"])
            result[id(e)] = len(outbound)
        elif e["tp"] == "closed_connection" and e["conn_type"] != "inbound":
            outbound.discard(e["peer_id"])
    return result


# ---- net:evicted_inbound_connection --------------------------------------

def check_eviction(node, tracer, inbound_slots):
    """Fill every inbound slot, then one more peer: the node evicts one.

    All but one peer share the network group 127.1.0.0/16; one is alone in
    127.2.0.0/16. Test peers answer no ping and announce nothing, so only
    the network-group and uptime protections apply, and the evicted peer must
    come from the crowded group 127.1.
    """
    peers = []
    for i in range(inbound_slots):
        ip = "127.2.0.1" if i == 0 else f"127.1.0.{i}"
        peer = netpeer.connect(node, source_ip=ip, answer_pings=False)
        peer.handshake()
        handshaken_info(node, peer)
        peers.append(peer)
    assert node.getnetworkinfo()["connections_in"] == inbound_slots
    before = {p["id"]: p for p in node.getpeerinfo()}

    newcomer = netpeer.connect(node, source_ip="127.3.0.1", answer_pings=False)
    newcomer.handshake()
    evicted = tracer.wait_for("evicted_inbound_connection")[0]
    info = before[evicted["peer_id"]]
    assert_conn_event(evicted, info, "inbound", "established", info["conntime"])
    assert evicted["established"] > 0
    assert evicted["addr"].startswith("127.1."), "evicted from the group with most peers"

    closed = tracer.wait_for("closed_connection", peer_id=evicted["peer_id"])[0]
    assert_conn_event(closed, info, "inbound", "established", info["conntime"])
    assert closed["ts"] > evicted["ts"], "evicted fires before closed"
    victim = next(p for p in peers if p.local_addr == evicted["addr"])
    victim.wait_closed()
    # The newcomer took the slot; everybody else is still there.
    handshaken_info(node, newcomer)
    wait_until(lambda: node.getnetworkinfo()["connections_in"] == inbound_slots,
               what="inbound slots full again")
    assert len(tracer.select("evicted_inbound_connection")) == 1
    for p in peers + [newcomer]:
        p.close()


# ---- net:misbehaving_connection ------------------------------------------

def check_misbehaving(node, tracer):
    """Two messages Bitcoin Core calls misbehaviour, each with its exact
    reason: an inv over 50,000 entries and headers that do not chain. The
    test peers are local (127.x), so each is disconnected, not discouraged:
    the same IP connects again. A bad checksum, which Core only drops, does
    not fire the tracepoint."""
    inv = netpeer.compact_size(50001) + (b"\x01\0\0\0" + b"\x33" * 32) * 50001
    headers = netpeer.compact_size(2) + (b"\x01" + b"\0" * 79 + b"\0") * 2
    cases = [("inv message size = 50001", lambda peer: peer.send_msg("inv", inv)),
             ("non-continuous headers sequence",
              lambda peer: peer.send_msg("headers", headers))]
    for reason, misbehave in cases:
        peer = netpeer.connect(node)
        peer.handshake()
        info = handshaken_info(node, peer)
        misbehave(peer)
        e = tracer.wait_for("misbehaving_connection", peer_id=info["id"])[0]
        assert e["reason"] == reason, e
        closed = tracer.wait_for("closed_connection", peer_id=info["id"])[0]
        assert_conn_event(closed, info, "inbound", "established", info["conntime"])
        peer.wait_closed()
        assert node.peer(lambda p: p["id"] == info["id"]) is None
        node.wait_for_log(reason)
        again = netpeer.connect(node, source_ip=peer.local_addr.rsplit(":", 1)[0])
        again.handshake()
        again.close()
    peer = netpeer.connect(node)
    peer.handshake()
    info = handshaken_info(node, peer)
    peer.send_raw(netpeer.frame("ping", netpeer.ping_payload(1), checksum=b"\0\0\0\0"))
    peer.send_msg("ping", netpeer.ping_payload(2))
    peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(2))
    tracer.drain()
    assert not tracer.select("misbehaving_connection", peer_id=info["id"])
    peer.close()


# ---- net:closed_connection ------------------------------------------------

def check_closed(node, tracer):
    """Closed by the peer, by the node (disconnectnode) and outbound."""
    # 1. The peer hangs up.
    peer = netpeer.connect(node)
    peer.handshake()
    info = handshaken_info(node, peer)
    peer.close()
    e = tracer.wait_for("closed_connection", peer_id=info["id"])[0]
    assert_conn_event(e, info, "inbound", "established", info["conntime"])
    assert e["established"] > 0

    # 2. The node hangs up (RPC disconnectnode).
    peer = netpeer.connect(node)
    peer.handshake()
    info = handshaken_info(node, peer)
    node.disconnectnode("", info["id"])
    e = tracer.wait_for("closed_connection", peer_id=info["id"])[0]
    assert_conn_event(e, info, "inbound", "established", info["conntime"])
    peer.wait_closed()

    # 3. An outbound (manual) connection whose remote end goes away.
    listener = netpeer.Listener()
    try:
        node.addnode(listener.addr, "onetry")
        conn = listener.wait_for_connection()
        conn.wait_for_msg("verack")
        info = node.wait_for_peer(lambda p: p["addr"] == listener.addr
                                  and "verack" in p.get("msgsrecv_per_msg", {}),
                                  what="manual peer handshaken")
        conn.close()
        e = tracer.wait_for("closed_connection", peer_id=info["id"])[0]
        assert_conn_event(e, info, "manual", "established", info["conntime"])
    finally:
        listener.close()
