"""Block download: a node that hears of a new block from two peers fetches
it from one of them only (net_chain.c's table of blocks in flight).

node2 is connected to node0 and node1, node1 to node0. Each block node0
mines reaches node2 twice as a `headers` announcement (from node0, and
from node1 once it has the block); node2 must receive each block once.
"""
from framework import chain_scenarios as sc
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import connect_nodes, wait_until

BLOCKS = 30


def blocks_received(node):
    return sum(p["msgsrecv_per_msg"].get("block", 0) for p in node.getpeerinfo())


def test_each_block_downloaded_once(node_set):  # noqa: F811
    n0, n1, n2 = node_set.start(3)
    connect_nodes(n1, n0)
    connect_nodes(n2, n0)
    connect_nodes(n2, n1)
    addr = sc.Wallet(n0).addr
    for i in range(BLOCKS):
        (h,) = n0.generatetoaddress(1, addr)
        for n in (n1, n2):
            wait_until(lambda n=n: n.getbestblockhash() == h, 30, what=f"node{n.index} synced")
    # Both announced every block to node2 ...
    announced = {p["addr"]: p["msgsrecv_per_msg"].get("headers", 0) for p in n2.getpeerinfo()}
    assert all(v >= BLOCKS for v in announced.values()), announced
    # ... and node2 took each block once.
    assert blocks_received(n2) == BLOCKS, n2.getpeerinfo()
