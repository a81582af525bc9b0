"""Two nodes, a wallet on each: coins mined on node0 are sent to node1's
wallet, confirmed, and sent back; both see every payment, balances are
exact to the satoshi, and a reorganisation that drops the confirming
block returns the payment to the mempool and the balances to pending.
"""
import pytest

from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import connect_nodes, disconnect_all, wait_until
from framework.wallet_scenarios import COIN, sat

SUBSIDY = 50 * COIN


def same_tip(a, b):
    wait_until(lambda: a.getbestblockhash() == b.getbestblockhash(), 60, what="same tip")


def mine(node, addr, n=1):
    return node.generatetoaddress(n, addr)


@pytest.fixture(scope="module")
def nodes(node_set):  # noqa: F811
    n0, n1 = node_set.start(2)
    n0.createwallet("w0")
    n1.createwallet("w1")
    connect_nodes(n1, n0)
    return n0, n1


def test_send_across_and_back(nodes):
    n0, n1 = nodes
    w0, w1 = n0.wallet_rpc("w0"), n1.wallet_rpc("w1")
    a0 = w0.getnewaddress()
    mine(n0, a0, 101)
    same_tip(n0, n1)
    assert w0.getbalances()["mine"]["trusted_sat"] == SUBSIDY
    a1 = w1.getnewaddress()
    txid = w0.sendtoaddress(a1, 12.5)
    fee0 = -w0.gettransaction(txid)["fee_sat"]
    # node1's wallet sees it once relayed: pending, then confirmed.
    wait_until(lambda: w1.getbalances()["mine"]["untrusted_pending_sat"] == sat(12.5), 60,
               what="payment relayed to node1's wallet")
    mine(n0, a0)
    same_tip(n0, n1)
    wait_until(lambda: w1.getbalances()["mine"]["trusted_sat"] == sat(12.5), 30,
               what="payment confirmed on node1")
    assert w1.gettransaction(txid)["confirmations"] == 1
    # w0: two mature coinbases now, minus the payment and its fee.
    assert w0.getbalances()["mine"]["trusted_sat"] == 2 * SUBSIDY - sat(12.5) - fee0
    # And back: node1 pays node0 part of it.
    back = w1.sendtoaddress(w0.getnewaddress(), 2.5)
    fee1 = -w1.gettransaction(back)["fee_sat"]
    wait_until(lambda: back in n0.getrawmempool(), 60, what="return payment relayed")
    mine(n0, a0)
    same_tip(n0, n1)
    wait_until(lambda: w1.gettransaction(back)["confirmations"] == 1, 30, what="confirmed")
    assert w1.getbalances()["mine"]["trusted_sat"] == sat(12.5) - sat(2.5) - fee1
    assert w0.getbalances()["mine"]["trusted_sat"] == \
        3 * SUBSIDY - sat(12.5) - fee0 + sat(2.5)
    assert w0.gettransaction(back)["amount_sat"] == sat(2.5)


def test_reorg_unconfirms_payment(nodes):
    n0, n1 = nodes
    w0, w1 = n0.wallet_rpc("w0"), n1.wallet_rpc("w1")
    a0 = w0.getnewaddress()
    disconnect_all(n0)
    disconnect_all(n1)
    # A payment only node1 knows, confirmed by node1 alone.
    before0 = w0.getbalances()["mine"]
    txid = w1.sendtoaddress(w0.getnewaddress(), 1)
    fee = -w1.gettransaction(txid)["fee_sat"]
    spendable = w1.getbalances()["mine"]["trusted_sat"]
    (blk,) = mine(n1, w1.getnewaddress())
    assert w1.gettransaction(txid)["blockhash"] == blk
    assert w1.gettransaction(txid)["confirmations"] == 1
    mine(n0, a0, 2)                      # node0's branch has more work, without it
    connect_nodes(n1, n0)
    same_tip(n0, n1)
    # node1 reorganised: the payment is unconfirmed again, back in its mempool,
    # and relayed to node0, whose wallet sees it pending.
    wait_until(lambda: w1.gettransaction(txid)["confirmations"] == 0, 30, what="unconfirmed")
    assert "blockhash" not in w1.gettransaction(txid)
    assert txid in n1.getrawmempool()
    assert w1.getbalances()["mine"]["trusted_sat"] == spendable   # own change stays trusted
    wait_until(lambda: w0.getbalances()["mine"]["untrusted_pending_sat"] ==
               before0["untrusted_pending_sat"] + sat(1), 60, what="node0's wallet sees it")
    mine(n0, a0)
    same_tip(n0, n1)
    wait_until(lambda: w1.gettransaction(txid)["confirmations"] == 1, 30, what="re-mined")
    assert w0.gettransaction(txid)["confirmations"] == 1
    assert -w1.gettransaction(txid)["fee_sat"] == fee
