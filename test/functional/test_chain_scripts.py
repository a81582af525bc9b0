"""The chain scripts in contrib/tracing/ against a live node: each prints
what contrib/tracing/README.md shows, with values the node confirms."""
import re

import pytest

from conftest import ROOT, require_bcc, require_root, require_tool
from framework import chain_scenarios as sc
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import JSONRPCError, wait_until
from framework.tmux import Tmux
from framework.tracers import TracerProcess, bpftrace_errors
from framework.unprivileged import run_as_nobody

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
    require_root()   # to switch to an unprivileged user
    script = TRACING / "log_utxocache_flush.py"
    # From a readable copy: the checkout may be in a 0700 directory.
    r = run_as_nobody([PYTHON, script, node.pid], script)
    assert r.returncode == 1 and "must be run as root" in r.stderr, r.stderr


# ---- mempool_monitor.py (BCC + curses, run under tmux) -----------------------

def mempool_monitor(node, tmp_path, name):
    return Tmux(f"{name}{node.pid}",
                f"{PYTHON} {TRACING / 'mempool_monitor.py'} {node.pid} 2>{tmp_path / 'mm.err'}",
                tmp_path, width=200, height=50)


def test_mempool_monitor(node, tmp_path):
    require_bcc()
    require_tool("tmux")
    w = node.wallet
    h0 = node.getblockcount()
    node.generatetoaddress(101, w.addr)
    cb = sc.coinbase_txid(node, h0 + 1)
    other = sc.Wallet(node).addr
    tmux = mempool_monitor(node, tmp_path, "mrmm")
    try:
        tmux.wait_screen(rf"^Mempool of moneyrocketd pid {node.pid} since")
        a = node.sendrawtransaction(w.spend(cb, 0, sc.SUBSIDY - 100_000))
        a_vsize = node.getmempoolentry(a)["vsize"]
        low_hex = w.spend(cb, 0, sc.SUBSIDY - 50_000, to=other)
        low = node.decoderawtransaction(low_hex)["txid"]
        with pytest.raises(JSONRPCError):
            node.sendrawtransaction(low_hex)               # pays less: rejected
        b = node.sendrawtransaction(w.spend(cb, 0, sc.SUBSIDY - 1_000_000, to=other))
        b_vsize = node.getmempoolentry(b)["vsize"]
        node.generatetoaddress(1, w.addr)                  # b leaves for a block
        # The totals, once every event is counted (the screen refreshes on
        # its own clock).
        tmux.wait_screen(r"^removed\s+2\s+.*block 1, replaced 1")
        screen = tmux.wait_screen(r"^added\s+2\s") and tmux.screen()
        assert re.search(r"^replaced\s+1\s", screen, re.M), screen
        assert re.search(r"^rejected\s+1\s", screen, re.M), screen
        # The log, in the order things happened, with the node's values.
        log = [l for l in screen.splitlines() if re.match(r"^\d\d:\d\d:\d\d\.\d{3} ", l)]
        kinds = [l.split()[1] for l in log]
        assert kinds == ["added", "rejected", "replaced", "removed", "added", "removed"], log
        assert re.search(rf"added\s+{a}\s+fee 100000 sat, vsize {a_vsize} vB", log[0]), log
        assert re.search(rf"rejected\s+{low}\s+reason insufficient fee", log[1]), log
        assert re.search(rf"replaced\s+{a}\s+fee 100000 -> 1000000 sat, "
                         rf"vsize {a_vsize} -> {b_vsize} vB", log[2]), log
        assert f"by {b}" in screen
        assert re.search(rf"removed\s+{a}\s+reason replaced", log[3]), log
        assert re.search(rf"added\s+{b}\s+fee 1000000 sat", log[4]), log
        assert re.search(rf"removed\s+{b}\s+reason block, fee 1000000 sat", log[5]), log
        tmux.keys("q")
        status = wait_until(tmux.exit_status, 30, what="monitor exits on q")
        assert status == "0", (status, (tmp_path / "mm.err").read_text())
    finally:
        tmux.kill()


def test_mempool_monitor_ctrl_c(node, tmp_path):
    require_bcc()
    require_tool("tmux")
    tmux = mempool_monitor(node, tmp_path, "mrmmc")
    try:
        tmux.wait_screen(r"^Mempool of moneyrocketd pid")
        tmux.keys("C-c")
        status = wait_until(tmux.exit_status, 30, what="monitor exits on Ctrl-C")
        assert status == "0", status
    finally:
        tmux.kill()
