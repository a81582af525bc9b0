"""The chain scripts in contrib/tracing/ against a live node: each prints
what contrib/tracing/README.md shows, with values the node confirms."""
import re

import pytest

from conftest import ROOT, require_bcc, require_root, require_tool
from framework import chain_scenarios as sc
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.tracers import TracerProcess, bpftrace_errors

TRACING = ROOT / "contrib" / "tracing"
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def node(node_set):  # noqa: F811
    (n,) = node_set.start(1)
    n.wallet = sc.Wallet(n)
    return n


def test_log_utxos(node):
    require_root()
    require_tool("bpftrace")
    bt = TracerProcess(["bpftrace", "-p", str(node.pid), str(TRACING / "log_utxos.bt"),
                        str(node.binary)])
    bt.wait_for_line(r"^EVENT\s+OUTPOINT", timeout_s=60)
    (h,) = node.generatetoaddress(1, node.wallet.addr)
    block = node.getblock(h)
    line = bt.wait_for_line(rf"^Added\s+{block['tx'][0]}:0\s+5000000000\s+{block['height']} yes$")
    assert line
    assert bt.stop() == 0
    assert not bpftrace_errors(bt.stderr()), bt.stderr()


def test_connectblock_benchmark(node):
    require_root()
    require_tool("bpftrace")
    start = node.getblockcount() + 1
    end = start + 29
    bt = TracerProcess(["bpftrace", "-p", str(node.pid), str(TRACING / "connectblock_benchmark.bt"),
                        str(node.binary), str(start), str(end), "0"])
    bt.wait_for_line(r"^Connect times of blocks", timeout_s=60)
    node.generatetoaddress(15, node.wallet.addr)
    bt.wait_for_line(r"^\d\d:\d\d:\d\d: 15 blocks/s, 15 tx/s, 0 inputs/s$")
    node.generatetoaddress(15, node.wallet.addr)
    bt.wait_for_line(rf"^Reached end height {end}\.")
    wait_until(lambda: bt.proc.poll() is not None, 30, what="exit at the end height")
    out = "\n".join(bt.output())
    assert re.search(r"^Blocks connected: 30$", out, re.M), out
    assert re.search(r"^\d\d:\d\d:\d\d: \d+ blocks/s, \d+ tx/s, \d+ inputs/s$", out, re.M), out
    assert "Connect time per block" in out and "|@" in out, out
    assert not bpftrace_errors(bt.stderr()), bt.stderr()


def test_connectblock_benchmark_threshold(node):
    """Threshold 0 prints no per-block lines; END = START exits after one."""
    require_root()
    require_tool("bpftrace")
    start = node.getblockcount() + 1
    bt = TracerProcess(["bpftrace", "-p", str(node.pid), str(TRACING / "connectblock_benchmark.bt"),
                        str(node.binary), str(start), str(start), "0"])
    bt.wait_for_line(r"^Connect times of blocks", timeout_s=60)
    node.generatetoaddress(1, node.wallet.addr)
    bt.wait_for_line(rf"^Reached end height {start}\.")
    wait_until(lambda: bt.proc.poll() is not None, 30, what="exit")
    assert not [l for l in bt.output() if l.startswith("Block ")]


def test_log_utxocache_flush(node):
    require_bcc()
    py = TracerProcess([PYTHON, str(TRACING / "log_utxocache_flush.py"), str(node.pid)])
    py.wait_for_line(r"DURATION ms\s+MODE", timeout_s=60)
    info = node.getcoinscacheinfo()
    node.gettxoutsetinfo()
    kb = info["usage"] / 1024
    line = py.wait_for_line(rf"^\s+\d+\.\d\d ALWAYS\s+{info['entries']}\s+{kb:.1f}\s+no$")
    assert line
    assert py.stop() == 0


def test_scripts_refuse_without_root(node):
    import subprocess
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        PYTHON, str(TRACING / "log_utxocache_flush.py"), str(node.pid)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "must be run as root" in r.stderr
