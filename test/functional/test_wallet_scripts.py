"""contrib/tracing/log_coin_selection.py against a live node: a block per
transaction, with the values the wallet reports (gettransaction)."""
import re

import pytest

from conftest import ROOT, require_bcc
from framework import wallet_scenarios as ws
from framework.fixtures import node_set  # noqa: F401  (fixture)
from framework.node import JSONRPCError
from framework.tracers import TracerProcess

SCRIPT = ROOT / "contrib" / "tracing" / "log_coin_selection.py"
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def node(node_set):  # noqa: F811
    (n,) = node_set.start(1, [ws.NODE_ARGS])
    n.funder = ws.Funder(n)
    return n


def block_of(lines, wallet):
    """The lines of the first block for `wallet`."""
    start = lines.index(f'wallet "{wallet}"')
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("  result:"))
    return lines[start:end + 1]


def test_log_coin_selection(node):
    require_bcc()
    script = TracerProcess([PYTHON, str(SCRIPT), str(node.pid)])
    script.wait_for_line(r"^Logging coin selection", timeout_s=90)
    plain = ws.new_wallet(node, node.funder, "s_plain", [1.0, 2.0], reuse=False)
    to = node.funder.w.getnewaddress()
    txid = ws.send(plain, to, 0.5)
    used = ws.new_wallet(node, node.funder, "s_aps", [1.0, 1.0], reuse=True)
    txid2 = ws.send(used, to, 1.5)
    poor = ws.new_wallet(node, node.funder, "s_poor", [0.1], reuse=False)
    with pytest.raises(JSONRPCError):
        ws.send(poor, to, 1)
    script.wait_for_line(r"^  result: failed", timeout_s=30)
    script.wait_for_line(r"^  result: sent the APS transaction", timeout_s=30)
    assert script.stop() == 0
    lines = script.output()

    info = ws.analyse(plain, txid, to)
    blk = block_of(lines, "s_plain")
    assert blk[-1] == "  result: sent the first attempt's transaction (no APS attempt)"
    f = blk[2].split()
    assert f[0] == "normal" and f[1] in ws.ALGOS
    assert int(f[2]) == ws.target_of(ws.sat(0.5))
    assert int(f[4]) == info["in_value"] and int(f[5]) == info["fee"]
    assert f[6] == (str(info["change_pos"]) if info["change_pos"] >= 0 else "none")

    info2 = ws.analyse(used, txid2, to)
    blk = block_of(lines, "s_aps")
    assert [l.split()[0] for l in blk[2:4]] == ["normal", "aps"]
    aps = blk[3].split()
    assert int(aps[5]) == info2["fee"] and aps[6] == str(info2["change_pos"])

    blk = block_of(lines, "s_poor")
    assert re.match(r"^  normal\s+-\s+-\s+-\s+-\s+failed\s+-$", blk[2]), blk
