"""trace.h's opt-in 5-byte site (TRACE_NOP5), safe by construction.

- The header refuses TRACE_NOP5 without TRACE_NO_RED_ZONE (the promise that
  the code is built with -mno-red-zone, which pkg-config and CMake add).
- The site is one 5-byte nop (0f 1f 44 00 00) and the note is otherwise the
  one of the 1-byte form, so every tracer attaches; bpftrace and BCC do.
- Red-zone stress: test/header/redzone.c keeps 12 live values below %rsp in
  a leaf function around the site; with bpftrace attached for 2,000,000 hits
  the -mno-red-zone build (and the 1-byte default) never see a value change.
  The same 5-byte site built with the red zone on shows the hazard: on
  Linux >= 6.18, which runs such a uprobe as a call, its values are
  overwritten, so this test can fail.
"""
import os
import re
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT, require_bcc, require_built, require_root, require_tool, run

HDR = BUILD / "test" / "header"
HITS = 2_000_000


def site_bytes(binary, name):
    """The first instruction's bytes at the note's Location of probe `name`."""
    notes = run(["readelf", "-n", "--wide", str(binary)]).stdout
    block = notes[notes.index(f"Name: {name}"):]
    loc = int(re.search(r"Location: (0x[0-9a-f]+)", block).group(1), 16)
    dump = run(["objdump", "-d", f"--start-address={loc}", f"--stop-address={loc + 5}",
                str(binary)]).stdout
    line = [l for l in dump.splitlines() if re.match(rf"\s*{loc:x}:", l)][0]
    return line.split("\t")[1].strip()


def test_nop5_without_no_red_zone_is_refused(tmp_path):
    src = tmp_path / "p.c"
    src.write_text("#include <trace.h>\nint main(void) { TRACE0(p, x); return 0; }\n")
    proc = run(["cc", "-DTRACE_NOP5", f"-I{ROOT / 'include'}", "-c", "-o", "/dev/null",
                str(src)], check=False)
    assert proc.returncode != 0
    assert "-mno-red-zone" in proc.stderr, proc.stderr


def test_site_is_five_bytes_and_the_note_is_unchanged():
    nop5 = require_built(HDR / "redzone-nop5")
    nop1 = require_built(HDR / "redzone-nop1")
    assert site_bytes(nop5, "hit") == "0f 1f 44 00 00"
    assert site_bytes(nop1, "hit").startswith("90")

    def note(binary):
        out = run(["readelf", "-n", "--wide", str(binary)]).stdout
        return re.search(r"Provider: stress\s+Name: hit\s+Location: \S+, Base: \S+, "
                         r"Semaphore: (\S+)\s+Arguments: (.*)", out).groups()
    assert note(nop5)[0] == note(nop1)[0] == "0x0000000000000000"
    assert note(nop5)[1].split("@")[0] == note(nop1)[1].split("@")[0] == "-8"


def stress(binary):
    """bpftrace counting every hit of the stress program: (corrupted, counted)."""
    out = run(["bpftrace", "-e", f"usdt:{binary}:stress:hit {{ @hits = count(); }}",
               "-c", f"{binary} {HITS}"]).stdout
    m = re.search(rf"hits={HITS} corrupted=(\d+)", out)
    n = re.search(r"@hits: (\d+)", out)
    assert m and n, out
    return int(m.group(1)), int(n.group(1))


@pytest.mark.parametrize("variant", ["redzone-nop5", "redzone-nop1"])
def test_red_zone_survives_millions_of_attached_hits(variant):
    require_root()
    require_tool("bpftrace")
    binary = require_built(HDR / variant)
    assert stress(binary) == (0, HITS)


def test_the_stress_test_sees_the_hazard():
    require_root()
    require_tool("bpftrace")
    binary = require_built(HDR / "redzone-unsafe")
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    corrupted, counted = stress(binary)
    assert counted == HITS
    if (major, minor) >= (6, 18):
        assert corrupted > 0, "5-byte site with the red zone on: no corruption seen"


def test_bcc_attaches_to_a_five_byte_site():
    require_bcc()
    binary = require_built(HDR / "redzone-nop5")
    sys.path.insert(0, str(ROOT / "contrib" / "tracing"))
    from bcc import BPF
    from usdt_helper import KernelRefUSDT
    # The pid to attach to: a shell that execs the stress program once it
    # reads a line, so the uprobes are in place before the first hit.
    shell = subprocess.Popen(["sh", "-c", f"read x; exec {binary} 100000"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        usdt = KernelRefUSDT(shell.pid, str(binary))
        usdt.enable_probe("stress:hit", "on_hit")
        bpf = usdt.load(BPF, "BPF_ARRAY(hits, u64, 1);\n"
                             "int on_hit(struct pt_regs *ctx) { int k = 0; u64 *v = "
                             "hits.lookup(&k); if (v) __sync_fetch_and_add(v, 1); "
                             "return 0; }\n")
        shell.stdin.write("go\n")
        shell.stdin.flush()
        out = shell.communicate(timeout=120)[0]
        assert "hits=100000 corrupted=0" in out, out
        assert bpf[b"hits"][0].value == 100000
        usdt.close()
        bpf.cleanup()
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()
