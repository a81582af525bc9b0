"""The tracepoint stream from tests, without privileges.

Run as root (CI), everything here drops to the unprivileged user `nobody`:
the node runs as nobody (so its socket belongs to nobody) and so do the
stream clients, through `setpriv`. The programs are copied into a
world-readable directory first, because the checkout itself may sit in a
directory only root can enter (a clone in a 0700 `mktemp -d`). Run as
another user, the node and clients simply run as that user.

StreamTracer runs a client (the C `moneyrocket-trace` or the Python
`moneyrocket_trace.py`) in the background and turns its NDJSON lines into
the event dicts the shared scenario checks (net_scenarios, chain_scenarios,
wallet_scenarios) expect from the BCC and bpftrace tracers.
"""
import json
from contextlib import contextmanager
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from framework.node import NodeSet, default_binary, wait_until
from framework.tracers import TracerProcess
from framework.unprivileged import as_user, readable_copy, user_ids

ROOT = Path(__file__).resolve().parents[3]
TRACE_CLIENT = ROOT / "src" / "moneyrocket-trace"
PY_CLIENT = ROOT / "contrib" / "tracing" / "moneyrocket_trace.py"
PYTHON = "/usr/bin/python3"

UNPRIVILEGED = "nobody"
OTHER_USER = "daemon"

# The stream's field names -> the names the scenario checks use (those of
# the BCC tracers, framework/tracers.py and chain_tracers.py).
_RENAME = {"peer_addr": "addr", "msg_size": "size", "msg": "data",
           "duration_us": "duration", "memory_bytes": "memory", "for_prune": "pruning",
           "algorithm": "algo", "replaced_entry_time": "replaced_time"}
# Fields that are bytes, shown as hex by both clients.
_BYTES = {"msg", "hash", "txid", "replaced_txid", "replacement_txid"}


class Programs:
    """Copies of the node and the clients that any user can run."""

    def __init__(self, daemon=None):
        self.dir = Path(tempfile.mkdtemp(prefix="mr_stream_bin_"))
        self.daemon = self._copy(daemon or default_binary())
        self.trace = self._copy(TRACE_CLIENT)
        self.py_client = self._copy(PY_CLIENT)

    def _copy(self, src):
        return readable_copy(src, self.dir)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class UnprivilegedNodes(NodeSet):
    """A NodeSet whose nodes run as `nobody` (when the tests run as root),
    each in a data directory that user owns."""

    def __init__(self, programs, prefix="mr_stream_"):
        super().__init__(prefix=prefix, binary=programs.daemon,
                         wrapper=as_user(UNPRIVILEGED))
        self.programs = programs
        if os.geteuid() == 0:
            uid, gid = user_ids(UNPRIVILEGED)
            os.chmod(self.basedir, 0o755)
            os.chown(self.basedir, uid, gid)

    def add(self, extra_args=(), binary=None, start=True, **kw):
        node = super().add(extra_args, binary, start=False, **kw)
        node.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(node.datadir, *user_ids(UNPRIVILEGED))
        if start:
            node.start(wait=False)
        return node


def trace_socket(node):
    return node.datadir / "trace.sock"


def client_cmd(programs, node, patterns, client="c", user=UNPRIVILEGED, extra=()):
    """The command line of a stream client on `node`'s socket."""
    sock = f"-tracesocket={trace_socket(node)}"
    if client == "c":
        cmd = [programs.trace, sock, *extra, *patterns]
    else:
        cmd = [PYTHON, programs.py_client, sock, *extra, *patterns]
    return as_user(user) + [str(c) for c in cmd]


def parse_event(line):
    """One NDJSON line of either client -> the scenario's event dict."""
    raw = json.loads(line)
    name = raw.pop("event")
    seq = raw.pop("seq")
    # "ts" orders events, as the BCC tracers' kernel timestamps do.
    e = {"stream_event": name, "seq": seq, "ts": seq}
    raw.pop("time", None)
    raw.pop("time_ns", None)
    for k, v in raw.items():
        if k in _BYTES:
            v = bytes.fromhex(v)
        e[_RENAME.get(k, k)] = v
    return e



@pytest.fixture(scope="module")
def programs():
    """The programs, copied where `nobody` can run them (one copy per
    module); import it into a test module to use it."""
    p = Programs()
    yield p
    p.close()


@contextmanager
def unprivileged_nodes(request, programs, prefix):
    """UnprivilegedNodes for one fixture: stopped at its end, their files
    kept when a test failed meanwhile."""
    nodes = UnprivilegedNodes(programs, prefix=prefix)
    failed_before = request.session.testsfailed
    try:
        yield nodes
    finally:
        nodes.stop(failed=request.session.testsfailed > failed_before)

class StreamTracer:
    """A stream client on one node, recording events like the BCC tracers.

    `net_style` events carry "tp" without the "net:" context (as
    framework.tracers.NetTracer's); the others the full name (as
    chain_tracers' and wallet_tracers').
    """

    def __init__(self, programs, node, patterns, client="c", net_style=False):
        self.proc = TracerProcess(client_cmd(programs, node, patterns, client))
        self.net_style = net_style
        self.events = []
        self.lost = 0
        self.seqs = []
        self._seen = 0
        wait_until(self._subscribed, 30, what="stream client subscribed")

    def _subscribed(self):
        if self.proc.proc.poll() is not None:
            raise AssertionError(f"stream client exited {self.proc.proc.returncode}:\n"
                                 + "\n".join(self.proc.stderr()))
        return any("subscribed to" in l for l in self.proc.stderr())

    def poll(self, timeout_ms=50):
        lines = self.proc.output()
        for line in lines[self._seen:]:
            e = parse_event(line)
            self.seqs.append(e["seq"])
            if e["stream_event"] == "tracestream:lost":
                self.lost += e["lost"]
                continue
            name = e.pop("stream_event")
            e["tp"] = name.split(":", 1)[1] if self.net_style else name
            self.events.append(e)
        self._seen = len(lines)

    def select(self, tp=None, **fields):
        return [e for e in self.events if (tp is None or e["tp"] == tp)
                and all(e.get(k) == v for k, v in fields.items())]

    def wait_for(self, tp, predicate=None, timeout_s=30, count=1, **fields):
        def enough():
            self.poll()
            found = [e for e in self.select(tp, **fields) if predicate is None or predicate(e)]
            return found if len(found) >= count else None
        return wait_until(enough, timeout_s, what=f"{count} x {tp} {fields or ''} on the stream")

    def drain(self, quiet_s=0.3):
        """Poll until no new line arrived for quiet_s (as the BCC tracers)."""
        n = -1
        while n != len(self.proc.output()):
            n = len(self.proc.output())
            time.sleep(quiet_s)
        self.poll()

    def close(self):
        """Stop the client; return its exit code and stderr summary."""
        code = self.proc.stop()
        self.poll()
        return code, self.proc.stderr()
