"""Wallet RPCs on one node: named wallets and their endpoints, addresses,
balances through mining and spending, listings, fee settings, locked
coins, and clear errors for bad input. The steps run in order on one node.
"""
import pytest

from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import JSONRPCError, wait_until
from framework.wallet_scenarios import COIN, sat

SUBSIDY = 50 * COIN


def rpc_error(fn, *args):
    try:
        fn(*args)
    except JSONRPCError as e:
        return e
    raise AssertionError(f"{args} did not fail")


@pytest.fixture(scope="module")
def node(node_set):  # noqa: F811
    (n,) = node_set.start(1)
    return n


def test_wallet_management(node):
    assert node.listwallets() == []
    e = rpc_error(node.getbalance)
    assert e.code == -18 and "No wallet is loaded" in e.message
    assert node.createwallet("alice") == {"name": "alice", "warning": ""}
    assert node.createwallet("bob")["name"] == "bob"
    assert sorted(node.listwallets()) == ["alice", "bob"]
    assert (node.datadir / "wallets" / "alice" / "wallet.dat").is_file()
    # Two loaded and none named: the endpoint must say which.
    e = rpc_error(node.getbalance)
    assert e.code == -19 and "/wallet/<filename>" in e.message
    assert rpc_error(node.wallet_rpc("carol").getbalance).code == -18
    assert rpc_error(node.createwallet, "alice").code == -35
    assert rpc_error(node.createwallet, "../evil").code == -8
    assert rpc_error(node.loadwallet, "nonexistent").code == -18
    assert node.wallet_rpc("bob").unloadwallet() == {"warning": ""}
    assert node.listwallets() == ["alice"]
    assert rpc_error(node.createwallet, "bob").code == -36      # file exists
    node.loadwallet("bob")
    assert sorted(node.listwallets()) == ["alice", "bob"]
    e = rpc_error(node.wallet_rpc("alice").unloadwallet, "bob")
    assert e.code == -8 and "different wallets" in e.message


def test_addresses(node):
    a = node.wallet_rpc("alice")
    addr = a.getnewaddress("savings")
    assert addr[0] in "mn" and len(addr) >= 26
    assert a.getnewaddress() != addr
    change = a.getrawchangeaddress()
    assert change not in (addr,)
    # The key is the wallet's: it signs for the address.
    wif = a.dumpprivkey(addr)
    assert wif[0] == "c"
    assert rpc_error(a.dumpprivkey, node.wallet_rpc("bob").getnewaddress()).code == -4
    assert rpc_error(a.dumpprivkey, "notanaddress").code == -5
    # A corrupted checksum is refused.
    bad = addr[:-1] + ("1" if addr[-1] != "1" else "2")
    assert rpc_error(a.sendtoaddress, bad, 1).code == -5


def test_mining_balances(node):
    a = node.wallet_rpc("alice")
    addr = a.getnewaddress()
    node.generatetoaddress(100, addr)
    b = a.getbalances()["mine"]
    assert b["trusted_sat"] == 0 and b["immature_sat"] == 100 * SUBSIDY
    node.generatetoaddress(1, addr)
    b = a.getbalances()["mine"]
    assert b["trusted_sat"] == SUBSIDY and b["immature_sat"] == 100 * SUBSIDY
    assert a.getbalance() == 50
    (coin,) = a.listunspent()
    assert coin["amount_sat"] == SUBSIDY and coin["confirmations"] == 101
    assert coin["address"] == addr and coin["spendable"]
    cats = {e["category"] for e in a.listtransactions("*", 1000)}
    assert cats == {"generate", "immature"}


def test_send_and_receive(node):
    a, b = node.wallet_rpc("alice"), node.wallet_rpc("bob")
    to = b.getnewaddress("from alice")
    txid = a.sendtoaddress(to, 1.25, "rent")
    tx = a.gettransaction(txid)
    fee = -tx["fee_sat"]
    assert tx["amount_sat"] == -sat(1.25) and 0 < fee < 100_000
    assert tx["confirmations"] == 0 and tx["trusted"] is True
    assert tx["comment"] == "rent"
    assert [d["category"] for d in tx["details"]] == ["send"]
    assert tx["details"][0]["address"] == to
    # Sender: trusted balance drops at once (own change is trusted).
    assert a.getbalances()["mine"]["trusted_sat"] == SUBSIDY - sat(1.25) - fee
    # Receiver: pending until mined.
    wait_until(lambda: b.getbalances()["mine"]["untrusted_pending_sat"] == sat(1.25), 30,
               what="bob sees the payment in the mempool")
    assert b.getbalances()["mine"]["trusted_sat"] == 0
    node.generatetoaddress(1, a.getnewaddress())
    assert b.getbalances()["mine"]["trusted_sat"] == sat(1.25)
    bt = b.gettransaction(txid)
    assert bt["confirmations"] == 1 and bt["amount_sat"] == sat(1.25) and "fee" not in bt
    assert bt["details"][0]["category"] == "receive"
    assert bt["details"][0]["label"] == "from alice"
    entry = b.listtransactions()[-1]
    assert entry["txid"] == txid and entry["category"] == "receive"
    assert entry["blockhash"] == node.getbestblockhash()


def test_sendmany_and_fee_rate(node):
    a, b = node.wallet_rpc("alice"), node.wallet_rpc("bob")
    x, y = b.getnewaddress(), b.getnewaddress()
    txid = a.sendmany("", {x: 0.1, y: 0.2}, "", 5)
    tx = a.gettransaction(txid)
    dec = node.decoderawtransaction(tx["hex"])
    paid = {o["scriptPubKey"]["address"]: o["value_sat"] for o in dec["vout"]}
    assert paid[x] == sat(0.1) and paid[y] == sat(0.2) and len(paid) == 3
    # 5 sat/vB on the signed size (or a vbyte more: doc/wallet.md).
    assert 5 * dec["vsize"] <= -tx["fee_sat"] <= 5 * (dec["vsize"] + 1)
    assert rpc_error(a.sendmany, "", {x: 0.1, "bad": 1}).code == -5
    assert rpc_error(a.sendmany, "", {}).code == -8
    # settxfee: a wallet-wide rate, below the relay minimum refused.
    assert a.settxfee(0.0002) is True
    assert a.getwalletinfo()["paytxfee_sat"] == 20000
    t2 = a.gettransaction(a.sendtoaddress(x, 0.01))
    vsize = node.decoderawtransaction(t2["hex"])["vsize"]
    assert 20 * vsize <= -t2["fee_sat"] <= 20 * (vsize + 1)
    assert rpc_error(a.settxfee, 0.000001).code == -8
    a.settxfee(0)
    e = rpc_error(a.sendtoaddress, x, 0.01, "", 0.5)
    assert e.code == -4 and "minimum relay fee rate" in e.message
    node.generatetoaddress(1, a.getnewaddress())


def test_bad_amounts_and_insufficient_funds(node):
    a, b = node.wallet_rpc("alice"), node.wallet_rpc("bob")
    to = a.getnewaddress()
    for amount in (0, -1, "abc"):
        assert rpc_error(b.sendtoaddress, to, amount).code == -3, amount
    e = rpc_error(b.sendtoaddress, to, 0.000001)
    assert e.code == -4 and "too small" in e.message
    e = rpc_error(b.sendtoaddress, to, 1000)
    assert e.code == -6 and e.message == "Insufficient funds"
    assert rpc_error(b.sendtoaddress, to, 21_000_001).code == -3


def test_lockunspent(node):
    b = node.wallet_rpc("bob")
    coins = b.listunspent()
    assert len(coins) >= 3
    total = sum(c["amount_sat"] for c in coins)
    lock = [{"txid": c["txid"], "vout": c["vout"]} for c in coins[1:]]
    assert b.lockunspent(False, lock) is True
    assert sorted((c["txid"], c["vout"]) for c in b.listlockunspent()) == \
        sorted((c["txid"], c["vout"]) for c in lock)
    assert [c["txid"] for c in b.listunspent()] == [coins[0]["txid"]]
    # Locked coins are not selected: more than the unlocked coin fails.
    e = rpc_error(b.sendtoaddress, node.wallet_rpc("alice").getnewaddress(),
                  (coins[0]["amount_sat"] + 1) / COIN)
    assert e.code == -6
    e = rpc_error(b.lockunspent, False, lock[:1])
    assert e.code == -8 and "locked" in e.message
    e = rpc_error(b.lockunspent, True, [{"txid": "00" * 32, "vout": 0}])
    assert e.code == -8 and "unknown transaction" in e.message
    assert rpc_error(b.lockunspent, False, [{"txid": "zz", "vout": 0}]).code == -8
    assert b.lockunspent(True) is True
    assert b.listlockunspent() == []
    assert sum(c["amount_sat"] for c in b.listunspent()) == total


def test_cli_rpcwallet(node):
    out = node.cli("-rpcwallet=bob", "getwalletinfo").stdout
    assert '"walletname": "bob"' in out
    proc = node.cli("getbalance", check=False)
    assert proc.returncode != 0 and "-19" in proc.stderr
    assert node.cli("-rpcwallet=nobody", "getbalance", check=False).returncode != 0


def test_restart_keeps_wallets_and_history(node):
    a = node.wallet_rpc("alice")
    before = (a.getbalances(), len(a.listtransactions("*", 1000)), a.getwalletinfo()["keycount"])
    node.stop()
    node.start(extra_args=["-wallet=alice", "-wallet=bob"])
    assert sorted(node.listwallets()) == ["alice", "bob"]
    after = (a.getbalances(), len(a.listtransactions("*", 1000)), a.getwalletinfo()["keycount"])
    assert after == before


def test_corrupt_wallet_file(node):
    node.createwallet("broken")
    node.wallet_rpc("broken").unloadwallet()
    path = node.datadir / "wallets" / "broken" / "wallet.dat"
    path.write_bytes(b"this is not an sqlite database" * 100)
    e = rpc_error(node.loadwallet, "broken")
    assert e.code == -4 and "not a database" in e.message
    assert path.read_bytes().startswith(b"this is not")     # left untouched
    assert "broken" not in node.listwallets()
    assert node.getblockcount() > 0                         # the node carries on
