"""Every argument of every tracepoint, read through the tracepoint stream by
clients without privileges.

The same scenario checks the BCC and bpftrace tests run (framework/
net_scenarios.py, chain_scenarios.py, wallet_scenarios.py), with the node
and the stream client running as `nobody` (framework/stream.py): the net
tracepoints through the C client `moneyrocket-trace`, the chain tracepoints
through the Python module `moneyrocket_trace.py`, the coin-selection
tracepoints through the C client again. The stream sends whole messages, so
the net checks compare every payload byte.
"""
import pytest

from framework import chain_scenarios as cs
from framework import net_scenarios as ns
from framework import netpeer
from framework import wallet_scenarios as ws
from framework.stream import StreamTracer, programs, unprivileged_nodes  # noqa: F401

WHOLE_MESSAGE = 4_000_000


@pytest.fixture
def net_node(request, programs):  # noqa: F811
    """Start a node as nobody and a C stream client on its net:* events."""
    tracers = []
    with unprivileged_nodes(request, programs, "mr_stream_net_") as nodes:
        def start(extra_args=()):
            node = nodes.add(list(extra_args))
            node.wait_for_rpc()
            tracer = StreamTracer(programs, node, ["net:*"], net_style=True)
            tracers.append(tracer)
            return node, tracer

        try:
            yield start
            for t in tracers:
                code, err = t.close()
                assert code == 0, err
                assert t.lost == 0
                assert t.seqs == list(range(1, len(t.seqs) + 1)), "sequence numbers with gaps"
        finally:
            for t in tracers:
                t.proc.kill()


def test_net_version_messages_whole(net_node):
    node, tracer = net_node()
    ns.check_version_messages(node, tracer, WHOLE_MESSAGE)


def test_net_inbound_connections(net_node):
    node, tracer = net_node()
    ns.check_inbound_connections(node, tracer)


def test_net_outbound_manual_connection(net_node):
    node, tracer = net_node()
    ns.check_outbound_manual(node, tracer)


def test_net_outbound_automatic_and_feeler(net_node):
    node, tracer = net_node(["-feelerinterval=1"])
    listeners = [netpeer.Listener(ip=f"127.{40 + i}.0.1", hold=True) for i in range(12)]
    try:
        ns.check_outbound_automatic(node, tracer, listeners)
    finally:
        for listener in listeners:
            listener.close()


def test_net_evicted_inbound_connection(net_node):
    node, tracer = net_node([f"-maxconnections={11 + 6}"])
    ns.check_eviction(node, tracer, inbound_slots=6)


def test_net_misbehaving_connection(net_node):
    node, tracer = net_node()
    ns.check_misbehaving(node, tracer)


def test_net_closed_connection(net_node):
    node, tracer = net_node()
    ns.check_closed(node, tracer)


# ---- validation, utxocache, mempool: the Python client ----------------------

@pytest.fixture
def chain_node(request, programs):  # noqa: F811
    with unprivileged_nodes(request, programs, "mr_stream_chain_") as nodes:
        (node,) = nodes.start(1)
        tracer = StreamTracer(programs, node, ["validation:*", "utxocache:*", "mempool:*"],
                              client="py")
        yield node, tracer, cs.Wallet(node)
        tracer.drain()
        code, err = tracer.close()
        assert code == 0, err
        assert tracer.lost == 0


def test_chain_mining_mempool_block_flush(chain_node):
    node, tracer, wallet = chain_node
    cs.check_mining(node, tracer, wallet)
    cs.check_mempool(node, tracer, wallet)
    cs.check_block_with_tx(node, tracer, wallet)
    cs.check_flush_and_uncache(node, tracer, wallet)


# ---- coin_selection: the C client ---------------------------------------------

@pytest.fixture(scope="module")
def wallet_node(request, programs):  # noqa: F811
    with unprivileged_nodes(request, programs, "mr_stream_wallet_") as nodes:
        (node,) = nodes.start(1, [ws.NODE_ARGS])
        tracer = StreamTracer(programs, node, ["coin_selection:*"])
        yield node, ws.Funder(node), tracer
        tracer.drain()
        code, err = tracer.close()
        assert code == 0, err
        assert tracer.lost == 0


def test_coin_selection_plain_send(wallet_node):
    ws.check_plain(*wallet_node)


def test_coin_selection_aps_rejected(wallet_node):
    ws.check_aps_rejected(*wallet_node)


def test_coin_selection_aps_used(wallet_node):
    ws.check_aps_used(*wallet_node)


def test_coin_selection_insufficient_funds(wallet_node):
    ws.check_insufficient(*wallet_node)
