"""scripts/demo.sh (make demo) as a newcomer sees it: every step says what it
shows and fits on a screen, no blank prefixed lines, busy tracers cut short
with a summary, the Prometheus step's query answered for all three nodes, and
the full tracer logs kept in the directory named at the end."""
import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT, require_bcc, require_built, require_tool
from framework.node import DEFAULT_CLI, DEFAULT_DAEMON, timeout
from framework.prometheus import EXPORTER

SCREEN = 60   # lines


def test_demo_reads_well(tmp_path):
    require_bcc()
    require_tool("bpftrace")
    require_tool("prometheus")
    for p in (DEFAULT_DAEMON, DEFAULT_CLI, EXPORTER):
        require_built(p)
    env = dict(os.environ, TMPDIR=str(tmp_path), DEMO_SECONDS="2")
    proc = subprocess.run([str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True,
                          env=env, timeout=timeout(600))
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    steps = re.split(r"^==> ", out, flags=re.M)[1:]
    assert [s.split(":")[0] for s in steps] == [f"Step {i}" for i in range(1, 8)]
    for s in steps:
        assert len(s.splitlines()) <= SCREEN, s
    lines = out.splitlines()
    assert not [l for l in lines if re.fullmatch(r"\[\w+\]\s*", l)]
    assert not [l for l in lines if re.search(r"blocks \d+ to 0 ", l)]
    # The busy tracers are cut short and summarised.
    assert any(re.match(r"\[traffic\] \.\.\. \(busy: the rest is in ", l) for l in lines)
    assert any(re.search(r"(^| )recv ping +\d+", l) for l in lines), out
    assert len([l for l in lines if l.startswith("[traffic] ")]) <= 12
    # Prometheus answered: six blocks on each of the three nodes.
    step6 = steps[5]
    answers = re.findall(r'^  \{instance="[^"]+",job="moneyrocket",pid="\d+",port="\d+"\} (\d+)$',
                         step6, re.M)
    assert answers == ["6", "6", "6"], step6
    # The logs stay, named at the end; the node data does not.
    logdir = Path(re.search(r"^Full tracer logs \(kept\): (\S+)$", out, re.M).group(1))
    try:
        for name in ("traffic", "conns", "p2pstat", "blocks", "utxos", "flush", "coins0",
                     "coins1", "exporter"):
            assert (logdir / f"{name}.log").stat().st_size > 0, name
        traffic = (logdir / "traffic.log").read_text().splitlines()
        assert len([l for l in traffic if l.startswith(("recv ", "send "))]) > 8
        assert not list(tmp_path.glob("moneyrocket-demo.*"))
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
