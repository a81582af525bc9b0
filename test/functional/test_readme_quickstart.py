"""README.md's "Using trace.h in your own program", run as written.

The section's blocks, in order: the install command (run from the checkout),
server.c, the build-and-trace commands (run in a work directory), and the
output bpftrace prints. HOME is a temporary directory, so `$HOME/.local` is
a throwaway prefix. Each command runs verbatim with bash -e; the output must
be the documented one, line for line.
"""
import os
import re

from conftest import ROOT, require_root, require_tool, run
from framework.tracers import BPFTRACE_BENIGN

SECTION = "## Using `trace.h` in your own program"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def quickstart_blocks():
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return [(lang, body) for lang, body in BLOCK.findall(text[start:end])]


def test_blocks_are_where_the_test_expects_them():
    kinds = [lang for lang, _ in quickstart_blocks()]
    assert kinds == ["sh", "c", "sh", ""], kinds


def test_readme_quickstart_runs_as_written(tmp_path):
    require_root()
    require_tool("bpftrace")
    (install, program, commands, expected) = [body for _, body in quickstart_blocks()]
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = dict(os.environ, HOME=str(home))
    env.pop("PKG_CONFIG_PATH", None)
    run(["bash", "-e", "-c", install], cwd=ROOT, env=env)
    assert (home / ".local" / "include" / "moneyrocket-trace" / "trace.h").exists()
    (work / "server.c").write_text(program)
    proc = run(["bash", "-e", "-c", commands], cwd=work, env=env)
    assert proc.stdout.rstrip("\n").splitlines() == expected.rstrip("\n").splitlines()
    assert not [l for l in proc.stderr.splitlines()
                if l.strip() and not BPFTRACE_BENIGN.search(l)], proc.stderr
    run(["make", "-C", str(ROOT), "--no-print-directory", "uninstall",
         f"PREFIX={home / '.local'}"])


def test_str_caveat_is_real(tmp_path):
    """The caveat the section documents: a literal on an untouched page reads as ""."""
    require_root()
    require_tool("bpftrace")
    src = tmp_path / "lit.c"
    src.write_text('#include <trace.h>\nint main(void) { TRACEPOINT(demo, literal, '
                   '"a literal nothing has read yet"); return 0; }\n')
    run(["cc", "-O2", f"-I{ROOT / 'include'}", "-o", str(tmp_path / "lit"), str(src)])
    out = run(["bpftrace", "-c", "./lit", "-e",
               'usdt:./lit:demo:literal { printf("[%s]\\n", str(arg0)); }'],
              cwd=tmp_path).stdout.splitlines()
    assert "[]" in out, out
