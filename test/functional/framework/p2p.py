"""A test peer speaking moneyrocketd's P2P protocol (framework/messages.py).

P2PConnection connects to a node (optionally from a chosen local address,
e.g. 127.2.0.1, so tests can give each peer its own IP and network group),
or wraps a connection a P2PListener accepted from the node (outbound
connection tests). A background thread reads and parses every message,
answers ping with pong, and (when `auto_handshake`) answers the node's
version with version + verack. Everything received is kept in order.

The senders cover each malformed kind the node must reject (doc/p2p.md,
"Misbehaviour reason strings"); each send_* helper's docstring names the
reason the node should report.

Waiting is always a poll with a timeout (MONEYROCKET_TIMEOUT_FACTOR scales
every timeout): `wait_for(predicate)`, `wait_for_msg(msgtype)`,
`wait_for_disconnect()`.
"""
import os
import random
import socket
import struct
import threading
import time

from framework import messages
from framework.messages import DecodeError, frame, serialize

TIMEOUT_FACTOR = float(os.environ.get("MONEYROCKET_TIMEOUT_FACTOR", "1"))
POLL_INTERVAL = 0.02
TEST_USER_AGENT = "/moneyrocket-test:0.1/"


def poll(predicate, timeout, what):
    """Call `predicate` until it returns something truthy (returned), or
    raise AssertionError naming `what` after `timeout` seconds (scaled)."""
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout * TIMEOUT_FACTOR:.1f}s "
                                 f"waiting for {what}")
        time.sleep(POLL_INTERVAL)


class Message:
    """One received message: type, raw payload, decoded body (None if it did
    not decode, with the reason in `error`), and arrival time."""

    __slots__ = ("msgtype", "payload", "body", "error", "time")

    def __init__(self, msgtype, payload):
        self.msgtype = msgtype
        self.payload = payload
        self.time = time.time()
        self.body = None
        self.error = None
        try:
            self.body = messages.decode_message(msgtype, payload)
        except DecodeError as e:
            self.error = e.reason

    def __repr__(self):
        return f"Message({self.msgtype!r}, {self.body if self.error is None else self.error!r})"


class P2PConnection:
    """One P2P connection, read by a background thread.

    P2PConnection(host, port) connects (from `bind`, an IP or (ip, port),
    when given). P2PConnection(sock=s) wraps an accepted socket.
    `answer_pings`: reply to every ping with a pong. `auto_handshake`:
    reply to the node's version with our version and a verack (on for
    accepted connections by default, since the node speaks first there).
    """

    __test__ = False  # not a pytest class

    def __init__(self, host=None, port=None, magic=messages.MAGIC, bind=None,
                 timeout=10, sock=None, answer_pings=True, auto_handshake=None):
        self.magic = magic
        if sock is None:
            if isinstance(bind, str):
                bind = (bind, 0)
            family = socket.AF_INET6 if host and ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                if bind:
                    sock.bind(bind)
                sock.settimeout(timeout * TIMEOUT_FACTOR)
                sock.connect((host, port))
            except OSError:
                sock.close()
                raise
            accepted = False
        else:
            accepted = True
        sock.settimeout(None)
        self.sock = sock
        self.answer_pings = answer_pings
        self.auto_handshake = accepted if auto_handshake is None else auto_handshake
        self.local_addr = messages.format_addr(*sock.getsockname()[:2])
        self.remote_addr = messages.format_addr(*sock.getpeername()[:2])
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._received = []
        self._sent = []
        self._cursor = {}
        self.read_error = None  # a framing error in what the node sent us
        self.disconnected = threading.Event()
        self._thread = threading.Thread(target=self._read_loop, daemon=True,
                                        name=f"p2p {self.local_addr}")
        self._thread.start()

    # ---- sending --------------------------------------------------------

    def send_raw(self, data):
        """Send bytes as they are (not recorded as a message)."""
        with self._send_lock:
            self.sock.sendall(data)

    def send_payload(self, msgtype, payload=b""):
        """Frame a raw payload correctly and send it; recorded in sent()."""
        # One lock around record-and-send keeps sent() in wire order even
        # when the reader thread answers a ping at the same moment.
        with self._send_lock:
            with self._lock:
                self._sent.append((msgtype, payload))
            self.sock.sendall(frame(msgtype, payload, magic=self.magic))

    def send_message(self, msgtype, body=None):
        """Serialize a body dict (messages.py) and send it."""
        payload = serialize(msgtype, body)
        self.send_payload(msgtype, payload)
        return payload

    def version_body(self, **overrides):
        """Our version body: addresses from the socket, time now, a random
        nonce; any field can be overridden."""
        rip, rport = messages.parse_addr(self.remote_addr)
        lip, lport = messages.parse_addr(self.local_addr)
        body = messages.make_version(addr_recv=(rip, rport), addr_from=(lip, lport),
                                     nonce=random.getrandbits(64),
                                     user_agent=TEST_USER_AGENT,
                                     timestamp=int(time.time()))
        body.update(overrides)
        return body

    def send_version(self, **overrides):
        return self.send_message("version", self.version_body(**overrides))

    def send_verack(self):
        self.send_payload("verack")

    def send_ping(self, nonce=None):
        """Send a ping; returns its nonce."""
        nonce = random.getrandbits(64) if nonce is None else nonce
        self.send_message("ping", {"nonce": nonce})
        return nonce

    def handshake(self, timeout=30, **version_overrides):
        """As the connecting side: version out, version + verack in, verack
        out. Returns the node's version body."""
        self.send_version(**version_overrides)
        version = self.wait_for_msg("version", timeout)
        self.wait_for_msg("verack", timeout)
        self.send_verack()
        return version.body

    def ping_roundtrip(self, timeout=30):
        """Ping and wait for the pong with the same nonce: proof the node
        has processed everything sent before. Consumes the pongs before it
        (see wait_for_msg). Returns the pong."""
        nonce = self.send_ping()
        deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
        while True:
            left = max(deadline - time.monotonic(), 0) / TIMEOUT_FACTOR
            pong = self.wait_for_msg("pong", left)
            if pong.body == {"nonce": nonce}:
                return pong

    # ---- malformed input, one helper per misbehaviour reason ------------

    def send_wrong_magic(self, msgtype="version", payload=None):
        """Node reason: "wrong network magic"."""
        if payload is None:
            payload = serialize("version", self.version_body())
        self.send_raw(frame(msgtype, payload, magic=b"\xf9\xbe\xb4\xd9"))

    def send_bad_command(self, kind="padding", payload=b""):
        """Node reason: "malformed message header". kind: "padding"
        (a byte after the NUL padding), "unprintable", "empty"."""
        command = {"padding": b"ver\0sion\0\0\0\0",
                   "unprintable": b"vers\x01on\0\0\0\0\0",
                   "empty": b"\0" * 12}[kind]
        self.send_raw(frame("", payload, magic=self.magic, command=command))

    def send_oversized(self, msgtype="ping", length=messages.MAX_PAYLOAD + 1):
        """Node reason: "oversized message: <length> bytes" (header only)."""
        self.send_raw(frame(msgtype, b"", magic=self.magic, length=length))

    def send_bad_checksum(self, msgtype="ping", payload=None):
        """Node reason: "checksum mismatch for <msgtype> message"."""
        if payload is None:
            payload = struct.pack("<Q", 1)
        good = messages.checksum(payload)
        bad = bytes([good[0] ^ 0xff]) + good[1:]
        self.send_raw(frame(msgtype, payload, magic=self.magic, checksum_bytes=bad))

    def send_truncated(self, msgtype, body=None, cut=1):
        """A well-framed `msgtype` whose payload lost its last `cut` bytes.
        Node reason: "malformed <msgtype> message"."""
        payload = serialize(msgtype, body if body is not None else _sample_body(msgtype, self))
        self.send_payload(msgtype, payload[:max(len(payload) - cut, 0)])

    def send_trailing_garbage(self, msgtype, body=None, extra=b"\x00"):
        """A `msgtype` payload with bytes after its end. Node reason:
        "malformed <msgtype> message" (version accepts extra fields)."""
        payload = serialize(msgtype, body if body is not None else _sample_body(msgtype, self))
        self.send_payload(msgtype, payload + extra)

    def send_over_limit(self, msgtype):
        """One entry over the limit: addr 1001, inv/getdata/notfound 50001,
        headers 2001, getheaders with 102 locator hashes. Node reason:
        "<msgtype> message size = <n>" or "getheaders locator size = 102"."""
        if msgtype == "addr":
            now = int(time.time())
            body = messages.make_addr([(now, f"10.0.{i // 250}.{i % 250 + 1}", 28444)
                                       for i in range(messages.MAX_ADDR + 1)])
        elif msgtype in ("inv", "getdata", "notfound"):
            body = messages.make_inv(messages.MAX_INV + 1)
        elif msgtype == "headers":
            body = messages.make_headers(messages.MAX_HEADERS + 1)
        elif msgtype == "getheaders":
            body = {"version": messages.PROTOCOL_VERSION, "stop": "00" * 32,
                    "locator": ["11" * 32] * (messages.MAX_LOCATOR + 1)}
        else:
            raise ValueError(f"{msgtype} has no count limit")
        return self.send_message(msgtype, body)

    # ---- receiving ------------------------------------------------------

    def _read_loop(self):
        buf = bytearray()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    got = messages.unframe(buf, self.magic)
                    if got is None:
                        break
                    msgtype, payload, size = got
                    del buf[:size]
                    msg = Message(msgtype, payload)
                    with self._lock:
                        self._received.append(msg)
                    self._react(msg)
        except DecodeError as e:
            self.read_error = e.reason  # the node sent something malformed
        except OSError:
            pass
        finally:
            self.disconnected.set()

    def _react(self, msg):
        try:
            if msg.msgtype == "ping" and self.answer_pings and msg.body:
                self.send_message("pong", msg.body)
            elif msg.msgtype == "version" and self.auto_handshake:
                self.send_version()
                self.send_verack()
        except OSError:
            pass

    def received(self):
        """Every message received so far, in order."""
        with self._lock:
            return list(self._received)

    def sent(self):
        """(msgtype, payload) of everything sent with send_payload/message."""
        with self._lock:
            return list(self._sent)

    def wait_for(self, predicate, timeout=30, what=None):
        """Poll predicate() until truthy (returned) or raise after timeout."""
        return poll(predicate, timeout, what or getattr(predicate, "__name__", "condition"))

    def wait_for_msg(self, msgtype, timeout=30):
        """The next `msgtype` message not returned by an earlier call (so two
        calls return two pongs). Fails early if the node disconnects first."""
        def next_one():
            with self._lock:
                start = self._cursor.get(msgtype, 0)
                for i in range(start, len(self._received)):
                    if self._received[i].msgtype == msgtype:
                        self._cursor[msgtype] = i + 1
                        return self._received[i]
            if self.disconnected.is_set():
                raise AssertionError(
                    f"{self.local_addr}: disconnected while waiting for {msgtype}; "
                    f"received {[m.msgtype for m in self.received()]}")
            return None
        return poll(next_one, timeout, f"{msgtype} on {self.local_addr}")

    def wait_for_disconnect(self, timeout=30):
        """Wait until the node has closed the connection."""
        poll(self.disconnected.is_set, timeout, f"node to close {self.local_addr}")

    @property
    def is_connected(self):
        return not self.disconnected.is_set()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)


def _sample_body(msgtype, conn):
    """A valid body of each known type, for the malformed helpers."""
    now = int(time.time())
    samples = {
        "version": lambda: conn.version_body(),
        "ping": lambda: {"nonce": 1}, "pong": lambda: {"nonce": 1},
        "feefilter": lambda: {"feerate": 1000},
        "addr": lambda: messages.make_addr([(now, "10.1.2.3", 28444)]),
        "inv": lambda: messages.make_inv(1), "getdata": lambda: messages.make_inv(1),
        "notfound": lambda: messages.make_inv(1),
        "headers": lambda: messages.make_headers(1),
        "getheaders": lambda: {"version": messages.PROTOCOL_VERSION,
                               "locator": ["11" * 32], "stop": "00" * 32},
    }
    if msgtype not in samples:
        return {}
    return samples[msgtype]()


class P2PListener:
    """Listen on ip:port (port 0: any free one) for connections the node
    opens (-connect, -addnode, outbound, feeler). Each accepted socket
    becomes a P2PConnection that answers the node's version."""

    def __init__(self, ip="127.0.0.1", port=0, magic=messages.MAGIC, answer_pings=True,
                 auto_handshake=True):
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((ip, port))
        self._sock.listen(16)
        self.ip = ip
        self.port = self._sock.getsockname()[1]
        self.addr = messages.format_addr(ip, self.port)
        self.magic = magic
        self.answer_pings = answer_pings
        self.auto_handshake = auto_handshake
        self._lock = threading.Lock()
        self._connections = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"listen {self.addr}")
        self._thread.start()

    def _accept_loop(self):
        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            conn = P2PConnection(sock=sock, magic=self.magic, answer_pings=self.answer_pings,
                                 auto_handshake=self.auto_handshake)
            with self._lock:
                self._connections.append(conn)

    def connections(self):
        with self._lock:
            return list(self._connections)

    def wait_for_connection(self, timeout=30, index=0):
        """The index-th connection the node opened to us."""
        return poll(lambda: len(self.connections()) > index and self.connections()[index],
                    timeout, f"connection {index} to {self.addr}")

    def close(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(5)
        for c in self.connections():
            c.close()
