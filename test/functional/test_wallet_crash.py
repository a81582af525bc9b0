"""Crash safety of the wallet file: kill -9 right after sendtoaddress (and
getnewaddress) return; after a restart the wallet knows the transaction
and the address, offers the transaction to the mempool again, and it is
mined.
"""
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.wallet_scenarios import sat

ROUNDS = 3


def test_kill_after_send(node_set):  # noqa: F811
    node = node_set.add()
    node.wait_for_rpc()
    node.createwallet("w")
    w = node.wallet_rpc("w")
    mine_addr = w.getnewaddress()
    node.generatetoaddress(101 + ROUNDS, mine_addr)
    for i in range(ROUNDS):
        to = w.getnewaddress(f"round {i}")
        txid = w.sendtoaddress(to, 1 + i)
        fee = -w.gettransaction(txid)["fee_sat"]
        node.kill()
        node.start(extra_args=["-wallet=w"], wait=False)
        node.wait_for_rpc(timeout_s=60)
        tx = w.gettransaction(txid)
        assert tx["confirmations"] == 0 and -tx["fee_sat"] == fee
        # The address handed out before the crash is still the wallet's.
        assert w.dumpprivkey(to)
        # The mempool is not kept across a crash: the wallet offered it again.
        wait_until(lambda: txid in node.getrawmempool(), 30, what="re-offered to the mempool")
        node.generatetoaddress(1, mine_addr)
        assert w.gettransaction(txid)["confirmations"] == 1
        got = [e for e in w.listtransactions("*", 1000)
               if e["txid"] == txid and e["category"] == "receive"]
        assert got and got[0]["amount_sat"] == sat(1 + i)
