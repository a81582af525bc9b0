"""contrib/message-logging/message-logging-parser.py on .dat files written
by hand (the record format of doc/message-logging.md), no node needed:
merged time order, directions, sizes, decoded bodies, errors for unknown,
undecodable and truncated records, directories, and -o versus stdout.
"""
import json
import struct
import subprocess
import sys

import pytest

from conftest import ROOT
from framework import messages

PARSER = ROOT / "contrib" / "message-logging" / "message-logging-parser.py"


def record(time_us, msgtype, payload):
    """One record: LE u64 time, 12-byte NUL-padded type, LE u32 length, payload."""
    return (struct.pack("<Q", time_us) + msgtype.encode().ljust(12, b"\0")
            + struct.pack("<I", len(payload)) + payload)


def run_parser(*args, check=True):
    proc = subprocess.run([sys.executable, str(PARSER)] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


VERSION = messages.make_version(nonce=42, user_agent="/peer:1.0/", start_height=7,
                                timestamp=1_700_000_000)


@pytest.fixture
def peer_dir(tmp_path):
    """message_logging/127.0.0.1_28444 with a recv and a sent file whose
    records interleave in time."""
    d = tmp_path / "message_logging" / "127.0.0.1_28444"
    d.mkdir(parents=True)
    (d / "msgs_recv.dat").write_bytes(
        record(1000, "version", messages.serialize("version", VERSION))
        + record(3000, "verack", b"")
        + record(5000, "ping", messages.serialize("ping", {"nonce": 0x0102030405060708}))
        + record(7000, "addr", messages.serialize(
            "addr", messages.make_addr([(1_700_000_000, "10.1.2.3", 28444)]))))
    (d / "msgs_sent.dat").write_bytes(
        record(2000, "version", messages.serialize("version", messages.make_version(
            user_agent="/moneyrocket:0.1.0/")))
        + record(2500, "verack", b"")
        + record(6000, "pong", messages.serialize("pong", {"nonce": 0x0102030405060708})))
    return d


def test_merges_files_in_time_order(peer_dir, tmp_path):
    out = tmp_path / "out.json"
    run_parser(peer_dir / "msgs_recv.dat", peer_dir / "msgs_sent.dat", "-o", out)
    msgs = json.loads(out.read_text())
    assert [(m["time"], m["direction"], m["msgtype"]) for m in msgs] == [
        (1000, "recv", "version"), (2000, "sent", "version"), (2500, "sent", "verack"),
        (3000, "recv", "verack"), (5000, "recv", "ping"), (6000, "sent", "pong"),
        (7000, "recv", "addr")]
    for m in msgs:
        assert set(m) == {"direction", "time", "size", "msgtype", "body"}
    version = msgs[0]
    assert version["body"] == VERSION
    assert version["size"] == len(messages.serialize("version", VERSION))
    assert msgs[1]["body"]["user_agent"] == "/moneyrocket:0.1.0/"
    assert msgs[3] == {"direction": "recv", "time": 3000, "size": 0, "msgtype": "verack",
                       "body": {}}
    assert msgs[4]["body"] == {"nonce": 0x0102030405060708}
    assert msgs[6]["body"]["addrs"] == [{"time": 1_700_000_000, "services": 0x409,
                                         "ip": "10.1.2.3", "port": 28444}]


def test_stdout_and_directory_arguments_give_the_same(peer_dir, tmp_path):
    by_files = json.loads(run_parser(peer_dir / "msgs_sent.dat",
                                     peer_dir / "msgs_recv.dat").stdout)
    by_dir = json.loads(run_parser(tmp_path / "message_logging").stdout)
    assert by_files == by_dir
    assert len(by_dir) == 7


def test_equal_times_keep_file_order(tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "msgs_recv.dat").write_bytes(b"".join(
        record(500, "ping", struct.pack("<Q", n)) for n in range(5)))
    msgs = json.loads(run_parser(d / "msgs_recv.dat").stdout)
    assert [m["body"]["nonce"] for m in msgs] == [0, 1, 2, 3, 4]


def test_unknown_and_undecodable_messages_get_errors(tmp_path):
    d = tmp_path / "[__1]_28444"
    d.mkdir()
    (d / "msgs_recv.dat").write_bytes(
        record(1, "xyzzy", b"\x01\x02")
        + record(2, "ping", b"\x01\x02\x03")
        + record(3, "inv", messages.ser_compact_size(50001))
        + record(4, "pong", struct.pack("<Q", 9)))
    msgs = json.loads(run_parser(d / "msgs_recv.dat").stdout)
    assert msgs[0] == {"direction": "recv", "time": 1, "size": 2, "msgtype": "xyzzy",
                       "body": "0102", "error": "unknown message type: xyzzy"}
    assert msgs[1]["error"] == "malformed ping message" and msgs[1]["body"] == "010203"
    assert msgs[2]["error"] == "inv message size = 50001"
    assert msgs[3]["body"] == {"nonce": 9} and "error" not in msgs[3]


@pytest.mark.parametrize("cut", [1, 8, 20, 23, 24 + 3])
def test_truncated_final_record(tmp_path, cut):
    """A record cut short (in its header or payload) is the last entry of its
    file, with an error; the records before it decode."""
    d = tmp_path / "peer"
    d.mkdir()
    last = record(9000, "ping", struct.pack("<Q", 5))
    (d / "msgs_sent.dat").write_bytes(record(100, "verack", b"") + last[:cut])
    msgs = json.loads(run_parser(d / "msgs_sent.dat").stdout)
    assert len(msgs) == 2
    assert msgs[0]["msgtype"] == "verack" and "error" not in msgs[0]
    bad = msgs[1]
    assert bad["direction"] == "sent"
    assert bad["error"].startswith("truncated record: ")
    assert bad["time"] == (9000 if cut >= 8 else 100)
    assert bad["msgtype"] == ("ping" if cut >= 20 else "")
    if cut > 24:
        assert bad["error"] == "truncated record: 3 of 8 payload bytes"
        assert bad["body"] == struct.pack("<Q", 5)[:3].hex()
    else:
        assert bad["error"] == f"truncated record: {cut} of 24 header bytes"


def test_empty_file_gives_empty_array(tmp_path):
    f = tmp_path / "msgs_recv.dat"
    f.write_bytes(b"")
    assert json.loads(run_parser(f).stdout) == []


def test_bad_arguments_fail_with_a_message(tmp_path):
    f = tmp_path / "something.dat"
    f.write_bytes(record(1, "verack", b""))
    proc = run_parser(f, check=False)
    assert proc.returncode == 1
    assert "cannot tell the direction" in proc.stderr
    proc = run_parser(tmp_path / "missing.dat", check=False)
    assert proc.returncode == 1 and "no such file" in proc.stderr
