"""Test peers and the wire codec they need (doc/p2p.md): framing with
the network magic and SHA256d checksum, and the version, ping, addr payloads.

A TestPeer keeps every message it sent and received, in order, and can do
what the net tests need beyond plain P2P: connect from a chosen loopback
source address, hold back its side of a handshake, leave pings unanswered,
and send raw (malformed) bytes. A Listener accepts connections the node
opens (manual, outbound, feeler).
"""
import hashlib
import socket
import struct
import threading
import time

from framework.node import free_port, wait_until

MAGIC = bytes.fromhex("4d524b54")   # "MRKT"
HEADER_SIZE = 24
PROTOCOL_VERSION = 70016
SERVICES = 0x409
USER_AGENT = b"/moneyrocket-test:0.1/"


# ---- wire helpers ---------------------------------------------------------

def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def frame(msgtype, payload, magic=MAGIC, checksum=None, length=None, command=None):
    """A framed message; any header field can be overridden to make it wrong."""
    cmd = command if command is not None else msgtype.encode().ljust(12, b"\0")
    if checksum is None:
        checksum = sha256d(payload)[:4]
    if length is None:
        length = len(payload)
    return magic + cmd + struct.pack("<I", length) + checksum + payload


def compact_size(n):
    if n < 0xfd:
        return bytes([n])
    if n <= 0xffff:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xffffffff:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def net_addr(ip, port, services=SERVICES):
    """Bitcoin's addr-in-version: services, IPv4-mapped IPv6, port (BE)."""
    return (struct.pack("<Q", services) + b"\0" * 10 + b"\xff\xff" + socket.inet_aton(ip)
            + struct.pack(">H", port))


def version_payload(addr_recv=("127.0.0.1", 0), addr_from=("127.0.0.1", 0), nonce=None,
                    start_height=0, relay=True):
    """A version payload for a test peer."""
    if nonce is None:
        nonce = int.from_bytes(struct.pack("<d", time.time()), "little") ^ id(addr_recv)
    return (struct.pack("<iQq", PROTOCOL_VERSION, SERVICES, int(time.time()))
            + net_addr(*addr_recv) + net_addr(*addr_from)
            + struct.pack("<Q", nonce & 0xffffffffffffffff)
            + compact_size(len(USER_AGENT)) + USER_AGENT
            + struct.pack("<i?", start_height, relay))


def decode_version(payload):
    """The fields of a version payload the tests look at."""
    version, services, timestamp = struct.unpack_from("<iQq", payload, 0)
    off = 20 + 26 + 26 + 8
    n = payload[off]
    off += 1
    user_agent = payload[off:off + n].decode()
    off += n
    (start_height,) = struct.unpack_from("<i", payload, off)
    return {"version": version, "services": services, "timestamp": timestamp,
            "user_agent": user_agent, "start_height": start_height}


def ping_payload(nonce):
    return struct.pack("<Q", nonce)


def addr_payload(entries, services=SERVICES):
    """addr payload from (time, ip, port) tuples."""
    return compact_size(len(entries)) + b"".join(
        struct.pack("<I", t) + net_addr(ip, port, services) for t, ip, port in entries)


# ---- source addresses -----------------------------------------------------

_next_ip = [0]
_ip_lock = threading.Lock()


def fresh_ip():
    """A loopback address no other test peer of this process used.

    Peers from distinct addresses are told apart in getpeerinfo, the logs
    and eviction's network groups, so every peer gets its own source
    address by default.
    """
    with _ip_lock:
        n = _next_ip[0]
        _next_ip[0] += 1
    return f"127.{100 + n // 250}.{n % 250 + 1}.1"


# ---- a peer ---------------------------------------------------------------

class TestPeer:
    """One P2P connection, read by a background thread.

    `answer_pings`: reply to ping with pong. `responder`: this side accepted
    the connection (a Listener's), so it answers the node's version with its
    own version and a verack — unless held, until `release()`.
    """

    __test__ = False

    def __init__(self, sock, answer_pings=True, responder=False, hold=False):
        self.sock = sock
        self.answer_pings = answer_pings
        self.responder = responder
        self._held = threading.Event()
        if not hold:
            self._held.set()
        ip, port = sock.getsockname()[:2]
        self.local_addr = f"{ip}:{port}"
        rip, rport = sock.getpeername()[:2]
        self.remote_addr = f"{rip}:{rport}"
        self._sent = []
        self._received = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self.closed = threading.Event()
        self.sent_version = None
        self._thread = threading.Thread(target=self._read_loop, daemon=True)
        self._thread.start()

    # -- sending --
    def send_msg(self, msgtype, payload=b""):
        """Frame and send a message; it is recorded in sent_messages()."""
        # One lock around record-and-send keeps _sent in wire order even
        # when the reader thread answers a ping at the same moment.
        with self._send_lock:
            with self._lock:
                self._sent.append((msgtype, payload))
            self.sock.sendall(frame(msgtype, payload))

    def send_raw(self, data):
        """Send bytes as they are (not recorded as a message)."""
        with self._send_lock:
            self.sock.sendall(data)

    def version_payload(self):
        host, port = self.remote_addr.rsplit(":", 1)
        lhost, lport = self.local_addr.rsplit(":", 1)
        return version_payload((host, int(port)), (lhost, int(lport)))

    def send_version(self):
        self.sent_version = self.version_payload()
        self.send_msg("version", self.sent_version)
        return self.sent_version

    def handshake(self, timeout_s=30):
        """Initiator's handshake: version out, version+verack in, verack out.

        Returns (version payload sent, version payload received).
        """
        sent = self.send_version()
        received = self.wait_for_msg("version", timeout_s=timeout_s)
        self.wait_for_msg("verack", timeout_s=timeout_s)
        self.send_msg("verack")
        return sent, received

    def release(self):
        """Let a held responder answer the node's version."""
        self._held.set()

    # -- receiving --
    def _read_loop(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= HEADER_SIZE:
                    (length,) = struct.unpack_from("<I", buf, 16)
                    if len(buf) < HEADER_SIZE + length:
                        break
                    msgtype = buf[4:16].rstrip(b"\0").decode(errors="replace")
                    payload = buf[HEADER_SIZE:HEADER_SIZE + length]
                    buf = buf[HEADER_SIZE + length:]
                    with self._lock:
                        self._received.append((msgtype, payload))
                    self._react(msgtype, payload)
        except OSError:
            pass
        finally:
            self.closed.set()

    def _react(self, msgtype, payload):
        try:
            if msgtype == "ping" and self.answer_pings:
                self.send_msg("pong", payload)
            elif msgtype == "version" and self.responder:
                threading.Thread(target=self._respond, daemon=True).start()
        except OSError:
            pass

    def _respond(self):
        self._held.wait()
        try:
            self.send_version()
            self.send_msg("verack")
        except OSError:
            pass

    def sent_messages(self):
        with self._lock:
            return list(self._sent)

    def received_messages(self):
        with self._lock:
            return list(self._received)

    def wait_for_msg(self, msgtype, predicate=None, timeout_s=30):
        """Wait for a received `msgtype` message (matching predicate(payload))."""
        def found():
            for t, p in self.received_messages():
                if t == msgtype and (predicate is None or predicate(p)):
                    return (t, p)
            if self.closed.is_set():
                raise AssertionError(f"{self.local_addr}: connection closed while waiting for "
                                     f"{msgtype}; received {[t for t, _ in self.received_messages()]}")
            return None
        return wait_until(found, timeout_s, what=f"{msgtype} from node")[1]

    def wait_closed(self, timeout_s=30):
        """Wait until the node has closed the connection."""
        wait_until(self.closed.is_set, timeout_s, what=f"node closes {self.local_addr}")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)


def connect(node, source_ip=None, answer_pings=True, timeout_s=10):
    """Open a TCP connection to `node` from `source_ip` (fresh by default)."""
    sock = socket.create_connection(("127.0.0.1", node.p2p_port), timeout=timeout_s,
                                    source_address=(source_ip or fresh_ip(), 0))
    sock.settimeout(None)
    return TestPeer(sock, answer_pings=answer_pings)


class Listener:
    """A test peer listening on `ip`:free port for the node to connect to.

    Each accepted connection becomes a responder TestPeer; with `hold` its
    answer to the node's version waits for `release()`.
    """

    def __init__(self, ip=None, hold=False, answer_pings=True):
        self.ip = ip or fresh_ip()
        self.port = free_port(self.ip)
        self.addr = f"{self.ip}:{self.port}"
        self.hold = hold
        self.answer_pings = answer_pings
        self.connections = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.ip, self.port))
        self._sock.listen(16)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while True:
            try:
                sock, _ = self._sock.accept()
            except OSError:
                return
            self.connections.append(TestPeer(sock, answer_pings=self.answer_pings,
                                             responder=True, hold=self.hold))

    def wait_for_connection(self, timeout_s=30):
        wait_until(lambda: self.connections, timeout_s, what=f"connection to {self.addr}")
        return self.connections[0]

    def release(self):
        """Let every held connection (and later ones) complete the handshake."""
        self.hold = False
        for c in self.connections:
            c.release()

    def close(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        for c in self.connections:
            c.close()
