"""validation:block_connected, utxocache:* and mempool:* attached with bpftrace (arg0..arg5: no replacement fee).

One node and tracer for the module (starting a tracer is slow); each test
sets up the chain and mempool state it needs on it (framework/
chain_scenarios.py holds the steps, shared by the BCC and bpftrace tests),
so any one runs alone or in any order. Every argument is compared with
what the node reports over RPC.
"""
import pytest

from conftest import require_root, require_tool
from framework import chain_scenarios as sc
from framework.chain_tracers import BpftraceChainTracer
from framework.fixtures import node_set  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def traced(node_set, tmp_path_factory):  # noqa: F811
    require_root()
    require_tool("bpftrace")
    (node,) = node_set.start(1)
    tracer = BpftraceChainTracer(node.binary, node.pid, tmp_path_factory.mktemp("bt"))
    state = {"node": node, "tracer": tracer, "wallet": sc.Wallet(node)}
    yield state
    tracer.drain()
    tracer.close()
    assert tracer.lost == 0
    assert not tracer.errors(), tracer.errors()


def test_mining(traced):
    sc.check_mining(traced["node"], traced["tracer"], traced["wallet"])


def test_mempool_added_rejected_replaced(traced):
    sc.check_mempool(traced["node"], traced["tracer"], traced["wallet"],
                     full_args=False)


def test_block_with_transaction(traced):
    sc.check_block_with_tx(traced["node"], traced["tracer"], traced["wallet"])


def test_flush_and_uncache(traced):
    sc.check_flush_and_uncache(traced["node"], traced["tracer"], traced["wallet"])
