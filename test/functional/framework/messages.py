"""The moneyrocketd P2P wire format in Python: the same codec as src/msg.c.

Used by the test peer (framework/p2p.py), the codec tests, and
contrib/message-logging/message-logging-parser.py, so it needs nothing but
the standard library.

- Framing: `frame()` builds header + payload (any header field can be
  overridden to make it wrong); `parse_header()` and `unframe()` validate
  like the node does and raise DecodeError with the node's exact reason
  ("wrong network magic", "malformed message header", "oversized message:
  <n> bytes", "checksum mismatch for <msgtype> message").
- Payloads: `serialize(msgtype, body)` and `deserialize(msgtype, payload)`
  convert between bytes and plain dicts (JSON-ready: hashes as hex in
  Bitcoin's reversed display order, IPs as strings). A payload that does not
  decode raises DecodeError whose `reason` is the node's misbehaviour text
  ("malformed ping message", "inv message size = 50001", ...).
  `decode_message()` is deserialize for JSON output: it also raises
  UnknownMessageType for a type this codec does not know.

Message bodies (dict keys):
  version      version, services, timestamp, addr_recv, addr_from, nonce,
               user_agent, start_height, relay   (addr_*: services, ip, port)
  verack, getaddr, sendheaders   {} (empty payload)
  ping, pong   nonce
  feefilter    feerate
  addr         addrs: [{time, services, ip, port}]
  inv, getdata, notfound   inventory: [{type, hash}]   (type: int)
  getheaders   version, locator: [hash], stop
  headers      headers: [{version, prev_block, merkle_root, time, bits,
               nonce, hash}]   (hash is computed; ignored when serializing)
"""
import hashlib
import ipaddress
import struct

MAGIC = bytes.fromhex("4d524b54")  # "MRKT"
HEADER_SIZE = 24
COMMAND_SIZE = 12
MAX_PAYLOAD = 4_000_000
PROTOCOL_VERSION = 70016
DEFAULT_PORT = 28444
DEFAULT_RPC_PORT = 28443
SERVICES = 0x409
NODE_USER_AGENT = "/moneyrocket:0.1.0/"
MAX_USER_AGENT = 256

MAX_INV = 50_000
MAX_HEADERS = 2_000
MAX_ADDR = 1_000
MAX_LOCATOR = 101

MSG_TX = 1
MSG_BLOCK = 2
MSG_WITNESS_FLAG = 1 << 30

ADDR_ENTRY_SIZE = 30
INV_ENTRY_SIZE = 36
BLOCK_HEADER_SIZE = 80


class DecodeError(ValueError):
    """Input the node would reject; `reason` is the node's exact text."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class UnknownMessageType(DecodeError):
    """A message type this codec (and the node) does not decode."""

    def __init__(self, msgtype):
        super().__init__(f"unknown message type: {msgtype}")
        self.msgtype = msgtype


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def checksum(payload):
    """The header's checksum: the first 4 bytes of SHA256d(payload)."""
    return sha256d(payload)[:4]


def hash_to_hex(h):
    """A 32-byte hash as Bitcoin displays it (byte-reversed hex)."""
    return h[::-1].hex()


def hash_from_hex(s):
    """The serialized bytes of a display-order hex hash."""
    b = bytes.fromhex(s)
    if len(b) != 32:
        raise ValueError(f"a hash is 32 bytes, got {len(b)}: {s}")
    return b[::-1]


# ---- primitives -----------------------------------------------------------

def ser_compact_size(n):
    """CompactSize: the shortest of 1, 3, 5 or 9 bytes."""
    if n < 0 or n > 0xffffffffffffffff:
        raise ValueError(f"CompactSize out of range: {n}")
    if n < 0xfd:
        return bytes([n])
    if n <= 0xffff:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xffffffff:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def ser_string(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    return ser_compact_size(len(b)) + b


class Reader:
    """Bounds-checked reading of one payload; any failure raises
    DecodeError("malformed <msgtype> message")."""

    def __init__(self, data, msgtype):
        self.data = bytes(data)
        self.pos = 0
        self.msgtype = msgtype

    def malformed(self):
        return DecodeError(f"malformed {self.msgtype} message")

    def remaining(self):
        return len(self.data) - self.pos

    def read(self, n):
        if n > self.remaining():
            raise self.malformed()
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def compact_size(self, limit=0xffffffffffffffff):
        """A canonical CompactSize no larger than `limit`."""
        tag = self.unpack("<B")
        if tag < 0xfd:
            value, smallest = tag, 0
        elif tag == 0xfd:
            value, smallest = self.unpack("<H"), 0xfd
        elif tag == 0xfe:
            value, smallest = self.unpack("<I"), 0x10000
        else:
            value, smallest = self.unpack("<Q"), 0x100000000
        if value < smallest or value > limit:
            raise self.malformed()
        return value

    def string(self, max_len):
        n = self.compact_size(max_len)
        b = self.read(n)
        if b"\0" in b:
            raise self.malformed()
        try:
            return b.decode()
        except UnicodeDecodeError:
            # The node keeps the bytes; JSON needs text: show them escaped.
            return b.decode("latin-1")

    def done(self):
        if self.remaining() != 0:
            raise self.malformed()


# ---- addresses ------------------------------------------------------------

def ip_to_bytes(ip):
    """16 bytes of an IP string: IPv6 as is, IPv4 as ::ffff:a.b.c.d."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return b"\0" * 10 + b"\xff\xff" + addr.packed
    return addr.packed


def ip_from_bytes(b):
    """The IP string of 16 bytes: IPv4-mapped addresses print as IPv4."""
    addr = ipaddress.IPv6Address(bytes(b))
    if addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def format_addr(ip, port):
    """"ip:port" or "[ipv6]:port", as the node prints peer addresses."""
    if ":" in ip:
        return f"[{ip}]:{port}"
    return f"{ip}:{port}"


def parse_addr(s, default_port=DEFAULT_PORT):
    """(ip, port) of "ip", "ip:port", "[ipv6]" or "[ipv6]:port"."""
    if s.startswith("["):
        host, bracket, rest = s[1:].partition("]")
        if not bracket:
            raise ValueError(f"bad address: {s}")
        port = int(rest[1:]) if rest.startswith(":") else default_port
        if rest and not rest.startswith(":"):
            raise ValueError(f"bad address: {s}")
    elif s.count(":") == 1:
        host, port = s.split(":")
        port = int(port)
    else:
        host, port = s, default_port
    ipaddress.ip_address(host)
    if not 0 < port < 65536:
        raise ValueError(f"bad port in {s}")
    return host, port


def ser_netaddr(a):
    """services, 16-byte IP, big-endian port (no time: as in version)."""
    return (struct.pack("<Q", a.get("services", SERVICES)) + ip_to_bytes(a["ip"])
            + struct.pack(">H", a["port"]))


def deser_netaddr(r):
    services = r.unpack("<Q")
    ip = ip_from_bytes(r.read(16))
    port = r.unpack(">H")
    return {"services": services, "ip": ip, "port": port}


# ---- message bodies -------------------------------------------------------

def _ser_version(m):
    return (struct.pack("<iQq", m["version"], m["services"], m["timestamp"])
            + ser_netaddr(m["addr_recv"]) + ser_netaddr(m["addr_from"])
            + struct.pack("<Q", m["nonce"]) + ser_string(m["user_agent"])
            + struct.pack("<i", m.get("start_height", 0))
            + struct.pack("<B", 1 if m.get("relay", True) else 0))


def _deser_version(r):
    m = {"version": r.unpack("<i"), "services": r.unpack("<Q"),
         "timestamp": r.unpack("<q"), "addr_recv": deser_netaddr(r),
         "addr_from": deser_netaddr(r), "nonce": r.unpack("<Q"),
         "user_agent": r.string(MAX_USER_AGENT), "start_height": 0, "relay": True}
    # Optional trailing fields; a start_height cut short is malformed, and
    # anything after relay is allowed (later versions add fields).
    if r.remaining():
        m["start_height"] = r.unpack("<i")
    if r.remaining():
        m["relay"] = r.unpack("<B") != 0
    return m


def _ser_empty(m):
    return b""


def _deser_empty(r):
    r.done()
    return {}


def _ser_nonce(m):
    return struct.pack("<Q", m["nonce"])


def _deser_nonce(r):
    m = {"nonce": r.unpack("<Q")}
    r.done()
    return m


def _ser_feefilter(m):
    return struct.pack("<q", m["feerate"])


def _deser_feefilter(r):
    m = {"feerate": r.unpack("<q")}
    r.done()
    if m["feerate"] < 0:
        raise r.malformed()
    return m


def _read_count(r, limit, entry_size, what="message", tail=0):
    """The list count, judged before any entry is read: over the limit is
    "<msgtype> <what> size = <n>"; not exactly count entries is malformed."""
    n = r.compact_size()
    if n > limit:
        raise DecodeError(f"{r.msgtype} {what} size = {n}")
    if r.remaining() != n * entry_size + tail:
        raise r.malformed()
    return n


def _ser_addr(m):
    return ser_compact_size(len(m["addrs"])) + b"".join(
        struct.pack("<I", a["time"]) + ser_netaddr(a) for a in m["addrs"])


def _deser_addr(r):
    n = _read_count(r, MAX_ADDR, ADDR_ENTRY_SIZE)
    addrs = []
    for _ in range(n):
        t = r.unpack("<I")
        addrs.append({"time": t, **deser_netaddr(r)})
    r.done()
    return {"addrs": addrs}


def _ser_inv(m):
    return ser_compact_size(len(m["inventory"])) + b"".join(
        struct.pack("<I", e["type"]) + hash_from_hex(e["hash"]) for e in m["inventory"])


def _deser_inv(r):
    n = _read_count(r, MAX_INV, INV_ENTRY_SIZE)
    inv = [{"type": r.unpack("<I"), "hash": hash_to_hex(r.read(32))} for _ in range(n)]
    r.done()
    return {"inventory": inv}


def ser_block_header(h):
    """The 80 serialized bytes of a header dict."""
    return (struct.pack("<i", h["version"]) + hash_from_hex(h["prev_block"])
            + hash_from_hex(h["merkle_root"])
            + struct.pack("<III", h["time"], h["bits"], h["nonce"]))


def block_hash(h):
    """Display-order hash of a header dict."""
    return hash_to_hex(sha256d(ser_block_header(h)))


def _deser_block_header(r):
    raw = r.read(BLOCK_HEADER_SIZE)
    version, = struct.unpack_from("<i", raw, 0)
    t, bits, nonce = struct.unpack_from("<III", raw, 68)
    return {"version": version, "prev_block": hash_to_hex(raw[4:36]),
            "merkle_root": hash_to_hex(raw[36:68]), "time": t, "bits": bits,
            "nonce": nonce, "hash": hash_to_hex(sha256d(raw))}


def _ser_getheaders(m):
    return (struct.pack("<I", m["version"]) + ser_compact_size(len(m["locator"]))
            + b"".join(hash_from_hex(h) for h in m["locator"]) + hash_from_hex(m["stop"]))


def _deser_getheaders(r):
    version = r.unpack("<I")
    n = _read_count(r, MAX_LOCATOR, 32, what="locator", tail=32)
    locator = [hash_to_hex(r.read(32)) for _ in range(n)]
    stop = hash_to_hex(r.read(32))
    r.done()
    return {"version": version, "locator": locator, "stop": stop}


def _ser_headers(m):
    return ser_compact_size(len(m["headers"])) + b"".join(
        ser_block_header(h) + ser_compact_size(0) for h in m["headers"])


def _deser_headers(r):
    # Each header is followed by a transaction count, which must be 0.
    n = _read_count(r, MAX_HEADERS, BLOCK_HEADER_SIZE + 1)
    headers = []
    for _ in range(n):
        headers.append(_deser_block_header(r))
        r.compact_size(limit=0)
    r.done()
    return {"headers": headers}


CODECS = {
    "version": (_ser_version, _deser_version),
    "verack": (_ser_empty, _deser_empty),
    "getaddr": (_ser_empty, _deser_empty),
    "sendheaders": (_ser_empty, _deser_empty),
    "ping": (_ser_nonce, _deser_nonce),
    "pong": (_ser_nonce, _deser_nonce),
    "feefilter": (_ser_feefilter, _deser_feefilter),
    "addr": (_ser_addr, _deser_addr),
    "inv": (_ser_inv, _deser_inv),
    "getdata": (_ser_inv, _deser_inv),
    "notfound": (_ser_inv, _deser_inv),
    "getheaders": (_ser_getheaders, _deser_getheaders),
    "headers": (_ser_headers, _deser_headers),
}

KNOWN_TYPES = tuple(CODECS)


def serialize(msgtype, body=None):
    """The payload of `msgtype` from its body dict (see the module doc)."""
    if msgtype not in CODECS:
        raise UnknownMessageType(msgtype)
    return CODECS[msgtype][0](body or {})


def deserialize(msgtype, payload):
    """The body dict of a payload; DecodeError with the node's reason if it
    does not decode, UnknownMessageType for other types."""
    if msgtype not in CODECS:
        raise UnknownMessageType(msgtype)
    return CODECS[msgtype][1](Reader(payload, msgtype))


def decode_message(msgtype, payload):
    """deserialize() for JSON output: every value is a str, int, bool, list
    or dict."""
    return deserialize(msgtype, payload)


# ---- bodies for tests -----------------------------------------------------

def make_version(addr_recv=("127.0.0.1", DEFAULT_PORT), addr_from=("127.0.0.1", 0),
                 nonce=0, user_agent="/moneyrocket-test:0.1/", start_height=0,
                 relay=True, timestamp=0, services=SERVICES, version=PROTOCOL_VERSION):
    """A version body; addresses are (ip, port) pairs."""
    return {"version": version, "services": services, "timestamp": timestamp,
            "addr_recv": {"services": services, "ip": addr_recv[0], "port": addr_recv[1]},
            "addr_from": {"services": services, "ip": addr_from[0], "port": addr_from[1]},
            "nonce": nonce, "user_agent": user_agent, "start_height": start_height,
            "relay": relay}


def make_inv(n, inv_type=MSG_TX, start=0):
    """An inv/getdata/notfound body with n distinct entries."""
    return {"inventory": [{"type": inv_type,
                           "hash": hash_to_hex((start + i).to_bytes(32, "little"))}
                          for i in range(n)]}


def make_headers(n, prev_block="00" * 32):
    """A headers body of n headers chained by prev_block."""
    headers = []
    for i in range(n):
        h = {"version": 1, "prev_block": prev_block, "merkle_root": "11" * 32,
             "time": 1_700_000_000 + i, "bits": 0x207fffff, "nonce": i}
        h["hash"] = block_hash(h)
        prev_block = h["hash"]
        headers.append(h)
    return {"headers": headers}


def make_addr(entries, services=SERVICES):
    """An addr body from (time, ip, port) tuples."""
    return {"addrs": [{"time": t, "services": services, "ip": ip, "port": port}
                      for t, ip, port in entries]}


# ---- framing --------------------------------------------------------------

def frame(msgtype, payload=b"", magic=MAGIC, checksum_bytes=None, length=None,
          command=None):
    """Header + payload. Override `magic`, `command` (12 raw bytes),
    `length` or `checksum_bytes` to make the header wrong on purpose."""
    if command is None:
        command = msgtype.encode().ljust(COMMAND_SIZE, b"\0")
    if checksum_bytes is None:
        checksum_bytes = checksum(payload)
    if length is None:
        length = len(payload)
    return magic + command + struct.pack("<I", length) + checksum_bytes + payload


def frame_message(msgtype, body=None, magic=MAGIC):
    """A framed message from a body dict."""
    return frame(msgtype, serialize(msgtype, body), magic=magic)


def command_ok(raw):
    """Printable ASCII, then only NULs, at least one character."""
    text = raw.rstrip(b"\0")
    return (len(raw) == COMMAND_SIZE and len(text) > 0 and b"\0" not in text
            and all(0x20 <= c <= 0x7e for c in text))


def parse_header(raw, magic=MAGIC):
    """(msgtype, length, checksum) of 24 header bytes, validated in the
    node's order; DecodeError with its reason otherwise."""
    if len(raw) != HEADER_SIZE:
        raise ValueError(f"a header is {HEADER_SIZE} bytes, got {len(raw)}")
    if raw[:4] != magic:
        raise DecodeError("wrong network magic")
    command = raw[4:16]
    if not command_ok(command):
        raise DecodeError("malformed message header")
    length, = struct.unpack_from("<I", raw, 16)
    if length > MAX_PAYLOAD:
        raise DecodeError(f"oversized message: {length} bytes")
    return command.rstrip(b"\0").decode(), length, raw[20:24]


def unframe(buf, magic=MAGIC):
    """(msgtype, payload, size) of the message at the start of `buf`, or
    None while it is incomplete; DecodeError for a bad header or checksum."""
    if len(buf) < HEADER_SIZE:
        return None
    msgtype, length, csum = parse_header(bytes(buf[:HEADER_SIZE]), magic)
    if len(buf) < HEADER_SIZE + length:
        return None
    payload = bytes(buf[HEADER_SIZE:HEADER_SIZE + length])
    if checksum(payload) != csum:
        raise DecodeError(f"checksum mismatch for {msgtype} message")
    return msgtype, payload, HEADER_SIZE + length
