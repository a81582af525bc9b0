"""contrib/devtools/check-layers.py: includes in src/ point down the layers.

The real tree passes. Copies of it with one change each must fail with the
right line: an upward include (the chain including RPC), block.h (primitives)
including msg.h again, a file in no layer, and the connection manager
calling message handling directly again (the cycle struct net_events broke).
"""
import shutil
import sys

from conftest import ROOT, run

CHECKER = ROOT / "contrib" / "devtools" / "check-layers.py"


def check(root=ROOT):
    return run([sys.executable, str(CHECKER), "--root", str(root)], check=False)


def tree_copy(tmp_path):
    (tmp_path / "doc").mkdir()
    shutil.copy(ROOT / "doc" / "architecture.md", tmp_path / "doc")
    (tmp_path / "src").mkdir()
    for p in list((ROOT / "src").glob("*.c")) + list((ROOT / "src").glob("*.h")):
        shutil.copy(p, tmp_path / "src")
    return tmp_path


def add_line(path, after, line):
    text = path.read_text()
    assert after in text
    path.write_text(text.replace(after, after + "\n" + line, 1))


def test_the_tree_passes():
    proc = check()
    assert proc.returncode == 0, proc.stderr
    assert "points down the layers" in proc.stdout


def test_an_upward_include_fails(tmp_path):
    root = tree_copy(tmp_path)
    coins = root / "src" / "coins.c"
    add_line(coins, '#include "coins.h"', '#include "rpc.h"')
    lineno = coins.read_text().splitlines().index('#include "rpc.h"') + 1
    proc = check(root)
    assert proc.returncode == 1
    assert f"src/coins.c:{lineno}: chain includes rpc.h (rpc): not allowed" in proc.stderr, \
        proc.stderr


def test_primitives_may_not_include_the_wire_layer(tmp_path):
    root = tree_copy(tmp_path)
    add_line(root / "src" / "block.h", '#include "block_header.h"', '#include "msg.h"')
    proc = check(root)
    assert proc.returncode == 1
    assert "src/block.h" in proc.stderr and "includes msg.h (wire)" in proc.stderr


def test_a_file_in_no_layer_fails(tmp_path):
    root = tree_copy(tmp_path)
    (root / "src" / "newthing.c").write_text('#include "util.h"\n')
    proc = check(root)
    assert proc.returncode == 1
    assert "src/newthing.c: in no layer of doc/architecture.md" in proc.stderr


def test_the_net_cycle_cannot_come_back(tmp_path):
    root = tree_copy(tmp_path)
    add_line(root / "src" / "net.c", '#include "net.h"', '#include "net_processing.h"')
    add_line(root / "src" / "net_processing.c", '#include "net_processing.h"',
             '#include "net_chain.h"')
    proc = check(root)
    assert proc.returncode == 1
    assert "connman includes net_processing.h (net_processing): not allowed" in proc.stderr
    assert "net_processing includes net_chain.h (net_chain): not allowed" in proc.stderr
