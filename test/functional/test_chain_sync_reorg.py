"""Two nodes: headers-first sync, a reorganisation, and what the tracepoints
and the mempool show on the node that reorganises.

node0 and node1 share 101 blocks, then mine apart: node0 two blocks (one
with a transaction), node1 four. When they reconnect node0 disconnects its
two blocks and connects node1's four (validation:block_connected in
order, the disconnected coins spent and the old coins restored), and its
transaction returns to the mempool (mempool:added). Both end with the same
tip and the same UTXO set hash.
"""
import pytest

from conftest import require_bcc
from framework import chain_scenarios as sc
from framework.chain_tracers import ChainTracer
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import connect_nodes, disconnect_all, wait_until


def same_tip(a, b, timeout_s=60):
    wait_until(lambda: a.getbestblockhash() == b.getbestblockhash(), timeout_s,
               what=f"node{a.index} and node{b.index} on the same tip")


@pytest.fixture(scope="module")
def nodes(node_set):  # noqa: F811
    n0, n1 = node_set.start(2)
    n0.wallet = sc.Wallet(n0)   # receives node0's coinbases throughout
    return n0, n1


def test_sync_headers_first(nodes):
    n0, n1 = nodes
    w = n0.wallet
    n0.generatetoaddress(101, w.addr)
    connect_nodes(n1, n0)
    same_tip(n0, n1)
    assert n1.getblockcount() == 101
    assert n1.gettxoutsetinfo()["hash_serialized"] == n0.gettxoutsetinfo()["hash_serialized"]
    # A block mined now is announced and fetched.
    (h,) = n0.generatetoaddress(1, w.addr)
    same_tip(n0, n1)
    assert n1.getbestblockhash() == h
    # A transaction sent to node0 is relayed to node1's mempool.
    txid = n0.sendrawtransaction(w.spend(sc.coinbase_txid(n0, 1), 0, sc.SUBSIDY - 100_000))
    wait_until(lambda: txid in n1.getrawmempool(), 30, what="tx relayed to node1")
    n1.generatetoaddress(1, w.addr)
    same_tip(n0, n1)
    wait_until(lambda: not n0.getrawmempool(), 30, what="node0 mempool emptied by the block")
    disconnect_all(n0)
    disconnect_all(n1)


def test_reorg(nodes):
    require_bcc()
    n0, n1 = nodes
    w = n0.wallet
    base = n0.getblockcount()
    old = n0.generatetoaddress(1, w.addr)
    txid = n0.sendrawtransaction(w.spend(sc.coinbase_txid(n0, 2), 0, sc.SUBSIDY - 100_000))
    old += n0.generatetoaddress(1, w.addr)
    assert txid in n0.getblock(old[1])["tx"]
    new = n1.generatetoaddress(4, sc.Wallet(n1).addr)
    tracer = ChainTracer(n0.binary, n0.pid)
    try:
        connect_nodes(n0, n1)
        same_tip(n0, n1)
        tracer.wait_for("validation:block_connected", count=4)
        tracer.wait_for("mempool:added", txid=bytes.fromhex(txid)[::-1])
        tracer.drain()
    finally:
        tracer.close()
    connected = tracer.select("validation:block_connected")
    assert [sc.disp(e["hash"]) for e in connected] == new
    assert [e["height"] for e in connected] == list(range(base + 1, base + 5))
    # The disconnected blocks' coinbase outputs were spent (undone) before
    # the first new block connected; the tx's input coin was restored.
    first_connect = tracer.events.index(connected[0])
    for h in old:
        cb = n0.getblock(h)["tx"][0]
        (s,) = [e for e in tracer.select("utxocache:spent") if sc.disp(e["txid"]) == cb]
        assert tracer.events.index(s) < first_connect
    cb2 = sc.coinbase_txid(n0, 2)
    restored = [e for e in tracer.select("utxocache:add") if sc.disp(e["txid"]) == cb2]
    assert restored and restored[0]["height"] == 2 and restored[0]["coinbase"]
    assert tracer.events.index(restored[0]) < first_connect
    # The transaction is back in the mempool, and the chains agree.
    assert txid in n0.getrawmempool()
    tips = {t["hash"]: t["status"] for t in n0.getchaintips()}
    assert tips[new[-1]] == "active" and tips[old[-1]] == "valid-fork"
    assert n0.gettxoutsetinfo()["hash_serialized"] == n1.gettxoutsetinfo()["hash_serialized"]
    assert tracer.lost == 0


def test_invalidate_and_reconsider(nodes):
    n0, _ = nodes
    disconnect_all(n0)
    tip = n0.getbestblockhash()
    height = n0.getblockcount()
    n0.invalidateblock(tip)
    assert n0.getblockcount() == height - 1
    n0.reconsiderblock(tip)
    assert n0.getbestblockhash() == tip
