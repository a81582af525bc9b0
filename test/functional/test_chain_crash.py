"""Crash safety: kill -9 the node while it connects blocks and flushes its
chainstate often (-dbcache=1, -flushinterval=1), ten times. Every restart
must accept its chainstate and reach a UTXO set equal to one rebuilt in
Python from the blocks themselves (getblock verbosity 2), and a fresh node
syncing the final chain must report the same UTXO hash.
"""
import random
import threading

from framework import chain_scenarios as sc
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import JSONRPCError, connect_nodes, wait_until

ROUNDS = 10


def rebuilt_utxo_set(node):
    """(count, total satoshis) of the UTXO set replayed from every block."""
    utxos = {}
    for h in range(1, node.getblockcount() + 1):
        for tx in node.getblock(node.getblockhash(h), 2)["tx"]:
            for i in tx["vin"]:
                if "coinbase" not in i:
                    del utxos[(i["txid"], i["vout"])]
            for o in tx["vout"]:
                utxos[(tx["txid"], o["n"])] = o["value_sat"]
    return len(utxos), sum(utxos.values())


def mine_until_killed(node, addr):
    """Mine in small batches until the node dies under us."""
    try:
        while True:
            node.call("generatetoaddress", 20, addr, timeout_s=30)
    except (OSError, JSONRPCError, ValueError, Exception):  # the node was killed
        return


def test_kill_during_flushes(node_set):  # noqa: F811
    args = ["-dbcache=1", "-flushinterval=1"]
    node = node_set.add(args)
    node.wait_for_rpc()
    wallet = sc.Wallet(node)
    node.generatetoaddress(110, wallet.addr)
    rng = random.Random(1234)
    heights = []
    for _ in range(ROUNDS):
        # A few transactions so blocks spend coins too.
        for h in range(1, 4):
            try:
                cb = sc.coinbase_txid(node, node.getblockcount() - 100 - h)
                node.sendrawtransaction(wallet.spend(cb, 0, sc.SUBSIDY - 10_000))
            except JSONRPCError:
                pass  # already spent in an earlier round
        miner = threading.Thread(target=mine_until_killed, args=(node, wallet.addr))
        miner.start()
        start = node.getblockcount()
        wait_until(lambda: node.getblockcount() >= start + rng.randint(5, 60), 60,
                   what="blocks being mined")
        node.kill()
        miner.join(30)
        node.start(wait=False)
        node.wait_for_rpc(timeout_s=60)
        info = node.gettxoutsetinfo()
        assert (info["txouts"], info["total_amount_sat"]) == rebuilt_utxo_set(node), \
            f"UTXO set after restart at height {info['height']} differs from the blocks"
        heights.append(info["height"])
    assert len(heights) == ROUNDS and heights == sorted(heights)
    # A fresh node builds its UTXO set from these blocks over P2P.
    fresh = node_set.add()
    fresh.wait_for_rpc()
    connect_nodes(fresh, node)
    wait_until(lambda: fresh.getbestblockhash() == node.getbestblockhash(), 120,
               what="fresh node synced")
    assert fresh.gettxoutsetinfo()["hash_serialized"] == node.gettxoutsetinfo()["hash_serialized"]
