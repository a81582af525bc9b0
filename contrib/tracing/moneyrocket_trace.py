#!/usr/bin/python3
"""moneyrocket_trace: read moneyrocketd's tracepoint stream from Python.

Standard library only; no root, no bcc. The node serves its tracepoints on
DATADIR/trace.sock (see doc/tracing.md, "The tracepoint stream") to its own
user. Import this module, or run it:

    python3 contrib/tracing/moneyrocket_trace.py -datadir=/tmp/n1 'net:*'

    from moneyrocket_trace import TraceStream
    with TraceStream(datadir="/tmp/n1") as ts:
        print(ts.schema["validation:block_connected"].fields)
        ts.subscribe("validation:block_connected", "mempool:*")
        for ev in ts.events(timeout=10):
            print(ev["event"], ev["seq"], ev.get("height"))

Every event is a dict: "event" (context:name), "seq", "time_ns", then each
field by name: integers as int, bool as bool, strings as str (bytes that
are not UTF-8 are replaced), byte fields as bytes in stored order. A loss is
a dict with "event": "tracestream:lost", "seq" and "lost"; `lost` on the
stream object counts them all.
"""
import mmap
import os
import select
import socket
import struct
import sys

VERSION = 1
MAGIC = 0x4D525452
RING_HDR = 4096
REC = struct.Struct("=IHHQQ")           # size, kind, event, seq, time_ns
OFF_HEAD, OFF_LOST, OFF_WRITTEN, OFF_TAIL, OFF_WAITING, OFF_WAKE = 64, 72, 80, 128, 192, 200
KIND_EVENT, KIND_PAD, KIND_LOST = 1, 2, 3
# The node wakes a sleeping reader only once its backlog is large (an eighth
# of the ring, set below); otherwise the reader looks every read period.
MAX_SLEEP_S = 0.01

_FIXED = {"int32": struct.Struct("=i"), "uint32": struct.Struct("=I"),
          "int64": struct.Struct("=q"), "uint64": struct.Struct("=Q"),
          "bool": struct.Struct("=?")}
_U16, _U32, _U64 = struct.Struct("=H"), struct.Struct("=I"), struct.Struct("=Q")


class StreamError(Exception):
    pass


class Field:
    def __init__(self, name, type_, size=None, len_field=None):
        self.name, self.type, self.size, self.len_field = name, type_, size, len_field

    def __repr__(self):
        extra = f"[{self.size}]" if self.size is not None else \
            f"[@{self.len_field}]" if self.len_field is not None else ""
        return f"{self.type}{extra} {self.name}"


class Event:
    def __init__(self, index, name, description, fields):
        self.index, self.name, self.description, self.fields = index, name, description, fields


def default_socket(datadir=None):
    datadir = datadir or os.path.join(os.path.expanduser("~"), ".moneyrocket")
    return os.path.join(datadir, "trace.sock")


class TraceStream:
    """One connection to a node's tracepoint stream."""

    def __init__(self, path=None, datadir=None, ring=None, timeout=30):
        self.path = path or default_socket(datadir)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError as e:
            self.sock.close()
            raise StreamError(f"cannot connect to {self.path}: {e.strerror}") from None
        self._buf = b""
        self._fds = []
        self.ring = self.size = None
        self.tail = 0
        self.lost = self.received = 0
        self.schema = {}
        self.by_index = []
        self._read_schema()
        if ring:
            self._command(f"ring {ring}", "ring")

    # ---- lines ------------------------------------------------------------
    def _fill(self):
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 4)
        if not data:
            raise StreamError("the node closed the connection")
        self._fds += fds
        self._buf += data

    def _line(self):
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line, self._buf = self._buf[:nl].decode(), self._buf[nl + 1:]
                if line:
                    return line
                continue
            self._fill()

    def _read_schema(self):
        head = self._line().split()
        if len(head) != 3 or head[0] != "tracestream" or int(head[1]) != VERSION:
            raise StreamError(f"not a tracestream {VERSION} server: {' '.join(head)}")
        for i in range(int(head[2])):
            _, idx, name, nfields, *desc = self._line().split(" ")
            fields = []
            for _f in range(int(nfields)):
                parts = self._line().split()
                if parts[0] != "field":
                    raise StreamError(f"bad schema line: {' '.join(parts)}")
                size = len_field = None
                if len(parts) > 3 and parts[3].startswith("@"):
                    len_field = int(parts[3][1:])
                elif len(parts) > 3:
                    size = int(parts[3])
                fields.append(Field(parts[1], parts[2], size, len_field))
            ev = Event(int(idx), name, " ".join(desc), fields)
            self.schema[name] = ev
            self.by_index.append(ev)
        if self._line() != "end":
            raise StreamError("schema without its end line")

    def _command(self, line, verb):
        self.sock.sendall(line.encode() + b"\n")
        while True:
            reply = self._line()
            if reply.startswith("ring "):
                self._map_ring(int(reply.split()[1]))
            elif reply.startswith(f"ok {verb} "):
                return int(reply.split()[2])
            elif reply.startswith("error "):
                raise StreamError(f"node: {reply[6:]}")
            else:
                raise StreamError(f"unexpected reply: {reply}")

    def _map_ring(self, size):
        if not self._fds:
            raise StreamError("the ring came without its descriptor")
        fd = self._fds.pop(0)
        try:
            self.ring = mmap.mmap(fd, RING_HDR + size, mmap.MAP_SHARED,
                                  mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        magic, _version, ring_size = struct.unpack_from("=IIQ", self.ring, 0)
        if magic != MAGIC or ring_size != size:
            raise StreamError("the ring's header is not tracestream's")
        self.size = size
        self.tail = _U64.unpack_from(self.ring, OFF_TAIL)[0]
        _U64.pack_into(self.ring, OFF_WAKE, size // 8)

    # ---- public -------------------------------------------------------------
    def subscribe(self, *patterns):
        """Subscribe to fnmatch patterns; returns how many events now match."""
        n = 0
        for p in patterns:
            n = self._command(f"subscribe {p}", "subscribe")
        return n

    def unsubscribe(self, pattern):
        return self._command(f"unsubscribe {pattern}", "unsubscribe")

    def totals(self):
        """(written, lost) as the node counted them for this client."""
        if not self.ring:
            return 0, 0
        return (_U64.unpack_from(self.ring, OFF_WRITTEN)[0],
                _U64.unpack_from(self.ring, OFF_LOST)[0])

    def _decode(self, ev, off, end):
        out = {}
        ring = self.ring
        for f in ev.fields:
            fixed = _FIXED.get(f.type)
            if fixed:
                value = fixed.unpack_from(ring, off)[0]
                off += fixed.size
            elif f.type == "string":
                n = _U16.unpack_from(ring, off)[0]
                value = ring[off + 2:off + 2 + n].decode("utf-8", "replace")
                off += 2 + n
            elif f.len_field is not None:
                n = _U32.unpack_from(ring, off)[0]
                value = ring[off + 4:off + 4 + n]
                off += 4 + n
            else:
                value = ring[off:off + f.size]
                off += f.size
            if off > end:
                raise StreamError(f"{ev.name}: record shorter than its fields")
            out[f.name] = value
        return out

    def _take(self):
        """Records available now, as dicts; the space is given back."""
        out = []
        head = _U64.unpack_from(self.ring, OFF_HEAD)[0]
        data, size = RING_HDR, self.size
        while self.tail < head:
            off = self.tail & (size - 1)
            if size - off < REC.size:
                self.tail += size - off
                continue
            rsize, kind, event, seq, time_ns = REC.unpack_from(self.ring, data + off)
            if rsize < REC.size or rsize & 7 or rsize > size - off:
                raise StreamError(f"corrupt record at {self.tail}")
            if kind == KIND_EVENT:
                ev = self.by_index[event]
                rec = {"event": ev.name, "seq": seq, "time_ns": time_ns}
                rec.update(self._decode(ev, data + off + REC.size, data + off + rsize))
                self.received += 1
                out.append(rec)
            elif kind == KIND_LOST:
                n = _U64.unpack_from(self.ring, data + off + REC.size)[0]
                self.lost += n
                out.append({"event": "tracestream:lost", "seq": seq, "time_ns": time_ns,
                            "lost": n})
            self.tail += rsize
        _U64.pack_into(self.ring, OFF_TAIL, self.tail)
        return out

    def read(self, timeout=None):
        """Every record available, waiting up to `timeout` seconds (None:
        for ever) for the first; [] on timeout."""
        if not self.ring:
            raise StreamError("subscribe first")
        deadline = None if timeout is None else _now() + timeout
        while True:
            got = self._take()
            if got:
                return got
            _U32.pack_into(self.ring, OFF_WAITING, 1)
            if _U64.unpack_from(self.ring, OFF_HEAD)[0] != self.tail:
                _U32.pack_into(self.ring, OFF_WAITING, 0)
                continue
            left = MAX_SLEEP_S if deadline is None else min(MAX_SLEEP_S, deadline - _now())
            if left <= 0:
                return []
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                try:
                    data = self.sock.recv(4096)
                except BlockingIOError:
                    data = b"\n"
                if not data:
                    rest = self._take()
                    if rest:
                        return rest
                    raise StreamError("the node closed the connection")

    def events(self, timeout=None):
        """Yield records until `timeout` seconds pass without one."""
        while True:
            got = self.read(timeout)
            if not got:
                return
            yield from got

    def close(self):
        if self.ring:
            self.ring.close()
            self.ring = None
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _now():
    import time
    return time.monotonic()


def main(argv):
    import json
    datadir = path = None
    patterns = []
    for a in argv[1:]:
        if a.startswith("-datadir="):
            datadir = a[9:]
        elif a.startswith("-tracesocket="):
            path = a[13:]
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            patterns.append(a)
    if not patterns:
        print("usage: moneyrocket_trace.py [-datadir=DIR | -tracesocket=PATH] PATTERN...",
              file=sys.stderr)
        return 2
    try:
        with TraceStream(path=path, datadir=datadir) as ts:
            n = ts.subscribe(*patterns)
            print(f"moneyrocket_trace: subscribed to {n} tracepoints", file=sys.stderr,
                  flush=True)
            try:
                for ev in ts.events():
                    print(json.dumps({k: (v.hex() if isinstance(v, bytes) else v)
                                      for k, v in ev.items()}), flush=True)
            except KeyboardInterrupt:
                pass
            except StreamError:
                pass
            print(f"moneyrocket_trace: {ts.received} events received, {ts.lost} lost",
                  file=sys.stderr)
    except StreamError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
