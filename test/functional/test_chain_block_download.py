"""Block download (doc/p2p.md, "Block download"): each block is asked of
one peer, once, and kept in flight until it has been received and
processed, so a node receives every block it lacks exactly once.

Bursts of 100+ blocks are mined on node0 with two and three nodes in a
line and in a triangle. Every other node must then have received each new
block exactly once (getpeerinfo's per-type counts, and the block hashes in
its -logmessages records) and sent no more block getdata items than blocks
it lacked. A node 1,000 blocks behind (mined in one call) catches up
promptly. Blocks that arrive before their parent are kept, not dropped and
asked for again; a block asked of a peer that goes, or that does not send
it in time, is asked of another.
"""
import hashlib
import struct

from framework import messages, netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import connect_nodes, wait_until

BURSTS = (100, 120, 105)


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def records(node, kind, peer="*"):
    """(msgtype, payload) of every message the node logged with `peer`
    ("ip:port"; all by default); kind is "recv" or "sent"."""
    out = []
    for path in (node.datadir / "message_logging").glob(
            f"{peer.replace(':', '_')}/msgs_{kind}.dat"):
        data, off = path.read_bytes(), 0
        while off + 24 <= len(data):
            msgtype = data[off + 8:off + 20].rstrip(b"\0").decode()
            (n,) = struct.unpack_from("<I", data, off + 20)
            out.append((msgtype, data[off + 24:off + 24 + n]))
            off += 24 + n
    return out


def blocks_received_log(node):
    """Display hashes of the blocks the node received, in order, with repeats."""
    return [sha256d(p[:80])[::-1].hex() for t, p in records(node, "recv") if t == "block"]


def block_getdata_items(node, peer="*"):
    """Block items of every getdata the node sent (to `peer`)."""
    items = []
    for t, p in records(node, "sent", peer):
        if t == "getdata":
            inv = messages.deserialize("getdata", p)["inventory"]
            items += [i["hash"] for i in inv
                      if i["type"] & ~messages.MSG_WITNESS_FLAG == messages.MSG_BLOCK]
    return items


def blocks_received_rpc(node):
    return sum(p["msgsrecv_per_msg"].get("block", 0) for p in node.getpeerinfo())


def wait_synced(nodes, tip, timeout_s=120):
    for n in nodes:
        wait_until(lambda n=n: n.getbestblockhash() == tip, timeout_s,
                   what=f"node{n.index} at {tip}")


def mine_bursts(n0, others, bursts=BURSTS):
    """Mine each burst in one call, waiting for every node between bursts.
    Returns the display hashes of all blocks mined."""
    addr = n0.getnewkeypair()["address"]
    mined = []
    for size in bursts:
        mined += n0.generatetoaddress(size, addr)
        wait_synced(others, mined[-1])
    return mined


def assert_each_block_once(node, mined):
    """The node lacked every block in `mined` and got each exactly once."""
    got = blocks_received_log(node)
    assert sorted(got) == sorted(mined), (
        f"node{node.index}: {len(got)} block messages for {len(mined)} blocks; "
        f"{len(got) - len(set(got))} repeats")
    assert blocks_received_rpc(node) == len(mined), node.getpeerinfo()
    asked = block_getdata_items(node)
    assert len(asked) <= len(mined), f"node{node.index} asked {len(asked)} items"
    assert len(set(asked)) == len(asked), f"node{node.index} asked for a block twice"


def test_burst_two_nodes(node_factory):  # noqa: F811
    n0, n1 = node_factory.start(2)
    connect_nodes(n1, n0)
    mined = mine_bursts(n0, [n1])
    assert_each_block_once(n1, mined)


def test_burst_three_nodes_in_a_line(node_factory):  # noqa: F811
    n0, n1, n2 = node_factory.start(3)
    connect_nodes(n1, n0)
    connect_nodes(n2, n1)
    mined = mine_bursts(n0, [n1, n2])
    for n in (n1, n2):
        assert_each_block_once(n, mined)


def test_burst_three_nodes_in_a_triangle(node_factory):  # noqa: F811
    n0, n1, n2 = node_factory.start(3)
    connect_nodes(n1, n0)
    connect_nodes(n2, n0)
    connect_nodes(n2, n1)
    mined = mine_bursts(n0, [n1, n2])
    for n in (n1, n2):
        assert_each_block_once(n, mined)
    # node0 served each block it mined at most once to each peer.
    sent = [sha256d(p[:80]) for t, p in records(n0, "sent") if t == "block"]
    assert len(sent) <= 2 * len(mined)


def test_thousand_blocks_behind_catches_up(node_factory):  # noqa: F811
    n0, n1, n2 = node_factory.start(3)
    connect_nodes(n1, n0)
    connect_nodes(n2, n1)
    addr = n0.getnewkeypair()["address"]
    mined = n0.generatetoaddress(1000, addr)
    # "Promptly": the whole chain in well under a minute on a busy machine
    # (it stalled for 15 minutes before).
    wait_synced([n1, n2], mined[-1], timeout_s=90)
    for n in (n1, n2):
        assert_each_block_once(n, mined)
    # A node that was not connected while they were mined catches up too.
    (late,) = node_factory.start(1)
    connect_nodes(late, n2)
    wait_synced([late], mined[-1], timeout_s=90)
    assert_each_block_once(late, mined)


def raw_blocks(node, hashes):
    return [bytes.fromhex(node.getblock(h, 0)) for h in hashes]


def test_block_before_its_parent_is_kept(node_factory):  # noqa: F811
    """A peer sends blocks 3, 2, 1 unasked: 3 and 2 wait for 1, nothing is
    asked for again, and the node ends at 3."""
    n0, n1 = node_factory.start(2)
    hashes = n0.generatetoaddress(3, n0.getnewkeypair()["address"])
    blocks = raw_blocks(n0, hashes)
    peer = netpeer.connect(n1)
    try:
        peer.handshake()
        peer.send_msg("block", blocks[2])
        peer.send_msg("block", blocks[1])
        # Both kept: for each the node asks for the headers that lead to it
        # (one getheaders came with the handshake).
        wait_until(lambda: sum(t == "getheaders" for t, _ in peer.received_messages()) >= 3,
                   30, what="getheaders for each early block")
        assert n1.getblockcount() == 0
        assert "block with unknown parent kept (2 kept)" in n1.debug_log_text()
        peer.send_msg("block", blocks[0])
        wait_synced([n1], hashes[2], timeout_s=30)
        # Ping round trip: everything the node did after block 1 is in.
        peer.send_msg("ping", netpeer.ping_payload(77))
        peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(77))
        asked = [m for t, m in peer.received_messages() if t == "getdata"]
        assert not asked, "a block that arrived early was asked for again"
        assert n1.peer(lambda p: p["addr"] == peer.local_addr), "peer was disconnected"
    finally:
        peer.close()


def headers_payload(raw):
    """A headers message carrying the headers of these raw blocks."""
    return netpeer.compact_size(len(raw)) + b"".join(b[:80] + b"\0" for b in raw)


def test_block_asked_of_a_peer_that_goes_is_asked_of_another(node_factory):  # noqa: F811
    """A test peer announces 5 blocks and never sends them; while it is
    connected node0 (announcing the same blocks) is not asked for them;
    when it goes, node0 is."""
    n0, n1 = node_factory.start(2)
    hashes = n0.generatetoaddress(5, n0.getnewkeypair()["address"])
    silent = netpeer.connect(n1)
    try:
        silent.handshake()
        silent.send_msg("headers", headers_payload(raw_blocks(n0, hashes)))
        payload = silent.wait_for_msg("getdata")
        inv = messages.deserialize("getdata", payload)["inventory"]
        assert [i["hash"] for i in inv] == hashes
        connect_nodes(n1, n0)
        # node0 has sent its headers (it answers getheaders at once);
        # a ping round trip with node0 shows n1 handled them.
        wait_until(lambda: n1.peer(lambda p: p["addr"] == n0.p2p_addr)
                   ["msgsrecv_per_msg"].get("headers", 0) >= 1, 30, what="headers from node0")
        n1.ping()
        wait_until(lambda: n1.peer(lambda p: p["addr"] == n0.p2p_addr)
                   .get("pingtime") is not None, 30, what="ping to node0")
        assert n1.getblockcount() == 0
        assert blocks_received_rpc(n1) == 0
    finally:
        silent.close()
    wait_synced([n1], hashes[-1], timeout_s=30)
    assert sorted(blocks_received_log(n1)) == sorted(hashes)
    assert sorted(block_getdata_items(n1, n0.p2p_addr)) == sorted(hashes)


def test_block_not_delivered_in_time_goes_to_another_peer(node_factory):  # noqa: F811
    """A test peer announces 5 blocks and never sends them: after
    -blockdownloadtimeout it is disconnected (as Core does) and node0,
    which has them too, is asked instead."""
    n0, n1 = node_factory.start(2, [[], ["-blockdownloadtimeout=2"]])
    hashes = n0.generatetoaddress(5, n0.getnewkeypair()["address"])
    silent = netpeer.connect(n1)
    try:
        silent.handshake()
        silent.send_msg("headers", headers_payload(raw_blocks(n0, hashes)))
        silent.wait_for_msg("getdata")
        log_start = n1.debug_log_size()
        connect_nodes(n1, n0)
        silent.wait_closed(timeout_s=30)
        n1.wait_for_log("did not send a requested block in 2s; disconnecting", since=log_start)
    finally:
        silent.close()
    wait_synced([n1], hashes[-1], timeout_s=30)
    assert sorted(blocks_received_log(n1)) == sorted(hashes)
    assert sorted(block_getdata_items(n1, n0.p2p_addr)) == sorted(hashes)
