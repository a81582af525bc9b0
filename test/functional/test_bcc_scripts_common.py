"""What every BCC script in contrib/tracing/ must do, checked for each.

- run as `./script` (executable, #!/usr/bin/python3) and share
  usdt_helper.py for the root check, the signals and the target, with no
  copy of its code;
- refuse cleanly without root (one line, no traceback);
- take a PID or the path of the node's binary;
- end with status 0 on SIGINT and on SIGTERM once tracing, leaving every
  semaphore at 0.
The curses monitors are run in tmux; without a terminal they say so.
"""
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import ROOT, require, require_bcc, require_root, require_tool
from framework.fixtures import node_factory  # noqa: F401  (fixture)
from framework.node import wait_until
from framework.semaphores import read_semaphores
from framework.tmux import Tmux
from framework.tracers import TracerProcess
from framework.unprivileged import run_as_nobody

TRACING = ROOT / "contrib" / "tracing"
BCC_SCRIPTS = ["p2p_monitor.py", "mempool_monitor.py", "log_raw_p2p_msgs.py",
               "log_utxocache_flush.py", "log_coin_selection.py"]
MONITORS = ["p2p_monitor.py", "mempool_monitor.py"]
# Line each logging script prints once it is attached.
ATTACHED = {"log_raw_p2p_msgs.py": r"Ctrl-C to end", "log_utxocache_flush.py": r"Ctrl-C to end",
            "log_coin_selection.py": r"Ctrl-C to stop"}
# What each monitor shows once attached.
MONITOR_SCREEN = {"p2p_monitor.py": r"P2P peers of moneyrocketd pid",
                  "mempool_monitor.py": r"moneyrocketd pid"}


@pytest.mark.parametrize("name", BCC_SCRIPTS)
def test_executable_and_sharing_the_helper(name):
    path = TRACING / name
    text = path.read_text()
    assert text.startswith("#!/usr/bin/python3\n")
    assert os.access(path, os.X_OK)
    assert "from usdt_helper import" in text
    for copied in (r"def resolve_target", r"def require_root", r"os\.geteuid",
                   r"\bUSDT\(", r"usdt_contexts"):
        assert not re.search(copied, text), f"{name} has its own {copied!r}"


@pytest.mark.parametrize("name", BCC_SCRIPTS)
def test_refuses_without_root(name):
    require_root()   # to switch to an unprivileged user
    require(shutil.which("setpriv") is not None, "setpriv (util-linux) missing")
    # A readable copy (with its helper): the checkout may be root's only.
    proc = run_as_nobody([TRACING / name, "1"], TRACING / name)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == f"{name}: must be run as root (loading BPF programs needs " \
                          f"CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)\n"


@pytest.mark.parametrize("name", MONITORS)
def test_monitor_without_a_terminal_says_so(name):
    require_root()
    proc = subprocess.run([str(TRACING / name), "1"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 1
    assert re.match(rf"^{name}: needs a terminal", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_target_is_one_line(tmp_path):
    require_root()
    proc = subprocess.run([str(TRACING / "log_raw_p2p_msgs.py"), str(tmp_path / "nothing")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "neither a PID nor a file" in proc.stderr


def semaphores_zero(node):
    return not any(read_semaphores(node.pid, node.binary).values())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("name", sorted(ATTACHED))
def test_logger_by_binary_path_ends_on_signal(node_factory, name, sig):  # noqa: F811
    require_bcc()
    (node,) = node_factory.start(1)
    script = TracerProcess([TRACING / name, node.binary])
    try:
        line = script.wait_for_line(ATTACHED[name], timeout_s=120)
        assert f"pid {node.pid}" in line, line
        code = script.stop(sig)
    finally:
        script.kill()
    assert code == 0, (code, script.stderr())
    assert not any("Traceback" in l for l in script.stderr()), script.stderr()
    wait_until(lambda: semaphores_zero(node), 30, what="semaphores back to 0")


@pytest.mark.parametrize("name", MONITORS)
def test_monitor_by_binary_path_ends_on_sigterm(node_factory, name, tmp_path):  # noqa: F811
    require_bcc()
    require_tool("tmux")
    (node,) = node_factory.start(1)
    tmux = Tmux(f"mrsig{node.pid}", f"{TRACING / name} {node.binary}", tmp_path)
    try:
        tmux.wait_screen(MONITOR_SCREEN[name] + rf" {node.pid}", timeout_s=120)
        # The script itself, not the shell tmux runs it from.
        pid = int(subprocess.run(["pgrep", "-f", f"^/usr/bin/python3 {TRACING / name} "],
                                 capture_output=True, text=True).stdout.split()[0])
        os.kill(pid, signal.SIGTERM)
        status = wait_until(tmux.exit_status, 30, what=f"{name} exits on SIGTERM")
        assert status == "0", status
    finally:
        tmux.kill()
    wait_until(lambda: semaphores_zero(node), 30, what="semaphores back to 0")


@pytest.mark.parametrize("name", sorted(ATTACHED))
def test_sigint_while_compiling_in_the_background(node_factory, name):  # noqa: F811
    """A shell starts background jobs with SIGINT ignored; the scripts install their
    handlers before BCC compiles, so Ctrl-C sent then still ends them (130)."""
    require_bcc()
    (node,) = node_factory.start(1)
    proc = subprocess.Popen([str(TRACING / name), str(node.pid)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        wait_until(lambda: any("bcc" in m for m in open(f"/proc/{proc.pid}/maps")),
                   30, what=f"{name} loading bcc")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert "Traceback" not in err, err
    wait_until(lambda: semaphores_zero(node), 30, what="semaphores back to 0")


def test_p2p_monitor_table_fits_80_columns():
    """The README promises 80 columns: the widest row fits, header included."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("p2p_monitor", TRACING / "p2p_monitor.py")
    mon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mon)
    peer = mon.Peer(9999, "[2001:db8:1234:5678:9abc:def0:1234:5678]:28444",
                    "outbound-full-relay")
    peer.msgs_in = peer.msgs_out = 12_345_678_901
    peer.bytes_in = peer.bytes_out = 98_765_432_109_876
    peer.closed = True
    assert len(mon.TABLE_HEAD) == 80
    row = mon.table_row(peer)
    assert len(row) == 80, row
    assert row.endswith(" x") and " 12346M " in row and " 98765G " in row, row
