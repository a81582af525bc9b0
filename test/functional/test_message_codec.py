"""The Python wire codec (framework/messages.py) and test peer
(framework/p2p.py), without a node.

- Exact bytes of known messages, CompactSize boundaries, round trips of
  every message type, every truncation, trailing bytes and count limits with
  the node's reason text.
- Cross-check against the C codec (src/msg.c): a small driver linked with
  the wire sources judges the same payloads and headers; both must agree on
  every verdict and reason.
- Two test peers over a loopback socket: a P2PListener and a P2PConnection
  bound to 127.2.0.1 complete the handshake, ping, and each malformed
  helper makes the receiving side report the reason the node would.
"""
import random
import shutil
import struct
import subprocess

import pytest

from conftest import ROOT, require
from framework import build, messages
from framework.messages import (DecodeError, UnknownMessageType, deserialize, frame,
                                parse_header, ser_compact_size, serialize, unframe)
from framework.p2p import P2PConnection, P2PListener

GENESIS = {"version": 1, "prev_block": "00" * 32,
           "merkle_root": "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
           "time": 1231006505, "bits": 0x1d00ffff, "nonce": 2083236893}


def sample_bodies():
    """A valid body of every type the codec knows."""
    version = messages.make_version(addr_recv=("127.0.0.1", 28444),
                                    addr_from=("2001:db8::7", 65535), nonce=2**64 - 1,
                                    start_height=-1, relay=False, timestamp=1_700_000_000)
    getheaders = {"version": 70016, "locator": ["ab" * 32, "cd" * 32], "stop": "00" * 32}
    return {
        "version": version, "verack": {}, "getaddr": {}, "sendheaders": {},
        "ping": {"nonce": 0x0102030405060708}, "pong": {"nonce": 0},
        "feefilter": {"feerate": 1000},
        "addr": messages.make_addr([(1_700_000_000, "10.1.2.3", 28444),
                                    (1, "2a01:4f8::1", 1)]),
        "inv": messages.make_inv(3), "getdata": messages.make_inv(2, messages.MSG_BLOCK),
        "notfound": messages.make_inv(1),
        "getheaders": getheaders, "headers": messages.make_headers(3),
    }


def version_prefix_ok(payload_len, n):
    """Lengths a version payload may be cut to: after the user agent, after
    start_height (relay and start_height are optional)."""
    return n in (payload_len - 5, payload_len - 1)


# ---- exact bytes ----------------------------------------------------------

def test_known_frames():
    assert messages.checksum(b"").hex() == "5df6e0e2"
    assert frame("verack", b"").hex() == "4d524b54" + b"verack".hex() + "00" * 6 + "00" * 4 \
        + "5df6e0e2"
    ping = messages.frame_message("ping", {"nonce": 1})
    assert ping[4:16] == b"ping" + b"\0" * 8
    assert ping[16:20] == struct.pack("<I", 8)
    assert ping[24:] == b"\x01" + b"\0" * 7


def test_compact_size_boundaries():
    for n, size in [(0, 1), (0xfc, 1), (0xfd, 3), (0xffff, 3), (0x10000, 5),
                    (0xffffffff, 5), (0x100000000, 9), (2**64 - 1, 9)]:
        b = ser_compact_size(n)
        assert len(b) == size
        assert messages.Reader(b, "x").compact_size() == n
    for bad in ["fdfc00", "fd0000", "feffff0000", "ffffffffff00000000", "fe01", ""]:
        with pytest.raises(DecodeError):
            messages.Reader(bytes.fromhex(bad), "x").compact_size()


def test_version_layout():
    payload = serialize("version", sample_bodies()["version"])
    assert len(payload) == 80 + 1 + len("/moneyrocket-test:0.1/") + 4 + 1
    assert payload[28:44] == bytes(10) + b"\xff\xff" + bytes([127, 0, 0, 1])
    assert payload[44:46] == struct.pack(">H", 28444)  # ports are big-endian


def test_genesis_block_hash():
    assert messages.block_hash(GENESIS) == \
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    body = deserialize("headers", serialize("headers", {"headers": [GENESIS]}))
    assert body["headers"][0]["hash"] == messages.block_hash(GENESIS)


# ---- round trips, truncation, limits --------------------------------------

@pytest.mark.parametrize("msgtype", messages.KNOWN_TYPES)
def test_round_trip(msgtype):
    body = sample_bodies()[msgtype]
    payload = serialize(msgtype, body)
    assert deserialize(msgtype, payload) == body
    assert serialize(msgtype, deserialize(msgtype, payload)) == payload
    got = unframe(frame(msgtype, payload) + b"next")
    assert got == (msgtype, payload, 24 + len(payload))


@pytest.mark.parametrize("msgtype", messages.KNOWN_TYPES)
def test_every_truncation_and_trailing_byte(msgtype):
    payload = serialize(msgtype, sample_bodies()[msgtype])
    for n in range(len(payload)):
        if msgtype == "version" and version_prefix_ok(len(payload), n):
            deserialize(msgtype, payload[:n])
            continue
        with pytest.raises(DecodeError) as e:
            deserialize(msgtype, payload[:n])
        assert e.value.reason == f"malformed {msgtype} message", n
    if msgtype == "version":
        assert deserialize(msgtype, payload + b"\x01extra")["relay"] is False
    else:
        with pytest.raises(DecodeError) as e:
            deserialize(msgtype, payload + b"\0")
        assert e.value.reason == f"malformed {msgtype} message"


@pytest.mark.parametrize("msgtype,body,reason", [
    ("addr", messages.make_addr([(0, "10.0.0.1", 1)] * 1001), "addr message size = 1001"),
    ("inv", messages.make_inv(50001), "inv message size = 50001"),
    ("getdata", messages.make_inv(50001), "getdata message size = 50001"),
    ("notfound", messages.make_inv(50001), "notfound message size = 50001"),
    ("headers", messages.make_headers(2001), "headers message size = 2001"),
    ("getheaders", {"version": 70016, "locator": ["11" * 32] * 102, "stop": "00" * 32},
     "getheaders locator size = 102"),
])
def test_count_limits(msgtype, body, reason):
    payload = serialize(msgtype, body)
    with pytest.raises(DecodeError) as e:
        deserialize(msgtype, payload)
    assert e.value.reason == reason
    # The count alone decides: a payload cut right after it says the same.
    cut = 4 + 3 if msgtype == "getheaders" else 3
    with pytest.raises(DecodeError) as e:
        deserialize(msgtype, payload[:cut])
    assert e.value.reason == reason


def test_limits_are_inclusive():
    assert len(deserialize("addr", serialize("addr", messages.make_addr(
        [(0, "10.0.0.1", 1)] * 1000)))["addrs"]) == 1000
    assert len(deserialize("inv", serialize("inv", messages.make_inv(50000)))["inventory"]) \
        == 50000
    locator = {"version": 1, "locator": ["11" * 32] * 101, "stop": "00" * 32}
    assert deserialize("getheaders", serialize("getheaders", locator)) == locator


def test_headers_must_carry_no_transactions():
    payload = bytearray(serialize("headers", {"headers": [GENESIS]}))
    payload[-1] = 1
    with pytest.raises(DecodeError, match="malformed headers message"):
        deserialize("headers", bytes(payload))


def test_unknown_type():
    with pytest.raises(UnknownMessageType):
        deserialize("xyzzy", b"")
    assert unframe(frame("xyzzy", b"\0" * 10))[0] == "xyzzy"


def test_header_reasons():
    good = frame("version", b"")
    cases = [
        (frame("version", b"", magic=b"\xf9\xbe\xb4\xd9"), "wrong network magic"),
        (frame("", b"", command=b"ver\0sion\0\0\0\0"), "malformed message header"),
        (frame("", b"", command=b"vers\x01on\0\0\0\0\0"), "malformed message header"),
        (frame("", b"", command=b"\0" * 12), "malformed message header"),
        (frame("ping", b"", length=4_000_001), "oversized message: 4000001 bytes"),
        (frame("ping", b"", length=0xffffffff), "oversized message: 4294967295 bytes"),
    ]
    assert parse_header(good[:24])[0] == "version"
    assert parse_header(frame("abcdefghijkl", b"")[:24])[0] == "abcdefghijkl"
    for raw, reason in cases:
        with pytest.raises(DecodeError) as e:
            parse_header(raw[:24])
        assert e.value.reason == reason


def test_unframe_waits_and_checks_checksum():
    whole = frame("ping", struct.pack("<Q", 5))
    for n in range(len(whole)):
        assert unframe(whole[:n]) is None
    bad = frame("ping", struct.pack("<Q", 5), checksum_bytes=b"\0\0\0\0")
    with pytest.raises(DecodeError, match="^checksum mismatch for ping message$"):
        unframe(bad)


def test_addresses():
    assert messages.parse_addr("127.0.0.1") == ("127.0.0.1", 28444)
    assert messages.parse_addr("[::1]:8333") == ("::1", 8333)
    assert messages.format_addr("::1", 8333) == "[::1]:8333"
    assert messages.ip_from_bytes(messages.ip_to_bytes("10.1.2.3")) == "10.1.2.3"
    for bad in ["1.2.3.4:0", "[::1", "example.com:1", "1.2.3.4:70000"]:
        with pytest.raises(ValueError):
            messages.parse_addr(bad)


# ---- cross-check with the C codec -----------------------------------------

DRIVER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "msg.h"

/* Lines "p <type> <hex>" (payload) or "u <hex>" (unframe); one verdict
 * line each: "ok" or "<code> <reason>" (u: "more" or "ok <size>"). */
int main(void)
{
	static char line[9000000];
	static uint8_t buf[4500000];
	char reason[MSG_REASON_MAX];

	while (fgets(line, sizeof(line), stdin)) {
		char *nl = strchr(line, '\n'), *type = line + 2, *hex;
		size_t n;
		int rc;

		if (nl)
			*nl = '\0';
		if (line[0] == 'p') {
			hex = strchr(type, ' ');
			*hex++ = '\0';
		} else {
			hex = line + 2;
		}
		n = strlen(hex) / 2;
		if (hash_hex_decode(hex, buf, n) != 0)
			return 2;
		/* An exact-size copy, so any over-read is an ASan report. */
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		if (line[0] == 'p') {
			rc = msg_payload_check(type, copy, n, reason);
			if (rc == 0)
				printf("ok\n");
			else
				printf("%d %s\n", rc, reason);
		} else {
			struct msg_header hdr;

			rc = msg_unframe(copy, n, &hdr, reason);
			if (rc > 0)
				printf("ok %d %s\n", rc, hdr.command);
			else if (rc == 0)
				printf("more\n");
			else
				printf("%d %s\n", rc, reason);
		}
		free(copy);
		fflush(stdout);
	}
	return 0;
}
"""


@pytest.fixture(scope="module")
def c_codec(tmp_path_factory):
    """Path of the driver built from the wire layer (make's WIRE_SRCS) with ASan+UBSan."""
    cc = shutil.which("gcc") or shutil.which("cc")
    require(cc is not None, "a C compiler is needed for the cross-check")
    d = tmp_path_factory.mktemp("c_codec")
    (d / "driver.c").write_text(DRIVER_C)
    exe = d / "driver"
    src = ROOT / "src"
    subprocess.run([cc, "-std=c11", "-O1", "-g", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    f"-I{src}", "-o", str(exe), str(d / "driver.c"),
                    *[str(p) for p in build.sources("MONEYROCKET_WIRE_SRCS")], "-lcrypto"],
                   check=True, capture_output=True, text=True)
    return exe


def python_payload_verdict(msgtype, payload):
    try:
        deserialize(msgtype, payload)
        return "ok"
    except DecodeError as e:
        code = -2 if " size = " in e.reason else -1
        return f"{code} {e.reason}"


def python_unframe_verdict(data):
    try:
        got = unframe(data)
    except DecodeError as e:
        return f"-1 {e.reason}"
    return "more" if got is None else f"ok {got[2]} {got[0]}"


def run_driver(exe, lines):
    proc = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr
    return proc.stdout.splitlines()


def payload_cases():
    """(type, payload): valid, every truncation, trailing byte, over the
    limit, and seeded random bytes, for every type."""
    rng = random.Random(20240601)
    cases = []
    for msgtype, body in sample_bodies().items():
        payload = serialize(msgtype, body)
        cases += [(msgtype, payload[:n]) for n in range(len(payload) + 1)]
        cases.append((msgtype, payload + b"\x00"))
        for _ in range(150):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(120)))
            if junk and rng.random() < 0.5:
                junk = bytes([rng.randrange(4)]) + junk[1:]  # a small count
            cases.append((msgtype, junk))
    cases += [("inv", ser_compact_size(50001)), ("headers", ser_compact_size(2001)),
              ("addr", ser_compact_size(1001)), ("notfound", b"\xff" * 9),
              ("getheaders", struct.pack("<I", 1) + ser_compact_size(102)),
              ("headers", serialize("headers", {"headers": [GENESIS]})[:-1] + b"\x01"),
              ("inv", b"\xfd\x01\x00" + bytes(36)), ("feefilter", b"\xff" * 8),
              ("xyzzy", b"anything")]
    return cases


def test_c_and_python_agree_on_payloads(c_codec):
    cases = payload_cases()
    got = run_driver(c_codec, [f"p {t} {p.hex()}" for t, p in cases])
    assert len(got) == len(cases)
    mismatches = [(t, p.hex(), c, python_payload_verdict(t, p))
                  for (t, p), c in zip(cases, got)
                  if t != "xyzzy" and c != python_payload_verdict(t, p)]
    assert mismatches == []
    assert got[-1] == "ok"  # unknown types pass both
    assert sum(v == "ok" for v in got) > 20 and sum(v != "ok" for v in got) > 500


def test_c_and_python_agree_on_framing(c_codec):
    rng = random.Random(7)
    ping = frame("ping", struct.pack("<Q", 9))
    cases = [ping[:n] for n in range(len(ping) + 1)]
    cases += [ping + frame("verack", b""), frame("ping", b"", length=4_000_001),
              frame("ping", struct.pack("<Q", 9), checksum_bytes=b"\0" * 4),
              frame("version", b"", magic=b"\xf9\xbe\xb4\xd9"),
              frame("", b"", command=b"ver\0sion\0\0\0\0"), frame("abcdefghijkl", b"")]
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        if rng.random() < 0.5:
            raw = messages.MAGIC + raw[4:]
        cases.append(raw)
    got = run_driver(c_codec, [f"u {c.hex()}" for c in cases])
    assert got == [python_unframe_verdict(c) for c in cases]


# ---- two test peers over loopback -----------------------------------------

@pytest.fixture
def pair():
    """(listener side, connecting side): a connection from 127.2.0.1."""
    listener = P2PListener("127.0.0.1", answer_pings=True)
    conn = P2PConnection("127.0.0.1", listener.port, bind="127.2.0.1")
    accepted = listener.wait_for_connection(timeout=10)
    yield accepted, conn
    conn.close()
    listener.close()


def test_peers_handshake_and_ping(pair):
    accepted, conn = pair
    assert conn.local_addr.startswith("127.2.0.1:")
    assert accepted.remote_addr == conn.local_addr
    theirs = conn.handshake(timeout=10)
    assert theirs["version"] == messages.PROTOCOL_VERSION
    assert theirs["addr_recv"]["ip"] == "127.2.0.1"
    accepted.wait_for_msg("verack", timeout=10)
    conn.ping_roundtrip(timeout=10)
    n1, n2 = conn.send_ping(1), conn.send_ping(2)
    assert (conn.wait_for_msg("pong", 10).body["nonce"],
            conn.wait_for_msg("pong", 10).body["nonce"]) == (n1, n2)
    assert [t for t, _ in conn.sent()][:2] == ["version", "verack"]


@pytest.mark.parametrize("send,reason", [
    (lambda c: c.send_truncated("ping"), "malformed ping message"),
    (lambda c: c.send_truncated("version", cut=80), "malformed version message"),
    (lambda c: c.send_trailing_garbage("addr"), "malformed addr message"),
    (lambda c: c.send_truncated("getheaders"), "malformed getheaders message"),
    (lambda c: c.send_over_limit("addr"), "addr message size = 1001"),
    (lambda c: c.send_over_limit("getdata"), "getdata message size = 50001"),
    (lambda c: c.send_over_limit("headers"), "headers message size = 2001"),
    (lambda c: c.send_over_limit("getheaders"), "getheaders locator size = 102"),
])
def test_malformed_payload_helpers(pair, send, reason):
    accepted, conn = pair
    send(conn)
    msg = accepted.wait_for(lambda: accepted.received() and accepted.received()[-1], 30)
    assert msg.error == reason


@pytest.mark.parametrize("send,reason", [
    (lambda c: c.send_wrong_magic(), "wrong network magic"),
    (lambda c: c.send_bad_command("padding"), "malformed message header"),
    (lambda c: c.send_bad_command("unprintable"), "malformed message header"),
    (lambda c: c.send_oversized(), "oversized message: 4000001 bytes"),
    (lambda c: c.send_bad_checksum("ping"), "checksum mismatch for ping message"),
])
def test_malformed_frame_helpers(pair, send, reason):
    accepted, conn = pair
    send(conn)
    # The Python reader stops at a framing error, as the node disconnects.
    accepted.wait_for(lambda: accepted.read_error, 10)
    assert accepted.read_error == reason


def test_wait_for_disconnect(pair):
    accepted, conn = pair
    conn.close()
    accepted.wait_for_disconnect(timeout=10)
    assert not accepted.is_connected
    with pytest.raises(AssertionError, match="disconnected while waiting for pong"):
        accepted.wait_for_msg("pong", timeout=10)
