"""Malformed and hostile P2P input: the node survives and reports each one.

Every case opens a fresh connection from its own loopback address,
optionally completes the handshake, then sends something bad. Expected
outcomes, Bitcoin Core's (doc/p2p.md, "Misbehaviour"):
  misbehave  net:misbehaving_connection with the exact reason (BCC), the reason
             in debug.log, then net:closed_connection and the socket closed;
             the address is local, so it is not discouraged (it may return)
  disconnect closed with the reason in debug.log, no misbehaving_connection
  dropped    the message is dropped (reason in debug.log), the peer stays and
             can still complete its handshake and get a pong
  timeout    the handshake never completes: closed after -handshaketimeout,
             net:closed_connection fires, net:misbehaving_connection does not
  accepted   the connection stays up and the node still answers a ping
After every case the node answers RPC. The whole list runs twice: against
src/moneyrocketd and against the ASan/UBSan build (make test-env), which must
exit cleanly with no sanitizer report on stderr.
"""
import random
import struct
import time

import pytest

from conftest import require, require_bcc, require_built
from framework import netpeer
from framework.netpeer import compact_size, frame, ping_payload
from framework.node import NodeSet, default_binary, sanitizer_binary
from framework.tracers import NetTracer

HANDSHAKE_TIMEOUT = 3


def version_of(peer):
    return peer.version_payload()


def inv_entries(n):
    return compact_size(n) + b"".join(struct.pack("<I", 1) + i.to_bytes(32, "little")
                                      for i in range(n))


def headers_entries(n):
    # 80-byte header + CompactSize transaction count 0.
    return compact_size(n) + (b"\x01" + b"\0" * 79 + b"\0") * n


def getheaders(locator_count):
    return (struct.pack("<I", 70016) + compact_size(locator_count)
            + b"\x11" * 32 * locator_count + b"\0" * 32)


def garbage():
    rng = random.Random(20240601)
    data = bytes(rng.randrange(256) for _ in range(100))
    assert data[:4] != netpeer.MAGIC
    return data


def trickle(peer, data, interval=0.1, deadline_s=30):
    """Slowloris: one byte at a time until the node hangs up."""
    end = time.monotonic() + deadline_s
    for b in data:
        if peer.closed.is_set() or time.monotonic() > end:
            return
        try:
            peer.send_raw(bytes([b]))
        except OSError:
            return
        time.sleep(interval)  # pacing of the attack itself, not a wait


def tx_no_outputs():
    """A transaction with one input and no outputs: bad-txns-vout-empty, a
    consensus failure whatever the inputs are (Core's TX_CONSENSUS)."""
    return (struct.pack("<i", 1) + compact_size(1) + b"\x11" * 32 + struct.pack("<I", 0)
            + compact_size(0) + struct.pack("<I", 0xffffffff) + compact_size(0)
            + struct.pack("<I", 0))


# (name, handshake first?, action(peer), outcome, reason): Bitcoin Core's
# answer to each (doc/p2p.md, "Misbehaviour"). Test peers connect from
# 127.x.x.x, a local address: a misbehaving one is disconnected but not
# discouraged (test_net_misbehaviour.py covers the other addresses).
CASES = [
    # --- framing, before the handshake: Core's transport ---
    ("wrong_magic", False,
     lambda p: p.send_raw(frame("version", version_of(p), magic=b"\xf9\xbe\xb4\xd9")),
     "disconnect", "wrong network magic"),
    ("garbage_bytes", False, lambda p: p.send_raw(garbage()),
     "disconnect", "wrong network magic"),
    ("command_not_nul_padded", False,
     lambda p: p.send_raw(frame("version", version_of(p), command=b"ver\0sion\0\0\0\0")),
     "dropped", "malformed message header"),
    ("command_unprintable", False,
     lambda p: p.send_raw(frame("version", version_of(p), command=b"vers\x01on\0\0\0\0\0")),
     "dropped", "malformed message header"),
    ("oversized_length", False,
     lambda p: p.send_raw(frame("version", b"", length=4_000_001)),
     "disconnect", "oversized message: 4000001 bytes"),
    ("length_max_uint32", False,
     lambda p: p.send_raw(frame("ping", b"", length=0xffffffff)),
     "disconnect", "oversized message: 4294967295 bytes"),
    ("version_bad_checksum", False,
     lambda p: p.send_raw(frame("version", version_of(p), checksum=b"\xde\xad\xbe\xef")),
     "dropped", "checksum mismatch for version message"),
    # --- order of the handshake ---
    ("ping_before_version", False, lambda p: p.send_msg("ping", ping_payload(7)),
     "dropped", "message before version handshake: ping"),
    ("verack_before_version", False, lambda p: p.send_msg("verack"),
     "dropped", "message before version handshake: verack"),
    ("addr_before_version", False,
     lambda p: p.send_msg("addr", netpeer.addr_payload([(int(time.time()), "127.9.9.9", 1)])),
     "dropped", "message before version handshake: addr"),
    ("version_truncated", False, lambda p: p.send_msg("version", version_of(p)[:30]),
     "dropped", "malformed version message"),
    ("duplicate_version", True, lambda p: p.send_msg("version", version_of(p)),
     "dropped", "duplicate version message"),
    # --- payloads that do not decode: dropped, the peer kept ---
    ("ping_too_short", True, lambda p: p.send_msg("ping", b"\x01\x02\x03"),
     "dropped", "malformed ping message"),
    ("ping_trailing_garbage", True, lambda p: p.send_msg("ping", ping_payload(1) + b"\x00"),
     "dropped", "malformed ping message"),
    ("length_says_less_than_sent", True,
     lambda p: p.send_raw(frame("ping", b"\x01\x02\x03\x04") + b"\x05\x06\x07\x08"),
     "disconnect", "wrong network magic"),  # the ping is dropped; the rest is no header
    ("ping_bad_checksum", True,
     lambda p: p.send_raw(frame("ping", ping_payload(1), checksum=b"\0\0\0\0")),
     "dropped", "checksum mismatch for ping message"),
    ("addr_bad_compactsize", True, lambda p: p.send_msg("addr", b"\xff"),
     "dropped", "malformed addr message"),
    ("inv_count_lies", True, lambda p: p.send_msg("inv", compact_size(2) + inv_entries(1)[1:]),
     "dropped", "malformed inv message"),
    ("getheaders_truncated", True, lambda p: p.send_msg("getheaders", struct.pack("<I", 70016)),
     "dropped", "malformed getheaders message"),
    ("headers_truncated", True, lambda p: p.send_msg("headers", compact_size(1) + b"\0" * 40),
     "dropped", "malformed headers message"),
    ("block_truncated", True, lambda p: p.send_msg("block", b"\x01\x00"),
     "dropped", "malformed block message"),
    ("tx_truncated", True, lambda p: p.send_msg("tx", b"\x01\x00\x00"),
     "dropped", "malformed tx message"),
    ("notfound_50001", True, lambda p: p.send_msg("notfound", inv_entries(50001)),
     "dropped", "notfound message size = 50001"),
    # --- sizes over the limits: misbehaving ---
    ("addr_1001", True,
     lambda p: p.send_msg("addr", netpeer.addr_payload(
         [(int(time.time()), f"10.0.{i // 250}.{i % 250 + 1}", 28444) for i in range(1001)])),
     "misbehave", "addr message size = 1001"),
    ("inv_50001", True, lambda p: p.send_msg("inv", inv_entries(50001)),
     "misbehave", "inv message size = 50001"),
    ("getdata_50001", True, lambda p: p.send_msg("getdata", inv_entries(50001)),
     "misbehave", "getdata message size = 50001"),
    ("headers_2001", True, lambda p: p.send_msg("headers", headers_entries(2001)),
     "misbehave", "headers message size = 2001"),
    ("getheaders_locator_102", True, lambda p: p.send_msg("getheaders", getheaders(102)),
     "disconnect", "getheaders locator size = 102"),
    # --- content that breaks a rule ---
    ("headers_not_continuous", True, lambda p: p.send_msg("headers", headers_entries(2)),
     "misbehave", "non-continuous headers sequence"),
    ("tx_consensus_invalid", True, lambda p: p.send_msg("tx", tx_no_outputs()),
     "misbehave", "invalid transaction: bad-txns-vout-empty"),
    # --- peers that never finish ---
    ("silent_peer", False, lambda p: None, "timeout", None),
    ("length_says_more_than_sent", False,
     lambda p: p.send_raw(frame("version", version_of(p), length=len(version_of(p)) + 50)),
     "timeout", None),
    ("slowloris_version", False, lambda p: trickle(p, frame("version", version_of(p))),
     "timeout", None),
    ("slowloris_header_only", False, lambda p: trickle(p, frame("version", b"")[:20]),
     "timeout", None),
    # --- odd but allowed ---
    ("unknown_message_type", True, lambda p: p.send_msg("xyzzy", b"\x00" * 10),
     "accepted", None),
    ("version_with_extra_fields", False,
     lambda p: p.send_msg("version", version_of(p) + b"\x01extra"),
     "accepted", None),
]


def _variant_binary(variant):
    if variant == "plain":
        return require_built(default_binary())
    path = sanitizer_binary()
    # The sanitizer build is made by the node's makefile: under CI it must be
    # there; outside CI a missing one skips this variant only.
    require(path is not None and path.exists(),
            f"ASan/UBSan build of moneyrocketd not built ({path}); run make")
    return path


@pytest.fixture(scope="module", params=["plain", "asan"])
def target(request):
    """(node, tracer) for one variant; the node is stopped at module end."""
    require_bcc()
    binary = _variant_binary(request.param)
    before = request.session.testsfailed
    ns = NodeSet(prefix=f"mr_malformed_{request.param}_", binary=binary)
    node = ns.add([f"-handshaketimeout={HANDSHAKE_TIMEOUT}"])
    node.wait_for_rpc(timeout_s=60)
    tracer = NetTracer(node.binary, node.pid)
    state = {"node": node, "tracer": tracer, "variant": request.param, "ns": ns}
    try:
        yield state
    finally:
        tracer.close()
        ns.stop(failed=request.session.testsfailed > before)


def _peer_id(tracer, peer):
    e = tracer.wait_for("inbound_connection", addr=peer.local_addr)[0]
    return e["peer_id"]


@pytest.mark.parametrize("name,handshake,action,outcome,reason", CASES,
                         ids=[c[0] for c in CASES])
def test_malformed(target, name, handshake, action, outcome, reason):
    node, tracer = target["node"], target["tracer"]
    assert node.running(), "node died in an earlier case"
    log_start = node.debug_log_size()
    peer = netpeer.connect(node)
    peer_id = _peer_id(tracer, peer)
    if handshake:
        peer.handshake()
    try:
        action(peer)
    except OSError:
        pass  # the node may hang up while we are still sending: that is fine

    if outcome == "misbehave":
        e = tracer.wait_for("misbehaving_connection", peer_id=peer_id)[0]
        assert e["reason"] == reason
        tracer.wait_for("closed_connection", peer_id=peer_id)
        peer.wait_closed()
        node.wait_for_log(reason, since=log_start)
        node.wait_for_log("not discouraging a local peer", since=log_start)
        # Local: disconnected, not discouraged; the same IP may come back.
        again = netpeer.connect(node, source_ip=peer.local_addr.rsplit(":", 1)[0])
        again.handshake()
        again.close()
    elif outcome == "disconnect":
        closed = tracer.wait_for("closed_connection", peer_id=peer_id)[0]
        assert closed["addr"] == peer.local_addr
        peer.wait_closed()
        node.wait_for_log(reason, since=log_start)
        tracer.drain()
        assert not tracer.select("misbehaving_connection", peer_id=peer_id)
    elif outcome == "timeout":
        closed = tracer.wait_for("closed_connection", peer_id=peer_id,
                                 timeout_s=HANDSHAKE_TIMEOUT + 30)[0]
        assert closed["addr"] == peer.local_addr and closed["conn_type"] == "inbound"
        peer.wait_closed()
        tracer.drain()
        assert not tracer.select("misbehaving_connection", peer_id=peer_id)
    else:  # dropped (the message only) or accepted: the peer stays
        if outcome == "dropped":
            node.wait_for_log(reason, since=log_start)
        if not handshake and outcome == "dropped":
            peer.handshake()   # a dropped message did not count
        elif not handshake:
            peer.wait_for_msg("version")
            peer.wait_for_msg("verack")
            peer.send_msg("verack")
        peer.send_msg("ping", ping_payload(0xabcdef))
        peer.wait_for_msg("pong", lambda payload: payload == ping_payload(0xabcdef))
        tracer.drain()
        assert not tracer.select("misbehaving_connection", peer_id=peer_id)
        assert not tracer.select("closed_connection", peer_id=peer_id)
    peer.close()

    # The node is still up and serving.
    assert node.running()
    assert node.getnetworkinfo()["protocolversion"] == 70016
    if target["variant"] == "asan":
        assert not node.sanitizer_reports(), "\n".join(node.sanitizer_reports())


def test_node_exits_cleanly(target):
    """After every case: a clean shutdown, and (ASan) nothing on stderr."""
    node = target["node"]
    assert node.running()
    target["tracer"].close()
    code = node.stop()
    assert code == 0, f"exit code {code}\n{node.failure_report()}"
    reports = node.sanitizer_reports()
    assert not reports, "sanitizer reports:\n" + node.stderr_text()
