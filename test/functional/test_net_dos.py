"""Hostile peers on loopback (issue 14, items 1-4; doc/p2p.md, "Limits").

Each attack runs in a bounded loop against a fresh node, which must stay
up, answer RPC within a bound, stay under an RSS ceiling and write one
clear debug.log line; the peer is dropped or penalised as doc/p2p.md says.
"""
import json
import re
import socket
import struct
import time

import pytest

from framework import messages as m
from framework import p2p
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import JSONRPCError, timeout, wait_until

RSS_SLACK = 64 << 20       # what an attack may add to the node's RSS
RPC_BOUND_S = 2.0


def assert_healthy(node, rss_before, slack=RSS_SLACK):
    assert node.running()
    _, took = node.timed_call("getnetworkinfo")
    assert took < timeout(RPC_BOUND_S), f"getnetworkinfo took {took:.2f}s"
    rss = node.rss_bytes()
    ceiling = rss_before + slack + node.rss_overhead()
    assert rss < ceiling, f"RSS {rss >> 20} MiB (was {rss_before >> 20} MiB)"
    assert not node.sanitizer_reports(), "\n".join(node.sanitizer_reports())


def big_block(node, txs=10, outputs=1000):
    """Mine a block of `txs` transactions paying `outputs` addresses each
    (about 34 KB a transaction); return (hash, size in bytes)."""
    node.createwallet("big")
    node.createwallet("dst")   # paid to: its coins must not fund the next payment
    w = node.wallet_rpc("big")
    node.generatetoaddress(100 + txs, w.getnewaddress())
    addrs = []
    while len(addrs) < outputs:       # batches of at most 1000 (RPC_MAX_BATCH)
        n = min(1000, outputs - len(addrs))
        status, data = node.http_post(json.dumps(
            [{"method": "getnewaddress", "id": i} for i in range(n)]).encode(),
            path="/wallet/dst")
        addrs += [r["result"] for r in json.loads(data)]
    for _ in range(txs):
        w.sendmany("", {a: 0.001 for a in addrs})
    h = node.generatetoaddress(1, w.getnewaddress())[0]
    size = len(node.getblock(h, 0)) // 2
    assert size > txs * outputs * 30
    return h, size


def getdata_blocks(hashes):
    return m.serialize("getdata", {"inventory": [{"type": m.MSG_BLOCK, "hash": h}
                                                 for h in hashes]})


# ---- item 1: getdata -----------------------------------------------------------

def test_getdata_duplicates_are_served_once(node_factory):  # noqa: F811
    node = node_factory.add()
    node.wait_for_rpc()
    h, size = big_block(node)
    rss = node.rss_bytes()
    peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    peer.handshake()
    # One getdata naming the block 5,000 times: it would be 5,000 copies.
    peer.send_payload("getdata", getdata_blocks([h] * 5000))
    peer.ping_roundtrip(timeout=60)
    blocks = [msg for msg in peer.received() if msg.msgtype == "block"]
    assert len(blocks) == 1 and len(blocks[0].payload) == size
    assert_healthy(node, rss)
    peer.close()


def raw_peer(node, rcvbuf=None):
    """A socket that completed the handshake by hand and is read by nobody
    afterwards (P2PConnection's reader would drain what the node sends)."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout(30))
    s.connect(("127.0.0.1", node.p2p_port))
    s.sendall(m.frame_message("version", m.make_version(nonce=12345, timestamp=int(time.time()))))
    buf, seen = b"", set()
    while not {"version", "verack"} <= seen:
        chunk = s.recv(65536)
        assert chunk, "closed during the handshake"
        buf += chunk
        while (one := m.unframe(buf)):
            seen.add(one[0])
            buf = buf[one[2]:]
    s.sendall(m.frame("verack"))
    return s


def test_getdata_waits_while_the_send_buffer_is_full(node_factory):  # noqa: F811
    """A peer that asks for a big block over and over and reads nothing:
    the node answers what its send buffer takes, then stops reading from
    it; memory stays bounded and other peers are served."""
    node = node_factory.add()
    node.wait_for_rpc()
    h, size = big_block(node)
    rss = node.rss_bytes()
    s = raw_peer(node, rcvbuf=4096)
    s.setblocking(False)
    request = m.frame("getdata", getdata_blocks([h]))
    sent, blocked_since = 0, None
    while sent < 300:                        # 300 x ~350 KB asked for
        try:
            s.send(request)
            sent += 1
            blocked_since = None
        except BlockingIOError:              # the node is not reading
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > 1:
                break
            time.sleep(0.02)
    # The node stopped reading from it rather than queue 300 blocks.
    node.wait_for_log("send buffer full, pausing reads")
    assert_healthy(node, rss, slack=48 << 20)
    other = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    other.handshake()
    start = time.monotonic()
    other.ping_roundtrip()
    assert time.monotonic() - start < timeout(RPC_BOUND_S)
    other.close()
    s.close()


# ---- item 3: partial messages ------------------------------------------------

NET_RECV_BUDGET = 32 << 20


def test_partial_messages_are_bounded_and_time_out(node_factory):  # noqa: F811
    node = node_factory.add(["-recvtimeout=3"])
    node.wait_for_rpc()
    rss = node.rss_bytes()
    since = node.debug_log_size()
    peers = []
    for _ in range(12):                     # 12 x 3.5 MB begun: 42 MB > 32 MiB
        peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
        peer.handshake()
        peers.append(peer)
    head = m.frame("block", b"")[:16] + struct.pack("<I", 4_000_000) + b"\0\0\0\0"
    for peer in peers:
        try:
            peer.send_raw(head + b"\x5a" * 3_500_000)
        except OSError:
            pass                            # dropped while sending: fine
    node.wait_for_log("dropped: partial messages of all peers hold", since)
    assert_healthy(node, rss, slack=NET_RECV_BUDGET + (24 << 20))
    # The rest stop sending: dropped once -recvtimeout passes.
    node.wait_for_log(re.compile(r"dropped: a message begun 3s ago is still incomplete "
                                 r"\(\d+ bytes received\)"), since, timeout_s=30)
    wait_until(lambda: all(p.disconnected.is_set() for p in peers), 30,
               what="every peer with a partial message dropped")
    assert not node.getpeerinfo()
    assert_healthy(node, rss, slack=NET_RECV_BUDGET + (24 << 20))
    # Not discouraged: a slow link is no offence; the same IP connects again.
    again = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    again.handshake()
    again.close()


# ---- item 2: addr ------------------------------------------------------------

def addr_msg(entries):
    return m.serialize("addr", m.make_addr(entries))


def test_addr_flood_cannot_take_the_table(node_factory):  # noqa: F811
    """Ten peers of one /16 send 60 addr messages of 1,000 entries each,
    stamped 0xffffffff: their times are clamped, each peer's token bucket
    lets ~1,000 through, and all of them together reach only their source
    group's 4 buckets of 64. An address an honest peer of another group
    told us stays."""
    node = node_factory.add()
    node.wait_for_rpc()
    rss = node.rss_bytes()
    since = node.debug_log_size()
    honest = p2p.P2PConnection("127.0.0.1", node.p2p_port, bind="127.1.0.1")
    honest.handshake()
    now = int(time.time())
    honest.send_payload("addr", addr_msg([(now, "10.0.0.1", 28444)]))
    honest.ping_roundtrip()
    assert [a["address"] for a in node.getnodeaddresses(0)] == ["10.0.0.1"]
    entry, = node.getnodeaddresses()
    assert entry == {"time": now, "services": m.SERVICES, "address": "10.0.0.1",
                     "port": 28444, "network": "not_publicly_routable"}
    with pytest.raises(JSONRPCError) as exc:
        node.getnodeaddresses(-1)
    assert exc.value.code == -8

    flooders = [p2p.P2PConnection("127.0.0.1", node.p2p_port, bind=f"127.2.0.{i + 1}")
                for i in range(10)]
    for i, f in enumerate(flooders):
        f.handshake()
        for k in range(6):
            f.send_payload("addr", addr_msg(
                [(0xffffffff, f"{20 + i}.{k}.{j >> 8}.{j & 255}", 28444)
                 for j in range(1000)]))
        f.ping_roundtrip(timeout=60)
    table = node.getnodeaddresses(0)
    flood = [a for a in table if a["address"] != "10.0.0.1"]
    assert any(a["address"] == "10.0.0.1" for a in table), "the honest address was evicted"
    assert 0 < len(flood) <= 4 * 64, len(flood)
    later = int(time.time())
    assert all(a["time"] <= later - 5 * 24 * 3600 + 5 for a in flood), \
        "a future time was not clamped to 5 days ago"
    node.wait_for_log(re.compile(r"addr: \d+ entries over the rate limit ignored"), since)
    # Rate limiting is no offence: the flooders stay connected.
    assert all(not f.disconnected.is_set() for f in flooders)
    assert_healthy(node, rss)
    for f in flooders + [honest]:
        f.close()


# ---- item 4: low-work headers -------------------------------------------------

def mine_branch(prev_hash, start_time, n, tag):
    """n valid regtest headers (bits 0x207fffff) on prev_hash; `tag` in the
    merkle root makes each branch distinct."""
    target = 0x7fffff << (8 * (0x20 - 3))
    headers = []
    for i in range(n):
        h = {"version": 4, "prev_block": prev_hash, "merkle_root": f"{tag:064x}",
             "time": start_time + i, "bits": 0x207fffff, "nonce": 0}
        while int(m.block_hash(h), 16) > target:
            h["nonce"] += 1
        h["hash"] = prev_hash = m.block_hash(h)
        headers.append(h)
    return headers


def test_low_work_headers_are_refused(node_factory):  # noqa: F811
    """Branches of 100 headers forked from genesis, far below a 400-block
    tip: a peer may add 2,000 such headers (a reorg that deep), then it is
    disconnected and nothing more is stored."""
    node = node_factory.add()
    node.wait_for_rpc()
    node.createwallet("w")
    node.generatetoaddress(400, node.wallet_rpc("w").getnewaddress())
    rss = node.rss_bytes()
    since = node.debug_log_size()
    genesis = node.getblockhash(0)
    t0 = node.getblockheader(genesis)["time"] + 1
    peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    peer.handshake()
    sent = 0
    for k in range(30):                       # 3,000 headers in all
        if peer.disconnected.is_set():
            break
        branch = mine_branch(genesis, t0 + k, 100, k + 1)
        try:
            peer.send_message("headers", {"headers": branch})
            sent += 1
        except OSError:
            break
    peer.wait_for_disconnect(timeout=30)
    node.wait_for_log(re.compile(r"sent \d+ headers of chains with too little work"), since)
    tips = [t for t in node.getchaintips() if t["status"] != "active"]
    assert 20 <= len(tips) <= 21, len(tips)      # 2,000 allowed, then refused
    assert all(t["branchlen"] == 100 for t in tips)
    assert node.getblockcount() == 400
    assert_healthy(node, rss)
    # Disconnected, not discouraged: the IP may connect again.
    again = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    again.handshake()
    again.close()


def test_headers_below_minimum_chain_work_are_refused(node_factory):  # noqa: F811
    """-minimumchainwork (as Core's): a fresh node told the work of 5,000
    blocks stores one full message of a 4,000-header chain (its allowance)
    and disconnects the peer at the next."""
    node = node_factory.add([f"-minimumchainwork={2 * 5000:x}"])  # 2 per regtest block
    node.wait_for_rpc()
    since = node.debug_log_size()
    genesis = node.getblockhash(0)
    chain = mine_branch(genesis, node.getblockheader(genesis)["time"] + 1, 4000, 7)
    peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    peer.handshake()
    peer.send_message("headers", {"headers": chain[:2000]})
    peer.ping_roundtrip()
    assert not peer.disconnected.is_set()
    try:
        peer.send_message("headers", {"headers": chain[2000:]})
    except OSError:
        pass
    peer.wait_for_disconnect(timeout=30)
    node.wait_for_log("headers of chains with too little work (below -minimumchainwork", since)
    tips = [t for t in node.getchaintips() if t["status"] != "active"]
    assert [t["height"] for t in tips] == [2000]
    assert node.getblockcount() == 0
