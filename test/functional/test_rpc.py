"""moneyrocketd's JSON-RPC server and moneyrocket-cli.

Every RPC with good and bad parameters, malformed requests (the node keeps
running), authentication, the cookie file's life cycle, and start-up
failures on bad command-line options.
"""
import json
import re
import stat
import subprocess

import pytest

from framework import netpeer
from framework.fixtures import node_factory, node_set  # noqa: F401  (fixtures)
from framework.node import DEFAULT_CLI, JSONRPCError, connect_nodes, wait_until

INVALID_PARAMS = (-32602, -8)   # JSON-RPC's code, or Bitcoin's RPC_INVALID_PARAMETER
PEER_FIELDS = {
    "id": int, "addr": str, "addrbind": str, "network": str, "network_id": int,
    "connection_type": str, "inbound": bool, "conntime": int, "lastsend": int,
    "lastrecv": int, "bytessent": int, "bytesrecv": int, "bytessent_per_msg": dict,
    "bytesrecv_per_msg": dict, "msgssent_per_msg": dict, "msgsrecv_per_msg": dict,
    "version": int, "subver": str, "startingheight": int, "relaytxes": bool,
}


@pytest.fixture(scope="module")
def nodes(node_set):  # noqa: F811
    """Two nodes, node1 connected to node0."""
    a, b = node_set.start(2)
    connect_nodes(b, a)
    return a, b


def rpc_error(node, method, *params):
    with pytest.raises(JSONRPCError) as exc:
        node.call(method, *params)
    return exc.value


def post_json(node, obj_or_bytes, auth=True):
    body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    status, data = node.http_post(body, auth=auth)
    return status, (json.loads(data) if data.strip().startswith((b"{", b"[")) else data)


# ---- every RPC --------------------------------------------------------------

def test_getnetworkinfo(nodes):
    a, _ = nodes
    info = a.getnetworkinfo()
    assert info["subversion"] == "/moneyrocket:0.1.0/"
    assert info["protocolversion"] == 70016
    assert isinstance(info["version"], int) and info["version"] > 0
    services = info["localservices"]
    assert (int(services, 16) if isinstance(services, str) else services) == 0x409
    assert info["networkactive"] is True
    assert info["connections"] == info["connections_in"] + info["connections_out"] == 1
    assert info["connections_in"] == 1
    assert isinstance(info["localaddresses"], list)
    assert isinstance(info["warnings"], (str, list))
    err = rpc_error(a, "getnetworkinfo", "extra")
    assert err.code in INVALID_PARAMS + (-1,)


def test_getpeerinfo(nodes):
    a, b = nodes
    on_a = a.getpeerinfo()
    on_b = b.getpeerinfo()
    assert len(on_a) == len(on_b) == 1
    pa, pb = on_a[0], on_b[0]
    for p in (pa, pb):
        for field, typ in PEER_FIELDS.items():
            assert isinstance(p[field], typ), (field, p.get(field))
        assert p["network"] == "not_publicly_routable" and p["network_id"] == 0
        assert p["subver"] == "/moneyrocket:0.1.0/" and p["version"] == 70016
        assert p["conntime"] > 0
        # Per-message bytes include the 24-byte header and add up.
        assert p["bytessent_per_msg"]["version"] > 24
        assert sum(p["bytessent_per_msg"].values()) == p["bytessent"]
        assert sum(p["bytesrecv_per_msg"].values()) == p["bytesrecv"]
    assert pa["inbound"] is True and pa["connection_type"] == "inbound"
    assert pb["inbound"] is False and pb["connection_type"] == "manual"
    assert pb["addr"] == a.p2p_addr and pa["addr"] == pb["addrbind"]
    err = rpc_error(a, "getpeerinfo", "extra")
    assert err.code in INVALID_PARAMS + (-1,)


def test_ping_measures_round_trip(nodes):
    a, b = nodes
    before = b.getpeerinfo()[0]["bytessent_per_msg"].get("ping", 0)
    assert b.ping() is None
    peer = wait_until(lambda: next((p for p in b.getpeerinfo()
                                    if p["bytessent_per_msg"].get("ping", 0) > before
                                    and "pingtime" in p), None), what="ping answered")
    assert 0 <= peer["minping"] <= peer["pingtime"] < 10


def test_addnode_and_disconnectnode(node_factory):
    a, b = node_factory.start(2)
    # Bad parameters first: the node answers each with an error.
    assert rpc_error(a, "addnode", b.p2p_addr, "sometimes").code in INVALID_PARAMS + (-1,)
    assert rpc_error(a, "addnode").code in INVALID_PARAMS + (-1,)
    assert rpc_error(a, "addnode", 12345, "onetry").code in INVALID_PARAMS + (-1,)
    assert rpc_error(a, "disconnectnode", "", 987654).code < 0
    assert rpc_error(a, "disconnectnode", "127.0.0.1:1").code < 0

    assert a.addnode(b.p2p_addr, "onetry") is None
    peer = a.wait_for_peer(lambda p: p["addr"] == b.p2p_addr, what="manual peer")
    assert peer["connection_type"] == "manual"
    wait_until(lambda: b.getnetworkinfo()["connections_in"] == 1, what="inbound on b")

    # By id.
    assert a.disconnectnode("", peer["id"]) is None
    wait_until(lambda: not a.getpeerinfo() and not b.getpeerinfo(), what="disconnect by id")

    # By address.
    a.addnode(b.p2p_addr, "onetry")
    a.wait_for_peer(lambda p: p["addr"] == b.p2p_addr, what="manual peer again")
    assert a.disconnectnode(b.p2p_addr) is None
    wait_until(lambda: not a.getpeerinfo(), what="disconnect by address")

    # addnode add/remove (persistent manual peer) and the duplicate rule.
    a.addnode(b.p2p_addr, "add")
    a.wait_for_peer(lambda p: p["addr"] == b.p2p_addr, what="added peer connects")
    assert rpc_error(a, "addnode", b.p2p_addr, "add").code < 0   # already added
    a.addnode(b.p2p_addr, "remove")
    assert rpc_error(a, "addnode", b.p2p_addr, "remove").code < 0  # not added


def test_addnode_onetry_within_manual_limit(node_factory):
    """onetry counts against the 8 manual connections the descriptor budget allows."""
    (a,) = node_factory.start(1)
    listeners = [netpeer.Listener() for _ in range(9)]
    try:
        for n, listener in enumerate(listeners[:8], 1):
            a.addnode(listener.addr, "onetry")
            wait_until(lambda n=n: len(a.getpeerinfo()) == n, what=f"{n} manual peers")
        err = rpc_error(a, "addnode", listeners[8].addr, "onetry")
        assert err.code == -1
        assert "already 8 manual connections" in err.message
        assert len(a.getpeerinfo()) == 8
        # An address already connected is not a new connection.
        assert a.addnode(listeners[0].addr, "onetry") is None
    finally:
        for listener in listeners:
            listener.close()


def test_stop_via_cli(node_factory):
    (n,) = node_factory.start(1)
    proc = n.cli("stop")
    assert proc.returncode == 0 and not proc.stderr.strip()
    assert n.process.wait(30) == 0
    assert not n.cookie_file.exists()


# ---- malformed requests ----------------------------------------------------

@pytest.mark.parametrize("body,code", [
    (b"{not json", -32700),
    (b"", -32700),
    (b"\xff\xfe\x00garbage", -32700),
    (b'{"method": "getnetworkinfo", "params": [', -32700),
    (b'"just a string"', -32600),
    (b'42', -32600),
    (b'{"params": []}', -32600),
    (b'{"method": 5, "params": []}', -32600),
    (b'{"method": "getnetworkinfo", "params": "notalist"}', -32600),
], ids=["broken", "empty", "binary", "truncated", "string", "number", "no-method",
        "method-not-string", "params-not-array"])
def test_malformed_request(nodes, body, code):
    a, _ = nodes
    status, reply = post_json(a, body)
    assert isinstance(reply, dict), (status, reply)
    err = reply["error"]
    # params as a non-array is either an invalid request or invalid params.
    allowed = {code, -32602} if code == -32600 and b"params" in body else {code}
    assert err["code"] in allowed, reply
    assert reply.get("result") is None
    assert status != 200
    assert a.getnetworkinfo()["protocolversion"] == 70016  # still serving


def test_unknown_method(nodes):
    a, _ = nodes
    err = rpc_error(a, "nosuchmethod")
    assert err.code == -32601
    assert "not found" in err.message.lower()


def test_reply_echoes_id_and_version(nodes):
    a, _ = nodes
    status, reply = post_json(a, {"jsonrpc": "2.0", "id": "abc", "method": "getnetworkinfo",
                                  "params": []})
    assert status == 200 and reply["id"] == "abc" and reply["result"]["connections"] >= 0
    status, reply = post_json(a, {"jsonrpc": "1.0", "id": 17, "method": "getpeerinfo",
                                  "params": []})
    assert status == 200 and reply["id"] == 17 and reply["error"] is None


def test_auth_required(nodes):
    a, _ = nodes
    body = {"id": 1, "method": "getnetworkinfo", "params": []}
    status, _ = post_json(a, body, auth=False)
    assert status == 401
    status, _ = a.http_post(json.dumps(body).encode(), auth=False,
                            headers={"Authorization": "Basic X19jb29raWVfXzp3cm9uZw=="})
    assert status == 401  # __cookie__:wrong
    assert a.getnetworkinfo()["connections"] >= 0


# ---- cookie file and command line -------------------------------------------

def test_cookie_file_lifecycle(node_factory):
    (n,) = node_factory.start(1)
    st = n.cookie_file.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert re.fullmatch(r"__cookie__:[0-9a-f]{64}", n.cookie_file.read_text().strip())
    assert n.stop() == 0
    assert not n.cookie_file.exists()


def test_bad_command_line_option(tmp_path):
    from framework.node import default_binary
    from conftest import require_built
    binary = require_built(default_binary())
    for args, needle in ((["-nosuchoption=1"], "nosuchoption"),
                         (["-port=notaport"], "port"),
                         (["-rpcport=70000"], "rpcport"),
                         (["-maxconnections=-5"], "maxconnections")):
        datadir = tmp_path / args[0].strip("-").split("=")[0]
        datadir.mkdir()
        proc = subprocess.run([str(binary), f"-datadir={datadir}"] + args,
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 1, (args, proc.returncode, proc.stderr)
        assert needle in proc.stderr, (args, proc.stderr)
        assert not (datadir / ".cookie").exists()


def test_cli_errors_and_output(nodes, tmp_path):
    a, _ = nodes
    out = a.cli("getnetworkinfo").stdout
    assert json.loads(out)["protocolversion"] == 70016
    proc = a.cli("nosuchmethod", check=False)
    assert proc.returncode == 1 and proc.stderr.strip() and not proc.stdout.strip()
    proc = a.cli("addnode", a.p2p_addr, "bogus", check=False)
    assert proc.returncode == 1 and proc.stderr.strip()
    # No node listening there: a connection error, exit 1.
    proc = subprocess.run([str(DEFAULT_CLI), f"-datadir={tmp_path}", "-rpcport=1",
                           "getnetworkinfo"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and proc.stderr.strip()


def test_node_alive_after_everything(nodes):
    a, b = nodes
    assert a.running() and b.running()
    assert a.getnetworkinfo()["connections"] == 1
