"""Transaction requests (doc/p2p.md, "Transaction requests"; Bitcoin Core's
TxRequestTracker is the model): a transaction announced by several peers is
asked of one peer at a time; the next is asked only when that one answers
notfound, goes away or times out. The node's own requests never make it
reject a transaction it already has (txn-already-in-mempool).
"""
import struct

from framework import chain_scenarios as sc
from framework import messages, netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import connect_nodes, wait_until


def inv_tx(txid):
    return netpeer.compact_size(1) + struct.pack("<I", messages.MSG_TX) + bytes.fromhex(txid)[::-1]


def tx_getdatas(peer, txid):
    """getdata messages the peer received that ask for txid."""
    out = []
    for t, p in peer.received_messages():
        if t == "getdata":
            inv = messages.deserialize("getdata", p)["inventory"]
            if any(i["hash"] == txid and i["type"] & ~messages.MSG_WITNESS_FLAG
                   == messages.MSG_TX for i in inv):
                out.append(p)
    return out


def settle(node, peers):
    """A ping round trip with each peer: the node has handled all they sent."""
    for k, p in enumerate(peers):
        if p.closed.is_set():
            continue
        p.send_msg("ping", netpeer.ping_payload(1000 + k))
        p.wait_for_msg("pong", lambda m, k=k: m == netpeer.ping_payload(1000 + k))


def funded_tx(node):
    """A valid, signed transaction the node has not seen (hex, txid)."""
    w = sc.Wallet(node)
    node.generatetoaddress(101, w.addr)
    hex_tx = w.spend(sc.coinbase_txid(node, 1), 0, sc.SUBSIDY - 100_000,
                     to=sc.Wallet(node).addr)
    return hex_tx, node.decoderawtransaction(hex_tx)["txid"]


def three_announcers(node, txid):
    peers = [netpeer.connect(node) for _ in range(3)]
    for p in peers:
        p.handshake()
        p.send_msg("inv", inv_tx(txid))
    return peers


def no_already_in_mempool(node, since):
    assert "txn-already-in-mempool" not in node.debug_log_text(since=since)


def test_announced_by_three_asked_of_one(node_factory):  # noqa: F811
    (n,) = node_factory.start(1)
    hex_tx, txid = funded_tx(n)
    log_start = n.debug_log_size()
    peers = three_announcers(n, txid)
    try:
        # Inbound peers are asked after 2 s; the first announcer first.
        wait_until(lambda: any(tx_getdatas(p, txid) for p in peers), 30,
                   what="getdata for the tx")
        asked = [p for p in peers if tx_getdatas(p, txid)]
        assert asked == [peers[0]], [len(tx_getdatas(p, txid)) for p in peers]
        peers[0].send_msg("tx", bytes.fromhex(hex_tx))
        wait_until(lambda: txid in n.getrawmempool(), 30, what="tx in mempool")
        settle(n, peers)
        assert [len(tx_getdatas(p, txid)) for p in peers] == [1, 0, 0]
        no_already_in_mempool(n, log_start)
    finally:
        for p in peers:
            p.close()


def test_next_peer_after_notfound_and_after_disconnect(node_factory):  # noqa: F811
    (n,) = node_factory.start(1)
    hex_tx, txid = funded_tx(n)
    peers = three_announcers(n, txid)
    try:
        wait_until(lambda: tx_getdatas(peers[0], txid), 30, what="getdata to peer 0")
        settle(n, peers)
        assert not tx_getdatas(peers[1], txid) and not tx_getdatas(peers[2], txid)
        # Peer 0 does not have it: the next announcer is asked.
        peers[0].send_msg("notfound", inv_tx(txid))
        wait_until(lambda: tx_getdatas(peers[1], txid), 30, what="getdata to peer 1")
        settle(n, peers)
        assert not tx_getdatas(peers[2], txid)
        # Peer 1 goes away: peer 2 is asked.
        peers[1].close()
        wait_until(lambda: tx_getdatas(peers[2], txid), 30, what="getdata to peer 2")
        peers[2].send_msg("tx", bytes.fromhex(hex_tx))
        wait_until(lambda: txid in n.getrawmempool(), 30, what="tx in mempool")
        settle(n, [peers[0], peers[2]])
        assert [len(tx_getdatas(p, txid)) for p in peers] == [1, 1, 1]
    finally:
        for p in peers:
            p.close()


def test_relayed_payment_received_once_per_node(node_factory):  # noqa: F811
    """Three nodes in a triangle: a payment made on node0 reaches the
    others once each, and nobody rejects it as already in the mempool."""
    n0, n1, n2 = node_factory.start(3)
    connect_nodes(n1, n0)
    connect_nodes(n2, n0)
    connect_nodes(n2, n1)
    starts = [n.debug_log_size() for n in (n0, n1, n2)]
    hex_tx, txid = funded_tx(n0)
    for n in (n1, n2):
        wait_until(lambda n=n: n.getbestblockhash() == n0.getbestblockhash(), 60,
                   what=f"node{n.index} synced")
    n0.sendrawtransaction(hex_tx)
    for n in (n1, n2):
        wait_until(lambda n=n: txid in n.getrawmempool(), 30, what=f"tx on node{n.index}")
    # Both announcements reached node2 before or after the tx: either way it
    # asked one peer only. Let any late announcement be handled first.
    n2.ping()
    wait_until(lambda: all(p.get("pingtime") is not None for p in n2.getpeerinfo()), 30,
               what="pings")
    for n in (n1, n2):
        got = sum(p["msgsrecv_per_msg"].get("tx", 0) for p in n.getpeerinfo())
        assert got == 1, f"node{n.index} received the tx {got} times"
    for n, start in zip((n0, n1, n2), starts):
        no_already_in_mempool(n, start)
