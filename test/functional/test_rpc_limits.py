"""The JSON-RPC server under hostile or careless clients (doc/rpc.md, "Limits").

Each attack runs in a bounded loop on loopback against a fresh node; the
node must stay up, answer RPC within a bound, stay under an RSS ceiling
and say what happened in one rate-limited debug.log line.
"""
import json
import resource
import socket
import threading
import time

import pytest

from framework import p2p
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import JSONRPCError, timeout, wait_until

MAX_BATCH = 1000          # RPC_MAX_BATCH
MAX_CLIENTS = 32          # RPC_MAX_CLIENTS
MAX_HEADER_BYTES = 8192   # RPC_MAX_HEADER_BYTES
LOG_LIMIT_LINES = 5       # LOG_LIMIT_LINES per call site per minute
RSS_SLACK = 64 << 20      # what an attack may add to the node's RSS
RPC_BOUND_S = 2.0         # an RPC answered within this during an attack


@pytest.fixture
def node(node_factory):  # noqa: F811
    n = node_factory.add()
    n.wait_for_rpc()
    return n


def log_count(node, needle, since):
    return sum(needle in line for line in node.debug_log_text(since).splitlines())


def assert_healthy(node, rss_before):
    """Up, answering RPC within the bound, RSS under the ceiling."""
    assert node.running()
    _, took = node.timed_call("getnetworkinfo")
    assert took < timeout(RPC_BOUND_S), f"getnetworkinfo took {took:.2f}s"
    rss = node.rss_bytes()
    ceiling = rss_before + RSS_SLACK + node.rss_overhead()
    assert rss < ceiling, f"RSS {rss >> 20} MiB (was {rss_before >> 20} MiB)"
    assert not node.sanitizer_reports(), "\n".join(node.sanitizer_reports())


def raw_http(node, head, body=b""):
    """Send a hand-made request; return the status line the node answers
    with (b"" if it only closed)."""
    with socket.create_connection(("127.0.0.1", node.rpc_port), timeout=timeout(30)) as s:
        s.sendall(head + body)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0]


# ---- item 5: batch size, reply size, a responsive loop ----------------------

def test_oversized_batch_is_refused_whole(node):
    rss = node.rss_bytes()
    since = node.debug_log_size()
    body = json.dumps([{"method": "help", "id": i} for i in range(100_000)]).encode()
    start = time.monotonic()
    status, data = node.http_post(body)
    took = time.monotonic() - start
    reply = json.loads(data)
    assert status == 400
    assert reply["error"]["code"] == -32600
    assert reply["error"]["message"] == "batch too large: 100000 requests (at most 1000)"
    assert took < timeout(10)
    node.wait_for_log("rpc: batch too large: 100000 requests (at most 1000)", since)
    assert_healthy(node, rss)

    # The largest batch allowed is answered in full.
    body = json.dumps([{"method": "help", "id": i} for i in range(MAX_BATCH)]).encode()
    status, data = node.http_post(body)
    replies = json.loads(data)
    assert status == 200 and len(replies) == MAX_BATCH
    assert [r["id"] for r in replies] == list(range(MAX_BATCH))
    assert all(r["error"] is None and "getnetworkinfo" in r["result"] for r in replies)


def test_big_batches_leave_the_loop_responsive(node):
    """Clients keep full batches in flight; a plain RPC and a P2P ping are
    still answered within the bound (batches run in slices)."""
    rss = node.rss_bytes()
    body = json.dumps([{"method": "help", "id": i} for i in range(MAX_BATCH)]).encode()
    stop = threading.Event()
    done, errors = [], []

    def flood():
        while not stop.is_set():
            try:
                status, data = node.http_post(body)
                assert status == 200 and len(json.loads(data)) == MAX_BATCH
                done.append(1)
            except Exception as e:  # recorded; asserted below
                errors.append(e)
                return

    peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    peer.handshake()
    threads = [threading.Thread(target=flood, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(done) >= 4, 60, what="first batches answered")
        worst_rpc = worst_ping = 0.0
        for _ in range(20):
            _, took = node.timed_call("getblockcount")
            worst_rpc = max(worst_rpc, took)
            start = time.monotonic()
            peer.ping_roundtrip()
            worst_ping = max(worst_ping, time.monotonic() - start)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout(60))
        peer.close()
    assert not errors, errors
    assert worst_rpc < timeout(RPC_BOUND_S), f"RPC took {worst_rpc:.2f}s during the flood"
    assert worst_ping < timeout(RPC_BOUND_S), f"ping took {worst_ping:.2f}s during the flood"
    assert_healthy(node, rss)


# ---- item 6: header size and count ------------------------------------------

def send_until_closed(node, first, chunk, limit):
    """Send `first`, then `chunk` until `limit` bytes or until the node
    closes the connection. Returns (bytes sent, whether it closed)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", node.rpc_port), timeout=timeout(30)) as s:
        try:
            s.sendall(first)
            while sent < limit:
                s.sendall(chunk)
                sent += len(chunk)
            s.shutdown(socket.SHUT_WR)
            return sent, s.recv(1 << 16) is not None and s.recv(1) == b""
        except OSError:
            return sent, True


def test_header_flood_is_cut_at_the_limit(node):
    rss = node.rss_bytes()
    cpu = node.cpu_seconds()
    # 1 KB header lines, without auth: 60 MB if the node kept reading.
    line = b"X-Flood: " + b"a" * 1014 + b"\r\n"
    sent, closed = send_until_closed(node, b"POST / HTTP/1.1\r\nHost: x\r\n", line, 60 << 20)
    assert closed and sent < 16 << 20, f"the node read {sent} bytes of headers"
    assert_healthy(node, rss)
    # One 90 MB header line: refused once it passes the limit.
    sent, closed = send_until_closed(node, b"POST / HTTP/1.1\r\nX-Big: ", b"b" * (1 << 20),
                                     90 << 20)
    assert closed and sent < 16 << 20, f"the node read {sent} bytes of one header line"
    assert node.cpu_seconds() - cpu < timeout(5)
    assert_healthy(node, rss)


def test_header_limits_answer_with_a_status(node):
    auth = f"Authorization: {node.auth_header()}\r\n".encode()
    body = b'{"method":"getblockcount","id":1}'
    head = (b"POST / HTTP/1.1\r\nHost: x\r\n" + auth +
            f"Content-Length: {len(body)}\r\n".encode())
    # Within the limits: answered.
    assert raw_http(node, head + b"\r\n", body) == b"HTTP/1.1 200 OK"
    # More than 64 short lines (well under 8 KB): 431.
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(70))
    assert len(many) < MAX_HEADER_BYTES
    assert raw_http(node, head + many + b"\r\n", body).startswith(b"HTTP/1.1 431")
    # One line making the section larger than 8 KB: libevent's 400.
    big = b"X-Big: " + b"c" * MAX_HEADER_BYTES + b"\r\n"
    assert raw_http(node, head + big + b"\r\n", body) == b"HTTP/1.1 400 Bad Request"
    assert node.getblockcount() == 0


# ---- item 7: descriptor budget, accept back-off, rate-limited lines ----------

def test_idle_clients_cannot_take_the_descriptors(node):
    rss = node.rss_bytes()
    fds = node.open_fds()
    since = node.debug_log_size()
    idle = [socket.create_connection(("127.0.0.1", node.rpc_port)) for _ in range(150)]
    try:
        # The node took at most its budget of them...
        wait_until(lambda: log_count(node, "rpc: 32 clients", since) > 0, 30,
                   what="the client budget reached")
        assert node.open_fds() <= fds + MAX_CLIENTS + 2
        # ...still answers RPC (an idle client makes room)...
        for _ in range(5):
            assert_healthy(node, rss)
        assert node.open_fds() <= fds + MAX_CLIENTS + 2
        # ...and P2P is not starved.
        peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
        peer.handshake()
        peer.ping_roundtrip()
        peer.close()
    finally:
        for s in idle:
            s.close()
    lines = log_count(node, "rpc: ", since)
    assert lines <= 2 * LOG_LIMIT_LINES, node.debug_log_text(since)


def test_accept_errors_back_off(node):
    """With the descriptor limit lowered under it, accept() fails with
    EMFILE: the listeners rest instead of spinning and the line is
    rate-limited. Raised again, the node serves as before."""
    soft, hard = resource.prlimit(node.pid, resource.RLIMIT_NOFILE)
    since = node.debug_log_size()
    conns = []
    try:
        resource.prlimit(node.pid, resource.RLIMIT_NOFILE, (node.open_fds() + 2, hard))
        for _ in range(20):
            conns.append(socket.create_connection(("127.0.0.1", node.p2p_port)))
        node.wait_for_log("net: accept failed: Too many open files; pausing accepts", since)
        cpu = node.cpu_seconds()
        end = time.monotonic() + 3
        while time.monotonic() < end:      # a measured interval, not a wait
            conns.append(socket.create_connection(("127.0.0.1", node.p2p_port)))
            time.sleep(0.1)
        busy = node.cpu_seconds() - cpu
        assert busy < 1.0, f"{busy:.2f}s of CPU in 3s while accept() fails"
        assert log_count(node, "net: accept failed", since) <= LOG_LIMIT_LINES
    finally:
        resource.prlimit(node.pid, resource.RLIMIT_NOFILE, (soft, hard))
        for s in conns:
            s.close()
    wait_until(lambda: node.running() and node.getblockcount() == 0, 30,
               what="RPC back after the limit is raised")
    peer = p2p.P2PConnection("127.0.0.1", node.p2p_port)
    peer.handshake()
    peer.close()


def test_auth_failures_are_rate_limited_in_the_log(node):
    since = node.debug_log_size()
    for i in range(300):
        status, _ = node.http_post(b'{"method":"getblockcount"}', auth=False,
                                   headers={"Authorization": f"Basic wrong{i}"})
        assert status == 401
    lines = log_count(node, "rpc: request rejected: bad or missing authorization", since)
    assert 1 <= lines <= LOG_LIMIT_LINES
    assert node.getblockcount() == 0


# ---- item 8: every failure is a JSON-RPC error ------------------------------

def test_names_cut_inside_utf8_still_get_an_error(node):
    name = "\u00e9" * 200       # 400 bytes: the error message is cut inside one
    with pytest.raises(JSONRPCError) as exc:
        node.call(name)
    assert exc.value.code == -32601 and exc.value.http_status == 404
    assert exc.value.message.startswith("Method not found: \u00e9")

    status, data = node.http_post(json.dumps(
        {"jsonrpc": "2.0", "method": "getblockhash", "params": {name: 0}, "id": 7}).encode())
    reply = json.loads(data)
    assert status == 200 and "result" not in reply and reply["id"] == 7
    assert reply["error"]["code"] == -8
    assert reply["error"]["message"].startswith("unknown named parameter \u00e9")

    status, data = node.http_post(json.dumps(
        [{"method": name, "id": 1}, {"method": "getblockcount", "id": 2}]).encode())
    first, second = json.loads(data)
    assert first["error"]["code"] == -32601 and first["result"] is None
    assert second == {"result": 0, "error": None, "id": 2}
