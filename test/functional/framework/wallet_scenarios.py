"""Wallet payments whose coin_selection tracepoints are predictable, and
the checks of every argument against what the wallet reports.

The node runs with -maxapsfee=MAX_APS_FEE and the default long-term fee
rate (10 sat/vB); payments are made at FEE_RATE (20 sat/vB), so every
input adds waste and fewer inputs win. Amounts are satoshis throughout;
the expected waste, target and fee are computed here from the fee rates
and the transaction, independently of the node.
"""
import math

from framework.node import JSONRPCError, wait_until

COIN = 100_000_000
FEE_RATE = 20            # sat/vB, given to sendtoaddress
LONG_TERM_RATE = 10      # sat/vB, -consolidatefeerate default
DISCARD_RATE = 10        # sat/vB, the wallet's discard fee rate
MAX_APS_FEE = 1000       # sat, the node's -maxapsfee
INPUT_BYTES = 148
OUTPUT_BYTES = 34
TX_OVERHEAD = 10
NODE_ARGS = [f"-maxapsfee={MAX_APS_FEE}"]
ALGOS = {"bnb", "coingrinder", "knapsack", "srd"}


def fee(rate, vbytes):
    """The wallet's fee: rate sat/vB, rounded up."""
    return math.ceil(rate * 1000 * vbytes / 1000)


def sat(coins):
    return round(coins * COIN)


class Funder:
    """A wallet "miner" on the node with mature coins, paying test wallets."""

    def __init__(self, node):
        self.node = node
        node.createwallet("miner")
        self.w = node.wallet_rpc("miner")
        self.addr = self.w.getnewaddress()
        node.generatetoaddress(101, self.addr)

    def fund(self, pays):
        """pays: [(address, coins)]: one transaction each, then one block."""
        for addr, coins in pays:
            self.w.sendtoaddress(addr, coins)
        self.node.generatetoaddress(1, self.addr)


def new_wallet(node, funder, name, amounts, reuse):
    """A wallet holding one confirmed coin per amount; with reuse every
    coin pays the same address, else each its own."""
    node.createwallet(name)
    w = node.wallet_rpc(name)
    first = w.getnewaddress()
    funder.fund([(first if reuse or i == 0 else w.getnewaddress(), a)
                 for i, a in enumerate(amounts)])
    wait_until(lambda: len(w.listunspent()) == len(amounts), 30, what=f"{name} funded")
    return w


def analyse(w, txid, to_addr):
    """The wallet's view of a payment: fee, change position, inputs."""
    tx = w.gettransaction(txid)
    dec = w.node.decoderawtransaction(tx["hex"])
    outs = [o["scriptPubKey"].get("address") for o in dec["vout"]]
    change = [i for i, a in enumerate(outs) if a != to_addr]
    assert len(change) <= 1, outs
    in_values = []
    for vin in dec["vin"]:
        parent = w.gettransaction(vin["txid"])
        pdec = w.node.decoderawtransaction(parent["hex"])
        in_values.append(pdec["vout"][vin["vout"]]["value_sat"])
    return {"fee": -tx["fee_sat"], "change_pos": change[0] if change else -1,
            "vsize": dec["vsize"], "n_in": len(dec["vin"]), "in_value": sum(in_values),
            "tx": tx}


def expected_waste(n_in, has_change, selected_value, target):
    waste = n_in * (fee(FEE_RATE, INPUT_BYTES) - fee(LONG_TERM_RATE, INPUT_BYTES))
    if has_change:
        return waste + fee(FEE_RATE, OUTPUT_BYTES) + fee(DISCARD_RATE, INPUT_BYTES)
    effective = selected_value - n_in * fee(FEE_RATE, INPUT_BYTES)
    return waste + effective - target


def target_of(amount_sat, n_outputs=1):
    return amount_sat + fee(FEE_RATE, TX_OVERHEAD + n_outputs * OUTPUT_BYTES)


def check_selected(ev, name, amount_sat, info):
    """A selected_coins event for the transaction described by info."""
    target = target_of(amount_sat)
    assert ev["wallet"] == name
    assert ev["algo"] in ALGOS, ev
    assert ev["target"] == target, (ev, target)
    assert ev["selected_value"] == info["in_value"], (ev, info)
    assert ev["waste"] == expected_waste(info["n_in"], info["change_pos"] >= 0,
                                         info["in_value"], target), (ev, info)


def check_fee_settled(info):
    """With change the fee is the rate times the signed size, or one vbyte
    more (re-signing after settling can shorten a signature by a byte)."""
    assert info["fee"] >= fee(FEE_RATE, info["vsize"]), info
    if info["change_pos"] >= 0:
        assert info["fee"] <= fee(FEE_RATE, info["vsize"] + 1), info


def send(w, addr, coins):
    return w.sendtoaddress(addr, coins, "", FEE_RATE)


def events_for(tracer, name):
    tracer.drain()
    return [e for e in tracer.events if e["wallet"] == name]


def aps_events(tracer, name):
    """The five events of a payment with an APS attempt, in order."""
    evs = wait_until(lambda: len(events_for(tracer, name)) >= 5 and events_for(tracer, name),
                     30, what="APS attempt events")
    assert [e["tp"] for e in evs] == [
        "coin_selection:selected_coins", "coin_selection:normal_create_tx_internal",
        "coin_selection:attempting_aps_create_tx", "coin_selection:selected_coins",
        "coin_selection:aps_create_tx_internal"], evs
    return evs


def check_plain(node, funder, tracer):
    """Coins on distinct addresses: one selection, one creation, no APS."""
    name = "plain"
    w = new_wallet(node, funder, name, [1.0, 2.0, 0.5], reuse=False)
    to = funder.w.getnewaddress()
    txid = send(w, to, 1.2)
    evs = wait_until(lambda: len(events_for(tracer, name)) >= 2 and events_for(tracer, name),
                     30, what="plain send events")
    assert [e["tp"] for e in evs] == ["coin_selection:selected_coins",
                                      "coin_selection:normal_create_tx_internal"], evs
    info = analyse(w, txid, to)
    check_selected(evs[0], name, sat(1.2), info)
    assert evs[1]["success"] is True
    assert evs[1]["fee"] == info["fee"] and evs[1]["change_pos"] == info["change_pos"]
    check_fee_settled(info)
    return txid


def check_aps_rejected(node, funder, tracer):
    """Two coins on one address and one elsewhere; paying 0.5 takes one
    coin, the grouped attempt must take both of the address's: its fee is
    an input's more than -maxapsfee allows, so the first transaction is
    sent."""
    name = "aps_rejected"
    w = new_wallet(node, funder, name, [1.0, 1.0], reuse=True)
    other = w.getnewaddress()
    funder.fund([(other, 0.3)])
    wait_until(lambda: len(w.listunspent()) == 3, 30, what="third coin")
    to = funder.w.getnewaddress()
    txid = send(w, to, 0.5)
    evs = aps_events(tracer, name)
    normal, aps = evs[1], evs[4]
    info = analyse(w, txid, to)
    assert info["n_in"] == 1, info
    check_selected(evs[0], name, sat(0.5), info)
    assert normal["success"] and normal["fee"] == info["fee"]
    assert normal["change_pos"] == info["change_pos"]
    assert aps["success"] is True and aps["use_aps"] is False
    assert aps["fee"] > normal["fee"] + MAX_APS_FEE, (aps, normal)
    assert aps["fee"] - normal["fee"] >= fee(FEE_RATE, INPUT_BYTES) - 20
    assert evs[3]["selected_value"] == sat(2.0), evs[3]   # the address's two coins
    check_fee_settled(info)
    return txid


def check_aps_used(node, funder, tracer):
    """Two coins on one address, paying 1.5: both attempts need both
    coins, the fees are within -maxapsfee, and the grouped one is sent."""
    name = "aps_used"
    w = new_wallet(node, funder, name, [1.0, 1.0], reuse=True)
    to = funder.w.getnewaddress()
    txid = send(w, to, 1.5)
    evs = aps_events(tracer, name)
    normal, aps = evs[1], evs[4]
    info = analyse(w, txid, to)
    assert info["n_in"] == 2
    check_selected(evs[3], name, sat(1.5), info)
    assert aps["success"] is True and aps["use_aps"] is True
    assert aps["fee"] <= normal["fee"] + MAX_APS_FEE
    assert aps["fee"] == info["fee"] and aps["change_pos"] == info["change_pos"]
    assert evs[2]["wallet"] == name
    check_fee_settled(info)
    return txid


def check_insufficient(node, funder, tracer):
    """Paying more than the wallet has: an RPC error -6, and one failed
    creation with fee 0 and no change, with no selection before it."""
    name = "poor"
    w = new_wallet(node, funder, name, [0.1], reuse=False)
    try:
        send(w, funder.w.getnewaddress(), 1.0)
    except JSONRPCError as e:
        assert e.code == -6 and "Insufficient funds" in e.message, e
    else:
        raise AssertionError("a payment above the balance succeeded")
    evs = wait_until(lambda: events_for(tracer, name), 30, what="failed creation event")
    assert [e["tp"] for e in evs] == ["coin_selection:normal_create_tx_internal"], evs
    assert evs[0]["success"] is False and evs[0]["fee"] == 0 and evs[0]["change_pos"] == -1
    assert w.getbalance() == 0.1
