"""The seven net tracepoints, attached with bpftrace, against what the node reports.

Every test starts a fresh node (connection counts start at zero), attaches
framework.tracers.BpftraceNetTracer (`bpftrace -p PID`) to its process,
drives it with test peers and checks every tracepoint argument against
getpeerinfo / getnetworkinfo and the bytes on the wire
(framework/net_scenarios.py holds the checks, shared with
test_net_tracepoints_bcc.py). bpftrace prints at most 512 payload bytes per
message, so message bytes are compared up to that length.
"""
import pytest

from conftest import require_root, require_tool
from framework import net_scenarios as sc
from framework import netpeer
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.tracers import BPFTRACE_CHUNK, BPFTRACE_CHUNKS, BpftraceNetTracer


@pytest.fixture
def traced_node(node_set, tmp_path):  # noqa: F811
    """Start a node with extra args and attach bpftrace to it: traced_node(args)."""
    require_root()
    require_tool("bpftrace")
    tracers = []

    def start(extra_args=()):
        node = node_set.add(list(extra_args))
        node.wait_for_rpc()
        tracer = BpftraceNetTracer(node.binary, node.pid, tmp_path)
        tracers.append(tracer)
        return node, tracer

    yield start
    for t in tracers:
        t.close()
        assert t.lost == 0, f"bpftrace lost {t.lost} events"
        assert not t.errors(), t.errors()


def test_inbound_and_outbound_version_messages(traced_node):
    node, tracer = traced_node()
    sc.check_version_messages(node, tracer, BPFTRACE_CHUNK * BPFTRACE_CHUNKS)


def test_inbound_connections(traced_node):
    node, tracer = traced_node()
    sc.check_inbound_connections(node, tracer)


def test_outbound_manual_connection(traced_node):
    node, tracer = traced_node()
    sc.check_outbound_manual(node, tracer)


def test_outbound_automatic_and_feeler_connections(traced_node):
    node, tracer = traced_node(["-feelerinterval=1"])
    listeners = [netpeer.Listener(ip=f"127.{10 + i}.0.1", hold=True) for i in range(12)]
    try:
        sc.check_outbound_automatic(node, tracer, listeners)
    finally:
        for l in listeners:
            l.close()


def test_evicted_inbound_connection(traced_node):
    node, tracer = traced_node([f"-maxconnections={11 + 6}"])
    sc.check_eviction(node, tracer, inbound_slots=6)


def test_misbehaving_connection(traced_node):
    node, tracer = traced_node()
    sc.check_misbehaving(node, tracer)


def test_closed_connection(traced_node):
    node, tracer = traced_node()
    sc.check_closed(node, tracer)
