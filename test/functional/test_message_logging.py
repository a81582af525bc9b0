"""-logmessages: every message between a test peer and the node is written
to DATADIR/message_logging/<addr>/msgs_{recv,sent}.dat, and
contrib/message-logging/message-logging-parser.py turns those files into
JSON with each message decoded, in order.
"""
import json
import struct
import subprocess
import time

import pytest

from conftest import ROOT
from framework import netpeer
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import wait_until

PARSER = ROOT / "contrib" / "message-logging" / "message-logging-parser.py"
PYTHON = "/usr/bin/python3"


def read_records(path):
    """(time_us, msgtype, payload) records of one .dat file, per the brief:
    8-byte LE time in microseconds, 12-byte NUL-padded type, 4-byte LE
    length, payload."""
    data = path.read_bytes() if path.exists() else b""
    out, off = [], 0
    while off + 24 <= len(data):
        (t,) = struct.unpack_from("<Q", data, off)
        msgtype = data[off + 8:off + 20].rstrip(b"\0").decode()
        (n,) = struct.unpack_from("<I", data, off + 20)
        if off + 24 + n > len(data):
            break  # record still being written
        out.append((t, msgtype, data[off + 24:off + 24 + n]))
        off += 24 + n
    return out


@pytest.fixture(scope="module")
def session(node_set):  # noqa: F811
    """A node and a finished message exchange with one test peer."""
    (node,) = node_set.start(1)
    peer = netpeer.connect(node)
    t0 = int(time.time() * 1e6)
    peer.handshake()
    peer.send_msg("ping", netpeer.ping_payload(0x0102030405060708))
    peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(0x0102030405060708))
    peer.send_msg("addr", netpeer.addr_payload([(int(time.time()), "10.1.2.3", 28444)]))
    peer.send_msg("getaddr")
    peer.send_msg("ping", netpeer.ping_payload(99))
    peer.wait_for_msg("pong", lambda p: p == netpeer.ping_payload(99))
    logdir = node.datadir / "message_logging" / peer.local_addr.replace(":", "_")

    def complete():
        recv = read_records(logdir / "msgs_recv.dat")
        sent = read_records(logdir / "msgs_sent.dat")
        return (len(recv) >= len(peer.sent_messages())
                and len(sent) >= len(peer.received_messages())) and (recv, sent)
    recv, sent = wait_until(complete, what=f"message logs in {logdir}")
    return {"node": node, "peer": peer, "logdir": logdir, "recv": recv, "sent": sent,
            "t0": t0}


def test_log_files_hold_every_message_in_order(session):
    peer = session["peer"]
    assert [(t, p) for _, t, p in session["recv"]] == peer.sent_messages()
    received = peer.received_messages()
    assert [(t, p) for _, t, p in session["sent"]][:len(received)] == received
    for records in (session["recv"], session["sent"]):
        times = [t for t, _, _ in records]
        assert times == sorted(times)
        assert session["t0"] - 5_000_000 <= times[0] <= int(time.time() * 1e6)


def run_parser(*args):
    proc = subprocess.run([PYTHON, str(PARSER)] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_parser_json_decodes_every_message(session, tmp_path):
    from conftest import require
    require(PARSER.exists(), f"{PARSER} not present")
    peer = session["peer"]
    out = tmp_path / "messages.json"
    run_parser("-o", out, session["logdir"] / "msgs_recv.dat", session["logdir"] / "msgs_sent.dat")
    msgs = json.loads(out.read_text())

    # Merged in time order, each direction in its own order.
    times = [m["time"] for m in msgs]
    assert times == sorted(times)
    recv = [m for m in msgs if m["direction"] == "recv"]
    sent = [m for m in msgs if m["direction"] == "sent"]
    assert [m["msgtype"] for m in recv] == [t for t, _ in peer.sent_messages()]
    got = [t for t, _ in peer.received_messages()]
    assert [m["msgtype"] for m in sent][:len(got)] == got
    for m, (_, payload) in zip(recv, peer.sent_messages()):
        assert m["size"] == len(payload)
    for m, (_, payload) in zip(sent, peer.received_messages()):
        assert m["size"] == len(payload)

    # Decoded bodies.
    version_in = recv[0]
    assert version_in["msgtype"] == "version"
    assert version_in["body"]["version"] == 70016
    assert version_in["body"]["user_agent"] == netpeer.USER_AGENT.decode()
    version_out = sent[0]
    assert version_out["body"]["user_agent"] == "/moneyrocket:0.1.0/"
    pings = [m for m in recv if m["msgtype"] == "ping"]
    assert [p["body"]["nonce"] for p in pings] == [0x0102030405060708, 99]
    pongs = [m for m in sent if m["msgtype"] == "pong"]
    assert [p["body"]["nonce"] for p in pongs][:2] == [0x0102030405060708, 99]
    addr = next(m for m in recv if m["msgtype"] == "addr")
    entries = addr["body"]["addrs"]
    assert len(entries) == 1 and entries[0]["port"] == 28444
    assert "10.1.2.3" in json.dumps(entries[0])
    verack = next(m for m in recv if m["msgtype"] == "verack")
    assert verack["size"] == 0


def test_parser_reads_a_directory_tree(session, tmp_path):
    """Given the message_logging directory, the parser finds both files."""
    from conftest import require
    require(PARSER.exists(), f"{PARSER} not present")
    out = tmp_path / "all.json"
    run_parser("-o", out, *sorted(session["logdir"].glob("*.dat")))
    msgs = json.loads(out.read_text())
    assert len(msgs) >= len(session["recv"]) + len(session["sent"]) - 1
