"""Chains of payments made in the same second survive restarts (issue 14,
item 9), and unconfirmed wallet transactions are announced again.

The wallet file orders transactions by a one-second time and then txid; a
child made in the same second as its parent used to load first, be refused
by the mempool for a missing input and never be offered again. Now the
wallet offers its transactions parents first, retries every maintenance
tick, and announces unconfirmed ones every -walletbroadcastinterval.
"""
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import connect_nodes, wait_until

CHAIN = 6       # payments per chain, each spending the previous one's change
ROUNDS = 4      # chains, each followed by a restart (clean stop or kill -9)


def balances(w):
    b = w.getbalances()["mine"]
    return b["trusted"], b["untrusted_pending"]


def test_same_second_chains_survive_restarts(node_factory):  # noqa: F811
    node = node_factory.add()
    node.wait_for_rpc()
    node.createwallet("w")
    node.createwallet("m")
    w, m = node.wallet_rpc("w"), node.wallet_rpc("m")
    # One coin for w, matured by blocks to m: every payment of a chain can
    # only spend the change of the one before it.
    node.generatetoaddress(1, w.getnewaddress())
    node.generatetoaddress(100, m.getnewaddress())
    for r in range(ROUNDS):
        to = m.getnewaddress()
        txids = [w.sendtoaddress(to, 1) for _ in range(CHAIN)]
        for parent, child in zip(txids, txids[1:]):
            spent = {i["txid"] for i in node.decoderawtransaction(
                node.getrawtransaction(child))["vin"]}
            assert parent in spent, f"round {r}: the chain is not a chain"
        times = {w.gettransaction(t)["time"] for t in txids}
        before = balances(w)
        assert set(txids) <= set(node.getrawmempool())

        if r % 2:
            node.kill()
        else:
            node.stop()
        node.start(extra_args=["-wallet=w", "-wallet=m"], wait=False)
        node.wait_for_rpc(timeout_s=60)

        # Every payment is back in the mempool, offered parents first while
        # the wallet loaded (before RPC answers), and nothing left the balance.
        missing = [txids.index(t) for t in set(txids) - set(node.getrawmempool())]
        assert not missing, (f"round {r}: payments {sorted(missing)} of the chain not "
                             f"offered again ({len(times)} distinct second(s))")
        assert balances(w) == before
        for t in txids:
            assert w.gettransaction(t)["confirmations"] == 0
        node.generatetoaddress(1, m.getnewaddress())
        assert all(w.gettransaction(t)["confirmations"] == 1 for t in txids)
        assert not node.getrawmempool()


def test_unconfirmed_payment_is_announced_again(node_factory):  # noqa: F811
    """A payment made while the node had no peers reaches a peer that
    connects later: it is announced again every -walletbroadcastinterval."""
    a = node_factory.add(["-walletbroadcastinterval=1"])
    b = node_factory.add()
    a.wait_for_rpc()
    b.wait_for_rpc()
    a.createwallet("w")
    w = a.wallet_rpc("w")
    a.generatetoaddress(101, w.getnewaddress())
    connect_nodes(b, a)
    wait_until(lambda: b.getblockcount() == 101, 60, what="node1 synced")
    for p in a.getpeerinfo():
        a.disconnectnode("", p["id"])
    wait_until(lambda: not a.getpeerinfo() and not b.getpeerinfo(), 30, what="apart")

    txid = w.sendtoaddress(w.getnewaddress(), 2)
    since = a.debug_log_size()
    connect_nodes(b, a)
    wait_until(lambda: txid in b.getrawmempool(), 60, what="the payment on node1")
    a.wait_for_log("wallet: announced 1 unconfirmed transaction again", since)
