#!/usr/bin/python3
"""Write the fuzz targets' seed corpora (test/fuzz/TARGET/seeds/) from real
data: messages built by the functional tests' codec, and transactions,
blocks and a wallet file made by a running moneyrocketd.

    test/fuzz/make_seeds.py        (after make; starts and stops one node)

Each seed starts with the byte the target reads first (see each
fuzz_TARGET.c). The seeds are committed; run this again only to refresh
them.
"""
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "functional"))

from framework import messages as m  # noqa: E402
from framework.node import NodeSet  # noqa: E402

COMMANDS = ["version", "verack", "ping", "pong", "addr", "getaddr", "sendheaders",
            "feefilter", "inv", "getdata", "notfound", "getheaders", "headers",
            "tx", "block", "unknown"]


def write(target, name, data):
    d = HERE / target / "seeds"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def payload_seed(command, payload):
    """fuzz_msg's odd first byte: one payload of `command`."""
    return bytes([COMMANDS.index(command) * 2 + 1]) + payload


def msg_seeds(raw_tx, raw_block):
    bodies = {
        "version": m.make_version(nonce=7, start_height=3, timestamp=1700000000),
        "ping": {"nonce": 1}, "pong": {"nonce": 2}, "verack": None,
        "feefilter": {"feerate": 1000},
        "addr": m.make_addr([(1700000000, "10.0.0.1", 28444), (0xffffffff, "1.2.3.4", 8333)]),
        "inv": m.make_inv(3), "getdata": m.make_inv(2, m.MSG_BLOCK),
        "notfound": m.make_inv(1),
        "getheaders": {"version": 70016, "locator": ["00" * 32, "11" * 32], "stop": "00" * 32},
        "headers": m.make_headers(3),
    }
    stream = b""
    for command, body in bodies.items():
        payload = m.serialize(command, body)
        write("msg", f"{command}.bin", payload_seed(command, payload))
        stream += m.frame(command, payload)
    stream += m.frame("tx", raw_tx) + m.frame("block", raw_block)
    write("msg", "stream.bin", b"\0" + stream)
    write("msg", "tx.bin", payload_seed("tx", raw_tx))
    write("msg", "block.bin", payload_seed("block", raw_block))


def config_seeds():
    write("config", "typical.conf", b"# a node\nport=28500\nrpcport=28501\nlisten=1\n"
          b"maxconnections=40\ndebug=net\nwallet=alice\nwallet=bob\nbind=127.0.0.1:28500\n"
          b"addnode=10.0.0.2:28444\nconnect=[::1]:28444\nfallbackfee=20000\n")
    write("config", "errors.conf", b"port=70000\nnosuchoption=1\n  spaced = 5\n=x\n")


def rpc_seeds(node, txid, raw_tx, block_hash, addr):
    calls = [
        ("getblockchaininfo", []), ("getblockhash", [1]), ("getblock", [block_hash, 2]),
        ("getrawtransaction", [txid, True]), ("decoderawtransaction", [raw_tx.hex()]),
        ("testmempoolaccept", [[raw_tx.hex()]]), ("getpeerinfo", []),
        ("getmempoolinfo", []), ("gettxout", [txid, 0]), ("help", ["getblock"]),
        ("disconnectnode", ["127.0.0.1:1"]),
    ]
    wallet_calls = [
        ("getbalances", []), ("listunspent", [0, 999, [addr]]),
        ("sendtoaddress", [addr, 0.1]), ("listtransactions", ["*", 10]),
        ("gettransaction", [txid]), ("getnewaddress", ["label"]),
        ("sendmany", ["", {addr: 0.2}]), ("lockunspent", [False, [{"txid": txid, "vout": 0}]]),
    ]
    for i, (method, params) in enumerate(calls):
        body = json.dumps({"jsonrpc": "1.0", "id": i, "method": method, "params": params})
        write("rpc", f"{method}.json", b"\0" + body.encode())
    for i, (method, params) in enumerate(wallet_calls):
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        write("rpc", f"wallet_{method}.json", b"\1" + body.encode())
    batch = [{"method": "getblockcount", "id": 1}, {"jsonrpc": "2.0", "method": "uptime"},
             {"method": "getblockheader", "params": {"blockhash": block_hash}, "id": 2}]
    write("rpc", "batch.json", b"\0" + json.dumps(batch).encode())


def main():
    ns = NodeSet(prefix="mr_fuzz_seeds_")
    try:
        node = ns.add()
        node.wait_for_rpc()
        node.createwallet("w")
        w = node.wallet_rpc("w")
        addr = w.getnewaddress()
        node.generatetoaddress(101, addr)
        txid = w.sendtoaddress(w.getnewaddress(), 1.5)
        w.sendtoaddress(w.getnewaddress(), 0.7)
        raw_tx = bytes.fromhex(node.getrawtransaction(txid))
        block_hash = node.generatetoaddress(1, addr)[0]
        raw_block = bytes.fromhex(node.getblock(block_hash, 0))
        msg_seeds(raw_tx, raw_block)
        write("tx_block", "tx.bin", b"\0" + raw_tx)
        write("tx_block", "block.bin", b"\1" + raw_block)
        write("tx_block", "genesis.bin", b"\1" + bytes.fromhex(
            node.getblock(node.getblockhash(0), 0)))
        config_seeds()
        rpc_seeds(node, txid, raw_tx, block_hash, addr)
        node.stop()
        shutil.copy(node.datadir / "wallets" / "w" / "wallet.dat",
                    HERE / "wallet" / "seeds" / "wallet.dat")
    finally:
        ns.stop()


if __name__ == "__main__":
    main()
