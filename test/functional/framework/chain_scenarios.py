"""Chain scenarios shared by the BCC and bpftrace tests of the validation,
utxocache and mempool tracepoints.

Each step drives the node over RPC and checks every argument of what
fired against what the node reports (getblockhash, getblock,
getmempoolentry, decoderawtransaction, getcoinscacheinfo, errors).
"""
from framework.node import JSONRPCError

COIN = 100_000_000
SUBSIDY = 50 * COIN
HALVING_INTERVAL = 150   # CHAIN_HALVING_INTERVAL, src/chainstate.h


def subsidy(height):
    """The block reward at height: a test may run after others mined far."""
    return SUBSIDY >> (height // HALVING_INTERVAL)


def disp(h):
    """Display (RPC) order of an internal-order hash."""
    return h[::-1].hex()


class Wallet:
    """A key the node made (getnewkeypair) and raw transactions it signs."""

    def __init__(self, node):
        self.node = node
        k = node.getnewkeypair()
        self.addr, self.wif = k["address"], k["privkey"]

    def spend(self, txid, vout, amount_sat, to=None, wif=None):
        """Signed hex of a tx spending txid:vout to one output of amount_sat."""
        raw = self.node.createrawtransaction([{"txid": txid, "vout": vout}],
                                             {to or self.addr: amount_sat / COIN})
        signed = self.node.signrawtransactionwithkey(raw, [wif or self.wif])
        return signed["hex"]


def coinbase_txid(node, height):
    return node.getblock(node.getblockhash(height))["tx"][0]


# Each check below sets up what it needs on the node it is given, so a
# test can run alone, in any order, or after other checks on the same node.

def mine(node, tracer, wallet, n):
    """Mine n blocks to wallet and wait until the tracer saw them connect."""
    before = len(tracer.select("validation:block_connected"))
    hashes = node.generatetoaddress(n, wallet.addr)
    tracer.wait_for("validation:block_connected", count=before + n)
    return hashes


def empty_mempool(node, tracer, wallet):
    """Mine whatever the mempool holds, so the next block has only ours."""
    if node.getrawmempool():
        mine(node, tracer, wallet, 1)
    assert not node.getrawmempool()


def spendable_coinbase(node, tracer, wallet):
    """(height, txid) of the lowest mature coinbase (all of them pay
    `wallet`) that neither a block nor the mempool spends; mines until
    there is one."""
    while True:
        tip = node.getblockcount()
        for h in range(1, tip - 99 + 1):   # spendable in block tip + 1
            txid = coinbase_txid(node, h)
            if node.gettxout(txid, 0, True) is not None:
                return h, txid
        mine(node, tracer, wallet, max(1, 100 - tip))


def check_mining(node, tracer, wallet, n=101):
    """n blocks of one coinbase each: block_connected and utxocache:add."""
    empty_mempool(node, tracer, wallet)
    hashes = mine(node, tracer, wallet, n)
    start = node.getblockcount() - n + 1
    for i, h in enumerate(range(start, start + n)):
        (e,) = tracer.select("validation:block_connected", height=h)
        assert disp(e["hash"]) == hashes[i] == node.getblockhash(h)
        assert (e["transactions"], e["inputs"], e["sigops"]) == (1, 0, 0), e
        assert e["duration"] >= 0
        cb = coinbase_txid(node, h)
        adds = [a for a in tracer.select("utxocache:add", height=h) if disp(a["txid"]) == cb]
        assert len(adds) == 1, adds
        assert (adds[0]["index"], adds[0]["value"], adds[0]["coinbase"]) == (0, subsidy(h), True)
    return hashes


def expect_reject(node, tracer, hex_tx, reason_prefix):
    """sendrawtransaction fails; mempool:rejected carries the same reason."""
    txid = node.decoderawtransaction(hex_tx)["txid"]
    try:
        node.sendrawtransaction(hex_tx)
    except JSONRPCError as err:
        message = err.message
    else:
        raise AssertionError("transaction was accepted")
    assert message.startswith(reason_prefix), message
    (e,) = tracer.wait_for("mempool:rejected", timeout_s=30,
                           txid=bytes.fromhex(txid)[::-1])
    assert e["reason"] == message
    return txid


def check_mempool(node, tracer, wallet, full_args=True):
    """added, rejected (conflict, immature), replaced + removed(replaced).

    Returns (txid, getmempoolentry) of the replacement, left in the mempool."""
    _, cb1 = spendable_coinbase(node, tracer, wallet)
    first = wallet.spend(cb1, 0, SUBSIDY - 100_000)
    txid1 = node.sendrawtransaction(first)
    entry1 = node.getmempoolentry(txid1)
    (e,) = tracer.wait_for("mempool:added", txid=bytes.fromhex(txid1)[::-1])
    assert (e["vsize"], e["fee"]) == (entry1["vsize"], entry1["fee_sat"]) == \
        (node.decoderawtransaction(first)["vsize"], 100_000)

    low = wallet.spend(cb1, 0, SUBSIDY - 50_000, to=Wallet(node).addr)
    expect_reject(node, tracer, low, "insufficient fee")
    tip = node.getblockcount()
    immature = wallet.spend(coinbase_txid(node, tip), 0, subsidy(tip) - 100_000)
    expect_reject(node, tracer, immature, "bad-txns-premature-spend-of-coinbase")

    better = wallet.spend(cb1, 0, SUBSIDY - 1_000_000, to=Wallet(node).addr)
    txid2 = node.sendrawtransaction(better)
    vsize2 = node.decoderawtransaction(better)["vsize"]
    (r,) = tracer.wait_for("mempool:replaced", replaced_txid=bytes.fromhex(txid1)[::-1])
    assert (r["replaced_vsize"], r["replaced_fee"], r["replaced_time"]) == \
        (entry1["vsize"], entry1["fee_sat"], entry1["time"])
    assert disp(r["replacement_txid"]) == txid2 and r["replacement_vsize"] == vsize2
    if full_args:
        assert r["replacement_fee"] == 1_000_000
    (rm,) = tracer.wait_for("mempool:removed", txid=bytes.fromhex(txid1)[::-1])
    assert (rm["reason"], rm["vsize"], rm["fee"], rm["entry_time"]) == \
        ("replaced", entry1["vsize"], 100_000, entry1["time"])
    entry2 = node.getmempoolentry(txid2)
    (a,) = tracer.wait_for("mempool:added", txid=bytes.fromhex(txid2)[::-1])
    assert (a["vsize"], a["fee"]) == (entry2["vsize"], entry2["fee_sat"])
    # The replaced event comes before the removal, the removal before the add.
    order = [x["tp"] for x in tracer.events if x in (r, rm, a)]
    assert order == ["mempool:replaced", "mempool:removed", "mempool:added"], order
    return txid2, entry2


def mempool_payment(node, tracer, wallet):
    """An otherwise empty mempool holding one payment spending a mature
    coinbase: (txid, getmempoolentry, (coinbase height, coinbase txid))."""
    empty_mempool(node, tracer, wallet)
    height, cb = spendable_coinbase(node, tracer, wallet)
    txid = node.sendrawtransaction(wallet.spend(cb, 0, SUBSIDY - 1_000_000,
                                                to=Wallet(node).addr))
    tracer.wait_for("mempool:added", txid=bytes.fromhex(txid)[::-1])
    return txid, node.getmempoolentry(txid), (height, cb)


def check_block_with_tx(node, tracer, wallet):
    """A mempool tx mined: spent coinbase, new coin, removed(block)."""
    txid, entry, (cb_height, cb) = mempool_payment(node, tracer, wallet)
    before = len(tracer.select("validation:block_connected"))
    (bhash,) = node.generatetoaddress(1, wallet.addr)
    tracer.wait_for("validation:block_connected", count=before + 1)
    block = node.getblock(bhash, 2)
    (e,) = tracer.select("validation:block_connected", height=block["height"])
    assert disp(e["hash"]) == bhash
    assert (e["transactions"], e["inputs"]) == (2, 1)
    assert e["sigops"] == 1   # the P2PKH output's OP_CHECKSIG; coinbase excluded
    (s,) = tracer.wait_for("utxocache:spent", txid=bytes.fromhex(cb)[::-1])
    assert (s["index"], s["height"], s["value"], s["coinbase"]) == (0, cb_height, SUBSIDY, True)
    value = block["tx"][1]["vout"][0]["value_sat"]
    (a,) = tracer.wait_for("utxocache:add", txid=bytes.fromhex(txid)[::-1])
    assert (a["index"], a["height"], a["value"], a["coinbase"]) == \
        (0, block["height"], value, False)
    (rm,) = tracer.wait_for("mempool:removed", reason="block", txid=bytes.fromhex(txid)[::-1])
    assert disp(rm["txid"]) == txid
    assert (rm["vsize"], rm["fee"], rm["entry_time"]) == \
        (entry["vsize"], entry["fee_sat"], entry["time"])


def check_flush_and_uncache(node, tracer, wallet):
    """gettxoutsetinfo flushes (ALWAYS); a rejected tx's coin is uncached."""
    # Signed first: signing looks the coin up, which caches it.
    stranger = Wallet(node)
    height2, cb2 = spendable_coinbase(node, tracer, wallet)
    bad = stranger.spend(cb2, 0, SUBSIDY - 100_000)
    info = node.getcoinscacheinfo()
    node.gettxoutsetinfo()
    (f,) = tracer.wait_for("utxocache:flush", mode=3)
    assert (f["coins"], f["memory"], f["pruning"]) == (info["entries"], info["usage"], False)
    assert f["duration"] >= 0
    assert node.getcoinscacheinfo()["entries"] == 0
    # The cache is empty now: checking this tx loads block 2's coinbase
    # coin, the wrong key's signature fails, and the coin is uncached.
    expect_reject(node, tracer, bad, "mandatory-script-verify-flag-failed")
    (u,) = tracer.wait_for("utxocache:uncache", txid=bytes.fromhex(cb2)[::-1])
    assert (u["index"], u["height"], u["value"], u["coinbase"]) == (0, height2, SUBSIDY, True)
    assert node.getcoinscacheinfo()["entries"] == 0
