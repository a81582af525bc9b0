"""coin_selection:* attached with BCC: a plain send, an avoid-partial-spends
attempt rejected, one used, and a send that fails for insufficient funds.

One node for the module (-maxapsfee=1000); each step funds a wallet of
its own from a "miner" wallet, pays, and compares every argument of every
event with the transaction the wallet created (gettransaction) and fee
arithmetic done here (framework/wallet_scenarios.py, shared with the
bpftrace test).
"""
import pytest

from conftest import require_bcc
from framework import wallet_scenarios as ws
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.wallet_tracers import CoinSelectionTracer


@pytest.fixture(scope="module")
def traced(node_set):  # noqa: F811
    require_bcc()
    (node,) = node_set.start(1, [ws.NODE_ARGS])
    tracer = CoinSelectionTracer(node.binary, node.pid)
    funder = ws.Funder(node)
    yield node, funder, tracer
    tracer.drain()
    tracer.close()
    assert tracer.lost == 0


def test_plain_send(traced):
    ws.check_plain(*traced)


def test_aps_attempt_rejected(traced):
    ws.check_aps_rejected(*traced)


def test_aps_attempt_used(traced):
    ws.check_aps_used(*traced)


def test_insufficient_funds(traced):
    ws.check_insufficient(*traced)
